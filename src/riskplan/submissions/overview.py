"""What the front ends (web pages, demo, periodic reports) show of regulatory reporting, in one call each.

* :func:`due_reports`: the reports owed now per destination (the same list as ``riskplan submission due``),
  each with the authority's error text when its last report was rejected;
* :func:`compliance_report`: the compliance of a period (``riskplan submission compliance``), by default
  :func:`compliance_period`;
* :func:`state_counts`: how many submissions each destination holds in each state.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from riskplan.submissions.compliance import Compliance, compliance
from riskplan.submissions.destination_versions import destination_in_force, destinations_in_force
from riskplan.submissions.due_window import cases_with_due_dates_between
from riskplan.submissions.obligations import Obligation
from riskplan.submissions.records import last_rejections
from riskplan.submissions.sending import owed_now
from riskplan.submissions.tables import SubmissionRow


@dataclass(frozen=True)
class DueReport:
    """One report owed to one destination, as a reader of the due list sees it."""

    obligation: Obligation
    rejection: str | None  # ACK.B.r.7 of the last rejected report of the case there, if any

    @property
    def case_number(self) -> str:
        return self.obligation.case_number

    def days_left(self, today: dt.date) -> int | None:
        due = self.obligation.due
        return None if due is None else (due - today).days

    def overdue(self, today: dt.date) -> bool:
        due = self.obligation.due
        return due is not None and today > due


def due_reports(session: Session, destination: str | None = None, *, include_periodic: bool = False) -> list[DueReport]:
    """The reports owed now (soonest due first), to every destination in force or to ``destination``."""
    chosen = (
        list(destinations_in_force(session).values())
        if destination is None
        else [destination_in_force(session, destination)]
    )
    owed = owed_now(session, chosen, include_periodic=include_periodic)
    rejected = {k: r.ack_text or f"rejected ({r.ack_code})" for k, r in last_rejections(session).items()}
    return [DueReport(o, rejected.get((o.case_id, o.destination))) for o in owed]


def compliance_period(today: dt.date, months: int = 12) -> tuple[dt.date, dt.date]:
    """The default period of a compliance report: the due dates of the last ``months`` calendar months
    (this one included) up to ``today``."""
    index = today.year * 12 + today.month - 1 - (months - 1)
    return dt.date(index // 12, index % 12 + 1, 1), today


def compliance_report(
    session: Session, start: dt.date, end: dt.date, today: dt.date, *, case_ids: Collection[int] | None = None
) -> Compliance:
    """Per destination and month of due date in [start, end]: expedited reports on time, late, due soon
    (of the cases ``case_ids``, default every case)."""
    ids = None if case_ids is None else set(case_ids)
    destinations = list(destinations_in_force(session).values())
    # only the cases that can owe a report due in the period or the next 7 days (the same figures, fewer
    # ICSRs read: see due_window)
    window = (min(start, today), max(end, today + dt.timedelta(days=7)))
    owing = cases_with_due_dates_between(session, destinations, *window, case_ids=ids)
    # compliance counts only the reports due in the period or the next 7 days: the others are not kept
    owed = owed_now(session, destinations, case_ids=owing, include_periodic=True, due_between=window)
    return compliance(session, start, end, today, owed, case_ids=ids)


def state_counts(session: Session) -> dict[tuple[str, str], int]:
    """(destination, state) → number of submissions (every attempt)."""
    rows = session.execute(
        select(SubmissionRow.destination, SubmissionRow.state, func.count()).group_by(
            SubmissionRow.destination, SubmissionRow.state
        )
    )
    return dict(sorted(Counter({(d, s): int(n) for d, s, n in rows}).items()))
