"""Users, passwords, logins and sessions.

* Passwords are hashed with argon2id (argon2-cffi); a login with an unknown user name costs the same
  hash verification as a known one.
* After ``lockout_attempts`` failed logins in a row an account is locked for ``lockout_minutes``;
  while locked even the right password is refused (sessions already open stay open, so that someone
  guessing passwords cannot throw the real user out). Failed logins under a name that is not an active
  account are counted and locked out in the same way (``web_login_attempt``), so the answers (wrong
  password, locked) never tell a guesser which user names exist.
* A login opens a server-side session (a ``web_session`` row holding the SHA-256 of a random token):
  the browser gets the token in a cookie signed with itsdangerous, an API client gets it as a bearer
  token. A session ends after ``session_idle_minutes`` unused, ``session_max_hours`` after login, or
  at logout.
* Logins, failed logins, lock-outs and new users are recorded in the audit trail (entity ``user``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from riskplan.errors import UserInputError
from riskplan.store.audit import record_change, utcnow
from riskplan.store.db import session_scope
from riskplan.web.config import WebSettings
from riskplan.web.roles import Permission, Role, allows
from riskplan.web.tables import WebLoginAttempt, WebSecret, WebSession, WebUser

SessionKind = Literal["browser", "api"]
MIN_PASSWORD_LENGTH = 12
_TOUCH_EVERY = dt.timedelta(seconds=60)
USER_ENTITY = "user"


def aware(value: dt.datetime) -> dt.datetime:
    """A stored time as UTC-aware (SQLite gives back naive values)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is making a request, through which session."""

    user_id: int
    username: str
    role: Role
    session_id: int
    csrf_token: str
    kind: SessionKind

    def can(self, permission: Permission) -> bool:
        return allows(self.role, permission)


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    user_id: int | None = None
    locked_until: dt.datetime | None = None

    @property
    def locked(self) -> bool:
        return self.locked_until is not None


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserInputError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if password.strip() != password or not password.isprintable():
        raise UserInputError("a password may not start or end with spaces or hold control characters")


def check_username(username: str) -> str:
    name = username.strip()
    if not name or len(name) > 100 or not all(c.isalnum() or c in "._-@" for c in name):
        raise UserInputError(f"user name {username!r}: 1 to 100 letters, digits or . _ - @ (no spaces)")
    return name


def usernames(session: Session) -> set[str]:
    """The names of all users (active or not)."""
    return set(session.scalars(select(WebUser.username)))


class Auth:
    """Password hashing, logins and sessions against one database."""

    def __init__(self, engine: Engine, web: WebSettings, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.engine = engine
        self.web = web
        self.clock = clock
        self.hasher = PasswordHasher(time_cost=web.argon2_time_cost, memory_cost=web.argon2_memory_kib)
        self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        self._secret: str | None = web.secret_key

    # -- the signing key ----------------------------------------------------------------------

    def secret(self) -> str:
        if self._secret is None:
            self._secret = ensure_secret(self.engine, "cookie-signing-key")
        return self._secret

    def serializer(self, purpose: str) -> URLSafeSerializer:
        return URLSafeSerializer(self.secret(), salt=f"riskplan.{purpose}")

    def sign(self, purpose: str, value: str) -> str:
        return str(self.serializer(purpose).dumps(value))

    def unsign(self, purpose: str, signed: str | None) -> str | None:
        if not signed:
            return None
        try:
            value = self.serializer(purpose).loads(signed)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None

    # -- users ----------------------------------------------------------------------------------

    def add_user(self, session: Session, username: str, role: Role, password: str, *, who: str) -> WebUser:
        name = check_username(username)
        check_password_rules(password)
        if session.scalar(select(WebUser.id).where(WebUser.username == name)) is not None:
            raise UserInputError(f"user {name!r} already exists")
        now = self.clock()
        user = WebUser(
            username=name,
            role=role.value,
            password_hash=self.hasher.hash(password),
            active=True,
            failed_logins=0,
            created_at=now,
            created_by=who,
            password_changed_at=now,
        )
        session.add(user)
        session.flush()
        record_change(
            session,
            who=who,
            entity_type=USER_ENTITY,
            entity_id=name,
            action="created",
            changes={"role": (None, role.value)},
            at=now,
        )
        return user

    # -- logins ---------------------------------------------------------------------------------

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def login(self, username: str, password: str) -> LoginResult:
        """Check a user name and password, counting failures and locking the account after too many."""
        now = self.clock()
        with session_scope(self.engine) as session:
            user = session.scalars(select(WebUser).where(WebUser.username == username.strip())).first()
            if user is None or not user.active:
                self._verify(self._dummy_hash, password)
                return self._failed_unknown(session, username.strip()[:100], now)
            if user.locked_until is not None and aware(user.locked_until) > now:
                self._verify(self._dummy_hash, password)
                return LoginResult(False, user.id, aware(user.locked_until))
            if not self._verify(user.password_hash, password):
                return self._failed(session, user, now)
            if self.hasher.check_needs_rehash(user.password_hash):
                user.password_hash = self.hasher.hash(password)
            user.failed_logins = 0
            user.locked_until = None
            user.last_login_at = now
            record_change(
                session, who=user.username, entity_type=USER_ENTITY, entity_id=user.username, action="logged in", at=now
            )
            return LoginResult(True, user.id)

    def _failed(self, session: Session, user: WebUser, now: dt.datetime) -> LoginResult:
        # one UPDATE, so that concurrent failures are all counted
        session.execute(update(WebUser).where(WebUser.id == user.id).values(failed_logins=WebUser.failed_logins + 1))
        session.refresh(user)
        return LoginResult(False, user.id, self._after_failure(session, user.username, user, now))

    def _failed_unknown(self, session: Session, name: str, now: dt.datetime) -> LoginResult:
        """A failed login under a name that is no active account: counted and locked out like an
        account's, and recorded in the audit trail. The name's row is created if missing, then read
        with a row lock, so concurrent failures all count."""
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        session.execute(
            insert(WebLoginAttempt)
            .values(username=name, failed_logins=0, last_failed_at=now)
            .on_conflict_do_nothing(index_elements=["username"])
        )
        attempt = session.get_one(WebLoginAttempt, name, with_for_update=True, populate_existing=True)
        if attempt.locked_until is not None and aware(attempt.locked_until) > now:
            return LoginResult(False, None, aware(attempt.locked_until))
        attempt.failed_logins += 1
        attempt.last_failed_at = now
        until = self._after_failure(session, name, attempt, now, "no active account of that name")
        return LoginResult(False, None, until)

    def _after_failure(
        self,
        session: Session,
        name: str,
        counter: WebUser | WebLoginAttempt,
        now: dt.datetime,
        note: str | None = None,
    ) -> dt.datetime | None:
        """Audit a failed login already counted in ``counter``; at ``lockout_attempts`` in a row, lock
        the name for ``lockout_minutes`` (audited too) and return until when, else None."""
        record_change(
            session,
            who=name,
            entity_type=USER_ENTITY,
            entity_id=name,
            action="login failed",
            changes={"failed_logins": (None, counter.failed_logins)},
            reason=note,
            at=now,
        )
        if counter.failed_logins < self.web.lockout_attempts:
            return None
        until = now + dt.timedelta(minutes=self.web.lockout_minutes)
        counter.locked_until, counter.failed_logins = until, 0
        record_change(
            session,
            who=name,
            entity_type=USER_ENTITY,
            entity_id=name,
            action="locked",
            changes={"locked_until": (None, until.isoformat())},
            reason=f"{self.web.lockout_attempts} failed logins in a row" + (f"; {note}" if note else ""),
            at=now,
        )
        return until

    # -- sessions -------------------------------------------------------------------------------

    def open_session(self, user_id: int, kind: SessionKind) -> tuple[str, WebSession]:
        """A new session for a user who has just logged in; returns its token (shown once)."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        row = WebSession(
            token_hash=token_digest(token),
            user_id=user_id,
            kind=kind,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + dt.timedelta(hours=self.web.session_max_hours),
        )
        with session_scope(self.engine) as session:
            session.add(row)
        return token, row

    def resolve(self, token: str | None, kind: SessionKind) -> Principal | None:
        """The principal of a live session with this token, or None (unknown, ended or expired)."""
        if not token:
            return None
        now = self.clock()
        idle = dt.timedelta(minutes=self.web.session_idle_minutes)
        with session_scope(self.engine) as session:
            found = session.execute(
                select(WebSession, WebUser)
                .join(WebUser, WebUser.id == WebSession.user_id)
                .where(WebSession.token_hash == token_digest(token), WebSession.kind == kind)
            ).first()
            if found is None:
                return None
            row, user = found
            if row.revoked_at is not None or not user.active:
                return None
            last_seen = aware(row.last_seen_at)
            if now >= aware(row.expires_at) or now - last_seen >= idle:
                row.revoked_at = now
                return None
            if now - last_seen >= _TOUCH_EVERY:
                row.last_seen_at = now
            return Principal(user.id, user.username, Role(user.role), row.id, row.csrf_token, kind)

    def end_session(self, session_id: int) -> None:
        with session_scope(self.engine) as session:
            session.execute(
                update(WebSession)
                .where(WebSession.id == session_id, WebSession.revoked_at.is_(None))
                .values(revoked_at=self.clock())
            )


def ensure_secret(engine: Engine, name: str) -> str:
    """A random secret kept in the database, made on first use (safe when several processes race)."""
    for _ in range(3):
        with session_scope(engine) as session:
            value = session.scalar(select(WebSecret.value).where(WebSecret.name == name))
        if value is not None:
            return value
        try:
            with session_scope(engine) as session:
                session.add(WebSecret(name=name, value=secrets.token_urlsafe(48), created_at=utcnow()))
        except IntegrityError:
            continue
    raise RuntimeError(f"could not create the secret {name!r}")
