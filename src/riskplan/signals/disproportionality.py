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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
from numpy.typing import NDArray

from riskplan.errors import UserInputError
from riskplan.signals import bcpnn, frequentist, mgps
from riskplan.signals.counts import PairCounts, _quote, count_pairs
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
        self.counts.con.execute(f"COPY ({rel.sql_query()}) TO {target} {fmt}")
        rows = self.counts.con.execute(
            f"SELECT count(*) FROM read_{'parquet' if suffix == '.parquet' else 'csv'}({target})"
        ).fetchall()
        return int(rows[0][0])


def score_pairs(
    counts: PairCounts,
    theta: mgps.Hyperparameters,
    *,
    continuity: float = 0.0,
    distinct: tuple[mgps.Points, NDArray[np.intp]] | None = None,
) -> dict[str, F64]:
    """Every measure for every pair of ``counts`` given the MGPS hyperparameters.

    IC and the MGPS scores depend on (N, E) only: they are computed once per distinct (N, E)
    (``distinct``: from :func:`riskplan.signals.mgps.distinct_points`, computed here if not given) and
    spread to the pairs.
    """
    table = frequentist.two_by_two(counts.n, counts.n_product, counts.n_event, counts.n_total)
    prr, prr025, prr975 = frequentist.prr(table, continuity=continuity)
    ror, ror025, ror975 = frequentist.ror(table, continuity=continuity)
    chi2 = frequentist.chi_squared_yates(table)
    del table
    points, inverse = distinct if distinct is not None else mgps.distinct_points(counts.n, counts.expected)
    ic025, ic975 = bcpnn.ic_interval(points.n, points.e)
    scores = mgps.mgps_scores(theta, points.n, points.e)
    return {
        "N": counts.n.astype(np.float64),
        "expected": counts.expected,
        "PRR": prr,
        "PRR025": prr025,
        "PRR975": prr975,
        "chi2": chi2,
        "ROR": ror,
        "ROR025": ror025,
        "ROR975": ror975,
        "IC": bcpnn.information_component(points.n, points.e)[inverse],
        "IC025": ic025[inverse],
        "IC975": ic975[inverse],
        "EBGM": scores.ebgm[inverse],
        "EB05": scores.eb05[inverse],
        "EB95": scores.eb95[inverse],
    }


def detect(
    con: duckdb.DuckDBPyConnection,
    rel: duckdb.DuckDBPyRelation,
    *,
    strata: Sequence[str] = (),
    hyperparameters: mgps.Hyperparameters | None = None,
    squash: bool | None = None,
    starts: Sequence[Sequence[float]] = mgps.DEFAULT_STARTS,
    continuity: float = 0.0,
) -> DetectionResult:
    """Counts → expected → hyperparameters → scores for every pair of the long table ``rel``.

    ``rel``: a relation on ``con`` with columns report_id, product, event (+ ``strata``).
    ``hyperparameters``: reuse these instead of fitting (e.g. from an earlier run's JSON).
    ``squash``: fit the prior on openEBGM-squashed data (True), on all distinct (N, E) exactly (False),
    or (None, the default) squashed only above :data:`riskplan.signals.mgps.SQUASH_THRESHOLD` distinct
    (N, E) points; ``result.fit.squashed`` and ``result.fit.description`` tell which fit was used.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    counts = count_pairs(con, rel, strata)
    timings["counts"] = time.perf_counter() - t0
    if counts.n_pairs == 0:
        raise UserInputError("no product-event pairs: the reports have no rows with a report id, product and event")
    t1 = time.perf_counter()
    distinct = mgps.distinct_points(counts.n, counts.expected)
    fit = None
    if hyperparameters is None:
        fit = mgps.fit_hyperparameters(counts.n, counts.expected, squash=squash, starts=starts, distinct=distinct[0])
        theta = fit.estimate
    else:
        theta = hyperparameters.validate()
    timings["hyperparameters"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    measures = score_pairs(counts, theta, continuity=continuity, distinct=distinct)
    timings["scores"] = time.perf_counter() - t2
    timings["total"] = time.perf_counter() - t0
    return DetectionResult(counts=counts, measures=measures, theta=theta, fit=fit, timings=timings)
