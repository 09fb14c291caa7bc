"""`riskplan case show`: the whole case, readable, never crashing, nothing cut; `--format json` for scripts."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from case_factory import concomitant, make_icsr, neutrophil_test
from conftest import shared_file
from riskplan.cases.codes import ActionTaken, DrugRole, Outcome, Recurrence, Sex
from riskplan.cases.model import (
    Dosage,
    Drug,
    DrugReactionAssessment,
    Hl7Timestamp,
    Icsr,
    Patient,
    Quantity,
    Reaction,
    RelatednessAssessment,
    Substance,
)
from riskplan.cli import app

runner = CliRunner()
WIDE = {"COLUMNS": "250"}
LONG_ID = "GB-RPDEMO-2026-000001-A-WORLDWIDE-CASE-ID-LONGER-THAN-ANY-COLUMN"


def _write(folder: Path, icsr: Icsr) -> Path:
    path = folder / f"{len(list(folder.glob('*.json')))}.json"
    path.write_text(icsr.model_dump_json(indent=2))
    return path


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[│┃┏┓┗┛━─┡┩┼╇┳┻┣┫└┘┌┐├┤┬┴╭╮╰╯]", " ", text))


def _uncoded_case(wid: str = "GB-RPDEMO-2026-000060") -> Icsr:
    return make_icsr(
        wid,
        reactions=(Reaction(verbatim_term="nasopharingitis", outcome=Outcome.RECOVERED),),
    )


def test_show_and_new_do_not_crash_on_an_uncoded_reaction_and_show_its_suggestions(cli_env: Path) -> None:
    # the old code read r["coding_note"], which get_case never returned: KeyError after the case was stored
    new = runner.invoke(app, ["case", "new", str(_write(cli_env, _uncoded_case()))], env=WIDE)
    assert new.exit_code == 0, new.output
    shown = runner.invoke(app, ["case", "show", "RP0000001"], env=WIDE)
    assert shown.exit_code == 0, shown.output
    out = _flat(shown.output)
    assert "nasopharingitis" in out and "not coded" in out
    assert "suggestions Nasopharyngitis (93)" in out
    assert "riskplan case code RP0000001 --reaction 1" in out


def test_imported_fda_examples_show_without_a_meddra_release(cli_env: Path) -> None:
    examples = sorted(shared_file("standards", "e2b_r3", "examples").glob("fda_FAERS2022Scenario*.xml"))
    assert len(examples) == 8
    # Scenarios 6-8 reuse the worldwide id of 2-3 with an older C.1.5: refused as out-of-order follow-ups
    imported = runner.invoke(app, ["case", "import", *map(str, examples[:5])])
    assert imported.exit_code == 0, imported.output
    for number in ("RP0000001", "RP0000002", "RP0000003"):
        shown = runner.invoke(app, ["case", "show", number], env=WIDE)
        assert shown.exit_code == 0, shown.output
        assert "Traceback" not in shown.output
    fda = _flat(runner.invoke(app, ["case", "show", "RP0000002"], env=WIDE).output)
    assert "RP0000002 US-APHARMA-222222222" in fda
    assert "THROMBOSE VEINEUSE PROFONDE" in fda and "Sender's comments (H.4): Sender Comments" in fda


def _full_case() -> Icsr:
    reaction = Reaction(
        verbatim_term="pneumonia",
        verbatim_language="eng",
        hospitalisation=True,
        start_date=Hl7Timestamp("20261020"),
        end_date=Hl7Timestamp("20261030"),
        outcome=Outcome.RECOVERED,
    )
    suspect = Drug(
        role=DrugRole.SUSPECT,
        name="UPLIZNA",
        substances=(Substance(name="inebilizumab"),),
        dosages=(
            Dosage(
                dose=Quantity(value="300", unit="mg"),
                start_date=Hl7Timestamp("20260301"),
                end_date=Hl7Timestamp("20261015"),
                route_text="intravenous",
                batch_lot="LOT-42",
            ),
        ),
        action_taken=ActionTaken.WITHDRAWN,
        reaction_assessments=(
            DrugReactionAssessment(
                reaction_id=reaction.id,
                assessments=(
                    RelatednessAssessment(source="Primary source", method="Global introspection", result="related"),
                ),
                recurrence=Recurrence.RECHALLENGE_DID_NOT_RECUR,
            ),
        ),
    )
    return make_icsr(
        LONG_ID,
        reactions=(reaction,),
        drugs=(suspect, concomitant("Imurel", "azathioprine")),
        patient=Patient(
            name="JD",
            age=Quantity(value="67", unit="a"),
            sex=Sex.FEMALE,
            weight_kg="61.5",
            medical_history_text="asthma since childhood",
        ),
        tests=(neutrophil_test("0.4"),),
        narrative="A 67-year-old woman on UPLIZNA was admitted with pneumonia and recovered on antibiotics.",
        sender_comments="Consistent with the known risk of serious infections.",
    )


def test_show_presents_every_section_a_reviewer_needs(cli_env: Path) -> None:
    runner.invoke(app, ["case", "new", str(_write(cli_env, _full_case()))])
    password = "the physician's password"
    added = ["user", "add", "doc1", "--role", "safety_physician", "--full-name", "Dr One", "--password-stdin"]
    assert runner.invoke(app, added, input=password + "\n").exit_code == 0
    assess = ["case", "assess", "RP0000001", "--causality", "probable", "--comment", "TTO plausible"]
    signed = runner.invoke(app, [*assess, "--signer", "doc1", "--password-stdin"], input=password + "\n")
    assert signed.exit_code == 0, signed.output
    out = _flat(runner.invoke(app, ["case", "show", "RP0000001"], env=WIDE).output)
    for expected in (
        "initials (D.1) JD",
        "age (D.2.2) 67 years",
        "sex (D.5) Female",
        "weight kg (D.3) 61.5",
        "medical history (D.7.2) asthma since childhood",
        "pneumonia Pneumonia Infections and infestations",
        "2026-10-20 – 2026-10-30",
        "300 mg; route intravenous;",
        "lot LOT-42",
        "Drug withdrawn",
        "Primary source / Global introspection: related",
        "yes - no (rechallenge was done, reaction did not recur)",
        "Neutrophil count 0.4 10*9/L",
        "admitted with pneumonia and recovered on antibiotics",
        "Sender's comments (H.4): Consistent with the known risk",
        "safety concern serious-infections",
        "WHO-UMC probable Marketing authorisation holder doc1",
        "Dr One (doc1), authorship",
        "causality assessed",
    ):
        assert expected in out, expected
    # what E2B(R3) export still needs, from the export's own business rules
    assert "missing for E2B(R3) submission" in out
    for element in ("C.1.2", "C.3.1", "C.2.r.5"):
        assert f" {element} " in out, element


def test_identifiers_are_never_cut_in_a_narrow_terminal(cli_env: Path) -> None:
    runner.invoke(app, ["case", "new", str(_write(cli_env, _full_case()))])
    narrow = runner.invoke(app, ["case", "show", "RP0000001"], env={"COLUMNS": "80"})
    assert narrow.exit_code == 0, narrow.output
    assert LONG_ID in narrow.output
    assert "…" not in narrow.output
    # the narrative wraps inside its panel instead of being cropped at the edge (soft-wrap console)
    assert "recovered on antibiotics." in _flat(narrow.output)


def test_json_is_the_case_view_for_scripts(cli_env: Path) -> None:
    runner.invoke(app, ["case", "new", str(_write(cli_env, _uncoded_case()))])
    result = runner.invoke(app, ["case", "show", "RP0000001", "--format", "json"])
    assert result.exit_code == 0, result.output
    view = json.loads(result.output)
    assert view["header"]["case_number"] == "RP0000001"
    assert view["patient"]["age"] == "67 years"
    [reaction] = view["reactions"]
    assert reaction["coding_status"] == "not coded"
    assert reaction["suggestions"] == [{"term": "Nasopharyngitis", "pt_name": "Nasopharyngitis", "score": 93.3}]
    assert {f["element"] for f in view["submission"]["missing"]} >= {"C.3.1", "H.1", "E.i.1.1b"}
    assert [v["version"] for v in view["versions"]] == [1]
    assert view["audit"][0]["action"] == "created"
    icsr = json.loads(runner.invoke(app, ["case", "show", "RP0000001", "--format", "icsr"]).output)
    assert icsr["worldwide_case_id"] == "GB-RPDEMO-2026-000060"
    bad = runner.invoke(app, ["case", "show", "RP0000001", "--format", "xml"])
    assert bad.exit_code == 2 and "--format must be text, json or icsr" in bad.output
    missing = runner.invoke(app, ["case", "show", "RP0000404", "--format", "json"])
    assert missing.exit_code == 2 and "no case 'RP0000404'" in missing.output


def test_what_show_says_is_missing_is_what_the_export_refuses(cli_env: Path) -> None:
    """One definition of "complete for submission": `case new` stores a valid case (GVP VI.B.2) and `case show`
    lists the E2B(R3) elements still missing; `case export --e2b` refuses the case naming the same elements."""
    minimal = cli_env / "minimal.json"
    minimal.write_text(
        json.dumps(
            {
                "worldwide_case_id": "GB-MIN-2026-1",
                "sender_report_id": "GB-MIN-2026-1",
                "report_type": "spontaneous",
                "first_received": "2026-11-25",
                "most_recent_info": "2026-11-25",
                "primary_sources": [{"country": "GB", "qualification": "physician"}],
                "patient": {"name": "AB", "sex": "female"},
                "reactions": [{"verbatim_term": "pneumonia", "hospitalisation": True}],
                "drugs": [{"role": "suspect", "name": "UPLIZNA"}],
            }
        )
    )
    new = runner.invoke(app, ["case", "new", str(minimal)], env=WIDE)
    assert new.exit_code == 0, new.output
    assert "valid (ICH E2D) yes" in _flat(new.output) and "missing for E2B(R3) submission" in new.output
    view = json.loads(runner.invoke(app, ["case", "show", "RP0000001", "--format", "json"]).output)
    missing = {f["element"] for f in view["submission"]["missing"]}
    assert missing == {"C.1.2", "C.2.r.5", "C.3.1", "E.i.1.1b", "E.i.7", "H.1"}
    refused = runner.invoke(app, ["case", "export", "--id", "RP0000001", "--e2b", str(cli_env / "out")], env=WIDE)
    assert refused.exit_code == 2 and "nothing written" in refused.output
    assert set(re.findall(r"error (\S+) at", refused.output)) == missing
    assert not list((cli_env / "out").glob("*.xml")) if (cli_env / "out").exists() else True
