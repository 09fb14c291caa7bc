"""Synthetic spontaneous reports: structure, skew, injected truth, and detection of the injections."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest

from riskplan.errors import UserInputError
from riskplan.signals.disproportionality import detect
from riskplan.signals.sources import LongTableFile, SpontaneousSource, SyntheticSource
from riskplan.signals.synth import Injection, read_truth, synthesise_spontaneous


@pytest.fixture(scope="module")
def source() -> SyntheticSource:
    src = SyntheticSource(40_000, seed=11)
    src.to_relation(duckdb.connect())
    return src


def test_same_seed_same_data() -> None:
    a, b = synthesise_spontaneous(2000, seed=4), synthesise_spontaneous(2000, seed=4)
    c = synthesise_spontaneous(2000, seed=5)
    assert np.array_equal(a.product_code, b.product_code) and np.array_equal(a.event_code, b.event_code)
    assert a.injected == b.injected
    assert not np.array_equal(a.product_code[:500], c.product_code[:500])


def test_report_structure_and_skew(source: SyntheticSource) -> None:
    data = source.reports
    assert data is not None
    con = duckdb.connect()
    rel = data.to_relation(con)
    per_report = con.execute(
        f"SELECT max(np), min(np), max(ne), min(ne), avg(np), count(*) FROM (SELECT report_id, "
        f"count(DISTINCT product) np, count(DISTINCT event) ne FROM ({rel.sql_query()}) GROUP BY report_id)"
    ).fetchall()[0]
    max_p, min_p, max_e, min_e, mean_p, reports = per_report
    assert reports == 40_000 and min_p >= 1 and min_e >= 1 and max_p <= 10
    assert max_e <= 8 + len(data.injected)  # injected events come on top of the drawn ones
    assert 1.3 < mean_p < 2.5  # skewed toward one or two products
    counts = np.bincount(data.product_code)
    assert counts.max() > 20 * counts.min() and counts.max() > 8 * np.median(counts)  # Zipf-like
    strata = con.execute(f"SELECT DISTINCT sex FROM ({rel.sql_query()}) ORDER BY sex").fetchall()
    assert strata == [("F",), ("M",), ("UNK",)]


def test_injected_rates_are_what_was_asked(source: SyntheticSource) -> None:
    data = source.reports
    assert data is not None and len(data.injected) == 20
    for truth in data.injected:
        if truth.reports_with_product < 400 or truth.product_background_rate * truth.reports_with_product < 10:
            continue
        if truth.product_background_rate > truth.relative_rate * truth.background_rate:
            continue  # the product's own background rate already exceeds the requested rate
        observed = truth.reports_with_both / truth.reports_with_product / truth.background_rate
        # Binomial noise of the drawn count: a loose 4-sigma band around the requested rate.
        expected_n = truth.relative_rate * truth.background_rate * truth.reports_with_product
        assert abs(observed - truth.relative_rate) < 4 * truth.relative_rate / np.sqrt(expected_n) + 0.3


def test_detection_finds_the_strong_injections(source: SyntheticSource) -> None:
    con = duckdb.connect()
    result = detect(con, source.to_relation(con))
    assert result.fit is not None and result.fit.converged
    flags = result.flags("eb05,ic025,evans")
    data = source.reports
    assert data is not None
    strong = [t for t in data.injected if t.relative_rate >= 5 and t.reports_with_both >= 10]
    assert strong
    for name in ("eb05", "ic025", "evans"):
        hits = sum(bool(flags[name][result.index(t.product, t.event)]) for t in strong)
        assert hits / len(strong) >= 0.8, name
    # Most pairs are background: the EB05 criterion flags a small fraction of them.
    assert flags["eb05"].mean() < 0.05


def test_parquet_round_trip_and_sources(tmp_path: Path) -> None:
    data = synthesise_spontaneous(3000, seed=2, injected=[Injection("DRUG-00002", "EVENT-00040", 5.0)])
    path = tmp_path / "s.parquet"
    truth_path = data.write_parquet(path)
    assert read_truth(truth_path) == data.injected
    file_source = LongTableFile(path, strata_cols=("sex", "age_group"), period_col="period")
    memory_source = SyntheticSource(3000, seed=2, injected=[Injection("DRUG-00002", "EVENT-00040", 5.0)])
    for s in (file_source, memory_source):
        assert isinstance(s, SpontaneousSource)
    con = duckdb.connect()
    from riskplan.signals.counts import count_pairs

    a = count_pairs(con, file_source.to_relation(con))
    b = count_pairs(con, memory_source.to_relation(con))
    assert np.array_equal(a.n, b.n) and np.allclose(a.expected, b.expected)
    assert file_source.to_relation(con).columns == ["report_id", "product", "event", "sex", "age_group", "period"]
    with pytest.raises(UserInputError, match="unknown product or event"):
        synthesise_spontaneous(100, injected=[Injection("DRUG-1", "EVENT-00001", 2.0)])
    with pytest.raises(UserInputError, match="synthetic strata"):
        SyntheticSource(100, use_strata=("country",)).to_relation(con)
