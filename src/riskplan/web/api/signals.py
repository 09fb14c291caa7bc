"""``/api/signals``: the signal workflow (GVP IX, ``riskplan.signals.workflow``; 501 while it is not
installed) and the disproportionality results of ``riskplan signal detect``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from sqlalchemy.orm import Session

from riskplan.web.api.schemas import (
    DisproportionalityOut,
    Message,
    SignalDetailOut,
    SignalMoveOut,
    SignalOut,
    TransitionIn,
)
from riskplan.web.auth import Principal
from riskplan.web.config import signal_results_path
from riskplan.web.context import Unavailable, WebContext
from riskplan.web.deps import Ctx, require
from riskplan.web.roles import Permission
from riskplan.web.signals_port import CLOSED, NOT_AVAILABLE, SignalWorkflow, read_disproportionality

router = APIRouter(prefix="/signals", tags=["signals"])
Reader = Annotated[Principal, Depends(require(Permission.SIGNAL_READ))]
SignalId = Annotated[str, Path(min_length=1, max_length=40, description="Signal id (SIG-2026-0001) or number")]
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    501: {"model": Message, "description": "The signal workflow is not yet available"}
}


def workflow(ctx: WebContext) -> SignalWorkflow:
    if ctx.signals is None:
        raise Unavailable(NOT_AVAILABLE)
    return ctx.signals


@router.get("", response_model=list[SignalOut], responses=UNAVAILABLE)
def list_signals(ctx: Ctx, _: Reader, plan: Annotated[str | None, Query(max_length=80)] = None) -> list[SignalOut]:
    """Signals with their workflow state and allowed next states."""
    flow = workflow(ctx)
    return [SignalOut.model_validate(s) for s in ctx.read(lambda s: flow.list_signals(s, plan_name=plan))]


@router.get("/disproportionality", response_model=DisproportionalityOut, responses={404: {"model": Message}})
def disproportionality(
    ctx: Ctx,
    _: Reader,
    product: Annotated[str | None, Query(max_length=300)] = None,
    flagged_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> DisproportionalityOut:
    """Product-event pairs with PRR, ROR, IC, EBGM and threshold flags, flagged pairs first."""
    path = signal_results_path(ctx.settings, ctx.web)
    table = read_disproportionality(path, product=product, flagged_only=flagged_only, limit=limit)
    if table is None:
        raise HTTPException(404, f"no disproportionality results at {path}: run `riskplan signal detect --out {path}`")
    return DisproportionalityOut(
        source=str(table.source), total=table.total, columns=list(table.columns), rows=list(table.rows)
    )


@router.get("/{signal_id}", response_model=SignalDetailOut, responses={404: {"model": Message}, **UNAVAILABLE})
def show_signal(ctx: Ctx, _: Reader, signal_id: SignalId) -> SignalDetailOut:
    """A signal with every move it made (who, when, acting as what, why)."""
    flow = workflow(ctx)

    def work(session: Session) -> SignalDetailOut:
        signal = SignalOut.model_validate(flow.get_signal(session, signal_id))
        moves = [SignalMoveOut.model_validate(m) for m in flow.history(session, signal_id)]
        return SignalDetailOut(**signal.model_dump(), history=moves)

    return ctx.read(work)


@router.post(
    "/{signal_id}/transitions",
    response_model=SignalOut,
    status_code=201,
    responses={400: {"model": Message}, 404: {"model": Message}, **UNAVAILABLE},
)
def transition(
    body: TransitionIn,
    ctx: Ctx,
    principal: Annotated[Principal, Depends(require(Permission.SIGNAL_TRANSITION))],
    signal_id: SignalId,
) -> SignalOut:
    """Move a signal on: detected → validated / refuted → prioritised → assessed → closed (QPPV only,
    with an outcome; an outcome that changes the plan needs the changed plan)."""
    if body.to == CLOSED and not principal.can(Permission.SIGNAL_CLOSE):
        raise HTTPException(403, "only the QPPV closes signals")
    flow = workflow(ctx)
    signer = ctx.auth.signer(principal.username, body.password) if body.to == CLOSED and body.password else None
    view = ctx.write(
        lambda s: flow.transition(
            s,
            signal_id,
            body.to,
            who=principal.username,
            role=principal.role.value,
            reason=body.reason,
            outcome=body.outcome,
            plan=body.plan,
            signer=signer,
        )
    )
    return SignalOut.model_validate(view)
