"""One answer to "which plan version applies" (riskplan.plan.current_plan), whatever the front end.

A stored, approved version 1 (the bundled plan) and a stored, not yet approved version 2 that adds a
safety concern (``invented-risk``, defined by the PT Pneumonia) and names it in a study: case intake,
the PSUR, ``riskplan study run`` and the web study page and study run all use version 1 and say so;
once the QPPV approves version 2 they all use version 2.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from case_factory import make_icsr
from riskplan.cli import app
from riskplan.plan.approvals import approve_version
from riskplan.plan.catalogue import load_plan
from riskplan.plan.model import RiskManagementPlan
from riskplan.plan.versions import record_plan
from riskplan.settings import get_settings
from riskplan.store.db import make_engine, session_scope
from riskplan.store.migrate import upgrade
from signing import QPPV
from web_fixtures import (  # noqa: F401  (fixtures)
    CDM_ROOT,
    WebApp,
    page_session,
    sqlite_web_fixture,
    web_fixture,
)

runner = CliRunner()
WIDE = {"COLUMNS": "250"}
NEW = "invented-risk"
NEW_TITLE = "Invented Risk Of The Test"
STUDY = "pregnancy-registry-study"


def _version_2() -> RiskManagementPlan:
    data = load_plan("uplizna").model_dump(mode="json")
    data["safety_concerns"].append(
        {
            "id": NEW,
            "title": NEW_TITLE,
            "category": "important potential risk",
            "definition": {"meddra_pts": ["Pneumonia"], "source": "test"},
        }
    )
    for study in data["studies"]:
        if study["id"] == STUDY:
            study["safety_concerns"].append(NEW)
    return RiskManagementPlan.model_validate(data)


def _store_versions(engine: Engine) -> None:
    """Version 1 (bundled) approved, version 2 (with the invented concern) stored, not approved."""
    with session_scope(engine) as session:
        record_plan(session, load_plan("uplizna"), who="tester", reason="v1")
        approve_version(session, "uplizna", 1, signer=QPPV, reason="approved")
        record_plan(session, _version_2(), who="tester", reason="v2")


def _approve_version_2(engine: Engine) -> None:
    with session_scope(engine) as session:
        approve_version(session, "uplizna", 2, signer=QPPV, reason="approved")


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[│┃┏┓┗┛━─┡┩┼╇┳┻┣┫└┘┌┐├┤┬┴]", " ", text))


def _case_intake(cli_env: Path, n: int) -> str:
    path = cli_env / f"case{n}.json"
    path.write_text(make_icsr(f"GB-RPDEMO-2026-00000{n}").model_dump_json())
    result = runner.invoke(app, ["case", "new", str(path)], env=WIDE)
    assert result.exit_code == 0, result.output
    return _flat(result.output)


def _psur(cli_env: Path, n: int) -> str:
    out = cli_env / f"psur{n}"
    args = ["report", "psur", "--from", "2025-07-01", "--to", "2025-12-31", "--out", str(out), "--no-pdf"]
    result = runner.invoke(app, args, env=WIDE)
    assert result.exit_code == 0, result.output
    html = next(out.glob("*.html")).read_text("utf-8")
    meta = json.loads(next(out.glob("*.metadata.json")).read_text("utf-8"))
    return html + json.dumps(meta["plan"])


def _study_run(cli_env: Path, n: int) -> str:
    out = cli_env / f"study{n}"
    args = ["study", "run", STUDY, "--cdm", str(CDM_ROOT / "cdm_small"), "--out", str(out), "--no-pdf"]
    result = runner.invoke(app, args, env=WIDE)
    assert result.exit_code == 0, result.output
    return (out / f"{STUDY}.html").read_text("utf-8") + (out / f"{STUDY}.json").read_text("utf-8")


FRONT_ENDS: dict[str, tuple[Callable[[Path, int], str], str, str]] = {
    # what it shows when version 1 is in force, and when version 2 is
    "case intake": (_case_intake, "safety concern serious-infections", f"safety concern {NEW}:"),
    "psur": (_psur, '"in_force": "uplizna version 1 (approved version)"', NEW_TITLE),
    "study run": (_study_run, "uplizna version 1 (approved version)", "uplizna version 2 (approved version)"),
}


@pytest.mark.parametrize("front_end", list(FRONT_ENDS))
def test_cli_uses_the_approved_version_until_the_next_is_approved(cli_env: Path, front_end: str) -> None:
    run, shows_v1, shows_v2 = FRONT_ENDS[front_end]
    engine = make_engine(get_settings().database_url)
    upgrade(engine)
    _store_versions(engine)

    before = run(cli_env, 1)
    assert shows_v1 in before
    assert NEW not in before and NEW_TITLE not in before  # version 2 (latest stored, not approved) unused

    _approve_version_2(engine)
    after = run(cli_env, 2)
    assert shows_v2 in after
    engine.dispose()


def test_psur_names_the_version_it_used(cli_env: Path) -> None:
    engine = make_engine(get_settings().database_url)
    upgrade(engine)
    _store_versions(engine)
    _approve_version_2(engine)
    text = _psur(cli_env, 1)
    assert "uplizna version 2 (approved version); content SHA-256" in text
    assert '"version": 2' in text
    engine.dispose()


def test_web_study_page_and_run_use_the_approved_version(web: WebApp) -> None:  # SQLite and PostgreSQL
    _store_versions(web.engine)
    c = web.client()
    csrf = page_session(c, "qppv")

    page = c.get("/studies").text
    assert "Pregnancy Registry Study" in page and NEW not in page
    r = c.post(f"/studies/{STUDY}/runs", data={"csrf_token": csrf, "cdm": "cdm_small"})
    assert r.status_code == 303, r.text
    assert "uplizna version 1 (approved version)" in c.get("/reports/1/html").text

    _approve_version_2(web.engine)
    assert NEW in c.get("/studies").text
    r = c.post(f"/studies/{STUDY}/runs", data={"csrf_token": csrf, "cdm": "cdm_small"})
    assert r.status_code == 303, r.text
    assert "uplizna version 2 (approved version)" in c.get("/reports/2/html").text
    assert "uplizna version 1 (approved version)" in c.get("/reports/1/html").text  # the old run keeps its plan


def test_the_plan_page_and_api_show_the_plan_in_force_by_default(sqlite_web: WebApp) -> None:
    _store_versions(sqlite_web.engine)
    c = sqlite_web.client()
    page_session(c, "qppv")
    assert NEW_TITLE not in c.get("/plans/uplizna").text
    assert NEW_TITLE in c.get("/plans/uplizna", params={"version": 2}).text  # a version asked for by number
    _approve_version_2(sqlite_web.engine)
    assert NEW_TITLE in c.get("/plans/uplizna").text


def test_an_unknown_plan_name_is_never_read_as_a_file(sqlite_web: WebApp) -> None:
    c = sqlite_web.client()
    page_session(c, "qppv")
    r = c.get("/plans/nosuch.yaml")
    assert r.status_code == 404, r.text
    assert "unknown plan" in r.text and "nosuch.yaml" in r.text
