"""User accounts and the password check that every front end shares (web login, electronic signatures).

The accounts were the web application's (table ``web_user``, made by ``web_0001``; the table keeps its
name and its migration history in ``web/``). Their mapping and the password check live here, at the
base of the layers, so that the command line of ``plan/``, ``cases/`` and ``signals/`` can verify a
signer's password (21 CFR 11.200: a signature is executed with both components, user name and
password) without importing the web application.

The check is safe under concurrent attempts (21 CFR 11.300(d): safeguards against unauthorised use):

* every attempt is counted *before* its password is verified, with one atomic
  ``UPDATE ... SET failed_logins = failed_logins + 1 ... RETURNING`` that matches only an account that
  is not locked; a locked account is refused without looking at the password;
* an attempt that is the ``lockout_attempts``-th or later without a success in between is checked,
  but the ``lockout_attempts + 1``-th and later are refused outright, so a burst of parallel guesses
  cannot slip the right password in after the limit is reached;
* a right password is accepted only by an ``UPDATE`` that again matches an unlocked account (it
  resets the count); a wrong one locks the account when the count stands at the limit.

Failed attempts under a name that is no active account are counted and locked out in the same way
(``web_login_attempt``), so the answers never tell a guesser which user names exist. Every failed
attempt and every lock-out is recorded in the audit trail (entity ``user``).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Boolean, DateTime, Engine, Integer, String, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from riskplan.errors import UserInputError
from riskplan.store.audit import record_change, utcnow
from riskplan.store.db import Base, session_scope

USER_ENTITY = "user"
#: Password verifications run at once in this process. Each argon2id verification takes
#: ``argon2_memory_kib`` of memory and a core for a fraction of a second: fifty logins at the start of a
#: working day, all at once, would take gigabytes and thrash the processors for every request in between;
#: queued, they finish sooner and the writes beside them keep their share.
_HASHING = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))


class AccountSettings(BaseSettings):
    """Password hashing and lock-out (``RISKPLAN_WEB_*``, shared by the web application and the CLI)."""

    model_config = SettingsConfigDict(env_prefix="RISKPLAN_WEB_", extra="ignore")

    lockout_attempts: int = Field(default=5, ge=1, description="Failed logins in a row that lock an account")
    lockout_minutes: int = Field(default=15, ge=1, description="How long a locked account stays locked")
    argon2_time_cost: int = Field(default=3, ge=1, description="argon2id passes")
    argon2_memory_kib: int = Field(default=65536, ge=8, description="argon2id memory in KiB")


class UserAccount(Base):
    __tablename__ = "web_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    # 21 CFR 11.50(a)(1): the printed name of the signer (web_0004; accounts made before have none)
    full_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False)
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    password_changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class LoginAttempt(Base):
    """Failed logins under a user name that is not an active account, counted and locked out exactly as
    an account's are, so that the answers to a password-guesser do not tell which names exist."""

    __tablename__ = "web_login_attempt"

    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_failed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)


