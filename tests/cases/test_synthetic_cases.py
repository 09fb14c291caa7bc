"""Synthetic cases as a user and an inspector see them: marked in the store (cases_0003, recognised on
upgrade), shown as SYNTHETIC by `case list` / `case show`, never written beside real cases, never exported
to an authority without --allow-synthetic, stated in the PSUR; and the demo, which keeps to its own
database and leaves a database with real work untouched."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, MetaData, func, select, text
from typer.testing import CliRunner

from case_factory import make_icsr
from riskplan.cases.intake import intake, intake_context, intake_transaction
from riskplan.cases.synth import synthesise_cases
from riskplan.cli import app
from riskplan.errors import UserInputError
from riskplan.reports.psur import collect_psur, count_cases
from riskplan.settings import get_settings
from riskplan.store.db import make_engine, session_scope
from riskplan.store.migrate import alembic_config, upgrade
from web_fixtures import WebApp, api_token, needs_e2b_schema, page_session, sqlite_web_fixture  # noqa: F401

runner = CliRunner()
WIDE = {"COLUMNS": "250"}


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[│┃┏┓┗┛━─┡┩┼╇┳┻┣┫└┘┌┐├┤┬┴]", " ", text))


def _real_case(folder: Path) -> Path:
    path = folder / "real.json"
    path.write_text(make_icsr("US-HOSPITAL-2026-0042").model_dump_json())
    return path


def _snapshot(url: str) -> dict[str, list[Any]]:
    """Every row of every table, to show a database was left untouched."""
    engine = make_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        rows = {t.name: sorted(map(repr, conn.execute(select(t)).all())) for t in meta.sorted_tables}
    engine.dispose()
    return rows


def _configured_url() -> str:
    return get_settings().database_url


def test_synthetic_cases_are_marked_and_shown_so(cli_env: Path) -> None:
    made = runner.invoke(app, ["synth", "cases", "-n", "4", "--seed", "1"], env=WIDE)
    assert made.exit_code == 0, made.output
    listed = json.loads(runner.invoke(app, ["case", "list", "--format", "json"]).stdout)
    assert len(listed) == 4 and all(c["synthetic"] for c in listed)
    table = _flat(runner.invoke(app, ["case", "list"], env=WIDE).output)
    assert "Cases (4, 4 SYNTHETIC: not real reports)" in table
    assert f"{listed[0]['worldwide_id']} SYNTHETIC" in table
    shown = runner.invoke(app, ["case", "show", listed[0]["case"]], env=WIDE).output
    assert "SYNTHETIC case (made by riskplan synth or the demo): not a real report" in shown.splitlines()[0]


def test_synthetic_cases_are_never_written_beside_real_cases(cli_env: Path) -> None:
    assert runner.invoke(app, ["case", "new", str(_real_case(cli_env))], env=WIDE).exit_code == 0
    before = _snapshot(_configured_url())
    refused = runner.invoke(app, ["synth", "cases", "-n", "3"], env=WIDE)
    assert refused.exit_code == 2, refused.output
    out = _flat(refused.output)
    assert "holds 1 real (not synthetic) case(s), e.g. US-HOSPITAL-2026-0042" in out
    assert "nothing written" in out
    assert _snapshot(_configured_url()) == before


def test_the_store_refuses_synthetic_intake_beside_real_cases(engine: Engine) -> None:
    with session_scope(engine) as session:
        ctx = intake_context(session, "uplizna", "tester")
        intake(session, [make_icsr("US-REAL-1")], context=ctx, who="tester")
    with pytest.raises(UserInputError, match="holds 1 real"), session_scope(engine) as session:
        ctx = intake_context(session, "uplizna", "tester")
        intake(session, synthesise_cases(2, seed=5), context=ctx, who="tester", synthetic=True)
    with session_scope(engine) as session:
        assert session.scalar(text("SELECT count(*) FROM icsr_case")) == 1


def test_a_synthetic_case_is_not_exported_without_the_flag(cli_env: Path) -> None:
    needs_e2b_schema()
    assert runner.invoke(app, ["synth", "cases", "-n", "3", "--seed", "2"]).exit_code == 0
    ids = [c["case"] for c in json.loads(runner.invoke(app, ["case", "list", "--format", "json"]).stdout)]
    out = cli_env / "e2b"
    before = _snapshot(_configured_url())
    refused = runner.invoke(app, ["case", "export", "--e2b", str(out), "--id", ids[0]], env=WIDE)
    assert refused.exit_code == 2, refused.output
    assert "export refused, nothing written: 1 synthetic case(s)" in _flat(refused.output)
    assert not out.exists()
    assert _snapshot(_configured_url()) == before
    allowed = runner.invoke(app, ["case", "export", "--e2b", str(out), "--id", ids[0], "--allow-synthetic"], env=WIDE)
    assert allowed.exit_code == 0, allowed.output
    [written] = out.iterdir()
    assert written.name.startswith("RP-SYNTHETIC-")


def test_synthetic_cases_exported_on_purpose_stay_synthetic_when_imported_again(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch exported with --allow-synthetic and imported into another database came back as real cases (no
    mark, counted as real in the PSUR, exportable to an authority); now they stay synthetic there, and are
    refused beside real cases."""
    needs_e2b_schema()
    assert runner.invoke(app, ["synth", "cases", "-n", "3", "--seed", "4"]).exit_code == 0
    out = cli_env / "e2b"
    listed_here = json.loads(runner.invoke(app, ["case", "list", "--format", "json"]).stdout)
    ids = [arg for c in listed_here if c["valid"] for arg in ("--id", c["case"])]
    exported = runner.invoke(app, ["case", "export", "--e2b", str(out), "--allow-synthetic", *ids])
    assert exported.exit_code == 0, exported.output
    [batch] = out.iterdir()

    monkeypatch.setenv("RISKPLAN_DATABASE_URL", f"sqlite:///{cli_env / 'other.db'}")
    get_settings.cache_clear()
    imported = runner.invoke(app, ["case", "import", str(batch)], env=WIDE)
    assert imported.exit_code == 0, imported.output
    listed = json.loads(runner.invoke(app, ["case", "list", "--format", "json"]).stdout)
    assert listed and all(c["synthetic"] for c in listed)

    monkeypatch.setenv("RISKPLAN_DATABASE_URL", f"sqlite:///{cli_env / 'real.db'}")
    get_settings.cache_clear()
    assert runner.invoke(app, ["case", "new", str(_real_case(cli_env))], env=WIDE).exit_code == 0
    before = _snapshot(_configured_url())
    refused = runner.invoke(app, ["case", "import", str(batch)], env=WIDE)
    assert refused.exit_code == 2, refused.output
    assert "holds 1 real (not synthetic) case(s)" in _flat(refused.output)
    after = _snapshot(_configured_url())
    assert after["icsr_case"] == before["icsr_case"] and after["icsr_case_version"] == before["icsr_case_version"]


