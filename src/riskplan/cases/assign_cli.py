"""``riskplan case assign RP... --to alice``: who works on a case next (audited; ``--nobody`` unassigns)."""

from __future__ import annotations

from typing import Annotated

import typer

from riskplan.cases.assignment import assign_case
from riskplan.cli_support import console, current_user
from riskplan.errors import UserInputError
from riskplan.store import database, user_errors, write_transaction


@user_errors
def assign(
    case: Annotated[str, typer.Argument(help="Case number (RP0000042) or worldwide id")],
    to: Annotated[str | None, typer.Option("--to", help="User name of an active user (`riskplan user list`)")] = None,
    nobody: Annotated[bool, typer.Option("--nobody", help="Assign the case to nobody")] = False,
    reason: Annotated[str | None, typer.Option(help="Why (audit trail)")] = None,
) -> None:
    """Assign a case to a user (it then shows in their `riskplan case queue --mine`); audited."""
    if (to is None) == (not nobody):
        raise UserInputError("say who the case goes to: --to USER, or --nobody to unassign it")
    if to is not None and not to.strip():
        raise UserInputError("--to is blank: give a user name, or --nobody to unassign the case")
    who = current_user()
    done = write_transaction(
        database(),
        lambda s: assign_case(s, case, None if nobody else to, who=who, reason=reason),
        what="the assignment",
    )
    target = done.new or "nobody"
    if not done.changed:
        console.print(f"{done.case_number} is already assigned to {target}: nothing changed", markup=False)
        return
    console.print(f"{done.case_number} assigned to {target} (was {done.old or 'nobody'})", markup=False)
