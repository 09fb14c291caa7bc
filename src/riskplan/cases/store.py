"""Cases in the database: intake, follow-up versions, reads, links, exports and the audit trail.

Nothing is overwritten or deleted. A new worldwide case id (E2B C.1.8.1) creates a case with version 1;
the same id again with different content creates the next version (follow-up information or an
amendment), recording each changed field with its old and new value in the audit trail; the same
content again changes nothing. Intake is done in batches with one statement per table, so a batch is
stored whole or not at all (one transaction, by the caller's :func:`~riskplan.store.db.session_scope`).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, cast

import psycopg
from sqlalchemy import Table, and_, bindparam, exists, func, select, update
from sqlalchemy import case as case_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from riskplan.cases.causality_e2b import with_recorded_causality
from riskplan.cases.clock import ReportingClock, VersionFacts, is_significant, reporting_clock
from riskplan.cases.e2b import intake_refusals
from riskplan.cases.model import Icsr
from riskplan.cases.processing import AssessedCase
from riskplan.cases.rule_facts import rule_facts
from riskplan.cases.tables import (
    CaseConcernRow,
    CaseDrugRow,
    CaseLinkRow,
    CaseReactionRow,
    CaseRow,
    CaseVersionRow,
    SubmissionRow,
)
from riskplan.errors import NotFoundError, UserInputError
from riskplan.store import (
    SMALL_BATCH,
    AuditEvent,
    FieldChange,
    audit_row,
    bulk_insert,
    field_changes,
    history,
    insert_audit_rows,
    insert_returning_ids,
    keep_statistics_current,
    utcnow,
)
from riskplan.terms import CodingResult, release_sort_key

_CASES = cast(Table, CaseRow.__table__)
_VERSIONS = cast(Table, CaseVersionRow.__table__)
_REACTIONS = cast(Table, CaseReactionRow.__table__)
_DRUGS = cast(Table, CaseDrugRow.__table__)
_CONCERNS = cast(Table, CaseConcernRow.__table__)
#: Join condition from a case to its latest version (the version every count and listing reads).
IS_LATEST_VERSION = and_(CaseRow.id == CaseVersionRow.case_id, CaseRow.latest_version == CaseVersionRow.version)
CASE_PREFIX = "RP"
ENTITY = "case"
_CHUNK = 500


def case_number(case_id: int) -> str:
    """riskplan's own case number, e.g. ``RP0000042``."""
    return f"{CASE_PREFIX}{case_id:07d}"


@dataclass(frozen=True)
class VersionAssessment:
    """How a stored case version was assessed at intake: validity (ICH E2D minimum criteria, with what is
    missing), seriousness, the reporting due date (GVP VI.C.3) and the safety concerns it counts toward."""

    valid: bool
    invalid_reasons: tuple[str, ...]
    serious: bool
    due: dt.date | None
    concerns: tuple[str, ...]


def _stored_assessment(a: AssessedCase, clock: ReportingClock) -> VersionAssessment:
    """The assessment as the version row and its concern rows store it (what
    :func:`~riskplan.cases.reads.version_assessment` reads back), without reading it back."""
    joined = "; ".join(a.validity.missing)
    return VersionAssessment(
        a.validity.valid,
        tuple(joined.split("; ")) if joined else (),
        a.serious,
        clock.due,
        tuple(m.concern_id for m in a.concerns),
    )


@dataclass(frozen=True)
class CaseRef:
    """A stored case: its id, worldwide case id (C.1.8.1), plan and latest version number."""

    case_id: int
    worldwide_id: str
    plan_name: str
    latest_version: int


@dataclass(frozen=True)
class StoreOutcome:
    worldwide_id: str
    case_id: int
    version: int
    status: Literal["created", "follow-up", "unchanged"]
    #: the assessment of the version stored now; None when nothing was stored ("unchanged": read the stored
    #: version's with version_assessment)
    assessment: VersionAssessment | None = field(default=None, compare=False)

    @property
    def case_number(self) -> str:
        return case_number(self.case_id)


class CaseExists(UserInputError):
    """A case given as new (``store_cases(..., only_new=True)``) whose worldwide case id (C.1.8.1) is stored:
    nothing of the transaction should be kept (the caller rolls it back)."""

    def __init__(self, worldwide_id: str, case_id: int) -> None:
        super().__init__(f"case {worldwide_id!r} already exists as {case_number(case_id)}")
        self.worldwide_id = worldwide_id
        self.case_id = case_id


def _received(icsr: Icsr, now: dt.datetime) -> dt.date:
    """C.1.5 (date of most recent information), else C.1.4, else today."""
    for ts in (icsr.most_recent_info, icsr.first_received):
        if ts is not None:
            return ts.earliest_date()
    return now.date()


def _follow_up_facts(number: int, a: AssessedCase, now: dt.datetime, changes: Sequence[FieldChange]) -> VersionFacts:
    """What the reporting clock needs of a follow-up version ``number`` (significant: GVP VI.C.3 day zero)."""
    return VersionFacts(
        number,
        _received(a.icsr, now),
        valid=a.validity.valid,
        serious=a.serious,
        recorded=now.date(),
        significant=is_significant(c.path for c in changes),
    )


