"""What every command-line group shares: the console, the database, and user-error handling."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from riskplan.errors import UserInputError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from riskplan.plan import CurrentPlan

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


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a user's bad input into a clear message and exit code 2, not a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except UserInputError as exc:
            raise fail(str(exc)) from None
        except ValidationError as exc:
            raise fail(str(exc)) from None

    return wrapper


def database() -> Engine:
    """The configured database, migrated to the latest revision of every folder.

    SQLAlchemy, Alembic and the settings are imported here, so commands that need no database (such as
    ``signal detect`` on a file) start without them.
    """
    from riskplan.settings import get_settings
    from riskplan.store.db import make_engine
    from riskplan.store.migrate import upgrade

    engine = make_engine(get_settings().database_url)
    upgrade(engine)
    return engine


def current_user() -> str:
    from riskplan.settings import get_settings

    return get_settings().user


def plan_in_force(name_or_path: str | None) -> CurrentPlan:
    """The plan a ``--plan`` option names: a plan file (.yaml/.json) as it is; a plan name (default: the
    configured plan, ``RISKPLAN_DEFAULT_PLAN``) its current plan (:func:`riskplan.plan.current_plan`: the
    latest approved stored version, else the latest stored, else the bundled file)."""
    from riskplan.plan import current_plan, plan_from_file
    from riskplan.settings import get_settings
    from riskplan.store.db import session_scope

    ref = name_or_path or get_settings().default_plan
    if Path(ref).suffix:
        return plan_from_file(Path(ref))
    with session_scope(database()) as session:
        return current_plan(session, ref)
