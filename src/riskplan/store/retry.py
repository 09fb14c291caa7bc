"""Write transactions that are run again when a concurrent writer got in the way.

Two imports of follow-up information for one case at the same moment both read version N and both
insert version N + 1; the database's unique key refuses the second (``IntegrityError``). SQLite may
also answer "database is locked" after its busy timeout. The transaction was rolled back whole, so
running it again from the start is safe: it then reads the other writer's version and numbers its own
after it. After a bounded number of attempts with growing random back-off the caller gets a
:class:`ConcurrentWriteError` that says nothing was stored: never a driver traceback.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Final, TypeVar

import psycopg.errors
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from riskplan.errors import UserInputError
from riskplan.store.db import session_scope
from riskplan.store.faults import database_fault

T = TypeVar("T")
ATTEMPTS: Final = 8
#: Errors after which the whole transaction may be run again (:func:`is_conflict` tells a real conflict
#: from another fault). Rows copied in by PostgreSQL COPY raise the driver's own errors, not SQLAlchemy's.
CONFLICTS: Final[tuple[type[Exception], ...]] = (IntegrityError, psycopg.errors.IntegrityError)
BUSY: Final[tuple[type[Exception], ...]] = (OperationalError, psycopg.errors.OperationalError)
RETRYABLE: Final[tuple[type[Exception], ...]] = CONFLICTS + BUSY


class ConcurrentWriteError(UserInputError):
    """Concurrent writers kept conflicting with a transaction; it was rolled back, nothing was stored."""


def retried(
    engine: Engine,
    work: Callable[[Session], T],
    *,
    attempts: int = ATTEMPTS,
    scope: Callable[[Engine], AbstractContextManager[Session]] = session_scope,
) -> T:
    """Run ``work`` in one transaction (``scope``: a plain session, or the web's audited transaction), again
    from the start (up to ``attempts`` times) after a conflict; the last conflict's error when they are
    used up. Any other database fault (a read-only file, a full disk, a lost server) is raised at once.

    On SQLite the transaction takes the write lock when it begins (``BEGIN IMMEDIATE``, waiting up to
    the busy timeout) so that what it reads cannot be made stale by another writer before it writes.
    """
    for attempt in range(attempts):
        try:
            with scope(engine) as session:
                if engine.dialect.name == "sqlite":
                    session.connection().exec_driver_sql("BEGIN IMMEDIATE")
                return work(session)
        except RETRYABLE as exc:
            if attempt == attempts - 1 or not is_conflict(exc, engine):
                raise
            time.sleep(random.uniform(0.01, 0.05) * 2**attempt)  # 10 ms .. 6 s, spread so writers part
    raise AssertionError("unreachable")


def write_transaction(
    engine: Engine, work: Callable[[Session], T], *, what: str = "the change", attempts: int = ATTEMPTS
) -> T:
    """:func:`retried`, with a :class:`ConcurrentWriteError` that says nothing was stored when the conflicts
    outlast ``attempts`` (for the command line: a message, never a driver traceback)."""
    try:
        return retried(engine, work, attempts=attempts)
    except RETRYABLE as exc:
        if not is_conflict(exc, engine):
            raise  # a read-only file, a full disk, a lost server: no retry helps, the fault is said as it is
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise ConcurrentWriteError(
            f"{what} was not stored: concurrent writes to the same records conflicted with it "
            f"{attempts} times (last: {reason}); nothing was stored, run it again"
        ) from None


def is_conflict(exc: Exception, engine: Engine) -> bool:
    """A unique-key race or a busy/locked/deadlocked database: what running the transaction again can cure."""
    if isinstance(exc, IntegrityError | psycopg.errors.IntegrityError):
        return True
    return database_fault(exc, engine.url).busy
