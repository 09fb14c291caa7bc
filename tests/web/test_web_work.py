"""The work pages as a browser gets them: "My work" queues per role, assignment on the case page, the
dashboard as a summary, the PSUR page, and study runs from the command line on the Studies page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from riskplan.cli import app as cli_app
from riskplan.settings import get_settings
from riskplan.store.db import session_scope
from riskplan.submissions import ManualTransport, apply_ack, destinations_in_force, generate, owed_now, transmit
from riskplan.submissions.gateway_ack import acknowledge
from riskplan.submissions.gateway_rules import ProfileRules
from web_fixtures import (  # noqa: F401  (fixtures)
    CDM_ROOT,
    STUDY,
    USERS,
    WebApp,
    api_token,
    case_json,
    needs_e2b_schema,
    page_session,
    sqlite_web_fixture,
    web_fixture,
)

runner = CliRunner()


def _cases(w: WebApp, *wids: str) -> None:
    c = w.client()
    h = api_token(c, "case_processor")
    for wid in wids:
        assert c.post("/api/cases", json=case_json(wid), headers=h).status_code == 201


def _rows(html: str) -> list[str]:
    return re.findall(r'<a href="/cases/(RP\d{7})">', html)


def test_each_role_sees_its_queues_and_a_case_assigned_to_it(web: WebApp) -> None:
    _cases(web, "W-1", "W-2")
    processor, physician = web.client(), web.client()
    csrf = page_session(processor, "case_processor")
    page_session(physician, "safety_physician")

    work = processor.get("/work").text
    assert 'data-testid="queue-code"' in work and "To code" in work  # a case processor starts with coding
    physician_work = physician.get("/work").text
    assert re.search(r'class="tab current" data-testid="queue-assess"', physician_work)
    assert _rows(physician_work) == ["RP0000001", "RP0000002"]  # valid, not yet assessed
    submit = processor.get("/work", params={"queue": "submit"}).text
    assert {"RP0000001", "RP0000002"} <= set(_rows(submit)) and "eu-serious" in submit

    # assign RP0000002 to the physician on the case page (HTMX answers the fragment)
    form = processor.get("/cases/RP0000002/assignment", headers={"HX-Request": "true"})
    assert form.status_code == 200 and USERS["safety_physician"] in form.text and "<html" not in form.text
    done = processor.post(
        "/cases/RP0000002/assignment",
        data={"csrf_token": csrf, "to": USERS["safety_physician"], "reason": "medical review"},
        headers={"HX-Request": "true"},
    )
    assert done.status_code == 200
    assert f'data-testid="assigned-to">{USERS["safety_physician"]}<' in done.text
    mine = physician.get("/work", params={"queue": "assess", "mine": "true"}).text
    assert _rows(mine) == ["RP0000002"]
    history = processor.get("/cases/RP0000002").text
    assert "medical review" in history and "assigned" in history  # the audit trail on the case page

    # without HTMX: a redirect to the case page with a message
    plain = processor.post("/cases/RP0000001/assignment", data={"csrf_token": csrf, "to": USERS["case_processor"]})
    assert plain.status_code == 303 and plain.headers["location"] == "/cases/RP0000001?done=assigned"
    assert "Case assigned" in processor.get("/cases/RP0000001?done=assigned").text


def test_wrong_assignments_are_refused_next_to_the_field_and_nothing_is_stored(sqlite_web: WebApp) -> None:
    _cases(sqlite_web, "W-1")
    c = sqlite_web.client()
    csrf = page_session(c, "case_processor")
    unknown = c.post("/cases/RP0000001/assignment", data={"csrf_token": csrf, "to": "mallory"})
    assert unknown.status_code == 422
    assert 'class="field-error"' in unknown.text and "&#39;mallory&#39; is no user of the application" in unknown.text
    htmx = c.post(
        "/cases/RP0000001/assignment", data={"csrf_token": csrf, "to": "mallory"}, headers={"HX-Request": "true"}
    )
    assert htmx.status_code == 200 and 'aria-invalid="true"' in htmx.text  # HTMX swaps 2xx only
    assert 'data-testid="assigned-to">nobody<' in c.get("/cases/RP0000001/assignment").text
    assert c.post("/cases/RP0000099/assignment", data={"csrf_token": csrf, "to": ""}).status_code == 404
    assert c.post("/cases/RP0000001/assignment", data={"to": USERS["qppv"]}).status_code == 403  # no CSRF token
    auditor = sqlite_web.client()
    auditor_csrf = page_session(auditor, "auditor")
    refused = auditor.post("/cases/RP0000001/assignment", data={"csrf_token": auditor_csrf, "to": USERS["qppv"]})
    assert refused.status_code == 403
    assert c.get("/work", params={"queue": "later"}).status_code == 422
    assert c.get("/work", params={"page": "0"}).status_code == 422


def test_a_negative_ack_puts_the_report_in_the_returned_queue_with_the_authoritys_text(sqlite_web: WebApp) -> None:
    needs_e2b_schema()
    _cases(sqlite_web, "R-1")
    w = sqlite_web
    now = w.ctx.now()
    with session_scope(w.engine) as session:
        target = destinations_in_force(session)["EU"]
        made = generate(session, target, owed_now(session, [target]), sender_id="RISKPLAN", who="cp1", now=now)
        assert made is not None and made.batch_id
    with session_scope(w.engine) as session:
        sent = transmit(session, made.batch_id, target.destination, ManualTransport(w.tmp / "out"), who="cp1", now=now)
    assert sent.location is not None
    # a gateway with other business rules refuses the batch (ACK.A.4 AR)
    ack = acknowledge(Path(sent.location).read_bytes(), gateway_id="LOCAL", received=now, rules=ProfileRules("fda"))
    with session_scope(w.engine) as session:
        apply_ack(session, ack.xml, "ack.xml", who="cp1")
    c = w.client()
    page_session(c, "case_processor")
    returned = c.get("/work", params={"queue": "returned"}).text
    assert _rows(returned) == ["RP0000001"]
    assert re.search(r'<td class="text bad">batch rejected: R0004: [^<]*N\.1\.4</td>', returned)
    submit = c.get("/work", params={"queue": "submit"}).text
    assert "RP0000001" in submit and "eu-serious" not in submit  # still owed to EU, but in "returned"
    # settings are read once per process: forget those an earlier test of this worker left behind
    get_settings.cache_clear()
    queue = runner.invoke(
        cli_app,
        ["case", "queue", "--queue", "returned", "--format", "json"],
        env={"RISKPLAN_DATABASE_URL": str(w.engine.url)},
    )
    get_settings.cache_clear()
    assert queue.exit_code == 0, queue.output
    assert '"case": "RP0000001"' in queue.output and "batch rejected: R0004" in queue.output


def test_the_dashboard_is_a_summary_with_links(sqlite_web: WebApp) -> None:
    _cases(sqlite_web, *(f"D-{i}" for i in range(1, 13)))
    c = sqlite_web.client()
    page_session(c, "qppv")
    board = c.get("/dashboard").text
    assert "RP0000001" not in board  # no list of cases
    assert re.search(r'data-testid="cases-all"><span class="n">12<', board)
    assert re.search(r'data-testid="queue-assess"><span class="n">12<', board)
    assert 'href="/cases?plan=uplizna&amp;state=invalid"' in board and 'href="/work?queue=submit"' in board
    first = c.get("/cases", params={"plan": "uplizna", "serious": "true"}).text
    assert len(_rows(first)) == 12 and "1–12 of 12" in first
    assert c.get("/cases", params={"state": "nonsense"}).status_code == 422


@pytest.fixture
def cli_on(sqlite_web: WebApp, monkeypatch: pytest.MonkeyPatch) -> WebApp:
    """The command line on the web app's database and output folder."""
    monkeypatch.setenv("RISKPLAN_DATABASE_URL", str(sqlite_web.engine.url))
    monkeypatch.setenv("RISKPLAN_OUTPUT_DIR", str(sqlite_web.ctx.settings.output_dir))
    monkeypatch.setenv("RISKPLAN_USER", "cli-user")
    get_settings.cache_clear()
    yield sqlite_web
    get_settings.cache_clear()


