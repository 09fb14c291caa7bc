"""The complete-case intake in a real browser (headless Chromium driven by Playwright, as test_web_e2e).

A case processor enters a case with three reactions and two suspect drugs through the form (rows added
with HTMX), saves it as a draft before it is complete, finds it under "My drafts", completes it, stores
it, sees the three reactions and two drugs on the case page, and codes the misspelt reaction by hand in
the coding queue. A safety physician then assesses drug-reaction pairs on the case page (WHO-UMC and
Naranjo, each signed) and sees the drug × reaction causality table. The intake, coding and case pages are
checked for overflow (no element wider than its container, no horizontal scrolling) at 1280 and 1920
pixels. Screenshots go to ``test-artifacts/web-intake/``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from web_fixtures import PASSWORD, USERS, live_server, make_app, overflowing

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web-intake"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent: install Chromium (apt-get install chromium) to run"
)

#: Elements of the page's main part that stick out of their parent (or the page wider than the window).
OVERFLOW = """() => {
  const found = [];
  for (const el of document.querySelectorAll('main *')) {
    const parent = el.parentElement;
    const style = getComputedStyle(el);
    if (!parent || style.display === 'none' || style.position === 'absolute' || style.position === 'fixed') continue;
    const r = el.getBoundingClientRect(), p = parent.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.right > p.right + 1 || r.left < p.left - 1) {
      found.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} ${Math.round(r.left)}..${Math.round(r.right)} `
        + `in ${parent.tagName.toLowerCase()} ${Math.round(p.left)}..${Math.round(p.right)}`);
    }
  }
  const page = document.documentElement;
  if (page.scrollWidth > window.innerWidth) found.push(`page ${page.scrollWidth} > window ${window.innerWidth}`);
  return found;
}"""


def _no_overflow(page: Any, name: str) -> None:
    for width in (1280, 1920):
        page.set_viewport_size({"width": width, "height": 1000})
        # caret="initial": Playwright hides the caret with inline styles it leaves on the page, which the
        # next HTMX swap would carry over (and the Content-Security-Policy then refuses)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True, caret="initial")
        assert page.evaluate(OVERFLOW) == [], f"{name} at {width} px"


def _fits(page: Any, name: str) -> None:
    """The page at 1280 and 1920 px: nothing wider than its container (tests/web_fixtures.overflowing)."""
    for width in (1280, 1920):
        page.set_viewport_size({"width": width, "height": 1000})
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True, caret="initial")
        assert overflowing(page) == [], f"{name} at {width} px"
    page.set_viewport_size({"width": 1280, "height": 1000})


def test_a_case_with_three_reactions_and_two_drugs_goes_from_draft_to_case(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    w = make_app(f"sqlite:///{tmp_path / 'intake.db'}", tmp_path)
    console_errors: list[str] = []
    with live_server(w.app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
            page.set_default_timeout(20_000)
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{base}/login?next=/intake/new")
            page.get_by_label("User name").fill(USERS["case_processor"])
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page).to_have_url(f"{base}/intake/new")
            page.evaluate("window.notReloaded = true")
            _no_overflow(page, "01-new")

            def field(name: str) -> Any:
                return page.locator(f'[name="{name}"]')

            field("worldwide_case_id").fill("GB-E2E-INTAKE-000001")
            field("first_received").fill("2026-11-10")
            field("reactions.0.verbatim_term").fill("pneumonia")
            # two more reactions and a second drug: rows added in place (HTMX), what was typed stays
            for n in (1, 2):
                page.get_by_role("button", name="Add reaction").click()
                expect(field(f"reactions.{n}.verbatim_term")).to_be_visible()
            expect(field("reactions.0.verbatim_term")).to_have_value("pneumonia")
            field("reactions.1.verbatim_term").fill("rash")
            field("reactions.2.verbatim_term").fill("nasopharingitis")  # misspelt: coded by hand below
            page.get_by_role("button", name="Add drug").click()
            field("drugs.1.role").select_option("suspect")
            field("drugs.1.name").fill("Prednisolon")
            field("drugs.1.substances.0.name").fill("prednisolone")
            field("drugs.1.dosages.0.route").fill("oral")
            assert page.evaluate("window.notReloaded === true"), "rows should be added without reloading the page"

            # not complete yet (no reporter, no patient): refused with the reasons, then kept as a draft
            page.get_by_role("button", name="Check and store case").click()
            expect(page.locator('[data-error-for="primary_sources"]')).to_contain_text("no identifiable reporter")
            expect(page.locator('[data-error-for="patient"]')).to_contain_text("no identifiable patient")
            expect(field("reactions.2.verbatim_term")).to_have_value("nasopharingitis")
            _no_overflow(page, "02-problems")
            page.get_by_role("button", name="Save as draft").click()
            expect(page).to_have_url(re.compile(r"/intake/drafts/D0000001\?done=draft$"))
            expect(page.get_by_test_id("draft-number")).to_contain_text("D0000001")

            # the draft is not a case: the case list is empty; it is under My drafts
            page.goto(f"{base}/cases")
            expect(page.get_by_test_id("case-list")).to_contain_text("No cases.")
            page.get_by_role("link", name="My drafts").first.click()
            expect(page.get_by_test_id("draft-list")).to_contain_text("pneumonia")
            page.get_by_role("link", name="D0000001").click()
            expect(field("reactions.1.verbatim_term")).to_have_value("rash")

            # completed: reporter, patient, a wrong value first (message next to it), then stored
            field("primary_sources.0.qualification").select_option(label="Physician")
            field("primary_sources.0.country").fill("GB")
            field("patient.name").fill("JD")
            field("patient.age.value").fill("seventy")
            field("patient.sex").select_option(label="Female")
            page.locator('[name="reactions.0.seriousness"][value="hospitalisation"]').check()
            field("reactions.0.outcome").select_option(label="recovering/resolving")
            field("drugs.0.action_taken").select_option(label="Drug withdrawn")
            field("drugs.0.dechallenge").select_option("positive")
            field("narrative").fill("Pneumonia, rash and a cold after the second infusion; infusions stopped.")
            page.get_by_role("button", name="Check and store case").click()
            expect(page.locator('[data-error-for="patient.age.value"]')).to_contain_text("Enter a number")
            expect(field("patient.age.value")).to_have_value("seventy")
            _no_overflow(page, "03-draft-with-message")
            field("patient.age.value").fill("70")
            page.get_by_role("button", name="Check and store case").click()
            expect(page).to_have_url(re.compile(r"/cases/RP0000001\?done=created$"))
            expect(page.get_by_test_id("case-title")).to_have_text("RP0000001 · GB-E2E-INTAKE-000001")
            reactions = page.get_by_test_id("case-reactions")
            expect(reactions.locator("tbody tr")).to_have_count(3)
            for words in ("pneumonia", "rash", "nasopharingitis"):
                expect(reactions).to_contain_text(words)
            drugs = page.get_by_test_id("case-drugs")
            expect(drugs.locator("tbody tr")).to_have_count(2)
            expect(drugs).to_contain_text("Prednisolon")
            expect(drugs).to_contain_text("Dechallenge positive")
            page.screenshot(path=str(ARTIFACTS / "04-case.png"), full_page=True, caret="initial")
            page.goto(f"{base}/intake/drafts")
            expect(page.get_by_test_id("draft-list")).to_contain_text("No open drafts.")

            # coded by hand: the misspelt verbatim waits in the coding queue with its suggestions
            page.goto(f"{base}/coding")
            row = page.locator("#RP0000001-3")
            expect(row).to_contain_text("nasopharingitis")
            expect(row).to_contain_text("Nasopharyngitis")  # a suggestion
            _fits(page, "05-coding")
            row.locator('form.row [name="term"]').fill("Nasopharyngitis")
            row.locator('form.row [name="reason"]').fill("misspelt verbatim")
            row.get_by_role("button", name="Code", exact=True).click()
            expect(page).to_have_url(re.compile(r"/coding\?done=coded"))
            expect(page.locator("#RP0000001-3")).to_have_count(0)

            # a safety physician assesses pairs on the case page, each assessment signed
            physician = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
            physician.set_default_timeout(20_000)
            physician.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            physician.goto(f"{base}/login?next=/cases/RP0000001")
            physician.get_by_label("User name").fill(USERS["safety_physician"])
            physician.get_by_label("Password").fill(PASSWORD)
            physician.get_by_role("button", name="Log in").click()
            expect(physician.get_by_test_id("case-reactions")).to_contain_text("PT Nasopharyngitis")
            who_umc = physician.get_by_test_id("who-umc-form")
            for pair, result in (("1:1", "probable"), ("2:2", "possible")):
                who_umc.locator('[name="pair"]').select_option(pair)
                who_umc.locator('[name="result"]').select_option(result)
                who_umc.locator('[name="password"]').fill(PASSWORD)
                who_umc.get_by_role("button", name="Record and sign assessment").click()
                expect(physician).to_have_url(re.compile(r"/cases/RP0000001\?done=assessed$"))
            physician.get_by_text("Assess by the Naranjo scale").click()
            naranjo = physician.get_by_test_id("naranjo-form")
            naranjo.locator('[name="pair"]').select_option("1:3")
            answers = ["yes", "yes", "dk", "no", "no", "dk", "dk", "dk", "no", "yes"]  # 1+2+0-1+2+0+0+0+0+1 = 5
            for n, answer in enumerate(answers, start=1):
                naranjo.get_by_label(f"answer to question {n}", exact=True).select_option(answer)
            naranjo.locator('[name="password"]').fill(PASSWORD)
            naranjo.get_by_role("button", name="Record and sign Naranjo assessment").click()
            expect(physician).to_have_url(re.compile(r"/cases/RP0000001\?done=assessed$"))
            table = physician.get_by_test_id("case-causality").locator("table tbody tr")
            expect(table).to_have_count(6)  # 2 suspect drugs × 3 reactions
            rows = [[c.strip() for c in r.locator("td").all_inner_texts()] for r in table.all()]
            assert [r[:5] for r in rows] == [
                ["1 UPLIZNA", "1 Pneumonia", "WHO-UMC", "probable", ""],
                ["1 UPLIZNA", "2 Rash", "", "", ""],
                ["1 UPLIZNA", "3 Nasopharyngitis", "Naranjo", "probable", "5"],  # named by its PT once coded
                ["2 Prednisolon", "1 Pneumonia", "", "", ""],
                ["2 Prednisolon", "2 Rash", "WHO-UMC", "possible", ""],
                ["2 Prednisolon", "3 Nasopharyngitis", "", "", ""],
            ], rows
            assert all("not assessed yet" in r[9] for r in rows if not r[2])
            assert all(r[6] == USERS["safety_physician"] and "authorship" in r[8] for r in rows if r[2])
            _fits(physician, "06-case-assessed")
        finally:
            browser.close()
    w.engine.dispose()
    assert [e for e in console_errors if "Content Security Policy" in e or "Refused" in e] == [], console_errors[:3]
