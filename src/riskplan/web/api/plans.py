"""``/api/plans``: the risk management plans, their versions, diffs and the QPPV's approvals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.orm import Session

from riskplan.web import plan_ops
from riskplan.web.api.schemas import (
    ApprovalOut,
    ApproveIn,
    FieldChangeOut,
    ItemChangeOut,
    PlanDiffOut,
    PlanOut,
    PlanSummaryOut,
    PlanVersionOut,
)
from riskplan.web.auth import Principal
from riskplan.web.deps import Ctx, require
from riskplan.web.roles import Permission

router = APIRouter(prefix="/plans", tags=["plans"])
PlanName = Annotated[str, Path(min_length=1, max_length=80)]
Reader = Annotated[Principal, Depends(require(Permission.PLAN_READ))]


@router.get("", response_model=list[PlanSummaryOut])
def list_plans(ctx: Ctx, _: Reader) -> list[PlanSummaryOut]:
    """Bundled and stored plans with their latest stored version and approved versions."""
    return [PlanSummaryOut.model_validate(p) for p in ctx.read(plan_ops.list_plans)]


@router.get("/{name}", response_model=PlanOut)
def show_plan(
    ctx: Ctx, _: Reader, name: PlanName, version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None
) -> PlanOut:
    """A plan: a stored version (default the current plan: the latest approved version, else the latest
    stored, else the bundled plan)."""
    plan, number = ctx.read(lambda s: plan_ops.plan_version(s, name, version))
    return PlanOut(name=name, version=number, plan=plan)


@router.get("/{name}/versions", response_model=list[PlanVersionOut])
def plan_versions(ctx: Ctx, _: Reader, name: PlanName) -> list[PlanVersionOut]:
    def work(session: Session) -> list[PlanVersionOut]:
        approved = plan_ops.approvals(session, name)
        out = []
        for v in plan_ops.versions(session, name):
            a = approved.get(v.version)
            out.append(
                PlanVersionOut(
                    plan_name=v.plan_name,
                    version=v.version,
                    content_sha256=v.content_sha256,
                    loaded_at=v.loaded_at,
                    loaded_by=v.loaded_by,
                    source=v.source,
                    reason=v.reason,
                    approved_at=a.approved_at if a else None,
                    approved_by=a.approved_by if a else None,
                )
            )
        return out

    return ctx.read(work)


@router.get("/{name}/diff", response_model=PlanDiffOut)
def plan_diff(
    ctx: Ctx,
    _: Reader,
    name: PlanName,
    old: Annotated[str, Query(min_length=1, max_length=20, description="Version number or 'latest'")],
    new: Annotated[str, Query(min_length=1, max_length=20, description="Version number or 'latest'")],
) -> PlanDiffOut:
    """Added, removed and changed safety concerns, measures and studies between two stored versions."""
    old_label, new_label, result = ctx.read(lambda s: plan_ops.diff(s, name, old, new))

    def change(path: str, a: object, b: object) -> FieldChangeOut:
        return FieldChangeOut(path=path, old=a, new=b)

    return PlanDiffOut(
        old=old_label,
        new=new_label,
        items=[
            ItemChangeOut(
                kind=i.kind,
                id=i.id,
                title=i.title,
                change=i.change,
                fields=[change(f.path, f.old, f.new) for f in i.fields],
            )
            for i in result.items
        ],
        plan_fields=[change(f.path, f.old, f.new) for f in result.plan_fields],
    )


@router.post("/{name}/versions/{version}/approve", response_model=ApprovalOut, status_code=201)
def approve_version(
    ctx: Ctx,
    principal: Annotated[Principal, Depends(require(Permission.PLAN_APPROVE))],
    name: PlanName,
    version: Annotated[int, Path(ge=1, le=1_000_000)],
    body: ApproveIn,
) -> ApprovalOut:
    """The QPPV approves a stored plan version (once), signing it with their password (21 CFR 11.200)."""
    signer = ctx.auth.signer(principal.username, body.password)
    return ApprovalOut.model_validate(plan_ops.approve(ctx, name, version, body.reason, signer=signer))
