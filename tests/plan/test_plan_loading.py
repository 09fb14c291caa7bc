"""Loading a plan parsed from a public RMP summary: what the summary does not carry is kept, never silently
emptied; loading the file as it is shows the loss and stores nothing unless the loss is accepted."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine
from typer.testing import CliRunner

from riskplan.cli import app
from riskplan.plan.catalogue import load_plan, plan_to_yaml
from riskplan.plan.loading import PlanLossRefused, load_plan_version
from riskplan.plan.model import PlanPart
from riskplan.plan.parser import parse_summary_file
from riskplan.plan.versions import get_version, latest_version, list_versions, record_plan
from riskplan.store.audit import history
from riskplan.store.db import session_scope
from signing import QPPV, approve

runner = CliRunner()
WIDE = {"COLUMNS": "250"}
BUNDLED = load_plan("uplizna")
RSI_TERMS = len(BUNDLED.reference_safety_information.expected_reactions) if BUNDLED.reference_safety_information else 0
KEPT = (
    f"kept from version 1: definitions of 9 concerns, reference safety information ({RSI_TERMS} terms), "
    "18 infusion checks, patient card"
)


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[│┃┏┓┗┛━─┡┩┼╇┠┨╋┳┻┣┫└┘┌┐├┤┬┴]", " ", text))


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args, env=WIDE)
    assert result.exit_code == 0, result.output
    return _flat(result.output)


def _parsed(cli_env: Path, seed_summary: Path) -> Path:
    out = cli_env / "plan.yaml"
    _ok(["plan", "parse", str(seed_summary), "-o", str(out)])
    return out


def _edit(path: Path, change: Any) -> Path:
    data = yaml.safe_load(path.read_text())
    change(data)
    edited = path.with_name("edited.yaml")
    edited.write_text(yaml.safe_dump(data, sort_keys=False))
    return edited


def _stored(cli_env: Path, version: int) -> Any:
    from riskplan.settings import get_settings
    from riskplan.store.db import make_engine

    engine = make_engine(get_settings().database_url)
    with session_scope(engine) as s:
        plan = get_version(s, "uplizna", version).plan
        events = [(e.field, e.old_value, e.new_value) for e in history(s, "plan", "uplizna")]
        count = len(list_versions(s, "uplizna"))
    engine.dispose()
    return plan, events, count


def test_the_parser_marks_what_a_summary_does_not_carry_as_absent_not_empty(seed_summary: Path) -> None:
    plan = parse_summary_file(seed_summary)
    assert plan.absent == list(PlanPart)
    text = plan_to_yaml(plan)
    data = yaml.safe_load(text)
    assert data["absent"] == [
        "concern definitions",
        "reference safety information",
        "infusion checks",
        "patient card",
    ]
    assert not {"reference_safety_information", "infusion_checks", "patient_card"} & set(data)
    assert all("definition" not in c for c in data["safety_concerns"])
    # a plan with every part is written (and hashed) as before: no "absent" key
    assert "absent" not in yaml.safe_load(plan_to_yaml(BUNDLED))


def test_loading_a_parsed_summary_keeps_definitions_rsi_checks_and_card(cli_env: Path, seed_summary: Path) -> None:
    _ok(["plan", "load", "uplizna"])
    approve(runner, 1)
    parsed = _parsed(cli_env, seed_summary)
    out = _ok(["plan", "load", str(parsed)])
    assert "plan uplizna: stored as version 2" in out
    assert KEPT in out

    v2, events, _ = _stored(cli_env, 2)
    assert v2.absent == []
    assert [c.definition for c in v2.safety_concerns] == [c.definition for c in BUNDLED.safety_concerns]
    assert v2.reference_safety_information == BUNDLED.reference_safety_information
    assert v2.infusion_checks == BUNDLED.infusion_checks
    assert v2.patient_card == BUNDLED.patient_card
    # the only difference from version 1 is the document it was read from
    diff = _ok(["plan", "diff", "1", "2"])
    assert "changed plan source" in diff
    assert "definition" not in diff and "infusion_checks" not in diff
    # the audit row of version 2 says what was carried over, and from where
    [carried] = [json.loads(new) for f, _, new in events if f == "carried over"]
    assert carried["from"] == "version 1"
    assert carried["concern definitions"] == [c.id for c in BUNDLED.safety_concerns]
    assert carried["infusion checks"] == [c.id for c in BUNDLED.infusion_checks]
    assert carried["patient card"] == BUNDLED.patient_card.languages() if BUNDLED.patient_card else False


def test_as_is_shows_the_loss_and_stores_nothing_unless_the_loss_is_accepted(cli_env: Path, seed_summary: Path) -> None:
    _ok(["plan", "load", "uplizna"])
    parsed = _parsed(cli_env, seed_summary)
    refused = runner.invoke(app, ["plan", "load", str(parsed), "--as-is"], env=WIDE)
    assert refused.exit_code == 2
    message = _flat(refused.output)
    assert "would lose what version 1 has: definitions of 9 concerns (infusion-reaction, neutropenia," in message
    assert f"reference safety information ({RSI_TERMS} terms); 18 infusion checks; patient card" in message
    assert "Nothing stored" in message and "--accept-loss" in message
    assert _stored(cli_env, 1)[2] == 1  # still one version

    out = _ok(["plan", "load", str(parsed), "--as-is", "--accept-loss"])
    assert "stored as version 2" in out
    assert "loss accepted, not carried over from version 1: definitions of 9 concerns" in out
    v2, events, _ = _stored(cli_env, 2)
    assert v2.reference_safety_information is None and not v2.infusion_checks and v2.patient_card is None
    assert v2.absent == list(PlanPart)  # stored as it is: still known to be unknown
    [lost] = [json.loads(old) for f, old, _ in events if f == "loss accepted"]
    assert lost["from"] == "version 1" and "patient card" in lost["parts"]


def test_a_file_that_drops_parts_without_marking_them_absent_is_refused(cli_env: Path, seed_summary: Path) -> None:
    """What an older `plan parse` wrote (empty parts, no `absent`) no longer wipes the stored plan."""
    _ok(["plan", "load", "uplizna"])
    old_style = _edit(_parsed(cli_env, seed_summary), lambda d: d.pop("absent"))
    refused = runner.invoke(app, ["plan", "load", str(old_style)], env=WIDE)
    assert refused.exit_code == 2
    message = _flat(refused.output)
    assert "does not have them and does not list them as absent" in message
    assert "parse it again" in message
    assert _stored(cli_env, 1)[2] == 1


def test_new_concern_has_no_definition_and_a_removed_concern_is_reported(cli_env: Path, seed_summary: Path) -> None:
    _ok(["plan", "load", "uplizna"])

    def change(data: dict[str, Any]) -> None:
        data["safety_concerns"] = [c for c in data["safety_concerns"] if c["id"] != "malignancy"]
        data["safety_concerns"].append(
            {"id": "hypogammaglobulinaemia", "title": "Hypogammaglobulinaemia", "category": "important potential risk"}
        )
        for study in data["studies"]:
            study["safety_concerns"] = [c for c in study["safety_concerns"] if c != "malignancy"]

    out = _ok(["plan", "load", str(_edit(_parsed(cli_env, seed_summary), change))])
    assert "stored as version 2" in out
    assert "kept from version 1: definitions of 8 concerns" in out
    assert "concern hypogammaglobulinaemia is new and has no definition" in out
    assert "removed (in version 1, not in the file): concern(s) malignancy" in out
    assert "serves concern(s) not in the plan: malignancy" in out
    v2, _, _ = _stored(cli_env, 2)
    assert v2.concern("pml").definition == BUNDLED.concern("pml").definition
    assert v2.concern("hypogammaglobulinaemia").definition.is_empty


def test_a_definition_given_in_the_file_is_the_files(cli_env: Path, seed_summary: Path) -> None:
    _ok(["plan", "load", "uplizna"])

    def change(data: dict[str, Any]) -> None:
        data["safety_concerns"][0]["definition"] = {"meddra_pts": ["Infusion related reaction"]}

    out = _ok(["plan", "load", str(_edit(_parsed(cli_env, seed_summary), change))])
    assert "kept from version 1: definitions of 8 concerns" in out
    v2, _, _ = _stored(cli_env, 2)
    assert v2.safety_concerns[0].definition.meddra_pts == ["Infusion related reaction"]


def test_a_kept_patient_card_that_no_longer_fits_is_a_clear_error(cli_env: Path, seed_summary: Path) -> None:
    _ok(["plan", "load", "uplizna"])

    def change(data: dict[str, Any]) -> None:
        for c in data["safety_concerns"]:
            if c["id"] == "pml":
                c["additional_measures"] = []

    result = runner.invoke(app, ["plan", "load", str(_edit(_parsed(cli_env, seed_summary), change))], env=WIDE)
    assert result.exit_code == 2
    message = _flat(result.output)
    assert "patient_card" in message and "pml" in message
    assert "kept from version 1" in message and "Nothing stored" in message
    assert _stored(cli_env, 1)[2] == 1


def test_the_first_load_keeps_the_parts_from_the_bundled_plan_file(cli_env: Path, seed_summary: Path) -> None:
    out = _ok(["plan", "load", str(_parsed(cli_env, seed_summary))])
    assert "stored as version 1" in out
    assert "kept from the bundled plan file uplizna: definitions of 9 concerns" in out


def test_a_new_plan_with_nothing_to_keep_from_says_what_it_lacks(cli_env: Path, seed_summary: Path) -> None:
    out_file = cli_env / "new.yaml"
    _ok(["plan", "parse", str(seed_summary), "--name", "newproduct", "-o", str(out_file)])
    out = _ok(["plan", "load", str(out_file)])
    assert "plan newproduct: stored as version 1" in out
    assert (
        "not in the file, and no current plan to keep them from: concern definitions, reference safety "
        "information, infusion checks, patient card"
    ) in out


def test_wrong_inputs_exit_2_naming_the_file(cli_env: Path) -> None:
    not_a_plan = cli_env / "notes.yaml"
    not_a_plan.write_text("meeting: tuesday\n")
    result = runner.invoke(app, ["plan", "load", str(not_a_plan)], env=WIDE)
    assert result.exit_code == 2
    assert f"{not_a_plan}: 4 problem(s) with the plan" in _flat(result.output)
    missing = runner.invoke(app, ["plan", "load", str(cli_env / "missing.yaml")], env=WIDE)
    assert missing.exit_code == 2 and "missing.yaml: no such plan file" in _flat(missing.output)


def test_the_use_case_on_sqlite_and_postgresql(engine: Engine, seed_summary: Path) -> None:
    parsed = parse_summary_file(seed_summary)
    with session_scope(engine) as s:
        record_plan(s, BUNDLED, who="curator")
    with pytest.raises(PlanLossRefused) as refused, session_scope(engine) as s:
        load_plan_version(s, parsed, who="curator", as_is=True)
    assert "18 infusion checks" in str(refused.value) and "patient card" in refused.value.lost
    with session_scope(engine) as s:
        done = load_plan_version(s, parsed, who="curator", source="summary")
    assert (done.version.version, done.created) == (2, True)
    assert done.kept[0] == "definitions of 9 concerns"
    with session_scope(engine) as s:
        stored = latest_version(s, "uplizna")
        again = load_plan_version(s, parsed, who="curator")
    assert stored is not None and stored.plan.infusion_checks == BUNDLED.infusion_checks
    assert (again.version.version, again.created) == (2, False)  # the same summary again: unchanged


def test_a_signal_closed_with_a_parsed_summary_keeps_what_the_summary_does_not_carry(
    sqlite_engine: Engine, seed_summary: Path
) -> None:
    """The web's plan upload (a signal's closing move) stores the plan through the same use case."""
    from riskplan.plan.model import ConcernCategory, SafetyConcern
    from riskplan.signals.workflow import SignalState, new_signal, transition

    parsed = parse_summary_file(seed_summary)
    new_concern = SafetyConcern(
        id="hypogammaglobulinaemia", title="Hypogammaglobulinaemia", category=ConcernCategory.IMPORTANT_POTENTIAL_RISK
    )
    changed = parsed.model_copy(update={"safety_concerns": [*parsed.safety_concerns, new_concern]})
    with session_scope(sqlite_engine) as s:
        record_plan(s, BUNDLED, who="qppv")
        sid = new_signal(
            s,
            title="Low IgG",
            who="analyst",
            product="inebilizumab",
            event="Hypogammaglobulinaemia",
            plan_name="uplizna",
        ).id
        for state in (SignalState.VALIDATED, SignalState.PRIORITISED, SignalState.ASSESSED):
            transition(s, sid, state, who="analyst", reason="next")
        transition(
            s,
            sid,
            "closed",
            who="qppv1",
            role="qppv",
            reason="RMP update",
            outcome="new-safety-concern",
            plan=changed,
            signer=QPPV,
        )
    with session_scope(sqlite_engine) as s:
        v2 = get_version(s, "uplizna", 2).plan
        events = [(e.field, e.new_value) for e in history(s, "plan", "uplizna")]
    assert v2.infusion_checks == BUNDLED.infusion_checks and v2.patient_card == BUNDLED.patient_card
    assert v2.concern("pml").definition == BUNDLED.concern("pml").definition
    assert v2.concern("hypogammaglobulinaemia").definition.is_empty
    assert any(field == "carried over" for field, _ in events)
