"""Server-rendered pages (Jinja2 + HTMX): login, dashboard, plans, signal board, studies, audit.

Case pages are in :mod:`riskplan.web.pages_cases`. Every page needs a live browser session (signed
cookie); every POST carries the session's CSRF token (the login form a double-submit token).
"""

from __future__ import annotations

import json
import secrets
from typing import Annotated
from urllib.parse import quote

import yaml
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from riskplan.cases import concern_counts
from riskplan.errors import UserInputError
from riskplan.plan import RiskManagementPlan, plan_from_data
from riskplan.reports import next_due, report_schedule
from riskplan.store import AuditEvent
from riskplan.web import plan_ops, study_ops
from riskplan.web.api.audit import audit_events
from riskplan.web.auth import Principal
from riskplan.web.config import cdm_roots, signal_results_path
from riskplan.web.context import Unavailable, WebContext
from riskplan.web.dashboard import dashboard_summary
from riskplan.web.deps import (
    COOKIE_PURPOSE,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Ctx,
    checked_page_principal,
    cookie_principal,
    page_require,
)
from riskplan.web.roles import Permission
from riskplan.web.security import REPORT_CSP, tokens_match
from riskplan.web.signals_port import (
    CLOSED,
    NOT_AVAILABLE,
    OUTCOMES,
    STATES,
    open_signals,
    read_disproportionality,
)
from riskplan.web.templating import render

router = APIRouter(include_in_schema=False)
LOGIN_PURPOSE = "login"
User = Annotated[Principal, Depends(checked_page_principal)]


def need(permission: Permission) -> object:
    return Depends(page_require(permission))


