"""Reads of the case store for the other folders.

``cases/`` owns its tables (:mod:`riskplan.cases.tables`); other folders call these functions and never
query those tables themselves. Counting callers (the PSUR/PBRER tabulations, the case store as a source of
spontaneous reports for signal detection) get a SQLAlchemy ``Select`` or subquery with named columns, so
they keep aggregating in the database (SQLite and PostgreSQL) rather than loading every case into Python.
Look-ups of single cases (by riskplan number ``RP0000042`` or worldwide case id, E2B C.1.8.1) return small
frozen records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from sqlalchemy import ARRAY, Integer, Select, Subquery, and_, any_, bindparam, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from riskplan.cases.store import IS_LATEST_VERSION, CaseRef, VersionAssessment, resolve_case_id
from riskplan.cases.tables import CaseConcernRow, CaseDrugRow, CaseReactionRow, CaseRow, CaseVersionRow
from riskplan.errors import NotFoundError
from riskplan.terms import release_sort_key

__all__ = [
    "ARM_NOT_KNOWN",
    "BLINDED",
    "CLINICAL_TRIAL",
    "COMPARATOR",
    "INVESTIGATIONAL",
    "NOT_AVAILABLE",
    "PLACEBO",
    "SOLICITED",
    "SPONTANEOUS",
    "TRIAL_ARMS",
    "CaseRef",
    "ReportableVersion",
    "VersionAssessment",
    "VersionRecord",
    "case_ids_of_plan",
    "concerns_by_version",
    "drugs_of_valid_versions",
    "find_case",
    "find_case_id",
    "latest_versions",
    "lock_case",
    "lock_case_ref",
    "reactions_by_version",
    "reactions_of_valid_versions",
    "reportable_versions",
    "treatment_arm",
    "trial_arm",
    "version_assessment",
    "version_documents",
    "version_records",
    "versions_at_dlp",
    "worldwide_ids",
]

_CHUNK = 500

# --------------------------------------------------------------------------------------------------
# Source of a case (C.1.3 type of report, C.5.4 study type), as the PSUR/PBRER tabulates it
# --------------------------------------------------------------------------------------------------

SPONTANEOUS: Final = "spontaneous"
SOLICITED: Final = "solicited"
CLINICAL_TRIAL: Final = "clinical trial"
NOT_AVAILABLE: Final = "not available"

# The store writes ``icsr_json`` with pydantic's compact JSON (no spaces) of a closed model
# (``extra="forbid"``) in which the keys "report_type" (C.1.3) and "study_type" (C.5.4) occur once each,
# and every quote inside a text value is escaped: a key-value pair found in the text is the field's value.
# A text search reads the document once without parsing it (about 10x faster than a JSON function on a
# 7 KB case).
_C13 = '"report_type":"{}"'
_C54_CLINICAL_TRIAL = '"study_type":"1"'


def _contains(session: Session, column: Any, needle: str) -> ColumnElement[bool]:
    """``needle`` occurs in the text column (``strpos`` on PostgreSQL, ``instr`` elsewhere)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.strpos(column, needle) > 0
    return func.instr(column, needle) > 0


def _source_expression(session: Session) -> ColumnElement[str]:
    """The source of the version from C.1.3 / C.5.4: spontaneous (C.1.3 = 1); clinical trial (C.1.3 = 2 and
    C.5.4 = 1); solicited (C.1.3 = 2 with another study type, or 3); not available (C.1.3 = 4 or absent)."""
    doc = CaseVersionRow.icsr_json
    return case(
        (_contains(session, doc, _C13.format(1)), literal(SPONTANEOUS)),
        (
            and_(_contains(session, doc, _C13.format(2)), _contains(session, doc, _C54_CLINICAL_TRIAL)),
            literal(CLINICAL_TRIAL),
        ),
        (
            or_(_contains(session, doc, _C13.format(2)), _contains(session, doc, _C13.format(3))),
            literal(SOLICITED),
        ),
        else_=literal(NOT_AVAILABLE),
    )


# --------------------------------------------------------------------------------------------------
# Periodic reports (PSUR/PBRER, ICH E2C(R2) 3.6; GVP VII.B.5.6)
# --------------------------------------------------------------------------------------------------


def is_synthetic_case(case_id: ColumnElement[int]) -> ColumnElement[bool]:
    """Whether the case ``case_id`` was made by ``riskplan synth`` or the demo: not a real report."""
    return case_id.in_(select(CaseRow.id).where(CaseRow.synthetic.is_(True)))


