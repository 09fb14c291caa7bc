"""Which plan version applies: one answer for every command, page and report.

The current plan is the latest *approved* stored version of the named plan; where none is approved,
the latest stored version; where none is stored, the bundled plan file of that name. Every caller
that needs "the plan" (intake, checks, the patient card, studies, reports) asks here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from riskplan.errors import NotFoundError
from riskplan.plan.catalogue import bundled_plan_names, load_plan, load_plan_file
from riskplan.plan.model import RiskManagementPlan
from riskplan.plan.tables import PlanApprovalRow, PlanVersionRow
from riskplan.plan.versions import get_version, latest_version

__all__ = ["CurrentPlan", "current_plan", "plan_as_used", "plan_from_file", "plan_in_force"]

PlanOrigin = Literal["approved version", "latest stored version (not approved)", "bundled file", "plan file"]


@dataclass(frozen=True)
class CurrentPlan:
    """The plan in force, and where it came from (for reports and audit: which version was used)."""

    plan: RiskManagementPlan
    origin: PlanOrigin
    version: int | None  # the stored version number; None for the bundled file or a plan file

    def describe(self) -> str:
        if self.origin == "plan file":
            return f"{self.plan.name} (plan file, not stored)"
        if self.version is None:
            return f"bundled plan {self.plan.name} (not stored)"
        return f"{self.plan.name} version {self.version} ({self.origin})"


def current_plan(session: Session, name: str) -> CurrentPlan:
    """The latest approved stored version of plan ``name``, else the latest stored, else the bundled file."""
    approved = session.scalar(
        select(PlanApprovalRow.version)
        .join(
            PlanVersionRow,
            (PlanVersionRow.plan_name == PlanApprovalRow.plan_name)
            & (PlanVersionRow.version == PlanApprovalRow.version),
        )
        .where(PlanApprovalRow.plan_name == name)
        .order_by(PlanApprovalRow.version.desc())
        .limit(1)
    )
    if approved is not None:
        return CurrentPlan(get_version(session, name, approved).plan, "approved version", approved)
    stored = latest_version(session, name)
    if stored is not None:
        return CurrentPlan(stored.plan, "latest stored version (not approved)", stored.version)
    if name not in bundled_plan_names():  # a name, never a path: no file is read on a caller's word here
        raise NotFoundError(
            f"unknown plan {name!r}: no plan {name!r} is stored (load one with `riskplan plan load`) and none "
            f"is bundled (bundled plans: {', '.join(bundled_plan_names())})"
        )
    return CurrentPlan(load_plan(name), "bundled file", None)


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)  # SQLite gives naive UTC times


def plan_as_used(session: Session, name: str, version: int | None, at: dt.datetime) -> CurrentPlan:
    """The plan a document made at ``at`` used, described as it was then: stored ``version`` ("approved
    version" when approved by ``at``, else "latest stored version (not approved)"), or the bundled file when
    ``version`` is None. For regenerating a stored report byte-identically after the plan changed."""
    if version is None:
        return CurrentPlan(load_plan(name), "bundled file", None)
    plan = get_version(session, name, version).plan
    approved = session.scalar(
        select(PlanApprovalRow.approved_at).where(PlanApprovalRow.plan_name == name, PlanApprovalRow.version == version)
    )
    if approved is not None and _utc(approved) <= _utc(at):
        return CurrentPlan(plan, "approved version", version)
    return CurrentPlan(plan, "latest stored version (not approved)", version)


def plan_from_file(path: Path) -> CurrentPlan:
    """A plan file given on purpose (``--plan changed.yaml``): used as it is, not stored."""
    return CurrentPlan(load_plan_file(path), "plan file", None)


def plan_in_force(name_or_path: str | None) -> CurrentPlan:
    """The plan a ``--plan`` option names: a plan file (.yaml/.json) as it is; a plan name (default: the
    configured plan, ``RISKPLAN_DEFAULT_PLAN``) its current plan (:func:`riskplan.plan.current_plan`: the
    latest approved stored version, else the latest stored, else the bundled file)."""
    from riskplan.settings import get_settings
    from riskplan.store import database, session_scope

    ref = name_or_path or get_settings().default_plan
    if Path(ref).suffix:
        return plan_from_file(Path(ref))
    with session_scope(database()) as session:
        return current_plan(session, ref)
