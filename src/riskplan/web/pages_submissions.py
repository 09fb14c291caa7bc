"""Submission pages: the submissions with their states and ACK error text, and reporting compliance
(per destination and month: share on time, late ones with days late and reason, due in the next 7 days).

The pages show what :mod:`riskplan.submissions` computes (:func:`~riskplan.submissions.list_submissions`,
:func:`~riskplan.submissions.compliance_report`, :func:`~riskplan.submissions.due_reports`); no rule here.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse

from riskplan.submissions import (
    STATES,
    LateReport,
    compliance_period,
    compliance_report,
    due_reports,
    list_submissions,
    state_counts,
)
from riskplan.web.api.submissions import day
from riskplan.web.auth import Principal
from riskplan.web.deps import Ctx, page_require
from riskplan.web.roles import Permission
from riskplan.web.templating import render

router = APIRouter(include_in_schema=False)
LIST_LIMIT = 1000


def need(permission: Permission) -> Any:
    return Depends(page_require(permission))


@router.get("/submissions")
def submissions_page(
    request: Request,
    ctx: Ctx,
    user: Annotated[Principal, need(Permission.SUBMISSION_READ)],
    state: Annotated[str | None, Query(max_length=20)] = None,
    destination: Annotated[str | None, Query(max_length=30)] = None,
) -> HTMLResponse:
    today = ctx.today()
    wanted = state or None

    def work(session: Session) -> dict[str, object]:
        rows = list_submissions(session, states=[wanted] if wanted else (), destination=destination or None)
        counts = state_counts(session)
        return {
            "submissions": list(reversed(rows))[:LIST_LIMIT],
            "total": len(rows),
            "limit": LIST_LIMIT,
            "counts": counts,
            "destinations": sorted({d for d, _ in counts}),
            "states": STATES,
            "state": wanted,
            "destination": destination,
            "owed": due_reports(session),
            "today": today,
        }

    return render(request, "submissions.html", user, ctx.read(work))


@router.get("/submissions/compliance")
def compliance_page(
    request: Request,
    ctx: Ctx,
    user: Annotated[Principal, need(Permission.SUBMISSION_READ)],
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
) -> HTMLResponse:
    today = ctx.today()
    first, last = compliance_period(today)
    first, last = day(start, "from", first), day(end, "to", last)
    report = ctx.read(lambda s: compliance_report(s, first, last, today))
    soon = [
        {
            "case": x.case if isinstance(x, LateReport) else x.case_number,
            "version": x.version,
            "destination": x.destination,
            "due": x.due,
            "days_left": (x.due - today).days if x.due else None,
        }
        for x in report.due_soon
    ]
    return render(request, "compliance.html", user, report=report, due_soon=soon, start=first, end=last)
