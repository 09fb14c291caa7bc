"""The web case page (the same case view as `riskplan case show`) and the coding queue of case processors."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

from case_factory import make_icsr
from riskplan.cases.codes import Outcome
from riskplan.cases.intake import intake, intake_context
from riskplan.cases.model import Reaction
from riskplan.store.db import session_scope
from web_fixtures import (  # noqa: F401  (fixtures)
    PASSWORD,
    USERS,
    WebApp,
    live_server,
    make_app,
    page_session,
    sqlite_web_fixture,
    web_fixture,
)

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web-case-view"


def _store_uncoded(w: WebApp) -> None:
    icsr = make_icsr(
        "GB-RPDEMO-2026-000060",
        reactions=(
            Reaction(verbatim_term="pneumonia", hospitalisation=True, outcome=Outcome.RECOVERING),
            Reaction(verbatim_term="nasopharingitis", outcome=Outcome.RECOVERED),
        ),
        narrative="Admitted with pneumonia; a cold the week before.",
    )
    with session_scope(w.engine) as session:
        intake(session, [icsr], context=intake_context(session, "uplizna", "seed"), who="seed")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_case_page_shows_every_section_and_what_submission_needs(web: WebApp) -> None:
    _store_uncoded(web)
    c = web.client()
    page_session(c, "case_processor")
    page = c.get("/cases/RP0000001")
    assert page.status_code == 200, page.text
    for section in ("identification", "patient", "reactions", "drugs", "narrative", "submission"):
        assert f'data-testid="case-{section}"' in page.text, section
    text = _text(page.text)
    assert "Age (D.2.2) 67 years" in text and "Sex (D.5) Female" in text
    assert "nasopharingitis" in text and "not coded" in text
    assert "Nasopharyngitis (93)" in text
    assert "300 mg" in text and "UPLIZNA" in text and "Imurel" in text
    assert "Admitted with pneumonia; a cold the week before." in text
    missing = re.search(r'data-testid="submission-missing">(.*?)</ul>', page.text, re.S)
    assert missing is not None
    for element in ("C.1.2", "C.3.1", "E.i.1.1b"):
        assert f"<strong>{element}</strong>" in missing.group(1), element
    assert 'data-testid="audit-trail"' in page.text  # case processors read the case's audit trail
    epi = web.client()
    page_session(epi, "epidemiologist")
    assert 'data-testid="audit-trail"' not in epi.get("/cases/RP0000001").text
    assert epi.get("/cases/RP0000404").status_code == 404


def test_the_coding_queue_codes_a_reaction_by_hand(web: WebApp) -> None:
    _store_uncoded(web)
    c = web.client()
    csrf = page_session(c, "case_processor")
    queue = c.get("/coding")
    assert queue.status_code == 200
    assert 'id="RP0000001-2"' in queue.text and "nasopharingitis" in queue.text
    assert "Nasopharyngitis (93)" in _text(queue.text)
    base = {"csrf_token": csrf, "case": "RP0000001", "reaction": "2", "level": "pt"}
    bad = c.post("/coding", data={**base, "term": "nasopharingitis"})
    assert bad.status_code == 422
    problem = _text(bad.text)
    assert "RP0000001 reaction 2: 'nasopharingitis' is not a PT in the open term list" in problem
    assert "Closest terms: Nasopharyngitis (93)" in problem
    wrong = c.post("/coding", data={**base, "reaction": "9", "term": "Nasopharyngitis"})
    assert wrong.status_code == 422 and "has no reaction 9" in wrong.text
    done = c.post("/coding", data={**base, "term": "Nasopharyngitis", "reason": "misspelt"})
    assert done.status_code == 303 and done.headers["location"].startswith("/coding?done=coded")
    assert 'data-testid="coding-empty"' in c.get("/coding").text
    page = _text(c.get("/cases/RP0000001").text)
    assert "PT Nasopharyngitis" in page and "coded by hand" in page
    assert "Version 2 of 2" in page
    assert "coded by hand reaction 2 (nasopharingitis) not coded PT Nasopharyngitis" in page
    no_csrf = c.post("/coding", data={**base, "csrf_token": "", "term": "Nasopharyngitis"})
    assert no_csrf.status_code == 403


def test_only_roles_that_enter_cases_may_code(sqlite_web: WebApp) -> None:
    _store_uncoded(sqlite_web)
    c = sqlite_web.client()
    csrf = page_session(c, "epidemiologist")
    assert c.get("/coding").status_code == 403
    r = c.post("/coding", data={"csrf_token": csrf, "case": "RP0000001", "reaction": "2", "term": "Nasopharyngitis"})
    assert r.status_code == 403


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent: install Chromium to run")
def test_case_page_fits_1280_pixels_in_a_browser(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from case_factory import concomitant

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    w = make_app(f"sqlite:///{tmp_path / 'view.db'}", tmp_path)
    long_id = "GB-RPDEMO-2026-000060-" + "X" * 120
    reactions = tuple(
        Reaction(verbatim_term=v, outcome=Outcome.RECOVERED)
        for v in ("nasopharingitis", "pneumonia", "an exceptionally long verbatim " * 8)
    )
    drugs = (*make_icsr().drugs, *(concomitant(f"Concomitant-product-{i:02d}", f"substance-{i:02d}") for i in range(8)))
    with session_scope(w.engine) as session:
        intake(
            session,
            [make_icsr(long_id, reactions=reactions, drugs=drugs)],
            context=intake_context(session, "uplizna", "seed"),
            who="seed",
        )
    with live_server(w.app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"], headless=True)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
            page.goto(f"{base}/login")
            page.get_by_label("User name").fill(USERS["case_processor"])
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            for name, url in (("case", "/cases/RP0000001"), ("coding", "/coding")):
                page.goto(f"{base}{url}")
                width = page.evaluate("document.documentElement.scrollWidth")
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
                assert width <= 1280, f"{url} is {width} px wide"
            assert long_id in page.content()
        finally:
            browser.close()
    w.engine.dispose()
