"""Concerns defined by SMQs, HLTs and HLGTs, and `riskplan terms upgrade` from MedDRA 90.1 to 91.0.

Both releases are invented (tests/data/meddra_fixture, meddra_fixture_91; codes 9000xxxx): from 90.1 to 91.0
the LLT "Lung infection" (90002001) is made non-current, the PT Pleurisy (90001013) moves from HLT 90000204
(primary SOC 90000002) to HLT 90000201 (primary SOC 90000001), and the SMQ "Infective pneumonia"
(90100001) gains Pleurisy and loses Bronchitis (90001002). The expected figures below are worked out by
hand from those files.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from case_factory import make_icsr
from riskplan.cases import versions_at_dlp
from riskplan.cases.codes import Outcome
from riskplan.cases.model import Reaction
from riskplan.cli import app
from riskplan.settings import get_settings

runner = CliRunner()
DATA = Path(__file__).parent.parent / "data"
PLAN = Path(__file__).parent.parent.parent / "src" / "riskplan" / "plan" / "plans" / "uplizna.yaml"
WIDE = {"COLUMNS": "250"}

TEST_CONCERNS = [
    ("pneumonia-smq", {"meddra_smqs": [{"name": "Infective pneumonia (SMQ)", "scope": "narrow"}]}),
    ("respiratory-algorithm", {"meddra_smqs": [{"name": "Lower respiratory inflammation (SMQ)", "scope": "broad"}]}),
    ("cytopenia-hierarchical", {"meddra_smqs": [{"name": "Haematopoietic cytopenias (SMQ)", "scope": "narrow"}]}),
    ("white-cells-hlgt", {"meddra_hlgts": ["White blood cell disorders"]}),
    ("lower-respiratory-hlt", {"meddra_hlts": ["Lower respiratory tract and lung infections"]}),
]


def _plan_file(folder: Path) -> Path:
    plan = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    for concern_id, definition in TEST_CONCERNS:
        plan["safety_concerns"].append(
            {
                "id": concern_id,
                "title": f"Test concern {concern_id}",
                "category": "important potential risk",
                "definition": definition,
            }
        )
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    return path


def _new_case(folder: Path, number: int, *verbatims: str) -> None:
    icsr = make_icsr(
        f"GB-RPDEMO-2026-{number:06d}",
        reactions=tuple(Reaction(verbatim_term=v, outcome=Outcome.RECOVERED) for v in verbatims),
    )
    path = folder / f"case{number}.json"
    path.write_text(icsr.model_dump_json())
    done = runner.invoke(app, ["case", "new", str(path)])
    assert done.exit_code == 0, done.output


def _view(case: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(runner.invoke(app, ["case", "show", case, "--format", "json"]).output)
    return data


def _test_concerns(view: dict[str, Any]) -> dict[str, str]:
    ours = {c for c, _ in TEST_CONCERNS}
    return {c["concern_id"]: str(c["reasons"]) for c in view["concerns"] if c["concern_id"] in ours}


def _flat(output: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[│┃┏┓┗┛━─┡┩┼╇┳┻┣┫└┘┌┐├┤┬┴╭╮╰╯]", " ", output))


@pytest.fixture(scope="module")
def coded_with_90_1(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """MedDRA 90.1 loaded, the plan with the test concerns stored, four cases coded with 90.1; one database
    for the module (the tests run in order: mapping, then the upgrade)."""
    folder = tmp_path_factory.mktemp("meddra_upgrade")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        mp.setenv("RISKPLAN_DATABASE_URL", f"sqlite:///{folder / 'var' / 'riskplan.db'}")
        mp.setenv("RISKPLAN_OUTPUT_DIR", str(folder / "var" / "out"))
        mp.setenv("RISKPLAN_USER", "tester")
        mp.setenv("XDG_DATA_HOME", str(folder / "data"))
        mp.delenv("RISKPLAN_CONFIG", raising=False)
        get_settings.cache_clear()
        yield _setup(folder)
    get_settings.cache_clear()


def _setup(cli_env: Path) -> Path:
    assert runner.invoke(app, ["terms", "load-meddra", str(DATA / "meddra_fixture")]).exit_code == 0
    loaded = runner.invoke(app, ["plan", "load", str(_plan_file(cli_env)), "--reason", "SMQ concerns"])
    assert loaded.exit_code == 0, loaded.output
    _new_case(cli_env, 1, "Lung infection")  # LLT 90002001 -> PT Pneumonia
    _new_case(cli_env, 2, "Pleurisy")  # PT 90001013, category B of the algorithmic SMQ
    _new_case(cli_env, 3, "Pleurisy", "Bronchitis")  # categories B and C
    _new_case(cli_env, 4, "Neutropenia")
    return cli_env


def test_concerns_defined_by_smqs_hlts_and_hlgts_map_cases_with_reasons(coded_with_90_1: Path) -> None:
    one, two, three, four = (_test_concerns(_view(f"RP000000{i}")) for i in range(1, 5))
    # case 1: LLT Lung infection is a narrow LLT of the SMQ and its PT Pneumonia a narrow PT; category A
    # meets "A or (B and C)"; Pneumonia is under the HLT
    assert set(one) == {"pneumonia-smq", "respiratory-algorithm", "lower-respiratory-hlt"}
    assert "Infective pneumonia (SMQ) (narrow)" in one["pneumonia-smq"] and "MedDRA 90.1" in one["pneumonia-smq"]
    assert "algorithm 'A or (B and C)' applied to the case: categories A" in one["respiratory-algorithm"]
    # case 2: Pleurisy alone (category B) does not meet the algorithm; it is in none of the others in 90.1
    assert two == {}
    # case 3: Pleurisy (B) and Bronchitis (C) meet it; Bronchitis is under the HLT
    assert set(three) == {"respiratory-algorithm", "lower-respiratory-hlt"}
    assert "categories B, C" in three["respiratory-algorithm"]
    # case 4: Neutropenia: narrow in the child SMQ of the hierarchical SMQ, and under the HLGT
    assert set(four) == {"cytopenia-hierarchical", "white-cells-hlgt"}
    assert "Haematopoietic cytopenias (SMQ) (narrow)" in four["cytopenia-hierarchical"]


def test_upgrade_preview_apply_and_the_earlier_versions_kept(coded_with_90_1: Path) -> None:
    not_loaded = runner.invoke(app, ["terms", "upgrade", "--to", "91.0", "--preview"])
    assert not_loaded.exit_code == 2 and "MedDRA 91.0 is not loaded" in _flat(not_loaded.output)
    assert runner.invoke(app, ["terms", "load-meddra", str(DATA / "meddra_fixture_91")]).exit_code == 0
    engine = create_engine(f"sqlite:///{coded_with_90_1 / 'var' / 'riskplan.db'}")
    with engine.connect() as conn:
        versions_before = conn.execute(text("select count(*) from icsr_case_version")).scalar_one()

    preview = runner.invoke(app, ["terms", "upgrade", "--to", "91.0", "--preview", "--format", "json"])
    assert preview.exit_code == 0, preview.output
    found = json.loads(preview.output)
    assert found["coded_with"] == {"90.1": 4}
    [release] = found["releases"]
    assert release["from"] == "90.1"
    assert release["llts"] == [
        {
            "llt_code": 90002001,
            "llt_name": "Lung infection",
            "old_pt": 90001001,
            "new_pt": 90001001,
            "made_non_current": True,
        }
    ]
    assert release["pts_moved"] == [
        {
            "pt_code": 90001013,
            "pt_name": "Pleurisy",
            "old_hlts": [90000204],
            "new_hlts": [90000201],
            "old_primary_soc": 90000002,
            "new_primary_soc": 90000001,
        }
    ]
    assert release["smqs_changed"] == [
        {
            "smq_code": 90100001,
            "smq_name": "Infective pneumonia (SMQ)",
            "added": [90001013],
            "removed": [90001002],
            "changed": [],
        }
    ]
    assert found["concerns_changed"] == {
        "uplizna": [
            {"concern": "pneumonia-smq", "added_pts": [90001013], "removed_pts": []},
            {"concern": "lower-respiratory-hlt", "added_pts": [90001013], "removed_pts": []},
        ]
    }
    assert found["case_versions_affected"] == 3  # cases 1 (LLT), 2 and 3 (Pleurisy); not 4

    table = _flat(runner.invoke(app, ["terms", "upgrade", "--to", "91.0", "--preview"], env=WIDE).output)
    assert "LLT made non-current Lung infection (90002001)" in table
    assert "PT moved Pleurisy (90001013) HLT 90000204 → 90000201; primary SOC 90000002 → 90000001" in table
    assert "case versions affected: 3" in table

    for wrong, message in (
        (["--to", "91.0", "--apply"], "--apply needs --reason"),
        (["--to", "91.0"], "give exactly one of --preview and --apply"),
        (["--to", "99.9", "--preview"], "MedDRA 99.9 is not loaded"),
    ):
        refused = runner.invoke(app, ["terms", "upgrade", *wrong])
        assert refused.exit_code == 2 and message in _flat(refused.output), refused.output
    assert _view("RP0000001")["header"]["version"] == 1  # nothing stored by the refusals

    applied = runner.invoke(app, ["terms", "upgrade", "--to", "91.0", "--apply", "--reason", "MedDRA 91.0 in force"])
    assert applied.exit_code == 0, applied.output
    assert "3 case version(s) recorded, recoded to MedDRA 91.0" in _flat(applied.output)
    with engine.connect() as conn:  # independent SQL: 3 new versions, 3 audit rows, 3 latest versions coded 91.0
        assert conn.execute(text("select count(*) from icsr_case_version")).scalar_one() == versions_before + 3
        recoded = conn.execute(text("select count(*) from audit_event where action = 'MedDRA recoded'")).scalar_one()
        assert recoded == 3
        coded_91 = conn.execute(
            text(
                "select count(distinct v.id) from icsr_reaction r join icsr_case_version v on v.id = r.case_version_id "
                "join icsr_case c on c.id = v.case_id and c.latest_version = v.version "
                "where r.terminology = 'MedDRA 91.0'"
            )
        ).scalar_one()
        assert coded_91 == 3
    engine.dispose()

    one, two, four = _view("RP0000001"), _view("RP0000002"), _view("RP0000004")
    assert one["header"]["version"] == 2 and two["header"]["version"] == 2 and four["header"]["version"] == 1
    assert one["reactions"][0]["meddra_version"] == "91.0" and one["reactions"][0]["llt_code"] == "90002001"
    # Pleurisy is now in the SMQ (narrow) and under the HLT: case 2 counts toward both
    assert set(_test_concerns(two)) == {"pneumonia-smq", "lower-respiratory-hlt"}
    assert "MedDRA 91.0" in _test_concerns(two)["pneumonia-smq"]
    # the earlier version is kept as it was, coded with 90.1
    before = json.loads(runner.invoke(app, ["case", "show", "RP0000002", "--version", "1", "--format", "json"]).output)
    assert before["reactions"][0]["meddra_version"] == "90.1" and _test_concerns(before) == {}
    history = _flat(runner.invoke(app, ["case", "history", "RP0000002"], env=WIDE).output)
    assert 'MedDRA recoded MedDRA version (E.i.2.1a) "90.1"' in history, history
    assert "MedDRA 91.0 (loaded" in history and "MedDRA 91.0 in force" in history
    again = json.loads(runner.invoke(app, ["terms", "upgrade", "--to", "91.0", "--preview", "--format", "json"]).output)
    # case 4 is coded with 90.1 still: nothing of it changes in 91.0, so it is left as it is
    assert again["case_versions_affected"] == 0 and again["coded_with"] == {"90.1": 1}
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0


def test_an_earlier_report_is_reproduced_with_the_release_it_used(coded_with_90_1: Path) -> None:
    """After the upgrade (previous test), the data lock point counts the recoded versions; with MedDRA 90.1
    named, the versions coded with 90.1 (each case's version 1)."""
    engine = create_engine(f"sqlite:///{coded_with_90_1 / 'var' / 'riskplan.db'}")
    dlp = dt.date(2026, 12, 31)
    with Session(engine) as session:
        now = {v for v, *_ in session.execute(versions_at_dlp(session, "uplizna", dlp))}
        then = {v for v, *_ in session.execute(versions_at_dlp(session, "uplizna", dlp, meddra_version="90.1"))}
        expected_now = set(
            session.scalars(
                text(
                    "select v.id from icsr_case_version v "
                    "join icsr_case c on c.id = v.case_id and c.latest_version = v.version"
                )
            )
        )
        expected_then = set(session.scalars(text("select id from icsr_case_version where version = 1")))
    engine.dispose()
    assert now == expected_now and then == expected_then and len(then) == 4 and now != then
    out = coded_with_90_1 / "psur"
    args = ["report", "psur", "--from", "2026-01-01", "--to", "2026-12-31", "--no-pdf", "--out", str(out)]
    wrong = runner.invoke(app, [*args, "--meddra", "99.9"])
    assert wrong.exit_code == 2 and "MedDRA 99.9 is not loaded" in _flat(wrong.output)
    done = runner.invoke(app, [*args, "--meddra", "90.1"])
    assert done.exit_code == 0, done.output
    [meta] = out.glob("*.metadata.json")
    assert json.loads(meta.read_text())["meddra_version"] == "90.1"
