"""``riskplan check ...`` on the command line: exit codes 0 pass, 1 warn, 3 block, 2 bad input."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from riskplan.minimisation.cli import app
from riskplan.minimisation.record import schema_text

runner = CliRunner()
WIDE = {"COLUMNS": "250"}
PATIENTS = Path(__file__).parent.parent / "data" / "patients"


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[│┃┏┓┗┛━─┡┩┼╇┠┨╋┳┻┣┫└┘┌┐├┤┬┴]", " ", text))


def _patient(tmp_path: Path, change: Any = None) -> Path:
    data = json.loads((PATIENTS / "first_dose.json").read_text())
    if change:
        change(data)
    path = tmp_path / "patient.json"
    path.write_text(json.dumps(data))
    return path


def test_a_patient_ready_for_the_first_dose_exits_0(cli_env: Path) -> None:
    result = runner.invoke(app, ["infusion", str(_patient(cli_env)), "--date", "2025-03-03"], env=WIDE)
    assert result.exit_code == 0, result.output
    out = _flat(result.output)
    assert "Pre-infusion checklist: patient NMO-0107, 2025-03-03 (first dose), plan uplizna" in out
    assert "PASS Active malignancy (ci-active-malignancy) 4.3" in out
    assert "overall: PASS (18 pass, 0 warn, 0 block)" in out


def test_a_missing_premedication_record_exits_1(cli_env: Path) -> None:
    path = _patient(cli_env, lambda d: d["infusions"][0].pop("premedication"))
    result = runner.invoke(app, ["infusion", str(path), "--date", "2025-03-03"], env=WIDE)
    assert result.exit_code == 1, result.output
    out = _flat(result.output)
    assert "WARN Premedication with a corticosteroid, an antihistamine and an antipyretic (premedication) 4.4" in out
    assert "no premedication record for the infusion on 2025-03-03" in out


def test_an_hbsag_positive_patient_exits_3(cli_env: Path) -> None:
    path = _patient(cli_env, lambda d: d["screenings"][0].update(result="positive"))
    result = runner.invoke(app, ["infusion", str(path), "--date", "2025-03-03"], env=WIDE)
    assert result.exit_code == 3, result.output
    assert "BLOCK Active hepatitis B infection (ci-hepatitis-b) 4.3" in _flat(result.output)


def test_json_output_for_machines(cli_env: Path) -> None:
    path = _patient(cli_env, lambda d: d["screenings"][0].update(result="positive"))
    result = runner.invoke(app, ["infusion", str(path), "--date", "2025-03-03", "--format", "json"])
    assert result.exit_code == 3
    data = json.loads(result.output)
    assert (data["status"], data["exit_code"], data["first_dose"]) == ("block", 3, True)
    hbv = next(r for r in data["results"] if r["id"] == "ci-hepatitis-b")
    assert hbv["status"] == "block" and hbv["smpc_section"] == "4.3" and "HBsAg positive" in hbv["message"]


def test_a_record_that_violates_the_schema_exits_2_naming_each_field(cli_env: Path) -> None:
    result = runner.invoke(app, ["infusion", str(PATIENTS / "invalid_record.json")], env=WIDE)
    assert result.exit_code == 2
    for path in ("patient.sex", "screenings.0.result", "infusions.0.date", "infusions.0.dose_mg"):
        assert path in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["infusion", "absent.json"], "cannot read the patient record"),
        (["infusion", "{patient}", "--date", "3 March"], "give the infusion date as YYYY-MM-DD"),
        (["infusion", "{patient}", "--plan", "nosuchplan"], "unknown plan 'nosuchplan'"),
        (["card", "{patient}", "--out", "card.pdf", "--language", "fr"], "choose one of de, en"),
        (["effectiveness", "--records", "empty"], "no patient records"),
    ],
)
def test_bad_input_exits_2(cli_env: Path, args: list[str], message: str) -> None:
    (cli_env / "empty").mkdir()
    patient = str(_patient(cli_env))
    result = runner.invoke(app, [a.replace("{patient}", patient) for a in args], env=WIDE)
    assert result.exit_code == 2, result.output
    assert message in _flat(result.output)


def test_schema_prints_the_shipped_json_schema(cli_env: Path) -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    assert result.output == schema_text()
    assert json.loads(result.output)["title"] == "riskplan patient record"


def test_card_writes_a_pdf(cli_env: Path) -> None:
    result = runner.invoke(app, ["card", str(_patient(cli_env)), "--out", "out/card.pdf", "--language", "de"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "patient card for NMO-0107 (de) written to out/card.pdf" in _flat(result.output)
    text = " ".join(p.extract_text() for p in PdfReader(cli_env / "out" / "card.pdf").pages)
    assert "03.03.2025" in text and "Patientenkarte" in text


def test_effectiveness_over_a_folder_of_records(cli_env: Path) -> None:
    folder = cli_env / "records"
    folder.mkdir()
    shutil.copy(PATIENTS / "first_dose.json", folder / "a.json")
    result = runner.invoke(app, ["effectiveness", "--records", str(folder)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "infusions with full premedication 1 1 100.0% 2.5% to 100.0%" in _flat(result.output)
    as_json = runner.invoke(app, ["effectiveness", "--records", str(folder), "--format", "json", "--cases"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert [s["numerator"] for s in data["process"]] == [1, 1, 1, 0]
    assert [(o["concern_id"], o["total_cases"]) for o in data["outcomes"]] == [
        ("infusion-reaction", 0),
        ("serious-infections", 0),
    ]
