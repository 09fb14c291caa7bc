"""Submissions as records on SQLite and PostgreSQL: states, audit trail, idempotence, ACKs, compliance."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine

from case_factory import make_icsr
from conftest import shared_file
from riskplan.cases.codes import NullificationCode, Qualification, SenderType
from riskplan.cases.model import Hl7Timestamp, Icsr, PrimarySource, Sender
from riskplan.cases.processing import CaseProcessor
from riskplan.cases.store import store_cases
from riskplan.errors import UserInputError
from riskplan.plan.catalogue import load_plan
from riskplan.store.audit import history
from riskplan.store.db import session_scope
from riskplan.submissions import (
    Destination,
    ManualTransport,
    Transmission,
    apply_ack,
    compliance,
    destination_in_force,
    generate,
    list_submissions,
    owed_now,
    record_late_reason,
    record_mdn,
    transmit,
)
from riskplan.terms.coding import OpenTermList

D = dt.date
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def exportable(wid: str, received: str = "20261101") -> Icsr:
    reporter = PrimarySource(
        country="DE", qualification=Qualification.PHYSICIAN, family_name="Weber", primary_for_regulatory_purposes=True
    )
    icsr = make_icsr(wid, received=received, reporter=reporter)
    return icsr.model_copy(
        update={
            "created": Hl7Timestamp(f"{received}101500+0000"),
            "sender": Sender(
                sender_type=SenderType.PHARMACEUTICAL_COMPANY, organisation="Riskplan Pharma", country="DE"
            ),
            "reactions": (icsr.reactions[0].model_copy(update={"verbatim_language": "eng"}),),
            "narrative": "A 67-year-old woman on inebilizumab was admitted with pneumonia; she is recovering.",
        }
    )


def ack_bytes(example: str, batch_id: str, message_id: str, ack_number: str | None = None) -> bytes:
    """FDA's example ACK re-addressed to a batch and report sent from here (and, given, its ACK.M.1 number)."""
    text = shared_file("standards", "e2b_r3", "examples", example).read_text(encoding="utf-8")
    if ack_number is not None:
        text = re.sub(r'(<MCCI_IN200101UV01[^>]*>\s*<id extension=")[^"]*"', rf'\g<1>{ack_number}"', text)
    text = re.sub(r'(<targetBatch>\s*<id extension=")[^"]*"', rf'\g<1>{batch_id}"', text)
    text = re.sub(r'(<targetMessage>\s*<id extension=")[^"]*"', rf'\g<1>{message_id}"', text)
    return text.encode("utf-8")


@pytest.fixture(scope="module")
def processor() -> CaseProcessor:
    plan = load_plan("uplizna")
    return CaseProcessor(plan, OpenTermList(plan))


