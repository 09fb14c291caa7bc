"""Electronic signatures (21 CFR Part 11, Subpart C) on the records that need one: the approval of a plan
version, the closing of a signal, a medical assessment of a case.

* 11.200(a): a signature is executed with both of its components, the signer's own user name and
  password, at the moment of signing (:func:`verify_signer`); ``RISKPLAN_USER`` only labels routine
  command-line changes and can never sign. A wrong password is refused, audited as a failed signing
  attempt and counted towards the account's lock-out exactly like a failed login (11.300(d)).
* 11.50: the signature shows the printed name of the signer, the date and time (UTC) and its meaning
  (approval, review, authorship).
* 11.70: the signature is linked to its record: it holds the SHA-256 of the record's canonical content
  (:func:`content_sha256`), so it cannot be copied to another record, and a record changed after
  signing no longer matches its signature (:meth:`Signature.matches`).

Signatures are only ever added, each also recorded in the audit trail (action ``signed``). The folder
that owns a record decides what its canonical content is and which roles may sign it; this module
takes a signer already verified and stores the signature in the record's transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Engine, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from riskplan.errors import UserInputError
from riskplan.store.accounts import AccountSettings, PasswordCheck, check_actor
from riskplan.store.audit import record_change, utcnow
from riskplan.store.db import Base

SIGNATURE_ENTITY = "electronic signature"


class SignatureMeaning(StrEnum):
    """What a signature means (21 CFR 11.50(a)(3))."""

    APPROVAL = "approval"
    REVIEW = "review"
    AUTHORSHIP = "authorship"


class SigningRefused(UserInputError):
    """The signer could not be verified (wrong password, locked or unknown account, role not allowed)."""


@dataclass(frozen=True)
class Signer:
    """A signer whose user name and password were checked at the moment of signing
    (made by :func:`verify_signer`; tests may make one directly)."""

    username: str
    printed_name: str
    role: str


class ElectronicSignatureRow(Base):
    __tablename__ = "electronic_signature"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    signer_username: Mapped[str] = mapped_column(String(100), nullable=False)
    printed_name: Mapped[str] = mapped_column(String(200), nullable=False)
    meaning: Mapped[str] = mapped_column(String(20), nullable=False)
    signed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    record_type: Mapped[str] = mapped_column(String(50), nullable=False, index=True)
    record_id: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    record_sha256: Mapped[str] = mapped_column(String(64), nullable=False)


@dataclass(frozen=True)
class Signature:
    """A stored signature as it is shown (printed name, UTC date and time, meaning) and checked."""

    signer: str
    printed_name: str
    meaning: SignatureMeaning
    signed_at: dt.datetime
    record_type: str
    record_id: str
    record_sha256: str

    def matches(self, content: Mapping[str, Any]) -> bool:
        """Whether the record's current canonical content is what was signed."""
        return content_sha256(self.record_type, self.record_id, content) == self.record_sha256

    @property
    def manifestation(self) -> str:
        """The signature as a reader sees it: ``Anne Quist (qppv1), approval, 2026-12-03T13:05:00Z``."""
        return f"{self.printed_name} ({self.signer}), {self.meaning.value}, {self.signed_at:%Y-%m-%dT%H:%M:%SZ}"

    def shown(self, content: Mapping[str, Any]) -> str:
        """The manifestation with whether the record still matches what was signed."""
        return self.manifestation + ("" if self.matches(content) else " — RECORD CHANGED SINCE SIGNING")


def content_sha256(record_type: str, record_id: str, content: Mapping[str, Any]) -> str:
    """SHA-256 of the record's canonical JSON (sorted keys, no spaces), with its type and id, so that
    equal content of two different records still gives two different hashes."""
    canonical = json.dumps(
        {"record_type": record_type, "record_id": record_id, "content": content},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def verify_signer(
    engine: Engine,
    username: str,
    password: str,
    *,
    settings: AccountSettings | None = None,
    checker: PasswordCheck | None = None,
) -> Signer:
    """The account ``username`` when ``password`` is its password (21 CFR 11.200(a)(1)); else
    :class:`SigningRefused`, after the failed attempt has been audited and counted towards the lock-out
    (in its own transaction, so it stays recorded although nothing is signed)."""
    name = check_actor(username, "signer's user name")
    if not password:
        raise SigningRefused(f"signing needs the password of {name}, given now (21 CFR 11.200): nothing was signed")
    check = checker or PasswordCheck(engine, settings)
    result = check.check(name, password, purpose="signing")
    if result.locked_until is not None and not result.ok:
        raise SigningRefused(
            f"signing refused: too many failed logins or signings, {name} is locked until "
            f"{result.locked_until:%Y-%m-%d %H:%M} UTC (ask an administrator: riskplan user unlock {name})"
        )
    if not result.ok or result.account is None:
        raise SigningRefused(f"signing refused: wrong user name or password for {name!r} (attempt recorded)")
    account = result.account
    return Signer(account.username, account.full_name or account.username, account.role)


def require_role(signer: Signer, roles: Iterable[str], what: str) -> None:
    """SigningRefused unless the signer's role is one of ``roles``."""
    allowed = tuple(roles)
    if signer.role not in allowed:
        raise SigningRefused(f"{signer.username} ({signer.role}) may not sign {what}: only {' or '.join(allowed)} may")


def sign(
    session: Session,
    signer: Signer,
    meaning: SignatureMeaning,
    record_type: str,
    record_id: str,
    content: Mapping[str, Any],
    *,
    at: dt.datetime | None = None,
) -> Signature:
    """Store ``signer``'s signature of the record (in the record's transaction) and audit it."""
    now = _utc(at or utcnow())
    digest = content_sha256(record_type, record_id, content)
    session.add(
        ElectronicSignatureRow(
            signer_username=signer.username,
            printed_name=signer.printed_name,
            meaning=meaning.value,
            signed_at=now,
            record_type=record_type,
            record_id=record_id,
            record_sha256=digest,
        )
    )
    record_change(
        session,
        who=signer.username,
        entity_type=SIGNATURE_ENTITY,
        entity_id=f"{record_type} {record_id}",
        action="signed",
        changes={
            "meaning": (None, meaning.value),
            "printed_name": (None, signer.printed_name),
            "sha256": (None, digest),
        },
        at=now,
    )
    return Signature(signer.username, signer.printed_name, meaning, now, record_type, record_id, digest)


def _utc(value: dt.datetime) -> dt.datetime:
    """A stored time in UTC (SQLite gives back naive UTC; PostgreSQL the session's time zone)."""
    return value.astimezone(dt.UTC) if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def signatures(
    session: Session, record_type: str, record_ids: Iterable[str] | None = None
) -> dict[str, list[Signature]]:
    """The signatures of records of ``record_type`` (all, or those of ``record_ids``), by record id."""
    stmt = select(ElectronicSignatureRow).where(ElectronicSignatureRow.record_type == record_type)
    if record_ids is not None:
        stmt = stmt.where(ElectronicSignatureRow.record_id.in_(list(record_ids)))
    found: dict[str, list[Signature]] = {}
    for r in session.scalars(stmt.order_by(ElectronicSignatureRow.id)):
        found.setdefault(r.record_id, []).append(
            Signature(
                r.signer_username,
                r.printed_name,
                SignatureMeaning(r.meaning),
                _utc(r.signed_at),
                r.record_type,
                r.record_id,
                r.record_sha256,
            )
        )
    return found
