"""The audit trail: who changed what, when, from which value to which, and why.

Rows are only ever inserted. Every folder records its changes here through :func:`record_change` (or
:func:`insert_audit_rows` for bulk intake); :func:`history` reads them back in order.

Tamper evidence (21 CFR 11.10(e)): every row carries the SHA-256 of its content and of the previous row's
hash (:mod:`riskplan.store.audit_chain`); the single row of ``audit_head`` holds the chain's last id, hash
and row count. Appending locks that row first (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite a write
to it takes the database's write lock), so concurrent writers append one after the other, each linking to
the row the previous one committed; the lock is held until the transaction ends. The time stamp is taken
after the lock (and never before the head's), so audit time stamps follow commit order: id order and time
order agree. Triggers refuse UPDATE and DELETE of ``audit_event`` (and TRUNCATE on PostgreSQL; ``store_0002``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import CheckConstraint, Connection, DateTime, Integer, String, Table, Text, event, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from riskplan.errors import UserInputError
from riskplan.store.audit_chain import GENESIS, row_hash
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
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    row_hash: Mapped[str] = mapped_column(String(64), nullable=False)


class AuditHead(Base):
    """The end of the chain (one row, id 1): what the next appended row links to."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    row_count: Mapped[int] = mapped_column(Integer, nullable=False)
    last_id: Mapped[int] = mapped_column(Integer, nullable=False)
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    last_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


_EVENTS = cast(Table, AuditEvent.__table__)
_HEAD = cast(Table, AuditHead.__table__)


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
    """Record one action; one row per changed field (or one row when nothing field-level changed).

    The rows are appended to the chain at once. ``at`` is not stored: the trail stamps its rows itself when
    it appends them (computer-generated time stamps, 21 CFR 11.10(e)), so they follow commit order.
    """
    del at  # kept for callers; see the docstring
    items: Sequence[tuple[str | None, tuple[Any, Any]]] = list(changes.items()) if changes else [(None, (None, None))]
    rows = [
        audit_row(
            who=who, entity_type=entity_type, entity_id=entity_id, action=action, field=f, old=o, new=n, reason=reason
        )
        for f, (o, n) in items
    ]
    ids = [r["id"] for r in insert_audit_rows(session, rows)]
    return list(session.scalars(select(AuditEvent).where(AuditEvent.id.in_(ids)).order_by(AuditEvent.id)))


def audit_row(
    *,
    who: str,
    entity_type: str,
    entity_id: str,
    action: str,
    at: dt.datetime | None = None,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """One audit row as a mapping, for :func:`insert_audit_rows` (which stamps it; ``at`` is not stored)."""
    del at
    return {
        "who": who,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "action": action,
        "field": field,
        "old_value": _dump(old),
        "new_value": _dump(new),
        "reason": reason,
    }


def insert_audit_rows(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Append rows (from :func:`audit_row`) to the chain in one statement; the stored rows, with id, time
    stamp and hashes.

    Holds the head's lock until the session's transaction ends: append audit rows late in a transaction.
    The session's pending changes are flushed first, so their row locks come before the head's (a
    transaction holding the head then never waits for a row that a transaction waiting for the head holds).
    """
    if not rows:
        return []
    for row in rows:
        who = row.get("who")
        if not isinstance(who, str) or not who.strip():
            # 21 CFR 11.10(e): every change is recorded with who made it; an anonymous change is never stored
            raise UserInputError(
                f"a change to {row.get('entity_type')} {row.get('entity_id')} ({row.get('action')}) names no one "
                f"(who: {who!r}): every change is recorded with who made it (21 CFR 11.10(e)); nothing stored"
            )
    session.flush()
    connection = session.connection()
    count, last_id, last_hash, last_at = _lock_head(connection)
    # taken after the lock: a row appended later is never stamped earlier (not even when clocks step back)
    now = utcnow()
    if last_at is not None and now < last_at:
        now = last_at
    chained: list[dict[str, Any]] = []
    prev = last_hash
    for number, row in enumerate(rows, start=last_id + 1):
        stored = {**row, "id": number, "at": now, "prev_hash": prev}
        stored["row_hash"] = prev = row_hash(stored)
        chained.append(stored)
    bulk_insert(session, _EVENTS, chained)
    connection.execute(
        update(_HEAD)
        .where(_HEAD.c.id == 1)
        .values(row_count=count + len(chained), last_id=last_id + len(chained), last_hash=prev, last_at=now)
    )
    return chained


def _lock_head(connection: Connection) -> tuple[int, int, str, dt.datetime | None]:
    """Lock the head of the chain for this transaction and read it: (row count, last id, last hash, last at)."""
    read = select(_HEAD.c.row_count, _HEAD.c.last_id, _HEAD.c.last_hash, _HEAD.c.last_at).where(_HEAD.c.id == 1)
    if connection.dialect.name == "postgresql":
        head = connection.execute(read.with_for_update()).one_or_none()
    else:
        # SQLite has one writer at a time: writing to the head takes the write lock (the driver begins the
        # transaction at the first write) before the head is read, so no other writer can append in between.
        connection.execute(update(_HEAD).where(_HEAD.c.id == 1).values(last_id=_HEAD.c.last_id))
        head = connection.execute(read).one_or_none()
    if head is None:  # tables made without the migration, which creates the head
        connection.execute(_HEAD.insert().values(id=1, row_count=0, last_id=0, last_hash=GENESIS, last_at=None))
        return _lock_head(connection)
    count, last_id, last_hash, last_at = head
    if last_at is not None and last_at.tzinfo is None:
        last_at = last_at.replace(tzinfo=dt.UTC)
    return int(count), int(last_id), str(last_hash), last_at


def audit_head(session: Session) -> tuple[int, str]:
    """(number of rows, hash of the last row) of the audit trail, as its head records them."""
    head = session.execute(select(AuditHead.row_count, AuditHead.last_hash).where(AuditHead.id == 1)).one_or_none()
    return (0, GENESIS) if head is None else (int(head[0]), str(head[1]))


@event.listens_for(Session, "before_flush")
def _refuse_unchained(session: Session, _context: Any, _instances: Any) -> None:
    """An AuditEvent added to a session would bypass the chain: refuse it (programming error)."""
    if any(isinstance(obj, AuditEvent) for obj in session.new):
        raise RuntimeError("audit rows are appended through record_change or insert_audit_rows (the hash chain)")


def history(session: Session, entity_type: str, entity_id: str) -> list[AuditEvent]:
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return list(session.scalars(stmt))
