"""The audit trail: who changed what, when, from which value to which, and why.

Rows are only ever inserted. Every folder records its changes here through :func:`record_change`;
:func:`history` reads them back in order.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import DateTime, Integer, String, Table, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from riskplan.store.db import Base, bulk_insert


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    who: Mapped[str] = mapped_column(String(200), nullable=False)
    entity_type: Mapped[str] = mapped_column(String(50), nullable=False, index=True)
    entity_id: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(50), nullable=False)
    field: Mapped[str | None] = mapped_column(String(300))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)


def _dump(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)


def record_change(
    session: Session,
    *,
    who: str,
    entity_type: str,
    entity_id: str,
    action: str,
    changes: Mapping[str, tuple[Any, Any]] | None = None,
    reason: str | None = None,
    at: dt.datetime | None = None,
) -> list[AuditEvent]:
    """Record one action; one row per changed field (or one row when nothing field-level changed)."""
    when = at or utcnow()
    rows: list[AuditEvent] = []
    items: Sequence[tuple[str | None, tuple[Any, Any]]] = list(changes.items()) if changes else [(None, (None, None))]
    for field, (old, new) in items:
        rows.append(
            AuditEvent(
                at=when,
                who=who,
                entity_type=entity_type,
                entity_id=entity_id,
                action=action,
                field=field,
                old_value=_dump(old),
                new_value=_dump(new),
                reason=reason,
            )
        )
    session.add_all(rows)
    return rows


def audit_row(
    *,
    who: str,
    entity_type: str,
    entity_id: str,
    action: str,
    at: dt.datetime,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """One audit row as a mapping, for :func:`insert_audit_rows`."""
    return {
        "at": at,
        "who": who,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "action": action,
        "field": field,
        "old_value": _dump(old),
        "new_value": _dump(new),
        "reason": reason,
    }


def insert_audit_rows(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many audit rows in one statement (bulk intake)."""
    bulk_insert(session, cast(Table, AuditEvent.__table__), rows)


def history(session: Session, entity_type: str, entity_id: str) -> list[AuditEvent]:
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return list(session.scalars(stmt))
