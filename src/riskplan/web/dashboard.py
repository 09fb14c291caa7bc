"""The dashboard's summary: counts only, each a link to the paged list behind it.

Cases of the plan by state (:mod:`riskplan.cases.worklist`), the reports owed for them now (overdue,
due in the next 7 days, later: :func:`riskplan.submissions.due_reports`) and the work queues
(:mod:`riskplan.submissions.queues`). One screen, whatever the number of cases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from riskplan.cases.reads import case_ids_of_plan
from riskplan.cases.worklist import CaseFilters, CaseState, case_page
from riskplan.submissions import due_reports
from riskplan.submissions.queues import Queue, queue_counts

SOON_DAYS = 7  # "due in the next 7 days", as the compliance page


@dataclass(frozen=True)
class DashboardSummary:
    total_cases: int
    by_state: dict[CaseState, int]
    cases_due_soon: int  # open cases whose due date is within SOON_DAYS (overdue ones not included)
    reports_overdue: int
    reports_due_soon: int
    reports_later: int
    queues: dict[Queue, int]


def dashboard_summary(session: Session, plan_name: str, today: dt.date) -> DashboardSummary:
    by_state = {
        state: case_page(session, CaseFilters(plan_name=plan_name, states=(state,)), as_of=today, limit=1).total
        for state in CaseState
    }
    soon = case_page(
        session, CaseFilters(plan_name=plan_name, states=(CaseState.OPEN,), due_within=SOON_DAYS), as_of=today, limit=1
    ).total
    ids = case_ids_of_plan(session, plan_name)
    owed = [r.obligation.due for r in due_reports(session) if r.obligation.case_id in ids]
    overdue = sum(1 for d in owed if d is not None and d < today)
    due_soon = sum(1 for d in owed if d is not None and today <= d <= today + dt.timedelta(days=SOON_DAYS))
    return DashboardSummary(
        total_cases=sum(by_state.values()),
        by_state=by_state,
        cases_due_soon=soon,
        reports_overdue=overdue,
        reports_due_soon=due_soon,
        reports_later=len(owed) - overdue - due_soon,
        queues=queue_counts(session),
    )
