"""Acknowledgments (ICH E2B(R3) ACK, ``MCCI_IN200101UV01``) matched to the batches and reports sent.

* ACK.M.1 the acknowledgment's own batch number: an ACK imported twice changes nothing;
* ACK.A.1 the batch acknowledged (our N.1.2), ACK.A.4 its code (AA accepted, AE some reports need
  action, AR the batch was rejected), ACK.A.5 the batch validation error;
* ACK.B.r.1 each report acknowledged (our N.2.r.1 message number), ACK.B.r.6 its code (CA / AA accepted;
  CR / AR / AE rejected), ACK.B.r.7 the authority's error text.

A rejected report goes back to the case processor's queue with that text; a late or repeated ACK for a
report already acknowledged the same way changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from riskplan.cases import HL7, E2bError, Hl7Timestamp, parse_untrusted
from riskplan.errors import UserInputError
from riskplan.store import record_change, utcnow
from riskplan.submissions.records import ACCEPTED, ENTITY, NULLIFIED, REJECTED, change_state, entity_id
from riskplan.submissions.tables import AckRow, BatchRow, SubmissionRow

ACCEPT_CODES = frozenset({"CA", "AA"})
REJECT_CODES = frozenset({"CR", "AR", "AE"})


def _q(tag: str) -> str:
    return f"{{{HL7}}}{tag}"


@dataclass(frozen=True)
class ReportAck:
    message_id: str  # ACK.B.r.1
    code: str  # ACK.B.r.6
    text: str | None  # ACK.B.r.7
    local_number: str | None  # ACK.B.r.2: the authority's number for the report


@dataclass(frozen=True)
class Acknowledgment:
    ack_batch_id: str  # ACK.M.1
    batch_id: str  # ACK.A.1
    code: str  # ACK.A.4
    text: str | None  # ACK.A.5
    created: str | None  # ACK.M.4
    reports: tuple[ReportAck, ...]


def parse_ack(data: bytes, where: str) -> Acknowledgment:
    """An acknowledgment from the bytes of a file; a clear error when the file is not one."""
    try:
        root = parse_untrusted(data)
    except E2bError as exc:
        raise UserInputError(f"{where}: {exc}") from None
    name = etree.QName(root)
    if root.tag == _q("MCCI_IN200100UV01"):
        raise UserInputError(f"{where}: this is an ICSR batch, not an acknowledgment: use riskplan case import")
    if root.tag != _q("MCCI_IN200101UV01"):
        raise UserInputError(
            f"{where}: not an E2B(R3) acknowledgment: the root element is <{name.localname}> "
            f"(namespace {name.namespace or 'none'}), expected <MCCI_IN200101UV01> in {HL7}"
        )
    ack_batch_id = _attr(root.find(_q("id")), "extension")
    batch_ack = root.find(_q("acknowledgement"))
    if ack_batch_id is None or batch_ack is None:
        raise UserInputError(f"{where}: the acknowledgment has no ACK.M.1 batch number or no ACK.A.4 code")
    batch_id = _attr(batch_ack.find(f"{_q('targetBatch')}/{_q('id')}"), "extension")
    code = batch_ack.get("typeCode")
    if batch_id is None or code is None:
        raise UserInputError(f"{where}: the acknowledgment names no batch (ACK.A.1) or no code (ACK.A.4)")
    reports = []
    for message in root.findall(_q("MCCI_IN000002UV01")):
        ack = message.find(_q("acknowledgement"))
        target = _attr(ack.find(f"{_q('targetMessage')}/{_q('id')}") if ack is not None else None, "extension")
        if ack is None or target is None or ack.get("typeCode") is None:
            raise UserInputError(f"{where}: a report acknowledgment lacks ACK.B.r.1 or ACK.B.r.6")
        reports.append(
            ReportAck(
                target,
                str(ack.get("typeCode")),
                _text(ack.find(f"{_q('acknowledgementDetail')}/{_q('text')}")),
                _attr(message.find(_q("id")), "extension"),
            )
        )
    return Acknowledgment(
        ack_batch_id,
        batch_id,
        code,
        _text(batch_ack.find(f"{_q('acknowledgementDetail')}/{_q('text')}")),
        _attr(root.find(_q("creationTime")), "value"),
        tuple(reports),
    )


def _attr(element: etree._Element | None, name: str) -> str | None:
    value = element.get(name) if element is not None else None
    return value.strip() if value and value.strip() else None


def _text(element: etree._Element | None) -> str | None:
    text = "".join(element.itertext()).strip() if element is not None else ""
    return text or None


@dataclass
class AckOutcome:
    ack: Acknowledgment
    already_imported: bool = False
    accepted: list[str] = field(default_factory=list)  # message ids
    rejected: list[tuple[str, str | None]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # message ids not in the batch


def apply_ack(session: Session, data: bytes, where: str, *, who: str, now: dt.datetime | None = None) -> AckOutcome:
    """Record an acknowledgment against its batch and reports (one transaction, the caller's)."""
    ack = parse_ack(data, where)
    now = now or utcnow()
    outcome = AckOutcome(ack)
    if session.scalar(select(AckRow.id).where(AckRow.ack_batch_id == ack.ack_batch_id)) is not None:
        outcome.already_imported = True
        return outcome
    batch = session.scalars(select(BatchRow).where(BatchRow.batch_id == ack.batch_id)).first()
    if batch is None:
        raise UserInputError(
            f"{where}: acknowledges batch {ack.batch_id!r} (ACK.A.1), which was not sent from this database; "
            "nothing recorded"
        )
    if batch.sent_at is None:
        raise UserInputError(f"{where}: batch {ack.batch_id} was generated but never sent; nothing recorded")
    rows = {
        r.message_id: r for r in session.scalars(select(SubmissionRow).where(SubmissionRow.batch_id == batch.batch_id))
    }
    received = _ack_time(ack, batch.sent_at, now)
    by_message = {r.message_id: r for r in ack.reports}
    outcome.unknown = [m for m in by_message if m not in rows]
    for message_id, row in rows.items():
        report = by_message.get(message_id)
        if report is not None:
            code, text = report.code, report.text
        elif ack.code == "AA":
            code, text = "AA", None  # the whole batch accepted
        elif ack.code == "AR":
            code, text = "AR", ack.text  # the whole batch rejected (ACK.A.5)
        else:
            continue  # AE without a line for this report: nothing said about it
        _apply(session, row, code, text, ack, outcome, who=who, now=now, received=received)
    batch.ack_code = ack.code
    batch.ack_text = ack.text
    session.add(
        AckRow(
            ack_batch_id=ack.ack_batch_id,
            batch_id=ack.batch_id,
            code=ack.code,
            sha256=hashlib.sha256(data).hexdigest(),
            imported_at=now,
            imported_by=who,
        )
    )
    return outcome


def _apply(
    session: Session,
    row: SubmissionRow,
    code: str,
    text: str | None,
    ack: Acknowledgment,
    outcome: AckOutcome,
    *,
    who: str,
    now: dt.datetime,
    received: dt.datetime,
) -> None:
    if code not in ACCEPT_CODES | REJECT_CODES:
        raise UserInputError(f"report {row.message_id}: unknown acknowledgment code {code!r} (ACK.B.r.6)")
    state = ACCEPTED if code in ACCEPT_CODES else REJECTED
    if row.state == state or row.state not in ("sent", "delivered"):
        outcome.unchanged.append(row.message_id)
        record_change(
            session,
            who=who,
            entity_type=ENTITY,
            entity_id=entity_id(row),
            action="late acknowledgment",
            changes={"ack": (row.ack_code, code)},
            reason=f"ACK {ack.ack_batch_id} ignored: the report is already {row.state}",
            at=now,
        )
        return
    row.ack_code = code
    row.ack_text = text
    row.acknowledged_at = received
    change_state(
        session,
        row,
        state,
        who=who,
        at=now,
        reason=text or f"ACK {ack.ack_batch_id}",
        extra={"ack": (None, code), "ack_batch": (None, ack.ack_batch_id)},
    )
    if state == ACCEPTED:
        outcome.accepted.append(row.message_id)
        if row.report == "nullification":
            _nullify_earlier(session, row, who=who, now=now)
    else:
        outcome.rejected.append((row.message_id, text))


def _ack_time(ack: Acknowledgment, sent_at: dt.datetime, now: dt.datetime) -> dt.datetime:
    """When the authority acknowledged (ACK.M.4), never before the batch was sent nor after the import."""
    when = now
    if ack.created:
        try:
            stamp = Hl7Timestamp(ack.created)
            when = dt.datetime.combine(stamp.earliest_date(), dt.time(), tzinfo=dt.UTC)
        except ValueError:
            when = now
    sent = sent_at if sent_at.tzinfo is not None else sent_at.replace(tzinfo=dt.UTC)
    return min(max(when, sent), now)


def _nullify_earlier(session: Session, row: SubmissionRow, *, who: str, now: dt.datetime) -> None:
    """An accepted nullification (GVP VI.C.6.2.2.9) supersedes the reports of the case accepted before it."""
    earlier = session.scalars(
        select(SubmissionRow).where(
            SubmissionRow.case_id == row.case_id,
            SubmissionRow.destination == row.destination,
            SubmissionRow.state == ACCEPTED,
            SubmissionRow.id != row.id,
        )
    )
    for other in earlier:
        change_state(session, other, NULLIFIED, who=who, at=now, reason=f"nullified by {row.message_id}")
