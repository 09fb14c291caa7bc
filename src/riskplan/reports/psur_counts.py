"""PSUR counting in the case store (ICH E2C(R2) 3.6, GVP VII.B.5.6): every count of the report, as at the
data lock point, in SQL (GROUP BY in the database, no loop over cases in Python).

See :mod:`riskplan.reports.psur` for what is counted. Listedness (E2C(R2) 3.4) is that of
:func:`riskplan.cases.listedness.pt_listedness`, the definition case intake uses, against the RSI of the plan
version the report uses: each distinct PT of the counted serious reactions is assessed once in Python and the
SQL groups by the result.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Subquery,
    Table,
    and_,
    case,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from riskplan.cases import (
    CLINICAL_TRIAL,
    NOT_AVAILABLE,
    SOLICITED,
    SPONTANEOUS,
    TRIAL_ARMS,
    Listedness,
    concerns_by_version,
    is_synthetic_case,
    pt_listedness,
    reactions_by_version,
    trial_arm,
    versions_at_dlp,
)
from riskplan.errors import UserInputError
from riskplan.plan import RiskManagementPlan

__all__ = [
    "CLINICAL_TRIAL",
    "NOT_AVAILABLE",
    "NOT_CODED",
    "POST_MARKETING",
    "SOLICITED",
    "SOURCES",
    "SPONTANEOUS",
    "TRIAL_ARMS",
    "CaseCounts",
    "ConcernCount",
    "TabulationRow",
    "TrialRow",
    "check_interval",
    "count_cases",
    "listedness_assessable",
    "parse_date",
]

SOURCES: Final = (SPONTANEOUS, SOLICITED, CLINICAL_TRIAL, NOT_AVAILABLE)
POST_MARKETING: Final = (SPONTANEOUS, SOLICITED, NOT_AVAILABLE)
NOT_CODED: Final = "(not coded)"


# --------------------------------------------------------------------------------------------------
# Dates and parameters
# --------------------------------------------------------------------------------------------------


def parse_date(text: str, option: str) -> dt.date:
    """An ISO date (YYYY-MM-DD) given on the command line; anything else is a clear user error."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UserInputError(f"{option}: {text!r} is not a date; expected YYYY-MM-DD, e.g. 2025-06-30") from None


