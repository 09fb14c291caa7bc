"""``riskplan db backup`` / ``riskplan db restore`` as an operator runs them, on SQLite and PostgreSQL.

A backup is taken of a database with cases and an audit trail, the database is destroyed, the backup is
restored: every table has the same row count and ``riskplan audit verify`` passes on the restored copy.
A restore refuses to replace data without --force, and a backup from an older schema is migrated.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from conftest import shared_file
from riskplan.cli import app
from riskplan.settings import get_settings
from riskplan.store.backup import table_counts
from riskplan.store.db import make_engine
from riskplan.store.migrate import alembic_config, upgrade

runner = CliRunner()


@pytest.fixture
def operator(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A CLI environment on a fresh database (SQLite file, or a PostgreSQL database of its own)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RISKPLAN_DATABASE_URL", database_url)
    monkeypatch.setenv("RISKPLAN_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("RISKPLAN_USER", "operator")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("RISKPLAN_CONFIG", raising=False)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        return table_counts(engine).rows
    finally:
        engine.dispose()


def _destroy(url: str) -> None:
    """What a lost disk or a dropped schema leaves: no tables at all."""
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
        return
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _fill(tmp_path: Path) -> None:
    """A case and its follow-up (versions, drugs, reactions) and audit rows, entered as a user does."""
    for scenario in ("fda_FAERS2022Scenario1.xml", "fda_FAERS2022Scenario2.xml"):
        _run("case", "import", str(shared_file("standards", "e2b_r3", "examples", scenario)))


def test_backup_destroy_restore_keeps_every_row_and_the_audit_chain(operator: str, tmp_path: Path) -> None:
    if not operator.startswith("sqlite") and shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not on PATH")
    _fill(tmp_path)
    before = _counts(operator)
    assert before["icsr_case"] == 1 and before["icsr_case_version"] == 2 and before["audit_event"] > 0
    out = _run("db", "backup", "--out", str(tmp_path / "riskplan.backup"))
    assert "written to" in out and "1 case(s)" in out

    _destroy(operator)
    assert "icsr_case" not in inspect(make_engine(operator)).get_table_names()

    restored = _run("db", "restore", str(tmp_path / "riskplan.backup"))
    assert "now: 1 case(s)" in restored
    digest = hashlib.sha256((tmp_path / "riskplan.backup").read_bytes()).hexdigest()
    assert f"recorded in the restored audit trail: restore by operator of {tmp_path / 'riskplan.backup'}" in (
        " ".join(restored.split())
    )
    after = _counts(operator)
    # every row is back, and the restore itself is one more audited action (backup file, SHA-256, replaced)
    assert after["audit_event"] == before["audit_event"] + 3
    assert {k: v for k, v in after.items() if k != "audit_event"} == {
        k: v for k, v in before.items() if k != "audit_event"
    }
    assert "intact" in _run("audit", "verify").lower()
    trail = runner.invoke(app, ["audit", "history", "--entity-type", "database"], env={"COLUMNS": "1000"})
    assert trail.exit_code == 0 and "restore" in trail.output and "operator" in trail.output
    assert digest in trail.output and "riskplan db restore" in trail.output
    status = runner.invoke(app, ["db", "status"])
    assert status.exit_code == 0 and "up to date" in status.output and "behind" not in status.output


def test_restore_refuses_to_replace_data_without_force(operator: str, tmp_path: Path) -> None:
    if not operator.startswith("sqlite") and shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not on PATH")
    _run("db", "upgrade")
    _run("db", "backup", "--out", str(tmp_path / "empty.backup"))
    _fill(tmp_path)
    before = _counts(operator)

    refused = runner.invoke(app, ["db", "restore", str(tmp_path / "empty.backup")])
    assert refused.exit_code == 2
    assert "holds data (1 case(s)" in refused.output and "--force" in refused.output
    assert _counts(operator) == before  # untouched

    again = runner.invoke(app, ["db", "backup", "--out", str(tmp_path / "empty.backup")])
    assert again.exit_code == 2 and "exists" in again.output

    forced = _run("db", "restore", "--force", str(tmp_path / "empty.backup"))
    assert "replaced: 1 case(s)" in forced and "now: no data" in forced
    trail = runner.invoke(app, ["audit", "history", "--entity-type", "database"], env={"COLUMNS": "1000"})
    assert "1 case(s)" in trail.output  # what the restore replaced is in the restored trail
    assert "intact" in _run("audit", "verify").lower()
    assert _counts(operator)["icsr_case"] == 0


def test_a_backup_from_an_older_schema_is_migrated_on_restore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old_url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(old_url)
    upgrade(engine)
    command.downgrade(alembic_config(engine), "web_0003")  # as riskplan was before web_0004
    assert "web_client_attempt" not in inspect(engine).get_table_names()
    engine.dispose()
    monkeypatch.setenv("RISKPLAN_DATABASE_URL", old_url)
    monkeypatch.setenv("RISKPLAN_USER", "operator")
    get_settings.cache_clear()
    try:
        behind = runner.invoke(app, ["db", "status"])
        assert behind.exit_code == 1 and "web_0003 (head web_0004) behind" in behind.output
        _run("db", "backup", "--out", str(tmp_path / "old.backup"))

        new_url = f"sqlite:///{tmp_path / 'new' / 'riskplan.db'}"
        monkeypatch.setenv("RISKPLAN_DATABASE_URL", new_url)
        get_settings.cache_clear()
        out = _run("db", "restore", str(tmp_path / "old.backup"))
        assert "migrated to the latest schema" in out
        assert "web_client_attempt" in inspect(make_engine(new_url)).get_table_names()
        assert "up to date" in _run("db", "status")
    finally:
        get_settings.cache_clear()


def test_bad_backup_files_are_refused_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKPLAN_DATABASE_URL", f"sqlite:///{tmp_path / 'riskplan.db'}")
    get_settings.cache_clear()
    try:
        missing = runner.invoke(app, ["db", "restore", str(tmp_path / "nope.backup")])
        assert missing.exit_code == 2 and "no such backup file" in missing.output
        junk = tmp_path / "junk.backup"
        junk.write_text("not a backup")
        refused = runner.invoke(app, ["db", "restore", str(junk)])
        assert refused.exit_code == 2 and "not a riskplan backup" in refused.output
        pg = tmp_path / "pg.backup"
        pg.write_bytes(b"PGDMP\x01\x0e")
        wrong = runner.invoke(app, ["db", "restore", str(pg)])
        assert wrong.exit_code == 2 and "postgresql backup cannot be restored into sqlite" in wrong.output
        assert not (tmp_path / "riskplan.db").exists()
        no_folder = runner.invoke(app, ["db", "backup", "--out", str(tmp_path / "no" / "such" / "b.db")])
        assert no_folder.exit_code == 2 and "does not exist" in no_folder.output
    finally:
        get_settings.cache_clear()


def test_version_flag() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip().startswith("riskplan 0.")


def test_postgresql_without_pg_dump_says_what_to_install(
    postgres_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from riskplan.store import backup as backup_module

    monkeypatch.setenv("RISKPLAN_DATABASE_URL", postgres_database)
    monkeypatch.setattr(backup_module.shutil, "which", lambda name: None)
    get_settings.cache_clear()
    try:
        _run("db", "upgrade")
        result = runner.invoke(app, ["db", "backup", "--out", str(tmp_path / "pg.backup")])
        assert result.exit_code == 2
        assert "pg_dump is not on PATH" in result.output and "postgresql-client" in result.output
        assert not (tmp_path / "pg.backup").exists()
    finally:
        get_settings.cache_clear()
