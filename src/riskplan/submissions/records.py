"""Submissions as records: one per case version, destination and attempt, each state change audited.

States (ICH E2B(R3) IG section 4 on acknowledgments):

* ``generated``: the batch file exists, validated, its SHA-256 stored; not yet handed to a channel;
* ``sent``: handed to the channel (AS2 message posted, or the file written for a web upload);
* ``delivered``: the gateway's MDN confirms receipt;
* ``accepted`` / ``rejected``: the authority's ACK (ACK.B.r.6 AA; AE or AR with its error text);
* ``resubmitted``: a rejected submission whose corrected report was generated again (a new attempt);
* ``nullified``: superseded by a nullification report sent for the case.

A report counts as sent (meets its obligation) in ``sent``, ``delivered`` and ``accepted``; a rejected
one goes back to the case processor's queue with the authority's error text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace

from sqlalchemy import ARRAY, Integer, any_, bindparam, select
from sqlalchemy.orm import Session

from riskplan.cases import case_number
from riskplan.errors import NotFoundError, UserInputError
from riskplan.store import record_change, utcnow
from riskplan.submissions.tables import BatchRow, SubmissionRow

ENTITY = "submission"
GENERATED = "generated"
SENT = "sent"
DELIVERED = "delivered"
ACCEPTED = "accepted"
REJECTED = "rejected"
RESUBMITTED = "resubmitted"
NULLIFIED = "nullified"
STATES = (GENERATED, SENT, DELIVERED, ACCEPTED, REJECTED, RESUBMITTED, NULLIFIED)
COUNTS_AS_SENT = frozenset({SENT, DELIVERED, ACCEPTED})
LIVE = frozenset({GENERATED, SENT, DELIVERED, ACCEPTED})
# Which states may follow which: an ACK may arrive before the MDN, and a late duplicate changes nothing.
_NEXT: dict[str, frozenset[str]] = {
    GENERATED: frozenset({SENT}),
    SENT: frozenset({DELIVERED, ACCEPTED, REJECTED}),
    DELIVERED: frozenset({ACCEPTED, REJECTED}),
    REJECTED: frozenset({RESUBMITTED}),
    ACCEPTED: frozenset({NULLIFIED}),
}


@dataclass(frozen=True)
class Submission:
    id: int
    case_id: int
    worldwide_id: str
    version: int
    destination: str
    attempt: int
    kind: str
    report: str
    rule: str
    day_zero: dt.date | None
    due: dt.date | None
    state: str
    batch_id: str
    message_id: str
    generated_at: dt.datetime
    sent_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    ack_code: str | None
    ack_text: str | None
    late_reason: str | None
    send_error: str | None = None  # why the last transmission of its batch failed (it stays generated)
    periodic_report: str | None = None  # kind periodic: the US periodic report it belongs to

    @property
    def case_number(self) -> str:
        return case_number(self.case_id)


def _record(row: SubmissionRow) -> Submission:
    return Submission(
        row.id,
        row.case_id,
        row.worldwide_id,
        row.version,
        row.destination,
        row.attempt,
        row.kind,
        row.report,
        row.rule,
        row.day_zero,
        row.due,
        row.state,
        row.batch_id,
        row.message_id,
        row.generated_at,
        row.sent_at,
        row.acknowledged_at,
        row.ack_code,
        row.ack_text,
        row.late_reason,
        periodic_report=row.periodic_report,
    )


def entity_id(row: SubmissionRow) -> str:
    """The audit trail's name of a submission: ``<worldwide id> v<version> → <destination> #<attempt>``."""
    return f"{row.worldwide_id} v{row.version} -> {row.destination} #{row.attempt}"


def change_state(
    session: Session,
    row: SubmissionRow,
    state: str,
    *,
    who: str,
    reason: str | None = None,
    at: dt.datetime | None = None,
    extra: dict[str, tuple[object, object]] | None = None,
) -> None:
    """Move a submission to ``state`` (audited); a move the state machine does not allow is refused."""
    if state not in _NEXT.get(row.state, frozenset()):
        raise UserInputError(
            f"submission {row.message_id} is {row.state}; it cannot become {state} "
            f"(allowed next: {', '.join(sorted(_NEXT.get(row.state, ()))) or 'none'})"
        )
    old = row.state
    row.state = state
    record_change(
        session,
        who=who,
        entity_type=ENTITY,
        entity_id=entity_id(row),
        action=f"state {state}",
        changes={"state": (old, state), **(extra or {})},
        reason=reason,
        at=at or utcnow(),
    )


