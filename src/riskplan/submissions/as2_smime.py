"""S/MIME for AS2 (RFC 5751, RFC 4130 §7): sign, verify, encrypt, decrypt, MIC; keys and certificates.

The cryptography is ``cryptography``'s (PKCS#7 signature and envelope builders, ``pkcs7_decrypt_der``,
RSA verification); ``asn1crypto`` only parses the CMS SignedData structure for verification, because
``cryptography`` has no public CMS verify. Nothing here implements a cipher or a hash.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

# RFC 5751 §3.4.3.2 micalg names ↔ hashlib names
MICALG: Final = {"sha-256": "sha256", "sha-384": "sha384", "sha-512": "sha512", "sha-1": "sha1", "sha1": "sha1"}
_CRYPTOGRAPHY_HASH: Final[dict[str, hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
    "sha1": hashes.SHA1(),  # accepted on receipt only (RFC 4130 §7.3.1 lists it); we always send SHA-256
}


class SmimeError(Exception):
    """An S/MIME structure that cannot be decrypted or whose signature does not verify."""

    def __init__(self, message: str, *, modifier: str = "unexpected-processing-error") -> None:
        super().__init__(message)
        # RFC 4130 §7.4.3 disposition modifier the receiver reports in its MDN
        self.modifier = modifier


@dataclass(frozen=True)
class KeyPair:
    """A private key and its certificate (ours: to sign and to decrypt)."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate


def load_certificate(path: Path) -> x509.Certificate:
    """A PEM (or DER) X.509 certificate from a file."""
    data = path.read_bytes()
    try:
        return x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise SmimeError(f"{path}: not an X.509 certificate ({exc})") from None


def load_key_pair(key_path: Path, cert_path: Path) -> KeyPair:
    """Our RSA private key (PEM, unencrypted) and certificate."""
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise SmimeError(f"{key_path}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SmimeError(f"{key_path}: AS2 here needs an RSA key")
    return KeyPair(key=key, certificate=load_certificate(cert_path))


def make_self_signed(common_name: str, *, days: int = 7, key_size: int = 2048) -> KeyPair:
    """A short-lived self-signed RSA key pair, for the local gateway, tests and the demo."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return KeyPair(key=key, certificate=certificate)


def write_key_pair(pair: KeyPair, key_path: Path, cert_path: Path) -> None:
    """Write the key (mode 0600) and the certificate as PEM files."""
    key_path.write_bytes(
        pair.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(pair.certificate.public_bytes(serialization.Encoding.PEM))


def mic(content: bytes, micalg: str = "sha-256") -> str:
    """RFC 4130 §7.3.1 Message Integrity Check: base64 digest of the canonical signed MIME part."""
    digest = hashlib.new(MICALG[micalg], content).digest()
    return base64.b64encode(digest).decode("ascii")


def sign_detached(content: bytes, signer: KeyPair) -> bytes:
    """A detached CMS SignedData (DER) over ``content`` with SHA-256 (RFC 5751 §3.4.3)."""
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(content)
        .add_signer(signer.certificate, signer.key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary])
    )


def verify_detached(content: bytes, signature: bytes, certificate: x509.Certificate) -> str:
    """Check a detached CMS signature over ``content`` with the partner's configured certificate.

    Returns the micalg name of the digest used (``sha-256``). Raises SmimeError (modifier
    ``authentication-failed``, RFC 4130 §7.4.3) when the digest or the signature does not match.
    """
    from asn1crypto import cms  # parsing only

    try:
        info = cms.ContentInfo.load(signature)
        if info["content_type"].native != "signed_data":
            raise SmimeError("the signature part is not a CMS SignedData", modifier="authentication-failed")
        signers = list(info["content"]["signer_infos"])
    except (ValueError, TypeError, KeyError) as exc:
        raise SmimeError(f"unreadable signature: {exc}", modifier="authentication-failed") from None
    if not signers:
        raise SmimeError("the signature has no signer", modifier="authentication-failed")
    signer = signers[0]
    algorithm = str(signer["digest_algorithm"]["algorithm"].native)
    if algorithm not in _CRYPTOGRAPHY_HASH:
        raise SmimeError(f"unsupported digest algorithm {algorithm}", modifier="unsupported-mic-algorithms")
    signed_bytes = content
    attributes = signer["signed_attrs"]
    if attributes:
        digests = [a["values"][0].native for a in attributes if a["type"].native == "message_digest"]
        expected = hashlib.new(algorithm, content).digest()
        if len(digests) != 1 or not hmac.compare_digest(bytes(digests[0]), expected):
            raise SmimeError("the signed content does not match its message digest", modifier="authentication-failed")
        signed_bytes = attributes.untag().dump()  # RFC 5652 §5.4: the DER SET OF the signed attributes
    if signer["signature_algorithm"].signature_algo != "rsassa_pkcs1v15":
        raise SmimeError("only RSA PKCS#1 v1.5 signatures are supported", modifier="authentication-failed")
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise SmimeError("the partner certificate has no RSA key", modifier="authentication-failed")
    try:
        public_key.verify(signer["signature"].native, signed_bytes, padding.PKCS1v15(), _CRYPTOGRAPHY_HASH[algorithm])
    except Exception:  # cryptography raises InvalidSignature
        raise SmimeError(
            "the signature does not verify with the partner's certificate", modifier="authentication-failed"
        ) from None
    return {"sha256": "sha-256", "sha384": "sha-384", "sha512": "sha-512", "sha1": "sha1"}[algorithm]


def encrypt(content: bytes, recipient: x509.Certificate) -> bytes:
    """A CMS EnvelopedData (DER) of ``content`` for the partner, AES-256-CBC (RFC 5751 §2.7)."""
    return (
        pkcs7.PKCS7EnvelopeBuilder()
        .set_data(content)
        .add_recipient(recipient)
        .set_content_encryption_algorithm(algorithms.AES256)
        .encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )


def decrypt(envelope: bytes, own: KeyPair) -> bytes:
    """The content of a CMS EnvelopedData addressed to us (AES-128/256-CBC)."""
    try:
        return pkcs7.pkcs7_decrypt_der(envelope, own.certificate, own.key, [])
    except (ValueError, TypeError) as exc:
        raise SmimeError(f"cannot decrypt the message: {exc}", modifier="decryption-failed") from None
    except Exception as exc:  # UnsupportedAlgorithm (e.g. 3DES)
        raise SmimeError(f"cannot decrypt the message: {exc}", modifier="decryption-failed") from None
