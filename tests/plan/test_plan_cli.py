"""The plan as a user sees it on the command line: show, export, load, versions, diff, bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import riskplan.demo
from riskplan.cli import app
from riskplan.plan.catalogue import load_plan
from riskplan.plan.model import RiskManagementPlan
from riskplan.settings import get_settings

runner = CliRunner()
WIDE = {"COLUMNS": "250"}

# The seed's Table II.A.1, in order.
SEED_CONCERNS = [
    ("Infusion Reaction", "important identified risk"),
    ("Neutropenia", "important identified risk"),
    ("Serious Infections, Viral Reactivation, and Opportunistic Infections", "important potential risk"),
    ("Progressive Multifocal Leukoencephalopathy", "important potential risk"),
    ("Malignancy", "important potential risk"),
    (
        "Blood disorders, particularly decrease in B-cell levels in foetal and newborns",
        "important potential risk",
    ),
    ("Safety in patients > 65 years", "missing information"),
    ("Use during pregnancy and lactation", "missing information"),
    ("Patients concomitantly receiving other immunosuppressive agents", "missing information"),
]
SEED_STUDIES = [
    "SPHERES Registry Study",
    "Pregnancy Registry Study",
    "Real-World Observational Study",
    "Post-authorization Safety Study",
]


def _flat(text: str) -> str:
    """Table output with cell borders and line wraps removed, for substring checks."""
    return re.sub(r"\s+", " ", re.sub(r"[│┃┏┓┗┛━─┡┩┼╇┠┨╋┳┻┣┫└┘┌┐├┤┬┴]", " ", text))


def test_plan_show_lists_the_nine_concerns_in_seed_order_and_four_studies(cli_env: Path) -> None:
    result = runner.invoke(app, ["plan", "show"], env=WIDE)
    assert result.exit_code == 0, result.output
    out = _flat(result.output)
    assert "Safety concerns (9)" in out
    positions = []
    for title, category in SEED_CONCERNS:
        match = re.search(rf"\d+ {re.escape(category)} {re.escape(title)}", out)
        assert match, f"{title!r} ({category}) not listed"
        positions.append(match.start())
    assert positions == sorted(positions), "concerns not in the seed's order"
    assert "Pharmacovigilance plan studies (4)" in out
    study_positions = [out.index(s) for s in SEED_STUDIES]
    assert study_positions == sorted(study_positions)


def test_export_json_reads_back_as_the_same_plan(cli_env: Path) -> None:
    result = runner.invoke(app, ["plan", "export", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert RiskManagementPlan.model_validate(json.loads(result.output)) == load_plan("uplizna")


def test_export_html_and_markdown_carry_every_concern_and_study(cli_env: Path) -> None:
    html_file = cli_env / "out" / "plan.html"
    result = runner.invoke(app, ["plan", "export", "-f", "html", "-o", str(html_file)])
    assert result.exit_code == 0, result.output
    html = html_file.read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert "Important potential risk 2: Progressive Multifocal Leukoencephalopathy" in html
    assert "Missing information 1: Safety in patients &gt; 65 years" in html
    assert html.count('class="concern"') == 9
    assert html.count('class="study"') == 4
    assert "SmPC Sections 4.2, 4.3, 4.4, 4.5 and 4.8." in html  # serious infections
    assert "Patient card" in html
    md = runner.invoke(app, ["plan", "export", "-f", "md"]).output
    assert "| Important identified risks | Infusion reaction; Neutropenia |" in md
    assert "#### Missing information 3: Patients concomitantly receiving other immunosuppressive agents" in md
    assert "Safety in patients > 65 years" in md  # Markdown is not HTML-escaped


def test_unknown_plan_name_is_a_clear_error(cli_env: Path) -> None:
    result = runner.invoke(app, ["plan", "show", "--plan", "no-such-plan"])
    assert result.exit_code == 2
    assert "unknown plan 'no-such-plan'" in result.output
    assert "uplizna" in result.output  # names the plans that exist


def test_plan_file_violating_the_model_lists_every_field_path(cli_env: Path) -> None:
    data = load_plan("uplizna").model_dump(mode="json")
    data["safety_concerns"][0]["category"] = "important risk"
    data["safety_concerns"][2]["routine_measures"]["smpc_sections"] = ["four point four"]
    del data["product"]["active_substance"]
    data["studies"][0]["safety_concerns"] = ["no-such-concern"]
    bad = cli_env / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    result = runner.invoke(app, ["plan", "show", "--plan", str(bad)], env=WIDE)
    assert result.exit_code == 2
    out = _flat(result.output)
    assert "product.active_substance: Field required" in out
    assert "safety_concerns.0.category: Input should be" in out
    assert "safety_concerns.2.routine_measures.smpc_sections.0: String should match pattern" in out


def test_study_naming_an_unknown_concern_is_refused(cli_env: Path) -> None:
    data = load_plan("uplizna").model_dump(mode="json")
    data["studies"][0]["safety_concerns"] = ["no-such-concern"]
    bad = cli_env / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    result = runner.invoke(app, ["plan", "load", str(bad)], env=WIDE)
    assert result.exit_code == 2
    assert "unknown safety concern(s) no-such-concern" in _flat(result.output)
    assert _stored_versions(cli_env) == []  # nothing was stored


def _stored_versions(folder: Path) -> list[int]:
    from riskplan.plan.versions import list_versions
    from riskplan.store.db import make_engine, session_scope

    engine = make_engine(f"sqlite:///{folder / 'var' / 'riskplan.db'}")
    try:
        with session_scope(engine) as session:
            return [v.version for v in list_versions(session)]
    except Exception:  # no database created at all
        return []
    finally:
        engine.dispose()


def test_yaml_syntax_error_and_wrong_suffix(cli_env: Path) -> None:
    broken = cli_env / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    result = runner.invoke(app, ["plan", "show", "--plan", str(broken)])
    assert result.exit_code == 2
    assert "not valid YAML" in result.output
    summary = cli_env / "summary.txt"
    summary.write_text("text")
    result = runner.invoke(app, ["plan", "load", str(summary)])
    assert result.exit_code == 2
    assert "riskplan plan parse" in result.output


def _changed_plan(folder: Path) -> Path:
    data = load_plan("uplizna").model_dump(mode="json")
    neutropenia = next(c for c in data["safety_concerns"] if c["id"] == "neutropenia")
    neutropenia["additional_measures"] = [{"name": "Educational material for healthcare professionals"}]
    data["safety_concerns"] = [c for c in data["safety_concerns"] if c["id"] != "malignancy"]
    for study in data["studies"]:
        study["safety_concerns"] = [c for c in study["safety_concerns"] if c != "malignancy"]
    data["safety_concerns"].append(
        {
            "id": "hypogammaglobulinaemia",
            "title": "Hypogammaglobulinaemia",
            "category": "important identified risk",
            "evidence": "Signal SIG-2026-001 assessed",
        }
    )
    path = folder / "uplizna-v2.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_loading_a_changed_plan_creates_a_version_and_diff_shows_the_changes(cli_env: Path) -> None:
    first = runner.invoke(app, ["plan", "load", "uplizna"])
    assert first.exit_code == 0, first.output
    assert "stored as version 1" in first.output
    again = runner.invoke(app, ["plan", "load", "uplizna"])
    assert "unchanged, still version 1" in again.output

    changed = _changed_plan(cli_env)
    second = runner.invoke(app, ["plan", "load", str(changed), "--reason", "signal SIG-2026-001"])
    assert second.exit_code == 0, second.output
    assert "stored as version 2" in second.output

    versions = _flat(runner.invoke(app, ["plan", "versions"], env=WIDE).output)
    assert re.search(r"1 \d{4}-\d\d-\d\d [\d:]+ tester bundled|1 \d{4}-\d\d-\d\d [\d:]+ tester uplizna", versions)
    assert "signal SIG-2026-001" in versions

    diff = runner.invoke(app, ["plan", "diff", "1", "2"], env=WIDE)
    assert diff.exit_code == 0, diff.output
    out = _flat(diff.output)
    assert "uplizna v1 → uplizna v2" in out
    assert "added safety concern hypogammaglobulinaemia Hypogammaglobulinaemia" in out
    assert "removed safety concern malignancy Malignancy" in out
    assert "changed safety concern neutropenia additional_measures [] " in out
    assert "Educational material for healthcare professionals" in out
    assert "changed study spheres-registry-study safety_concerns" in out


def test_diff_of_unknown_version_is_a_clear_error(cli_env: Path) -> None:
    runner.invoke(app, ["plan", "load", "uplizna"])
    result = runner.invoke(app, ["plan", "diff", "1", "7"])
    assert result.exit_code == 2
    assert "plan 'uplizna' has no version 7 (versions: 1)" in result.output


def test_diff_between_identical_versions_says_so(cli_env: Path) -> None:
    runner.invoke(app, ["plan", "load", "uplizna"])
    result = runner.invoke(app, ["plan", "diff", "1", "uplizna"])
    assert result.exit_code == 0
    assert "no differences" in result.output


def test_every_group_has_help(cli_env: Path) -> None:
    for args in (["--help"], ["plan", "--help"], ["db", "--help"], ["plan", "diff", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, args
        assert "Usage" in result.output


def test_demo_prints_the_paths_it_wrote(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # every step, on fewer synthetic cases and persons than `riskplan demo` makes (what it writes does not
    # depend on how many)
    monkeypatch.setattr(riskplan.demo, "DEMO_CASES", 60)
    monkeypatch.setattr(riskplan.demo, "DEMO_PERSONS", 600)
    result = runner.invoke(app, ["demo"], env=WIDE)
    assert result.exit_code == 0, result.output
    written = dict(
        line.rsplit(": ", 1)
        for line in result.output.split("riskplan demo: outputs", 1)[1].splitlines()
        if ": " in line
    )
    for suffix in ("html", "md", "json"):
        path = cli_env / "data" / "riskplan" / "demo" / "out" / "plan" / f"uplizna.{suffix}"  # the demo's own
        assert path.is_file()
        assert written[f"plan ({suffix})"] == str(path)
    for label, path in written.items():
        if label != "database":
            assert Path(path).is_file(), label
    assert any(label.startswith("study report") for label in written)
    assert "cases per safety concern (json)" in written
    out = _flat(result.output)
    assert "stored as new version 1" in out
    # the PSUR the demo prints is stored, so `report list` (and the web app's Reports page) list it
    assert "stored as report 1" in out
    demo_db = cli_env / "data" / "riskplan" / "demo" / "riskplan-demo.db"
    monkeypatch.setenv("RISKPLAN_DATABASE_URL", f"sqlite:///{demo_db}")
    get_settings.cache_clear()
    listed = runner.invoke(app, ["report", "list"], env=WIDE)
    assert listed.exit_code == 0, listed.output
    assert "2025-11-01" in listed.output and "2026-10-31" in listed.output
    rerun = runner.invoke(app, ["demo", "--steps", "plan"], env=WIDE)
    assert "unchanged, version 1" in _flat(rerun.output)
    bad = runner.invoke(app, ["demo", "--steps", "plan,nonsense"])
    assert bad.exit_code == 2
    assert "unknown step(s) nonsense" in bad.output


def test_settings_come_from_riskplan_toml(cli_env: Path, monkeypatch: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    from riskplan.settings import get_settings

    monkeypatch.delenv("RISKPLAN_DATABASE_URL")
    (cli_env / "riskplan.toml").write_text(f'database_url = "sqlite:///{cli_env}/from-toml.db"\n')
    get_settings.cache_clear()
    assert get_settings().database_url.endswith("from-toml.db")
    result = runner.invoke(app, ["plan", "load", "uplizna"])
    assert result.exit_code == 0
    assert (cli_env / "from-toml.db").is_file()


def test_parse_the_seed_summary_into_a_plan_file_and_show_it(cli_env: Path, seed_summary: Path) -> None:
    out = cli_env / "parsed.yaml"
    result = runner.invoke(app, ["plan", "parse", str(seed_summary), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "9 safety concerns, 4 studies" in result.output
    parsed = load_plan(str(out))
    bundled = load_plan("uplizna")
    assert [(c.id, c.title, c.category) for c in parsed.safety_concerns] == [
        (c.id, c.title, c.category) for c in bundled.safety_concerns
    ]
    assert parsed.studies == bundled.studies


def test_parse_of_a_file_that_is_not_a_summary_exits_2_naming_what_was_expected(cli_env: Path) -> None:
    recipe = cli_env / "recipe.txt"
    recipe.write_text("Pancakes\n\nMix flour, eggs and milk.\n")
    result = runner.invoke(app, ["plan", "parse", str(recipe)])
    assert result.exit_code == 2
    assert "not an RMP summary" in result.output
    assert "II.A List of important risks and missing information" in result.output


def test_a_version_is_approved_once_and_the_versions_list_shows_it(cli_env: Path) -> None:
    qppv_password = "the QPPV's own password"
    added = runner.invoke(
        app,
        ["user", "add", "qppv1", "--role", "qppv", "--full-name", "Anne Quist", "--password-stdin"],
        input=qppv_password + "\n",
    )
    assert added.exit_code == 0, added.output
    runner.invoke(app, ["plan", "load", "uplizna"])
    sign = ["--signer", "qppv1", "--password-stdin"]
    done = runner.invoke(
        app, ["plan", "approve", "1", "--reason", "EMA procedure EMEA/H/C/005818", *sign], input=qppv_password + "\n"
    )
    assert done.exit_code == 0, done.output
    assert "plan uplizna version 1 approved; signed: Anne Quist (qppv1), approval, 20" in _flat(done.output)
    versions = _flat(runner.invoke(app, ["plan", "versions"], env=WIDE).output)
    assert re.search(r"\d{4}-\d\d-\d\d by qppv1", versions)
    assert re.search(r"Anne Quist \(qppv1\), approval, \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", versions)
    # refused before any password is asked for or checked
    again = runner.invoke(app, ["plan", "approve", "1", *sign], input="")
    assert again.exit_code == 2 and "already approved" in again.output
    unknown = runner.invoke(app, ["plan", "approve", "9", *sign], input="")
    assert unknown.exit_code == 2 and "no version 9" in unknown.output
