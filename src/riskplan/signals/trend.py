"""Time trends: the disproportionality measures of one product by cumulative period.

For each period p (in text order, e.g. ``2023Q4`` < ``2024Q1``), the whole analysis is rerun on the
reports of periods ≤ p — counts, expected counts, MGPS hyperparameters (refitted; if a fit fails on
the early, small data the previous period's prior is reused and the row says so) and scores — and the
rows of the product's pairs are kept. This is the cumulative view used in periodic signal
detection (e.g. for a PSUR/PBRER interval): how a pair's EB05 or IC025 evolved as reports came in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
from numpy.typing import NDArray

from riskplan.errors import UserInputError
from riskplan.signals.disproportionality import MEASURE_COLUMNS, detect
from riskplan.signals.mgps import Hyperparameters

TREND_COLUMNS = ("period", "event", *MEASURE_COLUMNS, "reports_to_date", "prior_refitted")


@dataclass
class TrendTable:
    """Rows (period, event, measures...) for one product, periods in order."""

    product: str
    periods: list[str]
    columns: dict[str, list[object]] = field(default_factory=lambda: {c: [] for c in TREND_COLUMNS})

    def __len__(self) -> int:
        return len(self.columns["period"])

    def series(self, event: str, measure: str) -> tuple[list[str], NDArray[np.float64]]:
        """(periods, values) of one event's measure; periods where the pair was absent are skipped."""
        rows = [i for i, e in enumerate(self.columns["event"]) if e == event]
        return (
            [str(self.columns["period"][i]) for i in rows],
            np.array([float(str(self.columns[measure][i])) for i in rows], dtype=np.float64),
        )

    def events(self) -> list[str]:
        return sorted({str(e) for e in self.columns["event"]})

    def write(self, path: Path) -> int:
        """Write the table (.csv or .parquet) with DuckDB; returns the number of rows."""
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".parquet"):
            raise UserInputError(f"{path}: the trend table must be a .csv or .parquet file")
        path.parent.mkdir(parents=True, exist_ok=True)
        data: dict[str, NDArray[np.generic]] = {}
        for name, values in self.columns.items():
            if name in ("period", "event"):
                data[name] = np.array(values, dtype=object)
            elif name == "prior_refitted":
                data[name] = np.array(values, dtype=bool)
            else:
                data[name] = np.array(values, dtype=np.float64)
        con = duckdb.connect()
        try:
            con.register("trend_rows", data)
            target = "'" + str(path).replace("'", "''") + "'"
            fmt = "(FORMAT parquet)" if suffix == ".parquet" else "(FORMAT csv, HEADER true)"
            cols = ", ".join(
                f'CASE WHEN isnan("{c}") THEN NULL ELSE "{c}" END AS "{c}"'
                if c not in ("period", "event", "prior_refitted")
                else f'"{c}"'
                for c in TREND_COLUMNS
            )
            con.execute(f"COPY (SELECT {cols} FROM trend_rows) TO {target} {fmt}")
        finally:
            con.close()
        return len(self)


def time_trend(
    con: duckdb.DuckDBPyConnection,
    rel: duckdb.DuckDBPyRelation,
    product: str,
    *,
    strata: Sequence[str] = (),
    hyperparameters: Hyperparameters | None = None,
) -> TrendTable:
    """The measures of ``product``'s pairs at each cumulative period of ``rel`` (needs a ``period`` column).

    ``hyperparameters``: use this prior at every period instead of refitting.
    """
    if "period" not in rel.columns:
        raise UserInputError("the reports have no period column: a time trend needs one")
    periods = [
        str(r[0]) for r in rel.filter("period IS NOT NULL").select("period").distinct().order("period").fetchall()
    ]
    if not periods:
        raise UserInputError("no report has a period")
    found = rel.filter(f"product = '{_escape(product)}'").limit(1).fetchall()
    if not found:
        raise UserInputError(f"no reports with the product {product!r}")
    table = TrendTable(product=product, periods=periods)
    theta = hyperparameters
    for period in periods:
        subset = rel.filter(f"period <= '{_escape(period)}'")
        refitted = hyperparameters is None
        try:
            result = detect(con, subset, strata=strata, hyperparameters=hyperparameters)
        except UserInputError:
            if theta is None:
                continue  # nothing to score with yet
            result = detect(con, subset, strata=strata, hyperparameters=theta)
            refitted = False
        theta = result.theta
        codes = result.counts.product_codes([product])
        if product in codes:
            rows = np.flatnonzero(result.counts.product_code == codes[product])
            events = result.counts.names("events")
            for i in rows:
                table.columns["period"].append(period)
                table.columns["event"].append(events[int(result.counts.event_code[i])])
                for c in MEASURE_COLUMNS:
                    table.columns[c].append(float(result.measures[c][i]))
                table.columns["reports_to_date"].append(float(result.counts.n_total))
                table.columns["prior_refitted"].append(refitted)
        result.counts.drop()
    return table


def _escape(text: str) -> str:
    return text.replace("'", "''")


def plot_trend(trend: TrendTable, path: Path, events: Sequence[str] | None = None, max_events: int = 6) -> Path:
    """PNG: EB05 (with EBGM) and IC025 by period for the chosen events (default: the highest final EB05)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if events:
        unknown = [e for e in events if e not in trend.events()]
        if unknown:
            raise UserInputError(f"event(s) never reported with {trend.product}: {', '.join(unknown)}")
        chosen = list(events)
    else:
        last = trend.periods[-1]
        final = [
            (float(str(trend.columns["EB05"][i])), str(trend.columns["event"][i]))
            for i, p in enumerate(trend.columns["period"])
            if p == last
        ]
        chosen = [e for _, e in sorted(final, reverse=True)[:max_events]]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
    order = {p: i for i, p in enumerate(trend.periods)}
    for event in chosen:
        periods, eb05 = trend.series(event, "EB05")
        x = [order[p] for p in periods]
        (line,) = ax1.plot(x, eb05, marker="o", label=event)
        ax1.plot(x, trend.series(event, "EBGM")[1], linestyle=":", color=line.get_color())
        ax2.plot(x, trend.series(event, "IC025")[1], marker="o", color=line.get_color(), label=event)
    ax1.axhline(2.0, color="grey", linewidth=0.8, linestyle="--")
    ax2.axhline(0.0, color="grey", linewidth=0.8, linestyle="--")
    ax1.set_ylabel("EB05 (dotted: EBGM)")
    ax2.set_ylabel("IC025")
    ax2.set_xticks(range(len(trend.periods)), trend.periods, rotation=45, ha="right")
    ax1.set_title(f"{trend.product}: cumulative disproportionality by period")
    ax1.legend(fontsize="small")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
