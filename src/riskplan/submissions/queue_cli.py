"""``riskplan case queue [--mine] [--queue code|assess|submit|returned] [--format json]``: the work queues.

The same queues as the web's "My work" page (:mod:`riskplan.submissions.queues`), registered under
``riskplan case`` by the front end (cases sit below submissions).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer
from rich.table import Table

from riskplan.cli_support import console, current_user
from riskplan.errors import UserInputError
from riskplan.store import database, session_scope, user_errors
from riskplan.submissions.queues import MAX_PAGE, Queue, QueuePage, parse_queue, work_queue

_WHOLE = frozenset({"case", "#", "due", "to", "assigned"})


@user_errors
def queue(
    which: Annotated[
        str | None, typer.Option("--queue", "-q", help="code, assess, submit or returned (default: all four)")
    ] = None,
    mine: Annotated[bool, typer.Option("--mine", help="Only the cases assigned to you (RISKPLAN_USER)")] = False,
    user: Annotated[str | None, typer.Option("--user", help="Only the cases assigned to this user")] = None,
    limit: Annotated[int, typer.Option("--limit", help=f"Rows per queue (1 to {MAX_PAGE})")] = 50,
    offset: Annotated[int, typer.Option("--offset", help="Rows to skip (paging)")] = 0,
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """The work queues: reactions to code, cases to assess, reports to submit, reports returned with a
    negative ACK (with the authority's error text)."""
    if fmt not in ("table", "json"):
        raise UserInputError(f"--format must be table or json, not {fmt!r}")
    if mine and user:
        raise UserInputError("give --mine or --user, not both")
    queues = [parse_queue(which)] if which is not None else list(Queue)
    assignee = current_user() if mine else (user.strip() if user else None)
    today = dt.date.today()
    with session_scope(database()) as session:
        pages = [work_queue(session, q, assignee=assignee, limit=limit, offset=offset) for q in queues]
    if fmt == "json":
        data = {
            p.queue.value: {
                "total": p.total,
                "offset": p.offset,
                "limit": p.limit,
                "items": [i.as_dict(today) for i in p.items],
            }
            for p in pages
        }
        typer.echo(json.dumps({"assigned_to": assignee, "queues": data}, indent=2))
        return
    for page in pages:
        _print(page, today, assignee)


def _print(page: QueuePage, today: dt.date, assignee: str | None) -> None:
    whose = f" assigned to {assignee}" if assignee else ""
    title = f"{page.queue.label}{whose}: {page.total}"
    if page.total > len(page.items):
        title += f" (showing {page.first} to {page.last}; --offset {page.last} for more)" if page.items else ""
    if not page.items:
        console.print(f"{page.queue.label}{whose}: nothing waits" if page.total == 0 else title, markup=False)
        return
    table = Table(title=title, title_justify="left")
    q = page.queue
    columns = ["case"] + (["#"] if q is Queue.CODE else []) + ["what"]
    columns += {Queue.CODE: ["suggestions"], Queue.ASSESS: ["serious", "due"]}.get(q, ["to", "due", "days left"])
    columns += (["ACK error"] if q is Queue.RETURNED else []) + ["assigned"]
    for col in columns:
        table.add_column(col, no_wrap=col in _WHOLE, overflow="fold")  # identifiers and dates never cut
    for i in page.items:
        row = [i.case_number] + ([str(i.reaction)] if q is Queue.CODE else []) + [i.what]
        if q is Queue.CODE:
            row.append(i.detail or "")
        elif q is Queue.ASSESS:
            row += ["yes" if i.serious else "no", str(i.due or "")]
        else:
            left = i.days_left(today)
            row += [i.destination or "", str(i.due or "periodic"), "" if left is None else str(left)]
        if q is Queue.RETURNED:
            row.append(i.detail or "")
        row.append(i.assigned_to or "")
        table.add_row(*row)
    console.print(table)
