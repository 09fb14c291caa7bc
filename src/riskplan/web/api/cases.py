"""``/api/cases``: intake, follow-up, E2B(R3) import and export, reads, history, assessment, links."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, File, HTTPException, Path, Query, Response, UploadFile
from fastapi.exceptions import RequestValidationError

from riskplan.cases import (
    CausalityInputError,
    Icsr,
    PairAssessment,
    StoredCase,
    check_causality_request,
    choose_pair,
    get_case,
    list_cases,
)
from riskplan.submissions import due_reports
from riskplan.web import case_ops
from riskplan.web.api.schemas import (
    AssessIn,
    AssessmentOut,
    AuditEventOut,
    CaseListingOut,
    CaseOut,
    CaseVersionOut,
    CausalityIn,
    ConcernOut,
    DrugReactionPairOut,
    DueOut,
    ExportIn,
    ImportOut,
    IntakeOut,
    LinkIn,
    LinkOut,
    Message,
    PairAssessmentOut,
    ReactionOut,
    StoredOut,
)
from riskplan.web.api.submissions import due_out
from riskplan.web.auth import Principal
from riskplan.web.deps import Ctx, require
from riskplan.web.roles import Permission

router = APIRouter(prefix="/cases", tags=["cases"])
CaseRef = Annotated[str, Path(min_length=1, max_length=200, description="Case number (RP0000042) or worldwide id")]
Reader = Annotated[Principal, Depends(require(Permission.CASE_READ))]
Writer = Annotated[Principal, Depends(require(Permission.CASE_WRITE))]
Reason = Annotated[str | None, Query(max_length=2000, description="Why (recorded in the audit trail)")]
ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": Message},
    404: {"model": Message},
    409: {"model": Message},
    422: {"description": "The body is not a valid case, or an E2B file was refused"},
}


def case_out(c: StoredCase) -> CaseOut:
    return CaseOut(
        case_number=c.case_number,
        worldwide_id=c.worldwide_id,
        plan_name=c.plan_name,
        version=c.version,
        latest_version=c.latest_version,
        valid=c.valid,
        invalid_reasons=list(c.invalid_reasons),
        serious=c.serious,
        received=c.received,
        day_zero=c.day_zero,
        due=c.due,
        recorded_at=c.recorded_at,
        recorded_by=c.recorded_by,
        reason=c.reason,
        safety_concerns=[ConcernOut(id=i, reasons=r) for i, r in c.concerns],
        reactions=[ReactionOut.model_validate(r) for r in c.reactions],
        links=[LinkOut(kind=k, other=o, reason=r) for k, o, r in c.links],
        icsr=c.icsr,
        synthetic=c.synthetic,
    )


def _created(out: IntakeOut, headers: dict[str, str] | None = None) -> Response:
    """201 with ``out`` as JSON, serialised once: an intake or follow-up (every write of the load test) skips
    FastAPI's second validation of a model built here (the routes still declare ``IntakeOut`` for OpenAPI)."""
    return Response(out.model_dump_json(), status_code=201, media_type="application/json", headers=headers)


def intake_out(entered: case_ops.Entered) -> IntakeOut:
    o, c = entered.outcome, entered.case
    return IntakeOut(
        case_number=o.case_number,
        worldwide_id=o.worldwide_id,
        version=o.version,
        status=o.status,
        valid=c.valid,
        invalid_reasons=list(c.invalid_reasons),
        serious=c.serious,
        due=c.due,
        safety_concerns=list(c.concerns),
    )


