"""What every request handler shares: settings, the database, authentication, the signal workflow,
and transactions that are retried when a concurrent transaction got in the way."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import psycopg.errors
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from riskplan.errors import UserInputError
from riskplan.settings import Settings
from riskplan.store.audit import audited_transaction
from riskplan.store.db import session_scope
from riskplan.web.auth import Auth
from riskplan.web.config import WebSettings
from riskplan.web.signals_port import SignalWorkflow

if TYPE_CHECKING:
    from riskplan.web.case_ops import IntakeContexts

T = TypeVar("T")
RETRIES = 6
#: Errors after which the whole transaction is run again. Rows copied in by PostgreSQL COPY raise the
#: driver's own errors, not SQLAlchemy's.
CONFLICTS: tuple[type[Exception], ...] = (IntegrityError, psycopg.errors.IntegrityError)
BUSY: tuple[type[Exception], ...] = (OperationalError, psycopg.errors.OperationalError)
RETRYABLE = CONFLICTS + BUSY


def _intake_contexts() -> IntakeContexts:
    from riskplan.web.case_ops import IntakeContexts

    return IntakeContexts()


class Conflict(UserInputError):
    """The request conflicts with stored data (HTTP 409)."""


class Unavailable(Exception):
    """A capability that is not installed yet (HTTP 501)."""


@dataclass
class WebContext:
    settings: Settings
    web: WebSettings
    engine: Engine
    auth: Auth
    signals: SignalWorkflow | None
    intake_contexts: IntakeContexts = field(default_factory=lambda: _intake_contexts())

    def now(self) -> dt.datetime:
        return self.auth.clock()

    def today(self) -> dt.date:
        return self.now().date()

    def read(self, work: Callable[[Session], T]) -> T:
        with session_scope(self.engine) as session:
            return work(session)

    def write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one transaction; retried from the start when a concurrent writer conflicted.

        A unique-key violation from a concurrent insert of the same case or version, SQLite's "database
        is locked" and PostgreSQL deadlocks or serialisation failures roll the transaction back, so
        running it again is safe: either it commits whole or nothing of it is stored.

        The transaction's audit rows are appended at its commit and it returns once the transaction is on
        disk (:func:`~riskplan.store.audit.audited_transaction`): what it returns may be acknowledged.
        """
        for attempt in range(RETRIES):
            try:
                with audited_transaction(self.engine) as session:
                    if self.engine.dialect.name == "sqlite":
                        # take the write lock now (waiting up to the busy timeout) rather than fail on
                        # upgrading a read snapshot that a concurrent writer made stale
                        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
                    return work(session)
            except RETRYABLE:
                if attempt == RETRIES - 1:
                    raise
                time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
        raise AssertionError("unreachable")
