"""Concurrent users against the served app (uvicorn in a thread), on SQLite (WAL) and PostgreSQL:
new cases and follow-ups of one shared case at the same time. Every acknowledged write is stored
exactly once, versions are numbered without gaps, and each has its audit trail, one unbroken hash chain."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import func, select

from riskplan.cases.tables import CaseRow, CaseVersionRow
from riskplan.store.audit import AuditEvent
from riskplan.store.audit_verify import verify_chain
from riskplan.store.db import session_scope
from web_fixtures import PASSWORD, USERS, case_json, live_server, make_app

THREADS = 8
NEW_PER_THREAD = 4
FOLLOW_UPS_PER_THREAD = 3


def test_concurrent_intake_and_follow_ups(database_url: str, tmp_path: Path) -> None:
    w = make_app(database_url, tmp_path)
    shared = case_json("SHARED-1")
    statuses: Counter[int] = Counter()
    created: list[str] = []
    versions: list[int] = []
    lock = threading.Lock()
    try:
        with live_server(w.app) as base:
            with httpx.Client(base_url=base, timeout=60) as setup:
                token = setup.post(
                    "/api/auth/token", json={"username": USERS["case_processor"], "password": PASSWORD}
                ).json()["access_token"]
                assert (
                    setup.post("/api/cases", json=shared, headers={"Authorization": f"Bearer {token}"}).status_code
                    == 201
                )

            def worker(n: int) -> None:
                with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}) as c:
                    for i in range(max(NEW_PER_THREAD, FOLLOW_UPS_PER_THREAD)):
                        if i < NEW_PER_THREAD:
                            wid = f"CONC-{n}-{i}"
                            r = c.post("/api/cases", json=case_json(wid))
                            with lock:
                                statuses[r.status_code] += 1
                                if r.status_code == 201:
                                    created.append(wid)
                        if i < FOLLOW_UPS_PER_THREAD:
                            body = {**shared, "narrative": f"follow-up {n}.{i}"}
                            r = c.post("/api/cases/SHARED-1/follow-ups", json=body)
                            with lock:
                                statuses[r.status_code] += 1
                                if r.status_code == 201:
                                    versions.append(r.json()["version"])

            threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert statuses == Counter({201: THREADS * (NEW_PER_THREAD + FOLLOW_UPS_PER_THREAD)})
        assert sorted(versions) == list(range(2, THREADS * FOLLOW_UPS_PER_THREAD + 2))
        with session_scope(w.engine) as s:
            per_wid = dict(s.execute(select(CaseRow.worldwide_id, func.count()).group_by(CaseRow.worldwide_id)).all())
            assert {wid: per_wid.get(wid) for wid in created} == {wid: 1 for wid in created}
            assert len(per_wid) == THREADS * NEW_PER_THREAD + 1
            case = s.scalars(select(CaseRow).where(CaseRow.worldwide_id == "SHARED-1")).one()
            stored = sorted(s.scalars(select(CaseVersionRow.version).where(CaseVersionRow.case_id == case.id)))
            assert stored == list(range(1, THREADS * FOLLOW_UPS_PER_THREAD + 2)) and case.latest_version == stored[-1]
            new_versions = s.scalars(
                select(AuditEvent.new_value).where(AuditEvent.entity_id == "SHARED-1", AuditEvent.field == "version")
            ).all()
            assert sorted(int(v) for v in new_versions if v is not None) == stored
            created_events = s.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "created", AuditEvent.entity_type == "case")
            )
            assert created_events == THREADS * NEW_PER_THREAD + 1
            # the trail appended by concurrent commits (on PostgreSQL in the database, store_0005) is one
            # unbroken chain, as `riskplan audit verify` checks it
            check = verify_chain(s)
            assert check.intact, check.broken
            assert check.rows == s.scalar(select(func.count()).select_from(AuditEvent))
    finally:
        w.engine.dispose()


def test_the_same_new_case_sent_at_once_is_stored_once(database_url: str, tmp_path: Path) -> None:
    """Clients sending the same new case (worldwide case id, C.1.8.1) at the same moment: one is stored, the
    others are told it exists (409, with its number); so is one that is also refused for another reason."""
    w = make_app(database_url, tmp_path)
    statuses: Counter[int] = Counter()
    details: list[str] = []
    lock = threading.Lock()
    try:
        with live_server(w.app) as base:
            with httpx.Client(base_url=base, timeout=60) as setup:
                token = setup.post(
                    "/api/auth/token", json={"username": USERS["case_processor"], "password": PASSWORD}
                ).json()["access_token"]
            start = threading.Barrier(THREADS)

            def worker() -> None:
                with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}) as c:
                    start.wait()
                    r = c.post("/api/cases", json=case_json("SAME-1"))
                    with lock:
                        statuses[r.status_code] += 1
                        if r.status_code == 409:
                            details.append(r.json()["detail"])

            threads = [threading.Thread(target=worker) for _ in range(THREADS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}) as c:
                # a date after today is refused (nothing stored), but the case exists: that is the answer
                late = c.post("/api/cases", json={**case_json("SAME-1"), "most_recent_info": "20991231"})
                assert late.status_code == 409 and "RP0000001/follow-ups" in late.json()["detail"]
                fresh = c.post("/api/cases", json={**case_json("SAME-2"), "most_recent_info": "20991231"})
                assert fresh.status_code == 400 and "C.1.5" in fresh.text, fresh.text
        assert statuses == Counter({201: 1, 409: THREADS - 1})
        assert all("already exists as RP0000001" in d for d in details), details
        with session_scope(w.engine) as s:
            assert s.scalars(select(CaseRow.worldwide_id)).all() == ["SAME-1"]
            assert s.scalar(select(func.count()).select_from(CaseVersionRow)) == 1
            created = s.scalars(
                select(AuditEvent.entity_id).where(AuditEvent.action == "created", AuditEvent.entity_type == "case")
            ).all()
            assert created == ["SAME-1"]
            check = verify_chain(s)
            assert check.intact, check.broken
    finally:
        w.engine.dispose()
