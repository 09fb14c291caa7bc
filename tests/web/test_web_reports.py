"""The Reports page: stored periodic reports (PSUR, DSUR, PADER), their schedule, producing and downloading them,
for the roles allowed; the dashboard's next due report."""

from __future__ import annotations

import hashlib

from riskplan.reports import list_reports
from riskplan.store.db import session_scope
from web_fixtures import WebApp, page_session, sqlite_web_fixture  # noqa: F401  (fixtures)


def test_reports_are_produced_stored_and_downloaded_by_the_roles_allowed(sqlite_web: WebApp) -> None:
    w = sqlite_web
    for role in ("case_processor", "epidemiologist", "auditor"):
        other = w.client()
        page_session(other, role)
        assert other.get("/periodic-reports").status_code == 403
    c = w.client()
    csrf = page_session(c, "safety_physician")
    page = c.get("/periodic-reports").text
    assert 'data-testid="report-none"' in page and 'data-testid="report-schedule"' in page
    assert "2020-06-11 – 2020-09-10" in page  # the first US quarter from the plan's US approval

    bad = c.post(
        "/periodic-reports",
        data={"csrf_token": csrf, "kind": "dsur", "start": "2025-06-01", "end": "2025-01-01", "plan": "uplizna"},
    )
    assert bad.status_code == 422 and "is before the start" in bad.text
    unknown = c.post(
        "/periodic-reports",
        data={"csrf_token": csrf, "kind": "ibd", "start": "2025-01-01", "end": "2025-06-30", "plan": "uplizna"},
    )
    assert unknown.status_code == 422 and "choose one of psur, dsur, pader" in unknown.text
    with session_scope(w.engine) as session:
        assert list_reports(session) == []  # nothing stored

    made = c.post(
        "/periodic-reports",
        data={
            "csrf_token": csrf,
            "kind": "pader",
            "start": "2025-01-01",
            "end": "2025-06-30",
            "plan": "uplizna",
            "pdf": "true",
        },
    )
    assert made.status_code == 303, made.text
    with session_scope(w.engine) as session:
        (stored,) = list_reports(session)
    assert stored.kind == "pader" and stored.generated_by == "safety-physician-1"
    listing = c.get("/periodic-reports?done=report").text
    assert f'href="/periodic-reports/{stored.id}.pdf"' in listing and "Report produced and stored" in listing
    html = c.get(f"/periodic-reports/{stored.id}.html")
    assert html.status_code == 200 and "sandbox" in html.headers["content-security-policy"]
    assert hashlib.sha256(html.content).hexdigest() == stored.html_sha256
    pdf = c.get(f"/periodic-reports/{stored.id}.pdf")
    assert pdf.headers["content-disposition"].startswith("attachment")
    assert hashlib.sha256(pdf.content).hexdigest() == stored.pdf_sha256
    assert c.get("/periodic-reports/999.html").status_code == 404
    assert c.get(f"/periodic-reports/{stored.id}.exe").status_code == 404
    assert c.get("/psur").status_code == 200  # the PSUR page stays

    dashboard = c.get("/dashboard").text
    assert 'data-testid="next-report"' in dashboard and "due" in dashboard
