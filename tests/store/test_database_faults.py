"""Database faults as a user sees them: one line naming the database (password hidden), a documented exit
code (2: bad URL or driver; 3: the database cannot be reached, is full or read-only), never a traceback;
and the web application's 503 with the true reason, in JSON for the API and on the error page."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from case_factory import make_icsr
from riskplan.cli import app
from riskplan.settings import get_settings
from web_fixtures import WebApp, api_token, case_json, page_session, sqlite_web_fixture  # noqa: F401

runner = CliRunner()
WIDE = {"COLUMNS": "250"}


def _one_line(result: Any) -> str:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.fixture
def use_database(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def use(url: str) -> None:
        monkeypatch.setenv("RISKPLAN_DATABASE_URL", url)
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("foo://x", "unknown database driver"),
        ("not a url", "not a valid database URL"),
    ],
)
@pytest.mark.parametrize("command", [["case", "list"], ["db", "status"], ["db", "upgrade"], ["synth", "cases"]])
def test_a_bad_url_or_driver_ends_with_one_line_and_exit_2(
    use_database: Any, url: str, reason: str, command: list[str]
) -> None:
    use_database(url)
    result = runner.invoke(app, command, env=WIDE)
    assert result.exit_code == 2, result.output
    line = _one_line(result)
    assert f"database {url}: {reason}" in line


def test_an_unreachable_server_is_named_with_the_password_hidden(use_database: Any) -> None:
    use_database("postgresql://postgres:s3cret@127.0.0.1:5999/x")
    for command in (["case", "list"], ["db", "status"], ["user", "list"]):
        result = runner.invoke(app, command, env=WIDE)
        assert result.exit_code == 3, result.output
        line = _one_line(result)
        assert "database postgresql://postgres:***@127.0.0.1:5999/x: the database cannot be reached" in line
        assert "s3cret" not in result.output


def test_a_read_only_database_refuses_a_change_and_keeps_what_it_holds(use_database: Any, cli_env: Path) -> None:
    file = cli_env / "ro.db"
    use_database(f"sqlite:///{file}")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    use_database(f"sqlite:///file:{file}?mode=ro&uri=true")
    case = cli_env / "case.json"
    case.write_text(make_icsr().model_dump_json())
    result = runner.invoke(app, ["case", "new", str(case)], env=WIDE)
    assert result.exit_code == 3, result.output
    assert "the database is read-only" in _one_line(result)
    assert f"file:{file}" in _one_line(result)
    listed = runner.invoke(app, ["case", "list", "--format", "json"])
    assert listed.exit_code == 0
    assert json.loads(listed.stdout) == []


def test_a_full_disk_is_said_plainly(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's SQLITE_FULL as the driver raises it in the middle of an intake."""

    def disk_full(*_args: Any, **_kwargs: Any) -> Any:
        raise OperationalError("INSERT INTO icsr_case ...", {}, sqlite3.OperationalError("database or disk is full"))

    # the module, not the package's attribute: riskplan.cases exports the function ``intake`` under that name
    monkeypatch.setattr(sys.modules["riskplan.cases.intake"], "intake", disk_full)
    case = cli_env / "case.json"
    case.write_text(make_icsr().model_dump_json())
    result = runner.invoke(app, ["case", "new", str(case)], env=WIDE)
    assert result.exit_code == 3, result.output
    line = _one_line(result)
    assert f"database sqlite:///{cli_env / 'var' / 'riskplan.db'}: the disk is full" in line


def test_a_database_folder_that_cannot_be_made(use_database: Any, cli_env: Path) -> None:
    blocker = cli_env / "a-file"
    blocker.write_text("not a folder")
    use_database(f"sqlite:///{blocker / 'sub' / 'riskplan.db'}")
    result = runner.invoke(app, ["case", "list"], env=WIDE)
    assert result.exit_code == 3, result.output
    assert "the database folder cannot be created" in _one_line(result)


# -- the web application ---------------------------------------------------------------------------------


def _fail_writes(web: WebApp, message: str) -> None:
    """Every INSERT from now on fails as the driver reports ``message``."""

    def fail(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            raise OperationalError(statement, {}, sqlite3.OperationalError(message))

    event.listen(web.engine, "before_cursor_execute", fail)


@pytest.mark.parametrize(
    ("driver_message", "reason"),
    [
        ("database or disk is full", "the disk is full"),
        ("attempt to write a readonly database", "the database is read-only"),
        ("unable to open database file", "the database file cannot be opened"),
    ],
)
def test_web_api_answers_503_with_the_true_reason(sqlite_web: WebApp, driver_message: str, reason: str) -> None:
    c = sqlite_web.client()
    h = api_token(c, "case_processor")
    _fail_writes(sqlite_web, driver_message)
    r = c.post("/api/cases", json=case_json("GB-FAULT-1"), headers=h)
    assert r.status_code == 503, r.text
    assert r.json()["detail"].startswith(reason)
    assert "busy" not in r.text
    assert "Retry-After" not in r.headers


def test_web_page_shows_the_true_reason(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    page_session(c, "case_processor")
    _fail_writes(sqlite_web, "database or disk is full")

    def fail_reads(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "icsr_case" in statement:
            raise OperationalError(statement, {}, sqlite3.OperationalError("attempt to write a readonly database"))

    event.listen(sqlite_web.engine, "before_cursor_execute", fail_reads)
    r = c.get("/cases")
    assert r.status_code == 503, r.text
    assert "Database unavailable" in r.text
    assert "the database is read-only" in r.text
    assert "busy" not in r.text.lower()


def test_web_health_says_why(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()

    def fail(*_args: Any) -> None:
        raise OperationalError("SELECT 1", {}, sqlite3.OperationalError("database or disk is full"))

    event.listen(sqlite_web.engine, "before_cursor_execute", fail)
    r = c.get("/api/health")
    assert r.status_code == 503
    assert r.json() == {"detail": "the disk is full"}
