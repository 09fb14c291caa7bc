"""Approvals of stored plan versions (e.g. by the QPPV).

A stored version is approved at most once; approvals are only ever added, and each is recorded in the
plan's audit trail (action ``version approved``) with who approved it and why. The web application, the
command line and the other folders record and read approvals through these functions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from riskplan.errors import UserInputError
from riskplan.plan.tables import PlanApprovalRow
from riskplan.plan.versions import get_version, version_sha256
from riskplan.store.audit import record_change, utcnow

__all__ = ["AlreadyApproved", "Approval", "approvals", "approve_version", "approved_versions"]


class AlreadyApproved(UserInputError):
    """The plan version is already approved (a version is approved once)."""


@dataclass(frozen=True)
class Approval:
    plan_name: str
    version: int
    approved_at: dt.datetime
    approved_by: str
    reason: str | None


def _to_approval(row: PlanApprovalRow) -> Approval:
    return Approval(row.plan_name, row.version, row.approved_at, row.approved_by, row.reason)


def approve_version(
    session: Session,
    plan_name: str,
    version: int,
    *,
    who: str,
    reason: str | None = None,
    at: dt.datetime | None = None,
) -> Approval:
    """Approve stored version ``version`` of plan ``plan_name`` and record it in the audit trail.

    NotFoundError when the version is not stored; :class:`AlreadyApproved` when it is already approved.
    """
    if version_sha256(session, plan_name, version) is None:
        get_version(session, plan_name, version)  # raises NotFoundError naming the stored versions
    if session.scalar(
        select(PlanApprovalRow.id).where(PlanApprovalRow.plan_name == plan_name, PlanApprovalRow.version == version)
    ):
        raise AlreadyApproved(f"plan {plan_name} version {version} is already approved")
    now = at or utcnow()
    session.add(PlanApprovalRow(plan_name=plan_name, version=version, approved_at=now, approved_by=who, reason=reason))
    record_change(
        session,
        who=who,
        entity_type="plan",
        entity_id=plan_name,
        action="version approved",
        changes={"approved_version": (None, version)},
        reason=reason,
        at=now,
    )
    return Approval(plan_name, version, now, who, reason)


def approvals(session: Session, plan_name: str) -> dict[int, Approval]:
    """The approvals of the plan's stored versions, by version number."""
    rows = session.scalars(
        select(PlanApprovalRow).where(PlanApprovalRow.plan_name == plan_name).order_by(PlanApprovalRow.version)
    )
    return {r.version: _to_approval(r) for r in rows}


def approved_versions(session: Session) -> dict[str, tuple[int, ...]]:
    """The approved version numbers of every plan that has any, in ascending order."""
    found: dict[str, list[int]] = {}
    stmt = select(PlanApprovalRow.plan_name, PlanApprovalRow.version).order_by(
        PlanApprovalRow.plan_name, PlanApprovalRow.version
    )
    for name, version in session.execute(stmt):
        found.setdefault(name, []).append(version)
    return {name: tuple(numbers) for name, numbers in found.items()}
