"""`riskplan signal drug-names`: how many FAERS drug rows map to ingredients, by route, with examples."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from riskplan.cli import app
from shared_data import missing_shared

runner = CliRunner()
FAERS = Path(__file__).resolve().parents[1] / "data" / "faers"
EUNOMIA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "eunomia_gibleed"
HEADER = "primaryid$caseid$drug_seq$role_cod$drugname$prod_ai$val_vbm$route"


def _run(*args: str) -> dict[str, object]:
    done = runner.invoke(app, ["signal", "drug-names", *args, "--format", "json"])
    assert done.exit_code == 0, done.output
    data: dict[str, object] = json.loads(done.output)
    return data


def test_the_faers_fixture_rows_by_route(cli_env: Path) -> None:
    # the two DRUG files hold 11 rows: 9 with prod_ai (all known ingredient names: exact), "lisinopril
    # tablets" (normalised to lisinopril, a prod_ai of another row) and "CAFÉINE CITRATE" (unmapped)
    data = _run(str(FAERS))
    assert data["rows"] == 11
    assert data["by_route"] == {"exact": 9, "normalised": 1, "fuzzy": 0, "unmapped": 1}
    assert data["by_field"] == {"prod_ai": 9, "drugname": 2}
    examples = data["examples"]
    assert examples["exact"][0] == {  # type: ignore[index]
        "name": "ASPIRIN", "rows": 3, "ingredients": ["aspirin"], "matched": "ASPIRIN", "score": 100.0,
        "source": "FAERS prod_ai",
    }  # fmt: skip
    assert examples["normalised"][0]["name"] == "lisinopril   tablets"  # type: ignore[index]
    assert examples["unmapped"][0]["name"] == "CAFÉINE CITRATE"  # type: ignore[index]
    # ingredients counted once across salts: aspirin, inebilizumab cdon, acetaminophen, ibuprofen, warfarin,
    # lisinopril
    assert data["distinct_ingredients"] == 6


def test_brand_names_map_through_the_omop_vocabulary_and_the_plan(cli_env: Path) -> None:
    if not (EUNOMIA / "concept.csv").is_file():
        missing_shared(f"{EUNOMIA} is absent (Eunomia GiBleed)")
    drug = cli_env / "DRUG26Q1.txt"
    rows = [
        "1$1$1$PS$CELEBREX$$1$Oral",  # an RxNorm brand (Eunomia): exact, celecoxib
        "2$2$1$PS$Celebrex 200mg capsules$$1$Oral",  # normalised to the brand
        "3$3$1$PS$celecoxb$$1$Oral",  # fuzzy: score 94.1
        "4$4$1$PS$Uplizna 100 mg vial$$1$Intravenous",  # the plan's product (UPLIZNA -> inebilizumab)
        "5$5$1$C$Acetaminophen 325 MG Oral Tablet$$1$Oral",  # an RxNorm clinical drug: exact
        "6$6$1$C$herbal tea$$1$Oral",  # unmapped
    ]
    drug.write_text("\n".join([HEADER, *rows]) + "\n")
    data = _run(str(drug), "--cdm", str(EUNOMIA))
    assert data["by_route"] == {"exact": 2, "normalised": 2, "fuzzy": 1, "unmapped": 1}
    by_name = {e["name"]: e for route in data["examples"].values() for e in route}  # type: ignore[attr-defined]
    assert by_name["Uplizna 100 mg vial"]["ingredients"] == ["inebilizumab"]
    assert by_name["Uplizna 100 mg vial"]["source"] == "plan"
    assert by_name["celecoxb"]["ingredients"] == ["celecoxib"] and by_name["celecoxb"]["score"] == 94.1
    assert by_name["CELEBREX"]["source"] == "OMOP vocabulary"


def test_a_file_that_is_no_faers_drug_file_is_refused(cli_env: Path) -> None:
    bad = cli_env / "DRUG.txt"
    bad.write_text("isr$drug_seq$name\n1$1$x\n")
    done = runner.invoke(app, ["signal", "drug-names", str(bad)])
    assert done.exit_code == 2 and "line 1: not a FAERS DRUG file (no primaryid, drugname, prod_ai" in done.output
    short = cli_env / "DRUG2.txt"
    short.write_text(HEADER + "\n1$1$1$PS\n")
    done = runner.invoke(app, ["signal", "drug-names", str(short)])
    assert done.exit_code == 2 and "DRUG2.txt, line 2: 4 $-delimited fields" in " ".join(done.output.split())
