"""AS2 messages (RFC 4130) built and read by riskplan, checked against implementations riskplan did not
write: the ``openssl cms`` command-line tool and pyas2lib."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from riskplan.submissions.as2 import As2Error, As2Partner, build_message, read_mdn
from riskplan.submissions.as2_mime import parse_entity, split_multipart
from riskplan.submissions.as2_receive import build_mdn, receive
from riskplan.submissions.as2_smime import KeyPair, decrypt, make_self_signed, mic, write_key_pair

PAYLOAD = b'<?xml version="1.0" encoding="UTF-8"?>\n<MCCI_IN200100UV01 xmlns="urn:hl7-org:v3"/>\n'
openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


@pytest.fixture(scope="module")
def sender() -> KeyPair:
    return make_self_signed("RISKPLAN-SENDER")


@pytest.fixture(scope="module")
def authority() -> KeyPair:
    return make_self_signed("EV-GATEWAY")


def _partner(pair: KeyPair) -> As2Partner:
    return As2Partner(as2_id="EV-GATEWAY", url="http://127.0.0.1:1/as2", certificate=pair.certificate)


def test_round_trip_signed_encrypted_message_and_signed_mdn(sender: KeyPair, authority: KeyPair) -> None:
    message = build_message(
        PAYLOAD, filename="batch.xml", own=sender, as2_from="RISKPLAN-SENDER", partner=_partner(authority)
    )
    assert message.headers["AS2-To"] == "EV-GATEWAY"
    assert message.headers["Content-Type"].startswith("application/pkcs7-mime; smime-type=enveloped-data")
    assert "signed-receipt-micalg=optional, sha-256" in message.headers["Disposition-Notification-Options"]
    assert PAYLOAD not in message.body  # encrypted on the wire

    incoming = receive(
        message.headers,
        message.body,
        own=authority,
        own_as2_id="EV-GATEWAY",
        partners={"RISKPLAN-SENDER": sender.certificate},
    )
    assert incoming.processed and incoming.payload == PAYLOAD and incoming.filename == "batch.xml"
    assert incoming.mic == message.mic

    headers, body = build_mdn(incoming, authority, "EV-GATEWAY", "received")
    mdn = read_mdn(headers, body, authority.certificate)
    assert (mdn.disposition, mdn.modifier, mdn.received_mic) == ("processed", None, message.mic)
    assert mdn.original_message_id == message.message_id


def test_signature_from_an_unexpected_key_is_authentication_failed(sender: KeyPair, authority: KeyPair) -> None:
    impostor = make_self_signed("RISKPLAN-SENDER")
    message = build_message(
        PAYLOAD, filename="batch.xml", own=impostor, as2_from="RISKPLAN-SENDER", partner=_partner(authority)
    )
    incoming = receive(
        message.headers,
        message.body,
        own=authority,
        own_as2_id="EV-GATEWAY",
        partners={"RISKPLAN-SENDER": sender.certificate},
    )
    assert (incoming.disposition, incoming.modifier) == ("processed/error", "authentication-failed")
    assert incoming.payload is None


def test_mdn_signed_by_someone_else_is_not_trusted(sender: KeyPair, authority: KeyPair) -> None:
    message = build_message(
        PAYLOAD, filename="b.xml", own=sender, as2_from="RISKPLAN-SENDER", partner=_partner(authority)
    )
    incoming = receive(
        message.headers,
        message.body,
        own=authority,
        own_as2_id="EV-GATEWAY",
        partners={"RISKPLAN-SENDER": sender.certificate},
    )
    headers, body = build_mdn(incoming, make_self_signed("EV-GATEWAY"), "EV-GATEWAY", "received")
    with pytest.raises(As2Error, match="cannot be trusted"):
        read_mdn(headers, body, authority.certificate)
    headers, body = build_mdn(incoming, authority, "EV-GATEWAY", "received")
    with pytest.raises(As2Error, match="cannot be trusted"):  # a changed disposition breaks the signature
        read_mdn(headers, body.replace(b"; processed", b"; processed/error: x"), authority.certificate)


# --- openssl cms ---------------------------------------------------------------------------------------


def _write(pair: KeyPair, folder: Path, name: str) -> tuple[Path, Path]:
    key, cert = folder / f"{name}.key", folder / f"{name}.pem"
    write_key_pair(pair, key, cert)
    return key, cert


def _run(*args: str | Path, data: bytes | None = None) -> bytes:
    done = subprocess.run([str(a) for a in args], input=data, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


@openssl
def test_openssl_decrypts_our_envelope_and_verifies_our_signature(
    sender: KeyPair, authority: KeyPair, tmp_path: Path
) -> None:
    authority_key, authority_cert = _write(authority, tmp_path, "authority")
    _, sender_cert = _write(sender, tmp_path, "sender")
    message = build_message(
        PAYLOAD, filename="b.xml", own=sender, as2_from="RISKPLAN-SENDER", partner=_partner(authority)
    )
    (tmp_path / "message.der").write_bytes(message.body)
    signed = _run(
        "openssl", "cms", "-decrypt", "-binary", "-inform", "DER", "-in", tmp_path / "message.der",
        "-recip", authority_cert, "-inkey", authority_key,
    )  # fmt: skip
    assert b"multipart/signed" in signed and PAYLOAD in signed
    entity = parse_entity(signed)
    content, signature = split_multipart(entity)
    (tmp_path / "content").write_bytes(content)
    (tmp_path / "signature.der").write_bytes(parse_entity(signature).decoded_body())
    out = _run(
        "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", tmp_path / "signature.der",
        "-content", tmp_path / "content", "-CAfile", sender_cert, "-purpose", "any",
    )  # fmt: skip
    assert out == content
    assert mic(content) == message.mic  # the MIC covers exactly what openssl verified


@openssl
def test_we_read_a_message_signed_and_encrypted_by_openssl(sender: KeyPair, authority: KeyPair, tmp_path: Path) -> None:
    sender_key, sender_cert = _write(sender, tmp_path, "sender")
    _, authority_cert = _write(authority, tmp_path, "authority")
    part = b'Content-Type: application/xml\r\nContent-Disposition: attachment; filename="os.xml"\r\n\r\n' + PAYLOAD
    (tmp_path / "part").write_bytes(part)
    signed = _run(
        "openssl", "cms", "-sign", "-binary", "-md", "sha256", "-in", tmp_path / "part", "-signer", sender_cert,
        "-inkey", sender_key, "-outform", "SMIME",
    )  # fmt: skip
    (tmp_path / "signed").write_bytes(signed)
    envelope = _run(
        "openssl",
        "cms",
        "-encrypt",
        "-binary",
        "-aes256",
        "-in",
        tmp_path / "signed",
        "-outform",
        "DER",
        authority_cert,
    )
    headers = {
        "AS2-From": "RISKPLAN-SENDER",
        "AS2-To": "EV-GATEWAY",
        "Message-ID": "<openssl-1@example>",
        "Content-Type": 'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"',
        "Disposition-Notification-To": "x",
        "Disposition-Notification-Options": "signed-receipt-protocol=optional, pkcs7-signature; "
        "signed-receipt-micalg=optional, sha-256",
    }
    incoming = receive(
        headers, envelope, own=authority, own_as2_id="EV-GATEWAY", partners={"RISKPLAN-SENDER": sender.certificate}
    )
    assert incoming.processed, incoming.error
    assert incoming.payload == PAYLOAD and incoming.filename == "os.xml"
    assert incoming.mic == mic(part)
    # and our decrypt reads openssl's envelope directly
    assert decrypt(envelope, authority) == signed


# --- pyas2lib --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pyas2lib():  # type: ignore[no-untyped-def]
    from oscrypto_openssl3 import import_pyas2lib

    try:
        return import_pyas2lib()
    except Exception as exc:  # pragma: no cover - depends on the machine's OpenSSL
        pytest.skip(f"pyas2lib cannot be imported here: {exc}")


def _pem(pair: KeyPair) -> tuple[bytes, bytes]:
    key = pair.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    cert = pair.certificate.public_bytes(serialization.Encoding.PEM)
    return key + cert, cert


def _pyas2_parties(pyas2lib, sender: KeyPair, authority: KeyPair):  # type: ignore[no-untyped-def]
    sender_keys, sender_cert = _pem(sender)
    authority_keys, authority_cert = _pem(authority)
    org_sender = pyas2lib.Organization(as2_name="RISKPLAN-SENDER", sign_key=sender_keys, decrypt_key=sender_keys)
    org_authority = pyas2lib.Organization(as2_name="EV-GATEWAY", sign_key=authority_keys, decrypt_key=authority_keys)
    common = {"sign": True, "encrypt": True, "enc_alg": "aes_256_cbc", "digest_alg": "sha256", "mdn_mode": "SYNC",
              "mdn_digest_alg": "sha256", "validate_certs": False}  # fmt: skip
    as_authority = pyas2lib.Partner(
        as2_name="EV-GATEWAY", verify_cert=authority_cert, encrypt_cert=authority_cert, **common
    )
    as_sender = pyas2lib.Partner(
        as2_name="RISKPLAN-SENDER", verify_cert=sender_cert, encrypt_cert=sender_cert, **common
    )
    return org_sender, org_authority, as_authority, as_sender


def _raw(headers: dict[str, str], body: bytes) -> bytes:
    return b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items()) + b"\r\n" + body


def test_pyas2lib_receives_our_message_and_we_read_its_mdn(pyas2lib, sender: KeyPair, authority: KeyPair) -> None:  # type: ignore[no-untyped-def]
    org_sender, org_authority, _, as_sender = _pyas2_parties(pyas2lib, sender, authority)
    message = build_message(
        PAYLOAD, filename="b.xml", own=sender, as2_from="RISKPLAN-SENDER", partner=_partner(authority)
    )
    received = pyas2lib.Message()
    status, (exc, trace), mdn = received.parse(
        _raw(message.headers, message.body),
        find_org_cb=lambda _as2_id: org_authority,
        find_partner_cb=lambda _as2_id: as_sender,
    )
    assert status == "processed", trace
    assert received.content == PAYLOAD
    assert received.mic.decode() == message.mic  # both sides compute the same RFC 4130 MIC
    ours = read_mdn(dict(mdn.headers), mdn.content, authority.certificate)
    assert (ours.disposition, ours.received_mic, ours.original_message_id) == (
        "processed",
        message.mic,
        message.message_id,
    )
    del org_sender, exc


def test_we_receive_a_pyas2lib_message_and_it_accepts_our_mdn(pyas2lib, sender: KeyPair, authority: KeyPair) -> None:  # type: ignore[no-untyped-def]
    org_sender, _, as_authority, _ = _pyas2_parties(pyas2lib, sender, authority)
    outgoing = pyas2lib.Message(sender=org_sender, receiver=as_authority)
    outgoing.build(PAYLOAD, filename="py.xml", content_type="application/xml", disposition_notification_to="x")
    incoming = receive(
        dict(outgoing.headers),
        outgoing.content,
        own=authority,
        own_as2_id="EV-GATEWAY",
        partners={"RISKPLAN-SENDER": sender.certificate},
    )
    assert incoming.processed, incoming.error
    # pyas2lib sends application/xml as text in canonical form (CRLF line ends, RFC 5751 §3.1.1)
    assert incoming.payload is not None and incoming.payload.replace(b"\r\n", b"\n") == PAYLOAD
    assert incoming.mic == outgoing.mic.decode()
    headers, body = build_mdn(incoming, authority, "EV-GATEWAY", "received")
    status, detail = pyas2lib.Mdn().parse(_raw(headers, body), lambda _id, _to: outgoing)
    assert (status, detail) == ("processed", None)  # signature verified and MIC equal (else processed/warning)

    forged = make_self_signed("EV-GATEWAY")
    headers, body = build_mdn(incoming, forged, "EV-GATEWAY", "received")
    status, _ = pyas2lib.Mdn().parse(_raw(headers, body), lambda _id, _to: outgoing)
    assert status == "failed/Failure"  # pyas2lib refuses an MDN signed with another key
