"""Counts, PRR, χ², ROR, IC and thresholds, checked against arithmetic done by hand on small tables."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import numpy as np
import pytest
from scipy import stats

from riskplan.errors import UserInputError
from riskplan.signals import bcpnn, frequentist, mgps
from riskplan.signals.counts import count_pairs
from riskplan.signals.disproportionality import MEASURE_COLUMNS, detect
from riskplan.signals.thresholds import THRESHOLD_SETS, flag, flagged_pairs, threshold_sets

# Eight reports; report 2 repeats a row, report 7 has two products, one row lacks a product.
ROWS = [
    (1, "A", "X", "F"),
    (2, "A", "X", "F"),
    (2, "A", "X", "F"),
    (3, "A", "Y", "M"),
    (4, "B", "X", "F"),
    (5, "B", "Y", "M"),
    (6, "B", "Y", "F"),
    (7, "A", "X", "M"),
    (7, "B", "X", "M"),
    (8, "B", "Y", "F"),
    (9, None, "X", "F"),
]


@pytest.fixture
def small() -> tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyRelation]:
    con = duckdb.connect()
    con.execute("CREATE TABLE reports (report_id INTEGER, product VARCHAR, event VARCHAR, sex VARCHAR)")
    con.executemany("INSERT INTO reports VALUES (?, ?, ?, ?)", ROWS)
    return con, con.table("reports")


def test_counts_dedupe_and_margins(small: tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyRelation]) -> None:
    con, rel = small
    c = count_pairs(con, rel)
    products, events = c.names("products"), c.names("events")
    pairs = {(products[p], events[e]): i for i, (p, e) in enumerate(zip(c.product_code, c.event_code, strict=True))}
    assert list(pairs) == [("A", "X"), ("A", "Y"), ("B", "X"), ("B", "Y")]  # name order
    ax = pairs[("A", "X")]
    # (A, X): reports 1, 2 (twice), 7 -> N = 3; A: 1, 2, 3, 7 -> 4; X: 1, 2, 4, 7 -> 4; reports 1..8.
    assert (c.n[ax], c.n_product[ax], c.n_event[ax], c.n_total) == (3, 4, 4, 8)
    assert c.expected[ax] == pytest.approx(4 * 4 / 8)
    assert c.excluded_rows == 1  # the row without a product, counted, not silently dropped
    by = {k: int(c.n[i]) for k, i in pairs.items()}
    assert by == {("A", "X"): 3, ("A", "Y"): 1, ("B", "X"): 2, ("B", "Y"): 3}


@pytest.mark.parametrize("report_type", ["VARCHAR", "HUGEINT_RANGE"])
def test_sql_route_gives_the_same_counts(report_type: str) -> None:
    """Text report ids (or ids too far apart to pack) take the SQL route; the numbers are the same."""
    con = duckdb.connect()
    rows: list[tuple[object, ...]]
    if report_type == "VARCHAR":
        rows = [(f"case-{r}", p, e, s) for r, p, e, s in ROWS]
        con.execute("CREATE TABLE t (report_id VARCHAR, product VARCHAR, event VARCHAR, sex VARCHAR)")
    else:
        rows = [(r * 2**59, p, e, s) for r, p, e, s in ROWS]
        con.execute("CREATE TABLE t (report_id BIGINT, product VARCHAR, event VARCHAR, sex VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    sql = count_pairs(con, con.table("t"), ["sex"])
    assert "layout" not in sql.arrays  # the SQL route
    ref_con = duckdb.connect()
    ref_con.execute("CREATE TABLE t (report_id INTEGER, product VARCHAR, event VARCHAR, sex VARCHAR)")
    ref_con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", ROWS)
    packed = count_pairs(ref_con, ref_con.table("t"), ["sex"])
    assert "layout" in packed.arrays  # integer ids: the packed route
    for name in ("product_code", "event_code", "n", "n_product", "n_event", "expected"):
        np.testing.assert_allclose(getattr(sql, name), getattr(packed, name), err_msg=name)
    assert (sql.n_total, sql.excluded_rows) == (packed.n_total, packed.excluded_rows) == (8, 1)
    forced = count_pairs(ref_con, ref_con.table("t"), method="sql")
    assert "layout" not in forced.arrays and np.array_equal(forced.n, packed.n)


@pytest.mark.parametrize("block_cells", [1 << 21, 100, 1])
def test_packed_segments_in_threads_equal_sql(monkeypatch: pytest.MonkeyPatch, block_cells: int) -> None:
    """Many segments of whole reports counted by several threads, in one block of products or many
    (several products a block, or one), repeated rows and shuffled input included, give exactly the SQL
    route's counts."""
    from riskplan.signals import counts as counts_module

    monkeypatch.setattr(counts_module, "_SEGMENT_ROWS", 64)
    monkeypatch.setattr(counts_module, "_BLOCK_CELLS", block_cells)
    seen: list[int] = []
    segments = counts_module._segments

    def spy(keys: np.ndarray, shift: int) -> list[tuple[int, int]]:
        cuts = segments(keys, shift)
        seen.append(len(cuts))
        return cuts

    monkeypatch.setattr(counts_module, "_segments", spy)
    rng = np.random.default_rng(11)
    rows = []
    for report in range(1, 601):
        products = rng.choice(40, rng.integers(1, 4), replace=False)
        events = rng.choice(60, rng.integers(1, 5), replace=False)
        rows += [(report, f"P{p:02d}", f"E{e:02d}") for p in products for e in events]
    rows += rows[::17]  # repeated report-product-event rows
    order = rng.permutation(len(rows))
    con = duckdb.connect()
    con.execute("CREATE TABLE t (report_id INTEGER, product VARCHAR, event VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", [rows[i] for i in order])
    con.execute("ALTER TABLE t ADD COLUMN stratum INTEGER")
    con.execute("UPDATE t SET stratum = report_id % 3")
    sql = count_pairs(con, con.table("t"), method="sql")
    sql_strata = count_pairs(con, con.table("t"), ["stratum"], method="sql")
    for strata, reference in (((), sql), (("stratum",), sql_strata)):
        packed = count_pairs(con, con.table("t"), strata, workers=3)
        assert "layout" in packed.arrays and seen[-1] > 20
        for name in ("product_code", "event_code", "n", "n_product", "n_event", "expected"):
            np.testing.assert_array_equal(getattr(packed, name), getattr(reference, name), err_msg=name)
        assert packed.n_total == reference.n_total == 600
    assert packed.arrays["packed"].shape[0] == len(set(rows))  # stratified: the distinct rows are kept


