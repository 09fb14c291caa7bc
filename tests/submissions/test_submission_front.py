"""One truth of what is owed and sent, as users see it: `case due` is `submission due`, a manual
`case export` is not a submission, synthetic cases never reach an authority unmarked, the old
icsr_submission records become manual submissions to EU (submissions_0003), the web pages and API
show submissions and compliance, and the PSUR has the compliance appendix."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from test_submissions_cli import _new, _serious_de
from typer.testing import CliRunner

import riskplan.demo
from riskplan.cli import app
from riskplan.store.audit import history
from riskplan.store.db import make_engine, session_scope
from riskplan.store.migrate import alembic_config, upgrade
from riskplan.submissions import (
    ManualTransport,
    apply_ack,
    destinations_in_force,
    due_reports,
    generate,
    list_submissions,
    owed_now,
    transmit,
)
from riskplan.submissions.gateway_ack import acknowledge
from web_fixtures import (  # noqa: F401  (fixtures)
    WebApp,
    api_token,
    case_json,
    needs_e2b_schema,
    page_session,
    sqlite_web_fixture,
    web_fixture,
)

runner = CliRunner()
WIDE = {"COLUMNS": "250"}


def _flat(value: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[│┃┏┓┗┛━─┡┩┼╇┳┻┣┫└┘┌┐├┤┬┴]", " ", value))


def _owed(*args: str) -> list[tuple[str, str]]:
    result = runner.invoke(app, ["case", "due", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return [(d["case"], d["destination"]) for d in json.loads(result.output)]


# -- the command line ----------------------------------------------------------------------------------


def test_a_manual_export_is_not_a_submission_and_a_sent_report_leaves_case_due(cli_env: Path) -> None:
    needs_e2b_schema()
    _new(cli_env, _serious_de())
    assert ("RP0000001", "EU") in _owed()

    nothing = runner.invoke(app, ["case", "export", "--e2b", str(cli_env / "x")])
    assert nothing.exit_code == 2
    assert "give the cases to export with --id" in _flat(nothing.output)
    assert "riskplan submission send" in _flat(nothing.output)

    exported = runner.invoke(app, ["case", "export", "--e2b", str(cli_env / "x"), "--id", "RP0000001"], env=WIDE)
    assert exported.exit_code == 0, exported.output
    assert "not recorded as a submission" in _flat(exported.output)
    assert ("RP0000001", "EU") in _owed()  # old code: the export marked the case submitted, case due dropped it
    history = _flat(runner.invoke(app, ["case", "history", "RP0000001"], env=WIDE).output)
    assert "exported as E2B(R3)" in history and "manual export (not a submission)" in history

    sent = runner.invoke(app, ["submission", "send", "--destination", "EU", "--folder", str(cli_env / "out")])
    assert sent.exit_code == 0, sent.output
    assert ("RP0000001", "EU") not in _owed()  # old code: case due kept listing it (its own clock)
    assert ("RP0000001", "EU") not in _owed("--destination", "EU")
    listed = json.loads(runner.invoke(app, ["submission", "list", "--format", "json"]).output)
    assert [(s["case"], s["destination"], s["state"]) for s in listed] == [("RP0000001", "EU", "sent")]


def test_submission_send_refuses_synthetic_cases_unless_allowed_and_marks_the_batch(cli_env: Path) -> None:
    needs_e2b_schema()
    assert runner.invoke(app, ["synth", "cases", "--count", "3", "--seed", "5"]).exit_code == 0
    owed = due_reports_cli()
    assert owed, "synthetic cases owe reports (listed, so that the demo can show them)"
    refused = runner.invoke(app, ["submission", "send", "--all", "--folder", str(cli_env / "out")], env=WIDE)
    assert refused.exit_code == 2  # refused by a rule: exit 2, as every wrong input
    assert "synthetic case (riskplan synth, the demo): not a real report, never sent" in _flat(refused.output)
    assert not list((cli_env / "out").rglob("*.xml"))  # nothing written
    assert json.loads(runner.invoke(app, ["submission", "list", "--format", "json"]).output) == []

    allowed = runner.invoke(
        app, ["submission", "send", "--destination", "EU", "--allow-synthetic", "--folder", str(cli_env / "out")]
    )
    assert allowed.exit_code == 0, allowed.output
    files = list((cli_env / "out" / "EU").glob("*.xml"))
    assert files and all(f.name.startswith("RP-SYNTHETIC-EU-") for f in files)
    listed = json.loads(runner.invoke(app, ["submission", "list", "--format", "json"]).output)
    assert listed and all(s["batch"].startswith("RP-SYNTHETIC-EU-") for s in listed)


def due_reports_cli() -> list[tuple[str, str]]:
    return _owed()


# -- the migration of the old records ------------------------------------------------------------------


def test_old_export_records_become_manual_submissions_to_eu(database_url: str) -> None:
    """submissions_0003: a version `case export` recorded before is sent to EU, not owed again; the old
    table is kept as it was."""
    engine = make_engine(database_url)
    cfg = alembic_config(engine)
    command.upgrade(cfg, "cases_0003")
    command.upgrade(cfg, "submissions_0001")
    icsr = _serious_de("DE-OLD-1")
    at = dt.datetime(2026, 11, 3, 9, 0, tzinfo=dt.UTC)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO icsr_case (id, worldwide_id, plan_name, latest_version, created_at, created_by, "
                "synthetic) VALUES (1, 'DE-OLD-1', 'uplizna', 1, :at, 'tester', :f)"
            ),
            {"at": at, "f": False},
        )
        conn.execute(
            text(
                "INSERT INTO icsr_case_version (id, case_id, version, icsr_json, sender_report_id, received, "
                "recorded_at, recorded_by, valid, serious, day_zero, due) VALUES (1, 1, 1, :json, :c11, :day, "
                ":at, 'tester', :t, :t, :day, :due)"
            ),
            {
                "json": icsr.model_dump_json(),
                "c11": icsr.sender_report_id,
                "day": dt.date(2026, 11, 1),
                "due": dt.date(2026, 11, 16),
                "at": at,
                "t": True,
            },
        )
        conn.execute(
            text(
                "INSERT INTO icsr_submission (case_version_id, batch_id, file_name, sha256, submitted_at, "
                "submitted_by) VALUES (1, 'RP-20261103090000', 'RP-20261103090000.xml', :sha, :at, 'cp1')"
            ),
            {"sha": "a" * 64, "at": at},
        )
    upgrade(engine)
    with session_scope(engine) as session:
        [s] = list_submissions(session)
        assert (s.destination, s.state, s.batch_id, s.due) == ("EU", "sent", "RP-20261103090000", dt.date(2026, 11, 16))
        assert s.message_id == icsr.sender_report_id  # what the old file carried as N.2.r.1: an ACK still matches
        assert s.report == "initial" and s.kind == "expedited"
        owed = owed_now(session, list(destinations_in_force(session).values()))
        assert ("DE-OLD-1", "EU") not in {(o.worldwide_id, o.destination) for o in owed}  # not reported twice
        assert ("DE-OLD-1", "UK") in {(o.worldwide_id, o.destination) for o in owed}  # never sent there
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM icsr_submission")).scalar() == 1  # history kept
    command.downgrade(cfg, "submissions_0001")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM submission")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM icsr_submission")).scalar() == 1
    engine.dispose()


# -- web -----------------------------------------------------------------------------------------------


def _send_and_acknowledge(w: WebApp, destination: str) -> None:
    """Send what is owed to ``destination`` by the manual channel and import the gateway's ACK for it."""
    now = w.ctx.now()
    with session_scope(w.engine) as session:
        target = destinations_in_force(session)[destination]
        owed = owed_now(session, [target])
        made = generate(session, target, owed, sender_id="RISKPLAN", who="cp1", now=now, late_reason="backlog")
        assert made is not None and made.batch_id, made
    with session_scope(w.engine) as session:
        sent = transmit(session, made.batch_id, target.destination, ManualTransport(w.tmp / "out"), who="cp1", now=now)
    assert sent.location is not None
    ack = acknowledge(Path(sent.location).read_bytes(), gateway_id="LOCAL-GATEWAY", received=now)
    with session_scope(w.engine) as session:
        apply_ack(session, ack.xml, "ack.xml", who="cp1")


