"""`riskplan case code-drug`: a processor codes a reported drug with their WHODrug release (suggestions,
confirmation, a new audited version); the E2B(R3) file carries the identifier and the ingredients."""

from __future__ import annotations

import json
import re
from pathlib import Path

from lxml import etree
from typer.testing import CliRunner

from riskplan.cases import schema_errors
from riskplan.cli import app

runner = CliRunner()
DATA = Path(__file__).resolve().parents[1] / "data"
NS = {"h": "urn:hl7-org:v3"}
WIDE = {"COLUMNS": "250"}


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[│┃┏┓┗┛━─┡┩┼╇┳┻└┘┌┐├┤┬┴]", " ", text))


def test_a_reported_drug_is_coded_with_whodrug_audited_and_exported(cli_env: Path) -> None:
    assert (
        runner.invoke(app, ["terms", "load-whodrug", str(DATA / "whodrug_c3"), "--version", "C3-2026"]).exit_code == 0
    )
    case = json.loads(runner.invoke(app, ["case", "example"]).output)  # a complete case that exports
    case["drugs"] = [*case["drugs"][:1], {"role": "concomitant", "name": "Celecoxa 200mg caps"}]
    (cli_env / "case.json").write_text(json.dumps(case))
    assert runner.invoke(app, ["case", "new", str(cli_env / "case.json")]).exit_code == 0

    suggested = runner.invoke(app, ["case", "code-drug", "RP0000001", "--drug", "2", "--suggest", "--json"])
    assert suggested.exit_code == 0, suggested.output
    data = json.loads(suggested.output)
    assert data["reported_name"] == "Celecoxa 200mg caps"
    # both Celecoxa products score 100; the C3 name specifier tells them apart (ordered by score, then name)
    assert [(s["id"], s["name"], s["score"]) for s in data["suggestions"][:2]] == [
        ("0000000203", "Celecoxa (100 mg capsule)", 100.0),
        ("0000000202", "Celecoxa (200 mg capsule)", 100.0),
    ]
    assert data["suggestions"][0]["ingredients"] == ["celecoxib"]

    wrong = runner.invoke(app, ["case", "code-drug", "RP0000001", "--drug", "2", "--whodrug", "0000009999"])
    assert wrong.exit_code == 2
    assert "'0000009999' is no drug code or Medicinal Product ID of WHODrug C3-2026" in wrong.output
    assert "0000000202 Celecoxa (200 mg capsule) [celecoxib]" in _flat(wrong.output)

    done = runner.invoke(
        app, ["case", "code-drug", "RP0000001", "-d", "2", "--whodrug", "0000000202", "--reason", "200 mg capsules"]
    )
    assert done.exit_code == 0, done.output
    assert (
        "RP0000001 drug 2 'Celecoxa 200mg caps': not coded → Celecoxa (WHODrug C3-2026 0000000202; "
        "ingredients: celecoxib); stored as version 2"
    ) in _flat(done.output)
    stored = json.loads(runner.invoke(app, ["case", "show", "RP0000001", "--format", "icsr"]).output)
    drug = stored["drugs"][1]
    assert drug["name"] == "Celecoxa 200mg caps"  # G.k.2.2 as reported, unchanged
    assert drug["product_id"] == {"code": "0000000202", "code_system": None, "version": "WHODrug C3-2026"}
    assert [s["name"] for s in drug["substances"]] == ["celecoxib"]
    history = _flat(runner.invoke(app, ["case", "history", "RP0000001"], env=WIDE).output)
    assert "drug coded drug 2 (Celecoxa 200mg caps)" in history and "200 mg capsules" in history

    out = cli_env / "e2b"
    exported = runner.invoke(app, ["case", "export", "--e2b", str(out), "--id", "RP0000001"])
    assert exported.exit_code == 0, exported.output
    (file,) = out.glob("*.xml")
    root = etree.parse(str(file)).getroot()
    assert schema_errors(root) == []
    kinds = root.xpath(".//h:kindOfProduct[h:name='Celecoxa 200mg caps']", namespaces=NS)
    (kind,) = kinds
    code = kind.find("h:code", NS)
    assert (code.get("code"), code.get("codeSystemVersion")) == ("0000000202", "WHODrug C3-2026")  # G.k.2.1.1a/b
    assert kind.xpath("h:ingredient/h:ingredientSubstance/h:name/text()", namespaces=NS) == ["celecoxib"]

    no_drug = runner.invoke(app, ["case", "code-drug", "RP0000001", "--drug", "7", "--whodrug", "0000000202"])
    assert no_drug.exit_code == 2 and "has no drug 7: its drugs are numbered 1 to 2" in no_drug.output
    both = runner.invoke(app, ["case", "code-drug", "RP0000001", "--drug", "2"])
    assert both.exit_code == 2 and "exactly one of --whodrug" in both.output
