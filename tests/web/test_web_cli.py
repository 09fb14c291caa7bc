"""``riskplan user ...`` and ``riskplan serve`` through their own Typer apps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from riskplan.settings import get_settings
from riskplan.store import database
from riskplan.store.audit import AuditEvent
from riskplan.store.db import make_engine, session_scope
from riskplan.web.cli import serve, user_app
from riskplan.web.tables import WebUser

runner = CliRunner()
PASSWORD = "a long enough password"


def _users() -> dict[str, WebUser]:
    engine = database()  # migrated, so that a command that stopped early still leaves a readable database
    with session_scope(engine) as s:
        users = {u.username: u for u in s.scalars(select(WebUser))}
    engine.dispose()
    return users


def test_add_user_with_password_on_stdin(cli_env: Path) -> None:
    r = runner.invoke(
        user_app, ["add", "alice", "--role", "safety physician", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert r.exit_code == 0, r.output
    assert "user alice added as Safety physician" in r.output
    alice = _users()["alice"]
    assert alice.role == "safety_physician" and alice.password_hash.startswith("$argon2id$")
    engine = make_engine(get_settings().database_url)
    with session_scope(engine) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.entity_type == "user")).one()
        assert (event.who, event.action, event.entity_id) == ("tester", "created", "alice")
    engine.dispose()


def test_add_user_prompts_for_the_password_twice(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("riskplan.web.cli._stdin_is_terminal", lambda: True)
    r = runner.invoke(user_app, ["add", "bob", "--role", "qppv"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert r.exit_code == 0, r.output
    assert "Password" in r.output and "Repeat for confirmation" in r.output and _users()["bob"].role == "qppv"


def test_add_user_reads_a_piped_password_without_the_flag(cli_env: Path) -> None:
    """echo PASSWORD | riskplan user add alice --role qppv: stdin is not a terminal, its first line is the password
    (the old code prompted twice, found no second line and aborted)."""
    r = runner.invoke(user_app, ["add", "alice", "--role", "qppv"], input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    assert "user alice added as QPPV" in r.output and "Password" not in r.output
    assert _users()["alice"].role == "qppv"
    r = runner.invoke(user_app, ["add", "erin", "--role", "qppv"], input="")
    assert r.exit_code == 2 and "no password on standard input" in r.output


def test_add_user_help_says_how_to_pipe_the_password() -> None:
    r = runner.invoke(user_app, ["add", "--help"], env={"COLUMNS": "200"})
    assert r.exit_code == 0
    assert "piped" in r.output and "echo PASSWORD | riskplan user add" in r.output


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["add", "carol", "--role", "janitor", "--password-stdin"], PASSWORD + "\n", "unknown role 'janitor'"),
        (["add", "carol", "--role", "auditor", "--password-stdin"], "short\n", "at least 12 characters"),
        (["add", "carol", "--role", "auditor", "--password-stdin"], "\n", "no password on standard input"),
        (["add", "car ol", "--role", "auditor", "--password-stdin"], PASSWORD + "\n", "user name 'car ol'"),
    ],
)
def test_bad_input_exits_2_and_stores_nothing(cli_env: Path, args: list[str], stdin: str, message: str) -> None:
    r = runner.invoke(user_app, args, input=stdin)
    assert r.exit_code == 2, r.output
    assert message in r.output
    assert _users() == {}


def test_duplicate_user_list_and_unlock(cli_env: Path) -> None:
    runner.invoke(user_app, ["add", "dave", "--role", "auditor", "--password-stdin"], input=PASSWORD + "\n")
    r = runner.invoke(user_app, ["add", "dave", "--role", "qppv", "--password-stdin"], input=PASSWORD + "\n")
    assert r.exit_code == 2 and "already exists" in r.output
    listing = runner.invoke(user_app, ["list"], env={"COLUMNS": "200"})
    assert listing.exit_code == 0 and "dave" in listing.output and "Auditor" in listing.output
    assert runner.invoke(user_app, ["unlock", "dave"]).exit_code == 0
    missing = runner.invoke(user_app, ["unlock", "nobody"])
    assert missing.exit_code == 2 and "no user 'nobody'" in missing.output


def test_serve_runs_uvicorn_on_the_given_address(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[dict[str, Any]] = []

    def fake_run(app: Any, **kwargs: Any) -> None:
        calls.append({"app": app, **kwargs})

    monkeypatch.setattr(uvicorn, "run", fake_run)
    app = typer.Typer()
    app.command()(serve)
    r = runner.invoke(app, ["--host", "127.0.0.1", "--port", "8123"])
    assert r.exit_code == 0, r.output
    assert calls and calls[0]["host"] == "127.0.0.1" and calls[0]["port"] == 8123
    assert calls[0]["app"].title == "riskplan"
    assert "http://127.0.0.1:8123/" in r.output
    defaults = runner.invoke(app, [])
    assert defaults.exit_code == 0 and (calls[1]["host"], calls[1]["port"]) == ("127.0.0.1", 8000)
