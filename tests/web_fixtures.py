"""Fixtures and helpers for the web application's tests (``tests/test_web_*.py``).

``make_app`` builds the app on a given database with one user per role (cheap argon2 parameters, so
that the many logins stay fast; the default parameters are checked in the security tests).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from case_factory import make_icsr
from riskplan.cases.codes import Outcome, SenderType
from riskplan.cases.e2b import export_icsrs, schema_path
from riskplan.cases.model import Hl7Timestamp, Icsr, Sender
from riskplan.settings import Settings
from riskplan.store.audit import utcnow
from riskplan.store.db import make_engine, session_scope
from riskplan.web.app import create_app
from riskplan.web.config import WebSettings
from riskplan.web.context import WebContext
from riskplan.web.roles import Role
from shared_data import missing_shared

TESTS = Path(__file__).resolve().parent
STUDY = "real-world-observational-study"
CDM_ROOT = TESTS / "data"
PASSWORD = "correct horse battery staple"
ROLES = [r.value for r in Role]
USERS = {r.value: f"{r.value.replace('_', '-')}-1" for r in Role}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def web_settings(**overrides: Any) -> WebSettings:
    values: dict[str, Any] = {
        "secret_key": "test-secret-key-not-for-production",
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "cdm_roots": [CDM_ROOT],
    }
    values.update(overrides)
    return WebSettings(**values)


@dataclass
class WebApp:
    app: FastAPI
    ctx: WebContext
    engine: Engine
    tmp: Path

    def client(self) -> TestClient:
        return TestClient(self.app, follow_redirects=False)


class Clock:
    """A clock the tests move forward."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


INSTALLED = "installed"


def make_app(
    database_url: str,
    tmp: Path,
    *,
    users: bool = True,
    signal_workflow: Any = INSTALLED,
    clock: Clock | None = None,
    **web: Any,
) -> WebApp:
    """The app on ``database_url``; ``signal_workflow=None`` runs it as if the workflow were not installed."""
    settings = Settings(database_url=database_url, output_dir=tmp / "out", user="tester")
    engine = make_engine(database_url)
    extra: dict[str, Any] = {} if signal_workflow == INSTALLED else {"signal_workflow": signal_workflow}
    app = create_app(settings, web_settings(**web), engine=engine, clock=clock or utcnow, **extra)
    ctx: WebContext = app.state.ctx
    if users:
        with session_scope(engine) as session:
            for role in Role:
                ctx.auth.add_user(session, USERS[role.value], role, PASSWORD, who="test setup")
    return WebApp(app, ctx, engine, tmp)


@pytest.fixture(name="web")
def web_fixture(database_url: str, tmp_path: Path) -> Iterator[WebApp]:
    """The app with one user per role, on SQLite and on PostgreSQL."""
    w = make_app(database_url, tmp_path)
    yield w
    w.engine.dispose()


@pytest.fixture(name="sqlite_web")
def sqlite_web_fixture(tmp_path: Path) -> Iterator[WebApp]:
    w = make_app(f"sqlite:///{tmp_path / 'web.db'}", tmp_path)
    yield w
    w.engine.dispose()


def api_token(client: TestClient, role: str) -> dict[str, str]:
    """Authorization headers of a fresh API session of the role's user."""
    r = client.post("/api/auth/token", json={"username": USERS[role], "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no csrf_token field on the page"
    return match.group(1)


def browser_login(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    """Log in through the login form as a browser does; returns the POST response."""
    page = client.get("/login")
    assert page.status_code == 200, page.text
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text), "next": "/dashboard"},
    )


def page_session(client: TestClient, role: str) -> str:
    """Log the client in as the role's user; returns the session's CSRF token."""
    r = browser_login(client, USERS[role])
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/dashboard").text)


def exportable_icsr(wid: str, **kw: Any) -> Icsr:
    """A hand-built case (see case_factory) with what E2B(R3) export needs: C.1.2 to the second, the
    primary source flagged, the sender, the language of the reported term and a narrative."""
    base = make_icsr(wid, **kw)
    return Icsr.model_validate(
        {
            **base.model_dump(),
            "created": Hl7Timestamp(f"{base.created}120000" if base.created else "20261102120000"),
            "primary_sources": [
                s.model_copy(update={"primary_for_regulatory_purposes": True}).model_dump()
                for s in base.primary_sources
            ],
            "sender": Sender(sender_type=SenderType.PHARMACEUTICAL_COMPANY, organisation="Riskplan Test Pharma"),
            "reactions": [r.model_copy(update={"verbatim_language": "eng"}).model_dump() for r in base.reactions],
            "narrative": f"Case {wid}: a patient on UPLIZNA developed the reported reaction.",
        }
    )


def case_json(wid: str, **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = exportable_icsr(wid, **kw).model_dump(mode="json")
    return data


def follow_up_json(wid: str, received: str = "20261109") -> dict[str, Any]:
    icsr = exportable_icsr(wid)
    changed = icsr.model_copy(
        update={
            "most_recent_info": Hl7Timestamp(received),
            "reactions": (icsr.reactions[0].model_copy(update={"outcome": Outcome.RECOVERED}),),
        }
    )
    data: dict[str, Any] = changed.model_dump(mode="json")
    return data


def needs_e2b_schema() -> None:
    if not schema_path().is_file():
        missing_shared(f"the ICH E2B(R3) schema set is not at {schema_path()} (the shared folder ../shared is needed)")


def e2b_batch(icsrs: list[Icsr], batch_id: str = "TEST-BATCH") -> bytes:
    """An E2B(R3) batch file (not schema-validated here: the server validates what it imports)."""
    needs_e2b_schema()
    return export_icsrs(
        icsrs,
        batch_id=batch_id,
        sender_id="TESTSENDER",
        receiver_id="EVHUMAN",
        created=dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC),
        validate=False,
    )


