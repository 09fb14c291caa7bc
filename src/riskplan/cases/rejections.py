"""Rejected intake attempts in the audit trail: who tried to import which file, when, and why it was refused.

The import itself rolls back whole; the rejection is recorded in a transaction of its own, so an
inspector sees refused files as well as stored cases (21 CFR 11.10(e): the trail records the operator's
actions, not only the records they created).
"""

from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from riskplan.store import record_change

ENTITY = "case import"
REJECTED = "import rejected"
SKIPPED = "messages skipped"
_MAX_REASON = 4000


def record_rejected_import(
    session: Session, *, file_name: str, data: bytes | None, reason: str, who: str, action: str = REJECTED
) -> None:
    """One audit row for a refused file (``action`` :data:`REJECTED`) or its skipped messages (:data:`SKIPPED`)."""
    details: dict[str, object] = {"file": file_name}
    if data is not None:
        details |= {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    why = reason if len(reason) <= _MAX_REASON else reason[: _MAX_REASON - 1] + "…"
    record_change(
        session,
        who=who,
        entity_type=ENTITY,
        entity_id=file_name.rsplit("/", 1)[-1][:200],
        action=action,
        changes={"file": (None, details)},
        reason=why,
    )