def check_interval(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise UserInputError(
            f"the reporting interval ends ({end}) before it starts ({start}): --to (the data lock point) "
            "must be on or after --from"
        )


# --------------------------------------------------------------------------------------------------
# Counting in the case store (E2C(R2) 3.6; GVP VII.B.5.6)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TabulationRow:
    """The reactions of one MedDRA PT from one source (E2C(R2) 3.6, Appendix B): the cases reporting the PT,
    first received in the interval and cumulatively, split by the seriousness of the PT in the case (serious
    when any of the case's reactions coded to the PT is serious, E.i.3.2). ``interval`` and ``cumulative``
    count the serious ones, ``nonserious_*`` the others: each case-PT pair is in exactly one of them."""

    source: str
    soc: str
    pt: str
    listedness: str
    interval: int
    cumulative: int
    nonserious_interval: int = 0
    nonserious_cumulative: int = 0


@dataclass(frozen=True)
class TrialRow:
    """Serious adverse events of one MedDRA PT from clinical trial cases, for one treatment arm (E2C(R2) 3.6.1,
    Appendix B): cases reporting the PT as serious, first received in the interval and cumulatively."""

    arm: str
    soc: str
    pt: str
    interval: int
    cumulative: int


@dataclass(frozen=True)
class ConcernCount:
    """Cases counted toward a safety concern (``icsr_case_concern`` of the version known at the DLP)."""

    concern_id: str
    interval: int
    cumulative: int
    serious_interval: int
    serious_cumulative: int


@dataclass(frozen=True)
class CaseCounts:
    """What was counted: valid cases, serious cases by source, serious reactions per month."""

    valid_interval: int
    valid_cumulative: int
    serious_interval: int
    serious_cumulative: int
    serious_by_source: dict[str, tuple[int, int]]  # source -> (interval, cumulative)
    tabulation: tuple[TabulationRow, ...]  # every source, serious and non-serious (6.2 reads trial_tabulation)
    monthly: tuple[tuple[str, str, int], ...]  # (YYYY-MM first received, source, serious reactions)
    concern_months: tuple[tuple[str, str, int], ...]  # (YYYY-MM first received, concern id, cases), interval only
    concerns: tuple[ConcernCount, ...]
    terminologies: tuple[str, ...]
    cases_sha256: str  # digest of every counted case version (case id, version id, date, source)
    synthetic_interval: int = 0  # counted cases made by riskplan synth or the demo (not real reports)
    synthetic_cumulative: int = 0
    trial_tabulation: tuple[TrialRow, ...] = ()
    trial_arm_cases: dict[str, tuple[int, int]] = field(default_factory=dict)  # arm -> serious cases (int, cum)

    def concern(self, concern_id: str) -> ConcernCount:
        for c in self.concerns:
            if c.concern_id == concern_id:
                return c
        return ConcernCount(concern_id, 0, 0, 0, 0)


def _month_expression(session: Session, column: Any) -> ColumnElement[str]:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.substr(column, 1, 7)  # SQLite keeps dates as ISO text


@contextmanager
def _counted_cases(
    session: Session, plan_name: str, end: dt.date, meddra_version: str | None = None
) -> Iterator[Table]:
    """A temporary table of the case versions counted at the DLP ``end`` (one row per case), filled in one
    statement from :func:`riskplan.cases.reads.versions_at_dlp`.

    Columns: version_id, case_id, first_received (C.1.4, else C.1.5), serious, source (serious cases only:
    the JSON is read for them alone).
    """
    table = Table(
        f"psur_cases_{uuid.uuid4().hex[:12]}",
        MetaData(),
        Column("version_id", Integer, primary_key=True),
        Column("case_id", Integer, nullable=False),
        Column("first_received", Date, nullable=False),
        Column("serious", Boolean, nullable=False),
        Column("source", String(20)),
        prefixes=["TEMPORARY"],
    )
    rows = versions_at_dlp(session, plan_name, end, meddra_version=meddra_version)
    connection = session.connection()
    try:
        table.create(connection)
        connection.execute(
            table.insert().from_select(["version_id", "case_id", "first_received", "serious", "source"], rows)
        )
        yield table
    except BaseException:
        # PostgreSQL refuses any statement in a failed transaction, and its rollback drops the table; SQLite
        # may have created it outside the transaction, so it is dropped here, the original error kept.
        if connection.dialect.name != "postgresql":
            with suppress(Exception):
                table.drop(connection, checkfirst=True)
        raise
    table.drop(connection)


def listedness_assessable(plan: RiskManagementPlan) -> bool:
    """Listedness needs an RSI with expected reactions (E2C(R2) 3.4): without one, every serious reaction of the
    report is "not assessable" (an RSI listing nothing is not taken to make every reaction unlisted)."""
    rsi = plan.reference_safety_information
    return rsi is not None and bool(rsi.expected_reactions)


def _listedness_column(
    session: Session, plan: RiskManagementPlan, counted: Table, reactions: Subquery, where: ColumnElement[bool]
) -> ColumnElement[str]:
    """The listedness of each reaction row as a SQL expression, from the one definition
    (:func:`~riskplan.cases.listedness.pt_listedness`, as at intake) applied to each distinct PT of the
    counted reactions against the report plan's RSI: SQL's ``lower()`` is not Python's ``casefold()`` (ß, the
    Turkish dotted I; SQLite folds ASCII only), so the comparison is never made in SQL."""
    if not listedness_assessable(plan):
        return literal(Listedness.NOT_ASSESSABLE.value)
    pts = session.scalars(
        select(reactions.c.pt_name)
        .distinct()
        .join(counted, reactions.c.case_version_id == counted.c.version_id)
        .where(where, reactions.c.pt_name.is_not(None))
    )
    by_result: dict[Listedness, list[str]] = {Listedness.LISTED: [], Listedness.UNLISTED: []}
    for pt in sorted(pts):
        found = pt_listedness(pt, plan)
        if found in by_result:
            by_result[found].append(pt)
    return case(
        (reactions.c.pt_name.in_(by_result[Listedness.LISTED]), literal(Listedness.LISTED.value)),
        (reactions.c.pt_name.in_(by_result[Listedness.UNLISTED]), literal(Listedness.UNLISTED.value)),
        else_=literal(Listedness.NOT_ASSESSABLE.value),
    )


def _tabulation(
    session: Session, plan: RiskManagementPlan, b: Table, r: Subquery, in_interval: ColumnElement[bool]
) -> tuple[TabulationRow, ...]:
    """ICH E2C(R2) 3.6 and Appendix B: per source, SOC and PT, the cases reporting the PT, serious and
    non-serious, interval and cumulative. One row per case and PT first (the PT is serious in the case when
    any of its reactions coded to it is), then summed per PT in the database."""
    listed = _listedness_column(session, plan, b, r, literal(True))
    one_if = case((r.c.serious.is_(True), 1), else_=0)
    pairs = (
        select(
            b.c.source.label("source"),
            r.c.soc_name.label("soc"),
            r.c.pt_name.label("pt"),
            func.max(listed).label("listed"),
            func.max(one_if).label("serious"),
            func.max(case((in_interval, 1), else_=0)).label("in_interval"),
        )
        .join(r, r.c.case_version_id == b.c.version_id)
        .group_by(b.c.case_id, b.c.source, r.c.soc_name, r.c.pt_name)
        .subquery("case_pt")
    )
    p = pairs.c
    rows = session.execute(
        select(
            p.source,
            p.soc,
            p.pt,
            func.max(p.listed),
            func.sum(p.serious * p.in_interval),
            func.sum(p.serious),
            func.sum((1 - p.serious) * p.in_interval),
            func.sum(1 - p.serious),
        ).group_by(p.source, p.soc, p.pt)
    )
    return tuple(
        sorted(
            (
                TabulationRow(str(src), soc or NOT_CODED, pt or NOT_CODED, str(lst), int(si), int(sc), int(ni), int(nc))
                for src, soc, pt, lst, si, sc, ni, nc in rows
            ),
            key=lambda t: (SOURCES.index(t.source), t.soc.casefold(), t.pt.casefold()),
        )
    )


def _trial_tabulation(
    session: Session, plan: RiskManagementPlan, b: Table, r: Subquery, in_interval: ColumnElement[bool]
) -> tuple[tuple[TrialRow, ...], dict[str, tuple[int, int]]]:
    """ICH E2C(R2) 3.6.1 (PBRER 6.2): serious adverse events of the clinical trial cases by treatment arm
    (:func:`riskplan.cases.trial_arm`: investigational product, comparator, placebo, blinded), cases per PT;
    and the serious trial cases per arm."""
    arm = trial_arm(session, b.c.version_id, (plan.product.name, plan.product.active_substance))
    arms = (
        select(
            b.c.case_id.label("case_id"),
            b.c.version_id.label("version_id"),
            arm.label("arm"),
            case((in_interval, 1), else_=0).label("i"),
        )
        .where(b.c.source == CLINICAL_TRIAL, b.c.serious.is_(True))
        .subquery("arms")
    )
    a = arms.c
    got_interval = func.count(func.distinct(case((a.i == 1, a.case_id), else_=None)))
    rows = tuple(
        sorted(
            (
                TrialRow(str(arm_), soc or NOT_CODED, pt or NOT_CODED, int(i), int(c))
                for arm_, soc, pt, i, c in session.execute(
                    select(a.arm, r.c.soc_name, r.c.pt_name, got_interval, func.count(func.distinct(a.case_id)))
                    .join(r, r.c.case_version_id == a.version_id)
                    .where(r.c.serious.is_(True))
                    .group_by(a.arm, r.c.soc_name, r.c.pt_name)
                )
            ),
            key=lambda t: (TRIAL_ARMS.index(t.arm), t.soc.casefold(), t.pt.casefold()),
        )
    )
    per_arm = {
        str(arm_): (int(i), int(c))
        for arm_, i, c in session.execute(
            select(a.arm, func.sum(case((a.i == 1, 1), else_=0)), func.count()).group_by(a.arm)
        )
    }
    return rows, per_arm


def count_cases(
    session: Session,
    plan: RiskManagementPlan,
    start: dt.date,
    end: dt.date,
    *,
    plan_name: str | None = None,
    meddra_version: str | None = None,
) -> CaseCounts:
    """Every count of the report from the case store, as at the DLP ``end`` (see the module docstring);
    with ``meddra_version``, as coded with that MedDRA release (an earlier report reproduced)."""
    check_interval(start, end)
    name = plan_name or plan.name
    with _counted_cases(session, name, end, meddra_version) as b:
        in_interval = b.c.first_received >= start
        totals = session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((in_interval, 1), else_=0)), 0),
                func.coalesce(func.sum(case((b.c.serious.is_(True), 1), else_=0)), 0),
                func.coalesce(func.sum(case((and_(b.c.serious.is_(True), in_interval), 1), else_=0)), 0),
            ).select_from(b)
        ).one()
        by_source = {
            str(src): (int(i), int(c))
            for src, i, c in session.execute(
                select(b.c.source, func.sum(case((in_interval, 1), else_=0)), func.count())
                .where(b.c.serious.is_(True))
                .group_by(b.c.source)
            )
        }

        r = reactions_by_version()
        serious_reactions = and_(b.c.serious.is_(True), r.c.serious.is_(True))
        tabulation = _tabulation(session, plan, b, r, in_interval)
        trial_tabulation, trial_arm_cases = _trial_tabulation(session, plan, b, r, in_interval)
        month = _month_expression(session, b.c.first_received)
        monthly = tuple(
            sorted(
                (str(m), str(src), int(n))
                for m, src, n in session.execute(
                    select(month, b.c.source, func.count())
                    .join(r, r.c.case_version_id == b.c.version_id)
                    .where(serious_reactions)
                    .group_by(month, b.c.source)
                )
            )
        )
        terminologies = tuple(
            sorted(
                str(t)
                for (t,) in session.execute(
                    select(r.c.terminology)
                    .distinct()
                    .join(b, r.c.case_version_id == b.c.version_id)
                    .where(r.c.terminology.is_not(None))
                )
            )
        )
        k = concerns_by_version()
        serious_case = and_(b.c.serious.is_(True))
        concerns = tuple(
            sorted(
                (
                    ConcernCount(str(cid), int(i), int(c), int(si), int(sc))
                    for cid, i, c, si, sc in session.execute(
                        select(
                            k.c.concern_id,
                            func.count(func.distinct(case((in_interval, b.c.case_id), else_=None))),
                            func.count(func.distinct(b.c.case_id)),
                            func.count(func.distinct(case((and_(in_interval, serious_case), b.c.case_id), else_=None))),
                            func.count(func.distinct(case((serious_case, b.c.case_id), else_=None))),
                        )
                        .join(b, b.c.version_id == k.c.case_version_id)
                        .group_by(k.c.concern_id)
                    )
                ),
                key=lambda x: x.concern_id,
            )
        )
        concern_months = tuple(
            sorted(
                (str(m), str(cid), int(n))
                for m, cid, n in session.execute(
                    select(month, k.c.concern_id, func.count(func.distinct(b.c.case_id)))
                    .join(b, b.c.version_id == k.c.case_version_id)
                    .where(in_interval)
                    .group_by(month, k.c.concern_id)
                )
            )
        )
        synthetic = session.execute(
            select(func.coalesce(func.sum(case((in_interval, 1), else_=0)), 0), func.count()).where(
                is_synthetic_case(b.c.case_id)
            )
        ).one()
        digest = hashlib.sha256()
        result = session.execute(
            select(b.c.case_id, b.c.version_id, b.c.first_received, b.c.source).order_by(b.c.case_id)
        )
        for part in result.partitions(50_000):
            digest.update(
                "".join(f"{cid},{vid},{_iso(first)},{src or ''}\n" for cid, vid, first, src in part).encode(
                    "ascii", "backslashreplace"
                )
            )
    return CaseCounts(
        valid_interval=int(totals[1]),
        valid_cumulative=int(totals[0]),
        serious_interval=int(totals[3]),
        serious_cumulative=int(totals[2]),
        serious_by_source=by_source,
        tabulation=tabulation,
        monthly=monthly,
        concerns=concerns,
        concern_months=concern_months,
        terminologies=terminologies,
        cases_sha256=digest.hexdigest(),
        synthetic_interval=int(synthetic[0]),
        synthetic_cumulative=int(synthetic[1]),
        trial_tabulation=trial_tabulation,
        trial_arm_cases=trial_arm_cases,
    )


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)
