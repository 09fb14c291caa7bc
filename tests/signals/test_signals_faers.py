"""FAERS quarterly ASCII import: two quarters in the public layout (tests/data/faers).

2024Q1 holds cases 20001001 (version 1), 20001002, 20001003 and 20001004; its DRUG file has a row with
8 fields instead of 20 (line 5) and its REAC file a row with a non-numeric primaryid (line 7).
2024Q2 updates case 20001001 to version 2 (different drugs and reactions), adds 20001005 (a Latin-1
DRUG file) and lists case 20001003 in ``Deleted/DELETE24Q2.txt``.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import duckdb
import pytest

from riskplan.errors import UserInputError
from riskplan.signals import mgps
from riskplan.signals.disproportionality import detect
from riskplan.signals.faers import FAERS_COLUMNS, discover, import_faers
from riskplan.signals.sources import FaersParquet

DATA = Path(__file__).parent.parent / "data" / "faers"
Q1, Q2 = DATA / "faers_ascii_2024q1", DATA / "faers_ascii_2024q2"


def _zip(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as zf:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                zf.write(file, file.relative_to(folder).as_posix())
    return target


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    return duckdb.connect().sql(sql.replace("{}", f"read_parquet('{path}')")).fetchall()


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("faers")
    out = tmp / "parquet"
    import_faers([Q1, _zip(Q2, tmp / "faers_ascii_2024q2.zip")], out)
    return out


def test_layout_matches_the_public_headers() -> None:
    for file in sorted(Q1.glob("ASCII/*.txt")):
        header = file.read_text(encoding="latin-1").splitlines()[0].split("$")
        assert tuple(header) == FAERS_COLUMNS[file.name[:4]], file.name


def test_latest_versions_and_deletions(imported: Path) -> None:
    demo = _rows(imported / "demo.parquet", "SELECT caseid, caseversion, primaryid, quarter FROM {} ORDER BY caseid")
    assert demo == [
        (20001001, 2, 200010012, "2024Q2"),  # version 2 from the second quarter replaces version 1
        (20001002, 1, 200010021, "2024Q1"),
        (20001004, 1, 200010041, "2024Q1"),
        (20001005, 1, 200010051, "2024Q2"),
    ]  # 20001003 is on the deletion list
    reac = _rows(imported / "reac.parquet", "SELECT primaryid, pt FROM {} WHERE caseid = 20001001 ORDER BY pt")
    assert reac == [(200010012, "Nausea"), (200010012, "Vomiting")]  # Headache was only in version 1


def test_import_report_lists_bad_rows_with_file_and_line(imported: Path) -> None:
    import json

    report = json.loads((imported / "import_report.json").read_text())
    assert report["quarters"] == ["2024Q1", "2024Q2"]
    assert report["bad_rows_total"] == 2
    bad = {(Path(b["file"]).name, b["line"]): b["reason"] for b in report["bad_rows"]}
    assert bad == {
        ("DRUG24Q1.txt", 5): "8 fields, expected 20",
        ("REAC24Q1.txt", 7): "non-numeric primaryid '2000100X1'",
    }
    assert (report["cases"], report["versions_superseded"], report["cases_deleted"], report["reports_kept"]) == (
        5,
        1,
        1,
        4,
    )
    assert report["tables"] == {"demo": 4, "drug": 7, "reac": 6, "outc": 4, "rpsr": 0, "ther": 3, "indi": 3}
    files = {Path(f["file"].split(":")[-1]).name: f for f in report["files"]}
    assert files["DRUG24Q1.txt"]["rows_loaded"] == 6 and files["DRUG24Q1.txt"]["bad_rows"] == 1
    assert any("DELETE24Q2.txt" in d for d in report["deletion_lists"])


def test_drug_names_roles_and_encoding(imported: Path) -> None:
    drugs = _rows(imported / "drug.parquet", "SELECT primaryid, drug_seq, role_cod, drugname, prod_ai, product FROM {}")
    assert (200010012, 1, "PS", "Aspirin", "ASPIRIN", "ASPIRIN") in drugs
    assert (200010051, 1, "PS", "CAFÉINE CITRATE", None, "CAFÉINE CITRATE") in drugs  # Latin-1 file
    assert (200010051, 2, "I", "UPLIZNA", "INEBILIZUMAB-CDON", "INEBILIZUMAB-CDON") in drugs
    assert {r[2] for r in drugs} == {"PS", "SS", "C", "I"}


def test_drug_name_normalisation(tmp_path: Path) -> None:
    out = tmp_path / "q1"
    import_faers([Q1], out)
    names = {str(a): str(b) for a, b in _rows(out / "drug.parquet", "SELECT drugname, product FROM {}")}
    assert names["lisinopril   tablets"] == "LISINOPRIL TABLETS"  # no prod_ai: the drug name, normalised
    assert names["Aspirin."] == "ASPIRIN"
    pts = [r[0] for r in _rows(out / "reac.parquet", "SELECT pt FROM {} ORDER BY pt")]
    assert "Gastrointestinal haemorrhage" in pts  # runs of spaces collapsed
    demo = _rows(out / "demo.parquet", "SELECT count(*) FROM {}")
    assert demo == [(4,)]  # without the second quarter's deletion list, 20001003 stays


def test_deleted_option_and_trailing_delimiter(tmp_path: Path) -> None:
    folder = tmp_path / "q1"
    shutil.copytree(Q1, folder)
    reac = folder / "ASCII" / "REAC24Q1.txt"
    lines = reac.read_text().splitlines()
    lines[1] += "$"  # one trailing delimiter is tolerated
    reac.write_text("\n".join(lines) + "\n\n")  # and a blank line is not a row
    deleted = tmp_path / "deleted.txt"
    deleted.write_text("caseid\n20001002\n2000x\n")
    report = import_faers([folder], tmp_path / "out", [deleted])
    assert report.cases_deleted == 1 and report.reports_kept == 3
    assert report.blank_lines == 1
    reasons = [b.reason for b in report.bad_rows]
    assert "a deletion list line must be one numeric caseid" in reasons
    assert report.tables["reac"] == 4  # 6 good rows less the 2 of the deleted case
    assert ("Nausea",) in _rows(tmp_path / "out" / "reac.parquet", "SELECT pt FROM {}")  # the row ending in $


def test_bad_inputs_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="no such file"):
        discover([tmp_path / "missing.zip"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserInputError, match="no FAERS ASCII files"):
        discover([tmp_path / "empty"])
    with pytest.raises(UserInputError, match="given twice"):
        discover([Q1, _zip(Q1, tmp_path / "again.zip")])
    only_demo = tmp_path / "only"
    (only_demo / "ASCII").mkdir(parents=True)
    shutil.copy(Q1 / "ASCII" / "DEMO24Q1.txt", only_demo / "ASCII")
    with pytest.raises(UserInputError, match="lack the DRUG, REAC"):
        discover([only_demo])
    broken = tmp_path / "broken"
    shutil.copytree(Q1, broken)
    (broken / "ASCII" / "OUTC24Q1.txt").write_text("id,outcome\n1,HO\n")
    with pytest.raises(UserInputError, match=r"OUTC24Q1\.txt: line 1 is not a FAERS header"):
        import_faers([broken], tmp_path / "out")


def test_faers_parquet_source_feeds_detection(imported: Path) -> None:
    con = duckdb.connect()
    source = FaersParquet(imported, roles=("PS", "SS", "I"), use_strata=("sex",))
    rel = source.to_relation(con)
    assert rel.columns == ["report_id", "product", "event", "sex", "period"]
    result = detect(con, rel, strata=source.strata, hyperparameters=mgps.Hyperparameters(0.2, 0.1, 2, 4, 0.3))
    row = result.row("INEBILIZUMAB-CDON", "Infusion related reaction")
    assert row["N"] == 2  # cases 20001002 (PS) and 20001005 (I)
    # LISINOPRIL is concomitant only: excluded by the roles chosen
    assert "LISINOPRIL" not in result.counts.names("products")
    with pytest.raises(UserInputError, match="not a FAERS Parquet folder"):
        FaersParquet(imported.parent).to_relation(con)