@router.get("", response_model=list[CaseListingOut])
def list_all(
    ctx: Ctx,
    _: Reader,
    plan: Annotated[str | None, Query(max_length=80)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[CaseListingOut]:
    """Cases (latest versions) in case-number order."""
    rows = ctx.read(lambda s: list_cases(s, plan_name=plan, limit=offset + limit))[offset:]
    return [
        CaseListingOut(
            case_number=r.case_number,
            worldwide_id=r.worldwide_id,
            version=r.version,
            received=r.received,
            valid=r.valid,
            serious=r.serious,
            due=r.due,
            safety_concerns=list(r.concerns),
            reactions=list(r.pts),
            synthetic=r.synthetic,
        )
        for r in rows
    ]


@router.post("", response_model=IntakeOut, status_code=201, responses=ERRORS)
def enter(
    icsr: Icsr,
    ctx: Ctx,
    principal: Writer,
    plan: Annotated[str | None, Query(max_length=80)] = None,
    reason: Reason = None,
) -> Response:
    """Enter a new case (an E2B(R3) ICSR as JSON; see the Icsr schema). A known worldwide id is a 409."""
    entered = case_ops.enter_case(ctx, icsr, who=principal.username, plan=plan, reason=reason)
    return _created(intake_out(entered), {"Location": f"/api/cases/{entered.outcome.case_number}"})


@router.get("/due", response_model=list[DueOut])
def due(
    ctx: Ctx,
    _: Reader,
    as_of: Annotated[str | None, Query(description="YYYY-MM-DD (default today)", max_length=10)] = None,
    destination: Annotated[str | None, Query(max_length=30, description="Destination code, e.g. EU")] = None,
) -> list[DueOut]:
    """The reports owed to each destination (``riskplan submission due``), soonest due first, each with the
    rule that decided it (GVP VI.C.3, 21 CFR 314.80, ...)."""
    try:
        today = dt.date.fromisoformat(as_of) if as_of else ctx.today()
    except ValueError:
        raise HTTPException(400, f"as_of {as_of!r}: expected a date as YYYY-MM-DD") from None
    return [due_out(r, today) for r in ctx.read(lambda s: due_reports(s, destination))]


@router.post("/import", response_model=ImportOut, status_code=201, responses=ERRORS)
def import_file(
    ctx: Ctx,
    principal: Writer,
    file: Annotated[UploadFile, File(description="An E2B(R3) batch (MCCI_IN200100UV01 XML)")],
    skip_invalid: Annotated[bool, Query(description="Import the good reports, list the bad ones")] = False,
    plan: Annotated[str | None, Query(max_length=80)] = None,
) -> ImportOut:
    """Import an E2B(R3) file: every case of the batch is stored in one transaction, or none is."""
    limit = ctx.web.max_upload_mib * 1024 * 1024
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"the file is larger than {ctx.web.max_upload_mib} MiB")
    name = (file.filename or "upload.xml")[:200]
    result = case_ops.import_batch(
        ctx, data, file_name=name, who=principal.username, skip_invalid=skip_invalid, plan=plan
    )
    return ImportOut(
        file_name=result.file_name,
        imported=[
            StoredOut(case_number=o.case_number, worldwide_id=o.worldwide_id, version=o.version, status=o.status)
            for o in result.outcomes
        ],
        rejected=[str(r) for r in result.rejected],
    )


@router.post(
    "/export",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}, "description": "The E2B(R3) batch"}, **ERRORS},
)
def export(
    ctx: Ctx, principal: Annotated[Principal, Depends(require(Permission.CASE_EXPORT))], body: ExportIn | None = None
) -> Response:
    """Export cases as one E2B(R3) batch (validated against the ICH schema); recorded as submitted."""
    result = case_ops.export_batch(ctx, body.cases if body else None, who=principal.username)
    return Response(
        result.data,
        media_type="application/xml",
        headers={
            "Content-Disposition": f'attachment; filename="{result.file_name}"',
            "X-Riskplan-Batch": result.batch_id,
        },
    )


@router.get("/{ref}", response_model=CaseOut, responses=ERRORS)
def show(
    ctx: Ctx, _: Reader, ref: CaseRef, version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None
) -> CaseOut:
    """A case (default its latest version) with validity, seriousness, clock, coding and safety concerns."""
    return case_out(ctx.read(lambda s: get_case(s, ref, version)))


@router.get("/{ref}/versions", response_model=list[CaseVersionOut], responses=ERRORS)
def versions(ctx: Ctx, _: Reader, ref: CaseRef) -> list[CaseVersionOut]:
    return [CaseVersionOut.model_validate(v) for v in ctx.read(lambda s: case_ops.case_versions(s, ref))]


@router.post("/{ref}/follow-ups", response_model=IntakeOut, status_code=201, responses=ERRORS)
def add_follow_up(icsr: Icsr, ctx: Ctx, principal: Writer, ref: CaseRef, reason: Reason = None) -> Response:
    """Follow-up information: the whole case as now known; a new version when anything changed."""
    return _created(intake_out(case_ops.follow_up(ctx, ref, icsr, who=principal.username, reason=reason)))


