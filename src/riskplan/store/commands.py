"""What every command shares about the database: open and migrate it, say which one a change went to,
turn its faults and a user's bad input into one line and exit code 2, and verify a signer."""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError
from rich.markup import escape

from riskplan.cli_support import err_console, fail
from riskplan.errors import EXIT_STEP_FAILED, StepFailedError, UserInputError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from riskplan.store.signatures import Signer

P = ParamSpec("P")
R = TypeVar("R")

#: The URL of the database the running command opened (for the one-line message of a database fault).
_opened: list[str] = []


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a user's bad input into a clear message and exit code 2, not a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        _opened.clear()
        try:
            return func(*args, **kwargs)
        except UserInputError as exc:
            raise fail(escape(str(exc))) from None  # a message may hold brackets: [gateway.EU], [0]
        except ValidationError as exc:
            raise fail(escape(str(exc))) from None
        except StepFailedError as exc:  # e.g. a PSUR section that could not be computed: exit 3
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, soft_wrap=True)
            raise typer.Exit(EXIT_STEP_FAILED) from None
        except SettingsError as exc:  # e.g. RISKPLAN_E2B_RECEIVER_IDS that is not JSON
            raise fail(escape(f"{exc} (settings: riskplan.toml or the RISKPLAN_... environment variables)")) from None
        except Exception as exc:
            from riskplan.store.faults import database_fault, is_database_error

            if not is_database_error(exc):
                raise
            fault = database_fault(exc, _opened[-1] if _opened else _configured_url())
            err_console.print(f"[bold red]error:[/] {fault.message()}", markup=True, soft_wrap=True)
            raise typer.Exit(fault.exit_code) from None

    return wrapper


def _configured_url() -> str:
    from riskplan.settings import get_settings

    return get_settings().database_url


def database(url: str | None = None) -> Engine:
    """The configured database (or ``url``), migrated to the latest revision of every folder.

    The first statement that writes data prints the database on standard error ("database: URL", password
    hidden), so a user always sees which database a change went to; standard output stays clean for JSON.
    A fault (bad URL, unknown driver, unreachable server, full disk, read-only file, a folder that cannot
    be made) ends the command with one line naming the database, through :func:`user_errors`.

    SQLAlchemy, Alembic and the settings are imported here, so commands that need no database (such as
    ``signal detect`` on a file) start without them.
    """
    from riskplan.store.migrate import upgrade

    engine = open_engine(url or _configured_url())
    upgrade(engine)
    _announce_writes(engine)  # after the migrations: a read on a new database keeps its output clean
    return engine


def open_engine(url: str) -> Engine:
    """An engine for ``url`` (not migrated); a SQLite folder that cannot be made ends the command."""
    from riskplan.store.db import make_engine
    from riskplan.store.faults import folder_fault

    _opened.append(url)
    try:
        return make_engine(url)
    except OSError as exc:
        fault = folder_fault(exc, url)
        err_console.print(f"[bold red]error:[/] {fault.message()}", markup=True, soft_wrap=True)
        raise typer.Exit(fault.exit_code) from None


def _announce_writes(engine: Engine) -> None:
    """Print "database: URL" on standard error before the first statement that changes ``engine``."""
    from sqlalchemy import event

    from riskplan.store.faults import shown_url

    shown = shown_url(engine.url)
    announced: list[bool] = []

    def before_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not announced and (_WRITES.match(statement) or "nextval(" in statement):
            announced.append(True)
            err_console.print(f"[dim]database: {shown}[/]", markup=True, soft_wrap=True)

    event.listen(engine, "before_cursor_execute", before_execute)


_WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|COPY)\b", re.IGNORECASE)


def verified_signer(engine: Engine, signer: str | None, password_stdin: bool) -> Signer:
    """The signer of an electronic signature, by their own user name and password given now
    (21 CFR 11.200(a)(1)): ``--signer`` or a prompt, then the password from standard input or a hidden
    prompt. A wrong password is refused (exit 2), audited and counted towards the account's lock-out."""
    from riskplan.store.accounts import AccountSettings
    from riskplan.store.signatures import verify_signer

    if signer is None:
        if password_stdin:
            raise UserInputError(
                "--password-stdin needs --signer NAME: an electronic signature is executed with the "
                "signer's own user name and password (RISKPLAN_USER never signs)"
            )
        try:
            signer = str(typer.prompt("Signer (your riskplan user name)"))
        except typer.Abort:
            raise UserInputError("no signer given: give your riskplan user name (--signer NAME)") from None
    name = signer.strip()
    if not name:
        raise UserInputError("the signer's user name is empty or blank: give your riskplan user name (--signer)")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UserInputError("no password on standard input")
    else:
        try:
            password = str(typer.prompt(f"Password of {name}", hide_input=True))
        except typer.Abort:
            raise UserInputError(f"no password given for {name}: nothing was signed") from None
    return verify_signer(engine, name, password, settings=AccountSettings())
