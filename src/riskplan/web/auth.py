"""Users, passwords, logins and sessions.

* Passwords are hashed with argon2id (argon2-cffi); a login with an unknown user name costs the same
  hash verification as a known one.
* After ``lockout_attempts`` failed logins in a row an account is locked for ``lockout_minutes``;
  while locked even the right password is refused (sessions already open stay open, so that someone
  guessing passwords cannot throw the real user out). Failed logins under a name that is not an active
  account are counted and locked out in the same way (``web_login_attempt``), so the answers (wrong
  password, locked) never tell a guesser which user names exist. The password check itself, safe
  under parallel attempts (counted before the password is verified, with atomic updates), is
  :class:`riskplan.store.accounts.PasswordCheck`, shared with electronic signatures: a failed signing
  counts towards the same lock-out.
* Password spraying (one guess on many accounts from one address): after ``client_lockout_attempts``
  failed logins from one client address within ``client_lockout_minutes``, logins from that address
  are refused for ``client_lockout_minutes`` (``web_client_attempt``; audited, entity ``login client``).
* :meth:`Auth.signer` asks the logged-in user's password again at the moment of signing
  (21 CFR 11.200(a)(1)).
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

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Engine, bindparam, case, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from riskplan.errors import UserInputError
from riskplan.store import (
    USER_ENTITY,
    PasswordCheck,
    Signer,
    aware,
    record_change,
    session_scope,
    utcnow,
    verify_signer,
)
from riskplan.web.config import WebSettings
from riskplan.web.roles import Permission, Role, allows
from riskplan.web.tables import WebClientAttempt, WebSecret, WebSession, WebUser

__all__ = ["USER_ENTITY", "Auth", "LoginResult", "Principal", "aware", "check_password_rules", "check_username"]

SessionKind = Literal["browser", "api"]
MIN_PASSWORD_LENGTH = 12
_TOUCH_EVERY = dt.timedelta(seconds=60)
#: The session check run before every request, built once (its token and kind are bound per request).
_SESSION_CHECK = (
    select(
        WebSession.id,
        WebSession.revoked_at,
        WebSession.last_seen_at,
        WebSession.expires_at,
        WebSession.csrf_token,
        WebUser.id,
        WebUser.username,
        WebUser.role,
        WebUser.active,
    )
    .join(WebUser, WebUser.id == WebSession.user_id)
    .where(WebSession.token_hash == bindparam("token_hash"), WebSession.kind == bindparam("kind"))
)
CLIENT_ENTITY = "login client"


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
    client_locked: bool = False  # the lock is on the client address, not on the account

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
        self.passwords = PasswordCheck(engine, web, clock)
        self.hasher = self.passwords.hasher
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

    def add_user(
        self, session: Session, username: str, role: Role, password: str, *, who: str, full_name: str | None = None
    ) -> WebUser:
        name = check_username(username)
        check_password_rules(password)
        printed = (full_name or "").strip() or None
        if printed is not None and (len(printed) > 200 or not printed.isprintable()):
            raise UserInputError("a full name has at most 200 printable characters")
        if session.scalar(select(WebUser.id).where(WebUser.username == name)) is not None:
            raise UserInputError(f"user {name!r} already exists")
        now = self.clock()
        user = WebUser(
            username=name,
            full_name=printed,
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
            changes={"role": (None, role.value), **({"full_name": (None, printed)} if printed else {})},
            at=now,
        )
        return user

    # -- logins ---------------------------------------------------------------------------------

    def login(self, username: str, password: str, client: str | None = None) -> LoginResult:
        """Check a user name and password (counting failures and locking the account after too many,
        :class:`~riskplan.store.accounts.PasswordCheck`), and the client address's failures
        (password spraying: one guess on many accounts from one address)."""
        now = self.clock()
        client_key = (client or "")[:100]
        if client_key:
            client_until = self._client_locked_until(client_key, now)
            if client_until is not None:
                self.passwords._verify(self.passwords._dummy_hash, password)
                return LoginResult(False, None, client_until, client_locked=True)
        result = self.passwords.check(username, password, purpose="login")
        if not result.ok or result.account is None:
            client_until = self._client_failed(client_key, now) if client_key else None
            if result.locked_until is None and client_until is not None:
                return LoginResult(False, None, client_until, client_locked=True)
            return LoginResult(False, result.account_id, result.locked_until)
        account = result.account
        with session_scope(self.engine) as session:
            session.execute(update(WebUser).where(WebUser.id == account.id).values(last_login_at=now))
            record_change(
                session,
                who=account.username,
                entity_type=USER_ENTITY,
                entity_id=account.username,
                action="logged in",
                at=now,
            )
        return LoginResult(True, account.id)

    def _client_locked_until(self, client: str, now: dt.datetime) -> dt.datetime | None:
        with session_scope(self.engine) as session:
            until = session.scalar(select(WebClientAttempt.locked_until).where(WebClientAttempt.client == client))
        return aware(until) if until is not None and aware(until) > now else None

    def _client_failed(self, client: str, now: dt.datetime) -> dt.datetime | None:
        """Count a failed login from ``client`` (one atomic UPDATE; the count starts again after
        ``client_lockout_minutes`` without a failure); at ``client_lockout_attempts`` lock the address
        for ``client_lockout_minutes`` (audited, entity ``login client``) and return until when."""
        window = dt.timedelta(minutes=self.web.client_lockout_minutes)
        with session_scope(self.engine) as session:
            insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
            session.execute(
                insert(WebClientAttempt)
                .values(client=client, failed_logins=0, last_failed_at=now)
                .on_conflict_do_nothing(index_elements=["client"])
            )
            counted = session.execute(
                update(WebClientAttempt)
                .where(WebClientAttempt.client == client)
                .values(
                    failed_logins=case(
                        (WebClientAttempt.last_failed_at < now - window, 1), else_=WebClientAttempt.failed_logins + 1
                    ),
                    last_failed_at=now,
                )
                .returning(WebClientAttempt.failed_logins)
            ).scalar_one()
            if counted < self.web.client_lockout_attempts:
                return None
            until = now + window
            session.execute(
                update(WebClientAttempt)
                .where(WebClientAttempt.client == client)
                .values(locked_until=until, failed_logins=0)
            )
            record_change(
                session,
                who=client,
                entity_type=CLIENT_ENTITY,
                entity_id=client,
                action="locked",
                changes={"locked_until": (None, until.isoformat())},
                reason=f"{counted} failed logins from this address within {self.web.client_lockout_minutes} minutes "
                "(password spraying)",
                at=now,
            )
            return until

    def signer(self, username: str, password: str) -> Signer:
        """Re-authentication at the moment of signing (21 CFR 11.200(a)(1)): the logged-in user's own
        password again; a wrong one is refused, audited and counted towards the lock-out like a failed
        login (SigningRefused)."""
        return verify_signer(self.engine, username, password, checker=self.passwords)

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
        # Core, not the ORM: this runs before every request (one SELECT; an UPDATE at most once a minute).
        # Each statement commits on its own (autocommit): no transaction to open and no COMMIT round trip
        # for a read; the UPDATE is one statement, atomic by itself.
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            found = connection.execute(_SESSION_CHECK, {"token_hash": token_digest(token), "kind": kind}).first()
            if found is None:
                return None
            session_id, revoked_at, last_seen_at, expires_at, csrf_token, user_id, username, role, active = found
            if revoked_at is not None or not active:
                return None
            last_seen = aware(last_seen_at)
            if now >= aware(expires_at) or now - last_seen >= idle:
                connection.execute(update(WebSession).where(WebSession.id == session_id).values(revoked_at=now))
                return None
            if now - last_seen >= _TOUCH_EVERY:
                connection.execute(update(WebSession).where(WebSession.id == session_id).values(last_seen_at=now))
            return Principal(user_id, username, Role(role), session_id, csrf_token, kind)

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
