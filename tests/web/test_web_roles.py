"""Every endpoint for every role: a table of endpoint × role → expected status.

Each row names an endpoint (method and path template as the app routes it), the request made, which
roles may use it and the status they get; every other role gets 403, and a caller without a login
gets 401 (API) or is sent to the login page (303, pages). Only login, health and the static files are
open. A test checks that the table covers every route of the app, so a new endpoint cannot be added
without deciding who may use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from riskplan.web import pages, pages_cases, pages_intake, pages_submissions
from web_fixtures import (
    PASSWORD,
    ROLES,
    STUDY,
    USERS,
    api_token,
    case_json,
    e2b_batch,
    exportable_icsr,
    follow_up_json,
    make_app,
    needs_e2b_schema,
    page_session,
    seed,
)

CP, SP, QPPV, EPI, AUD = "case_processor", "safety_physician", "qppv", "epidemiologist", "auditor"
ALL = frozenset(ROLES)
CASE_WRITERS = frozenset({CP, SP, QPPV})
SIGNAL_READERS = frozenset({SP, QPPV, EPI, AUD})
STUDY_READERS = frozenset({SP, QPPV, EPI, AUD})
HISTORY = frozenset({CP, SP, QPPV, AUD})
SUBMISSION_READERS = frozenset({CP, SP, QPPV, AUD})
ANON = "anonymous"


@dataclass(frozen=True)
class Row:
    method: str
    route: str  # the route's path template
    allowed: frozenset[str]
    ok: int  # status for an allowed role
    url: str | None = None  # the URL requested (default: the template)
    request: Callable[[str], dict[str, Any]] = field(default=lambda role: {})  # httpx kwargs, per role
    anon: int | None = None  # status without login (default 401 for the API, 303 for pages)
    page: bool = False

    @property
    def target(self) -> str:
        return self.url or self.route

    def expected(self, role: str) -> int:
        if role == ANON:
            return self.anon if self.anon is not None else (303 if self.page else 401)
        return self.ok if role in self.allowed else 403


def _json(body: Callable[[str], Any]) -> Callable[[str], dict[str, Any]]:
    return lambda role: {"json": body(role)}


def _e2b(role: str) -> dict[str, Any]:
    return {"files": {"file": (f"{role}.xml", e2b_batch([exportable_icsr(f"IMP-{role}")]), "application/xml")}}


def _form(data: Callable[[str], dict[str, Any]]) -> Callable[[str], dict[str, Any]]:
    return lambda role: {"data": data(role)}


def _draft_form(role: str) -> dict[str, Any]:
    return {"action": "save-draft", "worldwide_case_id": f"DRAFT-{role}", "reactions.0.verbatim_term": "rash"}


API: list[Row] = [
    Row("GET", "/api/health", ALL, 200, anon=200),
    Row(
        "POST",
        "/api/auth/token",
        ALL,
        200,
        anon=200,
        request=lambda role: {"json": {"username": USERS.get(role, USERS[CP]), "password": PASSWORD}},
    ),
    Row("GET", "/api/me", ALL, 200),
    Row("GET", "/openapi.json", ALL, 200),
    Row("GET", "/api/plans", ALL, 200),
    Row("GET", "/api/plans/{name}", ALL, 200, "/api/plans/uplizna"),
    Row("GET", "/api/plans/{name}/versions", ALL, 200, "/api/plans/uplizna/versions"),
    Row("GET", "/api/plans/{name}/diff", ALL, 200, "/api/plans/uplizna/diff?old=1&new=2"),
    Row(
        "POST",
        "/api/plans/{name}/versions/{version}/approve",
        frozenset({QPPV}),
        201,
        "/api/plans/uplizna/versions/1/approve",
        _json(lambda role: {"reason": "RMP v1 signed off", "password": PASSWORD}),
    ),
    Row("GET", "/api/cases", ALL, 200),
    Row("POST", "/api/cases", CASE_WRITERS, 201, request=_json(lambda role: case_json(f"API-{role}"))),
    Row("GET", "/api/cases/due", ALL, 200),
    Row("POST", "/api/cases/import", CASE_WRITERS, 201, request=_e2b),
    Row("POST", "/api/cases/export", CASE_WRITERS, 200, request=_json(lambda role: {"cases": ["RP0000001"]})),
    Row("GET", "/api/cases/{ref}", ALL, 200, "/api/cases/RP0000001"),
    Row("GET", "/api/cases/{ref}/versions", ALL, 200, "/api/cases/RP0000001/versions"),
    Row(
        "POST",
        "/api/cases/{ref}/follow-ups",
        CASE_WRITERS,
        201,
        "/api/cases/RP0000001/follow-ups",
        _json(lambda role: follow_up_json("SEED-1")),
    ),
    Row("GET", "/api/cases/{ref}/history", HISTORY, 200, "/api/cases/RP0000001/history"),
    Row("GET", "/api/submissions", SUBMISSION_READERS, 200),
    Row("GET", "/api/submissions/compliance", SUBMISSION_READERS, 200),
    Row("GET", "/api/cases/{ref}/assessments", ALL, 200, "/api/cases/RP0000001/assessments"),
    Row(
        "POST",
        "/api/cases/{ref}/assessments",
        frozenset({SP, QPPV}),
        201,
        "/api/cases/RP0000001/assessments",
        _json(lambda role: {"causality": "possible", "comment": "plausible time to onset", "password": PASSWORD}),
    ),
    Row("GET", "/api/cases/{ref}/causality", ALL, 200, "/api/cases/RP0000001/causality"),
    Row(
        "POST",
        "/api/cases/{ref}/causality",
        frozenset({SP, QPPV}),
        201,
        "/api/cases/RP0000001/causality",
        _json(lambda role: {"drug": 1, "reaction": 1, "result": "possible", "password": PASSWORD}),
    ),
    Row(
        "POST",
        "/api/cases/{ref}/links",
        frozenset({SP, QPPV}),
        201,
        "/api/cases/RP0000001/links",
        _json(lambda role: {"other": "RP0000002", "reason": "same patient, same event"}),
    ),
    Row("GET", "/api/signals", SIGNAL_READERS, 200),
    Row("GET", "/api/signals/disproportionality", SIGNAL_READERS, 200),
    Row("GET", "/api/signals/{signal_id}", SIGNAL_READERS, 200, "/api/signals/1"),
    Row(
        "POST",
        "/api/signals/{signal_id}/transitions",
        frozenset({SP, QPPV}),
        201,
        "/api/signals/1/transitions",
        _json(lambda role: {"to": "validated", "reason": "three well-documented cases"}),
    ),
    # closing a signal is the QPPV's alone
    Row(
        "POST",
        "/api/signals/{signal_id}/transitions",
        frozenset({QPPV}),
        201,
        "/api/signals/2/transitions",
        _json(
            lambda role: {"to": "closed", "reason": "labelled already", "outcome": "no action", "password": PASSWORD}
        ),
    ),
    Row("GET", "/api/studies", STUDY_READERS, 200),
    Row(
        "POST",
        "/api/studies/{study_id}/runs",
        frozenset({QPPV, EPI}),
        201,
        f"/api/studies/{STUDY}/runs",
        _json(lambda role: {"cdm": "cdm_small"}),
    ),
    Row("GET", "/api/reports", STUDY_READERS, 200),
    Row("GET", "/api/reports/{run_id}", STUDY_READERS, 200, "/api/reports/1"),
    Row("GET", "/api/reports/{run_id}/{fmt}", STUDY_READERS, 200, "/api/reports/1/html"),
    Row("GET", "/api/audit", frozenset({QPPV, AUD}), 200),
    Row("POST", "/api/auth/logout", ALL, 200),  # last: it ends the session
]

PAGES: list[Row] = [
    Row("GET", "/login", ALL, 303, anon=200, page=True),
    # open, but only with the login form's own double-submit token (test_web_security); a session's is refused
    Row(
        "POST",
        "/login",
        frozenset(),
        403,
        anon=403,
        request=_form(lambda role: {"username": USERS[CP], "password": PASSWORD}),
        page=True,
    ),
    Row("GET", "/", ALL, 303, page=True),
    Row("GET", "/dashboard", ALL, 200, page=True),
    Row("GET", "/plans", ALL, 200, page=True),
    Row("GET", "/plans/{name}", ALL, 200, "/plans/uplizna", page=True),
    Row("GET", "/plans/{name}/diff", ALL, 200, "/plans/uplizna/diff?old=1&new=2", page=True),
    Row(
        "POST",
        "/plans/{name}/versions/{version}/approve",
        frozenset({QPPV}),
        303,
        "/plans/uplizna/versions/2/approve",
        _form(lambda role: {"reason": "v2", "password": PASSWORD}),
        page=True,
    ),
    Row("GET", "/cases", ALL, 200, page=True),
    Row("GET", "/cases/new", CASE_WRITERS, 303, page=True),  # retired: to /intake/new
    Row("GET", "/intake/new", CASE_WRITERS, 200, page=True),
    Row("POST", "/intake/new", CASE_WRITERS, 303, request=_form(_draft_form), page=True),
    Row("GET", "/intake/drafts", CASE_WRITERS, 200, page=True),
    Row("GET", "/intake/drafts/{ref}", CASE_WRITERS, 200, "/intake/drafts/D0000001", page=True),
    Row(
        "POST",
        "/intake/drafts/{ref}",
        CASE_WRITERS,
        303,
        "/intake/drafts/D0000001",
        _form(lambda role: {**_draft_form(role), "narrative": "more"}),
        page=True,
    ),
    Row("POST", "/intake/drafts/{ref}/discard", CASE_WRITERS, 303, "/intake/drafts/D0000001/discard", page=True),
    Row("GET", "/cases/import", CASE_WRITERS, 200, page=True),
    Row(
        "POST",
        "/cases/import",
        CASE_WRITERS,
        201,
        request=lambda role: {"files": {"file": ("p.xml", e2b_batch([exportable_icsr(f"PIMP-{role}")]))}},
        page=True,
    ),
    Row("POST", "/cases/export", CASE_WRITERS, 200, request=_form(lambda role: {"case": "RP0000001"}), page=True),
    Row("GET", "/cases/{ref}", ALL, 200, "/cases/RP0000001", page=True),
    Row("GET", "/cases/{ref}/follow-up", CASE_WRITERS, 200, "/cases/RP0000001/follow-up", page=True),
    Row(
        "POST",
        "/cases/{ref}/follow-up",
        CASE_WRITERS,
        303,
        "/cases/RP0000001/follow-up",
        _form(lambda role: {"most_recent_info": "2026-11-12", "narrative": f"update by {role}", "outcomes": "1"}),
        page=True,
    ),
    Row(
        "POST",
        "/cases/{ref}/assessments",
        frozenset({SP, QPPV}),
        303,
        "/cases/RP0000001/assessments",
        _form(lambda role: {"causality": "probable", "password": PASSWORD}),
        page=True,
    ),
    Row(
        "POST",
        "/cases/{ref}/links",
        frozenset({SP, QPPV}),
        303,
        "/cases/RP0000001/links",
        _form(lambda role: {"other": "RP0000003", "reason": "same patient"}),
        page=True,
    ),
    Row("GET", "/coding", CASE_WRITERS, 200, page=True),
    Row(
        "POST",
        "/coding",
        CASE_WRITERS,
        303,
        request=_form(lambda role: {"case": "RP0000001", "reaction": "1", "level": "pt", "term": "Pneumonia"}),
        page=True,
    ),
    Row("GET", "/submissions", SUBMISSION_READERS, 200, page=True),
    Row("GET", "/submissions.csv", SUBMISSION_READERS, 200, page=True),
    Row("GET", "/submissions/compliance", SUBMISSION_READERS, 200, page=True),
    Row("GET", "/signals", SIGNAL_READERS, 200, page=True),
    Row(
        "POST",
        "/signals/{signal_id}/transitions",
        frozenset({SP, QPPV}),
        303,
        "/signals/1/transitions",
        _form(lambda role: {"to": "prioritised", "reason": "impact weighed"}),
        page=True,
    ),
    Row("GET", "/studies", STUDY_READERS, 200, page=True),
    Row(
        "POST",
        "/studies/{study_id}/runs",
        frozenset({QPPV, EPI}),
        303,
        f"/studies/{STUDY}/runs",
        _form(lambda role: {"cdm": "cdm_small"}),
        page=True,
    ),
    Row("GET", "/reports", STUDY_READERS, 303, page=True),
    Row("GET", "/reports/{run_id}/{fmt}", STUDY_READERS, 200, "/reports/1/json", page=True),
    Row("GET", "/audit", frozenset({QPPV, AUD}), 200, page=True),
    Row("POST", "/logout", ALL, 303, page=True),  # last
]


def _call(client: TestClient, row: Row, role: str, headers: dict[str, str], csrf: str | None) -> int:
    kwargs = dict(row.request(role))
    if csrf is not None and row.method == "POST" and row.page:
        if "data" in kwargs:
            kwargs["data"] = {**kwargs["data"], "csrf_token": csrf}
        else:
            kwargs["data"] = {"csrf_token": csrf}
    response = client.request(row.method, row.target, headers=headers, **kwargs)
    return response.status_code


# Who may do what is decided in the app, not the database: every role on SQLite; on PostgreSQL the QPPV, who may
# use the most endpoints (each of them run to its answer there), and a caller without a login.
ROLE_RUNS = [*((r, "sqlite") for r in [*ROLES, ANON]), (QPPV, "postgresql"), (ANON, "postgresql")]


@pytest.mark.parametrize(("role", "database_url"), ROLE_RUNS, indirect=["database_url"])
def test_every_endpoint_for_every_role(role: str, database_url: str, tmp_path: Path) -> None:
    needs_e2b_schema()
    w = make_app(database_url, tmp_path)
    try:
        seed(w)
        api = w.client()
        headers = api_token(api, role) if role != ANON else {}
        got = [(r.method, r.target, _call(api, r, role, headers, None)) for r in API]
        pages = w.client()
        csrf = page_session(pages, role) if role != ANON else None
        got += [(r.method, r.target, _call(pages, r, role, {}, csrf)) for r in PAGES]
        expected = [(r.method, r.target, r.expected(role)) for r in API + PAGES]
        assert [g for g, e in zip(got, expected, strict=True) if g != e] == []
    finally:
        w.engine.dispose()


def test_the_table_covers_every_route(tmp_path: Path) -> None:
    w = make_app(f"sqlite:///{tmp_path / 'r.db'}", tmp_path, users=False)
    api_routes = {(method.upper(), path) for path, item in w.app.openapi()["paths"].items() for method in item}
    page_routes = {
        (method, route.path)
        for router in (pages.router, pages_cases.router, pages_intake.router, pages_submissions.router)
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    routes = api_routes | page_routes | {("GET", "/openapi.json")}
    covered = {(r.method, r.route) for r in API + PAGES}
    assert routes - covered == set(), "routes without a row in the role table"
    assert covered - routes == set(), "rows for routes that do not exist"
    w.engine.dispose()
