"""The Reports page: the stored periodic reports (PSUR / PBRER, DSUR, PADER), their schedule, producing each kind
and downloading the stored bytes.

Reports are made by the reports folder's use cases (:func:`riskplan.reports.generate_report`, the ones
``riskplan report psur|dsur|pader`` store) and served from the store, so a download is the very document whose
SHA-256 was recorded. Producing and reading them is for the QPPV and safety physicians (GVP Module VII, ICH E2F:
:data:`~riskplan.web.roles.Permission.PSUR`). The older ``/psur`` page (files in the output folder) stays.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from riskplan.errors import NotFoundError, UserInputError
from riskplan.reports import KINDS, TITLES, generate_report, get_report, list_reports, report_bytes, report_schedule
from riskplan.web import plan_ops
from riskplan.web.auth import Principal
from riskplan.web.deps import Ctx, page_require
from riskplan.web.forms import form_date
from riskplan.web.roles import Permission
from riskplan.web.security import REPORT_CSP
from riskplan.web.templating import render

router = APIRouter(include_in_schema=False)
_MEDIA = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


def need(permission: Permission) -> Any:
    return Depends(page_require(permission))


def _page(
    request: Request,
    ctx: Ctx,
    user: Principal,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    today = ctx.today()
    plan = (values or {}).get("plan") or ctx.settings.default_plan

    def work(session: Session) -> dict[str, object]:
        plans = [p.name for p in plan_ops.list_plans(session)] or [ctx.settings.default_plan]
        try:
            schedule, notes = report_schedule(session, plan if plan in plans else plans[0], today)
        except UserInputError as exc:
            schedule, notes = [], [str(exc)]
        return {"plans": plans, "reports": list_reports(session), "schedule": schedule, "notes": notes}

    defaults = {
        "kind": "psur",
        "start": dt.date(today.year - 1, today.month, 1).isoformat(),
        "end": today.isoformat(),
        "plan": ctx.settings.default_plan,
        "pdf": "true",
    }
    return render(
        request,
        "periodic_reports.html",
        user,
        ctx.read(work),
        status_code=status_code,
        values=values or defaults,
        errors=errors or {},
        kinds=TITLES,
        today=today,
    )


@router.get("/periodic-reports")
def reports_page(request: Request, ctx: Ctx, user: Annotated[Principal, need(Permission.PSUR)]) -> HTMLResponse:
    return _page(request, ctx, user)


@router.post("/periodic-reports")
async def produce_report(
    request: Request,
    ctx: Ctx,
    user: Annotated[Principal, need(Permission.PSUR)],
    kind: Annotated[str, Form(max_length=10)] = "",
    start: Annotated[str, Form(max_length=20)] = "",
    end: Annotated[str, Form(max_length=20)] = "",
    plan: Annotated[str, Form(max_length=80)] = "",
    pdf: Annotated[bool, Form()] = False,
) -> Response:
    values = {"kind": kind, "start": start, "end": end, "plan": plan, "pdf": "true" if pdf else ""}
    errors: dict[str, str] = {}
    if kind not in KINDS:
        errors["kind"] = f"choose one of {', '.join(KINDS)}"
    first, last = form_date(start, "start", errors), form_date(end, "end", errors)
    plans = [p.name for p in ctx.read(plan_ops.list_plans)] or [ctx.settings.default_plan]
    if plan not in plans:
        errors["plan"] = f"no plan {plan!r}; the plans: {', '.join(plans)}"
    if first and last and last < first:
        errors["end"] = f"the data lock point ({last}) is before the start of the interval ({first})"
    if first and last and last > ctx.today():
        errors["end"] = f"the data lock point ({last}) is after today ({ctx.today()})"
    if errors or first is None or last is None:
        return _page(request, ctx, user, values=values, errors=errors, status_code=422)
    try:
        stored = await run_in_threadpool(
            generate_report, ctx.engine, kind, plan, first, last, who=user.username, pdf=pdf
        )
    except UserInputError as exc:
        return _page(request, ctx, user, values=values, errors={"kind": str(exc)}, status_code=422)
    return RedirectResponse(f"/periodic-reports?done=report#report-{stored.id}", status_code=303)


@router.get("/periodic-reports/{report_id}.{fmt}")
def report_file(
    ctx: Ctx,
    _: Annotated[Principal, need(Permission.PSUR)],
    report_id: int,
    fmt: str,
    download: bool = False,
) -> Response:
    if fmt not in _MEDIA:
        raise HTTPException(404, f"no format {fmt!r}: reports are served as .html or .pdf")

    def work(session: Session) -> tuple[str, bytes]:
        stored = get_report(session, report_id)
        return stored.stem, report_bytes(session, report_id, fmt)

    try:
        stem, content = ctx.read(work)
    except (NotFoundError, UserInputError) as exc:
        raise HTTPException(404, str(exc)) from None
    name = f"{stem}.{fmt}"
    disposition = "attachment" if download or fmt != "html" else "inline"
    headers = {"Content-Disposition": f'{disposition}; filename="{name}"', "Content-Security-Policy": REPORT_CSP}
    return Response(content, media_type=_MEDIA[fmt], headers=headers)
