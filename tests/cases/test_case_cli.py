"""Case processing as a case processor sees it on the command line."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from case_factory import make_icsr
from riskplan.cases.codes import Outcome
from riskplan.cases.model import Hl7Timestamp, Icsr, Reaction
from riskplan.cli import app

runner = CliRunner()
WIDE = {"COLUMNS": "250"}


def _write(folder: Path, icsr: Icsr, name: str | None = None) -> Path:
    path = folder / (name or f"{icsr.worldwide_case_id}.json")
    path.write_text(icsr.model_dump_json(indent=2))
    return path


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[│┃┏┓┗┛━─┡┩┼╇┳┻┣┫└┘┌┐├┤┬┴]", " ", text))


def test_new_case_is_processed_and_shown(cli_env: Path) -> None:
    result = runner.invoke(app, ["case", "new", str(_write(cli_env, make_icsr()))], env=WIDE)
    assert result.exit_code == 0, result.output
    out = _flat(result.output)
    assert "RP0000001 (GB-RPDEMO-2026-000001): created" in out
    assert "valid (ICH E2D) yes serious yes day 0 / due (GVP VI.C.3) 2026-11-02 / 2026-11-17" in out
    assert "pneumonia Pneumonia Infections and infestations coded caused/prolonged hospitalisation unlisted" in out
    assert "safety concern serious-infections: serious reaction Pneumonia in SOC Infections and infestations" in out
    assert "safety concern safety-in-patients-65-years: age 67 years > 65" in out


def test_follow_up_and_history(cli_env: Path) -> None:
    first = make_icsr()
    runner.invoke(app, ["case", "new", str(_write(cli_env, first))])
    follow = first.model_copy(
        update={
            "most_recent_info": Hl7Timestamp("20261109"),
            "reactions": (first.reactions[0].model_copy(update={"outcome": Outcome.RECOVERED}),),
        }
    )
    result = runner.invoke(
        app, ["case", "new", str(_write(cli_env, follow, "fu.json")), "--reason", "GP letter"], env=WIDE
    )
    assert result.exit_code == 0, result.output
    assert "follow-up stored as version 2" in result.output
    hist = _flat(runner.invoke(app, ["case", "history", "RP0000001"], env=WIDE).output)
    assert 'tester changed reactions.0.outcome "2" "1" GP letter' in hist
    assert "tester new version version 1 2 GP letter" in hist
    v1 = json.loads(runner.invoke(app, ["case", "show", "RP0000001", "--version", "1", "--format", "icsr"]).output)
    assert v1["reactions"][0]["outcome"] == "2"


def test_list_json_and_due(cli_env: Path) -> None:
    runner.invoke(app, ["case", "new", str(_write(cli_env, make_icsr("DE-1", received="20261101")))])
    mild = make_icsr("DE-2", received="20261101", reactions=(Reaction(verbatim_term="back pain"),))
    runner.invoke(app, ["case", "new", str(_write(cli_env, mild))])
    listed = json.loads(runner.invoke(app, ["case", "list", "--format", "json"]).output)
    assert [(c["worldwide_id"], c["serious"], c["reactions"]) for c in listed] == [
        ("DE-1", True, ["Pneumonia"]),
        ("DE-2", False, ["Back pain"]),
    ]
    # `case due` is `submission due`: one line per destination, each with the rule that decided it
    args = ["--as-of", "2026-11-20", "--format", "json"]
    due = json.loads(runner.invoke(app, ["case", "due", *args]).output)
    assert due == json.loads(runner.invoke(app, ["submission", "due", *args]).output)
    assert ("DE-1", "EU", "2026-11-16", -4, "eu-serious") in [
        (d["worldwide_id"], d["destination"], d["due"], d["days_left"], d["rule"]) for d in due
    ]
    table = _flat(runner.invoke(app, ["case", "due", "--as-of", "2026-11-20"], env=WIDE).output)
    assert f"Reports owed as of 2026-11-20: {len(due)} open" in table


def test_duplicates_are_ranked_and_linked(cli_env: Path) -> None:
    a = make_icsr(
        "DE-HCP-1",
        reactions=(Reaction(verbatim_term="PML", start_date=Hl7Timestamp("20261001"), results_in_death=True),),
    )
    b = make_icsr(
        "DE-LIT-9",
        received="20261110",
        reactions=(
            Reaction(
                verbatim_term="progressive multifocal leukoencephalopathy",
                start_date=Hl7Timestamp("20261002"),
                results_in_death=True,
            ),
        ),
    )
    for icsr in (a, b):
        runner.invoke(app, ["case", "new", str(_write(cli_env, icsr))])
    found = _flat(runner.invoke(app, ["case", "duplicates"], env=WIDE).output)
    assert "RP0000001 (DE-HCP-1) ~ RP0000002 (DE-LIT-9)" in found
    assert "reaction progressive multifocal leukoencephalopathy in both" in found
    linked = runner.invoke(app, ["case", "link", "RP0000001", "DE-LIT-9", "--reason", "same patient"])
    assert linked.exit_code == 0, linked.output
    shown = _flat(runner.invoke(app, ["case", "show", "DE-HCP-1"], env=WIDE).output)
    assert "linked as duplicate with DE-LIT-9: same patient" in shown


def test_bad_case_files_are_refused_with_every_field_path(cli_env: Path) -> None:
    data = json.loads(make_icsr().model_dump_json())
    data["patient"]["sex"] = "9"
    data["reactions"][0]["hospitalisation"] = "often"
    del data["worldwide_case_id"]
    bad = cli_env / "bad.json"
    bad.write_text(json.dumps(data))
    result = runner.invoke(app, ["case", "new", str(bad)], env=WIDE)
    assert result.exit_code == 2
    out = _flat(result.output)
    assert "worldwide_case_id: Field required" in out
    assert "patient.sex: '9' is not a sex code or word: 1 = male, 2 = female" in out
    assert "reactions.0.hospitalisation: Input should be a valid boolean" in out
    listed = json.loads(runner.invoke(app, ["case", "list", "--format", "json"]).output)
    assert listed == []  # nothing stored
    assert runner.invoke(app, ["case", "show", "RP0000404"]).exit_code == 2
    assert runner.invoke(app, ["case", "due", "--as-of", "25/11/2026"]).exit_code == 2
    broken = cli_env / "broken.yaml"
    broken.write_text("patient: [")
    assert "not valid YAML" in runner.invoke(app, ["case", "new", str(broken)]).output


def test_schema_is_printed(cli_env: Path) -> None:
    schema = json.loads(runner.invoke(app, ["case", "schema"]).output)
    assert "worldwide_case_id" in schema["properties"]


def test_a_case_is_medically_assessed_and_the_audit_trail_says_so(cli_env: Path) -> None:
    password = "the physician's password"
    added = runner.invoke(
        app, ["user", "add", "doc1", "--role", "safety_physician", "--password-stdin"], input=password
    )
    assert added.exit_code == 0, added.output
    runner.invoke(app, ["case", "new", str(_write(cli_env, make_icsr()))])
    done = runner.invoke(
        app,
        ["case", "assess", "RP0000001", "--causality", "possible", "--comment", "plausible TTO", "--signer", "doc1"],
        input=password + "\n",  # the hidden prompt for the signer's password
    )
    assert done.exit_code == 0, done.output
    assert (
        "RP0000001 version 1, drug 1 (UPLIZNA) × reaction 1 (Pneumonia): assessed WHO-UMC possible "
        "(source: Marketing authorisation holder); signed: doc1 (doc1), authorship"
    ) in _flat(done.output)
    trail = _flat(runner.invoke(app, ["case", "history", "RP0000001"], env=WIDE).output)
    assert "causality assessed" in trail and "WHO-UMC: Possible" in trail
    assert 'comment "plausible TTO" assessment of version 1' in trail
    bad = runner.invoke(app, ["case", "assess", "RP0000001", "--causality", "perhaps"])
    assert bad.exit_code == 2 and "unknown WHO-UMC causality 'perhaps'" in bad.output
    missing = runner.invoke(app, ["case", "assess", "RP0000099", "--causality", "possible"])
    assert missing.exit_code == 2 and "RP0000099" in missing.output


def test_a_refused_file_leaves_an_audit_row_and_nothing_else(cli_env: Path) -> None:
    # 21 CFR 11.10(e): refused intake attempts are traceable (who, when, which file, why)
    not_xml = cli_env / "notes.xml"
    not_xml.write_text("this is not XML")
    result = runner.invoke(app, ["case", "import", str(not_xml)], env=WIDE)
    assert result.exit_code == 2 and "rejected, nothing imported" in result.output
    data = json.loads(make_icsr().model_dump_json())
    data["patient"]["sex"] = "9"
    bad = cli_env / "bad.json"
    bad.write_text(json.dumps(data))
    assert runner.invoke(app, ["case", "new", str(bad)], env=WIDE).exit_code == 2
    assert json.loads(runner.invoke(app, ["case", "list", "--format", "json"]).output) == []
    trail = runner.invoke(app, ["audit", "history", "--entity-type", "case import"], env=WIDE)
    assert trail.exit_code == 0, trail.output
    out = _flat(trail.output)
    assert "tester case import notes.xml import rejected" in out
    assert "tester case import bad.json import rejected" in out
    assert "patient.sex:" in out
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0


def test_a_case_with_an_uncoded_reaction_is_shown_with_why(cli_env: Path) -> None:
    """A verbatim that no term matches (a French term from an FDA example file) is shown as not coded with the
    reason; `case show` ended in a KeyError traceback after the merge of the case view."""
    uncoded = Reaction(verbatim_term="THROMBOSE VEINEUSE PROFONDE", start_date=Hl7Timestamp("20261020"))
    icsr = make_icsr("FR-HCP-2026-7", reactions=(uncoded,))
    assert runner.invoke(app, ["case", "new", str(_write(cli_env, icsr))], env=WIDE).exit_code == 0
    shown = runner.invoke(app, ["case", "show", "FR-HCP-2026-7"], env=WIDE)
    assert shown.exit_code == 0, shown.output
    assert "reaction 1 'THROMBOSE VEINEUSE PROFONDE' not coded: no term matches" in _flat(shown.output)
