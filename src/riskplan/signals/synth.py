"""Synthetic spontaneous reports with known drug-event associations, for testing and benchmarks.

``synthesise_spontaneous`` builds a long table (one row per report-product-event) the way a real
spontaneous-reporting database looks to a disproportionality analysis:

- product and event frequencies follow a Zipf-like law (``p_k ∝ (k + 2)^-s``), so a few products
  and events dominate and most are rare;
- each report lists 1-10 products and 1-8 events, geometric-like and skewed toward one or two;
- background heterogeneity, as in real data: each product belongs to one of ``n_classes`` classes and
  each class has its own log-normal affinity for each event (σ = ``heterogeneity``); a report's events
  are drawn with the affinities of its first product's class;
- report-level strata: sex, age group, year (and the quarter, for time trends);
- injected associations: for each (product, event, relative reporting rate *r*), the event is added to
  reports of the product so that P(event | product) = r × P(event) (its rate in all reports before
  injection), in expectation; they are returned as the ground truth (with the counts drawn).

Everything is drawn with NumPy in whole arrays (no loop over reports); the table is handed to DuckDB
straight from the arrays (a dict of arrays is a relation) and written to Parquet by DuckDB. Ten million
reports (~50 million rows) take about a minute and ~3 GB.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import numpy as np
from numpy.typing import NDArray

from riskplan.errors import UserInputError

SEXES = ("F", "M", "UNK")
_SEX_P = (0.56, 0.40, 0.04)
AGE_GROUPS = ("0-17", "18-44", "45-64", "65-74", "75+", "UNK")
_AGE_P = (0.06, 0.24, 0.30, 0.17, 0.13, 0.10)
FIRST_YEAR = 2015
N_YEARS = 10

I32 = NDArray[np.int32]
I8 = NDArray[np.int8]


@dataclass(frozen=True)
class Injection:
    """An association to inject: the event is reported ``relative_rate`` times as often with the product."""

    product: str
    event: str
    relative_rate: float


@dataclass(frozen=True)
class InjectedTruth:
    """Ground truth for one injected association, with what was actually drawn."""

    product: str
    event: str
    relative_rate: float
    background_rate: float  # P(event) among all reports before injection
    product_background_rate: float  # P(event) among the product's reports before injection
    reports_with_product: int
    reports_with_both: int  # distinct reports with product and event after injection
    added_reports: int  # reports to which the event was added


@dataclass
class SyntheticReports:
    """The generated long table as NumPy arrays (codes into ``products``/``events``) plus truth."""

    report_id: I32
    product_code: I32
    event_code: I32
    sex: I8
    age_group: I8
    year: NDArray[np.int16]
    quarter: I8
    products: list[str]
    events: list[str]
    injected: list[InjectedTruth]
    n_reports: int
    seed: int
    meta: dict[str, float | int] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return int(self.report_id.shape[0])

    def to_relation(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
        """The long table as a DuckDB relation: report_id, product, event, sex, age_group, year, period.

        The arrays are registered on ``con`` (a view named ``_synth_rows``); keep this object alive
        while the relation is used. Rows stay grouped by report, in report order.
        """
        con.register(
            "_synth_rows",
            {
                "report_id": self.report_id,
                "product_code": self.product_code,
                "event_code": self.event_code,
                "sex_code": self.sex,
                "age_code": self.age_group,
                "year": self.year,
                "quarter": self.quarter,
            },
        )
        sexes = ", ".join(f"'{s}'" for s in SEXES)
        ages = ", ".join(f"'{a}'" for a in AGE_GROUPS)
        # Names follow from the codes (rank k is DRUG-0000k / EVENT-0000k): a projection, so the rows
        # keep their order (grouped by report).
        return con.sql(
            f"""
            SELECT r.report_id,
                   printf('DRUG-%05d', r.product_code + 1) AS product,
                   printf('EVENT-%05d', r.event_code + 1) AS event,
                   [{sexes}][r.sex_code + 1] AS sex, [{ages}][r.age_code + 1] AS age_group,
                   r.year::INTEGER AS year,
                   r.year::VARCHAR || 'Q' || r.quarter::VARCHAR AS period
            FROM _synth_rows r
            """
        )

    def write_parquet(self, path: Path, *, truth_path: Path | None = None) -> Path:
        """Write the long table to ``path`` (Parquet, by DuckDB) and the ground truth beside it.

        The truth goes to ``truth_path`` or ``<path without suffix>.injected.csv``; returns that path.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect()
        try:
            rel = self.to_relation(con)
            rel.write_parquet(str(path), compression="zstd")
        finally:
            con.close()
        truth = truth_path or path.with_name(path.name.removesuffix(path.suffix) + ".injected.csv")
        write_truth(self.injected, truth)
        return truth


def write_truth(truth: Sequence[InjectedTruth], path: Path) -> None:
    fields = list(InjectedTruth.__dataclass_fields__)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for t in truth:
            writer.writerow(asdict(t))


