"""``riskplan check infusion`` refuses what JSON or Python would bend: exit 2 and the field and why, never a
traceback, never a check that passes on NaN."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from riskplan.minimisation.cli import app

runner = CliRunner()
TOMORROW = (dt.date.today() + dt.timedelta(days=1)).isoformat()
PATIENTS = Path(__file__).parent.parent / "data" / "patients"
FIRST_LAB_VALUE = '"value": 10.4'  # labs.0.value (IgG) of first_dose.json


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _record_text() -> str:
    text = (PATIENTS / "first_dose.json").read_text()
    assert json.loads(text)["labs"][0]["value"] == 10.4
    return text


@pytest.mark.parametrize(
    ("replacement", "message"),
    [
        ('"value": NaN', "labs.0.value: NaN is not a number"),
        ('"value": Infinity', "labs.0.value: Infinity is not a number"),
        ('"value": -Infinity', "labs.0.value: -Infinity is not a number"),
        ('"value": 1e400', "labs.0.value: 1e400 is out of range"),
        ('"value": -1e308', "labs.0.value: Input should be greater than or equal to 0 (found -1e+308)"),
        ('"value": 1e300', "labs.0.value: Input should be less than or equal to 10000000"),
        ('"value": "12"', 'labs.0.value: Input should be a valid number (found "12")'),
        ('"value": true', "labs.0.value: Input should be a valid number (found true)"),
        ('"value": 10.4, "value": 0.4', "labs.0: key 'value' given more than once"),
        ('"value": ' + "9" * 5000, "labs.0.value: an integer of 5000 digits is out of range"),
        ('"value": ' + "[" * 10_000 + "]" * 10_000, "JSON nested too deeply to read"),
        ('"value": ' + "[" * 40 + "]" * 40, "nested deeper than 32 levels"),
    ],
)
def test_a_bad_lab_value_exits_2_naming_the_field(cli_env: Path, replacement: str, message: str) -> None:
    path = cli_env / "patient.json"
    path.write_text(_record_text().replace(FIRST_LAB_VALUE, replacement, 1))
    result = runner.invoke(app, ["infusion", str(path), "--date", "2025-03-03"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert message in _flat(result.output)
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["patient"].update(birth_date=TOMORROW),
            f"patient.birth_date: birth date {TOMORROW} is in the future",
        ),
        (lambda d: d["patient"].update(birth_date=19860514), "patient.birth_date: a date is written as a string"),
        (
            lambda d: d["patient"].update(childbearing_potential="true"),
            "patient.childbearing_potential: Input should be a valid boolean",
        ),
        (
            lambda d: d["vaccinations"][0].update(live=1),
            "vaccinations.0.live: Input should be a valid boolean (found 1)",
        ),
        (
            lambda d: d["infusions"][0].update(dose_mg="300"),
            'infusions.0.dose_mg: Input should be a valid number (found "300")',
        ),
        (
            lambda d: d["infusions"][0].update(dose_mg=3e6),
            "infusions.0.dose_mg: Input should be less than or equal to 10000",
        ),
        (
            lambda d: d["infusions"][0].update(observation_minutes_after=60.5),
            "infusions.0.observation_minutes_after: Input should be a valid integer",
        ),
        (lambda d: d["infusions"][0].update(date="1066-10-14"), "infusions.0.date: 1066-10-14 is not a plausible date"),
    ],
)
def test_strings_booleans_and_implausible_values_are_refused(cli_env: Path, change: object, message: str) -> None:
    data = json.loads((PATIENTS / "first_dose.json").read_text())
    change(data)  # type: ignore[operator]
    path = cli_env / "patient.json"
    path.write_text(json.dumps(data))
    result = runner.invoke(app, ["infusion", str(path), "--date", "2025-03-03"])
    assert result.exit_code == 2, result.output
    assert message in _flat(result.output)


def test_the_shipped_example_and_a_strict_record_still_pass(cli_env: Path) -> None:
    path = cli_env / "patient.json"
    path.write_text(_record_text())
    result = runner.invoke(app, ["infusion", str(path), "--date", "2025-03-03"])
    assert result.exit_code == 0, result.output


def test_a_first_dose_without_hepatitis_b_and_tuberculosis_screening_is_blocked(cli_env: Path) -> None:
    # SmPC 4.4: screen for HBV and tuberculosis before starting treatment; not on record blocks (exit 3)
    data = json.loads((PATIENTS / "first_dose.json").read_text())
    data["screenings"] = [s for s in data["screenings"] if s["test"] not in ("HBsAg", "anti-HBc", "IGRA", "TST")]
    path = cli_env / "patient.json"
    path.write_text(json.dumps(data))
    result = runner.invoke(app, ["infusion", str(path), "--date", "2025-03-03", "--format", "json"])
    assert result.exit_code == 3, result.output
    by_id = {r["id"]: r for r in json.loads(result.output)["results"]}
    for check_id in ("hbv-screening", "tb-screening"):
        assert (by_id[check_id]["status"], by_id[check_id]["smpc_section"]) == ("block", "4.4")
        assert "not on record before the first dose" in by_id[check_id]["message"]
