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
#: Rows copied in by PostgreSQL COPY raise the driver's own errors, not SQLAlchemy's.
RETRYABLE: Final[tuple[type[Exception], ...]] = (
    IntegrityError,
    OperationalError,
    psycopg.errors.IntegrityError,
    psycopg.errors.OperationalError,
)


class ConcurrentWriteError(UserInputError):
    """Concurrent writers kept conflicting with a transaction; it was rolled back, nothing was stored."""


def write_transaction(
    engine: Engine, work: Callable[[Session], T], *, what: str = "the change", attempts: int = ATTEMPTS
) -> T:
    """Run ``work`` in one transaction, again from the start (up to ``attempts`` times) after a conflict.

    On SQLite the transaction takes the write lock when it begins (``BEGIN IMMEDIATE``, waiting up to
    the busy timeout) so that what it reads cannot be made stale by another writer before it writes.
    """
    for attempt in range(attempts):
        try:
            with session_scope(engine) as session:
                if engine.dialect.name == "sqlite":
                    session.connection().exec_driver_sql("BEGIN IMMEDIATE")
                return work(session)
        except RETRYABLE as exc:
            if not _is_conflict(exc, engine):
                raise  # a read-only file, a full disk, a lost server: no retry helps, the fault is said as it is
            if attempt == attempts - 1:
                reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
                raise ConcurrentWriteError(
                    f"{what} was not stored: concurrent writes to the same records conflicted with it "
                    f"{attempts} times (last: {reason}); nothing was stored, run it again"
                ) from None
            time.sleep(random.uniform(0.01, 0.05) * 2**attempt)  # 10 ms .. 6 s, spread so writers part
    raise AssertionError("unreachable")


def _is_conflict(exc: Exception, engine: Engine) -> bool:
    """A unique-key race or a busy/locked/deadlocked database: what running the transaction again can cure."""
    if isinstance(exc, IntegrityError | psycopg.errors.IntegrityError):
        return True
    return database_fault(exc, engine.url).busy
