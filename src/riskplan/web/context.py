"""What every request handler shares: settings, the database, authentication, the signal workflow,
and transactions that are retried when a concurrent transaction got in the way."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from riskplan.errors import UserInputError
from riskplan.settings import Settings
from riskplan.store import audited_transaction, retried, session_scope
from riskplan.web.auth import Auth
from riskplan.web.config import WebSettings
from riskplan.web.signals_port import SignalWorkflow

if TYPE_CHECKING:
    from riskplan.web.case_ops import IntakeContexts

T = TypeVar("T")
RETRIES = 6


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
        return retried(self.engine, work, attempts=RETRIES, scope=audited_transaction)
