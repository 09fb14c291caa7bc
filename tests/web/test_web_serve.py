"""``riskplan serve`` as deployed: secure cookies and HSTS by default off localhost, trusted proxies, and
a real server with two worker processes whose sessions, lock-out and CSRF hold across the workers."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import TEST_ARGON2
from riskplan.cli import app as cli_app
from riskplan.settings import get_settings
from riskplan.web import cli as web_cli


@pytest.fixture
def serving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any]]]:
    """`riskplan serve` with uvicorn.run recorded instead of run."""
    import uvicorn

    monkeypatch.setenv("RISKPLAN_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setenv("RISKPLAN_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.delenv("RISKPLAN_CONFIG", raising=False)
    # recorded as absent, so that the value serve sets for its workers is removed after the test
    monkeypatch.setenv("RISKPLAN_WEB_COOKIE_SECURE", "")
    monkeypatch.delenv("RISKPLAN_WEB_COOKIE_SECURE")
    monkeypatch.delenv("RISKPLAN_WEB_FORWARDED_ALLOW_IPS", raising=False)
    get_settings.cache_clear()
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    yield calls
    get_settings.cache_clear()


def _hsts(app: Any) -> str | None:
    with TestClient(app, base_url="https://testserver") as client:
        value: str | None = client.get("/api/health").headers.get("strict-transport-security")
        return value


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::"])
def test_off_localhost_cookies_are_secure_and_hsts_is_sent_by_default(
    serving: list[tuple[Any, dict[str, Any]]], host: str
) -> None:
    web_cli.serve(host=host, port=8765, workers=None)
    ((app, kw),) = serving
    assert _hsts(app) == "max-age=31536000; includeSubDomains"
    assert os.environ["RISKPLAN_WEB_COOKIE_SECURE"] == "true"  # what each worker process reads
    assert kw["proxy_headers"] is False


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_on_localhost_plain_http_works(serving: list[tuple[Any, dict[str, Any]]], host: str) -> None:
    web_cli.serve(host=host, port=8765, workers=None)
    ((app, _),) = serving
    assert _hsts(app) is None
    assert os.environ["RISKPLAN_WEB_COOKIE_SECURE"] == "false"


def test_the_setting_overrides_the_default_and_trusted_proxies_are_passed_on(
    serving: list[tuple[Any, dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RISKPLAN_WEB_COOKIE_SECURE", "false")
    monkeypatch.setenv("RISKPLAN_WEB_FORWARDED_ALLOW_IPS", "127.0.0.1")
    web_cli.serve(host="0.0.0.0", port=8765, workers=2)
    ((target, kw),) = serving
    assert target == "riskplan.web.app:app_from_environment" and kw["workers"] == 2
    assert kw["proxy_headers"] is True and kw["forwarded_allow_ips"] == "127.0.0.1"
    assert os.environ["RISKPLAN_WEB_COOKIE_SECURE"] == "false"


# --- a real server, two worker processes ------------------------------------------------------------

PASSWORD = "correct horse battery staple 42"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.slow
def test_two_workers_share_sessions_lockout_and_csrf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKPLAN_")}
    env.update(
        RISKPLAN_DATABASE_URL=f"sqlite:///{tmp_path / 'web.db'}",
        RISKPLAN_OUTPUT_DIR=str(tmp_path / "out"),
        RISKPLAN_USER="admin",
        XDG_DATA_HOME=str(tmp_path / "data"),
        **TEST_ARGON2,
    )
    for key, value in env.items():
        if key.startswith("RISKPLAN_") or key == "XDG_DATA_HOME":
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    runner = CliRunner()
    for name in ("qppv1", "victim"):
        added = runner.invoke(cli_app, ["user", "add", name, "--role", "qppv", "--password-stdin"], input=PASSWORD)
        assert added.exit_code == 0, added.output
    get_settings.cache_clear()
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "riskplan", "serve", "--port", str(port), "--workers", "2"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.3)

        def fresh(cookies: httpx.Cookies | None = None) -> httpx.Client:
            # a new connection each time: the kernel spreads them over the workers
            return httpx.Client(base_url=base, headers={"Connection": "close"}, cookies=cookies, timeout=30)

        token = fresh().post("/api/auth/token", json={"username": "qppv1", "password": PASSWORD})
        assert token.status_code == 200, token.text
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        assert all(fresh().get("/api/me", headers=bearer).status_code == 200 for _ in range(8))

        wrong = [
            fresh().post("/api/auth/token", json={"username": "victim", "password": "wrong"}).status_code
            for _ in range(5)  # lockout_attempts (5) wrong passwords, each on a new connection
        ]
        assert wrong[:4] == [401] * 4 and wrong[4] in (401, 423), wrong
        refused = [
            fresh().post("/api/auth/token", json={"username": "victim", "password": PASSWORD}).status_code
            for _ in range(4)
        ]
        assert set(refused) == {423}, refused  # locked on every worker

        for _ in range(4):  # the login form's double-submit CSRF cookie is signed with the shared key
            page = fresh().get("/login")
            token_field = _CSRF.search(page.text)
            assert token_field
            login = fresh(page.cookies).post(
                "/login",
                data={"username": "qppv1", "password": PASSWORD, "next": "/dashboard", "csrf_token": token_field[1]},
            )
            assert login.status_code == 303, login.text

        assert fresh().post("/api/auth/logout", headers=bearer).status_code == 200
        assert all(fresh().get("/api/me", headers=bearer).status_code == 401 for _ in range(6))
    finally:
        server.terminate()
        server.wait(timeout=30)
        get_settings.cache_clear()