def aware(value: dt.datetime) -> dt.datetime:
    """A stored time as UTC-aware (SQLite gives back naive values)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def check_actor(name: str | None, what: str = "user name") -> str:
    """``name`` stripped; refused when blank (an audit trail entry needs someone, 21 CFR 11.10(e))."""
    cleaned = (name or "").strip()
    if not cleaned:
        raise UserInputError(
            f"the {what} is empty or blank: every change is recorded with who made it "
            "(set RISKPLAN_USER, or give a user name)"
        )
    return cleaned


@dataclass(frozen=True)
class Account:
    """An account whose password has just been checked."""

    id: int
    username: str
    full_name: str | None
    role: str


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    account: Account | None = None
    locked_until: dt.datetime | None = None
    account_id: int | None = None  # the account tried, when the name is an active account

    @property
    def locked(self) -> bool:
        return self.locked_until is not None


class PasswordCheck:
    """Hashes passwords and checks a user name and password against the accounts, with lock-out."""

    def __init__(
        self,
        engine: Engine,
        settings: AccountSettings | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.settings = settings or AccountSettings()
        self.clock = clock
        self.hasher = PasswordHasher(
            time_cost=self.settings.argon2_time_cost, memory_cost=self.settings.argon2_memory_kib
        )
        self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            with _HASHING:
                return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def check(self, username: str, password: str, *, purpose: str = "login") -> CheckResult:
        """Check ``password`` for ``username``; ``purpose`` names the attempt in the audit trail
        (``login failed``, ``signing failed``). Counts the attempt first (see the module docstring)."""
        now = self.clock()
        name = username.strip()[:100]
        limit = self.settings.lockout_attempts
        with session_scope(self.engine) as session:
            found = session.execute(
                select(UserAccount.id, UserAccount.password_hash).where(
                    UserAccount.username == name, UserAccount.active.is_(True)
                )
            ).first()
            if found is None:
                self._verify(self._dummy_hash, password)
                return self._failed_unknown(session, name, now, purpose)
            account_id, password_hash = found
            unlocked = or_(UserAccount.locked_until.is_(None), UserAccount.locked_until <= now)
            counted = session.execute(
                update(UserAccount)
                .where(UserAccount.id == account_id, unlocked)
                .values(failed_logins=UserAccount.failed_logins + 1)
                .returning(UserAccount.failed_logins)
            ).scalar()
        if counted is None:  # locked: refused without looking at the password
            self._verify(self._dummy_hash, password)
            return CheckResult(False, None, self._locked_until(account_id), account_id)
        if counted > limit:  # more attempts in a row than allowed, some still being checked
            self._verify(self._dummy_hash, password)
            return self._failed(account_id, name, counted, now, purpose, "too many attempts at once")
        if not self._verify(password_hash, password):
            return self._failed(account_id, name, counted, now, purpose)
        with session_scope(self.engine) as session:
            row = session.execute(
                update(UserAccount)
                .where(UserAccount.id == account_id, unlocked)
                .values(failed_logins=0, locked_until=None)
                .returning(UserAccount.username, UserAccount.full_name, UserAccount.role)
            ).first()
            if row is not None and self.hasher.check_needs_rehash(password_hash):
                session.execute(
                    update(UserAccount).where(UserAccount.id == account_id).values(password_hash=self.hash(password))
                )
        if row is None:  # locked while the password was being checked
            return CheckResult(False, None, self._locked_until(account_id), account_id)
        return CheckResult(True, Account(account_id, row.username, row.full_name, row.role), None, account_id)

    def _locked_until(self, account_id: int) -> dt.datetime | None:
        with session_scope(self.engine) as session:
            until = session.scalar(select(UserAccount.locked_until).where(UserAccount.id == account_id))
        return None if until is None else aware(until)

    def _failed(
        self, account_id: int, name: str, counted: int, now: dt.datetime, purpose: str, note: str | None = None
    ) -> CheckResult:
        """A failed attempt (already counted): audited; locks the account when the count is at the limit."""
        limit = self.settings.lockout_attempts
        until = now + dt.timedelta(minutes=self.settings.lockout_minutes)
        with session_scope(self.engine) as session:
            self._audit_failure(session, name, counted, now, purpose, note)
            locked = session.execute(
                update(UserAccount)
                .where(
                    UserAccount.id == account_id,
                    UserAccount.failed_logins >= limit,
                    or_(UserAccount.locked_until.is_(None), UserAccount.locked_until <= now),
                )
                .values(locked_until=until, failed_logins=0)
                .returning(UserAccount.id)
            ).first()
            if locked is not None:
                self._audit_lock(session, name, until, now, note)
        return CheckResult(False, None, until if locked is not None else self._locked_until(account_id), account_id)

    def _failed_unknown(self, session: Session, name: str, now: dt.datetime, purpose: str) -> CheckResult:
        """A failed attempt under a name that is no active account: counted and locked out like an
        account's, and audited. The name's row is created if missing, then counted in one UPDATE."""
        note = "no active account of that name"
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        session.execute(
            insert(LoginAttempt)
            .values(username=name, failed_logins=0, last_failed_at=now)
            .on_conflict_do_nothing(index_elements=["username"])
        )
        unlocked = or_(LoginAttempt.locked_until.is_(None), LoginAttempt.locked_until <= now)
        counted = session.execute(
            update(LoginAttempt)
            .where(LoginAttempt.username == name, unlocked)
            .values(failed_logins=LoginAttempt.failed_logins + 1, last_failed_at=now)
            .returning(LoginAttempt.failed_logins)
        ).scalar()
        if counted is None:
            until = session.scalar(select(LoginAttempt.locked_until).where(LoginAttempt.username == name))
            return CheckResult(False, None, None if until is None else aware(until))
        self._audit_failure(session, name, counted, now, purpose, note)
        if counted < self.settings.lockout_attempts:
            return CheckResult(False)
        locked_until = now + dt.timedelta(minutes=self.settings.lockout_minutes)
        session.execute(
            update(LoginAttempt).where(LoginAttempt.username == name).values(locked_until=locked_until, failed_logins=0)
        )
        self._audit_lock(session, name, locked_until, now, note)
        return CheckResult(False, None, locked_until)

    def _audit_failure(
        self, session: Session, name: str, counted: int, now: dt.datetime, purpose: str, note: str | None
    ) -> None:
        record_change(
            session,
            who=name or "(blank)",
            entity_type=USER_ENTITY,
            entity_id=name or "(blank)",
            action=f"{purpose} failed",
            changes={"failed_logins": (None, counted)},
            reason=note,
            at=now,
        )

    def _audit_lock(self, session: Session, name: str, until: dt.datetime, now: dt.datetime, note: str | None) -> None:
        record_change(
            session,
            who=name or "(blank)",
            entity_type=USER_ENTITY,
            entity_id=name or "(blank)",
            action="locked",
            changes={"locked_until": (None, until.isoformat())},
            reason=f"{self.settings.lockout_attempts} failed attempts in a row (logins or signings)"
            + (f"; {note}" if note else ""),
            at=now,
        )