def read_truth(path: Path) -> list[InjectedTruth]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [
            InjectedTruth(
                product=row["product"],
                event=row["event"],
                relative_rate=float(row["relative_rate"]),
                background_rate=float(row["background_rate"]),
                product_background_rate=float(row["product_background_rate"]),
                reports_with_product=int(row["reports_with_product"]),
                reports_with_both=int(row["reports_with_both"]),
                added_reports=int(row["added_reports"]),
            )
            for row in csv.DictReader(fh)
        ]


def _zipf_probabilities(n: int, exponent: float, offset: float = 2.0) -> NDArray[np.float64]:
    p = (np.arange(1, n + 1, dtype=np.float64) + offset) ** (-exponent)
    return np.asarray(p / p.sum(), dtype=np.float64)


def _truncated_geometric(rng: np.random.Generator, size: int, ratio: float, upper: int) -> I32:
    """Counts 1..upper with P(k) ∝ ratio^(k-1): skewed toward 1."""
    weights = ratio ** np.arange(upper, dtype=np.float64)
    cdf = np.cumsum(weights / weights.sum())
    cdf[-1] = 1.0
    return (np.searchsorted(cdf, rng.random(size), side="right") + 1).astype(np.int32)


def _draw(rng: np.random.Generator, probabilities: NDArray[np.float64], size: int) -> I32:
    cdf = np.cumsum(probabilities)
    cdf[-1] = 1.0
    return np.searchsorted(cdf, rng.random(size), side="right").astype(np.int32)


def default_injections(
    n_reports: int,
    products: Sequence[str],
    events: Sequence[str],
    p_product: NDArray[np.float64],
    p_event: NDArray[np.float64],
    mean_drugs: float,
    mean_events: float,
    rng: np.random.Generator,
    count: int = 20,
) -> list[Injection]:
    """``count`` associations across the frequency range, each expected to give at least ~5 reports.

    Products and events are picked log-uniformly by rank; relative rates cycle through 2, 3, 5 and 10.
    """
    rates = (2.0, 3.0, 5.0, 10.0)
    reports_per_product = n_reports * mean_drugs * p_product
    event_rate = np.minimum(mean_events * p_event, 0.5)
    chosen: list[Injection] = []
    seen: set[tuple[int, int]] = set()
    attempts = 0
    while len(chosen) < count and attempts < 5000:
        attempts += 1
        pi = int(np.exp(rng.uniform(0, np.log(len(products)))))
        ei = int(np.exp(rng.uniform(np.log(3), np.log(len(events)))))
        pi, ei = min(pi, len(products) - 1), min(ei, len(events) - 1)
        rate = rates[len(chosen) % len(rates)]
        expected = reports_per_product[pi] * event_rate[ei] * rate
        if expected < 5 or (pi, ei) in seen or rate * event_rate[ei] > 0.5:
            continue
        seen.add((pi, ei))
        chosen.append(Injection(products[pi], events[ei], rate))
    return chosen


