"""Case pages: list, intake form (HTMX, field-level messages), case view with versions, assessment
and audit trail, follow-up, E2B(R3) import and export."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from riskplan.cases import (
    DEFAULT_CAUSALITY_SOURCE,
    NARANJO_QUESTIONS,
    CaseFilters,
    CaseSort,
    CaseState,
    CodingNotFound,
    HandCoded,
    Outcome,
    ReportType,
    WhoUmc,
    case_view,
    check_causality_request,
    code_by_hand,
    current_narrative,
    get_case,
    narrative_languages,
    narrative_revisions,
    suspect_pairs,
    uncoded_reactions,
)
from riskplan.cases import case_page as case_list_page
from riskplan.errors import NotFoundError, UserInputError
from riskplan.web import case_ops
from riskplan.web.auth import Principal
from riskplan.web.context import WebContext
from riskplan.web.deps import Ctx, page_require
from riskplan.web.forms import FollowUpForm, form_errors, form_values
from riskplan.web.roles import Permission
from riskplan.web.templating import render

router = APIRouter(include_in_schema=False)
LIST_LIMIT = 500
CASE_PAGE = 100


def need(permission: Permission) -> Any:
    return Depends(page_require(permission))


def _choices(enum: Any) -> list[tuple[str, str]]:
    return [(m.value, m.label) for m in enum]


FORM_CHOICES: dict[str, Any] = {"outcomes": _choices(Outcome)}  # the follow-up form


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/cases")
def cases(
    request: Request,
    ctx: Ctx,
    user: Annotated[Principal, need(Permission.CASE_READ)],
    plan: Annotated[str | None, Query(max_length=80)] = None,
    concern: Annotated[str | None, Query(max_length=80)] = None,
    state: Annotated[CaseState | None, Query()] = None,
    due_within: Annotated[int | None, Query(ge=0, le=3650)] = None,
    serious: bool | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    filters = CaseFilters(
        serious=serious,
        plan_name=plan or None,
        concern=concern or None,
        states=(state,) if state else (),
        due_within=due_within,
    )
    sort = CaseSort.DUE if state or due_within is not None else CaseSort.ID
    offset = (page - 1) * CASE_PAGE
    found = ctx.read(lambda s: case_list_page(s, filters, as_of=ctx.today(), sort=sort, limit=CASE_PAGE, offset=offset))
    given = {
        "plan": plan,
        "concern": concern,
        "state": state.value if state else None,
        "due_within": due_within,
        "serious": None if serious is None else str(serious).lower(),
    }
    query = {k: v for k, v in given.items() if v is not None and v != ""}
    return render(
        request,
        "cases.html",
        user,
        cases=found.lines,
        found=found,
        page_number=page,
        query="&".join(f"{k}={quote(str(v))}" for k, v in query.items()),
        concern=concern,
        state=state,
        due_within=due_within,
        serious=serious,
    )


# -- intake ----------------------------------------------------------------------------------------


@router.get("/cases/new")
def retired_case_form(_: Annotated[Principal, need(Permission.CASE_WRITE)]) -> RedirectResponse:
    """The one-reaction, one-drug form is retired: the intake of complete cases is ``/intake/new``."""
    return see_other("/intake/new")


# -- one case --------------------------------------------------------------------------------------


def _case_context(ctx: WebContext, user: Principal, ref: str, version: int | None) -> dict[str, Any]:
    def work(session: Session) -> dict[str, Any]:
        view = case_view(session, ref, version, with_audit=user.can(Permission.CASE_HISTORY))
        icsr = get_case(session, ref, version).icsr
        latest = icsr if view.header.version == view.header.latest_version else get_case(session, ref).icsr
        return {
            "view": view,
            "icsr_json": icsr.model_dump_json(indent=2, exclude_defaults=True),
            "pairs": suspect_pairs(latest),  # assessed on the latest version only
            "who_umc": [(c.value, c.label) for c in WhoUmc],
            "naranjo": NARANJO_QUESTIONS,
            "default_source": DEFAULT_CAUSALITY_SOURCE,
            "narratives": [(lang, current_narrative(session, ref, lang)) for lang in narrative_languages(session, ref)],
            "narrative_history": narrative_revisions(session, ref),  # as `riskplan case narrative --history`
            "study_case": icsr.report_type is ReportType.STUDY or icsr.study is not None,
        }

    return ctx.read(work)


# -- the coding queue: reactions no term was chosen for (MTS:PTC) ----------------------------------


def _coding_page(
    request: Request, ctx: Ctx, user: Principal, *, status_code: int = 200, problem: dict[str, Any] | None = None
) -> HTMLResponse:
    rows = ctx.read(lambda s: uncoded_reactions(s, LIST_LIMIT + 1))
    return render(
        request,
        "coding.html",
        user,
        status_code=status_code,
        reactions=rows[:LIST_LIMIT],
        more=len(rows) > LIST_LIMIT,
        problem=problem,
    )


@router.get("/coding")
def coding_queue(request: Request, ctx: Ctx, user: Annotated[Principal, need(Permission.CASE_WRITE)]) -> HTMLResponse:
    return _coding_page(request, ctx, user)


@router.post("/coding")
def code_reaction(
    request: Request,
    ctx: Ctx,
    user: Annotated[Principal, need(Permission.CASE_WRITE)],
    case: Annotated[str, Form(min_length=1, max_length=200)],
    reaction: Annotated[int, Form(ge=1, le=100_000)],
    term: Annotated[str, Form(min_length=1, max_length=250)],
    level: Annotated[str, Form(pattern="^(llt|pt)$")] = "pt",
    reason: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    def work(session: Session) -> HandCoded:
        return code_by_hand(session, case, reaction, term=term, level=level, who=user.username, reason=reason or None)

    try:
        ctx.write(work)
    except CodingNotFound as exc:
        problem = {"case": case, "reaction": reaction, "message": str(exc), "suggestions": exc.suggestions}
        return _coding_page(request, ctx, user, status_code=422, problem=problem)
    except NotFoundError:
        raise
    except UserInputError as exc:
        problem = {"case": case, "reaction": reaction, "message": str(exc), "suggestions": []}
        return _coding_page(request, ctx, user, status_code=422, problem=problem)
    return see_other(f"/coding?done=coded&case={quote(case)}")


@router.get("/cases/import")
def import_form(request: Request, user: Annotated[Principal, need(Permission.CASE_WRITE)]) -> HTMLResponse:
    return render(request, "case_import.html", user, result=None)


@router.post("/cases/import")
async def import_file(
    request: Request,
    ctx: Ctx,
    user: Annotated[Principal, need(Permission.CASE_WRITE)],
    file: UploadFile,
    skip_invalid: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    limit = ctx.web.max_upload_mib * 1024 * 1024
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"the file is larger than {ctx.web.max_upload_mib} MiB")
    result = await run_in_threadpool(
        case_ops.import_batch,
        ctx,
        data,
        file_name=(file.filename or "upload.xml")[:200],
        who=user.username,
        skip_invalid=skip_invalid,
    )
    return render(request, "case_import.html", user, status_code=201, result=result)


@router.post("/cases/export")
def export(
    ctx: Ctx,
    user: Annotated[Principal, need(Permission.CASE_EXPORT)],
    case: Annotated[list[str] | None, Form(max_length=1000)] = None,
) -> Response:
    refs = [c for c in (case or []) if c.strip()]
    result = case_ops.export_batch(ctx, refs or None, who=user.username)
    return Response(
        result.data,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{result.file_name}"'},
    )


@router.get("/cases/{ref}")
def case_page(
    request: Request,
    ctx: Ctx,
    user: Annotated[Principal, need(Permission.CASE_READ)],
    ref: str,
    version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> HTMLResponse:
    return render(request, "case.html", user, _case_context(ctx, user, ref, version))


@router.get("/cases/{ref}/follow-up")
def follow_up_form(
    request: Request, ctx: Ctx, user: Annotated[Principal, need(Permission.CASE_WRITE)], ref: str
) -> HTMLResponse:
    case = ctx.read(lambda s: get_case(s, ref))
    values = {"most_recent_info": ctx.today().isoformat(), "narrative": case.icsr.narrative or ""}
    return render(request, "follow_up.html", user, case=case, values=values, errors={}, **FORM_CHOICES)


@router.post("/cases/{ref}/follow-up")
async def follow_up(
    request: Request, ctx: Ctx, user: Annotated[Principal, need(Permission.CASE_WRITE)], ref: str
) -> Response:
    form = await request.form()
    values = form_values([(k, v) for k, v in form.multi_items() if isinstance(v, str) and k != "csrf_token"])
    case = await run_in_threadpool(ctx.read, lambda s: get_case(s, ref))
    try:
        parsed = FollowUpForm.model_validate(values)
        icsr = parsed.apply(case.icsr)
    except ValidationError as exc:
        return render(
            request,
            "follow_up.html",
            user,
            status_code=422,
            case=case,
            values=values,
            errors=form_errors(exc),
            **FORM_CHOICES,
        )
    entered = await run_in_threadpool(
        case_ops.follow_up, ctx, ref, icsr, who=user.username, reason=parsed.reason or "follow-up information"
    )
    done = "unchanged" if entered.outcome.status == "unchanged" else "follow-up"
    return see_other(f"/cases/{entered.outcome.case_number}?done={done}")


def _pair_numbers(pair: str) -> tuple[int | None, int | None]:
    """``"2:3"`` (drug 2, reaction 3) from the form's pair choice; nothing chosen: (None, None)."""
    if not pair:
        return None, None
    drug, _, reaction = pair.partition(":")
    if not (drug.isdigit() and reaction.isdigit()):
        raise UserInputError(f"pair {pair!r}: choose a drug and reaction from the list")
    return int(drug), int(reaction)


