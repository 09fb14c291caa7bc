"""`riskplan case assign` and `riskplan case queue`: who works on a case, and the four work queues."""

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


def _new_case(folder: Path, wid: str) -> None:
    icsr = make_icsr(
        wid,
        reactions=(
            Reaction(verbatim_term="pneumonia", hospitalisation=True, outcome=Outcome.RECOVERING),
            Reaction(verbatim_term="nasopharingitis", outcome=Outcome.RECOVERED),
        ),
    )
    path = folder / f"{wid}.json"
    path.write_text(icsr.model_dump_json())
    done = runner.invoke(app, ["case", "new", str(path)])
    assert done.exit_code == 0, done.output


def _add_user(name: str, role: str) -> None:
    done = runner.invoke(app, ["user", "add", name, "--role", role, "--password-stdin"], input="a long password 123\n")
    assert done.exit_code == 0, done.output


def _queues(*args: str) -> dict[str, dict[str, object]]:
    done = runner.invoke(app, ["case", "queue", "--format", "json", *args])
    assert done.exit_code == 0, done.output
    data: dict[str, dict[str, object]] = json.loads(done.output)["queues"]
    return data


def test_a_case_is_assigned_audited_and_shows_in_the_assignees_queues(cli_env: Path) -> None:
    _new_case(cli_env, "GB-RPDEMO-2026-000001")
    _new_case(cli_env, "GB-RPDEMO-2026-000002")
    _add_user("alice", "case_processor")
    done = runner.invoke(app, ["case", "assign", "RP0000002", "--to", "alice", "--reason", "her product"])
    assert done.exit_code == 0, done.output
    assert "RP0000002 assigned to alice (was nobody)" in done.output

    everyone = _queues()
    assert set(everyone) == {"code", "assess", "submit", "returned"}
    code = everyone["code"]
    assert code["total"] == 2  # one uncoded verbatim ("nasopharingitis") per case
    assert [(i["case"], i["reaction"], i["what"]) for i in code["items"]] == [  # type: ignore[attr-defined]
        ("RP0000001", 2, "nasopharingitis"),
        ("RP0000002", 2, "nasopharingitis"),
    ]
    assert everyone["assess"]["total"] == 2  # valid, not yet medically assessed

    mine = _queues("--user", "alice", "--queue", "code")
    assert list(mine) == ["code"]
    assert [i["case"] for i in mine["code"]["items"]] == ["RP0000002"]  # type: ignore[attr-defined]
    assert mine["code"]["items"][0]["assigned_to"] == "alice"  # type: ignore[index]

    history = _flat(runner.invoke(app, ["case", "history", "RP0000002"], env=WIDE).output)
    assert "assigned" in history and "alice" in history and "her product" in history


def test_mine_is_the_current_users_work(cli_env: Path, monkeypatch: object) -> None:
    _new_case(cli_env, "GB-RPDEMO-2026-000001")
    _add_user("tester", "safety_physician")  # RISKPLAN_USER of the cli_env
    assert runner.invoke(app, ["case", "assign", "RP0000001", "--to", "tester"]).exit_code == 0
    assert _queues("--mine", "--queue", "assess")["assess"]["total"] == 1
    assert runner.invoke(app, ["case", "assign", "RP0000001", "--nobody"]).exit_code == 0
    assert _queues("--mine", "--queue", "assess")["assess"]["total"] == 0
    table = _flat(runner.invoke(app, ["case", "queue", "--queue", "assess"], env=WIDE).output)
    assert "To assess: 1" in table and "RP0000001" in table


def test_wrong_inputs_are_refused_with_exit_2_and_nothing_stored(cli_env: Path) -> None:
    _new_case(cli_env, "GB-RPDEMO-2026-000001")
    _add_user("alice", "case_processor")
    unknown = runner.invoke(app, ["case", "assign", "RP0000001", "--to", "bob"])
    assert unknown.exit_code == 2
    assert "'bob' is no user of the application" in _flat(unknown.output) and "alice" in unknown.output
    assert runner.invoke(app, ["case", "assign", "RP0000099", "--to", "alice"]).exit_code == 2
    assert runner.invoke(app, ["case", "assign", "RP0000001"]).exit_code == 2  # neither --to nor --nobody
    assert runner.invoke(app, ["case", "assign", "RP0000001", "--to", " "]).exit_code == 2
    bad_queue = runner.invoke(app, ["case", "queue", "--queue", "later"])
    assert bad_queue.exit_code == 2 and "code, assess, submit, returned" in _flat(bad_queue.output)
    assert runner.invoke(app, ["case", "queue", "--limit", "0"]).exit_code == 2
    assert runner.invoke(app, ["case", "queue", "--format", "xml"]).exit_code == 2
    assert "assigned" not in runner.invoke(app, ["case", "history", "RP0000001"], env=WIDE).output
    assert all(i["assigned_to"] is None for i in _queues()["code"]["items"])  # type: ignore[attr-defined]