def versions_at_dlp(
    session: Session, plan_name: str, end: dt.date, *, meddra_version: str | None = None
) -> Select[int, int, dt.date, bool, str | None]:
    """The case versions a periodic report counts at the data lock point ``end``, one row per case.

    For each case of the plan, its latest version whose C.1.5 is on or before the DLP, when that version is
    valid (ICH E2D minimum criteria) and the case was first received (C.1.4, else C.1.5) on or before the
    DLP. Columns: ``version_id``, ``case_id``, ``first_received``, ``serious`` and ``source`` (one of
    :data:`SPONTANEOUS`, :data:`SOLICITED`, :data:`CLINICAL_TRIAL`, :data:`NOT_AVAILABLE`, for every case:
    ICH E2C(R2) 3.6.2 tabulates the non-serious reactions of post-marketing sources too). With
    ``meddra_version``, versions coded with a later MedDRA release are not counted: the report as made with
    that release.
    """
    v = CaseVersionRow
    known = [v.received <= end]
    if meddra_version is not None:
        # MedDRA Term Selection: Points to Consider, 4 (versioning): a report made with release X is
        # reproduced with the case versions coded with X or earlier; versions coded with a later release
        # (recoded by `terms upgrade`, or new information coded with it) are left out
        later = [
            str(m)
            for m in session.scalars(select(v.meddra_version).where(v.meddra_version.is_not(None)).distinct())
            if release_sort_key(str(m)) > release_sort_key(meddra_version)
        ]
        if later:
            known.append(or_(v.meddra_version.is_(None), v.meddra_version.not_in(later)))
    as_of = (
        select(v.case_id.label("case_id"), func.max(v.version).label("version"))
        .join(CaseRow, CaseRow.id == v.case_id)
        .where(CaseRow.plan_name == plan_name, *known)
        .group_by(v.case_id)
        .subquery("as_of")
    )
    first = func.coalesce(v.first_received, v.received)
    return (
        select(
            v.id.label("version_id"),
            v.case_id.label("case_id"),
            first.label("first_received"),
            v.serious.label("serious"),
            _source_expression(session).label("source"),
        )
        .join(as_of, and_(as_of.c.case_id == v.case_id, as_of.c.version == v.version))
        .where(v.valid.is_(True), first <= end)
    )


# Treatment arms of clinical trial cases (ICH E2C(R2) 3.6.1 and Appendix B: SAEs by investigational product,
# comparator, placebo, and blinded treatment)
INVESTIGATIONAL: Final = "investigational product"
COMPARATOR: Final = "comparator"
PLACEBO: Final = "placebo"
BLINDED: Final = "blinded"
ARM_NOT_KNOWN: Final = "arm not known"
TRIAL_ARMS: Final = (INVESTIGATIONAL, COMPARATOR, PLACEBO, BLINDED, ARM_NOT_KNOWN)
_BLINDED = '"blinded":true'  # G.k.2.5 investigational product blinded, in the compact JSON (see _C13)


_ARM_ROLES: Final = ("suspect", "interacting", "not administered")  # G.k.1 = 1, 3, 4 (a placebo: 4)
_SUSPECT_ROLES: Final = ("suspect", "interacting")  # G.k.1 = 1, 3


def treatment_arm(
    session: Session,
    version_id: ColumnElement[int],
    arms: Sequence[tuple[str, Sequence[str]]],
    *,
    other_suspect: str | None,
    otherwise: str,
) -> ColumnElement[str]:
    """The treatment arm of the clinical-trial case version ``version_id`` as a SQL expression: the one
    definition the PBRER (ICH E2C(R2) 3.6.1 and Appendix B) and the DSUR (ICH E2F 3.7.3) use.

    :data:`BLINDED` when a drug of the version is flagged blinded (G.k.2.5: the arm is unknown while the blind
    holds); else the first of ``arms`` (label, names) one of whose names (lower case) occurs in the product name
    (G.k.2.2) or an active substance (G.k.2.3.r) of a suspect, interacting or not-administered drug (G.k.1 = 1,
    3 or 4: a placebo is a drug not administered); else ``other_suspect`` (when given) if the version has a
    suspect or interacting drug; else ``otherwise``."""
    d = CaseDrugRow

    def drug_naming(roles: Sequence[str], terms: Sequence[str]) -> ColumnElement[bool]:
        of_version = and_(d.case_version_id == version_id, d.characterisation.in_(roles))
        named = [
            or_(
                func.lower(d.product).contains(term, autoescape=True),
                func.lower(d.substances).contains(term, autoescape=True),
            )
            for term in terms
        ]
        return exists().where(of_version, or_(*named)) if named else exists().where(of_version)

    blinded = exists().where(CaseVersionRow.id == version_id, _contains(session, CaseVersionRow.icsr_json, _BLINDED))
    whens: list[tuple[ColumnElement[bool], ColumnElement[str]]] = [(blinded, literal(BLINDED))]
    for label, names in arms:
        terms = [t.strip().lower() for t in names if t.strip()]
        if terms:
            whens.append((drug_naming(_ARM_ROLES, terms), literal(label)))
    if other_suspect is not None:
        whens.append((drug_naming(_SUSPECT_ROLES, ()), literal(other_suspect)))
    return case(*whens, else_=literal(otherwise))


