"""The server-rendered pages as a browser gets them (TestClient; the browser itself in test_web_e2e)."""

from __future__ import annotations

import re

from riskplan.web.config import signal_results_path
from web_fixtures import (  # noqa: F401  (fixtures)
    PASSWORD,
    WebApp,
    api_token,
    case_json,
    e2b_batch,
    exportable_icsr,
    needs_e2b_schema,
    page_session,
    sqlite_web_fixture,
    web_fixture,
    write_disproportionality,
)


def _errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-error-for="(\w+)">([^<]+)<', html))


def _count(html: str, concern: str) -> int:
    match = re.search(rf'data-testid="count-{concern}">(\d+)<', html)
    assert match, concern
    return int(match.group(1))


def test_dashboard_counts_cases_per_safety_concern_and_links_to_the_due_ones(web: WebApp) -> None:
    c = web.client()
    page_session(c, "case_processor")
    empty = c.get("/dashboard")
    assert empty.status_code == 200 and _count(empty.text, "serious-infections") == 0
    assert "No open signal." in empty.text
    h = api_token(c, "case_processor")
    for wid in ("D-1", "D-2"):
        c.post("/api/cases", json=case_json(wid), headers=h)
    board = c.get("/dashboard").text
    assert _count(board, "serious-infections") == 2
    assert _count(board, "safety-in-patients-65-years") == 2
    # the due list is the submissions' obligations: one line per report owed to each destination
    owed = c.get("/api/cases/due", headers=h).json()
    overdue = sum(d["overdue"] for d in owed)
    assert overdue >= 2 and re.search(rf'data-testid="overdue-count"><span class="n">{overdue}</span>', board)
    assert "RP0000001" not in board  # counts only: the lists are one click away, paged
    assert 'href="/work?queue=submit"' in board
    due = c.get("/work", params={"queue": "submit"}).text
    assert "RP0000001" in due and "eu-serious" in due
    overdue_cases = c.get("/cases", params={"plan": "uplizna", "state": "overdue"}).text
    assert "RP0000001" in overdue_cases and "RP0000002" in overdue_cases
    beyond = c.get("/cases", params={"page": 99}).text  # past the end: no endless Next
    assert 'data-testid="next-page"' not in beyond and "No cases." in beyond


def test_the_retired_case_form_sends_to_the_intake_of_complete_cases(sqlite_web: WebApp) -> None:
    """``/cases/new`` (one reaction, one drug) is retired: a bookmark lands on ``/intake/new``."""
    c = sqlite_web.client()
    assert c.get("/cases/new").status_code == 303  # to the login first
    page_session(c, "case_processor")
    r = c.get("/cases/new")
    assert r.status_code == 303 and r.headers["location"] == "/intake/new"
    assert 'id="intake-form"' in c.get("/cases/new", follow_redirects=True).text
    # nothing is entered through it any more
    assert c.post("/cases/new", data={"reaction": "rash"}).status_code in (403, 405)
    epi = sqlite_web.client()
    page_session(epi, "epidemiologist")
    assert epi.get("/cases/new").status_code == 403


