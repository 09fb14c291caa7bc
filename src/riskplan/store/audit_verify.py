"""Verify the audit trail's hash chain: every row's content against its hash, every link, and the head.

The rows are read in id order as a stream (a server-side cursor on PostgreSQL), so memory does not grow
with the trail. The first problem found is named by the row it is at and what is wrong with it:

* ``content changed``: the row's content no longer gives its stored hash (an UPDATE), or the row was
  changed and re-hashed (the next row still links to the old hash);
* ``row missing``: rows were deleted (a gap before a row that links to a row no longer there, at the start
  of the chain, or at its end behind the head);
* ``row inserted``: a row that is not part of the chain (its neighbours link past it, or it lies beyond
  the head).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from riskplan.store.audit import AuditEvent, AuditHead
from riskplan.store.audit_chain import GENESIS, HASHED_COLUMNS, hash_values, row_hash

#: Rows fetched per round trip, and how often progress is reported.
BATCH = 10_000
_RECENT = 1_000  # hashes kept to recognise inserted rows that a later row links past
_PREV = HASHED_COLUMNS.index("prev_hash")
_STORED = len(HASHED_COLUMNS)  # position of row_hash in a selected row


@dataclass(frozen=True)
class ChainBreak:
    row_id: int
    problem: str  # "content changed", "row missing" or "row inserted"
    detail: str


@dataclass(frozen=True)
class ChainCheck:
    rows: int  # rows read
    head: str  # hash of the last row read
    broken: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def verify_chain(session: Session, progress: Callable[[int], None] | None = None) -> ChainCheck:
    """Walk the chain in id order; ``progress`` is called with the number of rows read every BATCH rows."""
    columns = [AuditEvent.__table__.c[name] for name in (*HASHED_COLUMNS, "row_hash")]
    result = (
        session.connection()
        .execution_options(stream_results=True, yield_per=BATCH)
        .execute(select(*columns).order_by(AuditEvent.id))
    )
    rows: Iterator[Row[Any]] = iter(result)
    count, prev_id, prev_hash = 0, 0, GENESIS
    recent: deque[tuple[int, str]] = deque([(0, GENESIS)], maxlen=_RECENT)  # (id, hash) of the good rows
    pending: Row[Any] | None = None
    while True:
        row = pending if pending is not None else next(rows, None)
        pending = None
        if row is None:
            break
        count += 1
        if progress is not None and count % BATCH == 0:
            progress(count)
        if row[_PREV] != prev_hash or hash_values(row[:_STORED]) != row[_STORED]:
            pending = next(rows, None)
            result.close()
            return ChainCheck(count, prev_hash, _diagnose(row._mapping, pending, prev_id, prev_hash, recent))
        prev_id, prev_hash = row[0], row[_STORED]
        recent.append((prev_id, prev_hash))
    return ChainCheck(count, prev_hash, _check_head(session, count, prev_id, prev_hash))


def _diagnose(
    row: Any, following: Row[Any] | None, prev_id: int, prev_hash: str, recent: deque[tuple[int, str]]
) -> ChainBreak:
    """What is wrong at ``row``, whose hash or link does not hold (``prev_*``: the last good row)."""
    row_id = row["id"]
    after = f"row {prev_id}" if prev_id else "the start of the chain"
    if following is not None and following._mapping["prev_hash"] == prev_hash:
        return ChainBreak(
            row_id, "row inserted", f"not part of the chain: row {following._mapping['id']} links to {after}"
        )
    if row_hash(row) != row["row_hash"]:
        return ChainBreak(row_id, "content changed", "its content no longer matches its hash")
    good = list(recent)
    for index, (earlier_id, earlier_hash) in enumerate(good[:-1]):
        if row["prev_hash"] == earlier_hash:
            first = good[index + 1][0]
            return ChainBreak(
                first,
                "row inserted",
                f"{_span(first, prev_id)} not part of the chain: row {row_id} links to "
                + (f"row {earlier_id}" if earlier_id else "the start of the chain"),
            )
    if not prev_id:
        return ChainBreak(row_id, "row missing", "the rows before it were deleted: it does not link to the start")
    if row_id > prev_id + 1:
        return ChainBreak(
            prev_id + 1,
            "row missing",
            f"{_span(prev_id + 1, row_id - 1)} gone (deleted): row {row_id} links to a row not there",
        )
    return ChainBreak(
        prev_id,
        "content changed",
        f"row {prev_id} was changed and re-hashed, or a row after it deleted: row {row_id} links to another hash",
    )


def _span(first: int, last: int) -> str:
    return f"row {first} is" if first == last else f"rows {first}..{last} are"


def _check_head(session: Session, count: int, last_id: int, last_hash: str) -> ChainBreak | None:
    """The chain must end where its head says: rows deleted at the end or appended outside it show here."""
    head = session.execute(
        select(AuditHead.row_count, AuditHead.last_id, AuditHead.last_hash).where(AuditHead.id == 1)
    ).one_or_none()
    if head is None:
        if count == 0:
            return None
        return ChainBreak(last_id, "row missing", "the head of the audit trail (table audit_head) was deleted")
    head_count, head_id, head_hash = head
    if (head_count, head_id, head_hash) == (count, last_id, last_hash):
        return None
    if head_id > last_id:
        return ChainBreak(
            last_id + 1,
            "row missing",
            f"rows at the end were deleted: the head records {head_count} rows ending at row {head_id}",
        )
    if head_id < last_id:
        return ChainBreak(
            head_id + 1, "row inserted", f"beyond the head, which records {head_count} rows ending at row {head_id}"
        )
    return ChainBreak(
        last_id, "content changed", f"the head records hash {head_hash} and {head_count} rows for this last row"
    )
