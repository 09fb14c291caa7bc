"""The ``study`` and ``synth omop`` commands through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from riskplan.cli import build_app
from riskplan.studies.cli import synth_app

# The study group as `riskplan study` has it: `study run` is added by the front end (it writes a report,
# above studies), so the group alone would lack it whenever no other test had built the command line first.
app = next(g.typer_instance for g in build_app("study").registered_groups if g.name == "study")

SMALL = Path(__file__).resolve().parents[1] / "data" / "cdm_small"
runner = CliRunner()


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli_synth")
    result = runner.invoke(synth_app, ["omop", "--persons", "1500", "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "drug_exposure" in result.output
    return out


def test_incidence_json_and_csv() -> None:
    result = runner.invoke(
        app,
        [
            "incidence",
            "--cdm",
            str(SMALL),
            "--target",
            "1001",
            "--comparator",
            "1002",
            "--outcome",
            "5001",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    rows = [dict(zip(data["rates"]["columns"], r, strict=True)) for r in data["rates"]["rows"]]
    target = next(r for r in rows if r["cohort"] == "target" and r["stratum_type"] == "all")
    assert (target["persons"], target["events"], target["person_days"]) == (2, 1, 80)
    assert data["rate_ratio"]["target_events"] == 1
    csv = runner.invoke(
        app,
        [
            "incidence",
            "--cdm",
            str(SMALL),
            "--target",
            "1001",
            "--outcome",
            "5001",
            "--tar",
            "since-first",
            "--format",
            "csv",
        ],
    )
    assert csv.exit_code == 0
    assert csv.output.splitlines()[0].startswith("cohort,stratum_type,stratum,persons,events,person_days")
    assert csv.output.splitlines()[1].startswith("target,all,all,2,1,692,")


def test_text_output_and_out_file(tmp_path: Path) -> None:
    text = runner.invoke(app, ["characteristics", "--cdm", str(SMALL), "--target", "1001", "--comparator", "1002"])
    assert text.exit_code == 0 and "baseline characteristics" in text.output
    out = tmp_path / "rates.csv"
    result = runner.invoke(
        app,
        [
            "incidence",
            "--cdm",
            str(SMALL),
            "--target",
            "1001",
            "--outcome",
            "5001",
            "--format",
            "csv",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0 and out.read_text().startswith("cohort,")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["incidence", "--cdm", "/no/such/cdm", "--target", "1", "--outcome", "2"], "no such folder"),
        (["incidence", "--cdm", str(SMALL), "--target", "1x", "--outcome", "2"], "not a concept id"),
        (["incidence", "--cdm", str(SMALL), "--target", "1001", "--outcome", "concern:nope"], "no safety concern"),
        (["run", "no-such-study", "--cdm", str(SMALL)], "has no study"),
        (["utilisation", "--cdm", str(SMALL), "--target", "1001", "--schedule", "weekly"], "not a known schedule"),
    ],
)
def test_bad_input_exits_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output


def test_missing_table_exits_2(tmp_path: Path) -> None:
    (tmp_path / "person.csv").write_text("person_id\n1\n")
    result = runner.invoke(app, ["pregnancy", "--cdm", str(tmp_path), "--target", "1"])
    assert result.exit_code == 2 and "missing required CDM table(s) observation_period" in result.output


def test_analysis_commands_on_synthetic_data(synth: Path) -> None:
    ineb = "2000000001"
    for args in (
        ["utilisation", "--target", ineb],
        ["labs", "--target", ineb],
        ["pregnancy", "--target", ineb],
        [
            "incidence",
            "--target",
            ineb,
            "--comparator",
            "1314273",
            "--outcome",
            "concern:pml",
            "--dose-covers",
            "183",
            "--grace",
            "90",
        ],
    ):
        result = runner.invoke(app, [*args, "--cdm", str(synth), "--format", "json"])
        assert result.exit_code == 0, (args, result.output)
        assert json.loads(result.output)


def test_run_study_writes_html_pdf_and_json(synth: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "real-world-observational-study", "--cdm", str(synth), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "real-world-observational-study.html").read_text()
    assert "Real-World Observational Study" in html and "data:image/png;base64," in html
    pdf = tmp_path / "real-world-observational-study.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert len(PdfReader(str(pdf)).pages) >= 2
    results = json.loads((tmp_path / "real-world-observational-study.json").read_text())
    kinds = [s["kind"] for s in results["sections"]]
    assert {"cohorts", "characteristics", "utilisation", "incidence", "survival"} <= set(kinds)