def test_submissions_and_compliance_pages_and_api(web: WebApp) -> None:
    needs_e2b_schema()
    c = web.client()
    h = api_token(c, "case_processor")
    for wid in ("CMP-1", "CMP-2"):
        assert c.post("/api/cases", json=case_json(wid), headers=h).status_code == 201
    with session_scope(web.engine) as session:
        before = {(r.case_number, r.obligation.destination) for r in due_reports(session)}
    assert ("RP0000001", "EU") in before
    _send_and_acknowledge(web, "EU")

    api = c.get("/api/submissions", headers=h).json()
    assert {(s["case_number"], s["destination"], s["state"], s["ack"]) for s in api} == {
        ("RP0000001", "EU", "accepted", "CA"),
        ("RP0000002", "EU", "accepted", "CA"),
    }
    assert all(s["ack_text"] == "Report Loaded Successfully" for s in api)
    assert c.get("/api/submissions", params={"state": "nonsense"}, headers=h).status_code == 400
    due = c.get("/api/cases/due", headers=h).json()
    assert ("RP0000001", "EU") not in {(d["case_number"], d["destination"]) for d in due}

    today = web.ctx.today()
    report = c.get(
        "/api/submissions/compliance", params={"from": "2026-01-01", "to": today.isoformat()}, headers=h
    ).json()
    assert report["from"] == "2026-01-01" and report["as_of"] == today.isoformat()
    eu = [m for m in report["months"] if m["destination"] == "EU"]
    assert sum(m["due"] for m in eu) == 2 and sum(m["on_time"] + m["late"] for m in eu) == 2
    late_eu = [x for x in report["late"] if x["destination"] == "EU"]
    assert all(x["reason"] == "backlog" and x["days_late"] > 0 and x["accepted"] for x in late_eu)
    assert c.get("/api/submissions/compliance", params={"from": "2026-13-01"}, headers=h).status_code == 400
    backwards = c.get("/api/submissions/compliance", params={"from": "2026-12-01", "to": "2026-01-01"}, headers=h)
    assert backwards.status_code == 400 and "is before" in backwards.text

    for role in ("qppv", "auditor"):
        viewer = web.client()
        page_session(viewer, role)
        listing = viewer.get("/submissions")
        assert listing.status_code == 200
        assert listing.text.count('data-state="accepted"') == 2 and "Report Loaded Successfully" in listing.text
        assert 'data-testid="state-counts"' in listing.text
        page = viewer.get("/submissions/compliance", params={"from": "2026-01-01"})
        assert page.status_code == 200 and 'data-testid="compliance-months"' in page.text
        assert "backlog" in page.text or "No late report." in page.text
        # one row per destination, a column per month: each month's "on time/due" in its destination's row
        months = c.get("/api/submissions/compliance", params={"from": "2026-01-01"}, headers=h).json()["months"]
        assert months
        for m in months:
            row = re.search(rf'<tr data-destination="{m["destination"]}">(.*?)</tr>', page.text, re.S)
            assert row is not None and f"{m['on_time']}/{m['due']}" in row.group(1), m
    epidemiologist = web.client()
    page_session(epidemiologist, "epidemiologist")
    assert epidemiologist.get("/submissions").status_code == 403