@router.get("/{ref}/history", response_model=list[AuditEventOut], responses=ERRORS)
def case_history(
    ctx: Ctx, _: Annotated[Principal, Depends(require(Permission.CASE_HISTORY))], ref: CaseRef
) -> list[AuditEventOut]:
    """The audit trail of a case: who changed what, when, from which value to which, and why."""
    return [AuditEventOut.model_validate(e) for e in ctx.read(lambda s: case_ops.history(s, ref))]


@router.get("/{ref}/assessments", response_model=list[AssessmentOut], responses=ERRORS)
def list_assessments(ctx: Ctx, _: Reader, ref: CaseRef) -> list[AssessmentOut]:
    return [AssessmentOut.model_validate(a) for a in ctx.read(lambda s: case_ops.assessments(s, ref))]


@router.post("/{ref}/assessments", response_model=AssessmentOut, status_code=201, responses=ERRORS)
def add_assessment(
    body: AssessIn,
    ctx: Ctx,
    principal: Annotated[Principal, Depends(require(Permission.CASE_ASSESS))],
    ref: CaseRef,
) -> AssessmentOut:
    """A safety physician's causality assessment (WHO-UMC) of the latest version, signed with their
    password (21 CFR 11.200)."""
    signer = ctx.auth.signer(principal.username, body.password)
    return AssessmentOut.model_validate(case_ops.assess(ctx, ref, body.causality, body.comment, signer=signer))


@router.post("/{ref}/links", response_model=Message, status_code=201, responses=ERRORS)
def link(
    body: LinkIn,
    ctx: Ctx,
    principal: Annotated[Principal, Depends(require(Permission.CASE_LINK))],
    ref: CaseRef,
) -> Message:
    """Confirm another case as a duplicate of this one (both are kept, the link is audited on both)."""
    case_ops.link_duplicate(ctx, ref, body.other, body.reason, who=principal.username)
    return Message(detail=f"{ref} and {body.other} linked as duplicates")


def _located(exc: CausalityInputError) -> RequestValidationError:
    """422 saying which field of the request is wrong, in the form FastAPI uses for its own checks."""
    return RequestValidationError([{"loc": ("body", exc.field), "msg": str(exc), "type": "value_error"}])


def _pair_out(a: PairAssessment) -> PairAssessmentOut:
    return PairAssessmentOut.model_validate(a)


@router.get("/{ref}/causality", response_model=list[DrugReactionPairOut], responses=ERRORS)
def causality_pairs(ctx: Ctx, _: Reader, ref: CaseRef) -> list[DrugReactionPairOut]:
    """Each suspect or interacting drug × reaction pair of the latest version (numbers as the case lists
    them), with the causality assessments recorded for it, oldest first (E2B(R3) G.k.9.i.2.r)."""
    return [
        DrugReactionPairOut(
            drug=p.drug_seq,
            drug_name=p.drug_name,
            reaction=p.reaction_seq,
            reaction_term=p.reaction_term,
            assessments=[_pair_out(a) for a in found],
        )
        for p, found in ctx.read(lambda s: case_ops.pair_causality(s, ref))
    ]


@router.post(
    "/{ref}/causality",
    response_model=PairAssessmentOut,
    status_code=201,
    responses={**ERRORS, 422: {"description": "Wrong pair, method, result or answers: detail[].loc says which"}},
)
def assess_pair(
    body: CausalityIn,
    ctx: Ctx,
    principal: Annotated[Principal, Depends(require(Permission.CASE_ASSESS))],
    ref: CaseRef,
) -> PairAssessmentOut:
    """Causality of one suspect drug against one reaction by WHO-UMC (``result``) or Naranjo (``answers``),
    as ``riskplan case assess --drug N --reaction M``; signed with the assessor's password (21 CFR 11.200)
    and in the case's audit trail. A wrong pair, method, result or answer is a 422 naming the field;
    nothing is stored."""
    try:
        request = check_causality_request(body.method, body.result, body.answers, body.source)
        ctx.read(lambda s: choose_pair(get_case(s, ref).icsr, ref, body.drug, body.reaction))
    except CausalityInputError as exc:
        raise _located(exc) from None
    signer = ctx.auth.signer(principal.username, body.password)
    try:
        done = case_ops.assess_pair(ctx, ref, body.drug, body.reaction, request, body.comment, signer=signer)
    except CausalityInputError as exc:  # the case changed since the check above
        raise _located(exc) from None
    return _pair_out(done)
