"""The local AS2 gateway (``riskplan gateway``) run with uvicorn on 127.0.0.1, as a sender sees it:
signed MDNs, ICH ACKs, duplicates, a forged signature, a schema-invalid file, a gateway that is down."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from typer.testing import CliRunner

from riskplan.cases.e2b._base import get_schema, schema_path
from riskplan.cli import build_app
from riskplan.submissions.as2 import (
    As2DeliveryError,
    As2Partner,
    As2Transport,
    RetryPolicy,
    build_message,
    fetch_ack,
    wait_for_ack,
)
from riskplan.submissions.as2_smime import load_key_pair, make_self_signed
from riskplan.submissions.gateway import Gateway, create_app, prepare_gateway

EXAMPLE = Path(__file__).resolve().parents[3] / "shared" / "standards" / "e2b_r3" / "examples"
HL7 = {"h": "urn:hl7-org:v3"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Server:
    """uvicorn in a thread, started and stopped on demand."""

    def __init__(self, gateway: Gateway, port: int) -> None:
        import uvicorn

        self.server = uvicorn.Server(
            uvicorn.Config(create_app(gateway), host="127.0.0.1", port=port, log_level="warning")
        )
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


@pytest.fixture(scope="module")
def example() -> bytes:
    path = EXAMPLE / "fda_FAERS2022Scenario1.xml"
    if not path.is_file():
        pytest.skip("needs the shared E2B(R3) examples")
    return path.read_bytes()


@pytest.fixture
def gateway(tmp_path: Path) -> Gateway:
    get_schema()
    return prepare_gateway(tmp_path / "gateway")


@pytest.fixture
def running(gateway: Gateway) -> Iterator[tuple[Gateway, str]]:
    port = _free_port()
    server = _Server(gateway, port).start()
    yield gateway, f"http://127.0.0.1:{port}"
    server.stop()


def _transport(gateway: Gateway, base: str, **kwargs: object) -> As2Transport:
    sender = load_key_pair(gateway.files.sender_key, gateway.files.sender_certificate)
    partner = As2Partner(as2_id=gateway.as2_id, url=f"{base}/as2", certificate=gateway.own.certificate)
    return As2Transport(own=sender, as2_from="RISKPLAN-SENDER", partner=partner, **kwargs)  # type: ignore[arg-type]


def _ack_code(ack: bytes) -> tuple[str, list[tuple[str, str]]]:
    root = etree.fromstring(ack)
    errors = list(get_schema(schema_path().parent / "MCCI_IN200101UV01.xsd").iter_errors(root))
    assert errors == [], errors[:3]  # the ACK itself is valid against the ICH ACK schema
    messages = [
        (m.get("typeCode"), m.findtext("h:acknowledgementDetail/h:text", "", HL7))
        for m in root.findall("h:MCCI_IN000002UV01/h:acknowledgement", HL7)
    ]
    return root.find("h:acknowledgement", HL7).get("typeCode"), messages


def test_valid_file_gets_signed_mdn_and_positive_ack(running: tuple[Gateway, str], example: bytes) -> None:
    gateway, base = running
    receipt = _transport(gateway, base).send(example, "case.xml")
    assert receipt.delivered and receipt.mdn_status == "processed" and receipt.mic_matches
    ack = wait_for_ack(f"{base}/acks", receipt.message_id, timeout=10)
    assert ack is not None
    code, messages = _ack_code(ack)
    assert code == "AA" and messages == [("CA", "Report Loaded Successfully")]
    assert b"FAERS2022Scenario1-4069-a2dd-08002b30309d" in ack  # ACK.A.1 names the batch (N.1.2)
    assert fetch_ack(f"{base}/acks", "never-sent@x") is None


def test_same_message_id_twice_gives_the_same_mdn_and_one_ack(running: tuple[Gateway, str], example: bytes) -> None:
    gateway, base = running
    transport = _transport(gateway, base)
    message = build_message(
        example, filename="case.xml", own=transport.own, as2_from="RISKPLAN-SENDER", partner=transport.partner
    )
    first = transport.send_built(message)
    outbox = gateway.files.folder("outbox")
    ack_before = wait_for_ack(f"{base}/acks", message.message_id, timeout=10)
    second = transport.send_built(message)
    again = transport.send(example, "case.xml", message_id=message.message_id)  # re-signed, same Message-ID
    assert first == second == again  # same MDN, same verdict
    gateway.drain()
    assert len(list(outbox.iterdir())) == 1
    assert fetch_ack(f"{base}/acks", message.message_id) == ack_before


def test_forged_signature_is_answered_authentication_failed(running: tuple[Gateway, str], example: bytes) -> None:
    gateway, base = running
    transport = _transport(gateway, base)
    transport.own = make_self_signed("RISKPLAN-SENDER")  # not the key whose certificate the gateway holds
    receipt = transport.send(example, "case.xml")
    assert not receipt.delivered
    assert receipt.mdn_status == "processed/error: authentication-failed"
    gateway.drain()
    assert fetch_ack(f"{base}/acks", receipt.message_id) is None
    assert not any(gateway.files.folder("outbox").iterdir())


def test_schema_invalid_file_gets_negative_ack_with_the_schema_error(
    running: tuple[Gateway, str], example: bytes
) -> None:
    gateway, base = running
    transport = _transport(gateway, base)
    broken = example.replace(b'<processingCode code="P"/>', b'<processingKode code="P"/>', 1)
    receipt = transport.send(broken, "broken.xml")
    assert receipt.delivered  # the transport worked: MDN processed
    code, messages = _ack_code(wait_for_ack(f"{base}/acks", receipt.message_id, timeout=10) or b"")
    assert code == "AE"
    assert messages[0][0] == "CR" and "processingKode" in messages[0][1] and "schema" in messages[0][1]

    receipt = transport.send(b"<MCCI_IN200100UV01", "truncated.xml")
    code, messages = _ack_code(wait_for_ack(f"{base}/acks", receipt.message_id, timeout=10) or b"")
    assert code == "AR" and messages == []


def test_gateway_down_sender_backs_off_and_delivers_once_it_is_up(gateway: Gateway, example: bytes) -> None:
    port = _free_port()
    waits: list[float] = []
    notices: list[str] = []
    servers: list[_Server] = []

    def sleep(seconds: float) -> None:  # the gateway comes up during the second wait
        waits.append(seconds)
        if len(waits) == 2:
            servers.append(_Server(gateway, port).start())

    transport = _transport(
        gateway,
        f"http://127.0.0.1:{port}",
        retry=RetryPolicy(attempts=5, initial_delay=0.01, factor=2, max_delay=1),
        sleep=sleep,
        on_retry=lambda attempt, total, delay, reason: notices.append(f"{attempt}/{total} {delay} {reason}"),
    )
    try:
        receipt = transport.send(example, "case.xml")
    finally:
        for server in servers:
            server.stop()
    assert waits == [0.01, 0.02]  # exponential back-off
    assert receipt.attempts == 3 and receipt.delivered
    assert "refused" in notices[0].lower()
    gateway.drain()
    assert len(list(gateway.files.folder("outbox").iterdir())) == 1


def test_gateway_down_for_good_raises_and_the_message_can_be_resent(gateway: Gateway, example: bytes) -> None:
    port = _free_port()
    waits: list[float] = []
    transport = _transport(
        gateway,
        f"http://127.0.0.1:{port}",
        retry=RetryPolicy(attempts=4, initial_delay=1, factor=2, max_delay=3),
        sleep=waits.append,
    )
    message = build_message(
        example, filename="case.xml", own=transport.own, as2_from="RISKPLAN-SENDER", partner=transport.partner
    )
    with pytest.raises(As2DeliveryError, match="after 4 attempts") as caught:
        transport.send_built(message)
    assert waits == [1, 2, 3] and caught.value.message_id == message.message_id  # bounded: capped at max_delay
    server = _Server(gateway, port).start()
    try:
        assert transport.send_built(message).delivered  # nothing lost: the same message goes later
    finally:
        server.stop()


def test_cli_send_prints_mdn_and_ack(running: tuple[Gateway, str], example: bytes, tmp_path: Path) -> None:
    gateway, base = running
    good = tmp_path / "good.xml"
    good.write_bytes(example)
    runner = CliRunner()
    app = build_app(only="gateway")
    common = ["--state-dir", str(gateway.files.root), "--url", f"{base}/as2"]
    result = runner.invoke(app, ["gateway", "send", str(good), *common])
    assert result.exit_code == 0, result.output
    assert "MDN: processed (signed MDN verified; MIC matches)" in result.output
    assert "ICH ACK (ACK.A.4): AA" in result.output

    bad = tmp_path / "bad.xml"
    bad.write_bytes(example.replace(b"<processingCode ", b"<processingKode ", 1))
    result = runner.invoke(app, ["gateway", "send", str(bad), *common])
    assert result.exit_code == 1 and "AE" in result.output and "CR: schema" in result.output

    result = runner.invoke(app, ["gateway", "send", str(tmp_path / "missing.xml"), *common])
    assert result.exit_code == 2 and "no such file" in result.output
    result = runner.invoke(app, ["gateway", "serve", "--partner", "NOEQUALS"])
    assert result.exit_code == 2 and "AS2ID=CERTIFICATE.pem" in result.output