def trial_arm(session: Session, version_id: ColumnElement[int], products: Sequence[str]) -> ColumnElement[str]:
    """The PBRER's arms (ICH E2C(R2) Appendix B) by :func:`treatment_arm`: :data:`BLINDED`; else
    :data:`INVESTIGATIONAL` when a drug names one of ``products`` (product names or active substances); else
    :data:`PLACEBO` when a drug names placebo; else :data:`COMPARATOR` when there is another suspect or
    interacting drug; else :data:`ARM_NOT_KNOWN`."""
    return treatment_arm(
        session,
        version_id,
        ((INVESTIGATIONAL, products), (PLACEBO, ("placebo",))),
        other_suspect=COMPARATOR,
        otherwise=ARM_NOT_KNOWN,
    )


def reactions_by_version() -> Subquery:
    """The reactions (E.i) of every case version, to join on ``case_version_id``: ``case_version_id``,
    ``soc_name`` and ``pt_name`` (MedDRA SOC and PT; NULL when not coded), ``serious`` (E.i.3.2) and
    ``terminology`` (the terminology and release the reaction was coded with); ``seq`` (the reaction's place
    in E.i, from 0... as stored), ``onset`` (E.i.4) and ``outcome`` (E.i.7) for line listings."""
    r = CaseReactionRow
    return select(
        r.case_version_id.label("case_version_id"),
        r.seq.label("seq"),
        r.onset.label("onset"),
        r.outcome.label("outcome"),
        r.soc_name.label("soc_name"),
        r.pt_name.label("pt_name"),
        r.serious.label("serious"),
        r.terminology.label("terminology"),
    ).subquery("reactions")


def concerns_by_version() -> Subquery:
    """The safety concerns of the plan each case version counts toward, to join on ``case_version_id``:
    ``case_version_id`` and ``concern_id``."""
    k = CaseConcernRow
    return select(k.case_version_id.label("case_version_id"), k.concern_id.label("concern_id")).subquery("concerns")


# --------------------------------------------------------------------------------------------------
# Spontaneous reports for signal detection (GVP Module IX.B.1-IX.B.2)
# --------------------------------------------------------------------------------------------------


def latest_versions(plan_name: str | None = None) -> Subquery:
    """The latest version of each case (of one plan, or of every plan), valid or not: ``version_id``,
    ``case_id``, ``valid`` (ICH E2D minimum criteria), ``sex`` (D.5), ``country`` (of the primary source)
    and ``first_received`` (C.1.4, else C.1.5). Give it to :func:`drugs_of_valid_versions` and
    :func:`reactions_of_valid_versions`."""
    latest = select(
        CaseVersionRow.id.label("version_id"),
        CaseVersionRow.case_id.label("case_id"),
        CaseVersionRow.valid.label("valid"),
        CaseVersionRow.sex.label("sex"),
        CaseVersionRow.country.label("country"),
        func.coalesce(CaseVersionRow.first_received, CaseVersionRow.received).label("first_received"),
    ).join(CaseRow, IS_LATEST_VERSION)
    if plan_name is not None:
        latest = latest.where(CaseRow.plan_name == plan_name)
    return latest.subquery("latest")


def drugs_of_valid_versions(
    versions: Subquery, roles: Collection[str]
) -> Select[int, str | None, str | None, str | None, str | None]:
    """``case_id``, ``product`` and ``substances`` ("; "-joined active substances) of each drug whose role
    (G.k.1 characterisation, e.g. "suspect") is one of ``roles``, in the valid versions of ``versions``
    (a :func:`latest_versions` subquery), with the product identifier (G.k.2.1.1b) and its version (G.k.2.1.1a)."""
    return (
        select(
            versions.c.case_id,
            CaseDrugRow.product,
            CaseDrugRow.substances,
            CaseDrugRow.product_code,
            CaseDrugRow.product_code_version,
        )
        .join(CaseDrugRow, CaseDrugRow.case_version_id == versions.c.version_id)
        .where(versions.c.valid.is_(True), CaseDrugRow.characterisation.in_(roles))
    )