def _version_row(
    case_id: int,
    version: int,
    a: AssessedCase,
    clock: ReportingClock,
    *,
    plan_version: int | None,
    who: str,
    reason: str | None,
    now: dt.datetime,
    icsr_json: str,
) -> dict[str, Any]:
    f = a.facts
    return {
        "case_id": case_id,
        "version": version,
        "icsr_json": icsr_json,
        "sender_report_id": a.icsr.sender_report_id,
        "first_received": a.icsr.first_received.earliest_date() if a.icsr.first_received else None,
        "received": _received(a.icsr, now),
        "recorded_at": now,
        "recorded_by": who,
        "reason": reason,
        "valid": a.validity.valid,
        "invalid_reasons": "; ".join(a.validity.missing) or None,
        "serious": a.serious,
        "plan_version": plan_version,
        "day_zero": clock.day_zero,
        "due": clock.due,
        "clock_version": clock.clock_version,
        "age_years": f.age_years,
        "sex": f.sex,
        "country": f.reporter_country,
        "meddra_version": _meddra_version(a),
        **rule_facts(a.icsr),
    }


def _meddra_version(a: AssessedCase) -> str | None:
    """The MedDRA release of the version's coding (the latest one, should reactions differ)."""
    used = {
        r.coding.terminology_version
        for r in a.reactions
        if r.coding is not None and r.coding.terminology == "MedDRA" and r.coding.terminology_version
    }
    return max(used, key=release_sort_key) if used else None


def _projection_rows(version_id: int | None, a: AssessedCase) -> tuple[list[dict[str, Any]], ...]:
    """The reaction, drug and concern rows of a version (without ``case_version_id`` when ``version_id`` is
    None)."""
    vid = {} if version_id is None else {"case_version_id": version_id}
    reactions = [
        {
            **vid,
            "seq": i,
            "verbatim": r.verbatim,
            "llt_code": str(r.coding.llt_code) if r.coding and r.coding.llt_code is not None else None,
            "pt_code": str(r.coding.pt_code) if r.coding and r.coding.pt_code is not None else None,
            "pt_name": r.coding.pt_name if r.coding else None,
            "soc_name": r.coding.soc_name if r.coding else None,
            "coding_status": r.coding.status.value if r.coding else "no verbatim",
            "terminology": (
                f"{r.coding.terminology} {r.coding.terminology_version or ''}".strip() if r.coding else None
            ),
            "coding_note": _coding_note(r.coding),
            "coding_suggestions": _suggestions_json(r.coding),
            "serious": r.serious,
            "seriousness_criteria": "; ".join(r.seriousness_criteria) or None,
            "listedness": r.listedness.value,
            "onset": r.onset,
            "outcome": r.outcome,
        }
        for i, r in enumerate(a.reactions, start=1)
    ]
    drugs = [
        {
            **vid,
            "seq": i,
            "characterisation": d.characterisation,
            "product": d.product,
            "substances": "; ".join(d.substances) or None,
            "product_code": d.product_code,
            "product_code_version": d.product_code_version,
        }
        for i, d in enumerate(a.facts.drugs, start=1)
    ]
    concerns = [{**vid, "concern_id": m.concern_id, "reasons": "; ".join(m.reasons)} for m in a.concerns]
    return reactions, drugs, concerns


def _coding_note(coding: CodingResult | None) -> str | None:
    if coding is None or coding.is_coded:
        return coding.note if coding is not None else None
    if not coding.suggestions:
        return "no term matches; no close suggestion"
    return "suggestions: " + ", ".join(f"{s.term} → {s.pt_name} ({s.score:.0f})" for s in coding.suggestions)


def _suggestions_json(coding: CodingResult | None) -> str | None:
    """The fuzzy suggestions for an uncoded verbatim as JSON (term, PT, score), for the case view."""
    if coding is None or coding.is_coded or not coding.suggestions:
        return None
    return json.dumps([{"term": s.term, "pt_name": s.pt_name, "score": round(s.score, 1)} for s in coding.suggestions])


