"""Plans as the web application shows them: stored versions, approvals by the QPPV, diffs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from riskplan.errors import NotFoundError, UserInputError
from riskplan.plan.catalogue import bundled_plan_names, load_plan
from riskplan.plan.diff import PlanDiff, diff_plans
from riskplan.plan.model import RiskManagementPlan
from riskplan.plan.versions import PlanVersion, get_version, latest_version, list_versions
from riskplan.store.audit import record_change
from riskplan.web.context import Conflict, WebContext
from riskplan.web.tables import WebPlanApproval


@dataclass(frozen=True)
class PlanSummary:
    name: str
    bundled: bool
    latest_version: int | None
    approved_versions: tuple[int, ...]


@dataclass(frozen=True)
class Approval:
    plan_name: str
    version: int
    approved_at: dt.datetime
    approved_by: str
    reason: str | None


def approvals(session: Session, plan_name: str) -> dict[int, Approval]:
    rows = session.scalars(select(WebPlanApproval).where(WebPlanApproval.plan_name == plan_name))
    return {r.version: Approval(r.plan_name, r.version, r.approved_at, r.approved_by, r.reason) for r in rows}


def list_plans(session: Session) -> list[PlanSummary]:
    bundled = set(bundled_plan_names())
    latest: dict[str, int] = {}
    for v in list_versions(session):
        latest[v.plan_name] = max(latest.get(v.plan_name, 0), v.version)
    approved: dict[str, list[int]] = {}
    for name, version in session.execute(select(WebPlanApproval.plan_name, WebPlanApproval.version)):
        approved.setdefault(name, []).append(version)
    return [
        PlanSummary(name, name in bundled, latest.get(name), tuple(sorted(approved.get(name, []))))
        for name in sorted(bundled | set(latest))
    ]


def plan_exists(session: Session, name: str) -> bool:
    return name in bundled_plan_names() or latest_version(session, name) is not None


def current_plan(session: Session, name: str, version: int | None = None) -> tuple[RiskManagementPlan, int | None]:
    """Version ``version`` of a stored plan, else its latest stored version, else the bundled plan."""
    if version is not None:
        return get_version(session, name, version).plan, version
    stored = latest_version(session, name)
    if stored is not None:
        return stored.plan, stored.version
    if name in bundled_plan_names():
        return load_plan(name), None
    raise NotFoundError(f"no plan {name!r}: not stored and not bundled ({', '.join(bundled_plan_names())})")


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


def approve(ctx: WebContext, name: str, version: int, reason: str | None, *, who: str) -> Approval:
    """The QPPV's approval of a stored plan version (once per version; recorded in the audit trail)."""

    def work(session: Session) -> Approval:
        get_version(session, name, version)
        if session.scalar(
            select(WebPlanApproval.id).where(WebPlanApproval.plan_name == name, WebPlanApproval.version == version)
        ):
            raise Conflict(f"plan {name} version {version} is already approved")
        now = ctx.now()
        session.add(WebPlanApproval(plan_name=name, version=version, approved_at=now, approved_by=who, reason=reason))
        record_change(
            session,
            who=who,
            entity_type="plan",
            entity_id=name,
            action="version approved",
            changes={"approved_version": (None, version)},
            reason=reason,
            at=now,
        )
        return Approval(name, version, now, who, reason)

    return ctx.write(work)