def test_case_view_follow_up_and_audit_trail(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    csrf = page_session(c, "case_processor")
    assert c.post("/api/cases", json=case_json("GB-FORM-1"), headers=api_token(c, "case_processor")).status_code == 201
    fu_form = c.get("/cases/RP0000001/follow-up")
    assert fu_form.status_code == 200 and "pneumonia" in fu_form.text
    missing = c.post("/cases/RP0000001/follow-up", data={"csrf_token": csrf, "most_recent_info": ""})
    assert missing.status_code == 422 and _errors(missing.text) == {"most_recent_info": "This field is required."}
    r = c.post(
        "/cases/RP0000001/follow-up",
        data={
            "csrf_token": csrf,
            "most_recent_info": "2026-11-14",
            "outcomes": "1",
            "narrative": "Recovered.",
            "reason": "discharge letter",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/cases/RP0000001?done=follow-up"
    page = c.get("/cases/RP0000001").text
    assert "Version 2 of 2" in page and "discharge letter" in page
    assert 'data-testid="audit-trail"' in page and "reactions.0.outcome" in page
    v1 = c.get("/cases/RP0000001?version=1").text
    assert "Version 1 of 2" in v1
    epi = sqlite_web.client()
    page_session(epi, "epidemiologist")
    seen = epi.get("/cases/RP0000001").text
    assert "Version 2 of 2" in seen and 'data-testid="audit-trail"' not in seen  # no audit trails for this role
    assert "Add follow-up" not in seen and "export-e2b" not in seen


def test_assessment_and_link_from_the_case_page(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    csrf = page_session(c, "safety_physician")
    h = api_token(c, "safety_physician")
    for wid in ("S-1", "S-2"):
        c.post("/api/cases", json=case_json(wid), headers=h)
    r = c.post(
        "/cases/RP0000001/assessments",
        data={"csrf_token": csrf, "causality": "possible", "comment": "TTO", "password": PASSWORD},
    )
    assert r.status_code == 303
    r = c.post("/cases/RP0000001/links", data={"csrf_token": csrf, "other": "RP0000002", "reason": "same patient"})
    assert r.status_code == 303
    page = c.get("/cases/RP0000001").text
    assert "possible" in page and "duplicate" in page


def test_export_from_the_case_page(sqlite_web: WebApp) -> None:
    needs_e2b_schema()
    c = sqlite_web.client()
    csrf = page_session(c, "safety_physician")
    c.post("/api/cases", json=case_json("S-1"), headers=api_token(c, "safety_physician"))
    xml = c.post("/cases/export", data={"csrf_token": csrf, "case": "RP0000001"})
    assert xml.status_code == 200 and xml.headers["content-disposition"].startswith("attachment")
    assert b"<MCCI_IN200100UV01" in xml.content
    refused = c.post("/cases/export", data={"csrf_token": csrf, "case": "RP0009999"})
    assert refused.status_code == 404 and "no case" in refused.text


def test_import_page(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    csrf = page_session(c, "case_processor")
    data = e2b_batch([exportable_icsr("IMP-P-1"), exportable_icsr("IMP-P-2")])
    r = c.post("/cases/import", data={"csrf_token": csrf}, files={"file": ("two.xml", data, "application/xml")})
    assert r.status_code == 201 and "two.xml: 2 case(s) imported" in r.text
    bad = c.post("/cases/import", data={"csrf_token": csrf}, files={"file": ("bad.xml", b"<x/>", "application/xml")})
    assert bad.status_code == 422 and "not an E2B(R3) ICSR batch" in bad.text


def test_signal_board_plans_studies_and_audit_pages(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    csrf = page_session(c, "qppv")
    board = c.get("/signals").text
    assert "riskplan signal detect" in board  # no results file yet
    write_disproportionality(signal_results_path(sqlite_web.ctx.settings, sqlite_web.ctx.web))
    board = c.get("/signals", params={"product": "UPLIZNA", "flagged_only": "true"}).text
    assert 'data-testid="disproportionality"' in board and "Pneumonia" in board and "Headache" not in board
    assert c.post("/signals/1/transitions", data={"csrf_token": csrf, "to": "validated"}).status_code == 404

    c.post("/api/cases", json=case_json("PL-1"), headers=api_token(c, "qppv"))
    plan = c.get("/plans/uplizna").text
    assert "Approve" in plan and "Infusion" in plan
    r = c.post("/plans/uplizna/versions/1/approve", data={"csrf_token": csrf, "reason": "signed", "password": PASSWORD})
    assert r.status_code == 303
    assert "approved by qppv-1" in c.get("/plans/uplizna").text
    assert "No differences" in c.get("/plans/uplizna/diff", params={"old": "1", "new": "1"}).text

    studies = c.get("/studies").text
    assert "Run study" in studies and "No study has been run yet" in studies  # as long as none ran
    r = c.post("/studies/real-world-observational-study/runs", data={"csrf_token": csrf, "cdm": "cdm_small"})
    assert r.status_code == 303
    studies = c.get("/studies?done=run").text
    assert "Study run finished" in studies and 'href="/reports/1/html"' in studies
    report = c.get("/reports/1/html")
    assert report.status_code == 200 and "sandbox" in report.headers["content-security-policy"]
    bad = c.post("/studies/real-world-observational-study/runs", data={"csrf_token": csrf, "cdm": "/etc"})
    assert bad.status_code == 400 and "under the CDM folders" in bad.text

    audit = c.get("/audit", params={"entity_type": "plan"}).text
    assert "version approved" in audit
