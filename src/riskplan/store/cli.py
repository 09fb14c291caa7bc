"""``riskplan audit ...``: verify the audit trail's hash chain and read the trail (inspectors, QPPV).

``riskplan audit verify`` exits 0 when the chain is intact and 1 when it is broken, naming the first broken
row and what is wrong with it (content changed, row missing, row inserted).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.table import Table

from riskplan.cli_support import console
from riskplan.store.commands import database, user_errors

app = typer.Typer(help="The audit trail: verify its hash chain, read its history.", no_args_is_help=True)

EXIT_BROKEN = 1
_SHOW_PROGRESS_AFTER = 1.0  # seconds


class _LateProgress:
    """A rich progress bar that appears only on a terminal, and only once the work has taken a second."""

    def __init__(self, total: int) -> None:
        self._total = total
        self._start = time.monotonic()
        self._progress: Any = None
        self._task: Any = None

    def __call__(self, done: int) -> None:
        if self._progress is None:
            if not console.is_terminal or time.monotonic() - self._start < _SHOW_PROGRESS_AFTER:
                return
            from rich.progress import Progress

            self._progress = Progress(transient=True)
            self._progress.start()
            self._task = self._progress.add_task("verifying the audit trail", total=self._total)
        self._progress.update(self._task, completed=done)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()


@app.command()
@user_errors
def verify() -> None:
    """Walk the audit trail's hash chain in id order; exit 0 if intact, 1 naming the first broken row."""
    from riskplan.store.audit import audit_head
    from riskplan.store.audit_verify import verify_chain
    from riskplan.store.db import session_scope

    with session_scope(database()) as session:
        expected, _ = audit_head(session)
        progress = _LateProgress(expected)
        try:
            check = verify_chain(session, progress)
        finally:
            progress.stop()
    if check.broken is None:
        console.print(f"audit trail intact: {check.rows} rows, head {check.head}")
        return
    b = check.broken
    console.print(f"audit trail BROKEN at row {b.row_id}: {b.problem}: {b.detail}")
    raise typer.Exit(EXIT_BROKEN)


@app.command()
@user_errors
def history(
    entity_type: Annotated[
        str | None, typer.Option(help="Only this kind of record (case, plan, case import, ...)")
    ] = None,
    entity_id: Annotated[str | None, typer.Option(help="Only this record (case id, plan name, file name, ...)")] = None,
    limit: Annotated[int, typer.Option(help="How many of the latest rows", min=1)] = 50,
) -> None:
    """The latest rows of the whole audit trail: who did what, when, to which record, and why."""
    from sqlalchemy import select

    from riskplan.store.audit import AuditEvent
    from riskplan.store.db import session_scope

    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if entity_type:
        stmt = stmt.where(AuditEvent.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    with session_scope(database()) as session:
        events = list(session.scalars(stmt))[::-1]
    table = Table(title="Audit trail")
    for col in ("id", "when (UTC)", "who", "record", "action", "field", "old", "new", "why"):
        table.add_column(col, overflow="fold")
    for e in events:
        table.add_row(
            str(e.id),
            f"{e.at:%Y-%m-%d %H:%M:%S}",
            e.who,
            f"{e.entity_type} {e.entity_id}",
            e.action,
            e.field or "",
            e.old_value or "",
            e.new_value or "",
            e.reason or "",
        )
    console.print(table)
