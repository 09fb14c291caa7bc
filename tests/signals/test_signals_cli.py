"""``signal detect``, ``import-faers``, ``trend``, ``report`` and ``synth spontaneous`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from riskplan.signals.cli import app, synth_app
from riskplan.signals.disproportionality import MEASURE_COLUMNS
from shared_data import missing_shared

runner = CliRunner()
WIDE = {"COLUMNS": "250"}
CAERS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "caers" / "caers.csv"
FAERS = Path(__file__).parent.parent / "data" / "faers"
CAERS_ARGS = ["--reports", str(CAERS), "--report-col", "id", "--product-col", "var1", "--event-col", "var2"]


def _caers() -> Path:
    if not CAERS.is_file():
        missing_shared(f"{CAERS} is absent: the shared caers data is needed for this test")
    return CAERS


def test_detect_gives_the_same_table_on_one_thread_or_several(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Counting segments, scoring slices and quantile grids split over threads: the table written is
    identical, value for value, with ``--threads 1`` and ``--threads 3``."""
    from riskplan.signals import counts, mgps

    monkeypatch.setattr(counts, "_SEGMENT_ROWS", 4096)
    monkeypatch.setattr(mgps, "SCORE_CHUNK", 997)
    monkeypatch.setattr(mgps, "_GRID_MIN_PAIRS", 1000)  # quantile grids on a small table: 64 nodes
    monkeypatch.setattr(mgps, "_GRID_NODES", 64)
    grids: list[mgps.QuantileGrid | None] = []
    build = mgps.quantile_grid
    monkeypatch.setattr(mgps, "quantile_grid", lambda *args: grids.append(build(*args)) or grids[-1])
    reports = tmp_path / "reports.parquet"
    made = runner.invoke(synth_app, ["spontaneous", "--reports", "40000", "--seed", "5", "--out", str(reports)])
    assert made.exit_code == 0, made.output
    tables = []
    for threads in ("1", "3"):
        out = tmp_path / f"signals_{threads}.parquet"
        args = ["detect", "--reports", str(reports), "--threads", threads, "--out", str(out)]
        result = runner.invoke(app, args, env=WIDE)
        assert result.exit_code == 0, result.output
        tables.append(duckdb.connect().execute(f"SELECT * FROM read_parquet('{out}')").fetchall())
    assert len(tables[0]) > 4 * 997 and any(g is not None for g in grids)
    assert tables[0] == tables[1]


