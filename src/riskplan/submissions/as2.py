"""AS2 transport for E2B(R3) ICSR files (RFC 4130): build a signed and encrypted message, send it over
HTTP(S) to the authority's gateway (EudraVigilance, FDA ESG), read and verify the synchronous signed MDN.

The public face is :class:`As2Transport` (``send(payload, filename) -> As2Receipt``) and :func:`fetch_ack`.
The message: the file as an ``application/xml`` part (Content-Transfer-Encoding binary), signed with
SHA-256 in ``multipart/signed`` (RFC 5751), the whole encrypted with AES-256-CBC for the partner's
certificate in ``application/pkcs7-mime; smime-type=enveloped-data``. We ask for a signed synchronous
MDN (``Disposition-Notification-Options``) and check its Received-Content-MIC against ours.
"""

from __future__ import annotations

import base64
import email.utils
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from cryptography import x509

from riskplan.submissions.as2_mime import (
    MimeError,
    entity_from_http,
    header_block,
    multipart,
    new_boundary,
    notification_fields,
    parse_entity,
    split_multipart,
)
from riskplan.submissions.as2_smime import KeyPair, SmimeError, encrypt, mic, sign_detached, verify_detached

AS2_VERSION: Final = "1.2"
SIGNED_MDN_OPTIONS: Final = "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, sha-256"
USER_AGENT: Final = "riskplan-as2"


class As2Error(Exception):
    """An AS2 exchange that failed: the partner could not be reached, or its answer cannot be trusted."""


class As2DeliveryError(As2Error):
    """The message was not delivered after every retry; it can be sent again with the same Message-ID."""

    def __init__(self, message: str, *, message_id: str, attempts: int) -> None:
        super().__init__(message)
        self.message_id = message_id
        self.attempts = attempts


@dataclass(frozen=True)
class As2Partner:
    """The receiving side, as configured from its trading-partner profile."""

    as2_id: str  # AS2-To
    url: str  # its AS2 endpoint
    certificate: x509.Certificate  # encrypts to it and verifies its MDN


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off for an unreachable gateway: delays initial, initial*factor, ... capped."""

    attempts: int = 5
    initial_delay: float = 0.5
    factor: float = 2.0
    max_delay: float = 8.0
    timeout: float = 30.0  # per HTTP request, seconds

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return float(min(self.max_delay, self.initial_delay * self.factor ** (attempt - 1)))


@dataclass(frozen=True)
class OutgoingMessage:
    """A built AS2 message: what goes on the wire and the MIC the MDN must return."""

    message_id: str  # without angle brackets
    headers: dict[str, str]
    body: bytes
    mic: str  # base64 digest, RFC 4130 §7.3.1
    micalg: str


@dataclass(frozen=True)
class Mdn:
    """A Message Disposition Notification as read (RFC 3798, RFC 4130 §7.4)."""

    original_message_id: str | None
    disposition: str  # "processed", "processed/error", "processed/warning", "failed/failure"
    modifier: str | None  # e.g. "authentication-failed", "decryption-failed"
    received_mic: str | None
    received_micalg: str | None
    signed: bool
    text: str  # the human-readable first part


@dataclass(frozen=True)
class As2Receipt:
    """What the Transport seam records for a submission: the AS2 Message-ID and the MDN's verdict."""

    message_id: str
    mic: str
    mdn: Mdn
    mic_matches: bool
    attempts: int
    # the signed MDN as received (its HTTP Content-Type and body): the receipt kept as proof of delivery
    mdn_content_type: str = field(default="", compare=False, repr=False)
    mdn_body: bytes = field(default=b"", compare=False, repr=False)

    @property
    def mdn_status(self) -> str:
        """``processed`` only when the signed MDN says so and returns our MIC; else why not."""
        if self.mdn.disposition == "processed" and not self.mic_matches:
            return "processed/warning: mic-mismatch"
        return self.mdn.disposition + (f": {self.mdn.modifier}" if self.mdn.modifier else "")

    @property
    def delivered(self) -> bool:
        return self.mdn.disposition == "processed" and self.mic_matches


def new_message_id(as2_from: str) -> str:
    """A globally unique Message-ID (RFC 5322 §3.6.4), without the angle brackets."""
    domain = "".join(c for c in as2_from.lower() if c.isalnum() or c in "-.") or "riskplan"
    return f"riskplan-{uuid.uuid4().hex}@{domain}"


def quote_as2_id(as2_id: str) -> str:
    """RFC 4130 §6.2: an AS2 name with spaces or quotes is sent as a quoted string."""
    if any(c in as2_id for c in ' "\\'):
        return '"' + as2_id.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return as2_id


