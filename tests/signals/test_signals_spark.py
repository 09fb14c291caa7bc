"""Signal counting on Apache Spark (issue 17): the same N, margins, E and scores as the DuckDB path.

The DuckDB path is itself checked against openEBGM (test_signals_mgps.py); here every count is compared
with it value for value (N, margins, n_total, excluded rows, codes and order exactly; E bit for bit),
and EBGM/EB05 within 1e-9. The Spark session is the test process's shared one (``spark`` fixture,
local mode on 2 cores).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from typer.testing import CliRunner

from riskplan.errors import UserInputError
from riskplan.signals import (
    LongTableFile,
    PairCounts,
    count_pairs_spark,
    detect,
    detect_counted,
    read_reports_spark,
    synthesise_spontaneous,
)
from riskplan.signals.cli import app
from shared_data import missing_shared

runner = CliRunner()
CAERS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "caers" / "caers.csv"


def _same_counts(spark_counts: PairCounts, duck: PairCounts) -> None:
    assert spark_counts.names("products") == duck.names("products")
    assert spark_counts.names("events") == duck.names("events")
    for name in ("product_code", "event_code", "n", "n_product", "n_event"):
        np.testing.assert_array_equal(getattr(spark_counts, name), getattr(duck, name), err_msg=name)
    assert (spark_counts.n_total, spark_counts.excluded_rows, spark_counts.n_strata) == (
        duck.n_total,
        duck.excluded_rows,
        duck.n_strata,
    )
    assert spark_counts.expected.tobytes() == duck.expected.tobytes()  # E bit for bit


@pytest.mark.slow
def test_spark_counts_of_synthetic_reports_with_strata_and_missing_values(spark: Any, tmp_path: Path) -> None:
    """~40,000 rows; rows without a product or an event, reports without a sex, reports whose rows
    disagree on the age group (the smallest is used): Spark counts = DuckDB counts, EBGM/EB05 within 1e-9."""
    data = synthesise_spontaneous(10_000, seed=11)
    path = tmp_path / "reports.parquet"
    con = duckdb.connect()
    rel = data.to_relation(con)
    # Missing values and strata that vary within a report, placed by rules on the ids and row numbers.
    con.sql(
        f"""
        COPY (
          SELECT report_id,
                 CASE WHEN n % 97 = 0 THEN NULL ELSE product END AS product,
                 CASE WHEN n % 89 = 0 THEN NULL ELSE event END AS event,
                 CASE WHEN report_id % 13 = 0 THEN NULL ELSE sex END AS sex,
                 CASE WHEN n % 5 = 0 THEN '45-64' ELSE age_group END AS age_group,
                 year
          FROM (SELECT *, row_number() OVER () AS n FROM ({rel.sql_query()}))
        ) TO '{path}' (FORMAT parquet)
        """
    )
    rows = con.sql(f"SELECT count(*) FROM '{path}'").fetchall()[0][0]
    assert 30_000 < rows < 150_000
    strata = ("sex", "age_group")
    source = LongTableFile(path, strata_cols=strata)
    duck = detect(con, source.to_relation(con), strata=strata)
    counted = count_pairs_spark(read_reports_spark(spark, path, strata=strata), strata)
    _same_counts(counted, duck.counts)
    assert counted.excluded_rows > 0 and counted.n_strata == duck.counts.n_strata > 10
    result = detect_counted(counted)
    for measure in ("EBGM", "EB05"):
        np.testing.assert_allclose(result.measures[measure], duck.measures[measure], rtol=1e-9, err_msg=measure)


@pytest.mark.slow
def test_signal_detect_counts_on_spark_caers(spark: Any, tmp_path: Path) -> None:
    """`signal detect --counts-on spark+local://2` on caers (stratified by sex): the table written equals
    the DuckDB path's (N exactly, E and the other measures within 1e-9)."""
    if not CAERS.is_file():
        missing_shared(f"{CAERS} is absent: the shared caers data is needed for this test")
    args = ["--reports", str(CAERS), "--report-col", "id", "--product-col", "var1", "--event-col", "var2"]
    args += ["--strata-col", "strat1"]
    tables = {}
    for engine in ("duckdb", "spark+local://2"):
        out = tmp_path / f"{engine.split(':')[0]}.parquet"
        result = runner.invoke(app, ["detect", *args, "--counts-on", engine, "--out", str(out)], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        assert "17,189" in result.output or "3,356" in result.output
        tables[engine] = duckdb.sql(f"SELECT * FROM read_parquet('{out}')").fetchnumpy()
    duck, on_spark = tables["duckdb"], tables["spark+local://2"]
    assert list(duck) == list(on_spark)
    for column in ("product", "event", "N", "n_product", "n_event"):
        np.testing.assert_array_equal(on_spark[column], duck[column], err_msg=column)
    for column in ("expected", "EBGM", "EB05", "EB95", "IC025", "PRR"):
        np.testing.assert_allclose(on_spark[column], duck[column], rtol=1e-9, err_msg=column)
    assert "counted on Spark (local[2])" in result.output


def test_signal_detect_counts_on_wrong_input_is_a_user_error(tmp_path: Path) -> None:
    """Wrong engine or a source Spark does not count: exit 2 with the reason, before Spark starts."""
    out = str(tmp_path / "x.csv")
    cases = [
        (["--reports", str(tmp_path / "r.parquet"), "--counts-on", "sparkle://x"], "use duckdb, spark+local://"),
        (["--faers", str(tmp_path), "--counts-on", "spark+local://"], "not --faers or --cases"),
        (["--reports", str(tmp_path / "r.parquet"), "--counts-on", "spark+local://two"], "number of cores"),
    ]
    for extra, message in cases:
        result = runner.invoke(app, ["detect", *extra, "--out", out], env={"COLUMNS": "200"})
        assert result.exit_code == 2, result.output
        assert message in " ".join(result.output.split()), result.output


def test_spark_reader_names_a_missing_column(spark: Any, tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    duckdb.sql(f"COPY (SELECT 1 AS report_id, 'A' AS product, 'X' AS event) TO '{path}' (FORMAT parquet)")
    with pytest.raises(UserInputError, match=r"no column 'sex' \(given by --strata-col\)"):
        read_reports_spark(spark, path, strata=("sex",))
