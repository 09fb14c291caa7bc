"""The checklist and the patient card use the plan in force (``riskplan.plan.current_plan``): the latest
approved stored version, else the latest stored, else the bundled file; the output names the version."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from pypdf import PdfReader
from typer.testing import CliRunner

from riskplan.cli import app
from riskplan.plan.catalogue import load_plan, plan_to_data
from signing import approve

runner = CliRunner()
WIDE = {"COLUMNS": "250"}
PATIENTS = Path(__file__).parent.parent / "data" / "patients"
NEW_CARD_LINE = "Carry this card with you at all times, also on holiday (version 2)."


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[│┃┏┓┗┛━─┡┩┼╇┠┨╋┳┻┣┫└┘┌┐├┤┬┴]", " ", text))


def _changed_plan(folder: Path) -> Path:
    """The bundled plan with a stricter observation check (2 hours, blocks) and a new card message."""
    data = plan_to_data(load_plan("uplizna"))
    observation = next(c for c in data["infusion_checks"] if c["id"] == "observation")
    observation["parameters"]["min_minutes"] = 120
    observation["severity_if_failed"] = "block"
    data["patient_card"]["messages"]["en"][0]["text"] = NEW_CARD_LINE
    path = folder / "uplizna-v2.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path


def _check(patient: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["check", "infusion", str(patient), "--date", "2025-03-03", *extra], env=WIDE)
    return result.exit_code, _flat(result.output)


def test_the_checklist_uses_the_latest_approved_version_and_says_which(cli_env: Path) -> None:
    patient = PATIENTS / "first_dose.json"  # observed 60 minutes after the infusion
    code, out = _check(patient)
    assert code == 0, out
    assert "plan uplizna, bundled file (no version stored)" in out

    assert runner.invoke(app, ["plan", "load", "uplizna"]).exit_code == 0
    approve(runner, 1)
    loaded = runner.invoke(app, ["plan", "load", str(_changed_plan(cli_env))])
    assert "stored as version 2" in loaded.output, loaded.output
    code, out = _check(patient)
    assert code == 0, out  # version 2 is stored but not approved: version 1 is in force
    assert "plan uplizna version 1, approved version" in out

    approve(runner, 2)
    code, out = _check(patient)
    assert code == 3, out
    assert "plan uplizna version 2, approved version" in out
    assert "observation 60 minutes after the infusion, at least 120 needed" in out
    as_json = runner.invoke(app, ["check", "infusion", str(patient), "--date", "2025-03-03", "--format", "json"])
    data = json.loads(as_json.output)
    assert (data["plan"], data["plan_version"], data["plan_source"]) == ("uplizna", 2, "approved version")
    assert data["plan_used"] == "uplizna version 2, approved version"
    assert next(r for r in data["results"] if r["id"] == "observation")["status"] == "block"


def test_without_an_approval_the_latest_stored_version_is_used(cli_env: Path) -> None:
    runner.invoke(app, ["plan", "load", str(_changed_plan(cli_env))])
    code, out = _check(PATIENTS / "first_dose.json")
    assert code == 3, out
    assert "plan uplizna version 1, latest stored version (not approved)" in out


def test_a_plan_file_given_with_plan_is_used_as_given(cli_env: Path) -> None:
    code, out = _check(PATIENTS / "first_dose.json", "--plan", str(_changed_plan(cli_env)))
    assert code == 3, out
    assert "plan uplizna, file " in out and "uplizna-v2.yaml" in out


def test_the_patient_card_uses_the_approved_version_and_says_which(cli_env: Path) -> None:
    runner.invoke(app, ["plan", "load", str(_changed_plan(cli_env))])
    approve(runner, 1)
    result = runner.invoke(app, ["check", "card", str(PATIENTS / "first_dose.json"), "--out", "card.pdf"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "key messages from plan uplizna version 1, approved version" in _flat(result.output)
    text = " ".join(p.extract_text() for p in PdfReader(cli_env / "card.pdf").pages)
    assert "also on holiday (version 2)" in _flat(text)
