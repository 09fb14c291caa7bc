"""The case page's documents: the case narrative (H.1) drafted, edited (audited) and extended by follow-ups,
and the CIOMS I form of any case version as a PDF download (blinded for study cases)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from riskplan.cases import draft_case_narratives, edit_case_narrative, narrative_languages
from riskplan.reports import case_cioms_form, render_cioms_pdf
from riskplan.web.auth import Principal
from riskplan.web.deps import Ctx, page_require
from riskplan.web.roles import Permission

router = APIRouter(include_in_schema=False)


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.post("/cases/{ref}/narrative/draft")
def draft(ctx: Ctx, user: Annotated[Principal, Depends(page_require(Permission.CASE_WRITE))], ref: str) -> Response:
    """Draft the narrative in the plan's languages, or append the follow-up paragraph (never a rewrite)."""
    languages = ctx.read(lambda s: narrative_languages(s, ref))
    ctx.write(lambda s: draft_case_narratives(s, ref, languages=languages, who=user.username))
    return _see_other(f"/cases/{quote(ref)}?done=narrative#narrative")


@router.post("/cases/{ref}/narrative")
def edit(
    ctx: Ctx,
    user: Annotated[Principal, Depends(page_require(Permission.CASE_WRITE))],
    ref: str,
    text: Annotated[str, Form(min_length=1, max_length=100_000)],
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
    language: Annotated[str, Form(max_length=8)] = "en",
) -> Response:
    """The processor's edit of the narrative in ``language``, audited with the reason."""
    ctx.write(lambda s: edit_case_narrative(s, ref, text, language=language, who=user.username, reason=reason))
    return _see_other(f"/cases/{quote(ref)}?done=narrative#narrative")


@router.get("/cases/{ref}/cioms.pdf")
async def cioms(
    ctx: Ctx,
    user: Annotated[Principal, Depends(page_require(Permission.CASE_READ))],
    ref: str,
    version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    blinded: bool = False,
) -> Response:
    """The CIOMS I form of the case version (default: the latest) as PDF."""
    form = await run_in_threadpool(ctx.read, lambda s: case_cioms_form(s, ref, version, blinded=blinded))
    pdf = await run_in_threadpool(render_cioms_pdf, form)
    name = f"CIOMS-I-{form.case_number}-v{form.version}{'-blinded' if blinded else ''}.pdf"
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
