"""Generating and sending the reports owed: one E2B(R3) batch per destination, then its transport.

Generation and transmission are separate transactions: a batch is generated (file validated against the
ICH schema, SHA-256 stored, one submission per report in state ``generated``) and committed before the
channel is called, so a failed transmission leaves a batch that the next ``send`` transmits as it is,
never a second file for the same reports. A batch already sent is never sent again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from riskplan.cases import (
    E2bError,
    ExportedBatch,
    Icsr,
    Severity,
    check_business_rules,
    export_batches,
    synthetic_worldwide_ids,
    version_icsrs,
    with_stored_narratives,
)
from riskplan.errors import UserInputError
from riskplan.store import record_change
from riskplan.submissions.destination_versions import DestinationInForce
from riskplan.submissions.destinations import Destination, ReportKind
from riskplan.submissions.eu_rules import eu_findings
from riskplan.submissions.fda_derive import Derived, with_fda_elements
from riskplan.submissions.fda_profile import case_findings, destination_findings, route_for
from riskplan.submissions.obligations import INITIAL, Obligation, current_obligations
from riskplan.submissions.records import (
    DELIVERED,
    ENTITY,
    GENERATED,
    LIVE,
    REJECTED,
    RESUBMITTED,
    SENT,
    change_state,
    entity_id,
    sent_versions,
)
from riskplan.submissions.tables import BatchRow, SubmissionRow
from riskplan.submissions.transport import MDN_PROCESSED, Transmission, Transport

# GVP VI.B.6.1 (data quality): an invented report must never reach an authority as if it were real
SYNTHETIC_REFUSAL = (
    "synthetic case (riskplan synth, the demo): not a real report, never sent to an authority; "
    "send it on purpose with --allow-synthetic (the batch is then marked SYNTHETIC)"
)


@dataclass(frozen=True)
class Refusal:
    obligation: Obligation
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Warning:
    """A rule the report breaks at warning level (e.g. FDA W0005): recorded and shown, the report is sent."""

    obligation: Obligation
    warnings: tuple[str, ...]


@dataclass
class GeneratedBatch:
    destination: str
    batch_id: str  # the first file's N.1.2
    file_name: str
    sha256: str
    reports: int
    refused: list[Refusal] = field(default_factory=list)
    files: list[tuple[str, int]] = field(default_factory=list)  # (N.1.2, reports) of each file, when split
    warned: list[Warning] = field(default_factory=list)
    derived: int = 0  # reports whose FDA regional elements were derived from their obligation (recorded)


def owed_now(
    session: Session,
    destinations: Sequence[DestinationInForce],
    *,
    include_periodic: bool = False,
    case_ids: Collection[int] | None = None,
    due_between: tuple[dt.date, dt.date] | None = None,
) -> list[Obligation]:
    """The reports owed to these destinations (for ``case_ids``, default every case; ``due_between``: only those
    due in these days) that no live submission covers yet."""
    owed = current_obligations(
        session, destinations, sent_versions(session, case_ids), case_ids=case_ids, due_between=due_between
    )
    in_progress = {
        (version_id, destination)
        for version_id, destination in session.execute(
            select(SubmissionRow.case_version_id, SubmissionRow.destination).where(SubmissionRow.state.in_(LIVE))
        )
    }
    return [
        o
        for o in owed
        if (o.version_id, o.destination) not in in_progress and (include_periodic or o.kind is not ReportKind.PERIODIC)
    ]


def _checks(
    destination: Destination, obligation: Obligation, icsr: Icsr, today: dt.date
) -> tuple[list[str], list[str]]:
    """(reasons to refuse, warnings) for this report at this destination."""
    reasons = [
        f"{v.element} {v.path}: {v.message}"
        for v in check_business_rules(icsr, today=today)
        if v.severity is Severity.ERROR
    ]
    warnings: list[str] = []
    if destination.profile == "fda":
        # FDA E2B(R3) rejection and warning rules, on the route the case needs (postmarket or IND)
        receivers = route_for(destination, icsr)
        for f in case_findings(
            icsr, initial=obligation.report == INITIAL, batch_receiver=receivers[0], message_receiver=receivers[1]
        ):
            (reasons if f.level == "reject" else warnings).append(f"FDA {f}")
    if destination.profile == "eu":
        # EU ICSR Implementation Guide business rules (submissions/eu_rules.csv), as EudraVigilance applies them
        for e in eu_findings(icsr):
            (reasons if e.level == "reject" else warnings).append(str(e))
    return reasons, warnings


def _receivers(destination: Destination, icsr: Icsr) -> tuple[str, str | None]:
    """(N.1.4, N.2.r.3) of this report: FDA's route for the case at an FDA destination, else the
    destination's own."""
    if destination.profile == "fda":
        return route_for(destination, icsr)
    return str(destination.receiver_id), destination.message_receiver_id


