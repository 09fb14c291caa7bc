"""`riskplan signal detect --cases --drug-level name|ingredient|atc`: the case store counted by the name as
reported, by active ingredient, or by the ATC code of the WHODrug product each drug is coded to."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from case_factory import make_icsr
from riskplan.cases.codes import DrugRole
from riskplan.cases.model import Drug
from riskplan.cli import app
from riskplan.signals.drug_levels import DrugLevel
from riskplan.signals.sources import CaseStoreSource
from riskplan.store import database

runner = CliRunner()
B3 = Path(__file__).resolve().parents[1] / "data" / "whodrug_b3"
FAERS_Q1 = Path(__file__).resolve().parents[1] / "data" / "faers" / "faers_ascii_2024q1"


def _counts(out: Path) -> dict[tuple[str, str], int]:
    with out.open() as fh:
        return {(row["product"], row["event"]): int(row["N"]) for row in csv.DictReader(fh)}


def test_the_case_store_counts_at_name_ingredient_and_atc_level(cli_env: Path) -> None:
    assert runner.invoke(app, ["terms", "load-whodrug", str(B3), "--version", "B3-2026"]).exit_code == 0
    # four cases of pneumonia, each with one suspect drug: three coded with WHODrug B3, one not
    reported = ["Celecoxa 200mg", "CELECOXIB", "Panadolix", "Mystery pill"]
    for number, name in enumerate(reported, start=1):
        icsr = make_icsr(f"GB-RPDEMO-2026-00000{number}", drugs=(Drug(role=DrugRole.SUSPECT, name=name),))
        path = cli_env / f"case{number}.json"
        path.write_text(icsr.model_dump_json())
        assert runner.invoke(app, ["case", "new", str(path)]).exit_code == 0
    # B3 drug codes: CELECOXA 00000201002, CELECOXIB 00000201001 (both M01AH01), PANADOLIX 00000301003 (N02BE01)
    for case, code in (("RP0000001", "00000201002"), ("RP0000002", "00000201001"), ("RP0000003", "00000301003")):
        done = runner.invoke(app, ["case", "code-drug", case, "--drug", "1", "--whodrug", code])
        assert done.exit_code == 0, done.output

    engine = database()
    levels: dict[str, dict[tuple[str, str], int]] = {}
    for level in DrugLevel:
        source = CaseStoreSource(engine, drug_level=level)
        with duckdb.connect() as con:
            rows = source.to_relation(con).fetchall()  # (report_id, product, event, period)
        levels[level.value] = dict(Counter((product, event) for _, product, event, _ in rows))
        if level is DrugLevel.ATC:
            assert "1 drug(s) not coded with a loaded WHODrug release left out" in source.note
    out = cli_env / "atc.csv"
    done = runner.invoke(app, ["signal", "detect", "--cases", "--drug-level", "atc", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert _counts(out) == {("M01AH01", "Pneumonia"): 2, ("N02BE01", "Pneumonia"): 1}
    assert levels["name"] == {
        ("celecoxa 200mg", "Pneumonia"): 1,
        ("celecoxib", "Pneumonia"): 1,
        ("panadolix", "Pneumonia"): 1,
        ("mystery pill", "Pneumonia"): 1,
    }
    # ingredients from WHODrug ING/BNA (coded drugs), the name for the uncoded one
    assert levels["ingredient"] == {
        ("celecoxib", "Pneumonia"): 2,
        ("paracetamol", "Pneumonia"): 1,
        ("mystery pill", "Pneumonia"): 1,
    }
    assert levels["atc"] == {("M01AH01", "Pneumonia"): 2, ("N02BE01", "Pneumonia"): 1}


def test_faers_counts_by_name_or_split_ingredient_and_refuses_atc(cli_env: Path) -> None:
    out = cli_env / "name.csv"
    done = runner.invoke(app, ["signal", "detect", "--faers", str(FAERS_Q1), "--drug-level", "name", "--out", str(out)])
    assert done.exit_code == 0, done.output
    names = {product for product, _ in _counts(out)}
    # DRUG24Q1 suspect/concomitant names, normalised like the importer ("Aspirin." -> ASPIRIN); UPLIZNA is the
    # name of prod_ai INEBILIZUMAB-CDON; PARACETAMOL's case has no reaction row in this fixture
    assert names == {"ASPIRIN", "IBUPROFEN", "LISINOPRIL TABLETS", "UPLIZNA", "WARFARIN"}
    refused = runner.invoke(
        app, ["signal", "detect", "--faers", str(FAERS_Q1), "--drug-level", "atc", "--out", str(out)]
    )
    assert refused.exit_code == 2 and "FAERS drugs carry no ATC code" in refused.output
