"""`riskplan terms load-whodrug`: a user's WHODrug Global release (B3 or C3), loaded strictly, audited.

The fixtures (tests/data/whodrug_b3, whodrug_c3) are invented records in the fixed-width B3/C3 layouts;
no WHODrug content is shipped. Counts below are counted by hand from those files.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from riskplan.cli import app
from riskplan.store import make_engine, session_scope, upgrade
from riskplan.terms import load_whodrug, suggest_drugs

runner = CliRunner()
DATA = Path(__file__).resolve().parents[1] / "data"
B3, C3 = DATA / "whodrug_b3", DATA / "whodrug_c3"


def _db(env: Path) -> sqlite3.Connection:
    return sqlite3.connect(env / "var" / "riskplan.db")


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[│┃┏┓┗┛━─┡┩┼╇┳┻└┘┌┐├┤┬┴]", " ", text))


def test_b3_and_c3_releases_load_with_products_ingredients_and_atc(cli_env: Path) -> None:
    done = runner.invoke(app, ["terms", "load-whodrug", str(B3), "--version", "2026-Mar-B3"])
    assert done.exit_code == 0, done.output
    # DD.txt: 10 drug names; ING.txt: 6 rows on record level -> CO-CODAMOLIX has 2, the others 1 per name:
    # 000001 x2 names, 000002 x2, 000003 x3, 000004 x1 (2 ingredients), 000005 x2 -> 2+2+3+2+2 = 11
    assert "drug names 10" in _flat(done.output) and "product ingredients 11" in _flat(done.output)
    # DDA.txt: 6 rows; 000005 has two ATC codes and two names -> 2+2+3+1+4 = 12
    assert "product ATC classes 12" in _flat(done.output)
    c3 = runner.invoke(app, ["terms", "load-whodrug", str(C3), "--version", "2026-Mar-C3"])
    assert c3.exit_code == 0, c3.output
    assert "medicinal products 7" in _flat(c3.output) and "product ingredients 8" in _flat(c3.output)
    with _db(cli_env) as con:
        assert con.execute("SELECT version, file_format FROM whodrug_release ORDER BY version").fetchall() == [
            ("2026-Mar-B3", "B3"),
            ("2026-Mar-C3", "C3"),
        ]
        ingredients = con.execute(
            "SELECT substance_name FROM whodrug_ingredient WHERE release_version = '2026-Mar-B3' "
            "AND product_id = '00000401001' ORDER BY 1"
        ).fetchall()
        assert ingredients == [("CODEINE PHOSPHATE",), ("PARACETAMOL",)]
        assert con.execute(
            "SELECT count(*) FROM audit_event WHERE entity_type = 'whodrug_release' AND action = 'load'"
        ).fetchone() == (2,)
    shown = runner.invoke(app, ["terms", "whodrug", "0000000202"])  # the C3 release, loaded last, is current
    assert "Celecoxa (drug code 00000201002, MPID 0000000202)" in shown.output
    assert "ingredients: celecoxib" in shown.output and "M01AH01 celecoxib" in shown.output
    close = _flat(runner.invoke(app, ["terms", "whodrug", "celecoxib caps"]).output)
    assert "0000000201 Celecoxib celecoxib" in close
    again = runner.invoke(app, ["terms", "load-whodrug", str(C3), "--version", "2026-Mar-C3"])
    assert again.exit_code == 2 and "already loaded" in again.output


def _broken(tmp: Path, source: Path, edit: str, line: int | None = None, text: str = "") -> Path:
    folder = tmp / f"release-{edit.replace('.', '-')}-{line}"
    shutil.copytree(source, folder)
    if line is None:
        (folder / edit).unlink()
    else:
        lines = (folder / edit).read_text().splitlines(keepends=True)
        lines[line - 1] = text
        (folder / edit).write_text("".join(lines))
    return folder


def test_a_broken_release_is_refused_with_file_and_line_and_nothing_is_stored(cli_env: Path) -> None:
    cases = [
        (_broken(cli_env, B3, "ING.txt"), "missing WHODrug B3 file(s) ING.txt"),
        (_broken(cli_env, B3, "DDA.txt", 3, "0000030100\n"), "DDA.txt, line 3: the record is 10 characters long"),
        (_broken(cli_env, B3, "DD.txt", 2, "0000A1010020T26000010004201N261EXAMPLIX\n"), "DD.txt, line 2: drecno"),
        (_broken(cli_env, B3, "ING.txt", 4, "20260301000004010010000000099\n"), "ING.txt, line 4: substance number"),
        (_broken(cli_env, B3, "DDA.txt", 1, "000001010010L4AA99 261Y\n"), "DDA.txt, line 1: ATC code 'L4AA99'"),
        (
            _broken(cli_env, C3, "ThG.txt", 2, "0000000999L04AA9920260301Y\n"),
            "ThG.txt, line 2: 0000000999 is not in MP",
        ),
    ]
    for folder, message in cases:
        done = runner.invoke(app, ["terms", "load-whodrug", str(folder), "--version", "broken"])
        assert done.exit_code == 2, done.output
        assert message in " ".join(done.output.split()), done.output
        assert "nothing was written" in done.output and "Traceback" not in done.output
    with _db(cli_env) as con:
        assert con.execute("SELECT count(*) FROM whodrug_release").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM whodrug_product").fetchone() == (0,)
    nowhere = runner.invoke(app, ["terms", "load-whodrug", str(cli_env / "nope"), "--version", "x"])
    assert nowhere.exit_code == 2 and "no such directory" in nowhere.output


def test_suggestions_come_from_the_asked_release_of_the_asked_database(tmp_path: Path) -> None:
    """A release's names are kept in memory after the first suggestion (per database, release and load):
    two databases holding different content under the same release name, and two releases in one
    database, each answer with their own products (ids checked against the tables by SQL)."""

    def ids_of(path: Path, version: str) -> set[str]:
        with sqlite3.connect(path) as con:
            rows = con.execute("SELECT product_id FROM whodrug_product WHERE release_version = ?", (version,))
            return {r[0] for r in rows}

    found: dict[str, list[str]] = {}
    for name, first in (("a", B3), ("b", C3)):
        path = tmp_path / f"{name}.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        with session_scope(engine) as session:
            load_whodrug(session, first, who="tester", version="SAME-NAME")
        for _ in range(2):  # the second call is answered from the names kept in memory
            with session_scope(engine) as session:
                got = [s.product_id for s in suggest_drugs(session, "celecoxib caps")]
            assert got and set(got) <= ids_of(path, "SAME-NAME")
            assert found.setdefault(name, got) == got
        if name == "a":  # a second release in the same database: its own names; the first still its own
            with session_scope(engine) as session:
                load_whodrug(session, C3, who="tester", version="LATER")
            with session_scope(engine) as session:
                later = [s.product_id for s in suggest_drugs(session, "celecoxib caps")]
                earlier = [s.product_id for s in suggest_drugs(session, "celecoxib caps", release="SAME-NAME")]
            assert later and set(later) <= ids_of(path, "LATER") and earlier == found["a"]
        engine.dispose()
    assert not set(found["a"]) & set(found["b"])  # B3 drug codes vs C3 Medicinal Product IDs
