"""Database faults as a user reads them: which database, and the true reason in one line.

A safety database that cannot be written must say so plainly (21 CFR 11.10(a): a system whose faults
are visible, not silent). :func:`database_fault` turns an exception raised while opening or using the
database (SQLAlchemy's ``ArgumentError``/``NoSuchModuleError`` for a bad URL or driver, ``DBAPIError``
and the drivers' own errors for an unreachable server, a full disk, a read-only file, a missing folder)
into a :class:`DatabaseFault`: the reason, whether it is the user's configuration (exit code 2) or the
database itself (exit code 3, HTTP 503), and the message with the URL, password hidden.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from urllib.parse import unquote

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

#: Exit code of a command whose database URL or driver is wrong (a user's configuration error).
EXIT_BAD_DATABASE_CONFIG = 2
#: Exit code of a command whose database cannot be reached, is full, read-only or otherwise faulty.
EXIT_DATABASE_FAULT = 3

# (pattern in the driver's message or SQLSTATE, reason); first match wins.
_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), r)
    for p, r in (
        (r"disk is full|no space left|disk full|\b53100\b|could not extend file", "the disk is full"),
        (r"readonly database|read-only|read only|\b25006\b|readonly", "the database is read-only"),
        (r"database is locked|database table is locked|\b40P01\b|\b40001\b", "the database is busy: try again"),
        (r"unable to open database file", "the database file cannot be opened (missing folder or no access)"),
        (r'database "[^"]*" does not exist', "no such database on the server"),
        (
            r'role "[^"]*" does not exist|password authentication failed|no pg_hba.conf entry',
            "the server refused the login",
        ),
        (
            r"connection refused|could not connect|connection failed|could not translate host|timeout expired"
            r"|name or service not known|server closed the connection|connection is closed|no route to host",
            "the database cannot be reached",
        ),
    )
)


@dataclass(frozen=True)
class DatabaseFault:
    """What went wrong with the database, for a one-line message."""

    url: str  # password hidden
    reason: str
    detail: str  # the driver's first line, for the expert
    configuration: bool  # the URL or driver is wrong (the user's setting), not the database

    @property
    def exit_code(self) -> int:
        return EXIT_BAD_DATABASE_CONFIG if self.configuration else EXIT_DATABASE_FAULT

    @property
    def busy(self) -> bool:
        return self.reason.startswith("the database is busy")

    def message(self) -> str:
        detail = f" ({self.detail})" if self.detail and self.detail not in self.reason else ""
        return f"database {self.url}: {self.reason}{detail}"


def shown_url(url: object) -> str:
    """``url`` with its password hidden; a URL that does not parse is shown without what looks like one."""
    try:
        return unquote(make_url(str(url)).render_as_string(hide_password=True))
    except Exception:
        return re.sub(r"(//[^/:@]*:)[^@/]*@", r"\1***@", str(url))


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0].strip() if text else exc.__class__.__name__


def _driver_errors() -> tuple[type[Exception], ...]:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return (sqlite3.Error,)
    return (sqlite3.Error, psycopg.Error)


#: The drivers' own errors (PostgreSQL COPY and raw SQLite connections raise these, not SQLAlchemy's).
DRIVER_ERRORS: tuple[type[Exception], ...] = _driver_errors()


def is_database_error(exc: BaseException) -> bool:
    """Whether ``exc`` comes from the database or its configuration (not from the user's other input)."""
    return isinstance(exc, (ArgumentError, NoSuchModuleError, DBAPIError, *DRIVER_ERRORS))


def database_fault(exc: BaseException, url: object) -> DatabaseFault:
    """The fault behind ``exc``, raised while opening or using the database at ``url``."""
    shown = shown_url(url)
    detail = _first_line(exc)
    if isinstance(exc, NoSuchModuleError):
        return DatabaseFault(shown, "unknown database driver (use sqlite:/// or postgresql://)", detail, True)
    if isinstance(exc, ArgumentError):
        return DatabaseFault(shown, "not a valid database URL (e.g. sqlite:////path/riskplan.db)", detail, True)
    sqlstate = getattr(getattr(exc, "orig", exc), "sqlstate", None) or ""
    for pattern, reason in _REASONS:
        if pattern.search(detail) or (sqlstate and pattern.search(sqlstate)):
            return DatabaseFault(shown, reason, detail, False)
    return DatabaseFault(shown, "database error", detail, False)


def folder_fault(exc: OSError, url: object) -> DatabaseFault:
    """The folder of a SQLite database could not be made (a file in the way, no permission, full disk)."""
    reason = "the disk is full" if exc.errno == 28 else "the database folder cannot be created"
    return DatabaseFault(shown_url(url), reason, f"{exc.strerror or exc}: {exc.filename or ''}".strip(), False)