def generate(
    session: Session,
    target: DestinationInForce,
    owed: Sequence[Obligation],
    *,
    sender_id: str,
    who: str,
    now: dt.datetime,
    late_reason: str | None = None,
    max_bytes: int = 50 * 1024 * 1024,
    allow_synthetic: bool = False,
    receiver_ids: Mapping[str, str] | None = None,
) -> GeneratedBatch | None:
    """One batch with every report owed to ``target`` that passes the checks; the others are refused with
    the rule's text and stay owed. None when nothing is left to send. A batch larger than ``max_bytes``
    is split into files ``<batch>-0001``, ``-0002``, ... (each a batch of its own, as ``case export``).
    At an FDA destination, IND safety reports go in a batch of their own to FDA's premarket receivers
    (``<batch>-IND``).

    A destination whose receiver identifier (N.1.4) is not bundled takes it from ``receiver_ids`` (the
    setting ``e2b_receiver_ids``); without one, every report owed there is refused, naming the setting.

    Synthetic cases (riskplan synth, the demo) are not real reports: refused unless ``allow_synthetic``,
    and a batch holding one is marked ``RP-SYNTHETIC-...`` in its batch number (N.1.2) and file name."""
    destination = target.destination
    mine = [o for o in owed if o.destination == destination.code]
    if not mine:
        return None
    if destination.receiver_id is None:
        configured = (receiver_ids or {}).get(destination.code)
        if not configured:
            return _empty(destination, [Refusal(o, (missing_receiver(destination),)) for o in mine])
        destination = destination.model_copy(update={"receiver_id": configured})
    if destination.profile == "fda":
        blocking = destination_findings(destination)
        if blocking:
            why = tuple(f"FDA {f}" for f in blocking)
            return _empty(destination, [Refusal(o, why) for o in mine])
    refused: list[Refusal] = []
    synthetic = set(synthetic_worldwide_ids(session, {o.case_id for o in mine}))
    if not allow_synthetic:
        refused += [Refusal(o, (SYNTHETIC_REFUSAL,)) for o in mine if o.worldwide_id in synthetic]
        mine = [o for o in mine if o.worldwide_id not in synthetic]
    marked = "SYNTHETIC-" if any(o.worldwide_id in synthetic for o in mine) else ""
    batch_id = f"RP-{marked}{destination.code}-{now:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}"
    result = GeneratedBatch(destination.code, batch_id, "", "", 0, refused)
    parts = [mine[i : i + CHUNK] for i in range(0, len(mine), CHUNK)]
    numbered = 0
    for number, part in enumerate(parts, start=1):
        icsrs = version_icsrs(session, [o.version_id for o in part])
        # ICH E2B(R3) H.1 case narrative: the narrative stored here for the version (its highest revision, so
        # the processor's edit wins over the draft it replaced), else the one received; the audit says which
        narrated = with_stored_narratives(session, [(o.case_id, o.version, icsrs[o.version_id]) for o in part])
        routes: dict[tuple[str, str | None], list[Chosen]] = {}
        for o, (icsr, narrative) in zip(part, narrated, strict=True):
            derived: tuple[Derived, ...] = ()
            if destination.profile == "fda":
                # FDA ICSR data elements (Required): what the case does not give is derived from the obligation
                icsr, derived = with_fda_elements(icsr, o)
            reasons, warnings = _checks(destination, o, icsr, now.date())
            if reasons:
                said = [f"derived for FDA: {d}" for d in derived if d.element in ("C.1.7", "FDA.C.1.7.1")]
                refused.append(Refusal(o, (*reasons, *said)))
            else:
                receivers = _receivers(destination, icsr)
                routes.setdefault(receivers, []).append(Chosen(o, icsr, tuple(warnings), derived, narrative))
                result.derived += bool(derived)
                if warnings:
                    result.warned.append(Warning(o, tuple(warnings)))
        del icsrs
        for (receiver, message_receiver), chosen in routes.items():
            suffix = "" if receiver == destination.receiver_id else "-IND"
            name = f"{batch_id}-{number:04d}" if len(parts) > 1 else batch_id
            numbered = _export_part(
                session,
                result,
                destination,
                chosen,
                batch=f"{name}{suffix}",
                first_message=numbered,
                receivers=(receiver, message_receiver),
                sender_id=sender_id,
                who=who,
                now=now,
                late_reason=late_reason,
                max_bytes=max_bytes,
                message_prefix=batch_id,
            )
        session.flush()
    if not result.files:
        return _empty(destination, refused)
    result.batch_id = result.files[0][0]
    return result


