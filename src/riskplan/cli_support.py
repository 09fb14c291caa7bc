"""What every command-line group shares: the console, error lines, the user and the signer options.

The database side (opening and migrating it, turning its faults and a user's bad input into one line
and exit code 2) is the store's: :mod:`riskplan.store.commands`; the plan a ``--plan`` option names is
the plan's: :func:`riskplan.plan.plan_in_force`.
"""

from __future__ import annotations

from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from riskplan.errors import UserInputError

P = ParamSpec("P")
R = TypeVar("R")


class _CurrentConsole:
    """A rich Console made for each use, so that it follows the current stdout and ``COLUMNS``."""

    def __init__(self, stderr: bool = False) -> None:
        self._stderr = stderr

    def __getattr__(self, name: str) -> Any:
        return getattr(Console(stderr=self._stderr, highlight=False, soft_wrap=True), name)


console: Any = _CurrentConsole()
err_console: Any = _CurrentConsole(stderr=True)

EXIT_USER_ERROR = 2


def fail(message: str) -> typer.Exit:
    """Print ``message`` as an error and return the Exit to raise (exit code 2)."""
    err_console.print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
    return typer.Exit(EXIT_USER_ERROR)


def current_user() -> str:
    """Who is recorded for a routine command-line change (``RISKPLAN_USER``, else the login name).

    It labels changes only; it never signs (see :func:`riskplan.store.verified_signer`). A blank name is refused.
    """
    from riskplan.settings import get_settings

    name = get_settings().user.strip()
    if not name:
        raise UserInputError(
            "RISKPLAN_USER is empty or blank: every change is recorded with who made it "
            "(21 CFR 11.10(e)); set it to your user name"
        )
    return name


SignerOption = Annotated[
    str | None,
    typer.Option(
        "--signer",
        help="Your riskplan user name (`riskplan user add`); asked for when not given. RISKPLAN_USER never signs.",
    ),
]
PasswordStdinOption = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the signer's password from the first line of standard input"),
]