def reactions_of_valid_versions(versions: Subquery) -> Select[int, str | None, str]:
    """``case_id``, ``pt_name`` (MedDRA PT, NULL when not coded) and ``coding_status`` of each reaction of the
    valid versions of ``versions`` (a :func:`latest_versions` subquery)."""
    return (
        select(versions.c.case_id, CaseReactionRow.pt_name, CaseReactionRow.coding_status)
        .join(CaseReactionRow, CaseReactionRow.case_version_id == versions.c.version_id)
        .where(versions.c.valid.is_(True))
    )


# --------------------------------------------------------------------------------------------------
# Single cases
# --------------------------------------------------------------------------------------------------


def _ref(row: CaseRow) -> CaseRef:
    return CaseRef(row.id, row.worldwide_id, row.plan_name, row.latest_version)


def find_case(session: Session, ref: str) -> CaseRef:
    """The case with riskplan number ``ref`` (``RP0000042`` or ``42``) or worldwide case id ``ref``;
    NotFoundError when there is none."""
    return _ref(session.get_one(CaseRow, resolve_case_id(session, ref)))


def find_case_id(session: Session, worldwide_id: str) -> int | None:
    """The case id of the case with worldwide case id (C.1.8.1) ``worldwide_id``, None when not stored."""
    # Core on the session's connection, not the ORM: this runs before every intake
    return session.connection().scalar(select(CaseRow.id).where(CaseRow.worldwide_id == worldwide_id))


def lock_case(session: Session, case_id: int) -> CaseRef:
    """The case, its row locked until the transaction ends (``SELECT ... FOR UPDATE`` on PostgreSQL), so that
    follow-up information for one case is stored one version at a time."""
    return _locked(session, CaseRow.id == case_id)


def lock_case_ref(session: Session, ref: str) -> CaseRef:
    """:func:`lock_case` of the case ``ref`` names (as :func:`resolve_case_id` reads it); one statement when
    ``ref`` is a stored worldwide case id."""
    found = session.connection().execute(_LOCK_BY_WORLDWIDE_ID, {"worldwide_id": ref.strip()}).first()
    if found is not None:
        return CaseRef(found.id, found.worldwide_id, found.plan_name, found.latest_version)
    return lock_case(session, resolve_case_id(session, ref))


#: built once: it runs before every follow-up in the web application
_LOCK_BY_WORLDWIDE_ID: Final = (
    select(CaseRow.id, CaseRow.worldwide_id, CaseRow.plan_name, CaseRow.latest_version)
    .where(CaseRow.worldwide_id == bindparam("worldwide_id"))
    .with_for_update()
)


def _locked(session: Session, where: ColumnElement[bool]) -> CaseRef:
    # the four columns through Core, not the ORM
    row = (
        session.connection()
        .execute(
            select(CaseRow.id, CaseRow.worldwide_id, CaseRow.plan_name, CaseRow.latest_version)
            .where(where)
            .with_for_update()
        )
        .one()
    )
    return CaseRef(row.id, row.worldwide_id, row.plan_name, row.latest_version)


def worldwide_ids(session: Session, case_ids: Iterable[int]) -> dict[int, str]:
    """The worldwide case id (C.1.8.1) of each of the given cases that is stored."""
    ordered = sorted(set(case_ids))
    found: dict[int, str] = {}
    for i in range(0, len(ordered), _CHUNK):
        chunk = ordered[i : i + _CHUNK]
        for cid, wid in session.execute(select(CaseRow.id, CaseRow.worldwide_id).where(CaseRow.id.in_(chunk))):
            found[cid] = wid
    return found


def case_ids_of_plan(session: Session, plan_name: str) -> set[int]:
    """The ids of every case reported under the plan ``plan_name``."""
    session.flush()  # Core rows (a million ids through the ORM's result machinery take twice as long)
    return set(session.connection().scalars(select(CaseRow.id).where(CaseRow.plan_name == plan_name)))


def version_assessment(session: Session, case_id: int, version: int) -> VersionAssessment:
    """The assessment of version ``version`` of the case (see :class:`VersionAssessment`); one query."""
    rows = session.execute(
        select(
            CaseVersionRow.valid,
            CaseVersionRow.invalid_reasons,
            CaseVersionRow.serious,
            CaseVersionRow.due,
            CaseConcernRow.concern_id,
        )
        .outerjoin(CaseConcernRow, CaseConcernRow.case_version_id == CaseVersionRow.id)
        .where(CaseVersionRow.case_id == case_id, CaseVersionRow.version == version)
        .order_by(CaseConcernRow.id)
    ).all()
    if not rows:
        raise NotFoundError(f"case {case_id} has no version {version}")
    valid, invalid_reasons, serious, due, _ = rows[0]
    reasons = tuple(invalid_reasons.split("; ")) if invalid_reasons else ()
    return VersionAssessment(valid, reasons, serious, due, tuple(c for *_, c in rows if c is not None))


