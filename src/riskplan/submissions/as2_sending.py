"""Sending a generated batch over AS2 so that nothing is lost and nothing is sent twice, then its ACK.

Three transactions per batch (RFC 4130 §9.5 duplicate handling makes the middle step safe to repeat):

1. ``sending``: the batch's AS2 Message-ID (made from its N.1.2 number) and ``sending_at`` are committed
   before anything goes on the wire;
2. the HTTP post, retried with back-off while the gateway is unreachable (no transaction open);
3. the signed MDN recorded: its submissions become sent, then delivered; the MIC and the MDN are kept.

A gateway that stays down leaves the batch ``generated`` with the reason and its Message-ID; the next
``riskplan submission send`` posts the same file under the same Message-ID. A process killed between
steps 2 and 3 is reconciled the same way: the gateway answers the repeated Message-ID with the MDN it
first sent, and produces no second ACK. The ACK (MCCI_IN200101UV01) is then fetched and recorded
through :func:`riskplan.submissions.acks.apply_ack`, which ignores an ACK imported before.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy import Engine, select

from riskplan.errors import UserInputError
from riskplan.store import record_change, session_scope
from riskplan.submissions.acks import AckOutcome, apply_ack
from riskplan.submissions.as2 import As2DeliveryError, As2Error, As2Receipt
from riskplan.submissions.as2_channel import As2Channel
from riskplan.submissions.destinations import Destination
from riskplan.submissions.sending import locked_batch, record_transmission
from riskplan.submissions.tables import BatchRow
from riskplan.submissions.transport import Transmission

BATCH_ENTITY = "submission batch"
SENDING = "sending"
SEND_FAILED = "send failed"


@dataclass(frozen=True)
class As2Outcome:
    """What became of one batch sent over AS2."""

    batch_id: str
    message_id: str
    delivered: bool
    status: str  # the MDN's disposition, or "send failed"
    attempts: int
    detail: str | None = None
    resumed: bool = False  # a sending begun earlier (a failure or a crash) was completed


def send_batch(
    engine: Engine, batch_id: str, destination: Destination, channel: As2Channel, *, who: str, now: dt.datetime
) -> As2Outcome:
    """Send one generated batch over AS2 and record the MDN (see the module docstring)."""
    with session_scope(engine) as session:
        batch = locked_batch(session, batch_id)
        if batch.channel not in (None, channel.channel):
            raise UserInputError(f"batch {batch_id} was being sent over {batch.channel}; not sent over AS2")
        resumed = batch.sending_at is not None
        if batch.transmission_id is None:
            batch.transmission_id = channel.message_id_for(batch_id)
        if not resumed:
            batch.channel = channel.channel
            batch.sending_at = now
            batch.mdn_status = SENDING
            record_change(
                session,
                who=who,
                entity_type=BATCH_ENTITY,
                entity_id=batch_id,
                action=SENDING,
                changes={"channel": (None, channel.channel), "transmission": (None, batch.transmission_id)},
                reason=f"AS2 to {channel.transport.partner.as2_id} at {channel.transport.partner.url}",
                at=now,
            )
        message_id = batch.transmission_id
        data, file_name = batch.content.encode("utf-8"), batch.file_name
    try:
        receipt = channel.send(data, file_name, message_id)
    except As2Error as exc:  # As2DeliveryError included: the gateway stayed down, or its answer was not trusted
        attempts = exc.attempts if isinstance(exc, As2DeliveryError) else 1
        _record_failure(engine, batch_id, str(exc), attempts, who=who, now=now)
        return As2Outcome(batch_id, message_id, False, SEND_FAILED, attempts, str(exc), resumed)
    _test_barrier_after_post()
    if not receipt.delivered:
        detail = f"MDN {receipt.mdn_status}: {receipt.mdn.text}".strip()
        _record_failure(engine, batch_id, detail, receipt.attempts, who=who, now=now, mdn_status=receipt.mdn_status)
        return As2Outcome(batch_id, message_id, False, receipt.mdn_status, receipt.attempts, detail, resumed)
    with session_scope(engine) as session:
        batch = locked_batch(session, batch_id)
        _record_receipt(batch, receipt)
        transmission = Transmission(
            channel.channel,
            message_id,
            receipt.mdn_status,
            detail=f"AS2 to {channel.transport.partner.as2_id}: signed MDN {receipt.mdn_status}, MIC {receipt.mic}",
        )
        record_transmission(session, batch, transmission, who=who, now=now)
    return As2Outcome(batch_id, message_id, True, receipt.mdn_status, receipt.attempts, None, resumed)


#: Test only: a file path. After the post (the MDN in hand, not yet recorded) the sender creates
#: ``<path>.reached`` and waits until ``<path>`` exists, so that a test can SIGKILL it right there.
TEST_BARRIER: Final = "RISKPLAN_TEST_BARRIER_AFTER_POST"


def _test_barrier_after_post() -> None:
    path = os.environ.get(TEST_BARRIER)
    if not path:
        return
    Path(f"{path}.reached").touch()
    while not Path(path).exists():
        time.sleep(0.05)


def _record_receipt(batch: BatchRow, receipt: As2Receipt) -> None:
    batch.send_attempts += receipt.attempts
    batch.mic = receipt.mic
    body = base64.encodebytes(receipt.mdn_body).decode("ascii")
    batch.mdn = f"Content-Type: {receipt.mdn_content_type}\nContent-Transfer-Encoding: base64\n\n{body}"


def _record_failure(
    engine: Engine,
    batch_id: str,
    reason: str,
    attempts: int,
    *,
    who: str,
    now: dt.datetime,
    mdn_status: str = SEND_FAILED,
) -> None:
    """The batch stays generated, its Message-ID kept for the next send; the reason is recorded (audited)."""
    with session_scope(engine) as session:
        batch = session.scalars(select(BatchRow).where(BatchRow.batch_id == batch_id)).one()
        batch.send_attempts += attempts
        batch.send_error = reason
        batch.mdn_status = mdn_status
        record_change(
            session,
            who=who,
            entity_type=BATCH_ENTITY,
            entity_id=batch_id,
            action=SEND_FAILED,
            changes={"mdn_status": (SENDING, mdn_status), "attempts": (None, batch.send_attempts)},
            reason=reason,
            at=now,
        )


def awaiting_ack(engine: Engine, destination: str | None = None) -> list[tuple[str, str, str]]:
    """(batch id, destination, AS2 Message-ID) of the batches delivered over AS2 with no ACK yet."""
    stmt = (
        select(BatchRow.batch_id, BatchRow.destination, BatchRow.transmission_id)
        .where(BatchRow.channel == "as2", BatchRow.sent_at.is_not(None), BatchRow.ack_code.is_(None))
        .order_by(BatchRow.id)
    )
    if destination is not None:
        stmt = stmt.where(BatchRow.destination == destination)
    with session_scope(engine) as session:
        return [(b, d, str(m)) for b, d, m in session.execute(stmt)]


def fetch_and_record_ack(
    engine: Engine, channel: As2Channel, message_id: str, *, who: str, wait: float = 0.0, interval: float = 0.2
) -> AckOutcome | None:
    """The gateway's ACK for ``message_id`` recorded (accepted / rejected with its text); None while there
    is none after ``wait`` seconds. A repeated ACK changes nothing. Raises As2Error when the gateway is down."""
    deadline = time.monotonic() + wait
    while True:
        data = channel.ack(message_id)
        if data is not None:
            break
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)
    with session_scope(engine) as session:
        return apply_ack(session, data, f"ACK for AS2 message {message_id}", who=who)