def unquote_as2_id(value: str) -> str:
    return email.utils.unquote(value.strip())


def build_message(
    payload: bytes,
    *,
    filename: str,
    own: KeyPair,
    as2_from: str,
    partner: As2Partner,
    content_type: str = "application/xml",
    message_id: str | None = None,
) -> OutgoingMessage:
    """Sign (SHA-256) then encrypt (AES-256-CBC) ``payload`` for the partner, asking for a signed MDN."""
    safe_name = filename.replace('"', "").replace("\r", "").replace("\n", "")
    part = (
        header_block(
            [
                ("Content-Type", content_type),
                ("Content-Transfer-Encoding", "binary"),
                ("Content-Disposition", f'attachment; filename="{safe_name}"'),
            ]
        )
        + payload
    )
    signature = base64.encodebytes(sign_detached(part, own)).replace(b"\n", b"\r\n")
    signature_part = (
        header_block(
            [
                ("Content-Type", 'application/pkcs7-signature; name="smime.p7s"; smime-type=signed-data'),
                ("Content-Transfer-Encoding", "base64"),
                ("Content-Disposition", 'attachment; filename="smime.p7s"'),
            ]
        )
        + signature
    )
    boundary = new_boundary()
    signed = header_block(
        [
            (
                "Content-Type",
                f'multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="{boundary}"',
            )
        ]
    ) + multipart(boundary, [part, signature_part])
    body = encrypt(signed, partner.certificate)
    message_id = message_id or new_message_id(as2_from)
    headers = {
        "AS2-Version": AS2_VERSION,
        "AS2-From": quote_as2_id(as2_from),
        "AS2-To": quote_as2_id(partner.as2_id),
        "Message-ID": f"<{message_id}>",
        "Subject": f"E2B(R3) ICSR {safe_name}",
        "Date": email.utils.formatdate(localtime=False, usegmt=True),
        "MIME-Version": "1.0",
        "Content-Type": 'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"',
        "Content-Disposition": 'attachment; filename="smime.p7m"',
        "Content-Transfer-Encoding": "binary",
        "Disposition-Notification-To": quote_as2_id(as2_from),
        "Disposition-Notification-Options": SIGNED_MDN_OPTIONS,
        "EDIINT-Features": "multiple-attachments",
        "User-Agent": USER_AGENT,
    }
    return OutgoingMessage(message_id=message_id, headers=headers, body=body, mic=mic(part), micalg="sha-256")


def read_mdn(headers: dict[str, str], body: bytes, partner_certificate: x509.Certificate) -> Mdn:
    """Read a synchronous MDN and verify its signature with the partner's certificate.

    An unsigned MDN is refused (we asked for a signed one); so is one whose signature fails.
    """
    try:
        entity = entity_from_http(headers, body)
        if entity.content_type != "multipart/signed":
            raise As2Error(f"the MDN is not signed (Content-Type {entity.content_type}); a signed MDN was requested")
        parts = split_multipart(entity)
        if len(parts) != 2:
            raise As2Error(f"the signed MDN has {len(parts)} parts, not 2")
        signature = parse_entity(parts[1])
        verify_detached(parts[0], signature.decoded_body(), partner_certificate)
        report = parse_entity(parts[0])
        if report.content_type != "multipart/report":
            raise As2Error(f"the MDN's signed content is {report.content_type}, not multipart/report")
        text = ""
        fields = None
        for raw in split_multipart(report):
            part = parse_entity(raw)
            if part.content_type == "message/disposition-notification":
                fields = notification_fields(part.decoded_body())
            elif part.content_type == "text/plain":
                text = part.decoded_body().decode("utf-8", "replace").strip()
    except (MimeError, SmimeError) as exc:
        raise As2Error(f"the MDN cannot be trusted: {exc}") from None
    if fields is None:
        raise As2Error("the MDN has no message/disposition-notification part")
    return _mdn_from_fields(fields, text)


def _mdn_from_fields(fields: object, text: str) -> Mdn:
    get = fields.get  # type: ignore[attr-defined]
    disposition_field = str(get("Disposition", ""))
    # RFC 3798 §3.2.6: "automatic-action/MDN-sent-automatically; processed/error: authentication-failed"
    status = disposition_field.split(";", 1)[-1].strip()
    disposition, _, modifier = status.partition(":")
    received = get("Received-Content-MIC")
    received_mic = received_micalg = None
    if received:
        value, _, algorithm = str(received).partition(",")
        received_mic, received_micalg = value.strip(), algorithm.strip().lower() or None
    original = get("Original-Message-ID")
    return Mdn(
        original_message_id=str(original).strip().strip("<>") if original else None,
        disposition=disposition.strip().lower(),
        modifier=modifier.strip().lower() or None,
        received_mic=received_mic,
        received_micalg=received_micalg,
        signed=True,
        text=text,
    )