def test_a_study_run_from_the_command_line_is_on_the_studies_page(cli_on: WebApp) -> None:
    c = cli_on.client()
    page_session(c, "epidemiologist")
    assert "No study has been run yet" in c.get("/studies").text
    bad = runner.invoke(cli_app, ["study", "run", "no-such-study", "--cdm", str(CDM_ROOT / "cdm_small")])
    assert bad.exit_code == 2 and "No study has been run yet" in c.get("/studies").text
    out = cli_on.tmp / "cli-studies"
    done = runner.invoke(
        cli_app, ["study", "run", STUDY, "--cdm", str(CDM_ROOT / "cdm_small"), "--out", str(out), "--no-pdf"]
    )
    assert done.exit_code == 0, done.output
    assert (out / f"{STUDY}.html").is_file() and "stored as study run 1" in done.output
    studies = c.get("/studies").text
    assert "No study has been run yet" not in studies and 'href="/reports/1/html"' in studies and "cli-user" in studies
    report = c.get("/reports/1/html")
    assert report.status_code == 200 and report.content == (out / f"{STUDY}.html").read_bytes()


def test_the_psur_is_produced_viewed_and_downloaded_by_the_roles_allowed(cli_on: WebApp) -> None:
    _cases(cli_on, "P-1", "P-2")
    for role in ("case_processor", "epidemiologist", "auditor"):
        other = cli_on.client()
        page_session(other, role)
        assert other.get("/psur").status_code == 403
    c = cli_on.client()
    csrf = page_session(c, "safety_physician")
    page = c.get("/psur").text
    assert 'data-testid="psur-none"' in page and 'name="start"' in page
    today = cli_on.ctx.today()
    bad = c.post("/psur", data={"csrf_token": csrf, "start": "2026-13-01", "end": "2026-01-01", "plan": "uplizna"})
    assert bad.status_code == 422 and "is not a date" in bad.text and 'aria-invalid="true"' in bad.text
    backwards = c.post(
        "/psur", data={"csrf_token": csrf, "start": "2026-06-01", "end": "2026-01-01", "plan": "uplizna"}
    )
    assert backwards.status_code == 422 and "is before the start" in backwards.text
    no_plan = c.post("/psur", data={"csrf_token": csrf, "start": "2026-01-01", "end": "2026-02-01", "plan": "other"})
    assert no_plan.status_code == 422 and "no plan &#39;other&#39;" in no_plan.text
    assert not (cli_on.ctx.settings.output_dir / "psur").exists()  # nothing written

    start = f"{today.year - 1}-01-01"
    made = c.post("/psur", data={"csrf_token": csrf, "start": start, "end": today.isoformat(), "plan": "uplizna"})
    assert made.status_code == 303 and made.headers["location"] == "/psur?done=psur"
    listing = c.get("/psur?done=psur").text
    stem = f"psur_uplizna_{start}_{today.isoformat()}"
    assert f'href="/psur/{stem}.html"' in listing and "PSUR / PBRER written" in listing
    view = c.get(f"/psur/{stem}.html")
    assert view.status_code == 200 and "sandbox" in view.headers["content-security-policy"]
    assert view.headers["content-disposition"].startswith("inline") and "PBRER" in view.text
    assert (
        c.get(f"/psur/{stem}.html", params={"download": "true"}).headers["content-disposition"].startswith("attachment")
    )
    assert c.get(f"/psur/{stem}.pdf").status_code == 404  # no PDF asked for
    assert c.get("/psur/..%2F..%2Fetc%2Fpasswd.html").status_code == 404
    assert c.get(f"/psur/{stem}.exe").status_code == 404

    # the CLI's report (same folder by default) is listed too
    cli = runner.invoke(cli_app, ["report", "psur", "--from", "2025-01-01", "--to", "2025-12-31", "--no-pdf"])
    assert cli.exit_code == 0, cli.output
    assert 'href="/psur/psur_uplizna_2025-01-01_2025-12-31.html"' in c.get("/psur").text