def test_stratified_expected_by_hand(small: tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyRelation]) -> None:
    con, rel = small
    c = count_pairs(con, rel, ["sex"])
    ax = 0
    # F reports: 1, 2, 4, 6, 8 (5): A in 1, 2 -> 2; X in 1, 2, 4 -> 3.  M reports: 3, 5, 7 (3): A in 3, 7
    # -> 2; X in 7 -> 1.  E = 2*3/5 + 2*1/3.
    assert c.n_strata == 2
    assert c.expected[ax] == pytest.approx(2 * 3 / 5 + 2 * 1 / 3)


def test_prr_ror_chi2_by_hand() -> None:
    # (A, X) above: a = 3, b = 4 - 3 = 1, c = 4 - 3 = 1, d = 8 - 3 - 1 - 1 = 3.
    t = frequentist.two_by_two([3], [4], [4], [8])
    assert (t.a[0], t.b[0], t.c[0], t.d[0]) == (3, 1, 1, 3)
    prr, lo, hi = frequentist.prr(t)
    assert prr[0] == pytest.approx((3 / 4) / (1 / 4))  # 3
    se = math.sqrt(1 / 3 - 1 / 4 + 1 / 1 - 1 / 4)  # sqrt(0.8333) = 0.91287
    assert lo[0] == pytest.approx(3 * math.exp(-1.959964 * se), rel=1e-6)  # 0.5014
    assert hi[0] == pytest.approx(3 * math.exp(1.959964 * se), rel=1e-6)  # 17.95
    ror, lo, hi = frequentist.ror(t)
    assert ror[0] == pytest.approx(3 * 3 / (1 * 1))  # 9
    se = math.sqrt(1 / 3 + 1 + 1 + 1 / 3)  # 1.63299
    assert (lo[0], hi[0]) == (
        pytest.approx(9 * math.exp(-1.959964 * se), rel=1e-6),
        pytest.approx(9 * math.exp(1.959964 * se), rel=1e-6),
    )
    # Yates: n (|ad - bc| - n/2)^2 / ((a+b)(c+d)(a+c)(b+d)) = 8 (|9 - 1| - 4)^2 / (4*4*4*4) = 0.5
    assert frequentist.chi_squared_yates(t)[0] == pytest.approx(0.5)
    assert frequentist.chi_squared_pearson(t)[0] == pytest.approx(8 * 64 / 256)  # 2.0


def test_larger_table_by_hand() -> None:
    # a = 20, n_product = 120, n_event = 70, n_total = 10000: b = 100, c = 50, d = 9830.
    t = frequentist.two_by_two([20], [120], [70], [10000])
    prr = frequentist.prr(t)[0][0]
    assert prr == pytest.approx((20 / 120) / (50 / 9880))  # 32.933
    ror = frequentist.ror(t)[0][0]
    assert ror == pytest.approx(20 * 9830 / (100 * 50))  # 39.32
    chi2 = frequentist.chi_squared_yates(t)[0]
    assert chi2 == pytest.approx(10000 * (abs(20 * 9830 - 100 * 50) - 5000) ** 2 / (120 * 9880 * 70 * 9930))


