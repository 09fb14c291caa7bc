"""`riskplan signal detect --event-level hlt|smq`: events regrouped with the loaded MedDRA release (the
invented fixture tests/data/meddra_fixture); counts worked out by hand from the seven rows below."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from riskplan.cli import app
from riskplan.settings import get_settings

FIXTURE = Path(__file__).parent.parent / "data" / "meddra_fixture"
ROWS = [
    ("1", "drugA", "Neutropenia"),
    ("2", "drugA", "Febrile neutropenia"),
    ("2", "drugA", "Neutropenia"),  # same report, same HLT: counted once
    ("3", "drugB", "Pneumonia"),
    ("4", "drugB", "Anaemia"),
    ("5", "drugA", "Lymphopenia"),  # broad term of the leukopenia SMQ only
    ("6", "drugB", "Headache"),  # not in the release
]
runner = CliRunner()
WIDE = {"COLUMNS": "250"}


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("event_levels")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        mp.setenv("RISKPLAN_DATABASE_URL", f"sqlite:///{folder / 'riskplan.db'}")
        mp.setenv("RISKPLAN_USER", "tester")
        mp.delenv("RISKPLAN_CONFIG", raising=False)
        get_settings.cache_clear()
        assert runner.invoke(app, ["terms", "load-meddra", str(FIXTURE)]).exit_code == 0
        path = folder / "reports.csv"
        with path.open("w", newline="") as f:
            csv.writer(f).writerows([("report_id", "product", "event"), *ROWS])
        yield path
    get_settings.cache_clear()


def _counts(out: Path) -> dict[tuple[str, str], int]:
    with out.open(newline="") as f:
        return {(r["product"], r["event"]): int(r["N"]) for r in csv.DictReader(f)}


def test_hlt_level_counts_a_report_once_per_hlt(reports: Path) -> None:
    out = reports.parent / "hlt.csv"
    done = runner.invoke(
        app, ["signal", "detect", "--reports", str(reports), "--out", str(out), "--event-level", "hlt"]
    )
    assert done.exit_code == 0, done.output
    assert "1 of 7 report-product-event rows left out: events not PTs of MedDRA 90.1" in " ".join(done.output.split())
    assert _counts(out) == {
        ("drugA", "Neutropenias"): 2,
        ("drugA", "Leukopenias NEC"): 1,
        ("drugB", "Lower respiratory tract and lung infections"): 1,
        ("drugB", "Anaemias NEC"): 1,
    }


def test_smq_level_narrow_and_broad(reports: Path) -> None:
    out = reports.parent / "smq.csv"
    args = ["signal", "detect", "--reports", str(reports), "--out", str(out), "--event-level", "smq"]
    done = runner.invoke(app, [*args, "--smq-scope", "narrow"], env=WIDE)
    assert done.exit_code == 0, done.output
    assert "SMQ algorithms are not applied to single events" in " ".join(done.output.split())
    narrow = _counts(out)
    assert narrow[("drugA", "Haematopoietic leukopenia (SMQ) (narrow)")] == 2
    assert narrow[("drugA", "Haematopoietic cytopenias (SMQ) (narrow)")] == 2
    assert runner.invoke(app, [*args, "--smq-scope", "broad"]).exit_code == 0
    assert _counts(out)[("drugA", "Haematopoietic leukopenia (SMQ) (broad)")] == 3  # with Lymphopenia
    wrong = runner.invoke(app, [*args, "--event-level", "llt"])
    assert wrong.exit_code == 2 and "use one of pt, hlt, hlgt, soc, smq" in wrong.output
