"""Every main page in a real browser (headless Chromium, Playwright) at 1280 and 1920 pixels, on a
database with a few hundred cases, signals, a study run and a PSUR: no element is wider than its
container, the dashboard fits in about two screens, and a case is assigned on its page (HTMX).

Screenshots go to ``test-artifacts/web-layout/``. Skipped where ``/usr/bin/chromium`` is absent.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from test_web_e2e import ARGS, CHROMIUM

from riskplan.cases.intake import batches, intake, intake_context
from riskplan.cases.synth import synthesise_cases
from riskplan.reports.psur import write_psur
from riskplan.store.db import session_scope
from web_fixtures import PASSWORD, USERS, WebApp, live_server, make_app, overflowing, page_height, seed

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web-layout"
SCREEN = 900
SYNTHETIC_CASES = 200

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent: install Chromium (apt-get install chromium) to run"
    ),
]

PAGES = {
    "dashboard": "/dashboard",
    "cases": "/cases",
    "case": "/cases/RP0000001",
    "my-work": "/work",
    "my-work-submit": "/work?queue=submit",
    "coding": "/coding",
    "submissions": "/submissions",
    "compliance": "/submissions/compliance",
    "signals": "/signals",
    "studies": "/studies",
    "psur": "/psur",
    "reports": "/periodic-reports",
    "plan": "/plans/uplizna",
}

#: Pages that load part of themselves after the page (hx-trigger="load"): waited for until the network is idle
#: (half a second at least, so not for the others, which goto has loaded whole).
LOADS_MORE = {"case"}

#: The header's height, its height on one line (its tallest item, its padding and border), and how many
#: lines its items take (distinct tops of the brand, the links and the user's box).
HEADER_JS = """
() => {
  const h = document.querySelector('header.top');
  const s = getComputedStyle(h);
  const items = [...h.querySelectorAll(':scope > .brand, :scope > nav a, :scope > .who')];
  const tallest = Math.max(...items.map((e) => e.getBoundingClientRect().height));
  const oneLine = tallest + parseFloat(s.paddingTop) + parseFloat(s.paddingBottom)
    + parseFloat(s.borderTopWidth) + parseFloat(s.borderBottomWidth);
  const centre = (e) => { const r = e.getBoundingClientRect(); return Math.round((r.top + r.bottom) / 2); };
  const centres = new Set(items.map(centre));
  return {height: h.getBoundingClientRect().height, oneLine: oneLine, lines: centres.size};
}
"""


def header_on_one_line(page: object) -> tuple[float, float, int]:
    """(height, one-line height, lines) of the page's header: on one line the first two are equal."""
    found = page.evaluate(HEADER_JS)  # type: ignore[attr-defined]
    return round(found["height"], 1), round(found["oneLine"], 1), int(found["lines"])


def _populated(tmp_path: Path) -> WebApp:
    w = make_app(f"sqlite:///{tmp_path / 'layout.db'}", tmp_path)
    seed(w)  # 3 cases, plan versions 1 and 2, a study run, disproportionality results, 2 signals
    with session_scope(w.engine) as session:
        context = intake_context(session, "uplizna", "seed")
        # the generator's realistic cases, stored beside the seed's as ordinary ones (a database holds
        # either real or synthetic cases)
        for batch in batches(synthesise_cases(SYNTHETIC_CASES, seed=7), 100):
            intake(session, batch, context=context, who="seed")
    today = dt.date.today()
    write_psur(
        w.engine, "uplizna", today.replace(year=today.year - 1), today, w.ctx.settings.output_dir / "psur", pdf=False
    )
    return w


def test_every_main_page_fits_its_width_and_the_dashboard_fits_two_screens(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    w = _populated(tmp_path)
    problems: dict[str, list[str]] = {}
    heights: dict[str, int] = {}
    with live_server(w.app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            # one page, logged in once, resized for each width (each page is loaded anew at each width)
            page = browser.new_page(viewport={"width": 1280, "height": SCREEN})
            page.set_default_timeout(30_000)
            page.goto(f"{base}/login")
            page.get_by_label("User name").fill(USERS["qppv"])
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page).to_have_url(f"{base}/dashboard")
            for width in (1280, 1920):
                page.set_viewport_size({"width": width, "height": SCREEN})
                page.goto(f"{base}/dashboard")
                # the QPPV has the most links: the header stays on one line at 1280 px and wider
                height, one_line, lines = header_on_one_line(page)
                assert (height, lines) == (one_line, 1), f"header at {width}px: {height} px, {lines} lines"
                for name, url in PAGES.items():
                    response = page.goto(base + url)
                    assert response is not None and response.status == 200, (url, response and response.status)
                    if name in LOADS_MORE:
                        page.wait_for_load_state("networkidle")  # the case page loads its assignment form (HTMX)
                    page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
                    if found := overflowing(page):
                        problems[f"{url} at {width}px"] = found
                    heights[f"{name}-{width}"] = page_height(page)
        finally:
            browser.close()
    assert problems == {}
    assert heights["dashboard-1280"] < 2 * SCREEN and heights["dashboard-1920"] < 2 * SCREEN, heights
    assert heights["submissions-1280"] < 3000 and heights["compliance-1280"] < 3000, heights


def test_a_case_is_assigned_on_its_page_and_shows_in_my_work(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    w = make_app(f"sqlite:///{tmp_path / 'assign.db'}", tmp_path)
    seed(w)
    with live_server(w.app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": SCREEN})
            page.set_default_timeout(30_000)
            page.goto(f"{base}/login")
            page.get_by_label("User name").fill(USERS["safety_physician"])
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{base}/dashboard")
            # the safety physician's user box is the longest: the header stays on one line at 1280 px
            height, one_line, lines = header_on_one_line(page)
            assert (height, lines) == (one_line, 1), f"header: {height} px, {lines} lines"
            page.goto(f"{base}/cases/RP0000002")
            expect(page.get_by_test_id("assigned-to")).to_have_text("nobody")
            page.evaluate("window.notReloaded = true")
            box = page.get_by_test_id("assignment")
            box.get_by_label("Assign to").select_option(USERS["safety_physician"])
            box.get_by_label("Why").fill("mine to assess")
            box.get_by_role("button", name="Assign").click()
            expect(page.get_by_test_id("assigned-to")).to_have_text(USERS["safety_physician"])
            assert page.evaluate("window.notReloaded === true")  # swapped in place (HTMX)
            page.screenshot(path=str(ARTIFACTS / "assigned.png"))

            page.get_by_role("link", name="My work").click()
            page.get_by_test_id("mine").click()
            expect(page).to_have_url(re.compile(r"/work\?queue=assess&mine=true$"))
            rows = page.get_by_test_id("work-queue").locator("tbody tr")
            expect(rows).to_have_count(1)
            expect(rows.first).to_contain_text("RP0000002")
            assert overflowing(page) == []
            page.screenshot(path=str(ARTIFACTS / "my-work-mine.png"), full_page=True)
        finally:
            browser.close()