@router.post("/cases/{ref}/assessments")
def assess(
    ctx: Ctx,
    user: Annotated[Principal, need(Permission.CASE_ASSESS)],
    ref: str,
    pair: Annotated[str, Form(max_length=40)] = "",
    method: Annotated[str, Form(max_length=40)] = "",
    result: Annotated[str, Form(max_length=60)] = "",
    causality: Annotated[str, Form(max_length=60)] = "",  # the case-level form's name for a WHO-UMC result
    answers: Annotated[list[str] | None, Form()] = None,
    source: Annotated[str, Form(max_length=200)] = "",
    comment: Annotated[str | None, Form(max_length=5000)] = None,
    password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Causality of one suspect drug against one reaction (E2B(R3) G.k.9.i.2.r), by WHO-UMC or Naranjo
    (``answers``: the ten answers in question order)."""
    drug, reaction = _pair_numbers(pair)
    given = [a for a in answers or [] if a]
    request = check_causality_request(method or None, result or causality or None, given or None, source or None)
    # 21 CFR 11.200(a)(1): the assessment is signed with its author's own password, asked for again now
    signer = ctx.auth.signer(user.username, password)
    case_ops.assess_pair(ctx, ref, drug, reaction, request, comment or None, signer=signer)
    return see_other(f"/cases/{quote(ref)}?done=assessed")


@router.post("/cases/{ref}/links")
def link(
    ctx: Ctx,
    user: Annotated[Principal, need(Permission.CASE_LINK)],
    ref: str,
    other: Annotated[str, Form(min_length=1, max_length=200)],
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    case_ops.link_duplicate(ctx, ref, other, reason, who=user.username)
    return see_other(f"/cases/{quote(ref)}?done=linked")
