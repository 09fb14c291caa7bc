"""The complete-case intake pages: the form with its repeatable rows (HTMX), drafts, duplicate candidates.

``/intake/new`` starts a case; ``/intake/drafts`` lists the user's drafts and ``/intake/drafts/<D…>``
reopens one. Every button posts the whole form: add or remove a row, save the draft, or check and
store the case. A problem is shown next to the field it is about, with the values kept; a case that
may already be stored shows its candidates (ids and reasons) before anything is stored.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from riskplan.cases import Draft, EntryCheck, FormValues, IntakeCandidate, Problem, check_entry, get_draft, list_drafts
from riskplan.errors import UserInputError
from riskplan.plan import current_plan
from riskplan.web import intake_ops
from riskplan.web.auth import Principal
from riskplan.web.context import Conflict
from riskplan.web.deps import Ctx, page_require
from riskplan.web.intake_form import (
    MAX_ROWS,
    SECTIONS,
    case_data,
    change_rows,
    field_labels,
    form_values,
    new_form,
    place,
    reaction_choices,
    row_count,
)
from riskplan.web.roles import Permission
from riskplan.web.templating import render

router = APIRouter(include_in_schema=False)
Writer = Annotated[Principal, Depends(page_require(Permission.CASE_WRITE))]
FLASH = {
    "draft": "Draft saved. It is not a case yet: it is not counted anywhere until it is stored.",
    "discarded": "Draft discarded (kept in the audit trail).",
}


def _hx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _go(request: Request, url: str) -> Response:
    if _hx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


#: Fields the form fills in from another when left blank: a problem with the value is shown at its source only.
DERIVED = {"most_recent_info": "first_received", "sender_report_id": "worldwide_case_id"}


def _grouped(
    problems: list[Problem], rows: dict[str, list[int]], shown: dict[str, str], values: FormValues
) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for p in problems:
        if p.path in DERIVED and not str(values.get(p.path) or "").strip():
            continue
        messages = grouped.setdefault(place(p.path, rows, shown), [])
        if p.message not in messages:
            messages.append(p.message)
    order = {name: i for i, name in enumerate(shown)}  # listed in the order of the form
    return dict(sorted(grouped.items(), key=lambda item: order.get(item[0], -1)))


def _page(
    request: Request,
    user: Principal,
    values: FormValues,
    *,
    draft: Draft | None,
    status_code: int = 200,
    errors: dict[str, list[str]] | None = None,
    notes: dict[str, list[str]] | None = None,
    candidates: list[IntakeCandidate] | None = None,
    flash: str | None = None,
) -> HTMLResponse:
    """The form (the whole page, or only the form for HTMX, which swaps 2xx answers only)."""
    htmx = _hx(request)
    extra: dict[str, Any] = {"flash": flash} if flash else {}
    return render(
        request,
        "intake/_form.html" if htmx else "intake/new.html",
        user,
        status_code=200 if htmx else status_code,
        values=values,
        errors=errors or {},
        notes=notes or {},
        candidates=candidates or [],
        draft=draft,
        action=f"/intake/drafts/{draft.number}" if draft else "/intake/new",
        sections=SECTIONS,
        counts={s.key: row_count(values, s) for s in SECTIONS if s.repeat},
        reaction_choices=reaction_choices(values),
        labels=field_labels(values),
        max_rows=MAX_ROWS,
        **extra,
    )


@router.get("/intake/new")
def new_form_page(request: Request, ctx: Ctx, user: Writer) -> HTMLResponse:
    product = ctx.read(lambda s: current_plan(s, ctx.settings.default_plan)).plan.product  # the plan in force
    values = new_form(
        first_received=ctx.today().isoformat(),
        **{"drugs.0.name": product.name, "drugs.0.substances.0.name": product.active_substance or ""},
    )
    return _page(request, user, values, draft=None)


@router.get("/intake/drafts")
def drafts_page(request: Request, ctx: Ctx, user: Writer) -> HTMLResponse:
    drafts = ctx.read(lambda s: list_drafts(s, who=user.username))
    return render(request, "intake/drafts.html", user, drafts=drafts)


@router.get("/intake/drafts/{ref}")
def draft_page(request: Request, ctx: Ctx, user: Writer, ref: str) -> Response:
    draft = ctx.read(lambda s: get_draft(s, ref))
    if not draft.is_open:
        return render(request, "intake/closed.html", user, draft=draft)
    flash = FLASH.get(request.query_params.get("done", ""))
    return _page(request, user, dict(draft.values), draft=draft, flash=flash)


@router.post("/intake/drafts/{ref}/discard")
def discard(
    request: Request,
    ctx: Ctx,
    user: Writer,
    ref: str,
    reason: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    intake_ops.discard(ctx, ref, who=user.username, reason=reason or None)
    return _go(request, "/intake/drafts?done=discarded")


@router.post("/intake/new")
async def post_new(request: Request, ctx: Ctx, user: Writer) -> Response:
    return await _handle(request, ctx, user, None)


@router.post("/intake/drafts/{ref}")
async def post_draft(request: Request, ctx: Ctx, user: Writer, ref: str) -> Response:
    draft = await run_in_threadpool(ctx.read, lambda s: get_draft(s, ref))
    if not draft.is_open:
        made = f": it is case {draft.case_number}" if draft.case_number else ""
        raise UserInputError(f"draft {draft.number} was {draft.status}{made}; it cannot be changed")
    return await _handle(request, ctx, user, draft)


async def _handle(request: Request, ctx: Ctx, user: Principal, draft: Draft | None) -> Response:
    form = await request.form()
    items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    values = form_values(items)
    action = str(form.get("action") or "submit")
    reviewed = [n for n in str(form.get("dup_ack") or "").split(",") if n]
    if action.startswith(("add:", "remove:")):
        return _page(request, user, change_rows(values, action), draft=draft)
    ref = draft.number if draft else None
    if action == "save-draft":
        saved = await run_in_threadpool(intake_ops.save, ctx, values, who=user.username, ref=ref)
        return _go(request, f"/intake/drafts/{saved.number}?done=draft")
    built = case_data(values, created=ctx.now(), sender_organisation=ctx.settings.e2b_sender_id)
    check: EntryCheck = check_entry(built.data, today=ctx.today())
    shown = field_labels(values)
    notes = _grouped(check.to_complete, built.rows, shown, values)
    blocking = built.problems + check.refusals + check.missing
    if blocking or check.icsr is None:
        errors = _grouped(blocking, built.rows, shown, values)
        return _page(request, user, values, draft=draft, status_code=422, errors=errors, notes=notes)
    try:
        result = await run_in_threadpool(
            intake_ops.store,
            ctx,
            check.icsr,
            who=user.username,
            draft=ref,
            values=values,
            reviewed=reviewed if action == "store-anyway" else (),
        )
    except Conflict as exc:
        errors = {"worldwide_case_id": [str(exc)]}
        return _page(request, user, values, draft=draft, status_code=409, errors=errors, notes=notes)
    if isinstance(result, intake_ops.Candidates):
        return _page(request, user, values, draft=draft, status_code=409, notes=notes, candidates=result.found)
    return _go(request, f"/cases/{result.outcome.case_number}?done=created")