@dataclass(frozen=True)
class Chosen:
    """One report going into a batch: its obligation, the ICSR as written, its warnings, what was derived."""

    obligation: Obligation
    icsr: Icsr
    warnings: tuple[str, ...]
    derived: tuple[Derived, ...] = ()
    narrative: str = ""  # where H.1 came from (with_stored_narratives), recorded in the submission's audit


def missing_receiver(destination: Destination) -> str:
    """The refusal when a destination's N.1.4 is neither bundled nor configured."""
    return (
        f"{destination.code}: no E2B(R3) batch receiver identifier (N.1.4) for {destination.name}: riskplan "
        "ships none (it could not be established from a public source); set it in riskplan.toml as "
        f'[e2b_receiver_ids] {destination.code} = "<id given at your gateway registration>" '
        f'(or RISKPLAN_E2B_RECEIVER_IDS=\'{{"{destination.code}": "..."}}\'); nothing was generated'
    )


def _export_part(
    session: Session,
    result: GeneratedBatch,
    destination: Destination,
    chosen: list[Chosen],
    *,
    batch: str,
    first_message: int,
    receivers: tuple[str, str | None],
    sender_id: str,
    who: str,
    now: dt.datetime,
    late_reason: str | None,
    max_bytes: int,
    message_prefix: str,
) -> int:
    """Export and store one batch (split into files when larger than ``max_bytes``); returns the last
    message number used."""
    message_ids = [f"{message_prefix}-{first_message + n:04d}" for n in range(1, len(chosen) + 1)]
    try:
        files = export_batches(
            [c.icsr for c in chosen],
            batch_id=batch,
            sender_id=sender_id,
            receiver_id=receivers[0],
            message_receiver_id=receivers[1],
            created=now,
            message_ids=message_ids,
            max_bytes=max_bytes,
            rules_checked=True,
        )
    except E2bError as exc:
        raise UserInputError(f"{destination.code}: batch refused, nothing generated:\n{exc}") from None
    earlier = _rejected(session, destination.code, {c.obligation.case_id for c in chosen})
    attempts = _attempts(session, destination.code, [c.obligation.version_id for c in chosen])
    for exported in files:
        _store_file(session, result, exported, destination.code, who=who, now=now)
        for index in exported.indexes:
            o, warnings, derived = chosen[index].obligation, chosen[index].warnings, chosen[index].derived
            _add_submission(
                session,
                o,
                exported.batch_id,
                message_ids[index],
                earlier=earlier.get(o.case_id, []),
                attempt=attempts.get(o.version_id, 0) + 1,
                who=who,
                now=now,
                late_reason=late_reason,
                warnings=warnings,
                derived=derived,
                narrative=chosen[index].narrative,
            )
        result.reports += len(exported.indexes)
    return first_message + len(chosen)