def test_a_report_goes_from_generated_to_accepted_audited_and_never_twice(
    engine: Engine, processor: CaseProcessor, tmp_path: Path
) -> None:
    cases = [processor.assess(exportable(f"DE-RPDEMO-2026-00010{i}")) for i in (1, 2)]
    with session_scope(engine) as s:
        store_cases(s, cases, plan_name="uplizna", plan_version=None, who="cp1", now=NOW - dt.timedelta(days=18))
    transport = ManualTransport(tmp_path)
    with session_scope(engine) as s:
        eu = destination_in_force(s, "EU")
        owed = owed_now(s, [eu])
        assert [(o.worldwide_id, o.due) for o in owed] == [
            ("DE-RPDEMO-2026-000101", D(2026, 11, 16)),
            ("DE-RPDEMO-2026-000102", D(2026, 11, 16)),
        ]
        batch = generate(s, eu, owed, sender_id="RISKPLAN", who="cp1", now=NOW, late_reason="site closed")
        assert batch is not None and batch.reports == 2 and len(batch.sha256) == 64
    with session_scope(engine) as s:
        assert owed_now(s, [eu]) == []  # generated: covered, not generated again
        assert [x.state for x in list_submissions(s)] == ["generated", "generated"]
        transmission = transmit(s, batch.batch_id, eu.destination, transport, who="cp1", now=NOW)
    assert Path(str(transmission.location)).read_bytes().startswith(b"<?xml")
    with session_scope(engine) as s, pytest.raises(UserInputError, match="already sent"):
        transmit(s, batch.batch_id, eu.destination, transport, who="cp1", now=NOW)
    with session_scope(engine) as s:
        first, second = list_submissions(s)
        assert (first.state, first.late_reason) == ("sent", "site closed")
        accepted = apply_ack(s, ack_bytes("fda_R3ack-positive.xml", batch.batch_id, first.message_id), "ack", who="cp1")
    # FDA's positive ACK is AA for the batch: the report it has no line for is accepted with the batch
    assert sorted(accepted.accepted) == [first.message_id, second.message_id] and accepted.unknown == []
    with session_scope(engine) as s:
        assert [x.state for x in list_submissions(s)] == ["accepted", "accepted"]
        again = apply_ack(s, ack_bytes("fda_R3ack-positive.xml", batch.batch_id, first.message_id), "ack", who="cp1")
        assert again.already_imported
        events = history(s, "submission", "DE-RPDEMO-2026-000101 v1 -> EU #1")
        record_late_reason(s, first.message_id, "site closed for a strike", who="qppv")
    assert [e.action for e in events if e.field == "state"] == ["state generated", "state sent", "state accepted"]
    with session_scope(engine) as s:
        report = compliance(s, D(2026, 11, 1), D(2026, 11, 30), D(2026, 11, 25), owed_now(s, [eu]))
    [line] = report.months
    assert (line.destination, line.month, line.due, line.on_time, line.late) == ("EU", "2026-11", 2, 0, 2)
    assert {x.reason for x in report.late} == {"site closed for a strike", "site closed"}


def test_an_ack_for_an_unknown_batch_or_an_icsr_file_changes_nothing(engine: Engine) -> None:
    with session_scope(engine) as s, pytest.raises(UserInputError, match="not sent from this database"):
        apply_ack(s, ack_bytes("fda_R3ack-negative.xml", "RP-EU-unknown", "x"), "neg.xml", who="cp1")
    icsr_batch = shared_file("standards", "e2b_r3", "examples", "fda_FAERS2022Scenario1.xml").read_bytes()
    with session_scope(engine) as s, pytest.raises(UserInputError, match="this is an ICSR batch"):
        apply_ack(s, icsr_batch, "scenario1.xml", who="cp1")
    with session_scope(engine) as s:
        assert list_submissions(s) == []


class GatewayStub:
    """A channel with an asynchronous MDN, standing in for AS2 behind the Transport seam."""

    channel = "as2"

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def send(self, batch: bytes, *, file_name: str, destination: Destination) -> Transmission:
        self.sent.append(batch)
        return Transmission(self.channel, f"<{file_name}@gateway>", "pending")


