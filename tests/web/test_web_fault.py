"""A server killed (SIGKILL) in the middle of a batch E2B(R3) import: after a restart the batch is
wholly present or wholly absent, and the database is intact. On SQLite and on PostgreSQL.

The server is ``riskplan serve`` in a child process. The kill is timed to land inside the import's
write transaction: the test watches for the transaction (SQLite: the write lock is held; PostgreSQL:
a backend of the database holds a transaction id) and kills the server the moment it sees it.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

from riskplan.cases.e2b import export_icsrs
from riskplan.cases.tables import CaseRow, CaseVersionRow
from riskplan.store.audit import AuditEvent
from riskplan.store.db import make_engine, normalise_url, session_scope
from riskplan.web.case_ops import import_batch
from web_fixtures import PASSWORD, USERS, case_json, exportable_icsr, make_app, needs_e2b_schema

pytestmark = pytest.mark.slow
BATCH = 100
PREFIX = "FAULT-"


def _batch() -> bytes:
    icsrs = [exportable_icsr(f"{PREFIX}{i:04d}") for i in range(BATCH)]
    return export_icsrs(
        icsrs,
        batch_id="FAULT",
        sender_id="S",
        receiver_id="EVHUMAN",
        created=dt.datetime(2026, 11, 20, tzinfo=dt.UTC),
        validate=False,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _server(database_url: str, tmp: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = _free_port()
    env = {
        **os.environ,
        "RISKPLAN_DATABASE_URL": database_url,
        "RISKPLAN_OUTPUT_DIR": str(tmp / "out"),
        "RISKPLAN_CONFIG": str(tmp / "none.toml"),
        "RISKPLAN_WEB_SECRET_KEY": "test-secret-key-not-for-production",
        "RISKPLAN_WEB_ARGON2_TIME_COST": "1",
        "RISKPLAN_WEB_ARGON2_MEMORY_KIB": "1024",
    }
    code = f"from riskplan.web.cli import serve; serve(host='127.0.0.1', port={port})"
    log = (tmp / f"server-{port}.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {(tmp / f'server-{port}.log').read_text()}")
            time.sleep(0.1)
        yield proc, base
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        log.close()


def _writer_probe(database_url: str) -> Callable[[], bool]:
    """True while another connection is inside a write transaction."""
    url = make_url(normalise_url(database_url))
    if url.get_backend_name() == "sqlite":
        con = sqlite3.connect(str(url.database), timeout=0, isolation_level=None)

        def sqlite_writer() -> bool:
            try:
                con.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:
                return True
            con.execute("ROLLBACK")
            return False

        return sqlite_writer
    engine = create_engine(normalise_url(database_url), isolation_level="AUTOCOMMIT")
    conn = engine.connect()
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
    )

    def pg_writer() -> bool:
        return bool(conn.execute(query).scalar())

    return pg_writer


def _check_integrity(engine: Engine) -> int:
    """The number of the batch's cases stored; every stored case is whole (versions, audit)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
    with session_scope(engine) as s:
        cases = list(s.scalars(select(CaseRow).where(CaseRow.worldwide_id.like(f"{PREFIX}%"))))
        for case in cases:
            versions = list(s.scalars(select(CaseVersionRow.version).where(CaseVersionRow.case_id == case.id)))
            assert sorted(versions) == list(range(1, case.latest_version + 1))
        created = s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.entity_id.like(f"{PREFIX}%"), AuditEvent.action == "created")
        )
        assert created == len(cases)
    return len(cases)


def _import(base: str, token: str, data: bytes, outcome: dict[str, object]) -> None:
    try:
        r = httpx.post(
            f"{base}/api/cases/import",
            files={"file": ("batch.xml", data, "application/xml")},
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
        outcome["status"] = r.status_code
    except httpx.HTTPError as exc:
        outcome["error"] = type(exc).__name__


def _token(base: str) -> str:
    r = httpx.post(f"{base}/api/auth/token", json={"username": USERS["case_processor"], "password": PASSWORD})
    return str(r.json()["access_token"])


def test_sigkill_during_batch_import_leaves_all_or_nothing(database_url: str, tmp_path: Path) -> None:
    needs_e2b_schema()
    make_app(database_url, tmp_path).engine.dispose()  # migrated, with users
    data = _batch()
    engine = make_engine(database_url)
    writer_active = _writer_probe(database_url)
    try:
        killed_in_transaction = False
        for _attempt in range(3):
            with _server(database_url, tmp_path) as (proc, base):
                token = _token(base)
                outcome: dict[str, object] = {}
                request = threading.Thread(target=_import, args=(base, token, data, outcome))
                request.start()
                while request.is_alive():
                    if writer_active():
                        os.kill(proc.pid, signal.SIGKILL)
                        killed_in_transaction = True
                        break
                    time.sleep(0.001)
                request.join(60)
                proc.wait(10)
            stored = _check_integrity(engine)
            assert stored in (0, BATCH)
            if killed_in_transaction:
                assert stored == 0 and "error" in outcome, outcome
                break
            assert outcome.get("status") == 201 and stored == BATCH  # finished before the probe saw it
        assert killed_in_transaction, "the kill never landed inside the import transaction"

        # after a restart the server works: it takes a new case, and the same batch imports whole
        with _server(database_url, tmp_path) as (_, base):
            auth = {"Authorization": f"Bearer {_token(base)}"}
            assert httpx.post(f"{base}/api/cases", json=case_json("AFTER-1"), headers=auth).status_code == 201
            assert [c["worldwide_id"] for c in httpx.get(f"{base}/api/cases", headers=auth).json()] == ["AFTER-1"]
        w = make_app(database_url, tmp_path, users=False)
        imported = import_batch(w.ctx, data, file_name="batch.xml", who="tester")
        w.engine.dispose()
        assert [o.status for o in imported.outcomes] == ["created"] * BATCH
        assert _check_integrity(engine) == BATCH
    finally:
        engine.dispose()