def _safe_next(target: str | None) -> str:
    """Only paths of this site: never another origin (``//host``, ``\\host``, ``https://``)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or "\n" in target:
        return "/dashboard"
    return target


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# -- login -----------------------------------------------------------------------------------------


def _login_page(
    request: Request,
    ctx: WebContext,
    *,
    next_url: str,
    error: str | None = None,
    username: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    value = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        None,
        status_code=status_code,
        login_csrf=value,
        next=next_url,
        error=error,
        username=username,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        ctx.auth.sign(LOGIN_PURPOSE, value),
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=ctx.web.secure_transport,
        path="/login",
    )
    return response


@router.get("/login")
def login_form(request: Request, ctx: Ctx, next: Annotated[str | None, Query(max_length=2000)] = None) -> Response:
    if cookie_principal(ctx, request) is not None:
        return see_other(_safe_next(next))
    return _login_page(request, ctx, next_url=_safe_next(next))


@router.post("/login")
def login(
    request: Request,
    ctx: Ctx,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/dashboard",
) -> Response:
    expected = ctx.auth.unsign(LOGIN_PURPOSE, request.cookies.get(LOGIN_COOKIE))
    if not tokens_match(expected, csrf_token):
        raise HTTPException(403, "the login form's CSRF token is missing or wrong: reload the page and try again")
    result = ctx.auth.login(username, password, request.client.host if request.client else None)
    if result.client_locked and result.locked_until is not None:
        message = f"Too many failed logins from this address: logins are refused until {result.locked_until:%H:%M} UTC."
        return _login_page(request, ctx, next_url=_safe_next(next), error=message, username=username, status_code=423)
    if result.locked_until is not None:
        message = (
            f"Too many failed logins: the account is locked until {result.locked_until:%H:%M} UTC "
            f"({ctx.web.lockout_minutes} minutes)."
        )
        return _login_page(request, ctx, next_url=_safe_next(next), error=message, username=username, status_code=423)
    if not result.ok or result.user_id is None:
        return _login_page(
            request,
            ctx,
            next_url=_safe_next(next),
            error="Wrong user name or password.",
            username=username,
            status_code=401,
        )
    token, _ = ctx.auth.open_session(result.user_id, "browser")
    response = see_other(_safe_next(next))
    response.set_cookie(
        SESSION_COOKIE,
        ctx.auth.sign(COOKIE_PURPOSE, token),
        httponly=True,
        samesite="strict",
        secure=ctx.web.secure_transport,
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(ctx: Ctx, user: User) -> Response:
    ctx.auth.end_session(user.session_id)
    response = see_other("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- dashboard -------------------------------------------------------------------------------------


@router.get("/")
def home(_: User) -> Response:
    return see_other("/dashboard")


@router.get("/dashboard")
def dashboard(
    request: Request,
    ctx: Ctx,
    user: Annotated[Principal, need(Permission.PLAN_READ)],
    plan: Annotated[str | None, Query(max_length=80)] = None,
) -> HTMLResponse:
    name = plan or ctx.settings.default_plan
    today = ctx.today()

    def work(session: Session) -> dict[str, object]:
        rmp, version = plan_ops.plan_version(session, name)
        counts = concern_counts(session, plan_name=name)
        signals = None
        if ctx.signals is not None:
            signals = open_signals(ctx.signals.list_signals(session, plan_name=name))
        return {
            "plan": rmp,
            "plan_name": name,
            "version": version,
            "plans": [p.name for p in plan_ops.list_plans(session)],
            "concerns": [
                {"id": c.id, "title": c.title, "category": c.category.value, "count": counts.get(c.id, 0)}
                for c in rmp.safety_concerns
            ],
            "summary": dashboard_summary(session, name, today),
            "next_report": next_due(report_schedule(session, name, today)[0], today),
            "signals": signals,
            "today": today,
        }

    return render(request, "dashboard.html", user, ctx.read(work))


# -- plans -----------------------------------------------------------------------------------------


@router.get("/plans")
def plans(request: Request, ctx: Ctx, user: Annotated[Principal, need(Permission.PLAN_READ)]) -> HTMLResponse:
    return render(request, "plans.html", user, plans=ctx.read(plan_ops.list_plans))


@router.get("/plans/{name}")
def plan_page(
    request: Request,
    ctx: Ctx,
    user: Annotated[Principal, need(Permission.PLAN_READ)],
    name: str,
    version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> HTMLResponse:
    def work(session: Session) -> dict[str, object]:
        rmp, number = plan_ops.plan_version(session, name, version)
        return {
            "plan": rmp,
            "name": name,
            "version": number,
            "versions": plan_ops.versions(session, name),
            "approvals": plan_ops.approvals(session, name),
        }

    return render(request, "plan.html", user, ctx.read(work))


@router.get("/plans/{name}/diff")
def plan_diff(
    request: Request,
    ctx: Ctx,
    user: Annotated[Principal, need(Permission.PLAN_READ)],
    name: str,
    old: Annotated[str, Query(max_length=20)],
    new: Annotated[str, Query(max_length=20)],
) -> HTMLResponse:
    old_label, new_label, diff = ctx.read(lambda s: plan_ops.diff(s, name, old, new))
    return render(request, "plan_diff.html", user, name=name, old_label=old_label, new_label=new_label, diff=diff)


@router.post("/plans/{name}/versions/{version}/approve")
def approve(
    ctx: Ctx,
    user: Annotated[Principal, need(Permission.PLAN_APPROVE)],
    name: str,
    version: int,
    reason: Annotated[str | None, Form(max_length=2000)] = None,
    password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    # 21 CFR 11.200(a)(1): the approval is signed with the QPPV's own password, asked for again now
    signer = ctx.auth.signer(user.username, password)
    plan_ops.approve(ctx, name, version, reason or None, signer=signer)
    return see_other(f"/plans/{quote(name)}?done=approved")


# -- signals ---------------------------------------------------------------------------------------


@router.get("/signals")
def signal_board(
    request: Request,
    ctx: Ctx,
    user: Annotated[Principal, need(Permission.SIGNAL_READ)],
    product: Annotated[str | None, Query(max_length=300)] = None,
    flagged_only: bool = False,
) -> HTMLResponse:
    path = signal_results_path(ctx.settings, ctx.web)
    table = read_disproportionality(path, product=product or None, flagged_only=flagged_only)
    flow = ctx.signals
    signals = ctx.read(lambda s: flow.list_signals(s)) if flow is not None else None
    shown: tuple[str, ...] = ()
    if table is not None:
        wanted = ("product", "event", "N", "expected", "PRR", "ROR025", "IC025", "EBGM", "EB05")
        shown = tuple(c for c in wanted if c in table.columns) + table.flag_columns
    return render(
        request,
        "signals.html",
        user,
        signals=signals,
        states=STATES,
        outcomes=OUTCOMES,
        unavailable=NOT_AVAILABLE,
        table=table,
        shown_columns=shown,
        results_path=path,
        product=product,
        flagged_only=flagged_only,
    )


@router.post("/signals/{signal_id}/transitions")
async def move_signal(
    ctx: Ctx,
    user: Annotated[Principal, need(Permission.SIGNAL_TRANSITION)],
    signal_id: str,
    to: Annotated[str, Form(max_length=20)],
    reason: Annotated[str, Form(max_length=2000)] = "",
    outcome: Annotated[str | None, Form(max_length=40)] = None,
    plan_file: UploadFile | None = None,
    password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    if to == CLOSED and not user.can(Permission.SIGNAL_CLOSE):
        raise HTTPException(403, "only the QPPV closes signals")
    if to not in STATES:
        raise HTTPException(400, f"{to!r} is not a signal state")
    flow = ctx.signals
    if flow is None:
        raise Unavailable(NOT_AVAILABLE)
    plan = None
    if plan_file is not None and plan_file.filename:
        plan = _uploaded_plan(await plan_file.read(MAX_PLAN_BYTES + 1), plan_file.filename)
    # 21 CFR 11.200(a)(1): closing is signed with the QPPV's own password, asked for again now
    signer = await run_in_threadpool(ctx.auth.signer, user.username, password) if to == CLOSED and password else None
    await run_in_threadpool(
        ctx.write,
        lambda s: flow.transition(
            s,
            signal_id,
            to,
            who=user.username,
            role=user.role.value,
            reason=reason,
            outcome=outcome or None,
            plan=plan,
            signer=signer,
        ),
    )
    return see_other("/signals?done=moved")


MAX_PLAN_BYTES = 5 * 1024 * 1024


def _uploaded_plan(data: bytes, name: str) -> RiskManagementPlan:
    """A changed plan uploaded with a closing move (YAML or JSON, as ``riskplan plan load`` reads)."""
    if len(data) > MAX_PLAN_BYTES:
        raise HTTPException(413, "the plan file is larger than 5 MiB")
    try:
        parsed = json.loads(data) if name.lower().endswith(".json") else yaml.safe_load(data)
    except (ValueError, yaml.YAMLError) as exc:
        raise UserInputError(f"{name}: not valid YAML or JSON: {exc}") from None
    return plan_from_data(parsed, name)


# -- studies and reports ---------------------------------------------------------------------------


def _studies_page(
    request: Request, ctx: WebContext, user: Principal, *, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    name = ctx.settings.default_plan
    studies = ctx.read(lambda s: study_ops.plan_studies(s, name))
    runs = ctx.read(study_ops.list_runs)
    roots = [str(r) for r in cdm_roots(ctx.settings, ctx.web)]
    return render(
        request,
        "studies.html",
        user,
        status_code=status_code,
        plan_name=name,
        studies=studies,
        runs=runs,
        roots=roots,
        error=error,
    )


@router.get("/studies")
def studies(request: Request, ctx: Ctx, user: Annotated[Principal, need(Permission.STUDY_READ)]) -> HTMLResponse:
    return _studies_page(request, ctx, user)


@router.post("/studies/{study_id}/runs")
async def run_study(
    request: Request,
    ctx: Ctx,
    user: Annotated[Principal, need(Permission.STUDY_RUN)],
    study_id: str,
    cdm: Annotated[str, Form(max_length=1000)],
    pdf: Annotated[bool, Form()] = False,
) -> Response:
    await run_in_threadpool(study_ops.run_study, ctx, study_id, cdm, who=user.username, pdf=pdf)
    return see_other("/studies?done=run")


@router.get("/reports")
def reports(request: Request, ctx: Ctx, user: Annotated[Principal, need(Permission.STUDY_READ)]) -> Response:
    return see_other("/studies")


@router.get("/reports/{run_id}/{fmt}")
def report_download(ctx: Ctx, _: Annotated[Principal, need(Permission.STUDY_READ)], run_id: int, fmt: str) -> Response:
    if fmt not in study_ops.MEDIA_TYPES:
        raise HTTPException(404, f"no {fmt!r} report: html, pdf or json")
    file = ctx.read(lambda s: study_ops.report_file(s, run_id, fmt))
    headers = {"Content-Disposition": f'attachment; filename="{file.file_name}"'}
    if fmt == "html":
        headers["Content-Security-Policy"] = REPORT_CSP
    return Response(file.content, media_type=file.media_type, headers=headers)


# -- audit -----------------------------------------------------------------------------------------

AUDIT_PAGE = 200


@router.get("/audit")
def audit(
    request: Request,
    ctx: Ctx,
    user: Annotated[Principal, need(Permission.AUDIT_READ)],
    entity_type: Annotated[str | None, Query(max_length=50)] = None,
    entity_id: Annotated[str | None, Query(max_length=200)] = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> HTMLResponse:
    def work(session: Session) -> dict[str, object]:
        return {
            "events": audit_events(
                session,
                entity_type=entity_type or None,
                entity_id=entity_id or None,
                limit=AUDIT_PAGE,
                before_id=before_id,
            ),
            "entity_types": sorted(session.scalars(select(AuditEvent.entity_type).distinct())),
        }

    return render(
        request, "audit.html", user, ctx.read(work), entity_type=entity_type, entity_id=entity_id, limit=AUDIT_PAGE
    )
