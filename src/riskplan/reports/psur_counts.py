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
from dataclasses import dataclass
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
    Listedness,
    concerns_by_version,
    is_synthetic_case,
    pt_listedness,
    reactions_by_version,
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
    "CaseCounts",
    "ConcernCount",
    "TabulationRow",
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
    """Serious reactions of one MedDRA PT from one source: cases first received in the interval and
    cumulatively (E2C(R2) Appendix B)."""

    source: str
    soc: str
    pt: str
    listedness: str
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
    tabulation: tuple[TabulationRow, ...]
    monthly: tuple[tuple[str, str, int], ...]  # (YYYY-MM first received, source, serious reactions)
    concern_months: tuple[tuple[str, str, int], ...]  # (YYYY-MM first received, concern id, cases), interval only
    concerns: tuple[ConcernCount, ...]
    terminologies: tuple[str, ...]
    cases_sha256: str  # digest of every counted case version (case id, version id, date, source)
    synthetic_interval: int = 0  # counted cases made by riskplan synth or the demo (not real reports)
    synthetic_cumulative: int = 0

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
        listed = _listedness_column(session, plan, b, r, serious_reactions)
        tabulation = tuple(
            sorted(
                (
                    TabulationRow(
                        str(src),
                        soc or NOT_CODED,
                        pt or NOT_CODED,
                        str(lst),
                        int(i),
                        int(c),
                    )
                    for src, soc, pt, lst, i, c in session.execute(
                        select(
                            b.c.source,
                            r.c.soc_name,
                            r.c.pt_name,
                            func.max(listed),
                            func.count(func.distinct(case((in_interval, b.c.case_id), else_=None))),
                            func.count(func.distinct(b.c.case_id)),
                        )
                        .join(r, r.c.case_version_id == b.c.version_id)
                        .where(serious_reactions)
                        .group_by(b.c.source, r.c.soc_name, r.c.pt_name)
                    )
                ),
                key=lambda t: (SOURCES.index(t.source), t.soc.casefold(), t.pt.casefold()),
            )
        )
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
    )


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)
