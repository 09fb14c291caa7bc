"""The submission and compliance pages in a real browser (Chromium): they render, nothing overflows the
page at 1280 px and at 800 px, even with long batch numbers and the authority's error text."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_submission_front import _send_and_acknowledge
from test_web_e2e import ARGS, ARTIFACTS, CHROMIUM

from web_fixtures import PASSWORD, USERS, api_token, case_json, live_server, make_app, needs_e2b_schema

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
                page.get_by_role("link", name="Compliance", exact=True).first.click()
                expect(page.get_by_test_id("compliance-months")).to_contain_text("EU")
                page.screenshot(path=str(ARTIFACTS / f"compliance-{width}.png"), full_page=True)
                assert page.evaluate(OVERFLOW) <= 0, f"/submissions/compliance overflows at {width} px"
        finally:
            browser.close()
    w.engine.dispose()
