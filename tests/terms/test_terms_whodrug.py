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
