"""Electronic signatures in the web application (re-authentication at signing, 21 CFR 11.200) and logins
that a burst of parallel guesses or a password spray cannot get through (21 CFR 11.300(d))."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from riskplan.store.audit import AuditEvent
from riskplan.store.db import session_scope
from riskplan.store.signatures import ElectronicSignatureRow
from riskplan.web.roles import Role
from web_fixtures import (
    PASSWORD,
    USERS,
    Clock,
    WebApp,
    api_token,
    browser_login,
    case_json,
    csrf_of,
    live_server,
    make_app,
    page_session,
    seed,
)


@pytest.fixture(name="w")
def w_fixture(database_url: str, tmp_path: Path) -> Iterator[WebApp]:
    app = make_app(database_url, tmp_path)
    with session_scope(app.engine) as s:
        app.ctx.auth.add_user(s, "anne", Role.QPPV, PASSWORD, who="test setup", full_name="Anne Quist")
    yield app
    app.engine.dispose()


def _count(w: WebApp, what: object) -> int:
    with session_scope(w.engine) as s:
        return int(s.scalar(select(func.count()).select_from(what)) or 0)  # type: ignore[arg-type]


def _actions(w: WebApp, entity_id: str) -> list[str]:
    with session_scope(w.engine) as s:
        return list(s.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == entity_id)))


def test_the_approval_form_asks_for_the_password_again_and_shows_the_signature(w: WebApp) -> None:
    c = w.client()
    c.post("/api/cases", json=case_json("PL-1"), headers=api_token(c, "qppv"))  # stores plan version 1
    assert browser_login(c, "anne").status_code == 303
    csrf = csrf_of(c.get("/dashboard").text)
    page = c.get("/plans/uplizna").text
    assert 'type="password" name="password"' in page and "Approve and sign" in page
    wrong = c.post("/plans/uplizna/versions/1/approve", data={"csrf_token": csrf, "password": "not my password"})
    assert wrong.status_code == 403 and "signing refused: wrong user name or password" in wrong.text
    empty = c.post("/plans/uplizna/versions/1/approve", data={"csrf_token": csrf})
    assert empty.status_code == 403 and "signing needs the password of anne" in empty.text
    assert _count(w, ElectronicSignatureRow) == 0 and "approved by" not in c.get("/plans/uplizna").text
    assert _actions(w, "anne").count("signing failed") == 1  # the empty one is not an attempt
    done = c.post("/plans/uplizna/versions/1/approve", data={"csrf_token": csrf, "password": PASSWORD})
    assert done.status_code == 303
    page = c.get("/plans/uplizna").text
    assert "approved by anne" in page and "Signed: Anne Quist (anne), approval, 20" in page


def test_assessments_and_closings_through_the_api_need_the_password(w: WebApp) -> None:
    seed(w)  # cases, plan versions, signal 2 assessed
    c = w.client()
    sp = api_token(c, "safety_physician")
    assert c.post("/api/cases", json=case_json("AS-1"), headers=sp).status_code == 201
    body = {"causality": "probable", "comment": "rechallenge"}
    assert c.post("/api/cases/AS-1/assessments", json=body, headers=sp).status_code == 422  # no password
    wrong = c.post("/api/cases/AS-1/assessments", json={**body, "password": "guess guess guess"}, headers=sp)
    assert wrong.status_code == 403 and "signing refused" in wrong.json()["detail"]
    r = c.post("/api/cases/AS-1/assessments", json={**body, "password": PASSWORD}, headers=sp)
    assert r.status_code == 201, r.text
    sp_name = USERS["safety_physician"]
    assert r.json()["signed"].startswith(f"{sp_name} ({sp_name}), authorship, 20")
    [listed] = c.get("/api/cases/AS-1/assessments", headers=sp).json()
    assert listed["signed"] == r.json()["signed"]

    anne = {"Authorization": api_token_of(c, "anne")}
    close = {"to": "closed", "reason": "labelled already", "outcome": "no action"}
    unsigned = c.post("/api/signals/2/transitions", json=close, headers=anne)
    assert unsigned.status_code == 400 and "electronically signed by the QPPV" in unsigned.json()["detail"]
    wrong = c.post("/api/signals/2/transitions", json={**close, "password": "wrong wrong wrong"}, headers=anne)
    assert wrong.status_code == 403
    assert c.get("/api/signals/2", headers=anne).json()["state"] == "assessed"
    closed = c.post("/api/signals/2/transitions", json={**close, "password": PASSWORD}, headers=anne)
    assert closed.status_code == 201, closed.text
    assert closed.json()["signed"].startswith("Anne Quist (anne), review, 20")
    assert _count(w, ElectronicSignatureRow) == 2


def api_token_of(c: object, username: str) -> str:
    assert isinstance(c, httpx.Client)
    r = c.post("/api/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return f"Bearer {r.json()['access_token']}"


def test_failed_signings_lock_the_account_for_logins_too(w: WebApp) -> None:
    c = w.client()
    csrf = page_session(c, "qppv")
    for _ in range(5):
        r = c.post("/plans/uplizna/versions/1/approve", data={"csrf_token": csrf, "password": "not it at all"})
        assert r.status_code == 403
    login = c.post("/api/auth/token", json={"username": USERS["qppv"], "password": PASSWORD})
    assert login.status_code == 423
    assert _actions(w, USERS["qppv"]).count("signing failed") == 5 and "locked" in _actions(w, USERS["qppv"])


ATTEMPTS = 60
RIGHT_AT = 26  # the right password comes 26th, after the limit of 5 failures has been reached


def test_parallel_guesses_cannot_slip_the_right_password_in_after_the_limit(database_url: str, tmp_path: Path) -> None:
    """60 logins for one account in parallel against the served app, the right password 26th: none gets
    a token (the account is locked at the 5th failure; the count is taken before the password is
    checked, with one atomic UPDATE), on SQLite and PostgreSQL."""
    w = make_app(
        database_url,
        tmp_path,
        argon2_time_cost=2,
        argon2_memory_kib=8192,  # verification takes a few ms, so that the attempts overlap
        client_lockout_attempts=1000,  # this test is about the account's lock, not the address's
    )
    name = USERS["qppv"]
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    try:
        with live_server(w.app) as base:
            limit_reached = threading.Event()  # five wrong guesses answered: the limit is reached

            def attempt(i: int) -> None:
                time.sleep(0.004 * i)  # sent in order, each while the earlier ones are still being checked
                if i == RIGHT_AT:  # on a loaded machine thread order is not send order: wait for the limit
                    limit_reached.wait(timeout=60)
                password = PASSWORD if i == RIGHT_AT else f"wrong password {i}"
                with httpx.Client(base_url=base, timeout=120) as c:
                    r = c.post("/api/auth/token", json={"username": name, "password": password})
                with lock:
                    statuses[i] = r.status_code
                    if sum(1 for k in statuses if k != RIGHT_AT) >= 5:
                        limit_reached.set()

            threads = [threading.Thread(target=attempt, args=(i,)) for i in range(1, ATTEMPTS + 1)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert len(statuses) == ATTEMPTS
        assert statuses[RIGHT_AT] == 423, statuses
        assert 200 not in statuses.values()
        actions = _actions(w, name)
        assert "logged in" not in actions and "locked" in actions
        assert actions.count("login failed") >= 5
    finally:
        w.engine.dispose()


def test_a_password_spray_from_one_address_is_locked_out(database_url: str, tmp_path: Path) -> None:
    """One wrong password tried on many accounts (and names) from one client address: after 20 failures
    the address is locked for 15 minutes (audited), even for a right password; other addresses are not."""
    clock = Clock()
    w = make_app(database_url, tmp_path, clock=clock)
    try:
        c = w.client()  # its address is "testclient"
        with session_scope(w.engine) as s:
            for i in range(25):
                w.ctx.auth.add_user(s, f"user{i:02}", Role.CASE_PROCESSOR, PASSWORD, who="test setup")
        codes = [
            c.post("/api/auth/token", json={"username": f"user{i:02}", "password": "Spring2026!!"}).status_code
            for i in range(25)
        ]
        assert codes[:19] == [401] * 19 and codes[19:] == [423] * 6
        r = c.post("/api/auth/token", json={"username": USERS["qppv"], "password": PASSWORD})
        assert r.status_code == 423 and "from this address" in r.json()["detail"]
        assert _actions(w, "testclient") == ["locked"]
        # no account was locked by the spray, and another address logs in
        assert w.ctx.auth.login(USERS["qppv"], PASSWORD, client="10.0.0.7").ok
        assert w.ctx.auth.login("user00", PASSWORD, client="10.0.0.7").ok
        clock.advance(minutes=15, seconds=1)
        assert c.post("/api/auth/token", json={"username": USERS["qppv"], "password": PASSWORD}).status_code == 200
    finally:
        w.engine.dispose()
