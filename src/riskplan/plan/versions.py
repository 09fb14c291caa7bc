"""Plan versions in the store.

Loading a plan whose content differs from the latest stored version of the same plan creates a new
version; loading the same content again creates nothing. Versions are never changed or deleted, and
each new version is recorded in the audit trail with who loaded it and why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from riskplan.errors import NotFoundError
from riskplan.plan.catalogue import plan_from_data, plan_to_data
from riskplan.plan.model import RiskManagementPlan
from riskplan.plan.tables import PlanVersionRow
from riskplan.store import record_change, utcnow


@dataclass(frozen=True)
class PlanVersion:
    plan_name: str
    version: int
    content_sha256: str
    loaded_at: dt.datetime
    loaded_by: str
    source: str | None
    reason: str | None
    plan: RiskManagementPlan


def canonical_json(plan: RiskManagementPlan) -> str:
    return json.dumps(plan_to_data(plan), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_hash(plan: RiskManagementPlan) -> str:
    return hashlib.sha256(canonical_json(plan).encode("utf-8")).hexdigest()


def _to_version(row: PlanVersionRow) -> PlanVersion:
    plan = plan_from_data(json.loads(row.content_json), f"stored plan {row.plan_name} v{row.version}")
    return PlanVersion(
        plan_name=row.plan_name,
        version=row.version,
        content_sha256=row.content_sha256,
        loaded_at=row.loaded_at,
        loaded_by=row.loaded_by,
        source=row.source,
        reason=row.reason,
        plan=plan,
    )


def record_plan(
    session: Session,
    plan: RiskManagementPlan,
    *,
    who: str,
    source: str | None = None,
    reason: str | None = None,
    audit: Mapping[str, tuple[Any, Any]] | None = None,
) -> tuple[PlanVersion, bool]:
    """Store ``plan`` as a new version unless the latest version has the same content.

    ``audit`` adds fields to the audit row of a new version (e.g. what was carried over from the current
    version). Returns the version that now holds this content and whether it was created.
    """
    digest = content_hash(plan)
    latest = _latest_row(session, plan.name)
    if latest is not None and latest.content_sha256 == digest:
        return _to_version(latest), False
    number = 1 if latest is None else latest.version + 1
    row = PlanVersionRow(
        plan_name=plan.name,
        version=number,
        content_sha256=digest,
        content_json=canonical_json(plan),
        loaded_at=utcnow(),
        loaded_by=who,
        source=source,
        reason=reason,
    )
    session.add(row)
    session.flush()
    record_change(
        session,
        who=who,
        entity_type="plan",
        entity_id=plan.name,
        action="version created",
        changes={
            "version": (None if latest is None else latest.version, number),
            "sha256": (None, digest),
            **(audit or {}),
        },
        reason=reason,
        at=row.loaded_at,
    )
    return _to_version(row), True


def _latest_row(session: Session, plan_name: str) -> PlanVersionRow | None:
    stmt = (
        select(PlanVersionRow)
        .where(PlanVersionRow.plan_name == plan_name)
        .order_by(PlanVersionRow.version.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def latest_version(session: Session, plan_name: str) -> PlanVersion | None:
    row = _latest_row(session, plan_name)
    return None if row is None else _to_version(row)


def latest_version_key(session: Session, plan_name: str) -> tuple[int, str] | None:
    """The number and content SHA-256 of the latest stored version of a plan (None if none is stored),
    read without loading the plan."""
    found = session.execute(latest_version_query(plan_name)).first()
    return None if found is None else (found[0], found[1])


def latest_version_query(plan_name: str) -> Select[int, str]:
    """The query of :func:`latest_version_key` (one row: version, content SHA-256), for a caller that
    reads more in the same statement."""
    return (
        select(PlanVersionRow.version, PlanVersionRow.content_sha256)
        .where(PlanVersionRow.plan_name == plan_name)
        .order_by(PlanVersionRow.version.desc())
        .limit(1)
    )


def version_sha256(session: Session, plan_name: str, version: int) -> str | None:
    """The content SHA-256 of one stored version of a plan (None if there is no such version)."""
    return session.scalar(
        select(PlanVersionRow.content_sha256).where(
            PlanVersionRow.plan_name == plan_name, PlanVersionRow.version == version
        )
    )


def get_version(session: Session, plan_name: str, version: int) -> PlanVersion:
    row = session.scalars(
        select(PlanVersionRow).where(PlanVersionRow.plan_name == plan_name, PlanVersionRow.version == version)
    ).first()
    if row is None:
        known = list_versions(session, plan_name)
        numbers = ", ".join(str(v.version) for v in known) or "none stored"
        raise NotFoundError(f"plan {plan_name!r} has no version {version} (versions: {numbers})")
    return _to_version(row)


def list_versions(session: Session, plan_name: str | None = None) -> list[PlanVersion]:
    stmt = select(PlanVersionRow).order_by(PlanVersionRow.plan_name, PlanVersionRow.version)
    if plan_name is not None:
        stmt = stmt.where(PlanVersionRow.plan_name == plan_name)
    return [_to_version(r) for r in session.scalars(stmt)]