CHUNK = 400  # reports read, exported and stored at a time (about 30 kB of XML each): memory stays bounded


def _store_file(
    session: Session, result: GeneratedBatch, exported: ExportedBatch, code: str, *, who: str, now: dt.datetime
) -> None:
    digest = hashlib.sha256(exported.data).hexdigest()
    file_name = f"{exported.batch_id}.xml"
    session.add(
        BatchRow(
            batch_id=exported.batch_id,
            destination=code,
            file_name=file_name,
            sha256=digest,
            content=exported.data.decode("utf-8"),
            created_at=now,
            created_by=who,
        )
    )
    result.files.append((exported.batch_id, len(exported.indexes)))
    if len(result.files) == 1:
        result.file_name, result.sha256 = file_name, digest


def _rejected(session: Session, code: str, case_ids: set[int]) -> dict[int, list[SubmissionRow]]:
    """Rejected reports of these cases at this destination: what the new reports correct."""
    found: dict[int, list[SubmissionRow]] = {}
    ids = sorted(case_ids)
    for start in range(0, len(ids), 500):
        stmt = select(SubmissionRow).where(
            SubmissionRow.case_id.in_(ids[start : start + 500]),
            SubmissionRow.destination == code,
            SubmissionRow.state == REJECTED,
        )
        for row in session.scalars(stmt):
            found.setdefault(row.case_id, []).append(row)
    return found


def _attempts(session: Session, code: str, version_ids: list[int]) -> dict[int, int]:
    """The last attempt number of each case version at this destination."""
    found: dict[int, int] = {}
    for start in range(0, len(version_ids), 500):
        stmt = (
            select(SubmissionRow.case_version_id, func.max(SubmissionRow.attempt))
            .where(
                SubmissionRow.case_version_id.in_(version_ids[start : start + 500]), SubmissionRow.destination == code
            )
            .group_by(SubmissionRow.case_version_id)
        )
        found.update((version_id, attempt) for version_id, attempt in session.execute(stmt))
    return found


def _empty(destination: Destination, refused: list[Refusal]) -> GeneratedBatch:
    return GeneratedBatch(destination.code, "", "", "", 0, refused)


def _add_submission(
    session: Session,
    o: Obligation,
    batch_id: str,
    message_id: str,
    *,
    who: str,
    now: dt.datetime,
    late_reason: str | None,
    earlier: list[SubmissionRow],
    attempt: int,
    warnings: tuple[str, ...] = (),
    derived: tuple[Derived, ...] = (),
    narrative: str = "",
) -> None:
    # a rejected report of this case here, of this version or an earlier one, is what this one corrects
    previous = None
    for row in earlier:
        if row.state != REJECTED:  # already corrected by another report of this send
            continue
        change_state(session, row, RESUBMITTED, who=who, reason=f"corrected and resubmitted in {batch_id}", at=now)
        previous = row.id
    late = late_reason if o.due is not None and now.date() > o.due else None
    row = SubmissionRow(
        case_version_id=o.version_id,
        case_id=o.case_id,
        worldwide_id=o.worldwide_id,
        version=o.version,
        destination=o.destination,
        destination_version=o.destination_version,
        attempt=attempt,
        kind=o.kind.value,
        report=o.report,
        rule=o.rule,
        day_zero=o.day_zero,
        due=o.due,
        state=GENERATED,
        batch_id=batch_id,
        message_id=message_id,
        generated_at=now,
        late_reason=late,
        resubmission_of=previous,
        periodic_report=o.periodic_report,
    )
    session.add(row)
    record_change(
        session,
        who=who,
        entity_type=ENTITY,
        entity_id=entity_id(row),
        action=f"state {GENERATED}",
        changes={
            "state": ("due", GENERATED),
            "batch": (None, batch_id),
            "message": (None, message_id),
            "rule": (None, o.rule),
            "due": (None, o.due),
            **({"warnings": (None, "; ".join(warnings))} if warnings else {}),
            # FDA regional elements the case did not give, written into the file with the rule they follow
            **({"derived": (None, "; ".join(str(d) for d in derived))} if derived else {}),
            # ICH E2B(R3) H.1: which narrative (stored revision, or as received) went out in the file
            **({"narrative": (None, narrative)} if narrative else {}),
        },
        reason=o.cites,
        at=now,
    )


