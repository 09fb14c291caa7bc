"""Plans as the web application shows them: stored versions, approvals by the QPPV, diffs."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from riskplan.errors import NotFoundError, UserInputError
from riskplan.plan import (
    AlreadyApproved,
    Approval,
    PlanDiff,
    PlanVersion,
    RiskManagementPlan,
    approve_version,
    approved_versions,
    bundled_plan_names,
    current_plan,
    diff_plans,
    get_version,
    latest_version,
    list_versions,
)
from riskplan.plan import approvals as approvals
from riskplan.store import Signer
from riskplan.web.context import Conflict, WebContext


@dataclass(frozen=True)
class PlanSummary:
    name: str
    bundled: bool
    latest_version: int | None
    approved_versions: tuple[int, ...]


def list_plans(session: Session) -> list[PlanSummary]:
    bundled = set(bundled_plan_names())
    latest: dict[str, int] = {}
    for v in list_versions(session):
        latest[v.plan_name] = max(latest.get(v.plan_name, 0), v.version)
    approved = approved_versions(session)
    return [
        PlanSummary(name, name in bundled, latest.get(name), approved.get(name, ()))
        for name in sorted(bundled | set(latest))
    ]


def plan_exists(session: Session, name: str) -> bool:
    return name in bundled_plan_names() or latest_version(session, name) is not None


def plan_version(session: Session, name: str, version: int | None = None) -> tuple[RiskManagementPlan, int | None]:
    """Stored version ``version`` of a plan; without one, the current plan (:func:`riskplan.plan.current_plan`)."""
    if version is not None:
        return get_version(session, name, version).plan, version
    found = current_plan(session, name)
    return found.plan, found.version


def versions(session: Session, name: str) -> list[PlanVersion]:
    found = list_versions(session, name)
    if not found and name not in bundled_plan_names():
        raise NotFoundError(f"no plan {name!r}")
    return found


def resolve_ref(session: Session, name: str, ref: str) -> tuple[str, RiskManagementPlan]:
    """A stored version number or ``latest``."""
    if ref == "latest":
        stored = latest_version(session, name)
        if stored is None:
            raise NotFoundError(f"plan {name!r} has no stored version")
        return f"{name} v{stored.version}", stored.plan
    if not ref.isdigit():
        raise UserInputError(f"{ref!r}: give a version number or 'latest'")
    return f"{name} v{int(ref)}", get_version(session, name, int(ref)).plan


def diff(session: Session, name: str, old: str, new: str) -> tuple[str, str, PlanDiff]:
    old_label, old_plan = resolve_ref(session, name, old)
    new_label, new_plan = resolve_ref(session, name, new)
    return old_label, new_label, diff_plans(old_plan, new_plan)


def approve(ctx: WebContext, name: str, version: int, reason: str | None, *, signer: Signer) -> Approval:
    """The QPPV's signed approval of a stored plan version (once per version; recorded in the audit trail)."""

    def work(session: Session) -> Approval:
        try:
            return approve_version(session, name, version, signer=signer, reason=reason, at=ctx.now())
        except AlreadyApproved as exc:
            raise Conflict(str(exc)) from exc

    return ctx.write(work)
