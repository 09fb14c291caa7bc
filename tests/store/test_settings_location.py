"""Which database a command uses, as a user sees it: never dependent on the folder a command is run from,
named by `riskplan db status`, by every command's --help, and on standard error by a command that writes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from case_factory import make_icsr
from riskplan.cli import build_app
from riskplan.settings import Settings, get_settings

runner = CliRunner()
WIDE = {"COLUMNS": "250"}


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No RISKPLAN_* settings, no riskplan.toml: the per-user data folder is ``tmp_path/data``."""
    for name in ("RISKPLAN_DATABASE_URL", "RISKPLAN_OUTPUT_DIR", "RISKPLAN_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("RISKPLAN_USER", "tester")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _in(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(folder)
    get_settings.cache_clear()


def test_the_default_database_does_not_depend_on_the_working_folder(
    user_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = user_home / "data" / "riskplan"
    _in(user_home / "one", monkeypatch)
    assert Settings().database_url == f"sqlite:///{data / 'riskplan.db'}"
    assert Settings().output_dir == data / "out"
    case = user_home / "case.json"
    case.write_text(make_icsr().model_dump_json())
    assert runner.invoke(build_app(), ["case", "new", str(case)], env=WIDE).exit_code == 0
    _in(user_home / "elsewhere" / "deeper", monkeypatch)
    listed = runner.invoke(build_app(), ["case", "list", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert [c["worldwide_id"] for c in json.loads(listed.stdout)] == ["GB-RPDEMO-2026-000001"]
    assert not (user_home / "one" / "var").exists()


def test_riskplan_toml_is_found_upward_and_its_paths_are_relative_to_it(
    user_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = user_home / "project"
    project.mkdir()
    (project / "riskplan.toml").write_text('database_url = "sqlite:///var/safety.db"\noutput_dir = "reports"\n')
    _in(project / "cases" / "2026", monkeypatch)
    settings = Settings()
    assert settings.database_url == f"sqlite:///{project / 'var' / 'safety.db'}"
    assert settings.output_dir == project / "reports"
    status = runner.invoke(build_app(), ["db", "status"], env=WIDE)
    assert f"database: sqlite:///{project / 'var' / 'safety.db'}" in status.output
    assert f"settings: {project / 'riskplan.toml'}" in status.output
    monkeypatch.setenv("RISKPLAN_CONFIG", str(user_home / "none.toml"))  # named, absent: defaults
    assert Settings().database_url == f"sqlite:///{user_home / 'data' / 'riskplan' / 'riskplan.db'}"


def test_a_relative_url_in_the_environment_is_made_absolute(user_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _in(user_home / "here", monkeypatch)
    monkeypatch.setenv("RISKPLAN_DATABASE_URL", "sqlite:///var/x.db")
    assert Settings().database_url == f"sqlite:///{user_home / 'here' / 'var' / 'x.db'}"
    monkeypatch.setenv("RISKPLAN_DATABASE_URL", "postgresql://u:pw@db.example/safety")
    assert Settings().database_url == "postgresql://u:pw@db.example/safety"


def test_db_status_names_the_database_and_where_the_setting_came_from(
    user_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _in(user_home / "x", monkeypatch)
    monkeypatch.setenv("RISKPLAN_DATABASE_URL", f"sqlite:///{user_home / 'db' / 'r.db'}")
    first = runner.invoke(build_app(), ["db", "status"], env=WIDE)
    assert first.exit_code == 1
    assert f"database: sqlite:///{user_home / 'db' / 'r.db'}" in first.output
    assert "settings: environment and defaults" in first.output
    assert "no database file yet" in first.output
    assert not (user_home / "db" / "r.db").exists()  # status creates nothing
    assert runner.invoke(build_app(), ["db", "upgrade"]).exit_code == 0
    second = runner.invoke(build_app(), ["db", "status"], env=WIDE)
    assert second.exit_code == 0
    assert "up to date" in second.output


def test_a_command_that_writes_names_the_database_on_stderr_and_json_stays_clean(
    user_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _in(user_home / "x", monkeypatch)
    url = f"sqlite:///{user_home / 'data' / 'riskplan' / 'riskplan.db'}"
    case = user_home / "case.json"
    case.write_text(make_icsr().model_dump_json())
    wrote = runner.invoke(build_app(), ["case", "new", str(case)], env=WIDE)
    assert wrote.exit_code == 0, wrote.output
    assert f"database: {url}" in wrote.stderr
    assert "database:" not in wrote.stdout
    listed = runner.invoke(build_app(), ["case", "list", "--format", "json"])
    assert listed.stderr == ""
    assert json.loads(listed.output)[0]["synthetic"] is False
    help_text = re.sub(r"[\s│]", "", runner.invoke(build_app(), ["case", "list", "--help"], env=WIDE).output)
    assert f"Database:{url}" in help_text


def test_the_password_is_hidden_in_help(user_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKPLAN_DATABASE_URL", "postgresql://safety:s3cret@db.example/pv")
    out = runner.invoke(build_app(), ["case", "list", "--help"], env=WIDE).output
    assert "Database: postgresql://safety:***@db.example/pv" in out
    assert "s3cret" not in out