def unsent_batches(session: Session, destination: str | None = None) -> list[str]:
    """Batches generated but not yet handed to a channel (a transmission that failed), oldest first."""
    stmt = select(BatchRow.batch_id).where(BatchRow.sent_at.is_(None)).order_by(BatchRow.id)
    if destination is not None:
        stmt = stmt.where(BatchRow.destination == destination)
    return list(session.scalars(stmt))


def transmit(
    session: Session,
    batch_id: str,
    destination: Destination,
    transport: Transport,
    *,
    who: str,
    now: dt.datetime,
) -> Transmission:
    """Hand a generated batch to its channel; each of its submissions becomes sent (delivered on an MDN)."""
    batch = locked_batch(session, batch_id)
    if batch.sending_at is not None and batch.channel != transport.channel:
        raise UserInputError(
            f"batch {batch_id} is being sent over {batch.channel} as {batch.transmission_id}: "
            f"finish with --channel {batch.channel} (sending it another way could send it twice)"
        )
    transmission = transport.send(batch.content.encode("utf-8"), file_name=batch.file_name, destination=destination)
    record_transmission(session, batch, transmission, who=who, now=now)
    return transmission


def locked_batch(session: Session, batch_id: str) -> BatchRow:
    """A generated batch not yet sent, locked for this transaction, its file checked against its SHA-256."""
    batch = session.scalars(select(BatchRow).where(BatchRow.batch_id == batch_id).with_for_update()).one()
    if batch.sent_at is not None:
        raise UserInputError(f"batch {batch_id} was already sent on {batch.sent_at:%Y-%m-%d %H:%M} UTC: not sent again")
    if hashlib.sha256(batch.content.encode("utf-8")).hexdigest() != batch.sha256:
        raise UserInputError(f"batch {batch_id}: its stored file no longer matches its SHA-256; not sent")
    return batch


def record_transmission(
    session: Session, batch: BatchRow, transmission: Transmission, *, who: str, now: dt.datetime
) -> None:
    """The batch was handed over: each of its submissions becomes sent, and delivered on an MDN processed."""
    batch.channel = transmission.channel
    batch.transmission_id = transmission.message_id
    batch.mdn_status = transmission.mdn_status
    batch.location = transmission.location
    batch.sent_at = now
    batch.send_error = None
    rows = session.scalars(select(SubmissionRow).where(SubmissionRow.batch_id == batch.batch_id))
    for row in rows:
        row.sent_at = now
        change_state(
            session,
            row,
            SENT,
            who=who,
            at=now,
            reason=transmission.detail,
            extra={"channel": (None, transmission.channel), "transmission": (None, transmission.message_id)},
        )
        if transmission.delivered:
            change_state(session, row, DELIVERED, who=who, at=now, reason="MDN: processed")


def record_mdn(session: Session, transmission_id: str, mdn_status: str, *, who: str, now: dt.datetime) -> int:
    """An asynchronous MDN for a transmission (e.g. AS2): with ``processed``, its submissions are delivered.
    Returns how many submissions changed; an MDN repeated for delivered ones changes nothing."""
    batch = session.scalars(select(BatchRow).where(BatchRow.transmission_id == transmission_id)).first()
    if batch is None:
        raise UserInputError(f"no batch was sent as transmission {transmission_id!r}")
    batch.mdn_status = mdn_status
    if mdn_status != MDN_PROCESSED:
        return 0
    changed = 0
    for row in session.scalars(select(SubmissionRow).where(SubmissionRow.batch_id == batch.batch_id)):
        if row.state == SENT:
            change_state(session, row, DELIVERED, who=who, at=now, reason=f"MDN: {mdn_status}")
            changed += 1
    return changed
