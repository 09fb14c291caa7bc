"""Sending reports over AS2 to the local gateway (uvicorn in a thread), as a case processor sees it:
generated → sent → delivered (signed MDN) → accepted / rejected (ICH ACK), and the faults: a gateway that
is down, a process killed between the post and the record of the MDN, a duplicate or late ACK."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from test_submissions_cli import _new, _serious_de, _submissions
from test_submissions_records import exportable
from typer.testing import CliRunner

from riskplan.cases.e2b._base import get_schema
from riskplan.cases.processing import CaseProcessor
from riskplan.cases.store import store_cases
from riskplan.cli import app
from riskplan.plan.catalogue import load_plan
from riskplan.settings import GatewayConnection, get_settings
from riskplan.store.audit import history
from riskplan.store.db import session_scope
from riskplan.submissions import destination_in_force, generate, list_submissions, owed_now
from riskplan.submissions.as2 import As2Receipt
from riskplan.submissions.as2_channel import As2Channel, as2_channel
from riskplan.submissions.as2_sending import fetch_and_record_ack, send_batch
from riskplan.submissions.gateway import Gateway, create_app, prepare_gateway
from riskplan.submissions.tables import BatchRow
from riskplan.terms.coding import OpenTermList

runner = CliRunner()
WIDE = {"COLUMNS": "250"}
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Server:
    def __init__(self, gateway: Gateway, port: int) -> None:
        import uvicorn

        config = uvicorn.Config(create_app(gateway), host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> _Server:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.server.started
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def gateway(tmp_path: Path) -> Gateway:
    get_schema()
    return prepare_gateway(tmp_path / "gateway")


@pytest.fixture
def port() -> int:
    return _free_port()


@pytest.fixture
def running(gateway: Gateway, port: int) -> Iterator[Gateway]:
    server = _Server(gateway, port).start()
    yield gateway
    server.stop()


def _configure(folder: Path, gateway: Gateway, port: int, code: str = "EU") -> None:
    (folder / "riskplan.toml").write_text(
        f'[gateway.{code}]\nurl = "http://127.0.0.1:{port}/as2"\nlocal_gateway = "{gateway.files.root}"\n'
        "attempts = 3\ninitial_delay = 0.01\nmax_delay = 0.05\ntimeout = 10\n",
        encoding="utf-8",
    )
    get_settings.cache_clear()  # each command is a process of its own, reading riskplan.toml afresh


def _received(gateway: Gateway) -> list[Path]:
    return sorted(gateway.files.folder("received").glob("*.xml"))


def test_send_over_as2_records_the_mdn_then_the_ack_accepts_the_report(
    cli_env: Path, running: Gateway, port: int
) -> None:
    _configure(cli_env, running, port)
    _new(cli_env, _serious_de())
    sent = runner.invoke(app, ["submission", "send", "-d", "EU", "--channel", "as2", "--wait-ack", "20"], env=WIDE)
    assert sent.exit_code == 0, sent.output
    [row] = _submissions()
    batch, message = str(row["batch"]), str(row["message"])
    assert f"EU: batch {batch} (1 report(s)) sent by as2 as {batch}@riskplan-sender" in sent.output
    assert "MDN processed (signed, MIC verified; 1 attempt(s)): delivered" in sent.output
    assert f"batch {batch} (AA): 1 accepted, 0 rejected" in sent.output
    assert (row["state"], row["ack"]) == ("accepted", "CA")
    events = [e.action for e in _history(cli_env, f"{row['worldwide_id']} v1 -> EU #1") if e.field == "state"]
    assert events == ["state generated", "state sent", "state delivered", "state accepted"]
    [file] = _received(running)
    with session_scope(_engine(cli_env)) as s:
        stored = s.scalars(select(BatchRow)).one()
        assert file.read_bytes() == stored.content.encode("utf-8")  # the bytes whose SHA-256 is stored
        assert stored.mic and stored.mdn and stored.mdn.startswith("Content-Type: multipart/signed")
        assert stored.transmission_id == f"{batch}@riskplan-sender" and stored.mdn_status == "processed"
    assert message in file.read_text(encoding="utf-8")
    polled = runner.invoke(app, ["submission", "poll-acks"])
    assert polled.exit_code == 0 and "no batch sent over AS2 is waiting for its ACK" in polled.output
    again = runner.invoke(app, ["submission", "send", "-d", "EU", "--channel", "as2"])
    assert again.exit_code == 0 and "nothing to send" in again.output and len(_received(running)) == 1


def _engine(folder: Path) -> Engine:
    from riskplan.store.db import make_engine

    return make_engine(f"sqlite:///{folder / 'var' / 'riskplan.db'}")


def _history(folder: Path, entity: str) -> list:  # type: ignore[type-arg]
    with session_scope(_engine(folder)) as s:
        return list(history(s, "submission", entity))


def test_as2_without_a_connection_says_what_to_configure_and_generates_nothing(cli_env: Path) -> None:
    _new(cli_env, _serious_de())
    result = runner.invoke(app, ["submission", "send", "-d", "EU", "--channel", "as2"], env=WIDE)
    assert result.exit_code == 2
    assert "no AS2 connection for destination EU: add to riskplan.toml a section" in result.output
    assert "[gateway.EU]" in result.output and "Traceback" not in result.output
    assert _submissions() == []
    (cli_env / "riskplan.toml").write_text(
        '[gateway.EU]\nurl = "http://127.0.0.1:1/as2"\nlocal_gateway = "nowhere"\n', encoding="utf-8"
    )
    get_settings.cache_clear()
    result = runner.invoke(app, ["submission", "send", "-d", "EU", "--channel", "as2"], env=WIDE)
    assert result.exit_code == 2 and "no gateway.json there" in result.output and _submissions() == []


def test_gateway_down_retries_then_the_next_send_delivers_the_same_file_under_the_same_message_id(
    cli_env: Path, gateway: Gateway, port: int
) -> None:
    _configure(cli_env, gateway, port)
    _new(cli_env, _serious_de())
    down = runner.invoke(app, ["submission", "send", "-d", "EU", "--channel", "as2"], env=WIDE)
    assert down.exit_code == 1
    assert "attempt 1/3 failed, retrying in 0.0 s" in down.output and "attempt 2/3 failed" in down.output
    assert "not delivered" in down.output and "after 3 attempts" in down.output
    [row] = _submissions()
    assert row["state"] == "generated"  # nothing lost: the batch waits with its Message-ID
    assert "after 3 attempts" in str(row["send_error"])  # and the processor sees why
    with session_scope(_engine(cli_env)) as s:
        batch = s.scalars(select(BatchRow)).one()
        first_id, digest = batch.transmission_id, batch.sha256
        assert batch.mdn_status == "send failed" and "after 3 attempts" in str(batch.send_error)
        assert batch.send_attempts == 3 and batch.sent_at is None
    server = _Server(gateway, port).start()
    try:
        resent = runner.invoke(app, ["submission", "send", "-d", "EU", "--channel", "as2", "--wait-ack", "20"])
    finally:
        server.stop()
    assert resent.exit_code == 0, resent.output
    assert "(generated earlier) sent by as2" in resent.output and "resumed under the same Message-ID" in resent.output
    [row] = _submissions()
    assert row["state"] == "accepted" and row["send_error"] is None
    with session_scope(_engine(cli_env)) as s:
        batch = s.scalars(select(BatchRow)).one()
        assert (batch.transmission_id, batch.sha256, batch.send_attempts) == (first_id, digest, 4)
        assert batch.send_error is None
    [file] = _received(gateway)  # one file at the gateway: nothing sent twice
    assert file.read_bytes().decode("utf-8") == batch.content


class _KilledAfterThePost:
    """The process dies after the gateway took the message, before the MDN is recorded."""

    def __init__(self, real: As2Channel) -> None:
        self.real = real
        self.channel = real.channel
        self.transport = real.transport

    def message_id_for(self, batch_id: str) -> str:
        return self.real.message_id_for(batch_id)

    def send(self, payload: bytes, file_name: str, message_id: str) -> As2Receipt:
        self.real.send(payload, file_name, message_id)
        raise KeyboardInterrupt("killed")


def test_a_process_killed_between_the_post_and_the_mdn_is_reconciled_by_message_id(
    engine: Engine, running: Gateway, port: int
) -> None:
    plan = load_plan("uplizna")
    processor = CaseProcessor(plan, OpenTermList(plan))
    with session_scope(engine) as s:
        store_cases(
            s,
            [processor.assess(exportable("DE-RPDEMO-2026-000301"))],
            plan_name="uplizna",
            plan_version=None,
            who="cp1",
        )
    with session_scope(engine) as s:
        eu = destination_in_force(s, "EU")
        generated = generate(s, eu, owed_now(s, [eu]), sender_id="RISKPLAN", who="cp1", now=NOW)
    assert generated is not None
    channel = as2_channel("EU", GatewayConnection(url=f"http://127.0.0.1:{port}/as2", local_gateway=running.files.root))
    with pytest.raises(KeyboardInterrupt):
        send_batch(engine, generated.batch_id, eu.destination, _KilledAfterThePost(channel), who="cp1", now=NOW)  # type: ignore[arg-type]
    with session_scope(engine) as s:
        batch = s.scalars(select(BatchRow)).one()
        assert batch.sending_at is not None and batch.transmission_id == channel.message_id_for(generated.batch_id)
        assert [x.state for x in list_submissions(s)] == ["generated"]  # the MDN was never recorded
    assert len(_received(running)) == 1  # but the gateway has the file
    outcome = send_batch(engine, generated.batch_id, eu.destination, channel, who="cp1", now=NOW)  # the restart
    assert outcome.delivered and outcome.resumed and outcome.message_id == batch.transmission_id
    running.drain()
    assert len(_received(running)) == 1 and len(list(running.files.folder("outbox").iterdir())) == 1  # one ACK
    with session_scope(engine) as s:
        assert [x.state for x in list_submissions(s)] == ["delivered"]
    accepted = fetch_and_record_ack(engine, channel, outcome.message_id, who="cp1", wait=20)
    assert accepted is not None and len(accepted.accepted) == 1
    duplicate = fetch_and_record_ack(engine, channel, outcome.message_id, who="cp1")
    assert duplicate is not None and duplicate.already_imported  # a duplicate ACK changes nothing
    with session_scope(engine) as s:
        [report] = list_submissions(s)
        assert (report.state, report.ack_code) == ("accepted", "CA")
        events = history(s, "submission batch", generated.batch_id)
    assert [e.action for e in events if e.field == "transmission"] == ["sending"]  # one sending, resumed once


def test_poll_acks_records_an_ack_that_comes_later_and_a_late_duplicate_changes_nothing(
    cli_env: Path, running: Gateway, port: int
) -> None:
    _configure(cli_env, running, port)
    _new(cli_env, _serious_de())
    sent = runner.invoke(app, ["submission", "send", "-d", "EU", "--channel", "as2"], env=WIDE)
    assert sent.exit_code == 0, sent.output
    assert [r["state"] for r in _submissions()] == ["delivered"]
    running.drain()
    polled = runner.invoke(app, ["submission", "poll-acks", "--wait", "10"], env=WIDE)
    assert polled.exit_code == 0, polled.output
    assert "(AA): 1 accepted, 0 rejected" in polled.output
    [outbox] = running.files.folder("outbox").glob("*.xml")
    late = runner.invoke(app, ["submission", "ack", str(outbox)], env=WIDE)
    assert late.exit_code == 0 and "was already imported; nothing changed" in late.output
    assert [r["state"] for r in _submissions()] == ["accepted"]
    listed = runner.invoke(app, ["submission", "list", "--format", "json"])
    assert json.loads(listed.output)[0]["ack"] == "CA"


@pytest.fixture
def fda_gateway(tmp_path: Path, port: int) -> Iterator[Gateway]:
    get_schema()
    gateway = prepare_gateway(tmp_path / "fda-gateway", profile="fda")
    server = _Server(gateway, port).start()
    yield gateway
    server.stop()


def test_an_fda_gateway_rejects_a_report_by_fdas_business_rules_with_the_rules_text(
    fda_gateway: Gateway, port: int
) -> None:
    from test_submissions_gateway import EXAMPLE, _ack_code

    from riskplan.cases.e2b import export_icsrs

    channel = as2_channel(
        "US", GatewayConnection(url=f"http://127.0.0.1:{port}/as2", local_gateway=fda_gateway.files.root)
    )
    no_regional = export_icsrs(
        [_serious_de()],
        batch_id="B-FDA-1",
        sender_id="RISKPLAN",
        receiver_id="ZZFDA",
        message_receiver_id="CDER",
        created=NOW,
    )  # schema-valid, but without FDA.C.1.7.1, FDA.C.1.12, FDA.D.11.r.1, FDA.D.12
    receipt = channel.send(no_regional, "b.xml", "m-1@riskplan")
    assert receipt.delivered  # the MDN says received; the ACK says what FAERS thinks of it
    code, messages = _ack_code(fda_gateway_ack(fda_gateway, channel, "m-1@riskplan"))
    assert code == "AE" and messages[0][0] == "CR"
    assert "FDA.C.1.7.1: Data value required for tag FDA.C.1.7.1" in messages[0][1]  # FDA's generic text
    assert "FDA.D.12: Data value required for tag FDA.D.12" in messages[0][1]
    good = (EXAMPLE / "fda_FAERS2022Scenario1.xml").read_bytes()  # FDA's own example has its regional elements
    channel.send(good, "s1.xml", "m-2@riskplan")
    assert _ack_code(fda_gateway_ack(fda_gateway, channel, "m-2@riskplan"))[0] == "AA"


def fda_gateway_ack(gateway: Gateway, channel: As2Channel, message_id: str) -> bytes:
    gateway.drain()
    ack = channel.ack(message_id)
    assert ack is not None
    return ack


def test_a_batch_the_gateway_rejects_goes_back_to_the_queue_with_the_rules_text(
    cli_env: Path, fda_gateway: Gateway, port: int
) -> None:
    _configure(cli_env, fda_gateway, port)  # EU's batch (N.1.4 EVHUMAN) sent to a FAERS-like gateway
    _new(cli_env, _serious_de())
    sent = runner.invoke(app, ["submission", "send", "-d", "EU", "--channel", "as2", "--wait-ack", "20"], env=WIDE)
    assert sent.exit_code == 1, sent.output  # delivered, then rejected: the processor has work to do
    assert "(AR): 0 accepted, 1 rejected" in sent.output
    assert 'R0004: ICSR sent to the postmarket route does not have the value "ZZFDA" for N.1.4' in sent.output
    [row] = _submissions()
    assert row["state"] == "rejected" and "R0004" in str(row["ack_text"])
    queue = runner.invoke(app, ["submission", "due", "-d", "EU", "--format", "json"])
    [back] = json.loads(queue.output)
    assert "R0004" in back["rejected"]
    wrong = runner.invoke(app, ["gateway", "serve", "--profile", "mhra"])
    assert wrong.exit_code == 2 and "--profile 'mhra': profiles are ich, eu, fda" in wrong.output


def test_synthetic_cases_with_fda_regional_elements_are_accepted_by_an_fda_gateway(
    engine: Engine, fda_gateway: Gateway, port: int
) -> None:
    from riskplan.cases.intake import intake, intake_context
    from riskplan.cases.synth import synthesise_cases

    cases = synthesise_cases(40, seed=5, duplicate_share=0, invalid_share=0, fda_regional=True)
    with session_scope(engine) as s:
        intake(s, cases, context=intake_context(s, "uplizna", "cp1"), who="cp1", synthetic=True)
    with session_scope(engine) as s:
        us = destination_in_force(s, "US")
        generated = generate(
            s, us, owed_now(s, [us]), sender_id="RISKPLAN", who="cp1", now=NOW, max_bytes=60_000, allow_synthetic=True
        )
    assert generated is not None and generated.refused == [] and generated.reports > 1
    assert len(generated.files) > 1  # split by size: one AS2 message per file, several ICSRs in each
    channel = as2_channel(
        "US", GatewayConnection(url=f"http://127.0.0.1:{port}/as2", local_gateway=fda_gateway.files.root)
    )
    for batch_id, _ in generated.files:
        outcome = send_batch(engine, batch_id, us.destination, channel, who="cp1", now=NOW)
        assert outcome.delivered
        ack = fetch_and_record_ack(engine, channel, outcome.message_id, who="cp1", wait=30)
        assert ack is not None and ack.rejected == [] and ack.ack.code == "AA"
    with session_scope(engine) as s:
        assert {x.state for x in list_submissions(s)} == {"accepted"}
        assert owed_now(s, [us]) == []