# -- PSUR ----------------------------------------------------------------------------------------------


def test_the_psur_shows_the_compliance_of_its_interval(sqlite_web: WebApp) -> None:
    needs_e2b_schema()
    from riskplan.reports.psur import collect_psur, render_psur_html

    c = sqlite_web.client()
    h = api_token(c, "case_processor")
    assert c.post("/api/cases", json=case_json("PSUR-1"), headers=h).status_code == 201
    _send_and_acknowledge(sqlite_web, "EU")
    today = sqlite_web.ctx.today()
    with session_scope(sqlite_web.engine) as session:
        data = collect_psur(session, "uplizna", dt.date(2026, 1, 1), today)
    rows = {r.destination: r for r in data.reporting.rows}
    assert rows["EU"].due == 1 and rows["EU"].on_time + rows["EU"].late == 1
    html = render_psur_html(data)
    assert "20.4 Compliance with expedited reporting" in html and 'data-testid="reporting-compliance"' in html
    with session_scope(sqlite_web.engine) as session:
        empty = collect_psur(session, "uplizna", dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    assert empty.reporting.rows == ()
    assert "No expedited individual case report of this plan's cases fell due" in render_psur_html(empty)


# -- the demo ------------------------------------------------------------------------------------------


def test_the_demo_sends_its_due_reports_marked_synthetic_and_shows_states_and_compliance(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    needs_e2b_schema()
    monkeypatch.setattr(riskplan.demo, "DEMO_CASES", 60)  # fewer synthetic cases than `riskplan demo` makes
    db = cli_env / "demo.db"
    out = cli_env / "demo-out"
    args = ["demo", "--steps", "plan,cases,submissions", "--database", f"sqlite:///{db}", "--out", str(out)]
    result = runner.invoke(app, args, env=WIDE)
    assert result.exit_code == 0, result.output
    shown = _flat(result.output)
    assert "Submissions per destination and state" in shown and "EU accepted" in shown
    # FDA's regional elements derived from each obligation: the US reports pass the FDA gateway's rules
    assert "US accepted" in shown and not re.search(r"US: \d+ report\(s\) not sent", shown), shown
    assert re.search(
        r"US: batch RP-SYNTHETIC-US-\S+ sent over AS2 as \S+: signed MDN processed \(delivered\); "
        r"ACK AA: \d+ accepted, 0 rejected",
        shown,
    ), shown
    assert "Reporting compliance, expedited reports due" in shown
    # sent over AS2 to a local gateway in the demo's process: the signed MDN is kept, then the ACK accepts
    assert "EU: local AS2 gateway LOCAL-EU (riskplan gateway, in this process) on http://127.0.0.1:" in shown
    assert "acting as EudraVigilance (EMA) with the eu business rules" in shown
    assert re.search(
        r"EU: batch RP-SYNTHETIC-EU-\S+ sent over AS2 as \S+: signed MDN processed \(delivered\); "
        r"ACK AA: \d+ accepted",
        shown,
    ), shown
    engine = make_engine(f"sqlite:///{db}")
    with session_scope(engine) as session:
        sent = [(b, c, m) for b, c, m in session.execute(text("SELECT batch_id, channel, mdn FROM submission_batch"))]
        eu = [s for s in list_submissions(session) if s.destination == "EU" and s.state == "accepted"]
        assert eu
        first = eu[0]
        states = [
            e.action
            for e in history(session, "submission", f"{first.worldwide_id} v{first.version} -> EU #{first.attempt}")
            if e.field == "state"
        ]
    engine.dispose()
    assert sent and all(b.startswith("RP-SYNTHETIC-") for b, _, _ in sent)
    assert all(c == "as2" and m and m.startswith("Content-Type: multipart/signed") for _, c, m in sent)
    assert states == ["state generated", "state sent", "state delivered", "state accepted"]
    received = list((out / "submissions" / "gateways" / "EU" / "received").glob("*.xml"))
    assert len(received) == sum(b.startswith("RP-SYNTHETIC-EU-") for b, _, _ in sent)
    summary = json.loads((out / "submissions" / "submissions_summary.json").read_text())
    assert summary["synthetic"] is True and any(s["state"] == "accepted" for s in summary["states"])