RetryNotice = Callable[[int, int, float, str], None]  # (attempt, attempts, delay, reason)


def post(
    message: OutgoingMessage,
    url: str,
    *,
    retry: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
    on_retry: RetryNotice | None = None,
) -> tuple[dict[str, str], bytes, int]:
    """POST the message; retry on a refused connection, a timeout or a 5xx with exponential back-off.

    The same bytes and Message-ID go each time, so a receiver that already took one attempt answers
    with its first MDN (RFC 4130 §9.5 duplicate handling). Returns (MDN headers, MDN body, attempts).
    """
    reason = ""
    for attempt in range(1, retry.attempts + 1):
        request = urllib.request.Request(url, data=message.body, headers=message.headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=retry.timeout) as response:
                return dict(response.headers.items()), response.read(), attempt
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                detail = exc.read()[:500].decode("utf-8", "replace")
                raise As2DeliveryError(
                    f"{url} refused message {message.message_id}: HTTP {exc.code} {detail}",
                    message_id=message.message_id,
                    attempts=attempt,
                ) from None
            reason = f"HTTP {exc.code}"
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = str(getattr(exc, "reason", exc))
        if attempt < retry.attempts:
            delay = retry.delay(attempt)
            if on_retry:
                on_retry(attempt, retry.attempts, delay, reason)
            sleep(delay)
    raise As2DeliveryError(
        f"message {message.message_id} not delivered to {url} after {retry.attempts} attempts ({reason}); "
        "nothing was lost: send it again later (the same Message-ID is safe to resend)",
        message_id=message.message_id,
        attempts=retry.attempts,
    )


@dataclass
class As2Transport:
    """Send E2B(R3) files to one AS2 partner (the Transport seam of ``riskplan.submissions``)."""

    own: KeyPair
    as2_from: str
    partner: As2Partner
    retry: RetryPolicy = RetryPolicy()
    sleep: Callable[[float], None] = time.sleep
    on_retry: RetryNotice | None = None

    def send(
        self,
        payload: bytes,
        filename: str,
        *,
        content_type: str = "application/xml",
        message_id: str | None = None,
    ) -> As2Receipt:
        """Build, post and read the MDN. Raises As2DeliveryError (not delivered) or As2Error (MDN not trusted)."""
        message = build_message(
            payload,
            filename=filename,
            own=self.own,
            as2_from=self.as2_from,
            partner=self.partner,
            content_type=content_type,
            message_id=message_id,
        )
        return self.send_built(message)

    def send_built(self, message: OutgoingMessage) -> As2Receipt:
        headers, body, attempts = post(
            message, self.partner.url, retry=self.retry, sleep=self.sleep, on_retry=self.on_retry
        )
        mdn = read_mdn(headers, body, self.partner.certificate)
        if mdn.original_message_id is not None and mdn.original_message_id != message.message_id:
            raise As2Error(f"the MDN answers message {mdn.original_message_id}, not {message.message_id}")
        return As2Receipt(
            message_id=message.message_id,
            mic=message.mic,
            mdn=mdn,
            mic_matches=mdn.received_mic == message.mic and (mdn.received_micalg or "sha-256") == message.micalg,
            attempts=attempts,
            mdn_content_type=next((v for k, v in headers.items() if k.lower() == "content-type"), ""),
            mdn_body=body,
        )


def fetch_ack(ack_base_url: str, message_id: str, *, timeout: float = 30.0) -> bytes | None:
    """The ICH acknowledgement (MCCI_IN200101UV01) the local gateway holds for an AS2 Message-ID, or None.

    ``ack_base_url`` is the gateway's ``.../acks`` URL (see ``riskplan.submissions.gateway``).
    """
    url = f"{ack_base_url.rstrip('/')}/{urllib.parse.quote(message_id, safe='')}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data: bytes = response.read()
            return data
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise As2Error(f"{url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise As2Error(f"{url}: {getattr(exc, 'reason', exc)}") from None


def wait_for_ack(ack_base_url: str, message_id: str, *, timeout: float = 30.0, interval: float = 0.1) -> bytes | None:
    """Poll :func:`fetch_ack` until the acknowledgement is there or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        ack = fetch_ack(ack_base_url, message_id)
        if ack is not None or time.monotonic() >= deadline:
            return ack
        time.sleep(interval)
