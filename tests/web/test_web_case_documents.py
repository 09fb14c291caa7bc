"""The case page's narrative (drafted, edited, audited) and its CIOMS I download, as a case processor uses them."""

from __future__ import annotations

import re

from lxml import html
from pypdf import PdfReader
from sqlalchemy import text

from web_fixtures import (  # noqa: F401  (fixtures)
    WebApp,
    api_token,
    case_json,
    page_session,
    sqlite_web_fixture,
)


def test_narrative_drafted_edited_and_cioms_downloaded_from_the_case_page(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    csrf = page_session(c, "case_processor")
    r = c.post("/api/cases", json=case_json("WEB-NARR-1"), headers=api_token(c, "case_processor"))
    assert r.status_code == 201, r.text
    page = html.fromstring(c.get("/cases/RP0000001").text)
    assert page.xpath('//section[@data-testid="case-narrative-kept"]//p[@class="muted"]')  # nothing drafted yet
    assert c.post("/cases/RP0000001/narrative/draft", data={"csrf_token": csrf}).status_code == 303
    page = html.fromstring(c.get("/cases/RP0000001").text)
    (english,) = page.xpath('//p[@data-testid="narrative-en"]')
    assert "Pneumonia" in english.text_content() and page.xpath('//p[@data-testid="narrative-de"]')

    edit = {"csrf_token": csrf, "language": "en", "text": "Edited on the page.", "reason": "typo"}
    assert c.post("/cases/RP0000001/narrative", data=edit).status_code == 303
    page = html.fromstring(c.get("/cases/RP0000001").text)
    assert page.xpath('//p[@data-testid="narrative-en"]')[0].text_content() == "Edited on the page."
    no_reason = c.post("/cases/RP0000001/narrative", data={**edit, "text": "Again", "reason": ""})
    assert no_reason.status_code in (400, 422)
    with sqlite_web.engine.connect() as conn:
        kinds = [
            k for (k,) in conn.execute(text("SELECT kind FROM case_narrative WHERE language = 'en' ORDER BY revision"))
        ]
        audited = conn.execute(
            text("SELECT count(*) FROM audit_event WHERE action = 'narrative edited' AND reason = 'typo'")
        ).scalar()
    assert kinds == ["drafted", "edited"] and audited == 1
    # the revision history, as `riskplan case narrative --history`: who, when, reason, case version, per revision
    with sqlite_web.engine.connect() as conn:
        stored = conn.execute(
            text("SELECT language, revision, kind, case_version, recorded_by, reason FROM case_narrative "
                 "ORDER BY language, revision")
        ).all()  # fmt: skip
    (history,) = page.xpath('//details[@data-testid="narrative-history"]')
    rows = history.xpath(".//tbody/tr")
    assert len(rows) == len(stored) == 3  # en drafted and edited, de drafted
    for row, (lang, revision, kind, version, who, reason) in zip(rows, stored, strict=True):
        cells = [td.text_content().strip() for td in row.xpath("./td")]
        assert cells[:5] == [lang, str(revision), kind, str(version), who]
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", cells[5]) and cells[6] == (reason or "")
    assert page.xpath('//tr[@data-testid="narrative-revision-en-2"]/td[7]')[0].text_content() == "typo"

    (link,) = page.xpath('//a[@data-testid="cioms-download"]/@href')
    pdf = c.get(link)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "CIOMS-I-RP0000001-v1.pdf" in pdf.headers["content-disposition"]
    (tmp := sqlite_web.tmp / "dl.pdf").write_bytes(pdf.content)
    first = " ".join((PdfReader(str(tmp)).pages[0].extract_text() or "").split())
    assert "WEB-NARR-1" in first and "Edited on the page." in first
    assert c.get("/cases/RP0000001/cioms.pdf?version=9").status_code in (400, 404)
    assert not page.xpath('//a[@data-testid="cioms-blinded"]')  # not a study case