def test_detect_caers_csv_and_reuse_hyperparameters(tmp_path: Path) -> None:
    _caers()
    out = tmp_path / "signals.csv"
    result = runner.invoke(app, ["detect", *CAERS_ARGS, "--out", str(out)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "17,189" in result.output and "flagged: eb05" in result.output
    con = duckdb.connect()
    columns = [c[0] for c in con.execute(f"DESCRIBE SELECT * FROM read_csv('{out}')").fetchall()]
    assert columns[:17] == ["product", "event", *MEASURE_COLUMNS]
    assert {"signal_evans", "signal_eb05", "signal_ic025", "signal_ror025"} <= set(columns)
    assert con.execute(f"SELECT count(*), sum(signal_eb05::INT) FROM read_csv('{out}')").fetchall() == [(17189, 131)]
    hyper = out.with_name("signals.csv.hyperparameters.json")
    fit = json.loads(hyper.read_text())
    assert round(fit["estimate"]["alpha1"], 2) == 3.26 and fit["converged"] and fit["consistent"]

    # Reuse the prior, one product only, Parquet out, one threshold set.
    out2 = tmp_path / "reumofan.parquet"
    result = runner.invoke(
        app,
        [
            "detect",
            *CAERS_ARGS,
            "--out",
            str(out2),
            "--product",
            "REUMOFAN PLUS",
            "--hyperparameters",
            str(hyper),
            "--thresholds",
            "eb05",
        ],
        env=WIDE,
    )
    assert result.exit_code == 0, result.output
    assert "(given)" in result.output
    rows = con.execute(f"SELECT * FROM read_parquet('{out2}')").fetchall()
    names = [c[0] for c in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{out2}')").fetchall()]
    assert {r[0] for r in rows} == {"REUMOFAN PLUS"} and "signal_evans" not in names
    both = con.execute(
        f"SELECT a.EB05, b.EB05 FROM read_parquet('{out2}') a JOIN read_csv('{out}') b USING (product, event)"
    ).fetchall()
    assert both and all(a == pytest.approx(b, rel=1e-9) for a, b in both)  # the background is unchanged


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--report-col", "report"], "no column 'report' (given by --report-col)"),
        (["--thresholds", "evans,prr9"], "unknown threshold set(s) prr9"),
        (["--out-suffix", ".xlsx"], "must name a .csv or .parquet file"),
        (["--strata-col", "sex"], "no column 'sex' (given by --strata-col)"),
        (["--product", "NO SUCH PRODUCT"], "product(s) not in the reports: NO SUCH PRODUCT"),
    ],
)
def test_detect_bad_input_exits_2(tmp_path: Path, args: list[str], message: str) -> None:
    _caers()
    out = tmp_path / ("x.xlsx" if "--out-suffix" in args else "x.csv")
    args = [a for a in args if a not in ("--out-suffix", ".xlsx")]
    base = list(CAERS_ARGS)
    if args[:1] == ["--report-col"]:
        base[base.index("--report-col") + 1] = args[1]
        args = []
    result = runner.invoke(app, ["detect", *base, *args, "--out", str(out)], env=WIDE)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_detect_source_errors(tmp_path: Path) -> None:
    out = str(tmp_path / "x.csv")
    result = runner.invoke(app, ["detect", "--out", out], env=WIDE)
    assert result.exit_code == 2 and "give either --faers DIR|ZIP or --reports FILE" in result.output
    result = runner.invoke(app, ["detect", "--reports", str(tmp_path / "none.csv"), "--out", out], env=WIDE)
    assert result.exit_code == 2 and "none.csv: no such file" in result.output
    bad = tmp_path / "h.json"
    bad.write_text('{"alpha1": 1, "beta1": -1, "alpha2": 2, "beta2": 2, "p": 0.2}')
    result = runner.invoke(
        app,
        ["detect", "--faers", str(FAERS / "faers_ascii_2024q1"), "--out", out, "--hyperparameters", str(bad)],
        env=WIDE,
    )
    assert result.exit_code == 2 and "h.json: need alpha1, beta1, alpha2, beta2 > 0" in result.output


def test_import_faers_then_detect_trend_and_report(tmp_path: Path) -> None:
    parquet = tmp_path / "faers"
    result = runner.invoke(
        app,
        ["import-faers", str(FAERS / "faers_ascii_2024q1"), str(FAERS / "faers_ascii_2024q2"), "--out", str(parquet)],
        env=WIDE,
    )
    assert result.exit_code == 0, result.output
    assert "2 bad row(s)" in result.output and "DRUG24Q1.txt:5: 8 fields, expected 20" in result.output
    assert (parquet / "drug.parquet").is_file() and (parquet / "import_report.json").is_file()

    hyper = tmp_path / "prior.json"
    hyper.write_text(json.dumps({"alpha1": 0.2, "beta1": 0.1, "alpha2": 2, "beta2": 4, "P": 0.3}))
    out = tmp_path / "faers.csv"
    result = runner.invoke(
        app,
        ["detect", "--faers", str(parquet), "--out", str(out), "--hyperparameters", str(hyper), "--strata-col", "sex"],
        env=WIDE,
    )
    assert result.exit_code == 0, result.output
    rows = (
        duckdb.connect()
        .execute(
            f"SELECT N FROM read_csv('{out}') "
            "WHERE product = 'INEBILIZUMAB-CDON' AND event = 'Infusion related reaction'"
        )
        .fetchall()
    )
    assert rows == [(2,)]
    # A raw extract (zip or folder) is imported on the fly.
    raw = runner.invoke(
        app,
        [
            "detect",
            "--faers",
            str(FAERS / "faers_ascii_2024q1"),
            "--out",
            str(tmp_path / "raw.csv"),
            "--hyperparameters",
            str(hyper),
        ],
        env=WIDE,
    )
    assert raw.exit_code == 0, raw.output

    trend_out, plot = tmp_path / "trend.csv", tmp_path / "trend.png"
    result = runner.invoke(
        app,
        [
            "trend",
            "--faers",
            str(parquet),
            "--product",
            "INEBILIZUMAB-CDON",
            "--out",
            str(trend_out),
            "--plot",
            str(plot),
        ],
        env=WIDE,
    )
    assert result.exit_code == 0, result.output
    periods = (
        duckdb.connect()
        .execute(
            f"SELECT period, N FROM read_csv('{trend_out}') WHERE event = 'Infusion related reaction' ORDER BY period"
        )
        .fetchall()
    )
    assert periods == [("2024Q1", 1), ("2024Q2", 2)]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    html = tmp_path / "report.html"
    result = runner.invoke(
        app, ["report", "--faers", str(parquet), "--product", "INEBILIZUMAB-CDON", "--out", str(html)], env=WIDE
    )
    assert result.exit_code == 0, result.output
    text = html.read_text()
    assert "Infusion related reaction" in text and "Infusion reaction" in text  # PT and its concern
    assert "data:image/png;base64," in text
    result = runner.invoke(app, ["report", "--faers", str(parquet), "--product", "NOPE", "--out", str(html)], env=WIDE)
    assert result.exit_code == 2 and "no reports with the product 'NOPE'" in result.output


def test_trend_needs_periods(tmp_path: Path) -> None:
    _caers()
    result = runner.invoke(
        app, ["trend", *CAERS_ARGS, "--product", "REUMOFAN PLUS", "--out", str(tmp_path / "t.csv")], env=WIDE
    )
    assert result.exit_code == 2 and "needs periods" in result.output


def test_synth_spontaneous_writes_data_and_truth(tmp_path: Path) -> None:
    out = tmp_path / "synth.parquet"
    result = runner.invoke(synth_app, ["spontaneous", "--reports", "3000", "--seed", "5", "--out", str(out)], env=WIDE)
    assert result.exit_code == 0, result.output
    truth = tmp_path / "synth.injected.csv"
    assert truth.is_file()
    con = duckdb.connect()
    assert con.execute(f"SELECT count(DISTINCT report_id) FROM read_parquet('{out}')").fetchall() == [(3000,)]
    injected = tmp_path / "inj.json"
    injected.write_text(json.dumps([{"product": "DRUG-00001", "event": "EVENT-00050", "relative_rate": 4}]))
    out2 = tmp_path / "synth2.parquet"
    result = runner.invoke(
        synth_app, ["spontaneous", "--reports", "3000", "--out", str(out2), "--injected", str(injected)], env=WIDE
    )
    assert result.exit_code == 0, result.output
    assert "1 injected" in result.output
    bad = runner.invoke(synth_app, ["spontaneous", "--reports", "0", "--out", str(out2)], env=WIDE)
    assert bad.exit_code == 2 and "at least 1" in bad.output
    injected.write_text(json.dumps([{"product": "DRUG-99999", "event": "EVENT-00050", "relative_rate": 4}]))
    bad = runner.invoke(
        synth_app, ["spontaneous", "--reports", "3000", "--out", str(out2), "--injected", str(injected)], env=WIDE
    )
    assert bad.exit_code == 2 and "unknown product or event" in bad.output


def test_detect_shows_its_steps_on_a_terminal(tmp_path: Path) -> None:
    """On a terminal, `signal detect` shows each step (counting, fitting and scoring, writing) with its
    time and a tick when done; the steps are what `detect` reports."""
    import io

    from rich.console import Console

    from riskplan.signals.cli import step_progress

    reports = tmp_path / "reports.csv"
    reports.write_text("report_id,product,event\n1,A,X\n1,B,Y\n2,A,X\n3,B,X\n4,A,Y\n")
    out = tmp_path / "signals.csv"
    seen: list[str] = []
    result = runner.invoke(app, ["detect", "--reports", str(reports), "--out", str(out)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "counting" not in result.output  # not a terminal: no step display
    screen = io.StringIO()
    with step_progress(True, Console(file=screen, force_terminal=True, width=100)) as step:
        from riskplan.signals.disproportionality import detect

        con = duckdb.connect()
        detect(con, con.sql(f"SELECT * FROM read_csv('{reports}')"), on_step=lambda s: (seen.append(s), step(s)))
        step("writing signals.csv")
    assert seen == ["counting product-event pairs", "fitting the MGPS prior and scoring 4 pairs"]
    shown = screen.getvalue()
    assert all(s in shown for s in [*seen, "writing signals.csv"]) and "✓" in shown
