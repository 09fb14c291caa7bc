"""End to end in a real browser: headless Chromium driven by Playwright against the app served by
uvicorn in a thread (temporary SQLite database).

A case processor logs in, enters a case with a required field missing and sees the message next to
the field, corrects it, sees the case counted under its safety concern on the dashboard, and exports
it as E2B(R3). Screenshots go to ``test-artifacts/web-e2e/``. Skipped, with the reason, where
``/usr/bin/chromium`` is absent (Debian: ``apt-get install chromium``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from riskplan.cases.e2b import import_e2b
from web_fixtures import PASSWORD, USERS, live_server, make_app, needs_e2b_schema

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web-e2e"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent: install Chromium (apt-get install chromium) to run"
)


def test_case_processor_enters_a_case_sees_it_counted_and_exports_it(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    needs_e2b_schema()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    w = make_app(f"sqlite:///{tmp_path / 'e2e.db'}", tmp_path)
    console_errors: list[str] = []
    with live_server(w.app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)

            # 1. log in (the dashboard sends us to the login page first)
            page.goto(f"{base}/dashboard")
            expect(page).to_have_url(re.compile(r"/login\?next=/dashboard$"))
            page.screenshot(path=str(ARTIFACTS / "01-login.png"))
            page.get_by_label("User name").fill(USERS["case_processor"])
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page).to_have_url(f"{base}/dashboard")
            expect(page.get_by_test_id("count-serious-infections")).to_have_text("0")
            page.screenshot(path=str(ARTIFACTS / "02-dashboard-empty.png"), full_page=True)

            # 2. a case without the reaction: the message appears next to that field (HTMX swap); the old
            # one-reaction form's address leads to the intake of complete cases (test_web_intake_e2e)
            page.goto(f"{base}/cases/new")
            expect(page).to_have_url(f"{base}/intake/new")

            def field(name: str) -> Any:
                return page.locator(f'[name="{name}"]')

            field("worldwide_case_id").fill("GB-E2E-2026-000001")
            field("first_received").fill("2026-11-10")
            field("primary_sources.0.qualification").select_option(label="Physician")
            field("primary_sources.0.country").fill("GB")
            field("patient.name").fill("JD")
            field("patient.age.value").fill("70")
            field("patient.sex").select_option(label="Female")
            page.locator('[name="reactions.0.seriousness"][value="hospitalisation"]').check()
            field("reactions.0.outcome").select_option(label="recovering/resolving")
            field("narrative").fill("Admitted with pneumonia three weeks after the second infusion.")
            page.evaluate("window.notReloaded = true")
            page.get_by_role("button", name="Check and store case").click()
            expect(page.locator('[data-error-for="reactions"]')).to_be_visible()
            expect(page).to_have_url(f"{base}/intake/new")  # nothing stored
            assert page.evaluate("window.notReloaded === true"), "HTMX should swap the form in place"
            expect(field("worldwide_case_id")).to_have_value("GB-E2E-2026-000001")
            page.screenshot(path=str(ARTIFACTS / "03-missing-field.png"), full_page=True, caret="initial")

            # 3. corrected: saved, and HTMX follows to the case
            field("reactions.0.verbatim_term").fill("pneumonia")
            page.get_by_role("button", name="Check and store case").click()
            expect(page).to_have_url(re.compile(r"/cases/RP0000001\?done=created$"))
            expect(page.get_by_test_id("case-title")).to_have_text("RP0000001 · GB-E2E-2026-000001")
            expect(page.get_by_test_id("case-concerns")).to_contain_text("serious-infections")
            expect(page.get_by_test_id("audit-trail")).to_contain_text("created")
            page.screenshot(path=str(ARTIFACTS / "04-case.png"), full_page=True)

            # 4. counted under its safety concern on the dashboard
            page.get_by_role("link", name="Dashboard").first.click()
            expect(page.get_by_test_id("count-serious-infections")).to_have_text("1")
            expect(page.locator('tr[data-concern="serious-infections"]')).to_contain_text("Serious Infections")
            page.screenshot(path=str(ARTIFACTS / "05-dashboard-counted.png"), full_page=True)

            # 5. exported as E2B(R3)
            page.goto(f"{base}/cases/RP0000001")
            with page.expect_download() as download_info:
                page.get_by_test_id("export-e2b").click()
            download = download_info.value
            assert re.fullmatch(r"RP-\d+-[0-9A-F]{6}\.xml", download.suggested_filename)
            saved = ARTIFACTS / "exported.xml"
            download.save_as(str(saved))
            exported = import_e2b(saved.read_bytes())
            assert [i.worldwide_case_id for i in exported.icsrs] == ["GB-E2E-2026-000001"]
            page.reload()
            expect(page.get_by_test_id("audit-trail")).to_contain_text("exported as E2B(R3)")
            page.screenshot(path=str(ARTIFACTS / "06-exported.png"), full_page=True)
        finally:
            browser.close()
    w.engine.dispose()
    assert [e for e in console_errors if "Content Security Policy" in e or "Refused" in e] == []
