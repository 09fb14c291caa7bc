"""A local AS2 gateway that behaves like an authority's (EudraVigilance gateway, FDA ESG), for tests and
the demo: ``riskplan gateway serve``.

``POST /as2``: decrypt, verify the sender's signature, answer with a signed synchronous MDN (RFC 4130 §7),
then (a background worker, as the ACK follows the MDN at a real gateway) check the E2B(R3) file and write
the ICH acknowledgement (MCCI_IN200101UV01) into the outbox.
``GET /acks/{message-id}``: the acknowledgement for an AS2 Message-ID (404 while there is none). Real
gateways send the ACK later as a separate AS2 message to the sender's own AS2 endpoint; here the sender
polls, which keeps the sender free of an inbound server. ``GET /certificate``: the gateway's certificate.

The same Message-ID from the same partner is answered with the MDN first sent and produces no second ACK
(RFC 4130 §9.5 duplicates). Messages that fail authentication are not remembered, so they cannot block a
later genuine message with that id. Keys are self-signed, short-lived and made at start in the state folder.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from riskplan.submissions.as2_receive import IncomingMessage, build_mdn, receive
from riskplan.submissions.as2_smime import KeyPair, load_certificate, load_key_pair, make_self_signed, write_key_pair
from riskplan.submissions.gateway_ack import acknowledge
from riskplan.submissions.gateway_rules import ProfileRules

if TYPE_CHECKING:
    from starlette.applications import Starlette

DEFAULT_GATEWAY_ID: Final = "LOCAL-GATEWAY"
DEFAULT_SENDER_ID: Final = "RISKPLAN-SENDER"
CERT_DAYS: Final = 7


@dataclass(frozen=True)
class GatewayFiles:
    """Where a gateway keeps its keys, the demo sender's keys, received files, MDNs and the ACK outbox."""

    root: Path

    @property
    def key(self) -> Path:
        return self.root / "gateway.key"

    @property
    def certificate(self) -> Path:
        return self.root / "gateway.pem"

    @property
    def sender_key(self) -> Path:
        return self.root / "sender.key"

    @property
    def sender_certificate(self) -> Path:
        return self.root / "sender.pem"

    @property
    def config(self) -> Path:
        return self.root / "gateway.json"

    def folder(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path


def message_key(message_id: str) -> str:
    """A file name for an AS2 Message-ID (which may hold any printable character)."""
    return hashlib.sha256(message_id.encode()).hexdigest()[:32]


@dataclass
class Gateway:
    """An AS2 receiver with its key, its trading partners and its stored answers."""

    files: GatewayFiles
    as2_id: str
    own: KeyPair
    partners: dict[str, x509.Certificate]
    ack_worker: bool = True  # False: ACKs stay queued (the benchmark times acknowledge_received on its own)
    rules: ProfileRules = field(default_factory=ProfileRules)  # the destination's business rules (--profile)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _pending: queue.Queue[str] = field(default_factory=queue.Queue, repr=False)
    _worker: threading.Thread | None = field(default=None, repr=False)

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
        """One AS2 POST: the MDN to answer with (HTTP headers, body)."""
        incoming = receive(headers, body, own=self.own, own_as2_id=self.as2_id, partners=self.partners)
        if not incoming.processed:
            return build_mdn(incoming, self.own, self.as2_id, f"The message was not processed: {incoming.error}")
        stored = self.files.folder("mdn") / f"{message_key(incoming.as2_from + ' ' + incoming.message_id)}.json"
        with self._lock:  # one answer per (partner, Message-ID), even for concurrent duplicates
            if stored.exists():
                saved = json.loads(stored.read_text())
                return dict(saved["headers"]), base64.b64decode(saved["body"])
            self._accept(incoming)
            answer = build_mdn(
                incoming, self.own, self.as2_id, "The message was received and decrypted; its signature was verified."
            )
            stored.write_text(json.dumps({"headers": answer[0], "body": base64.b64encode(answer[1]).decode()}))
        return answer

    def _accept(self, incoming: IncomingMessage) -> None:
        """Keep the file and queue its ACK: the MDN goes back at once, the ACK follows (as at EV / FDA ESG)."""
        assert incoming.payload is not None
        (self.files.folder("received") / f"{message_key(incoming.message_id)}.xml").write_bytes(incoming.payload)
        self._queue(message_key(incoming.message_id))

    def _queue(self, key: str) -> None:
        self._pending.put(key)
        if self._worker is None and self.ack_worker:
            self._worker = threading.Thread(target=self._acknowledge_forever, name="gateway-ack", daemon=True)
            self._worker.start()

    def _acknowledge_forever(self) -> None:
        while True:
            key = self._pending.get()
            try:
                self.acknowledge_received(key)
            finally:
                self._pending.task_done()

    def acknowledge_received(self, key: str) -> None:
        """Check a received file and write its ICH ACK into the outbox (written whole, then renamed)."""
        payload = (self.files.folder("received") / f"{key}.xml").read_bytes()
        ack = acknowledge(payload, gateway_id=self.as2_id, rules=self.rules)
        target = self.files.folder("outbox") / f"{key}.xml"
        partial = target.with_suffix(".part")
        partial.write_bytes(ack.xml)
        partial.replace(target)

    def drain(self) -> None:
        """Wait until every queued ACK is written."""
        self._pending.join()

    def ack(self, message_id: str) -> bytes | None:
        path = self.files.folder("outbox") / f"{message_key(message_id)}.xml"
        return path.read_bytes() if path.exists() else None

    def certificate_pem(self) -> bytes:
        return self.own.certificate.public_bytes(serialization.Encoding.PEM)


def _usable(files: tuple[Path, Path]) -> KeyPair | None:
    """An existing key pair that is still valid for a day, else None (a new one is made)."""
    if not all(p.is_file() for p in files):
        return None
    pair = load_key_pair(*files)
    if pair.certificate.not_valid_after_utc < dt.datetime.now(dt.UTC) + dt.timedelta(days=1):
        return None
    return pair


def prepare_gateway(
    state_dir: Path,
    *,
    as2_id: str = DEFAULT_GATEWAY_ID,
    sender_id: str = DEFAULT_SENDER_ID,
    partner_certificates: dict[str, Path] | None = None,
    url: str | None = None,
    profile: str = "ich",
) -> Gateway:
    """Make (or reuse) the gateway's key and a demo sender's key in ``state_dir`` and write gateway.json.

    The demo sender (``sender_id``, sender.key / sender.pem) is a trusted partner so that
    ``riskplan gateway send`` works out of the box; ``partner_certificates`` adds other senders.
    ``profile`` (ich, eu, fda) chooses the business rules checked after the schema.
    """
    rules = ProfileRules(profile)
    files = GatewayFiles(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    own = _usable((files.key, files.certificate))
    if own is None:
        own = make_self_signed(as2_id, days=CERT_DAYS)
        write_key_pair(own, files.key, files.certificate)
    sender = _usable((files.sender_key, files.sender_certificate))
    if sender is None:
        sender = make_self_signed(sender_id, days=CERT_DAYS)
        write_key_pair(sender, files.sender_key, files.sender_certificate)
    partners = {sender_id: sender.certificate}
    for partner_id, path in (partner_certificates or {}).items():
        partners[partner_id] = load_certificate(path)
    config = {
        "as2_id": as2_id,
        "certificate": str(files.certificate),
        "url": url,
        "profile": profile,
        "sender": {"as2_id": sender_id, "key": str(files.sender_key), "certificate": str(files.sender_certificate)},
        "partners": sorted(partners),
    }
    files.config.write_text(json.dumps(config, indent=2) + "\n")
    gateway = Gateway(files=files, as2_id=as2_id, own=own, partners=partners, rules=rules)
    outbox = files.folder("outbox")
    for received in sorted(files.folder("received").glob("*.xml")):  # files taken before a stop: ACK them now
        if not (outbox / received.name).exists():
            gateway._queue(received.stem)
    return gateway


def create_app(gateway: Gateway) -> Starlette:
    """The ASGI application (Starlette; imported here so that the CLI starts without it)."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    async def as2(request: Request) -> Response:
        headers = dict(request.headers.items())
        if "message-id" not in headers or "as2-from" not in headers:
            return PlainTextResponse("not an AS2 message: AS2-From and Message-ID headers are required\n", 400)
        body = await request.body()
        mdn_headers, mdn_body = await run_in_threadpool(gateway.handle, headers, body)
        return Response(mdn_body, 200, headers=mdn_headers)

    async def ack(request: Request) -> Response:
        data = gateway.ack(str(request.path_params["message_id"]))
        if data is None:
            return PlainTextResponse("no acknowledgement for this Message-ID\n", 404)
        return Response(data, 200, media_type="application/xml")

    async def certificate(request: Request) -> Response:
        return Response(gateway.certificate_pem(), 200, media_type="application/x-pem-file")

    async def health(request: Request) -> Response:
        return PlainTextResponse(f"AS2 gateway {gateway.as2_id}\n")

    return Starlette(
        routes=[
            Route("/as2", as2, methods=["POST"]),
            Route("/acks/{message_id:path}", ack, methods=["GET"]),
            Route("/certificate", certificate, methods=["GET"]),
            Route("/", health, methods=["GET"]),
        ]
    )
