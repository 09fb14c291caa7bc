"""Disproportionality analysis of spontaneous reports: every measure for every product-event pair.

``detect`` runs the steps openEBGM separates (one function each, usable on their own):

1. :func:`riskplan.signals.counts.count_pairs` — N, margins and expected counts E (DuckDB SQL);
2. :func:`riskplan.signals.mgps.fit_hyperparameters` — the MGPS prior (or reuse given hyperparameters);
3. scores — PRR, χ² and ROR (:mod:`.frequentist`), IC (:mod:`.bcpnn`), EBGM/EB05/EB95 (:mod:`.mgps`);
4. thresholds (:mod:`.thresholds`) when writing or asking for flags.

PRR, ROR and χ² use the crude 2×2 table; IC and MGPS use E, which is stratified when strata are given
(as in openEBGM, where PRR ignores stratification).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
from numpy.typing import NDArray

from riskplan.errors import UserInputError
from riskplan.signals import bcpnn, frequentist, mgps
from riskplan.signals.counts import PairCounts, _quote, count_pairs, worker_count
from riskplan.signals.thresholds import DEFAULT_THRESHOLDS, threshold_sets

F64 = NDArray[np.float64]

#: Output columns, in order (flags follow, then the margins).
MEASURE_COLUMNS = (
    "N",
    "expected",
    "PRR",
    "PRR025",
    "PRR975",
    "chi2",
    "ROR",
    "ROR025",
    "ROR975",
    "IC",
    "IC025",
    "IC975",
    "EBGM",
    "EB05",
    "EB95",
)


@dataclass
class DetectionResult:
    """All measures for all pairs of one analysis; arrays are aligned with ``counts``."""

    counts: PairCounts
    measures: dict[str, F64]
    theta: mgps.Hyperparameters
    fit: mgps.HyperparameterFit | None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def n_pairs(self) -> int:
        return self.counts.n_pairs

    def flags(self, thresholds: str | Sequence[str] = DEFAULT_THRESHOLDS) -> dict[str, NDArray[np.bool_]]:
        return {t.name: t.flags(self.measures) for t in threshold_sets(thresholds)}

    def index(self, product: str, event: str) -> int:
        """The pair index of (product, event); a user error when the pair is not in the data."""
        products = {name: code for code, name in enumerate(self.counts.names("products"))}
        events = {name: code for code, name in enumerate(self.counts.names("events"))}
        if product not in products or event not in events:
            raise UserInputError(f"no reports with {product!r} and {event!r}")
        hit = np.flatnonzero(
            (self.counts.product_code == products[product]) & (self.counts.event_code == events[event])
        )
        if hit.shape[0] == 0:
            raise UserInputError(f"no reports with {product!r} and {event!r}")
        return int(hit[0])

    def row(self, product: str, event: str) -> dict[str, float]:
        i = self.index(product, event)
        return {k: float(v[i]) for k, v in self.measures.items()}

    def relation(
        self,
        thresholds: str | Sequence[str] = DEFAULT_THRESHOLDS,
        products: Sequence[str] | None = None,
    ) -> duckdb.DuckDBPyRelation:
        """One row per pair (product, event, measures, ``signal_<set>`` flags, n_product, n_event),
        ordered by product and event; ``products`` limits the rows (never the computation)."""
        con, t = self.counts.con, self.counts.tables
        sets = threshold_sets(thresholds)
        data: dict[str, NDArray[np.generic]] = {
            "pair": np.arange(self.n_pairs, dtype=np.int64),
            "pc": self.counts.product_code,
            "ec": self.counts.event_code,
            "n_product": self.counts.n_product,
            "n_event": self.counts.n_event,
        }
        data.update(self.measures)
        for s in sets:
            data[s.column] = s.flags(self.measures)
        name = t["src"] + "_scores"
        con.register(name, data)
        measure_sql = ", ".join(
            f"CASE WHEN isnan(s.{_quote(c)}) THEN NULL ELSE s.{_quote(c)} END AS {_quote(c)}"
            if c != "N"
            else 's."N"::BIGINT AS "N"'
            for c in MEASURE_COLUMNS
        )
        flag_sql = "".join(f", s.{s.column}" for s in sets)
        where = ""
        if products:
            listed = ", ".join("'" + p.replace("'", "''") + "'" for p in products)
            where = f"WHERE p.name IN ({listed})"
        return con.sql(
            f"SELECT p.name AS product, e.name AS event, {measure_sql}{flag_sql},"
            f" s.n_product::BIGINT AS n_product, s.n_event::BIGINT AS n_event"
            f" FROM {name} s JOIN {t['products']} p ON p.code = s.pc JOIN {t['events']} e ON e.code = s.ec"
            f" {where} ORDER BY s.pair"
        )

    def write(
        self,
        path: Path,
        thresholds: str | Sequence[str] = DEFAULT_THRESHOLDS,
        products: Sequence[str] | None = None,
    ) -> int:
        """Write the pairs to ``path`` (.csv or .parquet, by DuckDB); returns the number of rows.

        NaN (undefined measures) is written as an empty value (NULL); +inf as ``inf``.
        """
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".parquet"):
            raise UserInputError(f"{path}: the output must be a .csv or .parquet file")
        if products:
            known = set(self.counts.names("products"))
            unknown = [p for p in products if p not in known]
            if unknown:
                raise UserInputError(f"product(s) not in the reports: {', '.join(unknown)}")
        path.parent.mkdir(parents=True, exist_ok=True)
        rel = self.relation(thresholds, products)
        target = "'" + str(path).replace("'", "''") + "'"
        fmt = "(FORMAT parquet, COMPRESSION zstd)" if suffix == ".parquet" else "(FORMAT csv, HEADER true)"
        written = self.counts.con.execute(f"COPY ({rel.sql_query()}) TO {target} {fmt}").fetchall()
        return int(written[0][0])  # DuckDB's COPY returns the number of rows written


def _frequentist_and_ic(
    counts: PairCounts, measures: dict[str, F64], by_n: mgps.ByN, continuity: float, start: int, stop: int
) -> None:
    """PRR, χ², ROR and IC for the pairs ``start:stop``, written into ``measures``."""
    n, e = measures["N"][start:stop], counts.expected[start:stop]
    table = frequentist.two_by_two(n, counts.n_product[start:stop], counts.n_event[start:stop], counts.n_total)
    (
        measures["PRR"][start:stop],
        measures["PRR025"][start:stop],
        measures["PRR975"][start:stop],
    ) = frequentist.prr(table, continuity=continuity)
    (
        measures["ROR"][start:stop],
        measures["ROR025"][start:stop],
        measures["ROR975"][start:stop],
    ) = frequentist.ror(table, continuity=continuity)
    measures["chi2"][start:stop] = frequentist.chi_squared_yates(table)
    measures["IC"][start:stop] = bcpnn.information_component(n, e)
    measures["IC025"][start:stop], measures["IC975"][start:stop] = bcpnn.ic_interval(
        n, e, by_n=(by_n[0], by_n[1][start:stop])
    )


class _Scoring:
    """The measures of one analysis, filled slice by slice by the threads of a pool."""

    def __init__(self, counts: PairCounts, pool: Executor, continuity: float) -> None:
        self.counts, self.pool = counts, pool
        n = counts.n.astype(np.float64)
        self.by_n = mgps.distinct_counts(n)
        self.measures: dict[str, F64] = {"N": n, "expected": counts.expected}
        for column in MEASURE_COLUMNS[2:]:
            self.measures[column] = np.empty(counts.n_pairs, dtype=np.float64)
        self.frequentist: list[Future[None]] = [
            pool.submit(_frequentist_and_ic, counts, self.measures, self.by_n, continuity, a, b)
            for a, b in mgps.chunks(counts.n_pairs)
        ]

    def finish(self, theta: mgps.Hyperparameters) -> dict[str, F64]:
        scores = mgps.mgps_scores(theta, self.measures["N"], self.counts.expected, pool=self.pool, by_n=self.by_n)
        self.measures["EBGM"], self.measures["EB05"], self.measures["EB95"] = scores.ebgm, scores.eb05, scores.eb95
        for future in self.frequentist:
            future.result()
        return self.measures


def score_pairs(
    counts: PairCounts, theta: mgps.Hyperparameters, *, continuity: float = 0.0, workers: int | None = None
) -> dict[str, F64]:
    """Every measure for every pair of ``counts`` given the MGPS hyperparameters.

    The pairs are scored in slices on ``workers`` threads (default: the machine's cores, at most 8); the
    result does not depend on the number of threads.
    """
    with ThreadPoolExecutor(max_workers=worker_count(workers)) as pool:
        return _Scoring(counts, pool, continuity).finish(theta)


def detect(
    con: duckdb.DuckDBPyConnection,
    rel: duckdb.DuckDBPyRelation,
    *,
    strata: Sequence[str] = (),
    hyperparameters: mgps.Hyperparameters | None = None,
    squash: bool | None = None,
    starts: Sequence[Sequence[float]] = mgps.DEFAULT_STARTS,
    continuity: float = 0.0,
    workers: int | None = None,
    on_step: Callable[[str], None] | None = None,
) -> DetectionResult:
    """Counts → expected → hyperparameters → scores for every pair of the long table ``rel``.

    ``rel``: a relation on ``con`` with columns report_id, product, event (+ ``strata``).
    ``hyperparameters``: reuse these instead of fitting (e.g. from an earlier run's JSON).
    ``squash``: fit the prior on openEBGM-squashed data (True), on all distinct (N, E) exactly (False),
    or (None, the default) squashed only above :data:`riskplan.signals.mgps.SQUASH_THRESHOLD` distinct
    (N, E) points; ``result.fit.squashed`` and ``result.fit.description`` tell which fit was used.
    ``workers``: threads for the NumPy steps (default: the machine's cores, at most 8). The prior is
    fitted on one thread while PRR, ROR, χ² and IC are computed on the others; then the MGPS scores are
    computed on all of them. ``timings``: seconds of the counts, of the fit (which overlaps the
    frequentist measures), of the measures from the end of the counts (fit included), and in all.
    ``on_step``: called with a description as each step starts (for a progress display).
    """
    step = on_step or (lambda _description: None)
    t0 = time.perf_counter()
    step("counting product-event pairs")
    counts = count_pairs(con, rel, strata, workers=workers)
    return detect_counted(
        counts,
        hyperparameters=hyperparameters,
        squash=squash,
        starts=starts,
        continuity=continuity,
        workers=workers,
        on_step=on_step,
        started=t0,
    )


def detect_counted(
    counts: PairCounts,
    *,
    hyperparameters: mgps.Hyperparameters | None = None,
    squash: bool | None = None,
    starts: Sequence[Sequence[float]] = mgps.DEFAULT_STARTS,
    continuity: float = 0.0,
    workers: int | None = None,
    on_step: Callable[[str], None] | None = None,
    started: float | None = None,
) -> DetectionResult:
    """The steps of :func:`detect` after the counts: hyperparameters → scores, for counts made by any
    engine (DuckDB: :func:`count_pairs`; Spark: :func:`riskplan.signals.counts_spark.count_pairs_spark`).
    ``started``: the ``time.perf_counter()`` when counting began (default: now), for ``timings``."""
    step = on_step or (lambda _description: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter() if started is None else started
    timings["counts"] = time.perf_counter() - t0
    if counts.n_pairs == 0:
        raise UserInputError("no product-event pairs: the reports have no rows with a report id, product and event")
    t1 = time.perf_counter()
    step(f"{'fitting the MGPS prior and ' if hyperparameters is None else ''}scoring {counts.n_pairs:,} pairs")

    def fit_prior(at_one: Future[F64]) -> mgps.HyperparameterFit:
        started = time.perf_counter()
        points = mgps.weighted_points(counts.n, counts.expected, sorted_at_one=at_one.result)
        result = mgps.fit_hyperparameters(counts.n, counts.expected, squash=squash, starts=starts, distinct=points)
        timings["hyperparameters"] = time.perf_counter() - started
        return result

    given = hyperparameters.validate() if hyperparameters is not None else None
    fit = None
    with ThreadPoolExecutor(max_workers=worker_count(workers)) as pool:
        if given is None:  # the sort of E at N = 1 on one thread while the fit groups the other pairs
            fitting = pool.submit(fit_prior, pool.submit(np.sort, counts.expected[counts.n == 1]))
        scoring = _Scoring(counts, pool, continuity)
        if given is None:
            fit = fitting.result()
            theta = fit.estimate
        else:
            theta, timings["hyperparameters"] = given, 0.0
        measures = scoring.finish(theta)
    timings["measures"] = time.perf_counter() - t1
    timings["total"] = time.perf_counter() - t0
    return DetectionResult(counts=counts, measures=measures, theta=theta, fit=fit, timings=timings)
