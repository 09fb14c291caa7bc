"""Security of the web application: CSRF, headers, sessions and their expiry, lock-out, passwords,
cookies, redirects, and no SQL built from strings."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from test_web_roles import PAGES

from conftest import TEST_ARGON2
from riskplan.cases.tables import CaseRow
from riskplan.errors import UserInputError
from riskplan.store.audit import AuditEvent
from riskplan.store.db import session_scope
from riskplan.web.config import WebSettings
from riskplan.web.roles import Role
from riskplan.web.tables import WebSession, WebUser
from web_fixtures import (  # noqa: F401  (fixtures)
    PASSWORD,
    USERS,
    Clock,
    WebApp,
    api_token,
    browser_login,
    case_json,
    csrf_of,
    make_app,
    page_session,
    sqlite_web_fixture,
    web_fixture,
)

WEB_SRC = Path(__file__).resolve().parents[2] / "src" / "riskplan" / "web"


def _assert_security_headers(response: object, *, static: bool = False) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["content-security-policy"].startswith("default-src 'self'"), headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    if not static:
        assert headers["cache-control"] == "no-store"


def test_security_headers_on_every_kind_of_response(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    h = api_token(c, "qppv")
    for response in (
        c.get("/api/health"),
        c.get("/api/me"),  # 401
        c.get("/api/me", headers=h),
        c.get("/api/cases/RP0000404", headers=h),  # 404
        c.get("/login"),
        c.get("/dashboard"),  # redirect to the login page
        c.get("/no/such/page"),
        c.get("/openapi.json", headers=h),
    ):
        _assert_security_headers(response)
    page_session(c, "qppv")
    _assert_security_headers(c.get("/dashboard"))
    static = c.get("/static/htmx.min.js")
    assert static.status_code == 200 and "javascript" in static.headers["content-type"]
    _assert_security_headers(static, static=True)


def test_pages_use_no_inline_script_or_style(sqlite_web: WebApp) -> None:
    """The CSP allows only this origin, so every page must do without inline script and style."""
    c = sqlite_web.client()
    page_session(c, "qppv")
    c.post("/api/cases", json=case_json("GB-H-1"), headers=api_token(c, "qppv"))
    for url in (
        "/dashboard",
        "/cases",
        "/intake/new",
        "/intake/drafts",
        "/cases/RP0000001",
        "/plans",
        "/plans/uplizna",
        "/signals",
        "/studies",
        "/audit",
        "/cases/import",
    ):
        html = c.get(url).text
        assert "<script>" not in html and "<script " not in html.replace('<script src="/static/htmx.min.js"', ""), url
        assert " style=" not in html and "<style" not in html and "javascript:" not in html, url
        assert "hx-on" not in html, url


@pytest.mark.parametrize("row", [r for r in PAGES if r.method == "POST" and r.route != "/login"], ids=lambda r: r.route)
def test_every_form_post_is_refused_without_the_csrf_token(row: object, sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    page_session(c, "qppv")
    target = row.target  # type: ignore[attr-defined]
    data = {
        "worldwide_case_id": "CSRF-1",
        "first_received": "2026-11-10",
        "reaction": "x",
        "product": "y",
        "narrative": "z",
        "case": "RP0000001",
        "cdm": "cdm_small",
        "to": "validated",
        "causality": "possible",
    }
    for token in (None, "", "forged-token"):
        form = data if token is None else {**data, "csrf_token": token}
        r = c.post(target, data=form)
        assert r.status_code == 403, (target, token, r.status_code)
        assert "CSRF" in r.text
    r = c.post(target, headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    with session_scope(sqlite_web.engine) as s:
        assert s.scalar(select(func.count()).select_from(CaseRow)) == 0


def test_the_session_token_of_another_session_does_not_pass(sqlite_web: WebApp) -> None:
    alice, bob = sqlite_web.client(), sqlite_web.client()
    page_session(alice, "case_processor")
    bobs_token = page_session(bob, "case_processor")
    form = {"action": "save-draft", "worldwide_case_id": "X-1", "reactions.0.verbatim_term": "rash"}
    form["csrf_token"] = bobs_token
    assert alice.post("/intake/new", data=form).status_code == 403
    assert bob.post("/intake/new", data=form).status_code == 303  # the same form with its own session passes
    # HTMX sends the token as a header
    r = bob.post(
        "/intake/new", data={**form, "worldwide_case_id": "X-2", "csrf_token": ""}, headers={"X-CSRF-Token": bobs_token}
    )
    assert r.status_code in (200, 204, 303), r.text


def test_login_form_needs_its_double_submit_token(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    creds = {"username": USERS["qppv"], "password": PASSWORD, "next": "/dashboard"}
    assert c.post("/login", data=creds).status_code == 403
    page = c.get("/login")
    token = csrf_of(page.text)
    other = sqlite_web.client()
    assert other.post("/login", data={**creds, "csrf_token": token}).status_code == 403  # no matching cookie
    assert c.post("/login", data={**creds, "csrf_token": token + "x"}).status_code == 403
    r = c.post("/login", data={**creds, "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    cookie = r.headers["set-cookie"]
    assert "riskplan_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Path=/" in cookie and "Secure" not in cookie


def test_secure_cookie_and_hsts_when_configured(tmp_path: Path) -> None:
    w = make_app(f"sqlite:///{tmp_path / 's.db'}", tmp_path, cookie_secure=True)
    c = TestClient(w.app, base_url="https://testserver", follow_redirects=False)
    r = browser_login(c, USERS["auditor"])
    assert "Secure" in r.headers["set-cookie"]
    assert r.headers["strict-transport-security"].startswith("max-age=")
    w.engine.dispose()


def test_sessions_end_after_the_idle_time_and_at_the_latest_after_the_maximum(
    database_url: str, tmp_path: Path
) -> None:
    clock = Clock()
    w = make_app(database_url, tmp_path, clock=clock)
    try:
        c = w.client()
        h = api_token(c, "auditor")
        page_session(c, "auditor")
        clock.advance(hours=7, minutes=59)
        assert c.get("/api/me", headers=h).status_code == 200
        assert c.get("/dashboard").status_code == 200
        clock.advance(hours=7, minutes=59)  # idle time counts from the last use
        assert c.get("/api/me", headers=h).status_code == 200
        clock.advance(hours=8, minutes=1)
        assert c.get("/api/me", headers=h).status_code == 401
        r = c.get("/dashboard")
        assert r.status_code == 303 and r.headers["location"] == "/login?next=/dashboard"
        # however busy, a session ends 24 hours after login
        h = api_token(c, "auditor")
        for _ in range(23):
            clock.advance(hours=1)
            assert c.get("/api/me", headers=h).status_code == 200
        clock.advance(hours=1)
        assert c.get("/api/me", headers=h).status_code == 401
    finally:
        w.engine.dispose()


def test_idle_time_is_configurable(tmp_path: Path) -> None:
    clock = Clock()
    w = make_app(f"sqlite:///{tmp_path / 'i.db'}", tmp_path, clock=clock, session_idle_minutes=5)
    c = w.client()
    h = api_token(c, "auditor")
    r = c.post("/api/auth/token", json={"username": USERS["auditor"], "password": PASSWORD})
    assert r.json()["idle_timeout"] == 300
    clock.advance(minutes=5)
    assert c.get("/api/me", headers=h).status_code == 401
    w.engine.dispose()


def test_lock_out_after_five_failed_logins_for_fifteen_minutes(database_url: str, tmp_path: Path) -> None:
    clock = Clock()
    w = make_app(database_url, tmp_path, clock=clock)
    try:
        c = w.client()
        name = USERS["case_processor"]
        for _ in range(4):
            assert c.post("/api/auth/token", json={"username": name, "password": "wrong password!"}).status_code == 401
        assert c.post("/api/auth/token", json={"username": name, "password": PASSWORD}).status_code == 200
        for _ in range(4):  # a success starts the count again
            c.post("/api/auth/token", json={"username": name, "password": "wrong password!"})
        fifth = c.post("/api/auth/token", json={"username": name, "password": "wrong password!"})
        assert fifth.status_code == 423 and "locked until" in fifth.json()["detail"]
        right = c.post("/api/auth/token", json={"username": name, "password": PASSWORD})
        assert right.status_code == 423
        page = browser_login(w.client(), name)
        assert page.status_code == 423 and "Too many failed logins" in page.text
        clock.advance(minutes=14, seconds=59)
        assert c.post("/api/auth/token", json={"username": name, "password": PASSWORD}).status_code == 423
        clock.advance(seconds=2)
        assert c.post("/api/auth/token", json={"username": name, "password": PASSWORD}).status_code == 200
        with session_scope(w.engine) as s:
            actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == name)))
        assert actions.count("login failed") == 9 and actions.count("locked") == 1
        # other users are not affected
        assert c.post("/api/auth/token", json={"username": USERS["qppv"], "password": PASSWORD}).status_code == 200
    finally:
        w.engine.dispose()


def test_unknown_names_are_locked_out_like_accounts(database_url: str, tmp_path: Path) -> None:
    """Five failed logins under a name that is no account give the same 401s, then the same 423
    "locked" as a real account, so a password-guesser cannot tell which names exist; all in the audit
    trail."""
    clock = Clock()
    w = make_app(database_url, tmp_path, clock=clock)
    try:
        c = w.client()
        guess = {"username": "mallory", "password": "guess guess!"}
        for _ in range(4):
            assert c.post("/api/auth/token", json=guess).status_code == 401
        fifth = c.post("/api/auth/token", json=guess)
        assert fifth.status_code == 423 and "locked until" in fifth.json()["detail"]
        assert c.post("/api/auth/token", json={"username": "mallory", "password": "x"}).status_code == 423
        page = browser_login(w.client(), "mallory")
        assert page.status_code == 423 and "Too many failed logins" in page.text
        clock.advance(minutes=15, seconds=1)
        assert c.post("/api/auth/token", json={"username": "mallory", "password": "guess!"}).status_code == 401
        with session_scope(w.engine) as s:
            actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == "mallory")))
        assert actions.count("login failed") == 6 and actions.count("locked") == 1
        # real accounts are not affected
        assert c.post("/api/auth/token", json={"username": USERS["qppv"], "password": PASSWORD}).status_code == 200
    finally:
        w.engine.dispose()


def test_unknown_users_get_the_same_answer_as_wrong_passwords(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    unknown = c.post("/api/auth/token", json={"username": "mallory", "password": "whatever12345"})
    wrong = c.post("/api/auth/token", json={"username": USERS["qppv"], "password": "whatever12345"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


def test_passwords_are_argon2id_hashes_and_must_be_long_enough(
    sqlite_web: WebApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in TEST_ARGON2:  # the production parameters, without the tests' cheap ones
        monkeypatch.delenv(key, raising=False)
    defaults = WebSettings()
    assert (defaults.argon2_time_cost, defaults.argon2_memory_kib) == (3, 65536)
    with session_scope(sqlite_web.engine) as s:
        hashes = list(s.scalars(select(WebUser.password_hash)))
        assert hashes and all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)
        assert PasswordHasher().verify(hashes[0], PASSWORD)
        with pytest.raises(UserInputError, match="at least 12"):
            sqlite_web.ctx.auth.add_user(s, "shorty", Role.AUDITOR, "short", who="t")
        with pytest.raises(UserInputError, match="already exists"):
            sqlite_web.ctx.auth.add_user(s, USERS["qppv"], Role.AUDITOR, PASSWORD, who="t")
        with pytest.raises(UserInputError, match="user name"):
            sqlite_web.ctx.auth.add_user(s, "bad name", Role.AUDITOR, PASSWORD, who="t")


def test_session_tokens_are_stored_only_as_hashes(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    token = api_token(c, "qppv")["Authorization"].removeprefix("Bearer ")
    with session_scope(sqlite_web.engine) as s:
        rows = list(s.scalars(select(WebSession)))
    assert rows and all(token not in (r.token_hash, r.csrf_token) for r in rows)


def test_cookies_and_tokens_cannot_be_forged_or_swapped(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    page_session(c, "qppv")
    cookie = c.cookies["riskplan_session"]
    forged = sqlite_web.client()
    forged.cookies.set("riskplan_session", cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"))
    assert forged.get("/dashboard").status_code == 303
    # the browser session's token is no bearer token, nor the reverse
    raw = sqlite_web.ctx.auth.unsign("session", cookie)
    assert raw and c.get("/api/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    api = api_token(c, "qppv")["Authorization"].removeprefix("Bearer ")
    swapped = sqlite_web.client()
    swapped.cookies.set("riskplan_session", sqlite_web.ctx.auth.sign("session", api))
    assert swapped.get("/dashboard").status_code == 303
    unsigned = sqlite_web.client()
    unsigned.cookies.set("riskplan_session", api)
    assert unsigned.get("/dashboard").status_code == 303


def test_logout_ends_the_browser_session(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    csrf = page_session(c, "auditor")
    cookie = c.cookies["riskplan_session"]
    assert c.post("/logout", data={"csrf_token": csrf}).status_code == 303
    replay = sqlite_web.client()
    replay.cookies.set("riskplan_session", cookie)
    assert replay.get("/dashboard").status_code == 303


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"])
def test_login_never_redirects_to_another_site(sqlite_web: WebApp, target: str) -> None:
    c = sqlite_web.client()
    page = c.get("/login", params={"next": target})
    r = c.post(
        "/login",
        data={"username": USERS["qppv"], "password": PASSWORD, "csrf_token": csrf_of(page.text), "next": target},
    )
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"


def test_login_returns_to_the_page_asked_for(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    r = c.get("/cases?plan=uplizna")
    assert r.headers["location"] == "/login?next=/cases%3Fplan%3Duplizna"
    page = c.get(r.headers["location"])
    assert 'name="next" value="/cases?plan=uplizna"' in page.text
    done = c.post(
        "/login",
        data={
            "username": USERS["qppv"],
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "/cases?plan=uplizna",
        },
    )
    assert done.headers["location"] == "/cases?plan=uplizna"
    htmx = sqlite_web.client().get("/cases", headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx.headers["hx-redirect"].startswith("/login")


_SQL_CALLS = {"execute", "exec_driver_sql", "text", "sql", "executemany"}


def _built_string(node: ast.expr) -> bool:
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return True
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"


def test_no_sql_is_built_from_strings() -> None:
    """Queries are SQLAlchemy expressions or constant SQL with bound parameters, never formatted text."""
    offenders = []
    files = sorted(WEB_SRC.rglob("*.py"))
    assert len(files) > 10
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in _SQL_CALLS and node.args and _built_string(node.args[0]):
                offenders.append(f"{path.name}:{node.lineno}")
            # a query held in a variable: a module constant (upper-case name), a statement or a chosen constant
            held = node.args[0] if node.args and isinstance(node.args[0], ast.Name) else None
            if name in _SQL_CALLS and held is not None and not held.id.isupper() and held.id not in ("stmt", "query"):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
