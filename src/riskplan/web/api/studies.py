"""``/api/studies``: the plan's studies, runs on an OMOP CDM, and their reports (downloads)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response

from riskplan.web import study_ops
from riskplan.web.api.schemas import Message, RunIn, RunOut, StudyOut
from riskplan.web.auth import Principal
from riskplan.web.deps import Ctx, require
from riskplan.web.roles import Permission
from riskplan.web.security import REPORT_CSP

router = APIRouter(tags=["studies"])
Reader = Annotated[Principal, Depends(require(Permission.STUDY_READ))]
RunId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ERRORS: dict[int | str, dict[str, object]] = {400: {"model": Message}, 404: {"model": Message}}


@router.get("/studies", response_model=list[StudyOut], responses=ERRORS)
def list_studies(ctx: Ctx, _: Reader, plan: Annotated[str | None, Query(max_length=80)] = None) -> list[StudyOut]:
    """The studies of the plan's pharmacovigilance plan; ``runnable`` when analyses are mapped to it."""
    name = plan or ctx.settings.default_plan
    return [StudyOut.model_validate(s) for s in ctx.read(lambda s: study_ops.plan_studies(s, name))]


@router.post("/studies/{study_id}/runs", response_model=RunOut, status_code=201, responses=ERRORS)
def run(
    body: RunIn,
    ctx: Ctx,
    principal: Annotated[Principal, Depends(require(Permission.STUDY_RUN))],
    study_id: Annotated[str, Path(min_length=1, max_length=100)],
) -> RunOut:
    """Run every analysis of a study on a CDM (under a configured CDM folder) and keep its report."""
    info = study_ops.run_study(ctx, study_id, body.cdm, who=principal.username, plan=body.plan, pdf=body.pdf)
    return RunOut.model_validate(info)


@router.get("/reports", response_model=list[RunOut])
def list_reports(ctx: Ctx, _: Reader, study: Annotated[str | None, Query(max_length=100)] = None) -> list[RunOut]:
    """Study runs with their report formats, newest first."""
    return [RunOut.model_validate(r) for r in ctx.read(lambda s: study_ops.list_runs(s, study))]


@router.get("/reports/{run_id}", response_model=RunOut, responses=ERRORS)
def show_report(ctx: Ctx, _: Reader, run_id: RunId) -> RunOut:
    return RunOut.model_validate(ctx.read(lambda s: study_ops.get_run(s, run_id)))


@router.get(
    "/reports/{run_id}/{fmt}",
    response_class=Response,
    responses={
        200: {"content": {"text/html": {}, "application/pdf": {}, "application/json": {}}},
        **ERRORS,
    },
)
def download_report(ctx: Ctx, _: Reader, run_id: RunId, fmt: Literal["html", "pdf", "json"]) -> Response:
    """A study report (HTML or PDF) or its results (JSON), as a download."""
    file = ctx.read(lambda s: study_ops.report_file(s, run_id, fmt))
    headers = {"Content-Disposition": f'attachment; filename="{file.file_name}"'}
    if fmt == "html":
        headers["Content-Security-Policy"] = REPORT_CSP
    return Response(file.content, media_type=file.media_type, headers=headers)