def sent_versions(session: Session, case_ids: Collection[int] | None = None) -> dict[tuple[int, str], set[int]]:
    """(case id, destination) → the versions whose report counts as sent there."""
    stmt = select(SubmissionRow.case_id, SubmissionRow.destination, SubmissionRow.version).where(
        SubmissionRow.state.in_(COUNTS_AS_SENT)
    )
    statements = [stmt]
    if case_ids is not None and session.get_bind().dialect.name == "postgresql":
        # one statement, the ids as one array parameter (no limit on their number, no long statement to parse)
        statements = [
            stmt.where(SubmissionRow.case_id == any_(bindparam("case_ids", sorted(case_ids), ARRAY(Integer))))
        ]
    elif case_ids is not None:
        # PostgreSQL takes at most 65,535 bound parameters per statement: the ids go in chunks
        ids = sorted(case_ids)
        statements = [stmt.where(SubmissionRow.case_id.in_(ids[i : i + 10_000])) for i in range(0, len(ids), 10_000)]
    found: dict[tuple[int, str], set[int]] = {}
    for statement in statements:
        for case_id, destination, version in session.execute(statement):
            found.setdefault((case_id, destination), set()).add(version)
    return found


def pending_rows(session: Session, case_version_id: int, destination: str) -> list[SubmissionRow]:
    return list(
        session.scalars(
            select(SubmissionRow)
            .where(SubmissionRow.case_version_id == case_version_id, SubmissionRow.destination == destination)
            .order_by(SubmissionRow.attempt)
        )
    )


def last_rejections(session: Session) -> dict[tuple[int, str], Submission]:
    """(case id, destination) → its latest rejected submission not yet resubmitted (the queue's reason)."""
    rows = session.scalars(select(SubmissionRow).where(SubmissionRow.state == REJECTED).order_by(SubmissionRow.id))
    return {(r.case_id, r.destination): _record(r) for r in rows}


def list_submissions(
    session: Session,
    *,
    states: Iterable[str] = (),
    destination: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> list[Submission]:
    wanted = [s.strip().lower() for s in states]
    unknown = [s for s in wanted if s not in STATES]
    if unknown:
        raise UserInputError(f"unknown state(s) {', '.join(unknown)}: states are {', '.join(STATES)}")
    stmt = select(SubmissionRow).order_by(SubmissionRow.id)
    if wanted:
        stmt = stmt.where(SubmissionRow.state.in_(wanted))
    if destination:
        stmt = stmt.where(SubmissionRow.destination == destination.upper())
    unsent = select(BatchRow.batch_id, BatchRow.send_error).where(
        BatchRow.sent_at.is_(None), BatchRow.send_error.is_not(None)
    )
    failed = {batch_id: error for batch_id, error in session.execute(unsent)}
    return [
        replace(_record(r), send_error=failed.get(r.batch_id)) if r.batch_id in failed else _record(r)
        for r in session.scalars(stmt)
        if (since is None or r.due is None or r.due >= since) and (until is None or r.due is None or r.due <= until)
    ]


def submission_row(session: Session, ref: str) -> SubmissionRow:
    """A submission by its id or its message number (N.2.r.1)."""
    ref = ref.strip()
    row = session.scalars(select(SubmissionRow).where(SubmissionRow.message_id == ref)).first()
    if row is None and ref.isdigit():
        row = session.get(SubmissionRow, int(ref))
    if row is None:
        raise NotFoundError(f"no submission {ref!r}: give its id or its message number (see riskplan submission list)")
    return row


def record_late_reason(session: Session, ref: str, reason: str, *, who: str) -> Submission:
    """The case processor's reason why a report was (or will be) late, shown in the compliance report."""
    if not reason.strip():
        raise UserInputError("give the reason why the report was late")
    row = submission_row(session, ref)
    old = row.late_reason
    row.late_reason = reason.strip()
    record_change(
        session,
        who=who,
        entity_type=ENTITY,
        entity_id=entity_id(row),
        action="late reason recorded",
        changes={"late_reason": (old, row.late_reason)},
        reason=reason,
    )
    return _record(row)


def batch_row(session: Session, batch_id: str) -> BatchRow | None:
    return session.scalars(select(BatchRow).where(BatchRow.batch_id == batch_id)).first()


def to_record(row: SubmissionRow) -> Submission:
    return _record(row)