def write_disproportionality(path: Path) -> Path:
    """A small results file as `riskplan signal detect` writes it."""
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE r AS SELECT * FROM (VALUES "
        "('UPLIZNA', 'Pneumonia', 12::BIGINT, 3.1, 3.9, 1.2, 2.9, true, true), "
        "('UPLIZNA', 'Headache', 2::BIGINT, 1.1, 0.8, -0.5, 0.9, false, false), "
        "('OTHER', 'Nausea', 40::BIGINT, 1.0, 1.0, 0.0, 1.0, false, false)) "
        'AS t(product, event, "N", "PRR", "ROR025", "IC025", "EB05", signal_evans, signal_eb05)'
    )
    con.execute("COPY r TO $p (FORMAT parquet)", {"p": str(path)})
    con.close()
    return path


def seed(w: WebApp) -> None:
    """Cases RP0000001-3 (SEED-1..3), plan versions 1 and 2, study run 1, a disproportionality file,
    and (when the signal workflow is installed) signal 1 detected and signal 2 assessed."""
    from riskplan.cases.intake import intake, intake_context
    from riskplan.plan.catalogue import load_plan
    from riskplan.plan.versions import record_plan
    from riskplan.web import study_ops
    from riskplan.web.config import signal_results_path

    with session_scope(w.engine) as session:
        context = intake_context(session, "uplizna", "seed")
        intake(session, [exportable_icsr(f"SEED-{i}") for i in (1, 2, 3)], context=context, who="seed")
    with session_scope(w.engine) as session:
        plan = load_plan("uplizna")
        first = plan.safety_concerns[0]
        revised = plan.model_copy(
            update={
                "safety_concerns": [
                    first.model_copy(update={"title": first.title + " (revised)"}),
                    *plan.safety_concerns[1:],
                ]
            }
        )
        record_plan(session, revised, who="seed", reason="a second version")
    study_ops.run_study(w.ctx, STUDY, "cdm_small", who="seed")
    write_disproportionality(signal_results_path(w.ctx.settings, w.ctx.web))
    if w.ctx.signals is not None:
        seed_signals(w)


def seed_signals(w: WebApp) -> None:
    """Signal 1 (pneumonia, detected) and signal 2 (neutropenia, moved on to assessed)."""
    from riskplan.signals.workflow import new_signal, transition

    with session_scope(w.engine) as session:
        new_signal(
            session,
            title="Pneumonia with UPLIZNA",
            who="seed",
            product="UPLIZNA",
            event="Pneumonia",
            concern_id="serious-infections",
            plan_name="uplizna",
            source="case series",
            cases=["SEED-1"],
        )
        second = new_signal(
            session,
            title="Neutropenia with UPLIZNA",
            who="seed",
            product="UPLIZNA",
            event="Neutropenia",
            plan_name="uplizna",
            source="disproportionality",
        )
        for state in ("validated", "prioritised", "assessed"):
            transition(session, second.id, state, who="seed", role="safety_physician", reason=f"seed: {state}")


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn in a background thread on 127.0.0.1 (a free port); yields its URL."""
    import socket
    import threading
    import time

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


# -- layout checks in a browser (Playwright) -------------------------------------------------------

#: Every visible element that sticks out of its container (the nearest block ancestor's content box),
#: except inside a container that scrolls on purpose (overflow-x auto/scroll, e.g. ``.scroll`` tables),
#: and the page itself when it is wider than the window. Each as "tag#id.class: how many pixels out".
OVERFLOW_JS = """
() => {
  const out = [];
  const describe = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
    (typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\\s+/).join('.') : '') +
    (e.dataset && e.dataset.testid ? '[' + e.dataset.testid + ']' : '');
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth + 1) {
    out.push(`page: ${doc.scrollWidth}px wide in a ${window.innerWidth}px window`);
  }
  const scrolls = (e) => ['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(e).overflowX);
  for (const e of document.body.querySelectorAll('*')) {
    if (['OPTION', 'SCRIPT', 'STYLE', 'BR'].includes(e.tagName)) continue;
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    let box = e.parentElement, inScroll = false;
    while (box && box !== document.body && getComputedStyle(box).display.startsWith('inline')) box = box.parentElement;
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (scrolls(a)) { inScroll = true; break; }
    }
    if (!box || inScroll) continue;
    const s = getComputedStyle(box), b = box.getBoundingClientRect();
    const left = b.left + parseFloat(s.borderLeftWidth), right = b.right - parseFloat(s.borderRightWidth);
    const over = Math.max(r.right - right, left - r.left);
    if (over > 1.5) out.push(`${describe(e)} in ${describe(box)}: ${Math.round(over)}px out`);
  }
  return out;
}
"""


def overflowing(page: Any) -> list[str]:
    """The elements of a Playwright page wider than their container (see :data:`OVERFLOW_JS`)."""
    found: list[str] = page.evaluate(OVERFLOW_JS)
    return found


def page_height(page: Any) -> int:
    """The height of the whole page in pixels (as a full-page screenshot would be)."""
    height: int = page.evaluate("() => document.documentElement.scrollHeight")
    return height
