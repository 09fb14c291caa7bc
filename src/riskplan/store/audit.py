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

Because the head serialises every audited transaction from its append to its commit, that stretch is kept
short in :func:`audited_transaction` (the web application's writes): the transaction's audit rows are
queued and appended at commit, as its last statements. On PostgreSQL they are appended by the database
function ``riskplan_audit_append`` (migration ``store_0005``: lock, stamp, chain with the same canonical
form and SHA-256, insert, move the head), sent together with the COMMIT in one pipeline, so the head is
never held while the application waits for a processor or its interpreter lock between statements (with
50 concurrent requests that wait, not the work, had made the head every write's bottleneck); that commit
does not wait for its WAL flush while holding the head
(``synchronous_commit = off`` for that transaction alone); the caller is answered only after a second,
synchronous commit has flushed the WAL past it (:func:`wait_until_durable`), so nothing is acknowledged
before it is on disk, and concurrent writers share one flush (group commit) instead of queueing for one
each inside the lock.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final, cast

import psycopg
from sqlalchemy import (
    CheckConstraint,
    Connection,
    DateTime,
    Engine,
    Integer,
    String,
    Table,
    Text,
    event,
    func,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from riskplan.errors import UserInputError
from riskplan.store.audit_chain import GENESIS, HASHED_COLUMNS, row_hash
from riskplan.store.db import Base, bulk_insert, session_factory

#: ``Session.info`` keys: append audit rows at commit; the rows waiting; the commit did not wait for its flush.
_AT_COMMIT: Final = "riskplan.audit.at_commit"
_PENDING: Final = "riskplan.audit.pending"
_UNFLUSHED: Final = "riskplan.audit.unflushed"
#: Up to this many rows are appended with one INSERT (and the head's UPDATE in the same statement on
#: PostgreSQL); more go in with COPY, which is faster for a bulk intake.
_ONE_STATEMENT_ROWS: Final = 50


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
_APPEND_COLUMNS: Final = ("id", "at", *(c for c in HASHED_COLUMNS if c not in ("id", "at")), "row_hash")
_APPEND_TYPES: Final = {"id": "integer", "at": "timestamptz"}
#: The columns the caller gives to ``riskplan_audit_append`` (it adds id, time stamp and hashes).
_FUNCTION_COLUMNS: Final = ("who", "entity_type", "entity_id", "action", "field", "old_value", "new_value", "reason")
_APPEND_FUNCTION: Final = (
    "SELECT riskplan_audit_append(" + ", ".join("%s::text[]" for _ in _FUNCTION_COLUMNS) + ", %s::boolean)"
)
#: PostgreSQL: the rows (one array per column) and the head's new state, in one statement.
_APPEND: Final = text(
    "WITH appended AS (INSERT INTO audit_event ("
    + ", ".join(_APPEND_COLUMNS)
    + ") SELECT * FROM unnest("
    + ", ".join(f"CAST(:{c} AS {_APPEND_TYPES.get(c, 'text')}[])" for c in _APPEND_COLUMNS)
    + ")) UPDATE audit_head SET row_count = :row_count, last_id = :last_id, last_hash = :last_hash, "
    "last_at = :last_at WHERE id = 1"
)


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
    if not ids:  # appended at commit (audited_transaction)
        return []
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
    stamp and hashes. In an :func:`audited_transaction` the rows are queued instead and appended at
    commit; then nothing is returned.

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
    if session.info.get(_AT_COMMIT):
        session.info.setdefault(_PENDING, []).extend(dict(r) for r in rows)
        return []
    return _append(session, rows)


def _append(
    session: Session, rows: Sequence[Mapping[str, Any]], *, commit_without_flush: bool = False
) -> list[dict[str, Any]]:
    session.flush()
    connection = session.connection()
    count, last_id, last_hash, last_at = _lock_head(connection, commit_without_flush=commit_without_flush)
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
    head = (
        update(_HEAD)
        .where(_HEAD.c.id == 1)
        .values(row_count=count + len(chained), last_id=last_id + len(chained), last_hash=prev, last_at=now)
    )
    if len(chained) > _ONE_STATEMENT_ROWS:
        bulk_insert(session, _EVENTS, chained)
        connection.execute(head)
    elif connection.dialect.name == "postgresql":
        # one round trip while the head is held: the rows and the head's UPDATE in one statement, whose
        # text never changes (compiled once, prepared by the server), whatever the number of rows
        columns = {c: [r[c] for r in chained] for c in _APPEND_COLUMNS}
        connection.execute(
            _APPEND,
            {
                **columns,
                "row_count": count + len(chained),
                "last_id": last_id + len(chained),
                "last_hash": prev,
                "last_at": now,
            },
        )
    else:
        connection.execute(_EVENTS.insert(), chained)
        connection.execute(head)
    return chained


def _lock_head(
    connection: Connection, *, commit_without_flush: bool = False
) -> tuple[int, int, str, dt.datetime | None]:
    """Lock the head of the chain for this transaction and read it: (row count, last id, last hash, last at).

    ``commit_without_flush``: on PostgreSQL the same statement sets ``synchronous_commit`` off for the rest
    of the transaction (the caller then waits for the flush itself, :func:`wait_until_durable`).
    """
    read = select(_HEAD.c.row_count, _HEAD.c.last_id, _HEAD.c.last_hash, _HEAD.c.last_at).where(_HEAD.c.id == 1)
    if connection.dialect.name == "postgresql":
        if commit_without_flush:
            read = read.add_columns(func.set_config("synchronous_commit", "off", True))
        head = connection.execute(read.with_for_update()).one_or_none()
    else:
        # SQLite has one writer at a time: writing to the head takes the write lock (the driver begins the
        # transaction at the first write) before the head is read, so no other writer can append in between.
        connection.execute(update(_HEAD).where(_HEAD.c.id == 1).values(last_id=_HEAD.c.last_id))
        head = connection.execute(read).one_or_none()
    if head is None:  # tables made without the migration, which creates the head
        connection.execute(_HEAD.insert().values(id=1, row_count=0, last_id=0, last_hash=GENESIS, last_at=None))
        return _lock_head(connection, commit_without_flush=commit_without_flush)
    count, last_id, last_hash, last_at = head[:4]
    if last_at is not None and last_at.tzinfo is None:
        last_at = last_at.replace(tzinfo=dt.UTC)
    return int(count), int(last_id), str(last_hash), last_at


@contextmanager
def audited_transaction(engine: Engine) -> Iterator[Session]:
    """A write transaction (like :func:`~riskplan.store.db.session_scope`) whose audit rows are appended
    at commit, after everything else, so that the head of the chain is held only for the append and the
    commit; on PostgreSQL that commit does not wait for the disk while holding the head, and the block
    returns only once the transaction is durable (:func:`wait_until_durable`).

    Inside it :func:`record_change` and :func:`insert_audit_rows` return nothing, and the transaction's own
    audit rows cannot be read back before it commits.
    """
    with engine.connect() as connection:
        session = session_factory(engine)(bind=connection)
        info = session.info
        info[_AT_COMMIT] = True
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        if info.pop(_UNFLUSHED, False):
            _flush_wal(connection)  # on the same connection: no second checkout from the pool


def wait_until_durable(engine: Engine) -> None:
    """Return once every transaction committed so far is flushed to disk (PostgreSQL).

    A commit with ``synchronous_commit = off`` is in the WAL but perhaps not yet on disk. A later
    transaction that writes WAL and commits synchronously flushes the WAL up to its own commit record,
    and so past every commit before it (the WAL is flushed in order; PostgreSQL documentation, 28.4
    "Asynchronous Commit"). A transactional logical-decoding message is such a write that touches no table.
    Concurrent callers share one flush (group commit).
    """
    with engine.connect() as connection:
        _flush_wal(connection)


def _flush_wal(connection: Connection) -> None:
    connection.execute(text("SELECT pg_logical_emit_message(true, 'riskplan', 'durable')"))
    connection.commit()


@event.listens_for(Session, "before_commit")
def _append_at_commit(session: Session) -> None:
    """The audit rows queued by an :func:`audited_transaction`, appended as its last statements."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    session.flush()
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # 21 CFR 11.10(e) records must not be lost: the caller waits for the flush after the head is free
        session.info[_UNFLUSHED] = True
        _append_and_commit(connection, pending)
        return
    _append(session, pending, commit_without_flush=True)


def _append_and_commit(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """PostgreSQL: append ``rows`` with ``riskplan_audit_append`` (migration ``store_0005``: lock the head,
    stamp, chain, insert, move the head) and COMMIT, sent together in one pipeline.

    The head is then held only while the server runs those two statements: never while this process
    waits for a processor or its interpreter lock between a reply and its next statement (which, with many
    concurrent requests, made the head the bottleneck of every write). The driver commits here; the
    session's own COMMIT that follows finds no transaction open and sends nothing.
    """
    raw = connection.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    columns = [[row.get(c) for row in rows] for c in _FUNCTION_COLUMNS]
    with raw.pipeline():
        raw.execute(_APPEND_FUNCTION, [*columns, True])
        raw.commit()


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session: Session, _previous: Any) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_UNFLUSHED, None)


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
