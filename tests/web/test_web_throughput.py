"""The web application's write path under load, checked for correctness (not timing): the audit rows of a
write are appended last, at commit, and the write is answered only once it is durable; a bearer token is
checked without argon2; the intake context is rebuilt when the plan changes; several server processes
(workers) share everything through the database. On SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, event, select, text

import riskplan.store.audit as audit
from riskplan.cases.intake import intake_context
from riskplan.plan.catalogue import load_plan
from riskplan.plan.versions import record_plan
from riskplan.settings import get_settings
from riskplan.store.audit import AuditEvent, audited_transaction, history, record_change
from riskplan.store.audit_verify import verify_chain
from riskplan.store.db import session_scope
from riskplan.web import case_ops
from riskplan.web import cli as web_cli
from web_fixtures import (  # noqa: F401  (fixtures)
    WebApp,
    api_token,
    case_json,
    follow_up_json,
    make_app,
    web_fixture,
)


def _statements(engine: Engine) -> list[str]:
    seen: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split())[:80])

    event.listen(engine, "before_cursor_execute", listen)
    return seen


def test_audit_rows_are_appended_last_and_the_write_waits_until_durable(
    web: WebApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushes: list[str] = []
    real = audit._flush_wal
    real_append = audit._append_and_commit
    seen = _statements(web.engine)

    def append_and_commit(connection: Any, rows: Any) -> None:
        seen.append("riskplan_audit_append + COMMIT")  # one pipeline, sent by the driver itself
        real_append(connection, rows)

    monkeypatch.setattr(audit, "_flush_wal", lambda c: (flushes.append("flush"), real(c))[1])
    monkeypatch.setattr(audit, "_append_and_commit", append_and_commit)
    c = web.client()
    h = api_token(c, "case_processor")
    seen.clear()
    assert c.post("/api/cases", json=case_json("GB-RP-THR-1"), headers=h).status_code == 201
    postgres = web.engine.dialect.name == "postgresql"
    locks = [i for i, s in enumerate(seen) if ("riskplan_audit_append" if postgres else "audit_head") in s]
    assert len(locks) == 1 if postgres else locks, seen
    # nothing but the audit append (lock, rows, head) comes after the head is locked; on PostgreSQL the
    # database function does all of it, sent with the COMMIT (store_0005), and only the flush follows
    assert all("audit" in s for s in seen[locks[0] :] if "pg_logical_emit_message" not in s), seen[locks[0] :]
    assert flushes == (["flush"] if postgres else [])
    if postgres:  # the flush comes after the commit, outside the head's lock
        assert seen[locks[0] + 1 :] == [s for s in seen[locks[0] + 1 :] if "pg_logical_emit_message" in s] != []
        assert not any("audit_head" in s for s in seen), seen
    with session_scope(web.engine) as s:
        assert [e.action for e in history(s, "case", "GB-RP-THR-1")] == ["created"]
        assert verify_chain(s).intact


def test_a_rolled_back_audited_transaction_appends_nothing(engine: Engine) -> None:
    with session_scope(engine) as s:
        before = len(list(s.scalars(select(AuditEvent.id))))
    with pytest.raises(RuntimeError), audited_transaction(engine) as s:
        assert record_change(s, who="t", entity_type="case", entity_id="X", action="changed") == []
        raise RuntimeError("refused")
    with audited_transaction(engine) as s:
        record_change(s, who="t", entity_type="case", entity_id="Y", action="changed", changes={"a": (None, "é\n")})
        record_change(s, who="t", entity_type="case", entity_id="Y", action="changed", changes={"b": (1, None)})
    with session_scope(engine) as s:
        rows = list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        assert len(rows) == before + 2 and {r.entity_id for r in rows[before:]} == {"Y"}
        assert verify_chain(s).intact


def test_a_bearer_token_is_checked_without_argon2(web: WebApp, monkeypatch: pytest.MonkeyPatch) -> None:
    c = web.client()
    h = api_token(c, "case_processor")

    def refuse(*_: Any, **__: Any) -> bool:
        raise AssertionError("argon2 called for a bearer token")

    monkeypatch.setattr(PasswordHasher, "verify", refuse)
    monkeypatch.setattr(PasswordHasher, "hash", refuse)
    assert c.get("/api/me", headers=h).status_code == 200
    assert c.post("/api/cases", json=case_json("GB-RP-THR-2"), headers=h).status_code == 201
    assert c.post("/api/cases/GB-RP-THR-2/follow-ups", json=follow_up_json("GB-RP-THR-2"), headers=h).status_code == 201


def test_the_intake_context_is_kept_until_the_plan_changes(web: WebApp, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []

    def counting(session: Any, plan_name: str, who: str) -> Any:
        built.append(plan_name)
        return intake_context(session, plan_name, who)

    monkeypatch.setattr(case_ops, "intake_context", counting)
    c = web.client()
    h = api_token(c, "case_processor")
    for n in range(3):
        assert c.post("/api/cases", json=case_json(f"GB-RP-THR-C{n}"), headers=h).status_code == 201
    assert len(built) == 1
    plan_name = web.ctx.settings.default_plan
    changed = load_plan(plan_name)
    changed = changed.model_copy(update={"rmp_version": "99.9 (amended)"})
    with session_scope(web.engine) as s:
        record_plan(s, changed, who="tester", source="test", reason="amendment")
    r = c.post("/api/cases", json=case_json("GB-RP-THR-C9"), headers=h)
    assert r.status_code == 201 and len(built) == 2
    with session_scope(web.engine) as s:
        assert s.scalar(text("SELECT max(plan_version) FROM icsr_case_version")) == 2


def test_two_server_processes_share_sessions_and_the_audit_chain(database_url: str, tmp_path: Path) -> None:
    """Two apps on one database, as two workers of `riskplan serve --workers 2` are."""
    first = make_app(database_url, tmp_path / "a")
    second = make_app(database_url, tmp_path / "b", users=False)
    try:
        a, b = first.client(), second.client()
        h = api_token(a, "case_processor")
        assert b.get("/api/me", headers=h).status_code == 200  # a token made by one worker works on the other
        for n in range(4):
            client = a if n % 2 else b
            assert client.post("/api/cases", json=case_json(f"GB-RP-THR-W{n}"), headers=h).status_code == 201
            r = client.post(f"/api/cases/GB-RP-THR-W{n}/follow-ups", json=follow_up_json(f"GB-RP-THR-W{n}"), headers=h)
            assert r.status_code == 201 and r.json()["version"] == 2
        assert a.post("/api/auth/logout", headers=h).status_code == 200
        assert b.get("/api/me", headers=h).status_code == 401  # logged out on one worker: out on all
        with session_scope(first.engine) as s:
            assert verify_chain(s).intact
    finally:
        first.engine.dispose()
        second.engine.dispose()


def test_serve_with_workers_runs_the_app_factory_in_each(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    monkeypatch.setenv("RISKPLAN_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setenv("RISKPLAN_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.delenv("RISKPLAN_CONFIG", raising=False)
    get_settings.cache_clear()
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    try:
        web_cli.serve(host="127.0.0.1", port=8765, workers=3)
        monkeypatch.setenv("RISKPLAN_WEB_WORKERS", "2")
        web_cli.serve(host="127.0.0.1", port=8765)
        monkeypatch.delenv("RISKPLAN_WEB_WORKERS")
        web_cli.serve(host="127.0.0.1", port=8765)
    finally:
        get_settings.cache_clear()
    (app3, kw3), (app2, kw2), (app1, kw1) = calls
    assert app3 == "riskplan.web.app:app_from_environment" and kw3["factory"] and kw3["workers"] == 3
    assert app2 == "riskplan.web.app:app_from_environment" and kw2["workers"] == 2
    assert not isinstance(app1, str) and "workers" not in kw1  # one process: the app made here
