"""The tamper-evident audit trail as an inspector sees it, on SQLite and PostgreSQL.

Rows are appended through every path (record_change, bulk case intake, concurrent writers) and checked
with ``riskplan audit verify``; then rows are changed, deleted or inserted directly with SQL (triggers
switched off first, as someone with full database rights would) and verify names the first broken row.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from case_factory import make_icsr
from riskplan.cases.intake import intake, intake_context
from riskplan.cli import app
from riskplan.errors import UserInputError
from riskplan.settings import get_settings
from riskplan.store.audit import (
    AuditEvent,
    audit_head,
    audit_row,
    audited_transaction,
    insert_audit_rows,
    record_change,
)
from riskplan.store.audit_chain import GENESIS, row_hash
from riskplan.store.db import make_engine, session_scope
from riskplan.store.migrate import alembic_config, upgrade

runner = CliRunner()


@pytest.fixture
def audit_db(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database that the CLI is configured to use."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RISKPLAN_DATABASE_URL", database_url)
    monkeypatch.setenv("RISKPLAN_USER", "inspector")
    monkeypatch.delenv("RISKPLAN_CONFIG", raising=False)
    get_settings.cache_clear()
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def _record(engine: Engine, n: int, who: str = "cp-1") -> None:
    for i in range(n):
        with session_scope(engine) as s:
            record_change(
                s, who=who, entity_type="plan", entity_id=f"p{i}", action="changed", changes={"x": (i, i + 1)}
            )


def _verify() -> tuple[int, str]:
    result = runner.invoke(app, ["audit", "verify"])
    return result.exit_code, result.output


def _tamper(engine: Engine, sql: str, params: dict[str, object] | None = None) -> None:
    """Run ``sql`` with the append-only triggers off, as a database superuser (or a SQLite file's owner) could."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
            conn.execute(text(sql), params or {})
            conn.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_event_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_event_no_delete"))
            conn.execute(text(sql), params or {})


def _rows(engine: Engine) -> list[AuditEvent]:
    with session_scope(engine) as s:
        return list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_every_path_chains_and_verify_says_intact(audit_db: Engine) -> None:
    engine = audit_db
    _record(engine, 3)
    with session_scope(engine) as s:  # the bulk path of case intake
        ctx = intake_context(s, "uplizna", "cp-1")
        intake(s, [make_icsr(f"GB-CHAIN-{i}") for i in range(5)], context=ctx, who="cp-1")
    with session_scope(engine) as s:
        insert_audit_rows(s, [audit_row(who="cp-2", entity_type="case", entity_id="x", action="exported", new="é")])
    rows = _rows(engine)
    assert [r.id for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.row_hash
        assert before.at <= after.at  # time stamps follow the id (commit) order
    assert all(row_hash(r.__dict__) == r.row_hash for r in rows)

    code, out = _verify()
    assert code == 0, out
    assert f"audit trail intact: {len(rows)} rows, head {rows[-1].row_hash}" in out
    status = runner.invoke(app, ["db", "status"])
    assert status.exit_code == 0 and f"audit trail: {len(rows)} rows, head {rows[-1].row_hash}" in status.output
    with session_scope(engine) as s:
        assert audit_head(s) == (len(rows), rows[-1].row_hash)


def test_an_empty_trail_is_intact(audit_db: Engine) -> None:
    code, out = _verify()
    assert code == 0 and f"audit trail intact: 0 rows, head {GENESIS}" in out


def test_a_changed_row_is_named(audit_db: Engine) -> None:
    _record(audit_db, 5)
    _tamper(audit_db, "UPDATE audit_event SET who = 'mallory' WHERE id = 3")
    code, out = _verify()
    assert code == 1
    assert "audit trail BROKEN at row 3: content changed" in out


def test_a_changed_and_rehashed_row_is_named(audit_db: Engine) -> None:
    _record(audit_db, 5)
    row = next(r for r in _rows(audit_db) if r.id == 3)
    forged = {**row.__dict__, "who": "mallory"}
    _tamper(audit_db, "UPDATE audit_event SET who = 'mallory', row_hash = :h WHERE id = 3", {"h": row_hash(forged)})
    code, out = _verify()
    assert code == 1
    assert "audit trail BROKEN at row 3: content changed: row 3 was changed and re-hashed" in out


def test_a_deleted_row_is_named(audit_db: Engine) -> None:
    _record(audit_db, 5)
    _tamper(audit_db, "DELETE FROM audit_event WHERE id = 2")
    code, out = _verify()
    assert code == 1
    assert "audit trail BROKEN at row 2: row missing: row 2 is gone (deleted): row 3 links to a row not there" in out


def test_deleted_first_and_last_rows_are_named(audit_db: Engine) -> None:
    _record(audit_db, 5)
    _tamper(audit_db, "DELETE FROM audit_event WHERE id = 5")
    code, out = _verify()
    assert code == 1 and "BROKEN at row 5: row missing: rows at the end were deleted" in out
    _tamper(audit_db, "DELETE FROM audit_event WHERE id = 1")
    code, out = _verify()
    assert code == 1 and "BROKEN at row 2: row missing: the rows before it were deleted" in out


def test_an_inserted_row_is_named(audit_db: Engine) -> None:
    _record(audit_db, 3)
    last = _rows(audit_db)[-1]
    forged = {
        "id": 4,
        "at": dt.datetime.now(dt.UTC),
        "who": "mallory",
        "entity_type": "plan",
        "entity_id": "p9",
        "action": "changed",
        "field": None,
        "old_value": None,
        "new_value": None,
        "reason": "backdated",
        "prev_hash": last.row_hash,
    }
    forged["row_hash"] = row_hash(forged)
    columns = ", ".join(forged)
    _tamper(audit_db, f"INSERT INTO audit_event ({columns}) VALUES ({', '.join(':' + c for c in forged)})", forged)
    code, out = _verify()
    assert code == 1 and "BROKEN at row 4: row inserted: beyond the head" in out
    # a row slipped in before the first: the first real row still links to the start
    _tamper(audit_db, "DELETE FROM audit_event WHERE id = 4")
    forged |= {"id": 0, "prev_hash": GENESIS}
    forged["row_hash"] = row_hash(forged)
    _tamper(audit_db, f"INSERT INTO audit_event ({columns}) VALUES ({', '.join(':' + c for c in forged)})", forged)
    code, out = _verify()
    assert (
        code == 1 and "BROKEN at row 0: row inserted: row 0 is not part of the chain: row 1 links to the start" in out
    )


def test_update_delete_and_truncate_are_refused_by_the_database(audit_db: Engine) -> None:
    _record(audit_db, 2)
    statements = ["UPDATE audit_event SET who = 'x'", "DELETE FROM audit_event", "DELETE FROM audit_head"]
    if audit_db.dialect.name == "postgresql":
        statements += ["TRUNCATE audit_event", "TRUNCATE audit_head"]
    statements.append("UPDATE audit_head SET last_id = 1, row_count = 1")  # moving the head back
    for sql in statements:
        with pytest.raises(DBAPIError, match="refused"), audit_db.begin() as conn:
            conn.execute(text(sql))
    assert _verify()[0] == 0


def test_concurrent_writers_never_fork_the_chain(audit_db: Engine) -> None:
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            _record(audit_db, 15, who=name)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"user-{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = _rows(audit_db)
    assert len(rows) == 60
    assert all(a.at <= b.at for a, b in itertools.pairwise(rows))
    assert _verify()[0] == 0


def test_an_audit_event_added_to_a_session_outside_the_chain_is_refused(audit_db: Engine) -> None:
    with pytest.raises(RuntimeError, match="hash chain"), session_scope(audit_db) as s:
        s.add(AuditEvent(at=dt.datetime.now(dt.UTC), who="x", entity_type="t", entity_id="1", action="a"))
        s.flush()


def test_an_upgraded_database_verifies_and_the_downgrade_removes_the_chain(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RISKPLAN_DATABASE_URL", database_url)
    get_settings.cache_clear()
    engine = make_engine(database_url)
    cfg = alembic_config(engine)
    command.upgrade(cfg, "store_0001")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_event (at, who, entity_type, entity_id, action, new_value) "
                "VALUES (:at, 'qppv-1', 'plan', 'uplizna', 'approved', :new)"
            ),
            [{"at": dt.datetime(2026, 3, 2, 9, 30, i, 1234, tzinfo=dt.UTC), "new": f'"Zürich {i}"'} for i in range(7)],
        )
    upgrade(engine)
    code, out = _verify()
    assert code == 0 and "audit trail intact: 7 rows" in out, out
    _record(engine, 2)
    assert "audit trail intact: 9 rows" in _verify()[1]

    command.downgrade(cfg, "store_0001")
    assert "audit_head" not in inspect(engine).get_table_names()
    assert {"prev_hash", "row_hash"}.isdisjoint(c["name"] for c in inspect(engine).get_columns("audit_event"))
    with engine.begin() as conn:  # no trigger left behind
        conn.execute(text("UPDATE audit_event SET who = 'x' WHERE id = 1"))
    engine.dispose()
    get_settings.cache_clear()


def test_verify_reports_progress_and_shows_it_on_a_terminal_after_a_second(
    audit_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.console import Console

    from riskplan.store import audit_verify
    from riskplan.store import cli as audit_cli

    _record(audit_db, 3)
    monkeypatch.setattr(audit_verify, "BATCH", 1)
    seen: list[int] = []
    with session_scope(audit_db) as s:
        assert audit_verify.verify_chain(s, seen.append).intact
    assert seen == [1, 2, 3]

    monkeypatch.setattr(audit_cli, "console", Console(force_terminal=False))
    quiet = audit_cli._LateProgress(3)
    quiet(1)
    assert quiet._progress is None  # not a terminal: no bar
    monkeypatch.setattr(audit_cli, "console", Console(force_terminal=True))
    soon = audit_cli._LateProgress(3)
    soon(1)
    assert soon._progress is None  # under a second: no bar
    monkeypatch.setattr(audit_cli, "_SHOW_PROGRESS_AFTER", 0.0)
    late = audit_cli._LateProgress(3)
    late(2)
    assert late._progress is not None and late._progress.tasks[0].completed == 2
    late.stop()


@pytest.mark.parametrize("who", ["", "   ", "\t\n"])
def test_a_change_by_no_one_is_refused_and_nothing_is_stored(audit_db: Engine, who: str) -> None:
    """No domain path can record an anonymous change (21 CFR 11.10(e)): a blank actor is refused before any
    row is appended, by record_change and by the bulk path alike."""
    _record(audit_db, 1)
    with pytest.raises(UserInputError, match="names no one"), session_scope(audit_db) as s:
        record_change(s, who=who, entity_type="plan", entity_id="uplizna", action="approved")
    with pytest.raises(UserInputError, match="names no one"), session_scope(audit_db) as s:
        insert_audit_rows(
            s,
            [
                audit_row(who="cp-1", entity_type="case", entity_id="1", action="created"),
                audit_row(who=who, entity_type="case", entity_id="2", action="created"),
            ],
        )
    assert [r.who for r in _rows(audit_db)] == ["cp-1"]
    assert _verify()[0] == 0


# characters the canonical JSON escapes (or keeps) in its own way: quotes, backslashes, control characters,
# non-ASCII and a character outside the Basic Multilingual Plane
AWKWARD = ['say "no"', "C:\\path\\", "line\nbreak\ttab\r\b\f", "\x01\x1f\x7f", "é ü ß 中文", "emoji 💊", ""]


def test_rows_appended_at_commit_chain_like_every_other_path(audit_db: Engine) -> None:
    """The web's audited transactions append at commit (on PostgreSQL in the database, ``store_0005``):
    the rows hash exactly as the application's own chain does, whatever their text, and verify says intact."""
    _record(audit_db, 2)
    for i, value in enumerate(AWKWARD):
        with audited_transaction(audit_db) as s:
            record_change(
                s,
                who=f"cp {value}",
                entity_type="case",
                entity_id=f"id {value}",
                action="changed",
                changes={f"field {value}": (value, {"nested": value, "n": i}), "plain": (None, i)},
                reason=None if i % 2 else f"because {value}",
            )
    _record(audit_db, 1)
    rows = _rows(audit_db)
    assert len(rows) == 2 + 2 * len(AWKWARD) + 1
    assert [r.id for r in rows] == list(range(1, len(rows) + 1))
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.row_hash
        assert before.at <= after.at
    assert all(row_hash(r.__dict__) == r.row_hash for r in rows)
    assert {r.old_value for r in rows if r.field == f"field {AWKWARD[0]}"} == {json.dumps(AWKWARD[0])}
    assert _verify()[0] == 0
    with session_scope(audit_db) as s:
        assert audit_head(s) == (len(rows), rows[-1].row_hash)


def test_concurrent_audited_transactions_never_fork_the_chain(audit_db: Engine) -> None:
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for i in range(10):
                with audited_transaction(audit_db) as s:
                    record_change(
                        s,
                        who=name,
                        entity_type="plan",
                        entity_id=f"{name}-{i}",
                        action="changed",
                        changes={"a": (i, i + 1), "b": (None, name)},
                    )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"user-{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = _rows(audit_db)
    assert len(rows) == 120
    # each transaction's two rows are adjacent: appended whole, never interleaved with another's
    assert all(a.entity_id == b.entity_id for a, b in zip(rows[::2], rows[1::2], strict=True))
    assert all(a.at <= b.at for a, b in itertools.pairwise(rows))
    assert _verify()[0] == 0
