"""Drafts of cases: what a case processor has typed on the intake form so far, kept before it is complete.

A draft is not a case (GVP VI.B.2: a case exists once the four minimum criteria are known): it has no
case number, no reporting clock, and is never counted — not in the case list, the due lists, PSURs or
the signal data. It is saved as typed (even a date that is not one yet), reopened, completed and then
submitted, when it becomes a case through the same intake as every other case and is marked submitted
with the case's number. Nothing is deleted: a draft no longer wanted is marked discarded. Every save,
submission and discard is in the audit trail (entity ``case draft``), each changed form field with its
old and new value.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from riskplan.cases.store import case_number
from riskplan.cases.tables import CaseDraftRow
from riskplan.errors import NotFoundError, UserInputError
from riskplan.store import record_change, utcnow

__all__ = [
    "DRAFT_ENTITY",
    "Draft",
    "FormValues",
    "discard_draft",
    "draft_number",
    "get_draft",
    "list_drafts",
    "mark_submitted",
    "save_draft",
]

DRAFT_ENTITY: Final = "case draft"
DRAFT_PREFIX: Final = "D"
OPEN, SUBMITTED, DISCARDED = "open", "submitted", "discarded"
MAX_DRAFT_BYTES: Final = 400_000  # a draft larger than this is not a case being typed in

FormValues = dict[str, str | list[str]]


def draft_number(draft_id: int) -> str:
    """A draft's number as shown, e.g. ``D0000007`` (never a case number: drafts are not cases)."""
    return f"{DRAFT_PREFIX}{draft_id:07d}"


def _draft_id(ref: str) -> int:
    text = ref.strip().upper().removeprefix(DRAFT_PREFIX)
    if not text.isdigit() or len(text) > 12:
        raise NotFoundError(f"no draft {ref!r}: a draft number reads D followed by digits, e.g. D0000001")
    return int(text)


@dataclass(frozen=True)
class Draft:
    id: int
    status: str
    worldwide_id: str | None
    summary: str | None
    values: FormValues
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    updated_by: str
    case_number: str | None

    @property
    def number(self) -> str:
        return draft_number(self.id)

    @property
    def is_open(self) -> bool:
        return self.status == OPEN


def _draft(row: CaseDraftRow) -> Draft:
    values = json.loads(row.values_json)
    return Draft(
        id=row.id,
        status=row.status,
        worldwide_id=row.worldwide_id,
        summary=row.summary,
        values=values if isinstance(values, dict) else {},
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        case_number=case_number(row.case_id) if row.case_id is not None else None,
    )


def _encoded(values: Mapping[str, str | list[str]]) -> str:
    data = json.dumps(dict(values), ensure_ascii=False, sort_keys=True)
    if len(data.encode("utf-8")) > MAX_DRAFT_BYTES:
        raise UserInputError(f"the draft is larger than {MAX_DRAFT_BYTES // 1000} kB: nothing saved")
    return data


def _changes(old: Mapping[str, object], new: Mapping[str, object]) -> dict[str, tuple[object, object]]:
    """Each form field whose value changed, with its old and new value (what the audit trail records)."""
    return {k: (old.get(k), new.get(k)) for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)}


def _locked_open(session: Session, ref: str, *, action: str) -> CaseDraftRow:
    row = session.scalars(select(CaseDraftRow).where(CaseDraftRow.id == _draft_id(ref)).with_for_update()).first()
    if row is None:
        raise NotFoundError(f"no draft {ref}")
    if row.status != OPEN:
        made = f" (it became case {case_number(row.case_id)})" if row.case_id is not None else ""
        raise UserInputError(f"draft {draft_number(row.id)} is {row.status}{made}: it cannot be {action}")
    return row


def save_draft(
    session: Session,
    values: Mapping[str, str | list[str]],
    *,
    who: str,
    worldwide_id: str | None,
    summary: str | None,
    ref: str | None = None,
    now: dt.datetime | None = None,
) -> Draft:
    """Save the form's ``values`` as a new draft, or over the open draft ``ref``; audited field by field."""
    now = now or utcnow()
    data = _encoded(values)
    wid = (worldwide_id or "").strip()[:200] or None
    if ref is None:
        row = CaseDraftRow(
            status=OPEN,
            worldwide_id=wid,
            summary=summary,
            values_json=data,
            created_at=now,
            created_by=who,
            updated_at=now,
            updated_by=who,
        )
        session.add(row)
        session.flush()
        changes = _changes({}, dict(values))
        action, reason = "draft created", "saved from the intake form"
    else:
        row = _locked_open(session, ref, action="saved")
        changes = _changes(json.loads(row.values_json), dict(values))
        if not changes:
            return _draft(row)
        row.values_json, row.worldwide_id, row.summary = data, wid, summary
        row.updated_at, row.updated_by = now, who
        action, reason = "draft saved", "saved from the intake form"
    record_change(
        session,
        who=who,
        entity_type=DRAFT_ENTITY,
        entity_id=draft_number(row.id),
        action=action,
        changes=changes or None,
        reason=reason,
        at=now,
    )
    return _draft(row)


def mark_submitted(session: Session, ref: str, case_id: int, *, who: str, now: dt.datetime | None = None) -> Draft:
    """The open draft ``ref`` became case ``case_id`` (in the caller's transaction, with the case's intake)."""
    now = now or utcnow()
    row = _locked_open(session, ref, action="submitted")
    row.status, row.case_id, row.updated_at, row.updated_by = SUBMITTED, case_id, now, who
    record_change(
        session,
        who=who,
        entity_type=DRAFT_ENTITY,
        entity_id=draft_number(row.id),
        action="draft submitted",
        changes={"status": (OPEN, SUBMITTED), "case": (None, case_number(case_id))},
        reason=f"stored as case {case_number(case_id)}",
        at=now,
    )
    return _draft(row)


def discard_draft(session: Session, ref: str, *, who: str, reason: str | None, now: dt.datetime | None = None) -> Draft:
    """Mark the open draft ``ref`` discarded (kept, audited; never a case)."""
    now = now or utcnow()
    row = _locked_open(session, ref, action="discarded")
    row.status, row.updated_at, row.updated_by = DISCARDED, now, who
    record_change(
        session,
        who=who,
        entity_type=DRAFT_ENTITY,
        entity_id=draft_number(row.id),
        action="draft discarded",
        changes={"status": (OPEN, DISCARDED)},
        reason=reason or "discarded on the intake form",
        at=now,
    )
    return _draft(row)


def get_draft(session: Session, ref: str) -> Draft:
    row = session.get(CaseDraftRow, _draft_id(ref))
    if row is None:
        raise NotFoundError(f"no draft {ref}")
    return _draft(row)


def list_drafts(session: Session, *, who: str | None = None, status: str = OPEN, limit: int = 500) -> list[Draft]:
    """Drafts with ``status`` (default: open), of user ``who`` if given, the most recently saved first."""
    stmt = select(CaseDraftRow).where(CaseDraftRow.status == status)
    if who is not None:
        stmt = stmt.where(CaseDraftRow.created_by == who)
    stmt = stmt.order_by(CaseDraftRow.updated_at.desc(), CaseDraftRow.id.desc()).limit(limit)
    return [_draft(r) for r in session.scalars(stmt)]