def test_a_received_batch_mixing_made_up_and_real_cases_is_refused(engine: Engine) -> None:
    with pytest.raises(UserInputError, match="were made by riskplan"):
        intake_transaction(engine, [make_icsr("US-REAL-1"), *synthesise_cases(1, seed=5)], plan_name="uplizna", who="t")
    with session_scope(engine) as session:
        assert session.scalar(text("SELECT count(*) FROM icsr_case")) == 0


def test_the_psur_states_how_many_cases_are_synthetic(sqlite_engine: Engine) -> None:
    start, dlp = dt.date(2025, 11, 1), dt.date(2026, 10, 31)
    with session_scope(sqlite_engine) as session:
        ctx = intake_context(session, "uplizna", "tester")
        intake(session, synthesise_cases(60, seed=4), context=ctx, who="tester", synthetic=True)
    with session_scope(sqlite_engine) as session:
        plan = ctx.plan
        counts = count_cases(session, plan, start, dlp)
        data = collect_psur(session, "uplizna", start, dlp)
    assert counts.valid_cumulative > 0
    assert counts.synthetic_cumulative == counts.valid_cumulative
    assert counts.synthetic_interval == counts.valid_interval
    from riskplan.reports.psur import _conclusions

    assert _conclusions(data)[0].startswith(f"SYNTHETIC DATA: {counts.synthetic_interval} of the interval's cases")


def test_upgrade_recognises_synthetic_cases_stored_before_the_mark(database_url: str) -> None:
    """cases_0003 marks the cases riskplan synth made before it (id and sender), and no real case."""
    engine = make_engine(database_url)
    command.upgrade(alembic_config(engine), "cases_0002")
    synthetic = synthesise_cases(1, seed=9)[0]
    look_alike = make_icsr("DE-RPDEMO-2026-000777")  # the id pattern, another sender: real
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        for case_id, icsr in ((1, synthetic), (2, look_alike), (3, make_icsr("US-REAL-7"))):
            conn.execute(
                text(
                    "INSERT INTO icsr_case (id, worldwide_id, plan_name, latest_version, created_at, created_by) "
                    "VALUES (:id, :wid, 'uplizna', 1, :at, 'tester')"
                ),
                {"id": case_id, "wid": icsr.case_key, "at": now},
            )
            conn.execute(
                text(
                    "INSERT INTO icsr_case_version (case_id, version, icsr_json, received, recorded_at, "
                    "recorded_by, valid, serious) VALUES (:id, 1, :json, :day, :at, 'tester', :t, :t)"
                ),
                {"id": case_id, "json": icsr.model_dump_json(), "day": now.date(), "at": now, "t": True},
            )
    upgrade(engine)
    with engine.connect() as conn:
        marked = dict(conn.execute(text("SELECT id, synthetic FROM icsr_case ORDER BY id")).all())
        assert conn.execute(select(func.count()).select_from(text("icsr_case"))).scalar() == 3
    assert marked == {1: True, 2: False, 3: False}
    engine.dispose()


# -- the demo ----------------------------------------------------------------------------------------------