def _insert_versions(
    session: Session,
    version_rows: list[dict[str, Any]],
    cases: Sequence[AssessedCase],
    *,
    latest: tuple[int, int] | None = None,
) -> None:
    """Insert case versions with their reaction, drug and concern rows; ``latest``: (case id, version number)
    to record as the case's latest version, for a caller that holds the case's row lock and has read no
    :class:`CaseRow` into the session (the web application's follow-up)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql" and len(cases) == 1:
        reactions, drugs, concerns = _projection_rows(None, cases[0])
        if len(reactions) + len(drugs) + len(concerns) <= SMALL_BATCH:
            # one case (the web application's intake and follow-ups): the INSERTs straight to the driver, sent
            # together in one pipeline in this transaction; the child rows take the version's new id from
            # the sequence (currval: this connection's last value). SQLAlchemy's fixed cost per statement was
            # most of a web write's server time.
            raw = connection.connection.driver_connection
            assert isinstance(raw, psycopg.Connection)
            with raw.pipeline(), raw.cursor() as cursor:
                cursor.execute(_insert_text(_VERSIONS, tuple(version_rows[0])), version_rows[0])
                for table, rows in ((_REACTIONS, reactions), (_DRUGS, drugs), (_CONCERNS, concerns)):
                    if rows:
                        cursor.executemany(_insert_text(table, tuple(rows[0]), child=True), rows)
                if latest is not None:
                    cursor.execute(_SET_LATEST, {"case_id": latest[0], "version": latest[1]})
            return
    _insert_projections(session, insert_returning_ids(session, _VERSIONS, version_rows, "case_id"), cases)
    if latest is not None:
        connection.execute(update(_CASES).where(_CASES.c.id == latest[0]).values(latest_version=latest[1]))


def _insert_projections(session: Session, version_ids: Sequence[int], cases: Sequence[AssessedCase]) -> None:
    rows_of: tuple[list[dict[str, Any]], ...] = ([], [], [])
    for vid, a in zip(version_ids, cases, strict=True):
        for into, rows in zip(rows_of, _projection_rows(vid, a), strict=True):
            into += rows
    for table, rows in zip((_REACTIONS, _DRUGS, _CONCERNS), rows_of, strict=True):
        if rows:
            bulk_insert(session, table, rows)


_SET_LATEST: Final = 'UPDATE "icsr_case" SET "latest_version" = %(version)s WHERE "id" = %(case_id)s'


@functools.cache
def _insert_text(table: Table, columns: tuple[str, ...], *, child: bool = False) -> str:
    """``INSERT INTO table (columns) VALUES (%(column)s, ...)`` in the driver's (psycopg's) own syntax;
    ``child``: a row of the version inserted just before on this connection (its id the sequence's
    current value)."""
    names = [f'"{table.c[c].name}"' for c in columns]
    values = [f"%({c})s" for c in columns]
    if child:
        names.append('"case_version_id"')
        values.append(f"currval(pg_get_serial_sequence('{_VERSIONS.name}', 'id'))")
    return f'INSERT INTO "{table.name}" ({", ".join(names)}) VALUES ({", ".join(values)})'


def store_cases(
    session: Session,
    cases: Sequence[AssessedCase],
    *,
    plan_name: str,
    plan_version: int | None,
    who: str,
    reason: str | None = None,
    now: dt.datetime | None = None,
    synthetic: bool = False,
    stored: Mapping[str, int | CaseRef] | None = None,
    only_new: bool = False,
) -> list[StoreOutcome]:
    """Store assessed cases: new ones as version 1, known ones as follow-up versions when changed.

    ``stored``: which of the cases the caller has just read in this transaction to be stored (worldwide
    case id -> case id; every case's worldwide id not in it is a new case); read here when None. A
    :class:`CaseRef` for a case says the caller holds its row lock in this transaction
    (:func:`~riskplan.cases.reads.lock_case`), read after the lock was taken: it is not locked again.

    ``only_new``: every case is a new one (``stored`` is not read); one whose worldwide case id is stored
    after all raises :class:`CaseExists` (found by the insert itself: ``INSERT ... ON CONFLICT DO NOTHING``,
    no look-up before it), after the rows of the cases before it were inserted: roll back.

    Every case is checked first (:func:`~riskplan.cases.e2b._rules.intake_refusals`: no date after
    ``now``'s date, no impossible age); one refused case refuses them all, and nothing is stored.
    ``synthetic`` cases (made by ``riskplan synth cases`` or the demo) are marked so, and are refused,
    nothing stored, when the database holds a real case (:func:`refuse_synthetic_beside_real_cases`).
    """
    now = now or utcnow()
    _refuse_impossible(cases, now.date())
    if synthetic:
        refuse_synthetic_beside_real_cases(session)
    if len(cases) > SMALL_BATCH:  # a bulk intake; autovacuum keeps up with cases entered one by one
        keep_statistics_current(session, (CaseRow.__tablename__, CaseVersionRow.__tablename__))
    keys = [a.icsr.case_key for a in cases]
    existing: Mapping[str, int | CaseRef] = (
        {} if only_new else _existing_cases(session, set(keys)) if stored is None else stored
    )
    seen: set[str] = set()
    fresh: list[AssessedCase] = []
    later: list[AssessedCase] = []
    for a, key in zip(cases, keys, strict=True):
        (later if key in existing or key in seen else fresh).append(a)
        seen.add(key)
    outcomes = {
        id(a): o
        for a, o in zip(
            fresh,
            _create(session, fresh, plan_name, plan_version, who, reason, now, synthetic, only_new=only_new),
            strict=True,
        )
    }
    for a in later:
        known = existing.get(a.icsr.case_key)
        outcomes[id(a)] = _follow_up(
            session,
            a,
            locked=known if isinstance(known, CaseRef) else None,
            plan_version=plan_version,
            who=who,
            reason=reason,
            now=now,
        )
    return [outcomes[id(a)] for a in cases]


def _refuse_impossible(cases: Sequence[AssessedCase], today: dt.date) -> None:
    problems = [
        f"  - case {a.icsr.case_key}: {violation.element} at {violation.path}: {violation.message}"
        for a in cases
        for violation in intake_refusals(a.icsr, today=today)
    ]
    if problems:
        raise UserInputError(
            f"{len(problems)} impossible value(s), so nothing was stored (of {len(cases)} case(s)):\n"
            + "\n".join(problems)
        )


def _existing_cases(session: Session, keys: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    ordered = sorted(keys)
    for i in range(0, len(ordered), _CHUNK):
        chunk = ordered[i : i + _CHUNK]
        for wid, cid in session.execute(
            select(CaseRow.worldwide_id, CaseRow.id).where(CaseRow.worldwide_id.in_(chunk))
        ):
            found[wid] = cid
    return found


def _create(
    session: Session,
    cases: Sequence[AssessedCase],
    plan_name: str,
    plan_version: int | None,
    who: str,
    reason: str | None,
    now: dt.datetime,
    synthetic: bool,
    *,
    only_new: bool = False,
) -> list[StoreOutcome]:
    if not cases:
        return []
    case_rows = [
        {
            "worldwide_id": a.icsr.case_key,
            "plan_name": plan_name,
            "latest_version": 1,
            "created_at": now,
            "created_by": who,
            "synthetic": synthetic,
        }
        for a in cases
    ]
    ids = (
        _insert_new_cases(session, case_rows)
        if only_new
        else insert_returning_ids(session, _CASES, case_rows, "worldwide_id")
    )
    version_rows = []
    audit = []
    assessments = []
    for a, case_id in zip(cases, ids, strict=True):
        clock = reporting_clock(
            [VersionFacts(1, _received(a.icsr, now), valid=a.validity.valid, serious=a.serious, recorded=now.date())]
        )
        assessments.append(_stored_assessment(a, clock))
        version_rows.append(
            _version_row(
                case_id,
                1,
                a,
                clock,
                plan_version=plan_version,
                who=who,
                reason=reason,
                now=now,
                icsr_json=a.icsr.model_dump_json(),
            )
        )
        audit.append(
            audit_row(
                who=who,
                entity_type=ENTITY,
                entity_id=a.icsr.case_key,
                action="created",
                at=now,
                field="version",
                old=None,
                new=1,
                reason=reason or "initial report",
            )
        )
        if not a.validity.valid:
            audit.append(
                audit_row(
                    who=who,
                    entity_type=ENTITY,
                    entity_id=a.icsr.case_key,
                    action="stored invalid",
                    at=now,
                    field="validity",
                    old=None,
                    new=list(a.validity.missing),
                    reason="ICH minimum criteria",
                )
            )
    _insert_versions(session, version_rows, cases)
    insert_audit_rows(session, audit)
    return [
        StoreOutcome(a.icsr.case_key, cid, 1, "created", assessment)
        for a, cid, assessment in zip(cases, ids, assessments, strict=True)
    ]


def _insert_new_cases(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert case rows whose worldwide ids should be new, in one statement that is also the look-up:
    ``INSERT ... ON CONFLICT (worldwide_id) DO NOTHING RETURNING``; :class:`CaseExists` for the first one
    stored already (a concurrent insert of the same id is waited for, then conflicts like a committed one)."""
    connection = session.connection()
    dialect = connection.dialect.name
    insert_ = postgresql_insert if dialect == "postgresql" else sqlite_insert if dialect == "sqlite" else None
    if insert_ is None:  # no upsert syntax known here: look up first
        for row in rows:
            known = connection.scalar(select(CaseRow.id).where(CaseRow.worldwide_id == row["worldwide_id"]))
            if known is not None:
                raise CaseExists(row["worldwide_id"], known)
        return insert_returning_ids(session, _CASES, rows, "worldwide_id")
    if dialect == "postgresql" and len(rows) == 1:
        # one case (the web application's intake): straight to the driver, as _insert_versions does; through
        # SQLAlchemy a one-row list took its insertmanyvalues path, about 4 % of a web write's server CPU
        raw = connection.connection.driver_connection
        assert isinstance(raw, psycopg.Connection)
        found = raw.execute(_insert_new_case_text(tuple(rows[0])), rows[0]).fetchone()
        by_key = {} if found is None else {rows[0]["worldwide_id"]: int(found[0])}
    else:
        result = connection.execute(
            insert_(_CASES)
            .on_conflict_do_nothing(index_elements=["worldwide_id"])
            .returning(_CASES.c.id, _CASES.c.worldwide_id),
            rows,
        )
        by_key = {k: int(i) for i, k in result.all()}
    for row in rows:
        if row["worldwide_id"] not in by_key:
            wid = row["worldwide_id"]
            known = connection.scalar(select(CaseRow.id).where(CaseRow.worldwide_id == wid))
            assert known is not None  # the insert conflicted with it
            raise CaseExists(wid, known)
    return [by_key[row["worldwide_id"]] for row in rows]


@functools.cache
def _insert_new_case_text(columns: tuple[str, ...]) -> str:
    """``INSERT INTO icsr_case ... ON CONFLICT (worldwide_id) DO NOTHING RETURNING id`` in psycopg's syntax."""
    names = ", ".join(f'"{_CASES.c[c].name}"' for c in columns)
    values = ", ".join(f"%({c})s" for c in columns)
    conflict = 'ON CONFLICT ("worldwide_id") DO NOTHING RETURNING "id"'
    return f'INSERT INTO "{_CASES.name}" ({names}) VALUES ({values}) {conflict}'


@dataclass(frozen=True)
class _Latest:
    version: int
    icsr_json: str
    received: dt.date
    valid: bool


# the retired icsr_submission rows (read-only history): the clock stored with each version is the
# EU GVP VI.C.3 clock at intake; what is owed to each destination is submissions/' obligations.
# Built once (it runs before every follow-up).
_VERSION_HISTORY: Final = (
    select(
        CaseVersionRow.version,
        CaseVersionRow.received,
        CaseVersionRow.valid,
        CaseVersionRow.serious,
        exists().where(SubmissionRow.case_version_id == CaseVersionRow.id).label("submitted"),
        CaseVersionRow.recorded_at,
        # only the latest version's document is sent back
        case_((CaseVersionRow.version == bindparam("latest"), CaseVersionRow.icsr_json), else_=None),
    )
    .where(CaseVersionRow.case_id == bindparam("case_id"))
    .order_by(CaseVersionRow.version)
)


def _version_history(session: Session, case_id: int, latest_version: int) -> tuple[list[VersionFacts], _Latest]:
    """The facts of every stored version of a case (for its reporting clock) and its latest version's
    content, in one statement (a follow-up's read)."""
    rows = session.connection().execute(_VERSION_HISTORY, {"case_id": case_id, "latest": latest_version}).all()
    facts = [
        VersionFacts(v, r, valid=ok, serious=s, submitted=bool(sub), recorded=at.date())
        for v, r, ok, s, sub, at, _ in rows
    ]
    [latest] = [_Latest(v, doc, r, ok) for v, r, ok, _, _, _, doc in rows if v == latest_version]
    return facts, latest


def _follow_up(
    session: Session,
    a: AssessedCase,
    *,
    locked: CaseRef | None,
    plan_version: int | None,
    who: str,
    reason: str | None,
    now: dt.datetime,
) -> StoreOutcome:
    # the case row stays locked until the transaction ends (SELECT ... FOR UPDATE on PostgreSQL), so that
    # concurrent follow-ups of one case number their versions one after the other
    # The case row is locked first, then its latest version read: one statement joining both would, on
    # PostgreSQL, re-check a concurrently updated case row against the version row of its old snapshot
    # (READ COMMITTED) and find no row once another follow-up has committed a version.
    # Core statements on the session's connection (no ORM result processing): these run on every follow-up
    # ``locked``: the caller locked the row (and read it after the lock) in this transaction already
    caller_locked = locked is not None
    if locked is None:
        case = (
            session.connection()
            .execute(
                select(CaseRow.id, CaseRow.worldwide_id, CaseRow.plan_name, CaseRow.latest_version)
                .where(CaseRow.worldwide_id == a.icsr.case_key)
                .with_for_update()
            )
            .one()
        )
        locked = CaseRef(case.id, case.worldwide_id, case.plan_name, case.latest_version)
    case_id, worldwide_id = locked.case_id, locked.worldwide_id
    history, latest = _version_history(session, case_id, locked.latest_version)
    new_json = a.icsr.model_dump_json()
    if new_json == latest.icsr_json:
        return StoreOutcome(worldwide_id, case_id, latest.version, "unchanged")
    received = _received(a.icsr, now)
    if received < latest.received:
        # C.1.5 only moves forward: a follow-up reports information received after the stored version's
        raise UserInputError(
            f"case {worldwide_id}: follow-up refused, nothing stored: its date of most recent information "
            f"(C.1.5) {received.isoformat()} is before {latest.received.isoformat()}, that of the stored version "
            f"{latest.version}; follow-up information cannot be older than what is already stored"
        )
    number = latest.version + 1
    changes = field_changes(json.loads(latest.icsr_json), json.loads(new_json))
    clock = reporting_clock([*history, _follow_up_facts(number, a, now, changes)])
    row = _version_row(
        case_id, number, a, clock, plan_version=plan_version, who=who, reason=reason, now=now, icsr_json=new_json
    )
    # the latest version number moves with the version's rows when the caller locked the case (and holds no
    # CaseRow in the session to keep in step); else after the audit rows, through the ORM, as it always was
    _insert_versions(session, [row], [a], latest=(case_id, number) if caller_locked else None)
    why = reason or "follow-up information"
    audit = [
        audit_row(
            who=who,
            entity_type=ENTITY,
            entity_id=worldwide_id,
            action="new version",
            at=now,
            field="version",
            old=latest.version,
            new=number,
            reason=why,
        )
    ]
    audit += [
        audit_row(
            who=who,
            entity_type=ENTITY,
            entity_id=worldwide_id,
            action="changed",
            at=now,
            field=c.path,
            old=c.old,
            new=c.new,
            reason=why,
        )
        for c in changes
    ]
    if latest.valid != a.validity.valid:
        audit.append(
            audit_row(
                who=who,
                entity_type=ENTITY,
                entity_id=worldwide_id,
                action="validity changed",
                at=now,
                field="valid",
                old=latest.valid,
                new=a.validity.valid,
                reason=why,
            )
        )
    insert_audit_rows(session, audit)
    if not caller_locked:
        session.execute(update(CaseRow).where(CaseRow.id == case_id).values(latest_version=number))
    return StoreOutcome(worldwide_id, case_id, number, "follow-up", _stored_assessment(a, clock))


# ---------------------------------------------------------------------------------------------------
# Reads
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredCase:
    case_id: int
    worldwide_id: str
    plan_name: str
    version: int
    latest_version: int
    icsr: Icsr
    valid: bool
    invalid_reasons: tuple[str, ...]
    serious: bool
    received: dt.date
    day_zero: dt.date | None
    due: dt.date | None
    recorded_at: dt.datetime
    recorded_by: str
    reason: str | None
    concerns: tuple[tuple[str, str], ...]  # (concern id, reasons)
    reactions: tuple[dict[str, Any], ...]
    links: tuple[tuple[str, str, str | None], ...]  # (kind, other worldwide id, reason)
    synthetic: bool = False  # made by riskplan synth or the demo: not a real report

    @property
    def case_number(self) -> str:
        return case_number(self.case_id)


def resolve_case_id(session: Session, ref: str) -> int:
    """A case by riskplan number (``RP0000042`` or ``42``) or by worldwide case id (C.1.8.1)."""
    ref = ref.strip()
    by_wid = session.scalar(select(CaseRow.id).where(CaseRow.worldwide_id == ref))
    if by_wid is not None:
        return by_wid
    digits = ref[len(CASE_PREFIX) :] if ref.upper().startswith(CASE_PREFIX) else ref
    if digits.isdigit():
        found = session.scalar(select(CaseRow.id).where(CaseRow.id == int(digits)))
        if found is not None:
            return found
    raise NotFoundError(f"no case {ref!r}: give a case number like RP0000042 or a worldwide case id (C.1.8.1)")


def version_icsrs(session: Session, version_ids: Sequence[int]) -> dict[int, Icsr]:
    """The ICSR of each stored case version, by its id, read in a few queries (for sending many at once)."""
    found: dict[int, Icsr] = {}
    for start in range(0, len(version_ids), 500):
        chunk = list(version_ids[start : start + 500])
        rows = session.execute(
            select(CaseVersionRow.id, CaseVersionRow.case_id, CaseVersionRow.version, CaseVersionRow.icsr_json).where(
                CaseVersionRow.id.in_(chunk)
            )
        ).all()
        # E2B(R3) G.k.9.i.2.r: the causality recorded per drug-reaction pair goes with the ICSR sent
        icsrs = with_recorded_causality(session, [(c, v, Icsr.model_validate_json(text)) for _, c, v, text in rows])
        found.update((row[0], icsr) for row, icsr in zip(rows, icsrs, strict=True))
    return found


def get_case(session: Session, ref: str, version: int | None = None) -> StoredCase:
    case_id = resolve_case_id(session, ref)
    case = session.get_one(CaseRow, case_id)
    wanted = version or case.latest_version
    row = session.scalars(
        select(CaseVersionRow).where(CaseVersionRow.case_id == case_id, CaseVersionRow.version == wanted)
    ).first()
    if row is None:
        raise NotFoundError(
            f"case {case_number(case_id)} has no version {wanted} (versions 1 to {case.latest_version})"
        )
    concerns = session.execute(
        select(CaseConcernRow.concern_id, CaseConcernRow.reasons)
        .where(CaseConcernRow.case_version_id == row.id)
        .order_by(CaseConcernRow.id)
    ).all()
    reactions = (
        session.execute(
            select(CaseReactionRow).where(CaseReactionRow.case_version_id == row.id).order_by(CaseReactionRow.seq)
        )
        .scalars()
        .all()
    )
    other = aliased(CaseRow)
    links = session.execute(
        select(CaseLinkRow.kind, other.worldwide_id, CaseLinkRow.reason)
        .join(other, other.id == CaseLinkRow.other_case_id)
        .where(CaseLinkRow.case_id == case_id)
    ).all()
    reverse = session.execute(
        select(CaseLinkRow.kind, other.worldwide_id, CaseLinkRow.reason)
        .join(other, other.id == CaseLinkRow.case_id)
        .where(CaseLinkRow.other_case_id == case_id)
    ).all()
    return StoredCase(
        case_id=case_id,
        worldwide_id=case.worldwide_id,
        plan_name=case.plan_name,
        version=row.version,
        latest_version=case.latest_version,
        icsr=Icsr.model_validate_json(row.icsr_json),
        valid=row.valid,
        invalid_reasons=tuple(row.invalid_reasons.split("; ")) if row.invalid_reasons else (),
        serious=row.serious,
        received=row.received,
        day_zero=row.day_zero,
        due=row.due,
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
        reason=row.reason,
        concerns=tuple((c, r) for c, r in concerns),
        reactions=tuple(
            {
                k: getattr(r, k)
                for k in (
                    "seq",
                    "verbatim",
                    "llt_code",
                    "pt_code",
                    "pt_name",
                    "soc_name",
                    "coding_status",
                    "terminology",
                    "coding_note",
                    "coding_suggestions",
                    "serious",
                    "seriousness_criteria",
                    "listedness",
                    "onset",
                    "outcome",
                )
            }
            for r in reactions
        ),
        links=tuple((k, w, r) for k, w, r in [*links, *reverse]),
        synthetic=case.synthetic,
    )


@dataclass(frozen=True)
class CaseListing:
    case_id: int
    worldwide_id: str
    version: int
    received: dt.date
    valid: bool
    serious: bool
    due: dt.date | None
    concerns: tuple[str, ...]
    pts: tuple[str, ...]
    synthetic: bool = False

    @property
    def case_number(self) -> str:
        return case_number(self.case_id)


def _latest_versions() -> Any:
    return select(CaseVersionRow).join(CaseRow, IS_LATEST_VERSION)


def list_cases(session: Session, *, plan_name: str | None = None, limit: int | None = None) -> list[CaseListing]:
    """The latest version of each case, in case-number order."""
    stmt = (
        select(CaseVersionRow, CaseRow.worldwide_id, CaseRow.synthetic)
        .join(CaseRow, IS_LATEST_VERSION)
        .order_by(CaseVersionRow.case_id)
    )
    if plan_name:
        stmt = stmt.where(CaseRow.plan_name == plan_name)
    if limit:
        stmt = stmt.limit(limit)
    rows = session.execute(stmt).all()
    ids = [r.id for r, _, _ in rows]
    concerns = _grouped(session, CaseConcernRow.case_version_id, CaseConcernRow.concern_id, ids)
    pts = _grouped(session, CaseReactionRow.case_version_id, CaseReactionRow.pt_name, ids)
    return [
        CaseListing(
            r.case_id,
            wid,
            r.version,
            r.received,
            r.valid,
            r.serious,
            r.due,
            tuple(concerns.get(r.id, ())),
            tuple(p for p in pts.get(r.id, ()) if p),
            synthetic,
        )
        for r, wid, synthetic in rows
    ]


def _grouped(session: Session, key: Any, value: Any, ids: Sequence[int]) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for i in range(0, len(ids), _CHUNK):
        for k, v in session.execute(select(key, value).where(key.in_(ids[i : i + _CHUNK]))):
            out.setdefault(k, []).append(v)
    return out


def concern_counts(session: Session, *, plan_name: str | None = None, valid_only: bool = True) -> dict[str, int]:
    """Number of cases (latest versions) counted toward each safety concern."""
    stmt = (
        select(CaseConcernRow.concern_id, func.count(func.distinct(CaseVersionRow.case_id)))
        .join(CaseVersionRow, CaseVersionRow.id == CaseConcernRow.case_version_id)
        .join(CaseRow, IS_LATEST_VERSION)
        .group_by(CaseConcernRow.concern_id)
    )
    if valid_only:
        stmt = stmt.where(CaseVersionRow.valid.is_(True))
    if plan_name:
        stmt = stmt.where(CaseRow.plan_name == plan_name)
    return {cid: int(n) for cid, n in session.execute(stmt)}


def case_history(session: Session, ref: str) -> list[AuditEvent]:
    case = session.get_one(CaseRow, resolve_case_id(session, ref))
    return history(session, ENTITY, case.worldwide_id)


def latest_icsrs(
    session: Session, refs: Iterable[str] | None = None, *, with_causality: bool = False
) -> list[tuple[int, int, Icsr]]:
    """(case id, version, ICSR) of the latest version of the given cases, or of every case; with the
    causality recorded per drug-reaction pair in G.k.9.i.2.r when ``with_causality`` (for export)."""
    stmt = _latest_versions().order_by(CaseVersionRow.case_id)
    if refs is not None:
        ids = [resolve_case_id(session, r) for r in refs]
        stmt = stmt.where(CaseVersionRow.case_id.in_(ids))
    found = [(r.case_id, r.version, Icsr.model_validate_json(r.icsr_json)) for r in session.scalars(stmt)]
    if not with_causality:
        return found
    return [(c, v, i) for (c, v, _), i in zip(found, with_recorded_causality(session, found), strict=True)]


def link_cases(
    session: Session, ref_a: str, ref_b: str, *, kind: str, who: str, reason: str | None, score: float | None = None
) -> None:
    """Confirm a relation (e.g. duplicate) between two cases; both are kept, the link is audited on both."""
    a, b = resolve_case_id(session, ref_a), resolve_case_id(session, ref_b)
    if a == b:
        raise UserInputError("a case cannot be linked to itself")
    already = session.scalar(
        select(CaseLinkRow.id).where(
            CaseLinkRow.kind == kind,
            ((CaseLinkRow.case_id == a) & (CaseLinkRow.other_case_id == b))
            | ((CaseLinkRow.case_id == b) & (CaseLinkRow.other_case_id == a)),
        )
    )
    if already is not None:
        raise UserInputError(f"{case_number(a)} and {case_number(b)} are already linked as {kind}")
    now = utcnow()
    session.add(
        CaseLinkRow(case_id=a, other_case_id=b, kind=kind, score=score, linked_at=now, linked_by=who, reason=reason)
    )
    wa, wb = session.get_one(CaseRow, a).worldwide_id, session.get_one(CaseRow, b).worldwide_id
    insert_audit_rows(
        session,
        [
            audit_row(
                who=who,
                entity_type=ENTITY,
                entity_id=wa,
                action=f"linked as {kind}",
                at=now,
                field="link",
                new=wb,
                reason=reason,
            ),
            audit_row(
                who=who,
                entity_type=ENTITY,
                entity_id=wb,
                action=f"linked as {kind}",
                at=now,
                field="link",
                new=wa,
                reason=reason,
            ),
        ],
    )


def record_export(
    session: Session,
    case_id: int,
    version: int,
    *,
    batch_id: str,
    file_name: str,
    sha256: str,
    who: str,
    narrative: str | None = None,
) -> None:
    """Record in the case's audit trail that a version was written to an E2B(R3) file by hand.

    A manual export is not a submission: what each authority is owed and what was sent to it are the
    submissions' records (``riskplan submission due`` / ``send``), so an export never marks a case as sent.
    """
    version_id = session.scalar(
        select(CaseVersionRow.id).where(CaseVersionRow.case_id == case_id, CaseVersionRow.version == version)
    )
    if version_id is None:
        raise NotFoundError(f"case {case_number(case_id)} has no version {version}")
    wid = session.get_one(CaseRow, case_id).worldwide_id
    insert_audit_rows(
        session,
        [
            audit_row(
                who=who,
                entity_type=ENTITY,
                entity_id=wid,
                action="exported as E2B(R3)",
                at=utcnow(),
                field="export",
                new={"version": version, "file": file_name, "batch": batch_id, "sha256": sha256}
                | ({} if narrative is None else {"narrative": narrative}),
                reason="manual export (not a submission)",
            )
        ],
    )


# ---------------------------------------------------------------------------------------------------
# Synthetic cases: marked, never beside real ones, never sent as real ones
# ---------------------------------------------------------------------------------------------------


def real_case_count(session: Session) -> tuple[int, str | None]:
    """The number of real (not synthetic) cases, and the worldwide id of the first of them."""
    first = session.scalar(select(CaseRow.worldwide_id).where(CaseRow.synthetic.is_(False)).limit(1))  # indexed
    if first is None:
        return 0, None
    count = session.scalar(select(func.count()).select_from(CaseRow).where(CaseRow.synthetic.is_(False))) or 0
    return int(count), first


def refuse_synthetic_beside_real_cases(session: Session) -> None:
    """Synthetic cases are written only into a database without real cases: refuse otherwise.

    A real safety database must never hold invented reports an inspector could mistake for real ones,
    nor have real cases changed by a demo (GVP VI.B.6.1, data quality of the pharmacovigilance system).
    """
    count, first = real_case_count(session)
    if count:
        url = session.get_bind().engine.url.render_as_string(hide_password=True)
        raise UserInputError(
            f"database {url} holds {count} real (not synthetic) case(s), e.g. {first}: synthetic cases are "
            "never written into a database with real cases, nothing written. Use a new, empty database "
            "(RISKPLAN_DATABASE_URL, or `riskplan demo`, which has its own)."
        )


def synthetic_worldwide_ids(session: Session, case_ids: Iterable[int]) -> list[str]:
    """The worldwide ids of the synthetic cases among ``case_ids``."""
    ids = list(case_ids)
    found: list[str] = []
    for i in range(0, len(ids), _CHUNK):
        found += session.scalars(
            select(CaseRow.worldwide_id)
            .where(CaseRow.id.in_(ids[i : i + _CHUNK]), CaseRow.synthetic.is_(True))
            .order_by(CaseRow.id)
        )
    return found


def synthetic_case_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(CaseRow).where(CaseRow.synthetic.is_(True))) or 0)


def refuse_synthetic_export(session: Session, case_ids: Iterable[int], *, allowed: bool) -> bool:
    """Whether the cases include synthetic ones; refused (nothing written) unless ``allowed``.

    A synthetic case must never reach an authority as if it were a real report (GVP VI.C.3 obligations
    are for real cases only); exporting one takes an explicit choice, and the batch is then marked.
    """
    synthetic = synthetic_worldwide_ids(session, case_ids)
    if synthetic and not allowed:
        shown = ", ".join(synthetic[:5]) + (f" and {len(synthetic) - 5} more" if len(synthetic) > 5 else "")
        raise UserInputError(
            f"export refused, nothing written: {len(synthetic)} synthetic case(s) ({shown}) are not real "
            "reports and are never sent to an authority; leave them out, or export them on purpose "
            "(command line: --allow-synthetic; the batch is then marked SYNTHETIC)"
        )
    return bool(synthetic)
