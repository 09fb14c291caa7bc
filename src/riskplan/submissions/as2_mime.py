"""MIME framing for AS2 (RFC 4130 §5, RFC 1847 multipart/signed, RFC 3798 MDN fields), on raw bytes.

Signatures cover exact bytes, so entities are written and split here by hand rather than re-generated
by the ``email`` package (which may re-fold headers or change line ends); ``email`` only parses headers.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import secrets
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import HTTP

CRLF = b"\r\n"


class MimeError(ValueError):
    """A MIME entity that cannot be read (no header section, no boundary, a missing part)."""


@dataclass(frozen=True)
class Entity:
    """A MIME entity as received: its header fields and its raw (still encoded) body."""

    headers: Message
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get_content_type()

    def param(self, name: str) -> str | None:
        value = self.headers.get_param(name)
        return value if isinstance(value, str) else None

    def decoded_body(self) -> bytes:
        """The body with its Content-Transfer-Encoding undone (binary, 8bit, 7bit, base64, quoted-printable)."""
        encoding = str(self.headers.get("Content-Transfer-Encoding", "binary")).strip().lower()
        if encoding == "base64":
            try:
                return base64.b64decode(b"".join(self.body.split()), validate=True)
            except binascii.Error as exc:
                raise MimeError(f"bad base64 body: {exc}") from None
        if encoding == "quoted-printable":
            return quopri.decodestring(self.body)
        return self.body


def header_block(fields: list[tuple[str, str]]) -> bytes:
    """Header fields as ``Name: value`` CRLF lines, then the empty line that ends them."""
    return b"".join(f"{name}: {value}".encode() + CRLF for name, value in fields) + CRLF


def new_boundary() -> str:
    return f"----=_riskplan_{secrets.token_hex(12)}"


def multipart(boundary: str, parts: list[bytes]) -> bytes:
    """The body of a multipart entity: each part (headers + body) between delimiters (RFC 2046 §5.1.1)."""
    delimiter = b"--" + boundary.encode()
    out = b"".join(delimiter + CRLF + part + CRLF for part in parts)
    return out + delimiter + b"--" + CRLF


def parse_entity(raw: bytes) -> Entity:
    """Split ``headers CRLF CRLF body`` (bare LF accepted for the separator)."""
    ends = [(raw.find(sep), sep) for sep in (b"\r\n\r\n", b"\n\n") if raw.find(sep) >= 0]
    if not ends:
        raise MimeError("no end of the header section")
    index, separator = min(ends)  # the first empty line, whichever line ends the sender used
    head, body = raw[:index], raw[index + len(separator) :]
    return Entity(BytesHeaderParser(policy=HTTP).parsebytes(head + separator), body)


def entity_from_http(headers: dict[str, str], body: bytes) -> Entity:
    """An entity from HTTP header fields (AS2 puts the outer MIME headers in HTTP, RFC 4130 §5.2)."""
    message = Message(policy=HTTP)
    for name, value in headers.items():
        message[name] = value
    return Entity(message, body)


def split_multipart(entity: Entity) -> list[bytes]:
    """The raw bytes of each part (its headers and body), exactly as signed (RFC 1847 §2.1)."""
    boundary = entity.param("boundary")
    if not boundary:
        raise MimeError(f"{entity.content_type} without a boundary parameter")
    delimiter = b"--" + boundary.encode()
    body = entity.body
    start = body.find(delimiter)
    if start < 0:
        raise MimeError("the multipart body has no boundary line")
    parts: list[bytes] = []
    position = start
    while True:
        line_end = body.find(b"\n", position)
        if line_end < 0:
            raise MimeError("the multipart body ends inside a boundary line")
        if body[position + len(delimiter) : position + len(delimiter) + 2] == b"--":
            return parts  # close delimiter
        part_start = line_end + 1
        following = body.find(b"\n" + delimiter, part_start)
        if following < 0:
            raise MimeError("the multipart body has no closing boundary")
        part_end = following - 1 if following > 0 and body[following - 1 : following] == b"\r" else following
        parts.append(body[part_start:part_end])
        position = following + 1


def notification_fields(raw: bytes) -> Message:
    """The fields of a message/disposition-notification body (RFC 3798 §3.1)."""
    return BytesHeaderParser(policy=HTTP).parsebytes(raw.strip() + CRLF + CRLF)