def test_an_mdn_delivers_and_an_accepted_nullification_supersedes_the_earlier_report(
    engine: Engine, processor: CaseProcessor
) -> None:
    first = exportable("DE-RPDEMO-2026-000201")
    nullified = first.model_copy(
        update={"nullification": NullificationCode.NULLIFICATION, "nullification_reason": "duplicate case"}
    )
    gateway = GatewayStub()

    def send_and_accept(ack_number: str) -> str:
        with session_scope(engine) as s:
            eu = destination_in_force(s, "EU")
            batch = generate(s, eu, owed_now(s, [eu]), sender_id="RISKPLAN", who="cp1", now=NOW)
            assert batch is not None and batch.reports == 1
            transmission = transmit(s, batch.batch_id, eu.destination, gateway, who="cp1", now=NOW)
            assert [x.state for x in list_submissions(s)][-1] == "sent"
            assert record_mdn(s, transmission.message_id, "processed", who="as2", now=NOW) == 1
            assert record_mdn(s, transmission.message_id, "processed", who="as2", now=NOW) == 0
            message = list_submissions(s)[-1].message_id
            assert list_submissions(s)[-1].state == "delivered"
            ack = ack_bytes("fda_R3ack-positive.xml", batch.batch_id, message, ack_number)
            assert apply_ack(s, ack, "ack", who="cp1").accepted == [message]
        return message

    with session_scope(engine) as s:
        store_cases(s, [processor.assess(first)], plan_name="uplizna", plan_version=None, who="cp1", now=NOW)
    send_and_accept("ACK-1")
    with session_scope(engine) as s:
        store_cases(s, [processor.assess(nullified)], plan_name="uplizna", plan_version=None, who="cp1", now=NOW)
    with session_scope(engine) as s:
        eu = destination_in_force(s, "EU")
        [owed] = owed_now(s, [eu])
        assert (owed.version, owed.report) == (2, "nullification")
    send_and_accept("ACK-2")
    with session_scope(engine) as s:
        assert [(x.report, x.state) for x in list_submissions(s)] == [
            ("initial", "nullified"),
            ("nullification", "accepted"),
        ]
    assert len(gateway.sent) == 2


def test_a_late_ack_contradicting_an_accepted_report_changes_nothing_but_is_audited(
    engine: Engine, processor: CaseProcessor, tmp_path: Path
) -> None:
    with session_scope(engine) as s:
        store_cases(
            s,
            [processor.assess(exportable("DE-RPDEMO-2026-000301"))],
            plan_name="uplizna",
            plan_version=None,
            who="cp1",
            now=NOW,
        )
    with session_scope(engine) as s:
        eu = destination_in_force(s, "EU")
        batch = generate(s, eu, owed_now(s, [eu]), sender_id="RISKPLAN", who="cp1", now=NOW)
        assert batch is not None
        transmit(s, batch.batch_id, eu.destination, ManualTransport(tmp_path), who="cp1", now=NOW)
        message = list_submissions(s)[0].message_id
        apply_ack(s, ack_bytes("fda_R3ack-positive.xml", batch.batch_id, message), "pos", who="cp1")
    with session_scope(engine) as s:
        late = apply_ack(s, ack_bytes("fda_R3ack-negative.xml", batch.batch_id, message), "neg", who="cp1")
        assert (late.accepted, late.rejected, late.unchanged) == ([], [], [message])
        [row] = list_submissions(s)
        events = history(s, "submission", "DE-RPDEMO-2026-000301 v1 -> EU #1")
    assert row.state == "accepted"
    assert events[-1].action == "late acknowledgment"


def test_the_fda_rules_checked_before_sending_are_fdas_own_words() -> None:
    from riskplan.submissions.fda_profile import case_findings, destination_findings

    path = shared_file("standards", "e2b_r3", "reference", "fda_rejection_warning_rules.csv")
    with path.open(encoding="utf-8", errors="replace", newline="") as f:
        sheet = {row[5]: row[6] for row in csv.reader(f) if len(row) > 6 and row[5].startswith("R0")}
    us = destination_in_force_bundled("US")
    assert destination_findings(us) == []
    wrong = us.model_copy(update={"receiver_id": "EVHUMAN", "message_receiver_id": None})
    found = destination_findings(wrong)
    assert [f.rule for f in found] == ["R0004", "R0006"]
    for finding in found:  # FDA's text, its spelling ("postmaket") corrected
        assert finding.text == sheet[finding.rule].replace("postmaket", "postmarket").strip()
    icsr = exportable("US-RPDEMO-2026-000401").model_copy(update={"local_expedited": None})
    assert "C.1.7" in [f.rule for f in case_findings(icsr, initial=True)]


def destination_in_force_bundled(code: str) -> Destination:
    from riskplan.submissions import bundled_destinations

    return bundled_destinations()[code]
