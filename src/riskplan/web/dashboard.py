"""The dashboard's summary: counts only, each a link to the paged list behind it.

Cases of the plan (all, serious, not valid: :mod:`riskplan.cases.worklist`), the reports owed for them
now (overdue, due in the next 7 days, later: :func:`riskplan.submissions.due_reports`) and the work queues
(:mod:`riskplan.submissions.queues`). One screen, whatever the number of cases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from riskplan.cases import CaseFilters, CaseState, case_ids_of_plan, case_page
from riskplan.submissions import Queue, due_reports, queue_counts

SOON_DAYS = 7  # "due in the next 7 days", as the compliance page


@dataclass(frozen=True)
class DashboardSummary:
    total_cases: int
    serious: int
    invalid: int  # not valid (GVP VI.B.2): no reporting clock runs
    cases_owing: int  # cases with a report owed to at least one destination
    reports_overdue: int
    reports_due_soon: int  # due today or within SOON_DAYS
    reports_later: int
    queues: dict[Queue, int]


def dashboard_summary(session: Session, plan_name: str, today: dt.date) -> DashboardSummary:
    """The counts of the dashboard for the cases of plan ``plan_name`` (the queues: of every case).

    Whether a report is owed comes from the submissions' obligations and records, the one truth of what
    was sent (not a case-level state).
    """

    def count(**filters: object) -> int:
        return case_page(session, CaseFilters(plan_name=plan_name, **filters), as_of=today, limit=1).total  # type: ignore[arg-type]

    ids = case_ids_of_plan(session, plan_name)
    reports = due_reports(session)  # computed once: the reports owed and the submit / returned queues
    owed = [r.obligation for r in reports if r.obligation.case_id in ids]
    dues = [o.due for o in owed]
    overdue = sum(1 for d in dues if d is not None and d < today)
    due_soon = sum(1 for d in dues if d is not None and today <= d <= today + dt.timedelta(days=SOON_DAYS))
    return DashboardSummary(
        total_cases=count(),
        serious=count(serious=True),
        invalid=count(states=(CaseState.INVALID,)),
        cases_owing=len({o.case_id for o in owed}),
        reports_overdue=overdue,
        reports_due_soon=due_soon,
        reports_later=len(owed) - overdue - due_soon,
        queues=queue_counts(session, owed=reports),
    )
