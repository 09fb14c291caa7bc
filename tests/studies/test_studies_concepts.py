"""``riskplan study concepts``: concept ids found by name in the CDM's vocabulary (Eunomia GiBleed, synthetic)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from riskplan.studies.cdm import cdm_from_records
from riskplan.studies.cli import app, synth_app
from riskplan.studies.concept_search import search_concepts
from shared_data import missing_shared

EUNOMIA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "eunomia_gibleed"
runner = CliRunner()


@pytest.fixture(scope="module")
def eunomia() -> Path:
    if not (EUNOMIA / "concept.csv").is_file():
        missing_shared(f"Eunomia GiBleed CSVs are absent at {EUNOMIA} (the shared data folder is needed)")
    return EUNOMIA


def _json(args: list[str]) -> dict[str, object]:
    result = runner.invoke(app, ["concepts", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.output)
    return data


def _rows(data: dict[str, object]) -> list[dict[str, object]]:
    table = data["concepts"]
    assert isinstance(table, dict)
    return [dict(zip(table["columns"], row, strict=True)) for row in table["rows"]]


def test_celecoxib_finds_the_ingredient_first_with_descendants_and_persons_exposed(eunomia: Path) -> None:
    rows = _rows(_json(["CeleCOXIB", "--cdm", str(eunomia)]))
    first = rows[0]
    assert first["concept_id"] == 1118084 and first["concept_class"] == "Ingredient" and first["standard"] is True
    # Eunomia's concept_ancestor has celecoxib above itself only; drug_exposure records it for 1,844 persons
    # (the published Book of OHDSI figure)
    assert first["descendant_drug_concepts"] == 0 and first["persons_exposed"] == 1844
    assert {r["concept_id"] for r in rows} >= {1118084, 1118088}
    branded = next(r for r in rows if r["concept_id"] == 1118088)
    assert branded["persons_exposed"] is None  # counted for ingredients only


def test_bleed_in_condition_finds_gi_hemorrhage_through_its_synonym(eunomia: Path) -> None:
    data = _json(["bleed", "--domain", "condition", "--cdm", str(eunomia), "--limit", "5"])
    assert data["domain"] == "Condition"
    rows = _rows(data)
    assert rows[0]["concept_id"] == 192671 and rows[0]["concept_name"] == "Gastrointestinal hemorrhage"
    assert "bleed" in str(rows[0]["matched_synonym"]).lower()
    assert all(r["domain"] == "Condition" for r in rows)


def test_text_output_shows_plain_ids_at_80_columns(eunomia: Path) -> None:
    result = runner.invoke(app, ["concepts", "celecoxib", "--cdm", str(eunomia)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "1118084" in result.output and "44923712" in result.output  # whole, no thousands separators
    assert "1,118,084" not in result.output and "1,844" in result.output


def test_limit_csv_and_wrong_input(eunomia: Path) -> None:
    result = runner.invoke(app, ["concepts", "e", "--cdm", str(eunomia), "--limit", "3", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert len(result.output.strip().splitlines()) == 4  # header and three concepts
    result = runner.invoke(app, ["concepts", "bleed", "--domain", "Drugs", "--cdm", str(eunomia)])
    assert result.exit_code == 2
    assert "--domain 'Drugs'" in result.output and "Condition, Drug" in result.output
    result = runner.invoke(app, ["concepts", "zzzq", "--cdm", str(eunomia)])
    assert result.exit_code == 0 and "no concept has 'zzzq'" in result.output


def test_a_cdm_without_vocabulary_says_so() -> None:
    cdm = cdm_from_records(
        {
            "person": [{"person_id": 1, "gender_concept_id": 8532, "year_of_birth": 1980}],
            "observation_period": [
                {
                    "person_id": 1,
                    "observation_period_start_date": "2020-01-01",
                    "observation_period_end_date": "2021-01-01",
                }
            ],
        }
    )
    with pytest.raises(ValueError, match="no vocabulary"):
        search_concepts(cdm, "celecoxib")


def test_synthetic_cdm_finds_inebilizumab(tmp_path: Path) -> None:
    out = tmp_path / "cdm"
    assert runner.invoke(synth_app, ["omop", "--persons", "300", "--out", str(out)]).exit_code == 0
    rows = _rows(_json(["inebilizumab", "--cdm", str(out), "--domain", "Drug"]))
    assert rows and str(rows[0]["concept_name"]).lower().startswith("inebilizumab")
    assert isinstance(rows[0]["persons_exposed"], int) and rows[0]["persons_exposed"] > 0
