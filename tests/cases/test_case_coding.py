"""`riskplan case code`: a case processor codes a reaction by hand; a new version, audited old -> new term."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from case_factory import make_icsr
from riskplan.cases.codes import Outcome
from riskplan.cases.model import Reaction
from riskplan.cli import app

runner = CliRunner()
WIDE = {"COLUMNS": "250"}


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[│┃┏┓┗┛━─┡┩┼╇┳┻┣┫└┘┌┐├┤┬┴╭╮╰╯]", " ", text))


def _new_uncoded(folder: Path) -> None:
    icsr = make_icsr(
        reactions=(
            Reaction(verbatim_term="pneumonia", hospitalisation=True, outcome=Outcome.RECOVERING),
            Reaction(verbatim_term="nasopharingitis", outcome=Outcome.RECOVERED),
        )
    )
    path = folder / "case.json"
    path.write_text(icsr.model_dump_json())
    assert runner.invoke(app, ["case", "new", str(path)]).exit_code == 0


def _view(case: str = "RP0000001") -> dict[str, object]:
    data: dict[str, object] = json.loads(runner.invoke(app, ["case", "show", case, "--format", "json"]).output)
    return data


def test_a_reaction_is_coded_by_hand_as_a_new_audited_version(cli_env: Path) -> None:
    _new_uncoded(cli_env)
    done = runner.invoke(
        app, ["case", "code", "RP0000001", "--reaction", "2", "--pt", "nasopharyngitis", "--reason", "typo in verbatim"]
    )
    assert done.exit_code == 0, done.output
    assert "RP0000001 reaction 2 'nasopharingitis': not coded → PT Nasopharyngitis (Infections and infestations)" in (
        _flat(done.output)
    )
    assert "stored as version 2" in done.output
    view = _view()
    second = view["reactions"][1]  # type: ignore[index]
    assert (second["pt"], second["soc"], second["coding_status"], second["coded_by_hand"]) == (
        "Nasopharyngitis",
        "Infections and infestations",
        "coded",
        True,
    )
    assert view["header"]["version"] == 2  # type: ignore[index]
    assert view["header"]["due"] == view["versions"][0]["due"]  # type: ignore[index]  # no new information: clock kept
    history = _flat(runner.invoke(app, ["case", "history", "RP0000001"], env=WIDE).output)
    assert (
        'tester coded by hand reaction 2 (nasopharingitis) "not coded" "PT Nasopharyngitis (open term list' in history
    )
    assert "typo in verbatim" in history
    assert 'changed reactions.1.pt_name "Nasopharyngitis" reaction 2 coded by hand: typo in verbatim' in history
    again = runner.invoke(app, ["case", "code", "RP0000001", "--reaction", "2", "--pt", "Nasopharyngitis"])
    assert again.exit_code == 0 and "nothing changed" in again.output


def test_hand_coding_survives_follow_up_information(cli_env: Path) -> None:
    _new_uncoded(cli_env)
    runner.invoke(app, ["case", "code", "RP0000001", "-r", "2", "--pt", "Nasopharyngitis"])
    icsr = json.loads(runner.invoke(app, ["case", "show", "RP0000001", "--format", "icsr"]).output)
    icsr["most_recent_info"] = "20261110"
    path = cli_env / "fu.json"
    path.write_text(json.dumps(icsr))
    assert runner.invoke(app, ["case", "new", str(path), "--reason", "GP letter"]).exit_code == 0
    view = _view()
    assert view["header"]["version"] == 3  # type: ignore[index]
    assert view["reactions"][1]["pt"] == "Nasopharyngitis"  # type: ignore[index]


def test_wrong_inputs_are_refused_with_suggestions_and_nothing_is_stored(cli_env: Path) -> None:
    _new_uncoded(cli_env)
    unknown = runner.invoke(app, ["case", "code", "RP0000001", "-r", "2", "--pt", "nasopharingitis"])
    assert unknown.exit_code == 2
    out = _flat(unknown.output)
    assert "'nasopharingitis' is not a PT in the open term list" in out
    assert "closest terms (score 0-100): Nasopharyngitis (93)" in out
    wrong = runner.invoke(app, ["case", "code", "RP0000001", "-r", "7", "--pt", "Nasopharyngitis"])
    assert (
        wrong.exit_code == 2 and "case RP0000001 has no reaction 7: its reactions are numbered 1 to 2" in wrong.output
    )
    lay = runner.invoke(app, ["case", "code", "RP0000001", "-r", "2", "--pt", "common cold"])
    assert lay.exit_code == 2 and "a PT for it: 'Nasopharyngitis' (use --pt)" in _flat(lay.output)
    both = runner.invoke(app, ["case", "code", "RP0000001", "-r", "2", "--pt", "X", "--llt", "Y"])
    assert both.exit_code == 2 and "exactly one of --llt TERM or --pt TERM" in both.output
    missing = runner.invoke(app, ["case", "code", "RP0000404", "-r", "1", "--pt", "Nasopharyngitis"])
    assert missing.exit_code == 2 and "no case 'RP0000404'" in missing.output
    assert _view()["header"]["latest_version"] == 1  # type: ignore[index]
    # an open-list lay term is an LLT-level choice: "common cold" -> PT Nasopharyngitis
    lay_llt = runner.invoke(app, ["case", "code", "RP0000001", "-r", "2", "--llt", "common cold"])
    assert lay_llt.exit_code == 0, lay_llt.output
    assert _view()["reactions"][1]["pt"] == "Nasopharyngitis"  # type: ignore[index]


MEDDRA_FIXTURE = Path(__file__).parent.parent / "data" / "meddra_fixture"


def test_with_a_meddra_release_the_llt_and_its_code_are_recorded_in_e2b(cli_env: Path) -> None:
    loaded = runner.invoke(app, ["terms", "load-meddra", str(MEDDRA_FIXTURE)])
    assert loaded.exit_code == 0, loaded.output
    _new_uncoded(cli_env)
    refused = runner.invoke(app, ["case", "code", "RP0000001", "-r", "2", "--pt", "Common cold"])
    assert refused.exit_code == 2
    assert "'Common cold' is not a PT in the MedDRA 90.1; a PT for it: 'Nasopharyngitis' (use --pt)" in _flat(
        refused.output
    )
    done = runner.invoke(app, ["case", "code", "RP0000001", "-r", "2", "--llt", "common cold", "--reason", "lay term"])
    assert done.exit_code == 0, done.output
    assert "not coded → LLT Common cold → PT Nasopharyngitis" in _flat(done.output)
    second = _view()["reactions"][1]  # type: ignore[index]
    assert (second["llt"], second["llt_code"], second["meddra_version"], second["pt"], second["pt_code"]) == (
        "Common cold",
        "90002010",
        "90.1",
        "Nasopharyngitis",
        "90001007",
    )
    assert second["terminology"] == "MedDRA 90.1"
    icsr = json.loads(runner.invoke(app, ["case", "show", "RP0000001", "--format", "icsr"]).output)
    assert icsr["reactions"][1]["meddra"] == {"version": "90.1", "code": "90002010"}  # E.i.2.1a/b as sent
    history = _flat(runner.invoke(app, ["case", "history", "RP0000001"], env=WIDE).output)
    assert '"LLT Common cold → PT Nasopharyngitis (MedDRA 90.1)" lay term' in history
