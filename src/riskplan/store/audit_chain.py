"""The hash chain of the audit trail: each row's SHA-256 covers its whole content and the previous row's hash.

21 CFR 11.10(e) asks for secure, computer-generated, time-stamped audit trails whose entries are not
obscured by later changes; EU GVP Module I (record management) asks that pharmacovigilance records be
protected against unauthorised change. Chaining the rows makes any UPDATE, DELETE or inserted row made directly in the
database visible to ``riskplan audit verify``.

Canonical serialisation of a row (version ``riskplan-audit-v1``; it never changes for stored rows):

    JSON array, UTF-8, no spaces (``separators=(",", ":")``), non-ASCII characters kept as they are:
    ["riskplan-audit-v1", id, at, who, entity_type, entity_id, action, field, old_value, new_value,
     reason, prev_hash]

* ``id`` is the row's integer id (its sequence number in the chain);
* ``at`` is the time stamp in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (``isoformat`` with microseconds; a
  time stamp read back without a zone, as SQLite stores it, is UTC);
* the text columns are JSON strings, or ``null`` when empty (SQL NULL);
* ``prev_hash`` is the previous row's ``row_hash`` (64 lower-case hex digits), or 64 zeros for the first row.

``row_hash`` = lower-case hex SHA-256 of those bytes. The migration ``store_0002`` keeps a frozen copy of
this function; the two must stay equal (tests/test_audit_chain.py checks an upgraded database verifies).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

FORMAT = "riskplan-audit-v1"
GENESIS = "0" * 64
#: The columns a row's hash covers, in their order in the canonical array (after FORMAT).
HASHED_COLUMNS = (
    "id",
    "at",
    "who",
    "entity_type",
    "entity_id",
    "action",
    "field",
    "old_value",
    "new_value",
    "reason",
    "prev_hash",
)


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def canonical_time(at: dt.datetime) -> str:
    """``at`` in UTC with microseconds; a naive time stamp is taken as UTC (SQLite stores them so)."""
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds") + "Z"


def hash_values(values: Sequence[Any]) -> str:
    """The hash of a row given as its values in :data:`HASHED_COLUMNS` order (the fast path of verify)."""
    canonical = [FORMAT, values[0], canonical_time(values[1]), *values[2:]]
    return hashlib.sha256(_ENCODER.encode(canonical).encode("utf-8")).hexdigest()


def row_hash(row: Mapping[Any, Any]) -> str:
    """The SHA-256 (hex) of a row's canonical content, its predecessor's hash included."""
    return hash_values([row[column] for column in HASHED_COLUMNS])