def test_the_demo_keeps_to_its_own_database_and_refuses_one_with_real_cases(cli_env: Path) -> None:
    assert runner.invoke(app, ["case", "new", str(_real_case(cli_env))], env=WIDE).exit_code == 0
    url = _configured_url()
    before = _snapshot(url)

    demo = runner.invoke(app, ["demo", "--steps", "plan,cases"], env=WIDE)
    assert demo.exit_code == 0, demo.output
    own = cli_env / "data" / "riskplan" / "demo" / "riskplan-demo.db"
    assert f"demo database: sqlite:///{own}" in _flat(demo.output)
    assert _snapshot(url) == before  # the configured database: not a row changed
    demo_rows = _snapshot(f"sqlite:///{own}")
    assert len(demo_rows["icsr_case"]) == 300
    demo_engine = make_engine(f"sqlite:///{own}")
    with demo_engine.connect() as conn:
        marks = conn.execute(text("SELECT synthetic FROM icsr_case")).scalars().all()
    demo_engine.dispose()
    assert len(marks) == 300 and all(marks)  # every demo case is marked synthetic

    refused = runner.invoke(app, ["demo", "--steps", "plan,cases", "--database", url], env=WIDE)
    assert refused.exit_code == 2, refused.output
    assert "holds 1 real (not synthetic) case(s), e.g. US-HOSPITAL-2026-0042" in _flat(refused.output)
    assert _snapshot(url) == before


def test_the_demo_refuses_a_given_database_with_an_approved_plan_and_no_cases(cli_env: Path) -> None:
    """Real work is not only cases: on a database with an approved plan and a user account, the demo stored
    the bundled plan as an unapproved version on top and opened demo accounts; now nothing is written."""
    assert runner.invoke(app, ["plan", "load", "uplizna"], env=WIDE).exit_code == 0
    added = runner.invoke(
        app, ["user", "add", "qppv1", "--role", "qppv", "--password-stdin"], input="Qppv-passw0rd-1\n"
    )
    assert added.exit_code == 0, added.output
    signed = runner.invoke(
        app, ["plan", "approve", "1", "--signer", "qppv1", "--password-stdin"], input="Qppv-passw0rd-1\n"
    )
    assert signed.exit_code == 0, signed.output
    url = _configured_url()
    before = _snapshot(url)

    refused = runner.invoke(app, ["demo", "--steps", "plan,cases", "--database", url], env=WIDE)
    assert refused.exit_code == 2, refused.output
    said = _flat(refused.output)
    assert "holds real work: 1 plan version(s) the demo did not store, e.g. uplizna v1" in said
    assert "1 user account(s), e.g. qppv1; 1 electronic signature(s)" in said and "nothing written" in said
    assert _snapshot(url) == before

    own = runner.invoke(app, ["demo", "--steps", "plan"], env=WIDE)  # its own database: run again and again
    assert own.exit_code == 0, own.output
    again = runner.invoke(app, ["demo", "--steps", "plan"], env=WIDE)
    assert again.exit_code == 0 and "unchanged, version 1" in _flat(again.output), again.output
    demo_db = cli_env / "data" / "riskplan" / "demo" / "riskplan-demo.db"
    given = runner.invoke(app, ["demo", "--steps", "plan", "--database", f"sqlite:///{demo_db}"], env=WIDE)
    assert given.exit_code == 0, given.output  # what the demo stored is not real work
    fresh = f"sqlite:///{cli_env / 'fresh.db'}"  # the cases step alone stores the plan as the demo's too
    for _ in range(2):
        cases = runner.invoke(app, ["demo", "--steps", "cases", "--database", fresh], env=WIDE)
        assert cases.exit_code == 0, cases.output


def test_the_web_application_shows_synthetic_cases_and_does_not_export_them(sqlite_web: WebApp) -> None:
    with session_scope(sqlite_web.engine) as session:
        ctx = intake_context(session, "uplizna", "tester")
        intake(session, synthesise_cases(2, seed=6), context=ctx, who="tester", synthetic=True)
    c = sqlite_web.client()
    h = api_token(c, "qppv")
    listed = c.get("/api/cases", headers=h).json()
    assert [x["synthetic"] for x in listed] == [True, True]
    assert c.get("/api/cases/RP0000001", headers=h).json()["synthetic"] is True
    refused = c.post("/api/cases/export", json={"cases": ["RP0000001"]}, headers=h)
    assert refused.status_code == 400, refused.text
    assert "synthetic case(s)" in refused.json()["detail"]
    page_session(c, "qppv")
    assert 'data-testid="synthetic">SYNTHETIC' in c.get("/cases").text
    assert 'data-testid="synthetic">SYNTHETIC' in c.get("/cases/RP0000001").text


def test_the_demo_refuses_a_blank_user_before_writing_anything(cli_env: Path) -> None:
    refused = runner.invoke(app, ["demo", "--steps", "plan"], env={**WIDE, "RISKPLAN_USER": "   "})
    assert refused.exit_code == 2, refused.output
    assert "RISKPLAN_USER is empty or blank" in _flat(refused.output)
    assert not (cli_env / "data" / "riskplan" / "demo" / "riskplan-demo.db").exists()
