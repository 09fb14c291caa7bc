"""Reporting compliance: per destination and month, the share of reports on time (expedited, and the ICSRs
of a US periodic report against that report's due date, 21 CFR 314.80(c)(2)).

A report is on time when the authority's ACK accepted it by its due date (GVP VI.C.3; the inspectors'
measure of timeliness, GVP Module I / IV). A report is late when accepted after its due date, or when
its due date has passed without an accepted ACK (still open). A report sent (or owed) whose due date has
not come and that no ACK accepted yet is pending: counted apart, neither on time nor late, and left out of
the share on time (a month whose reports are all pending shows no share, not 0%). Months are those of the
due dates in the period. Reports owed but never generated count too (late once their due date has passed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from riskplan.cases import CaseRow, case_number
from riskplan.errors import UserInputError
from riskplan.submissions.destination_versions import destinations_in_force
from riskplan.submissions.destinations import ReportKind
from riskplan.submissions.obligations import Obligation
from riskplan.submissions.owed_counts import owed_due_counts
from riskplan.submissions.records import ACCEPTED, RESUBMITTED
from riskplan.submissions.tables import SubmissionRow


@dataclass(frozen=True)
class LateReport:
    case: str
    worldwide_id: str
    version: int
    destination: str
    due: dt.date
    done: dt.date | None  # the accepting ACK's date; None while open
    days_late: int
    state: str
    reason: str | None


@dataclass(frozen=True)
class MonthLine:
    destination: str
    month: str  # YYYY-MM
    due: int
    on_time: int
    late: int
    pending: int = 0  # not yet acknowledged and not yet due: neither on time nor late (yet)

    @property
    def share_on_time(self) -> float | None:
        """On time among the reports decided (on time or late); None while every report is pending."""
        decided = self.on_time + self.late
        return None if decided == 0 else self.on_time / decided


@dataclass(frozen=True)
class Compliance:
    start: dt.date
    end: dt.date
    today: dt.date
    months: tuple[MonthLine, ...]
    late: tuple[LateReport, ...]
    due_soon: tuple[Obligation | LateReport, ...]


def compliance(
    session: Session,
    start: dt.date,
    end: dt.date,
    today: dt.date,
    owed: Sequence[Obligation],
    *,
    case_ids: Collection[int] | None = None,
) -> Compliance:
    """``case_ids``: only these cases (e.g. one product's, for its periodic report); default every case."""
    if end < start:
        raise UserInputError(f"--to {end} is before --from {start}")
    rows = [
        r
        for r in session.scalars(
            select(SubmissionRow)
            .where(
                SubmissionRow.kind.in_((ReportKind.EXPEDITED.value, ReportKind.PERIODIC.value)),
                SubmissionRow.state != RESUBMITTED,
            )
            .order_by(SubmissionRow.due, SubmissionRow.id)
        )
        if r.due is not None and (case_ids is None or r.case_id in case_ids)
    ]
    if case_ids is not None:
        owed = [o for o in owed if o.case_id in case_ids]
    lines: dict[tuple[str, str], list[int]] = {}
    late: list[LateReport] = []
    soon: list[Obligation | LateReport] = []
    horizon = today + dt.timedelta(days=7)
    for r in rows:
        assert r.due is not None
        done = r.acknowledged_at.date() if r.state == ACCEPTED and r.acknowledged_at is not None else None
        if done is None and today <= r.due <= horizon:
            soon.append(
                LateReport(
                    case_number(r.case_id),
                    r.worldwide_id,
                    r.version,
                    r.destination,
                    r.due,
                    None,
                    0,
                    r.state,
                    r.late_reason,
                )
            )
        if not start <= r.due <= end:
            continue
        counts = lines.setdefault((r.destination, f"{r.due:%Y-%m}"), [0, 0, 0, 0])
        counts[0] += 1
        days_late = _days_late(r.due, done, today)
        state = _state(r.due, done, today)
        counts[state] += 1
        if state == _LATE:
            late.append(
                LateReport(
                    case_number(r.case_id),
                    r.worldwide_id,
                    r.version,
                    r.destination,
                    r.due,
                    done,
                    days_late,
                    r.state,
                    r.late_reason,
                )
            )
    for o in owed:
        if o.due is None:
            continue
        if today <= o.due <= horizon:
            soon.append(o)
        if not start <= o.due <= end:
            continue
        counts = lines.setdefault((o.destination, f"{o.due:%Y-%m}"), [0, 0, 0, 0])
        counts[0] += 1
        state = _state(o.due, None, today)
        counts[state] += 1
        if state == _LATE:
            late.append(
                LateReport(
                    o.case_number,
                    o.worldwide_id,
                    o.version,
                    o.destination,
                    o.due,
                    None,
                    _days_late(o.due, None, today),
                    "owed",
                    None,
                )
            )
    months = tuple(MonthLine(d, m, c[0], c[1], c[2], c[3]) for (d, m), c in sorted(lines.items()))
    return Compliance(start, end, today, months, tuple(late), tuple(sorted(soon, key=lambda x: x.due or dt.date.max)))


_ON_TIME, _LATE, _PENDING = 1, 2, 3  # the places of the counts after the number due: [due, on time, late, pending]


def _days_late(due: dt.date, done: dt.date | None, today: dt.date) -> int:
    """Days from the due date to the accepting ACK (``done``), or to ``today`` while none accepted it."""
    return ((today if done is None else done) - due).days


def _state(due: dt.date, done: dt.date | None, today: dt.date) -> int:
    """On time: accepted by its due date; pending: not accepted, not yet due; late: otherwise."""
    if _days_late(due, done, today) > 0:
        return _LATE
    return _PENDING if done is None else _ON_TIME


@dataclass(frozen=True)
class ComplianceCounts:
    """The figures of :func:`compliance` without the reports themselves."""

    start: dt.date
    end: dt.date
    today: dt.date
    months: tuple[MonthLine, ...]
    late_with_reason: int  # late reports whose lateness has a recorded reason


def compliance_counts(
    session: Session, start: dt.date, end: dt.date, today: dt.date, *, plan_name: str | None = None
) -> ComplianceCounts:
    """Per destination and month of due date in [start, end]: the reports due, on time, late and pending, as
    :func:`~riskplan.submissions.overview.compliance_report` counts them (of the cases of ``plan_name``,
    default every case), without one object per report (see :mod:`~riskplan.submissions.owed_counts`)."""
    if end < start:
        raise UserInputError(f"--to {end} is before --from {start}")
    stmt = select(
        SubmissionRow.destination,
        SubmissionRow.due,
        SubmissionRow.state,
        SubmissionRow.acknowledged_at,
        SubmissionRow.late_reason,
    ).where(
        SubmissionRow.kind.in_((ReportKind.EXPEDITED.value, ReportKind.PERIODIC.value)),
        SubmissionRow.state != RESUBMITTED,
        SubmissionRow.due.is_not(None),
        SubmissionRow.due >= start,
        SubmissionRow.due <= end,
    )
    if plan_name is not None:
        stmt = stmt.join(CaseRow, CaseRow.id == SubmissionRow.case_id).where(CaseRow.plan_name == plan_name)
    lines: dict[tuple[str, str], list[int]] = {}
    late_with_reason = 0
    for destination, due, state, acknowledged_at, reason in session.execute(stmt):
        assert due is not None  # selected so
        done = acknowledged_at.date() if state == ACCEPTED and acknowledged_at is not None else None
        counts = lines.setdefault((destination, f"{due:%Y-%m}"), [0, 0, 0, 0])
        counts[0] += 1
        kind = _state(due, done, today)
        counts[kind] += 1
        late_with_reason += kind == _LATE and bool(reason)
    destinations = list(destinations_in_force(session).values())
    for (destination, due), n in owed_due_counts(session, destinations, (start, end), plan_name=plan_name).items():
        counts = lines.setdefault((destination, f"{due:%Y-%m}"), [0, 0, 0, 0])
        counts[0] += n
        counts[_state(due, None, today)] += n
    months = tuple(MonthLine(d, m, c[0], c[1], c[2], c[3]) for (d, m), c in sorted(lines.items()))
    return ComplianceCounts(start, end, today, months, late_with_reason)