@dataclass(frozen=True)
class VersionRecord:
    """One version of a case: when and by whom it was recorded and why, its C.1.5 (date of most recent
    information), validity, seriousness and reporting due date."""

    version: int
    recorded_at: dt.datetime
    recorded_by: str
    reason: str | None
    received: dt.date
    valid: bool
    serious: bool
    due: dt.date | None


def version_records(session: Session, case_id: int) -> list[VersionRecord]:
    """Every version of the case, oldest first (see :class:`VersionRecord`)."""
    rows = session.scalars(
        select(CaseVersionRow).where(CaseVersionRow.case_id == case_id).order_by(CaseVersionRow.version)
    )
    return [
        VersionRecord(r.version, r.recorded_at, r.recorded_by, r.reason, r.received, r.valid, r.serious, r.due)
        for r in rows
    ]


class ReportableVersion(NamedTuple):  # a tuple: built for every version of every owing case
    """One version of a case as regulatory reporting decides from it: validity, seriousness, receipt dates and
    what the rules read of its ICSR (:mod:`riskplan.cases.rule_facts`; None for a version written outside the
    store, whose ICSR :func:`version_documents` gives)."""

    case_id: int
    worldwide_id: str
    plan_name: str
    version_id: int
    version: int
    received: dt.date  # C.1.5
    first_received: dt.date | None  # C.1.4
    recorded_at: dt.datetime
    valid: bool
    serious: bool
    occurrence_country: str | None
    report_source: str | None
    nullified: bool | None
    rule_reactions: str | None

    @property
    def has_rule_facts(self) -> bool:
        return self.report_source is not None and self.nullified is not None and self.rule_reactions is not None


def reportable_versions(session: Session, case_ids: Collection[int] | None = None) -> list[ReportableVersion]:
    """Every version of the given cases (default: every case), by case and oldest version first."""
    stmt = (
        # the columns only, not ORM entities and not the ICSR: this reads every version of every case for the
        # reporting rules
        select(
            CaseVersionRow.case_id,
            CaseRow.worldwide_id,
            CaseRow.plan_name,
            CaseVersionRow.id,
            CaseVersionRow.version,
            CaseVersionRow.received,
            CaseVersionRow.first_received,
            CaseVersionRow.recorded_at,
            CaseVersionRow.valid,
            CaseVersionRow.serious,
            CaseVersionRow.occurrence_country,
            CaseVersionRow.report_source,
            CaseVersionRow.nullified,
            CaseVersionRow.rule_reactions,
        )
        .join(CaseRow, CaseRow.id == CaseVersionRow.case_id)
        .order_by(CaseVersionRow.case_id, CaseVersionRow.version)
    )
    # Core rows, not the ORM's result machinery (about half the time of this read); flushed first, as the
    # ORM's execute would
    session.flush()
    connection = session.connection()
    if case_ids is not None and session.get_bind().dialect.name == "postgresql":
        # one statement with the ids as one array parameter (chunks of IN lists cost a round trip and a
        # 500-parameter statement each: most of the time over tens of thousands of cases)
        ids = bindparam("case_ids", sorted(set(case_ids)), type_=ARRAY(Integer))
        return [
            ReportableVersion._make(row) for row in connection.execute(stmt.where(CaseVersionRow.case_id == any_(ids)))
        ]
    chunks: list[Any] = [None]
    if case_ids is not None:
        ordered = sorted(set(case_ids))
        chunks = [ordered[i : i + _CHUNK] for i in range(0, len(ordered), _CHUNK)]
    found: list[ReportableVersion] = []
    for chunk in chunks:
        query = stmt if chunk is None else stmt.where(CaseVersionRow.case_id.in_(chunk))
        found.extend(ReportableVersion._make(row) for row in connection.execute(query))
    return found


def version_documents(session: Session, version_ids: Collection[int]) -> dict[int, str]:
    """The stored ICSR (JSON) of each of these versions, by version id."""
    ordered = sorted(set(version_ids))
    found: dict[int, str] = {}
    for i in range(0, len(ordered), _CHUNK):
        chunk = ordered[i : i + _CHUNK]
        rows = session.execute(select(CaseVersionRow.id, CaseVersionRow.icsr_json).where(CaseVersionRow.id.in_(chunk)))
        found.update((version_id, document) for version_id, document in rows)
    return found