def synthesise_spontaneous(
    n_reports: int,
    seed: int = 0,
    injected: Sequence[Injection] | None = None,
    *,
    n_products: int | None = None,
    n_events: int | None = None,
    product_exponent: float = 1.1,
    event_exponent: float = 1.05,
    max_drugs: int = 10,
    max_events: int = 8,
    n_classes: int = 20,
    heterogeneity: float = 0.7,
) -> SyntheticReports:
    """Draw ``n_reports`` synthetic spontaneous reports (see the module docstring).

    ``injected``: associations to inject; ``None`` picks ~20 by :func:`default_injections`, ``[]``
    injects none. Product names are ``DRUG-00001``…, events ``EVENT-00001``… (rank 1 most frequent).
    """
    if n_reports < 1:
        raise UserInputError(f"the number of reports must be at least 1, not {n_reports}")
    rng = np.random.default_rng(seed)
    n_products = n_products or int(np.clip(n_reports // 2000, 50, 5000))
    n_events = n_events or int(np.clip(n_reports // 1000, 100, 12000))
    products = [f"DRUG-{i:05d}" for i in range(1, n_products + 1)]
    events = [f"EVENT-{i:05d}" for i in range(1, n_events + 1)]
    p_product = _zipf_probabilities(n_products, product_exponent)
    p_event = _zipf_probabilities(n_events, event_exponent)

    n_drugs = _truncated_geometric(rng, n_reports, 0.45, max_drugs)
    n_evts = _truncated_geometric(rng, n_reports, 0.5, max_events)
    drug_report = np.repeat(np.arange(n_reports, dtype=np.int32), n_drugs)
    drug_code = _draw(rng, p_product, int(drug_report.shape[0]))
    event_report = np.repeat(np.arange(n_reports, dtype=np.int32), n_evts)
    product_class = rng.integers(0, n_classes, n_products)
    affinity = np.exp(heterogeneity * rng.standard_normal((n_classes, n_events)))
    first_drug = np.concatenate([[0], np.cumsum(n_drugs[:-1], dtype=np.int64)])
    event_class = product_class[drug_code[first_drug]][event_report]
    event_code = np.empty(event_report.shape[0], dtype=np.int32)
    for c in range(n_classes):  # a loop over classes, each drawing all its events at once
        rows = np.flatnonzero(event_class == c)
        weights = p_event * affinity[c]
        event_code[rows] = _draw(rng, weights / weights.sum(), int(rows.shape[0]))
    del event_class

    if injected is None:
        injected = default_injections(
            n_reports,
            products,
            events,
            p_product,
            p_event,
            float(n_drugs.mean()),
            float(n_evts.mean()),
            rng,
        )
    product_index = {name: i for i, name in enumerate(products)}
    event_index = {name: i for i, name in enumerate(events)}
    truths: list[InjectedTruth] = []
    add_reports: list[I32] = []
    add_events: list[I32] = []
    for inj in injected:
        if inj.product not in product_index or inj.event not in event_index:
            raise UserInputError(
                f"injected association {inj.product} / {inj.event}: unknown product or event "
                f"(products are DRUG-00001..DRUG-{n_products:05d}, events EVENT-00001..EVENT-{n_events:05d})"
            )
        if inj.relative_rate < 1:
            raise UserInputError(f"injected association {inj.product} / {inj.event}: rate must be ≥ 1")
        pc, ec = product_index[inj.product], event_index[inj.event]
        has_p = np.zeros(n_reports, dtype=bool)
        has_p[drug_report[drug_code == pc]] = True
        has_e = np.zeros(n_reports, dtype=bool)
        has_e[event_report[event_code == ec]] = True
        background = float(has_e.mean())
        n_with_p = int(has_p.sum())
        own = float((has_p & has_e).sum() / n_with_p) if n_with_p else background
        # P(e | p) = b_p + (1 - b_p) q = r b  =>  q = (r b - b_p) / (1 - b_p), with b the event's rate
        # in all reports and b_p its rate among the product's reports (background heterogeneity).
        q = min(1.0, max(0.0, (inj.relative_rate * background - own) / max(1e-12, 1.0 - own)))
        target = np.flatnonzero(has_p & ~has_e & (rng.random(n_reports) < q)).astype(np.int32)
        add_reports.append(target)
        add_events.append(np.full(target.shape[0], ec, dtype=np.int32))
        truths.append(
            InjectedTruth(
                product=inj.product,
                event=inj.event,
                relative_rate=inj.relative_rate,
                background_rate=background,
                product_background_rate=own,
                reports_with_product=n_with_p,
                reports_with_both=int((has_p & has_e).sum()) + int(target.shape[0]),
                added_reports=int(target.shape[0]),
            )
        )
    if add_reports:
        event_report = np.concatenate([event_report, *add_reports])
        event_code = np.concatenate([event_code, *add_events])
        order = np.argsort(event_report, kind="stable")
        event_report, event_code = event_report[order], event_code[order]
        n_evts = np.bincount(event_report, minlength=n_reports).astype(np.int32)

    # The cartesian product of each report's products and events, by index arithmetic.
    rows_per_report = n_drugs.astype(np.int64) * n_evts
    n_rows = int(rows_per_report.sum())
    drug_start = np.concatenate([[0], np.cumsum(n_drugs[:-1], dtype=np.int64)])
    event_start = np.concatenate([[0], np.cumsum(n_evts[:-1], dtype=np.int64)])
    row_start = np.concatenate([[0], np.cumsum(rows_per_report[:-1])])
    row_report = np.repeat(np.arange(n_reports, dtype=np.int32), rows_per_report)
    local = np.arange(n_rows, dtype=np.int64) - row_start[row_report]
    e_per = n_evts[row_report].astype(np.int64)
    product_rows = drug_code[drug_start[row_report] + local // e_per]
    event_rows = event_code[event_start[row_report] + local % e_per]
    del local, e_per

    sex = _draw(rng, np.asarray(_SEX_P), n_reports).astype(np.int8)
    age = _draw(rng, np.asarray(_AGE_P), n_reports).astype(np.int8)
    year_weights = np.linspace(1.0, 2.0, N_YEARS)
    year = (FIRST_YEAR + _draw(rng, year_weights / year_weights.sum(), n_reports)).astype(np.int16)
    quarter = (rng.integers(1, 5, n_reports)).astype(np.int8)
    return SyntheticReports(
        report_id=(row_report + 1).astype(np.int32),
        product_code=product_rows,
        event_code=event_rows,
        sex=sex[row_report],
        age_group=age[row_report],
        year=year[row_report],
        quarter=quarter[row_report],
        products=products,
        events=events,
        injected=truths,
        n_reports=n_reports,
        seed=seed,
        meta={"n_rows": n_rows, "mean_drugs": float(n_drugs.mean()), "mean_events": float(n_evts.mean())},
    )


def injections_from_json(text: str) -> list[Injection]:
    """Parse ``[{"product": ..., "event": ..., "relative_rate": ...}, ...]``."""
    try:
        data = json.loads(text)
        return [Injection(str(d["product"]), str(d["event"]), float(d["relative_rate"])) for d in data]
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise UserInputError(
            f"injected associations: expected a JSON list of objects with product, event, relative_rate: {exc}"
        ) from None
