"""``/api/audit``: the whole audit trail (auditor and QPPV)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from riskplan.store import AuditEvent
from riskplan.web.api.schemas import AuditEventOut
from riskplan.web.auth import Principal
from riskplan.web.deps import Ctx, require
from riskplan.web.roles import Permission

router = APIRouter(tags=["audit"])


def audit_events(
    session: Session, *, entity_type: str | None, entity_id: str | None, limit: int, before_id: int | None
) -> list[AuditEvent]:
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if entity_type:
        stmt = stmt.where(AuditEvent.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    if before_id:
        stmt = stmt.where(AuditEvent.id < before_id)
    return list(session.scalars(stmt))


@router.get("/audit", response_model=list[AuditEventOut])
def audit(
    ctx: Ctx,
    _: Annotated[Principal, Depends(require(Permission.AUDIT_READ))],
    entity_type: Annotated[str | None, Query(max_length=50)] = None,
    entity_id: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> list[AuditEventOut]:
    """Audit events, newest first (page back with ``before_id``)."""
    rows = ctx.read(
        lambda s: audit_events(s, entity_type=entity_type, entity_id=entity_id, limit=limit, before_id=before_id)
    )
    return [AuditEventOut.model_validate(e) for e in rows]
