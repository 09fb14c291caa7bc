"""Work pages: "My work" (the queues of the user's role, paged), assigning a case to a user.

The queues are :mod:`riskplan.submissions.queues` (the same as ``riskplan case queue``); which a role
works from is :data:`ROLE_QUEUES`. Assigning is :func:`riskplan.cases.assignment.assign_case` (audited).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from riskplan.cases import UnknownAssignee, assign_case, assignable_users, assignee_of, get_case
from riskplan.submissions import Queue, queue_counts, work_queue
from riskplan.web.auth import Principal
from riskplan.web.deps import Ctx, page_require
from riskplan.web.roles import Permission, Role
from riskplan.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE = 50

#: The queues each role works from, first the one it sees first.
ROLE_QUEUES: dict[Role, tuple[Queue, ...]] = {
    Role.CASE_PROCESSOR: (Queue.CODE, Queue.SUBMIT, Queue.RETURNED),
    Role.SAFETY_PHYSICIAN: (Queue.ASSESS, Queue.CODE),
    Role.QPPV: (Queue.ASSESS, Queue.SUBMIT, Queue.RETURNED, Queue.CODE),
    Role.EPIDEMIOLOGIST: (),
    Role.AUDITOR: (Queue.CODE, Queue.ASSESS, Queue.SUBMIT, Queue.RETURNED),
}


def need(permission: Permission) -> Any:
    return Depends(page_require(permission))


def queues_of(user: Principal) -> tuple[Queue, ...]:
    return ROLE_QUEUES[user.role]


@router.get("/work")
def my_work(
    request: Request,
    ctx: Ctx,
    user: Annotated[Principal, need(Permission.CASE_READ)],
    queue: Annotated[Queue | None, Query()] = None,
    mine: bool = False,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    queues = queues_of(user)
    chosen = queue if queue is not None else (queues[0] if queues else None)
    assignee = user.username if mine else None

    def work(session: Session) -> dict[str, Any]:
        counts = queue_counts(session, assignee=assignee)
        shown = work_queue(session, chosen, assignee=assignee, limit=PAGE, offset=(page - 1) * PAGE) if chosen else None
        return {"counts": counts, "page": shown}

    return render(
        request,
        "work.html",
        user,
        ctx.read(work),
        queues=queues,
        others=[q for q in Queue if q not in queues],
        chosen=chosen,
        mine=mine,
        page_number=page,
        today=ctx.today(),
    )


# -- assignment ------------------------------------------------------------------------------------


def _assignment_page(
    request: Request,
    ctx: Ctx,
    user: Principal,
    ref: str,
    *,
    error: str | None = None,
    chosen: str | None = None,
    status_code: int = 200,
    done: bool = False,
) -> HTMLResponse:
    def work(session: Session) -> dict[str, Any]:
        case = get_case(session, ref)
        return {
            "case_number": case.case_number,
            "worldwide_id": case.worldwide_id,
            "assigned_to": assignee_of(session, case.case_number),
            "users": assignable_users(session),
        }

    data = ctx.read(work)
    htmx = request.headers.get("HX-Request") == "true"
    return render(
        request,
        "_assign.html" if htmx else "case_assign.html",
        user,
        data,
        status_code=200 if htmx else status_code,  # HTMX swaps 2xx answers only
        error=error,
        chosen=data["assigned_to"] if chosen is None else chosen,
        done=done,
    )


@router.get("/cases/{ref}/assignment")
def assignment_form(
    request: Request, ctx: Ctx, user: Annotated[Principal, need(Permission.CASE_READ)], ref: str
) -> HTMLResponse:
    return _assignment_page(request, ctx, user, ref)


@router.post("/cases/{ref}/assignment")
async def assign(
    request: Request,
    ctx: Ctx,
    user: Annotated[Principal, need(Permission.CASE_WRITE)],
    ref: str,
    to: Annotated[str, Form(max_length=100)] = "",
    reason: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    try:
        done = await run_in_threadpool(
            ctx.write, lambda s: assign_case(s, ref, to or None, who=user.username, reason=reason or None)
        )
    except UnknownAssignee as exc:
        return _assignment_page(request, ctx, user, ref, error=str(exc), chosen=to, status_code=422)
    if request.headers.get("HX-Request") == "true":
        return _assignment_page(request, ctx, user, ref, done=True)
    return RedirectResponse(f"/cases/{quote(done.case_number)}?done=assigned", status_code=303)
