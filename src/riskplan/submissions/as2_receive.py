"""The receiving side of AS2 (RFC 4130): decrypt, verify the sender's signature, compute the MIC, and
answer with a signed MDN (RFC 3798, RFC 4130 §7.4). Used by the local gateway and in tests.
"""

from __future__ import annotations

import base64
import email.utils
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from cryptography import x509

from riskplan.submissions.as2 import AS2_VERSION, quote_as2_id, unquote_as2_id
from riskplan.submissions.as2_mime import (
    MimeError,
    entity_from_http,
    header_block,
    multipart,
    new_boundary,
    parse_entity,
    split_multipart,
)
from riskplan.submissions.as2_smime import KeyPair, SmimeError, decrypt, mic, sign_detached, verify_detached

REPORTING_UA: Final = "riskplan AS2 gateway"


@dataclass(frozen=True)
class IncomingMessage:
    """An AS2 message as received, and what the receiver concluded (RFC 4130 §7.4.3 dispositions)."""

    message_id: str
    as2_from: str
    as2_to: str
    disposition: str  # "processed" or "processed/error"
    modifier: str | None  # "authentication-failed", "decryption-failed", ...
    error: str | None
    payload: bytes | None = None  # the file, when processed
    filename: str | None = None
    content_type: str | None = None
    mic: str | None = None
    micalg: str | None = None
    signed_mdn_requested: bool = False

    @property
    def processed(self) -> bool:
        return self.disposition == "processed"


def _failed(base: dict[str, object], modifier: str, error: str) -> IncomingMessage:
    return IncomingMessage(disposition="processed/error", modifier=modifier, error=error, **base)  # type: ignore[arg-type]


def receive(
    headers: Mapping[str, str],
    body: bytes,
    *,
    own: KeyPair,
    own_as2_id: str,
    partners: Mapping[str, x509.Certificate],
) -> IncomingMessage:
    """Read one AS2 POST addressed to ``own_as2_id`` from a known partner (AS2-From → its certificate).

    Encryption and signature are both required (RFC 4130 §7.4.3 insufficient-message-security otherwise).
    """
    lower = {k.lower(): v for k, v in headers.items()}
    options = lower.get("disposition-notification-options", "")
    base: dict[str, object] = {
        "message_id": lower.get("message-id", "").strip().strip("<>"),
        "as2_from": unquote_as2_id(lower.get("as2-from", "")),
        "as2_to": unquote_as2_id(lower.get("as2-to", "")),
        "signed_mdn_requested": "pkcs7-signature" in options.lower(),
    }
    if not base["message_id"]:
        return _failed(base, "unexpected-processing-error", "no Message-ID header")
    if base["as2_to"] != own_as2_id:
        return _failed(base, "authentication-failed", f"AS2-To {base['as2_to']!r} is not this gateway ({own_as2_id})")
    certificate = partners.get(str(base["as2_from"]))
    if certificate is None:
        return _failed(base, "authentication-failed", f"AS2-From {base['as2_from']!r} is not a known trading partner")
    try:
        outer = entity_from_http(dict(headers), body)
        if outer.content_type != "application/pkcs7-mime":
            return _failed(base, "insufficient-message-security", "the message is not encrypted")
        signed = parse_entity(decrypt(outer.decoded_body(), own))
        if signed.content_type != "multipart/signed":
            return _failed(base, "insufficient-message-security", "the message is not signed")
        parts = split_multipart(signed)
        if len(parts) != 2:
            return _failed(base, "unexpected-processing-error", f"multipart/signed with {len(parts)} parts")
        signature = parse_entity(parts[1])
        micalg = verify_detached(parts[0], signature.decoded_body(), certificate)
        content = parse_entity(parts[0])
    except SmimeError as exc:
        return _failed(base, exc.modifier, str(exc))
    except MimeError as exc:
        return _failed(base, "unexpected-processing-error", f"unreadable MIME: {exc}")
    filename = content.headers.get_filename()
    return IncomingMessage(
        disposition="processed",
        modifier=None,
        error=None,
        payload=content.decoded_body(),
        filename=str(filename) if filename else None,
        content_type=content.content_type,
        mic=mic(parts[0], micalg),
        micalg=micalg,
        **base,  # type: ignore[arg-type]
    )


def build_mdn(incoming: IncomingMessage, own: KeyPair, own_as2_id: str, text: str) -> tuple[dict[str, str], bytes]:
    """The synchronous MDN for ``incoming``: HTTP headers and body, signed when the sender asked for it."""
    status = incoming.disposition + (f": {incoming.modifier}" if incoming.modifier else "")
    fields = [
        ("Reporting-UA", REPORTING_UA),
        ("Original-Recipient", f"rfc822; {quote_as2_id(own_as2_id)}"),
        ("Final-Recipient", f"rfc822; {quote_as2_id(own_as2_id)}"),
        ("Original-Message-ID", f"<{incoming.message_id}>"),
        ("Disposition", f"automatic-action/MDN-sent-automatically; {status}"),
    ]
    if incoming.mic and incoming.micalg:
        fields.append(("Received-Content-MIC", f"{incoming.mic}, {incoming.micalg}"))
    notification = header_block([("Content-Type", "message/disposition-notification")]) + header_block(fields)
    human = header_block([("Content-Type", "text/plain; charset=utf-8")]) + text.encode() + b"\r\n"
    report_boundary = new_boundary()
    report = header_block(
        [("Content-Type", f'multipart/report; report-type=disposition-notification; boundary="{report_boundary}"')]
    ) + multipart(report_boundary, [human, notification])
    headers = {
        "AS2-Version": AS2_VERSION,
        "AS2-From": quote_as2_id(own_as2_id),
        "AS2-To": quote_as2_id(incoming.as2_from or "unknown"),
        "Message-ID": f"<mdn-{incoming.message_id}>",
        "Date": email.utils.formatdate(usegmt=True),
        "MIME-Version": "1.0",
    }
    if not incoming.signed_mdn_requested:
        entity = parse_entity(report)
        headers["Content-Type"] = str(entity.headers["Content-Type"])
        return headers, entity.body
    signature = base64.encodebytes(sign_detached(report, own)).replace(b"\n", b"\r\n")
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
    headers["Content-Type"] = (
        f'multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="{boundary}"'
    )
    return headers, multipart(boundary, [report, signature_part])


__all__ = ["IncomingMessage", "build_mdn", "receive"]
