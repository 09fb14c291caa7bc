"""A destination's AS2 connection, from its ``[gateway.<CODE>]`` section of riskplan.toml, as a channel.

Example, for a local gateway started with ``riskplan gateway serve --port 8799 --state-dir /tmp/l-gw``::

    [gateway.EU]
    url = "http://127.0.0.1:8799/as2"
    local_gateway = "/tmp/l-gw"          # takes the gateway's AS2 id and certificate, and the demo sender's keys

and for an authority's gateway (EudraVigilance, FDA ESG), every part named::

    [gateway.US]
    url = "https://esg.example/as2"
    partner_as2_id = "ZZFDA"
    partner_certificate = "keys/fda-esg.pem"
    as2_id = "RISKPLAN-PHARMA"
    key = "keys/our-as2.key"                  # PEM, RSA; stays in the file, never in the database
    certificate = "keys/our-as2.pem"

The AS2 Message-ID of a batch is made from its N.1.2 batch number, so it is the same at every attempt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from riskplan.errors import UserInputError
from riskplan.settings import GatewayConnection
from riskplan.submissions.as2 import As2Partner, As2Receipt, As2Transport, RetryNotice, RetryPolicy, fetch_ack
from riskplan.submissions.as2_smime import SmimeError, load_certificate, load_key_pair

CHANNEL = "as2"


def how_to_configure(code: str) -> str:
    return (
        f"no AS2 connection for destination {code}: add to riskplan.toml a section\n"
        f"  [gateway.{code}]\n"
        '  url = "http://127.0.0.1:8799/as2"\n'
        '  local_gateway = "<the --state-dir of riskplan gateway serve>"\n'
        "or give url, partner_as2_id, partner_certificate, as2_id, key and certificate (PEM files)"
    )


@dataclass
class As2Channel:
    """Sends a destination's batches to its AS2 partner and fetches the partner's ICH ACKs."""

    destination: str
    transport: As2Transport
    ack_url: str
    channel: str = CHANNEL

    def message_id_for(self, batch_id: str) -> str:
        """The AS2 Message-ID of a batch (RFC 5322 §3.6.4, without angle brackets): one per batch."""
        domain = "".join(c for c in self.transport.as2_from.lower() if c.isalnum() or c in "-.") or "riskplan"
        local = "".join(c if c.isalnum() or c in "-._" else "-" for c in batch_id)
        return f"{local}@{domain}"

    def send(self, payload: bytes, file_name: str, message_id: str) -> As2Receipt:
        return self.transport.send(payload, file_name, message_id=message_id)

    def ack(self, message_id: str) -> bytes | None:
        """The partner's ICH acknowledgement for ``message_id``, or None while there is none (As2Error: down)."""
        return fetch_ack(self.ack_url, message_id, timeout=self.transport.retry.timeout)


def _local_gateway(code: str, folder: Path) -> dict[str, str]:
    config_path = folder / "gateway.json"
    if not config_path.is_file():
        raise UserInputError(
            f"[gateway.{code}] local_gateway = {folder}: no gateway.json there "
            "(start `riskplan gateway serve --state-dir` with that folder first)"
        )
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        return {
            "partner_as2_id": str(config["as2_id"]),
            "partner_certificate": str(config["certificate"]),
            "as2_id": str(config["sender"]["as2_id"]),
            "key": str(config["sender"]["key"]),
            "certificate": str(config["sender"]["certificate"]),
        }
    except (ValueError, KeyError, TypeError) as exc:
        raise UserInputError(f"{config_path}: not a gateway.json written by riskplan gateway serve ({exc})") from None


def as2_channel(code: str, connection: GatewayConnection | None, *, on_retry: RetryNotice | None = None) -> As2Channel:
    """The channel for destination ``code``; a clear error (nothing sent) when it is not fully configured."""
    if connection is None:
        raise UserInputError(how_to_configure(code))
    parts: dict[str, str | None] = {
        "partner_as2_id": connection.partner_as2_id,
        "partner_certificate": str(connection.partner_certificate) if connection.partner_certificate else None,
        "as2_id": connection.as2_id,
        "key": str(connection.key) if connection.key else None,
        "certificate": str(connection.certificate) if connection.certificate else None,
    }
    if connection.local_gateway is not None:
        found = _local_gateway(code, connection.local_gateway)
        parts = {name: value or found[name] for name, value in parts.items()}
    missing = [name for name, value in parts.items() if not value]
    if missing:
        raise UserInputError(f"[gateway.{code}] lacks {', '.join(missing)}\n{how_to_configure(code)}")
    try:
        own = load_key_pair(Path(str(parts["key"])), Path(str(parts["certificate"])))
        partner_certificate = load_certificate(Path(str(parts["partner_certificate"])))
    except SmimeError as exc:
        raise UserInputError(f"[gateway.{code}]: {exc}") from None
    except OSError as exc:
        raise UserInputError(f"[gateway.{code}]: cannot read {exc.filename}: {exc.strerror}") from None
    partner = As2Partner(as2_id=str(parts["partner_as2_id"]), url=connection.url, certificate=partner_certificate)
    retry = RetryPolicy(
        attempts=connection.attempts,
        initial_delay=connection.initial_delay,
        max_delay=connection.max_delay,
        timeout=connection.timeout,
    )
    transport = As2Transport(own=own, as2_from=str(parts["as2_id"]), partner=partner, retry=retry, on_retry=on_retry)
    ack_url = connection.ack_url or connection.url.rstrip("/").rsplit("/", 1)[0] + "/acks"
    return As2Channel(code, transport, ack_url)
