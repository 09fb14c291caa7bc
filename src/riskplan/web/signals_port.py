"""What the web application needs from ``riskplan.signals``: a small interface, and adapters.

**Signal workflow.** The states are detected → validated / refuted → prioritised → assessed → closed
(GVP Module IX); ``riskplan.signals`` owns them (:class:`~riskplan.signals.SignalState`,
:class:`~riskplan.signals.SignalOutcome`) and the web shows their values. The web application uses the
signal workflow of ``riskplan.signals`` through :class:`SignalWorkflow`::

    list_signals(session, *, plan_name=None) -> list of signals
    get_signal(session, signal_id) -> signal                 # NotFoundError when there is none
    signal_history(session, signal_id) -> list of moves
    transition(session, signal_id, to_state, *, who, role, reason, outcome=None, plan=None, signer=None) -> signal

The module checks that a move is allowed from the current state, that closing comes with an outcome
(and, for an outcome that changes the plan, the changed plan) and records every move in the audit
trail. Who may move a signal is decided here as well: moving needs a safety physician or the QPPV,
closing the QPPV. Without a workflow (an application made with ``signal_workflow=None``) the signal
routes answer 501 ("not yet available").

**Disproportionality results.** The file ``riskplan signal detect --out FILE`` writes (.parquet or
.csv: product, event, N, expected, PRR, …, EB05, EB95, ``signal_<threshold set>`` flags) is shown on
the signal board when it is present.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session

from riskplan.plan import RiskManagementPlan
from riskplan.signals import (
    FINAL_STATES,
    SignalOutcome,
    SignalState,
    get_signal,
    list_signals,
    signal_history,
    transition,
)
from riskplan.store import Signer

# The states and outcomes as the pages and the API show them: the values of the signals' own enums.
STATES: tuple[str, ...] = tuple(state.value for state in SignalState)
CLOSED: str = SignalState.CLOSED.value
FINAL: frozenset[str] = frozenset(state.value for state in FINAL_STATES)
#: Outcomes that close a signal (GVP IX.B.6); all but "no action" change the plan and need it.
OUTCOMES: tuple[str, ...] = tuple(outcome.value for outcome in SignalOutcome)
NOT_AVAILABLE = (
    "the signal workflow is not yet available in this application "
    "(disproportionality results, when present, are at GET /api/signals/disproportionality)"
)


@dataclass(frozen=True)
class SignalView:
    id: str
    title: str
    product: str | None
    event: str | None
    state: str
    allowed_next: tuple[str, ...]
    plan_name: str | None = None
    concern_id: str | None = None
    source: str | None = None
    outcome: str | None = None
    plan_version: int | None = None
    detected_on: dt.date | None = None
    updated_at: dt.datetime | None = None
    updated_by: str | None = None
    cases: tuple[str, ...] = ()
    signed: str | None = None  # the closing's electronic signature as shown

    @property
    def is_open(self) -> bool:
        return self.state not in FINAL


@dataclass(frozen=True)
class MoveView:
    from_state: str | None
    to_state: str
    at: dt.datetime
    who: str
    role: str | None
    reason: str
    outcome: str | None = None
    plan_version: int | None = None


class SignalWorkflow(Protocol):
    def list_signals(self, session: Session, *, plan_name: str | None = None) -> list[SignalView]: ...

    def get_signal(self, session: Session, signal_id: str) -> SignalView: ...

    def history(self, session: Session, signal_id: str) -> list[MoveView]: ...

    def transition(
        self,
        session: Session,
        signal_id: str,
        to_state: str,
        *,
        who: str,
        role: str,
        reason: str,
        outcome: str | None = None,
        plan: RiskManagementPlan | None = None,
        signer: Signer | None = None,
    ) -> SignalView: ...


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def _view(obj: Any) -> SignalView:
    allowed = getattr(obj, "allowed_next", None)
    return SignalView(
        id=str(obj.id),
        title=str(getattr(obj, "title", None) or f"{obj.event} with {obj.product}"),
        product=getattr(obj, "product", None),
        event=getattr(obj, "event", None),
        state=_text(obj.state) or "detected",
        allowed_next=tuple(_text(s) or "" for s in allowed) if allowed is not None else (),
        plan_name=getattr(obj, "plan_name", None),
        concern_id=getattr(obj, "concern_id", None),
        source=_text(getattr(obj, "source", None)),
        outcome=_text(getattr(obj, "outcome", None)),
        plan_version=getattr(obj, "plan_version", None),
        detected_on=getattr(obj, "detected_on", None),
        updated_at=getattr(obj, "updated_at", None),
        updated_by=getattr(obj, "updated_by", None),
        cases=tuple(getattr(obj, "cases", ()) or ()),
        signed=getattr(obj, "signed", None) or None,
    )


def _move(obj: Any) -> MoveView:
    return MoveView(
        from_state=_text(obj.from_state),
        to_state=_text(obj.to_state) or "",
        at=obj.at,
        who=str(obj.who),
        role=getattr(obj, "role", None),
        reason=str(getattr(obj, "reason", "") or ""),
        outcome=_text(getattr(obj, "outcome", None)),
        plan_version=getattr(obj, "plan_version", None),
    )


class ModuleWorkflow:
    """Adapts the signal workflow of ``riskplan.signals`` to :class:`SignalWorkflow`."""

    def list_signals(self, session: Session, *, plan_name: str | None = None) -> list[SignalView]:
        return [_view(s) for s in list_signals(session, plan_name=plan_name)]

    def get_signal(self, session: Session, signal_id: str) -> SignalView:
        return _view(get_signal(session, signal_id))

    def history(self, session: Session, signal_id: str) -> list[MoveView]:
        return [_move(m) for m in signal_history(session, signal_id)]

    def transition(
        self,
        session: Session,
        signal_id: str,
        to_state: str,
        *,
        who: str,
        role: str,
        reason: str,
        outcome: str | None = None,
        plan: RiskManagementPlan | None = None,
        signer: Signer | None = None,
    ) -> SignalView:
        moved = transition(
            session, signal_id, to_state, who=who, role=role, reason=reason, outcome=outcome, plan=plan, signer=signer
        )
        return _view(moved)


def load_signal_workflow() -> SignalWorkflow:
    """The signal workflow of ``riskplan.signals``."""
    return ModuleWorkflow()


# ---------------------------------------------------------------------------------------------------
# Disproportionality results (the output of `riskplan signal detect`)
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DisproportionalityTable:
    source: Path
    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    total: int

    @property
    def flag_columns(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c.startswith("signal_"))


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else str(value)
    if hasattr(value, "is_finite") and hasattr(value, "__float__"):  # Decimal
        return float(value)
    return value


_PARQUET_QUERY = "SELECT * FROM read_parquet($path) WHERE $product IS NULL OR product = $product"
_CSV_QUERY = "SELECT * FROM read_csv($path, header = true) WHERE $product IS NULL OR product = $product"


def read_disproportionality(
    path: Path, *, product: str | None = None, flagged_only: bool = False, limit: int = 200
) -> DisproportionalityTable | None:
    """Rows of a results file (None when there is no file), flagged pairs first by EB05 when present."""
    if not path.is_file():
        return None
    import duckdb

    query = _PARQUET_QUERY if path.suffix.lower() == ".parquet" else _CSV_QUERY
    con = duckdb.connect()
    try:
        result = con.execute(query, {"path": str(path), "product": product})
        columns = tuple(d[0] for d in result.description or ())
        raw = result.fetchall()
    finally:
        con.close()
    rows = [dict(zip(columns, (_plain(v) for v in r), strict=True)) for r in raw]
    flags = [c for c in columns if c.startswith("signal_")]
    if flagged_only:
        rows = [r for r in rows if any(r.get(f) for f in flags)]

    def rank(row: dict[str, Any]) -> tuple[int, float]:
        eb05 = row.get("EB05")
        return (0 if any(row.get(f) for f in flags) else 1, -(eb05 if isinstance(eb05, int | float) else 0.0))

    rows.sort(key=rank)
    return DisproportionalityTable(path, columns, tuple(rows[:limit]), len(rows))


def open_signals(signals: Sequence[SignalView]) -> list[SignalView]:
    return [s for s in signals if s.is_open]
