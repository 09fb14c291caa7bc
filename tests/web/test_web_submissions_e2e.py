"""The submission and compliance pages in a real browser (Chromium): they render, nothing overflows the
page at 1280 px and at 800 px, even with long batch numbers and the authority's error text; with many
submissions and late reports both stay short (paged, as the case list) and their Next links work."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from test_web_e2e import ARGS, ARTIFACTS, CHROMIUM

from case_factory import make_icsr
from riskplan.cases.intake import intake, intake_context
from riskplan.store.db import session_scope
from riskplan.submissions import ManualTransport, apply_ack, destinations_in_force, generate, owed_now, transmit
from riskplan.submissions.gateway_ack import acknowledge
from riskplan.submissions.tables import SubmissionRow
from web_fixtures import (
    PASSWORD,
    USERS,
    api_token,
    case_json,
    live_server,
    make_app,
    needs_e2b_schema,
    page_height,
    page_session,
)


def _send_and_acknowledge(w: object, destination: str) -> None:
    """Send what is owed to ``destination`` by the manual channel and import the gateway's ACK for it
    (as tests/submissions/test_submission_front does)."""
    engine, tmp, now = w.engine, w.tmp, w.ctx.now()  # type: ignore[attr-defined]
    with session_scope(engine) as session:
        target = destinations_in_force(session)[destination]
        made = generate(
            session,
            target,
            owed_now(session, [target]),
            sender_id="RISKPLAN",
            who="cp1",
            now=now,
            late_reason="backlog",
        )
        assert made is not None and made.batch_id, made
    with session_scope(engine) as session:
        sent = transmit(session, made.batch_id, target.destination, ManualTransport(tmp / "out"), who="cp1", now=now)
    assert sent.location is not None
    ack = acknowledge(Path(sent.location).read_bytes(), gateway_id="LOCAL-GATEWAY", received=now)
    with session_scope(engine) as session:
        apply_ack(session, ack.xml, "ack.xml", who="cp1")


MANY = 60  # attempts per sent report: 3 × 60 = 180 submissions


def _many_submissions_and_late_reports(w: object) -> int:
    """More submissions (each sent report again and again) and 40 cases whose reports are overdue, so
    that the submission list and the compliance page's late list run over several pages."""
    engine = w.engine  # type: ignore[attr-defined]
    with session_scope(engine) as session:
        columns = [c.key for c in SubmissionRow.__table__.columns if c.key != "id"]
        for row in list(session.scalars(select(SubmissionRow))):
            for attempt in range(2, MANY + 1):
                copy = {c: getattr(row, c) for c in columns}
                session.add(SubmissionRow(**{**copy, "attempt": attempt, "message_id": f"{row.message_id}-{attempt}"}))
    icsrs = [make_icsr(f"GB-LATE-2026-{n:06d}", received="20261102") for n in range(1, 41)]
    with session_scope(engine) as session:
        intake(session, icsrs, context=intake_context(session, "uplizna", "seed"), who="seed")
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count()).select_from(SubmissionRow)) or 0)


pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent")

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_submission_pages_render_without_overflow(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    needs_e2b_schema()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    w = make_app(f"sqlite:///{tmp_path / 'e2e.db'}", tmp_path)
    c = w.client()
    h = api_token(c, "qppv")
    for n in range(1, 4):
        assert c.post("/api/cases", json=case_json(f"GB-SUBMISSION-E2E-2026-00000{n}"), headers=h).status_code == 201
    _send_and_acknowledge(w, "EU")
    total = _many_submissions_and_late_reports(w)
    assert total == 3 * MANY
    page_session(c, "qppv")
    exported = c.get("/submissions.csv", params={"destination": "EU", "sort": "oldest"})
    lines = exported.text.splitlines()
    assert exported.headers["content-type"].startswith("text/csv") and len(lines) == 1 + total  # all, not a page
    assert lines[1].startswith("RP0000001,GB-SUBMISSION-E2E-2026-000001,1,EU,1,")  # identifiers whole
    with live_server(w.app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            for width in (1280, 800):
                page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
                page.goto(f"{base}/login")
                page.get_by_label("User name").fill(USERS["qppv"])
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Log in").click()
                expect(page).to_have_url(f"{base}/dashboard")
                assert page.evaluate(OVERFLOW) <= 0, f"dashboard overflows at {width} px"
                page.get_by_role("link", name="Submissions", exact=True).click()
                expect(page.get_by_test_id("submissions")).to_contain_text("accepted")
                expect(page.get_by_test_id("submissions")).to_contain_text("Report Loaded Successfully")
                page.screenshot(path=str(ARTIFACTS / f"submissions-{width}.png"), full_page=True)
                assert page.evaluate(OVERFLOW) <= 0, f"/submissions overflows at {width} px"
                expect(page.get_by_test_id("pager")).to_contain_text(f"1–50 of {total}")
                if width == 1280:  # 28,400 px on the demo database before the list was paged
                    assert page_height(page) < 3000, page_height(page)
                    page.get_by_test_id("pager-next").click()
                    expect(page.get_by_test_id("pager")).to_contain_text(f"51–100 of {total}")
                    expect(page.get_by_test_id("submissions").locator("tbody tr")).to_have_count(50)
                    page.get_by_label("Sort").select_option("oldest")
                    page.get_by_label("Case").fill("RP0000002")
                    page.get_by_role("button", name="Show").click()
                    expect(page.get_by_test_id("pager")).to_contain_text(f"1–50 of {MANY}")
                    first_case = page.get_by_test_id("submissions").locator("tbody tr td:first-child")
                    assert set(first_case.all_inner_texts()) == {"RP0000002"}
                page.get_by_role("link", name="Compliance", exact=True).first.click()
                expect(page.get_by_test_id("compliance-months")).to_contain_text("EU")
                page.screenshot(path=str(ARTIFACTS / f"compliance-{width}.png"), full_page=True)
                assert page.evaluate(OVERFLOW) <= 0, f"/submissions/compliance overflows at {width} px"
                if width == 1280:  # 12,000 px on the demo database before
                    late = page.get_by_test_id("late-count").inner_text()
                    assert int(late.split()[0]) > 25, late
                    assert page_height(page) < 3000, page_height(page)
                    page.get_by_test_id("late-pager-next").click()
                    expect(page.get_by_test_id("late-pager")).to_contain_text("26–50 of")
                    assert page_height(page) < 3000
        finally:
            browser.close()
    w.engine.dispose()