def test_zero_cells_are_inf_or_nan_without_correction() -> None:
    # a = 2, b = 0 (every report of the product has the event), c = 0 (the event only with it), d = 8.
    t = frequentist.two_by_two([2], [2], [2], [10])
    prr, lo, hi = frequentist.prr(t)
    assert math.isinf(prr[0]) and math.isnan(lo[0]) and math.isnan(hi[0])
    ror, lo, hi = frequentist.ror(t)
    assert math.isinf(ror[0]) and math.isnan(lo[0]) and math.isnan(hi[0])
    assert frequentist.chi_squared_yates(t)[0] == pytest.approx(10 * (16 - 5) ** 2 / (2 * 8 * 2 * 8))
    # Only with an explicit continuity correction: cells + 0.5 -> ROR = 2.5 * 8.5 / (0.5 * 0.5) = 85.
    assert frequentist.ror(t, continuity=0.5)[0][0] == pytest.approx(85.0)
    # The product in every report: c + d = 0, PRR undefined.
    assert math.isnan(frequentist.prr(frequentist.two_by_two([2], [5], [2], [5]))[0][0])
    with pytest.raises(ValueError):
        frequentist.two_by_two([5], [4], [6], [10])


def test_information_component_by_hand() -> None:
    # N = 3, E = 2: IC = log2(3.5 / 2.5) = log2(1.4) = 0.48543
    assert bcpnn.information_component([3], [2])[0] == pytest.approx(math.log2(1.4))
    lo, hi = bcpnn.ic_interval([3, 3, 10], [2, 0.5, 1.2])
    for i, (n, e) in enumerate([(3, 2), (3, 0.5), (10, 1.2)]):
        posterior = stats.gamma(n + 0.5, scale=1 / (e + 0.5))  # Gamma(N + 1/2, rate E + 1/2)
        assert lo[i] == pytest.approx(math.log2(posterior.ppf(0.025)), rel=1e-10)
        assert hi[i] == pytest.approx(math.log2(posterior.ppf(0.975)), rel=1e-10)
    # Published: vigicaen (R, v0.15.5) reference for ic_tail(n_obs = 12, n_exp = 5) prints 0.2542334.
    assert bcpnn.ic_interval([12], [5])[0][0] == pytest.approx(0.2542334, abs=5e-8)


def test_thresholds_named_sets() -> None:
    m = {
        "N": np.array([3, 2, 5, 10]),
        "PRR": np.array([2.0, 5.0, 1.9, np.inf]),
        "chi2": np.array([4.0, 10.0, 9.0, np.nan]),
        "EB05": np.array([2.0, 1.99, 0.5, np.nan]),
        "IC025": np.array([0.01, 0.0, -1.0, 2.0]),
        "ROR025": np.array([1.01, 1.0, np.nan, 3.0]),
    }
    flags = flag(m, "evans,eb05,ic025,ror025")
    assert flags["evans"].tolist() == [True, False, False, False]  # N < 3; PRR < 2; χ² NaN
    assert flags["eb05"].tolist() == [True, False, False, False]
    assert flags["ic025"].tolist() == [True, False, False, True]
    assert flags["ror025"].tolist() == [True, False, False, True]
    assert flagged_pairs(m, "ic025").tolist() == [0, 3]
    assert [t.name for t in threshold_sets("EB05, evans")] == ["eb05", "evans"]
    assert "Evans" in THRESHOLD_SETS["evans"].reference
    with pytest.raises(UserInputError, match="unknown threshold set"):
        threshold_sets("evans,prr3")


def test_detect_writes_every_measure(
    small: tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyRelation], tmp_path: Path
) -> None:
    con, rel = small
    theta = mgps.Hyperparameters(0.2, 0.1, 2.0, 4.0, 0.3)
    r = detect(con, rel, hyperparameters=theta)
    assert r.fit is None and r.n_pairs == 4
    ax = r.row("A", "X")
    assert ax["PRR"] == pytest.approx(3.0) and ax["ROR"] == pytest.approx(9.0) and ax["chi2"] == pytest.approx(0.5)
    assert ax["IC"] == pytest.approx(math.log2(1.4))
    assert ax["EBGM"] == pytest.approx(float(mgps.ebgm(theta, [3], [2.0])[0]))
    out = tmp_path / "pairs.csv"
    assert r.write(out, "evans,eb05") == 4
    header = out.read_text().splitlines()[0].split(",")
    assert header == ["product", "event", *MEASURE_COLUMNS, "signal_evans", "signal_eb05", "n_product", "n_event"]
    parquet = tmp_path / "pairs.parquet"
    assert r.write(parquet, products=["B"]) == 2  # the rows of B only; E still from all reports
    rows = duckdb.connect().sql(f"SELECT product, event, expected FROM read_parquet('{parquet}')").fetchall()
    assert rows == [("B", "X", pytest.approx(5 * 4 / 8)), ("B", "Y", pytest.approx(5 * 4 / 8))]
    with pytest.raises(UserInputError, match="not in the reports"):
        r.write(out, products=["NOPE"])
    with pytest.raises(UserInputError, match="no reports with"):
        r.index("A", "Z")
