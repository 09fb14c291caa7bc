"""``riskplan gateway``: a local AS2 gateway (serve) and a thin AS2 sender for manual tests (send)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from riskplan.cli_support import console, err_console
from riskplan.errors import UserInputError
from riskplan.store import user_errors

app = typer.Typer(
    help="A local AS2 gateway that acts like an authority's (EudraVigilance, FDA ESG), and an AS2 sender.",
    no_args_is_help=True,
)


def _partner_options(values: list[str]) -> dict[str, Path]:
    partners: dict[str, Path] = {}
    for value in values:
        as2_id, sep, path = value.partition("=")
        if not sep or not as2_id or not path:
            raise UserInputError(f"--partner {value!r}: expected AS2ID=CERTIFICATE.pem")
        if not Path(path).is_file():
            raise UserInputError(f"--partner {value!r}: no certificate file at {path}")
        partners[as2_id] = Path(path)
    return partners


@app.command("serve")
@user_errors
def serve(
    port: Annotated[int, typer.Option(help="Port to listen on (127.0.0.1 only)", min=1, max=65535)] = 8765,
    state_dir: Annotated[
        Path | None, typer.Option(help="Folder for keys, received files and ACKs (default: a new temporary one)")
    ] = None,
    as2_id: Annotated[
        str, typer.Option(help="The gateway's AS2 id (AS2-To of the messages it accepts)")
    ] = "LOCAL-GATEWAY",
    sender_id: Annotated[
        str, typer.Option(help="AS2 id of the demo sender whose key is made in --state-dir")
    ] = "RISKPLAN-SENDER",
    partner: Annotated[
        list[str] | None, typer.Option(help="Another trusted sender: AS2ID=CERTIFICATE.pem (repeatable)")
    ] = None,
    profile: Annotated[
        str, typer.Option(help="Business rules checked after the schema: ich (none), eu (EudraVigilance), fda (FAERS)")
    ] = "ich",
) -> None:
    """Run the AS2 gateway on 127.0.0.1: signed MDNs, and an ICH ACK per file at /acks/<Message-ID>."""
    import uvicorn

    from riskplan.cases import E2bError, get_schema
    from riskplan.submissions.as2_smime import SmimeError
    from riskplan.submissions.gateway import create_app, prepare_gateway
    from riskplan.submissions.gateway_rules import PROFILES

    if profile not in PROFILES:
        raise UserInputError(f"--profile {profile!r}: profiles are {', '.join(PROFILES)}")
    folder = state_dir or Path(tempfile.mkdtemp(prefix="riskplan-gateway-"))
    url = f"http://127.0.0.1:{port}/as2"
    try:
        gateway = prepare_gateway(
            folder,
            as2_id=as2_id,
            sender_id=sender_id,
            partner_certificates=_partner_options(partner or []),
            url=url,
            profile=profile,
        )
        get_schema()  # compile the ICH schema before the first message (a second or two)
    except (SmimeError, E2bError, OSError) as exc:
        raise UserInputError(f"gateway not started: {exc}") from None
    console.print(f"AS2 gateway {as2_id} listening on {url} (business rules: {profile})")
    console.print(f"gateway certificate (give it to senders): {gateway.files.certificate}")
    console.print(
        f"ACKs (MCCI_IN200101UV01): GET http://127.0.0.1:{port}/acks/<Message-ID>; files in {folder / 'outbox'}"
    )
    console.print(f"trusted senders: {', '.join(sorted(gateway.partners))}")
    console.print(f"demo sender key and certificate: {gateway.files.sender_key}, {gateway.files.sender_certificate}")
    console.print(f"send a file: riskplan gateway send FILE --state-dir {folder}")
    uvicorn.run(create_app(gateway), host="127.0.0.1", port=port, log_level="warning")


@app.command("send")
@user_errors
def send(
    file: Annotated[Path, typer.Argument(help="The E2B(R3) XML file to send")],
    state_dir: Annotated[
        Path | None,
        typer.Option(help="A local gateway's state folder: takes its certificate and the demo sender's key"),
    ] = None,
    url: Annotated[str, typer.Option(help="The partner's AS2 endpoint")] = "http://127.0.0.1:8765/as2",
    partner_id: Annotated[str, typer.Option(help="The partner's AS2 id (AS2-To)")] = "LOCAL-GATEWAY",
    partner_cert: Annotated[Path | None, typer.Option(help="The partner's certificate (PEM)")] = None,
    as2_from: Annotated[str, typer.Option(help="Our AS2 id (AS2-From)")] = "RISKPLAN-SENDER",
    key: Annotated[Path | None, typer.Option(help="Our private key (PEM)")] = None,
    cert: Annotated[Path | None, typer.Option(help="Our certificate (PEM)")] = None,
    attempts: Annotated[int, typer.Option(help="Attempts while the partner is unreachable", min=1, max=20)] = 5,
    ack_wait: Annotated[float, typer.Option(help="Seconds to wait for the ICH ACK (0: do not ask)", min=0)] = 10.0,
    message_id: Annotated[
        str | None, typer.Option(help="Resend under this AS2 Message-ID (one printed by an earlier, failed send)")
    ] = None,
) -> None:
    """Send one file over AS2 (signed, encrypted, signed MDN requested) and print the MDN and the ACK."""
    from riskplan.submissions.as2 import As2DeliveryError, As2Error, As2Partner, As2Transport, RetryPolicy, wait_for_ack
    from riskplan.submissions.as2_smime import SmimeError, load_certificate, load_key_pair

    if not file.is_file():
        raise UserInputError(f"{file}: no such file")
    if state_dir is not None:
        config_path = state_dir / "gateway.json"
        if not config_path.is_file():
            raise UserInputError(f"--state-dir {state_dir}: no gateway.json (start `riskplan gateway serve` there)")
        config = json.loads(config_path.read_text())
        partner_cert = partner_cert or Path(config["certificate"])
        key = key or Path(config["sender"]["key"])
        cert = cert or Path(config["sender"]["certificate"])
        partner_id = config["as2_id"] if partner_id == "LOCAL-GATEWAY" else partner_id
        as2_from = config["sender"]["as2_id"] if as2_from == "RISKPLAN-SENDER" else as2_from
    if partner_cert is None or key is None or cert is None:
        raise UserInputError("give --state-dir of a local gateway, or --partner-cert, --key and --cert")
    try:
        own = load_key_pair(key, cert)
        partner = As2Partner(as2_id=partner_id, url=url, certificate=load_certificate(partner_cert))
    except (SmimeError, OSError) as exc:
        raise UserInputError(str(exc)) from None

    def notice(attempt: int, total: int, delay: float, reason: str) -> None:
        err_console.print(
            f"{url} not reachable ({reason}): attempt {attempt}/{total} failed, retrying in {delay:.1f} s"
        )

    transport = As2Transport(
        own=own, as2_from=as2_from, partner=partner, retry=RetryPolicy(attempts=attempts), on_retry=notice
    )
    try:
        receipt = transport.send(file.read_bytes(), file.name, message_id=message_id)
    except As2DeliveryError as exc:
        err_console.print(f"not delivered: {exc}")
        err_console.print(f"resend with: riskplan gateway send {file} --message-id {exc.message_id} ...")
        raise typer.Exit(1) from None
    except As2Error as exc:
        err_console.print(f"delivered, but the answer cannot be trusted: {exc}")
        raise typer.Exit(1) from None
    console.print(f"AS2 Message-ID: {receipt.message_id} (attempts: {receipt.attempts})")
    mic_check = (
        ("MIC matches" if receipt.mic_matches else "MIC DOES NOT match")
        if receipt.mdn.disposition == "processed"
        else ""
    )
    console.print(f"MDN: {receipt.mdn_status} (signed MDN verified{'; ' + mic_check if mic_check else ''})")
    if receipt.mdn.text and not receipt.delivered:
        console.print(f"MDN text: {receipt.mdn.text}")
    if not receipt.delivered:
        raise typer.Exit(1)
    if ack_wait <= 0:
        return
    ack_url = url.rsplit("/", 1)[0] + "/acks"
    ack = wait_for_ack(ack_url, receipt.message_id, timeout=ack_wait)
    if ack is None:
        console.print(f"no ICH ACK yet at {ack_url}; ask again later")
        return
    code, text = _ack_summary(ack)
    console.print(f"ICH ACK (ACK.A.4): {code}: {text}")
    if code != "AA":
        raise typer.Exit(1)


def _ack_summary(ack: bytes) -> tuple[str, str]:
    """ACK.A.4 and ACK.A.5, and each rejected message's ACK.B.r.7, from an MCCI_IN200101UV01."""
    from lxml import etree

    ns = {"h": "urn:hl7-org:v3"}
    root = etree.fromstring(ack, etree.XMLParser(resolve_entities=False, no_network=True))
    batch = root.find("h:acknowledgement", ns)
    code = batch.get("typeCode", "?") if batch is not None else "?"
    lines = [root.findtext("h:acknowledgement/h:acknowledgementDetail/h:text", "", ns)]
    for message in root.findall("h:MCCI_IN000002UV01/h:acknowledgement[@typeCode='CR']", ns):
        number = message.find("h:targetMessage/h:id", ns)
        name = number.get("extension", "?") if number is not None else "?"
        lines.append(f"\n  message {name}: CR: {message.findtext('h:acknowledgementDetail/h:text', '', ns)}")
    return str(code), "".join(str(line) for line in lines)
