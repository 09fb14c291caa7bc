"""``riskplan user ...`` (``user_app``) and ``riskplan serve`` (``serve``)."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select, update

from riskplan.cli_support import console, current_user
from riskplan.errors import NotFoundError, UserInputError
from riskplan.store import database, record_change, session_scope, user_errors
from riskplan.web.auth import USER_ENTITY, Auth
from riskplan.web.config import WebSettings, serves_only_this_machine
from riskplan.web.roles import Role, parse_role
from riskplan.web.tables import WebUser

user_app = typer.Typer(help="Users of the web application: add, list, unlock.", no_args_is_help=True)


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _read_password(password_stdin: bool) -> str:
    """The new user's password: the first line of standard input when it is piped or redirected (or with
    ``--password-stdin``), else asked for twice without echo at the terminal."""
    if password_stdin or not _stdin_is_terminal():
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UserInputError("no password on standard input (pipe it in: echo PASSWORD | riskplan user add ...)")
        return password
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@user_app.command("add")
@user_errors
def add(
    name: Annotated[str, typer.Argument(help="User name (letters, digits, . _ - @)")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(r.value for r in Role)}")],
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the password from the first line of standard input (the default when input is piped)",
        ),
    ] = False,
    full_name: Annotated[
        str | None,
        typer.Option("--full-name", help="The printed name shown on the user's electronic signatures (21 CFR 11.50)"),
    ] = None,
) -> None:
    """Add a user with a role.

    At a terminal the password is asked for twice, hidden.

    Piped or redirected, the first line of standard input is the password: echo PASSWORD | riskplan user add ...
    """
    try:
        chosen = parse_role(role)
    except ValueError as exc:
        raise UserInputError(str(exc)) from None
    password = _read_password(password_stdin)
    engine = database()
    auth = Auth(engine, WebSettings())
    with session_scope(engine) as session:
        user = auth.add_user(session, name, chosen, password, who=current_user(), full_name=full_name)
        username, printed = user.username, user.full_name
    console.print(f"user {username} added as {chosen.label}" + (f" ({printed})" if printed else ""))


@user_app.command("list")
@user_errors
def list_users() -> None:
    """List the users with role, last login and lock state."""
    with session_scope(database()) as session:
        users = list(session.scalars(select(WebUser).order_by(WebUser.username)))
    table = Table(title=f"Users ({len(users)})")
    for col in ("user", "full name", "role", "active", "last login (UTC)", "locked until (UTC)"):
        table.add_column(col)
    for u in users:
        table.add_row(
            u.username,
            u.full_name or "",
            Role(u.role).label,
            "yes" if u.active else "no",
            f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "",
            f"{u.locked_until:%Y-%m-%d %H:%M}" if u.locked_until else "",
        )
    console.print(table)


@user_app.command("unlock")
@user_errors
def unlock(name: Annotated[str, typer.Argument(help="User name")]) -> None:
    """Lift a lock-out after failed logins before it runs out."""
    with session_scope(database()) as session:
        if session.scalar(select(WebUser.id).where(WebUser.username == name)) is None:
            raise NotFoundError(f"no user {name!r}")
        session.execute(update(WebUser).where(WebUser.username == name).values(locked_until=None, failed_logins=0))
        record_change(session, who=current_user(), entity_type=USER_ENTITY, entity_id=name, action="unlocked")
    console.print(f"user {name} unlocked")


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on", min=1, max=65535)] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(help="Server processes (default RISKPLAN_WEB_WORKERS, else 1)", min=1, max=64),
    ] = None,
) -> None:
    """Run the web application (pages and JSON API) with uvicorn.

    With several workers each process builds the application itself (``app_from_environment``); the
    database is migrated here first, once. Everything the processes share (sessions, lock-out counters,
    the audit chain's head, the cookie-signing key, the plan version the intake cache is keyed by) is in
    the database.
    """
    import uvicorn

    from riskplan.web.app import create_app

    web = WebSettings()
    if web.cookie_secure is None:
        # Secure cookies and HSTS unless only this machine can connect (then plain HTTP is the norm); the
        # choice goes through the environment so that every worker process makes the same one.
        secure = not serves_only_this_machine(host)
        os.environ["RISKPLAN_WEB_COOKIE_SECURE"] = "true" if secure else "false"
        web = web.model_copy(update={"cookie_secure": secure})
    count = workers or web.workers
    app = create_app(web=web)
    from riskplan.store import shown_url

    scheme = "https" if web.secure_transport else "http"
    console.print(f"riskplan web on http://{host}:{port}/ (API description: /openapi.json after login)")
    console.print(f"database: {shown_url(app.state.ctx.engine.url)}", soft_wrap=True)
    if web.secure_transport:
        console.print(
            f"secure cookies and HSTS on: serve it to users as {scheme}:// through a TLS reverse proxy "
            "(RISKPLAN_WEB_COOKIE_SECURE=false turns them off)"
        )
    proxy: dict[str, Any] = {"proxy_headers": False}
    if web.forwarded_allow_ips:
        proxy = {"proxy_headers": True, "forwarded_allow_ips": web.forwarded_allow_ips}
    if count == 1:
        uvicorn.run(app, host=host, port=port, log_level="info", **proxy)
        return
    console.print(f"{count} worker processes")
    app.state.ctx.engine.dispose()
    uvicorn.run(
        "riskplan.web.app:app_from_environment",
        factory=True,
        workers=count,
        host=host,
        port=port,
        log_level="info",
        **proxy,
    )
