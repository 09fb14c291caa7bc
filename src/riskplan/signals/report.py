"""An HTML signal-detection report for one product, with the plan's safety concerns highlighted.

The plot shows every event reported with the product: EB05 (or IC025) against the number of reports N,
log scales, the threshold drawn (EB05 = 2; IC025 = 0). Events that are MedDRA PTs of the plan's
safety-concern definitions (``meddra_pts``, matched without regard to case) are highlighted and
labelled. Tables list the concern PTs (reported or not) and the pairs flagged by any threshold set.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from pathlib import Path
from typing import Any

import numpy as np

from riskplan.errors import UserInputError
from riskplan.plan import RiskManagementPlan
from riskplan.signals.disproportionality import DetectionResult
from riskplan.signals.thresholds import DEFAULT_THRESHOLDS, THRESHOLD_SETS

_MEASURES = {"EB05": 2.0, "IC025": 0.0}


def concern_pts(plan: RiskManagementPlan) -> dict[str, tuple[str, list[str]]]:
    """Lower-cased PT → (the PT as the plan writes it, titles of the concerns whose definition lists it)."""
    out: dict[str, tuple[str, list[str]]] = {}
    for concern in plan.safety_concerns:
        for pt in concern.definition.meddra_pts:
            out.setdefault(pt.strip().lower(), (pt.strip(), []))[1].append(concern.list_title)
    return out


MAX_LABELS = 12  # the highlighted events labelled on the plot (highest measure first); the tables list all


def _decimal(value: float, _: object = None) -> str:
    """A tick label in plain decimals ("0.5", "4", "20"), never "4 × 10⁰"."""
    return f"{value:g}"


def _label_positions(points: list[tuple[float, float]], height: float) -> list[float]:
    """Vertical positions (axes fraction) for labels in a column beside the plot: in the order of the points'
    y, at least ``height`` apart, within [0, 1], so that no two labels overlap."""
    order = sorted(range(len(points)), key=lambda i: points[i][1])
    out = [0.0] * len(points)
    lowest = 0.0
    for rank, i in enumerate(order):
        spare = 1.0 - height * (len(order) - rank - 1)  # room left for the labels above
        out[i] = min(max(points[i][1], lowest), spare)
        lowest = out[i] + height
    return out


def _plot(n: np.ndarray, y: np.ndarray, highlight: np.ndarray, labels: list[str], measure: str, title: str) -> str:
    """EB05 (or IC025) against N, log axes with plain decimal ticks; the plan's concern PTs highlighted and the
    top :data:`MAX_LABELS` of them labelled in a column to the right with leader lines (labels never overlap)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    fig, ax = plt.subplots(figsize=(9, 6))
    ax.scatter(n[~highlight], y[~highlight], s=12, color="#9aa5b1", label="other events")
    ax.scatter(n[highlight], y[highlight], s=40, color="#c0392b", label="safety-concern PTs of the plan")
    ax.axhline(_MEASURES[measure], color="black", linewidth=0.8, linestyle="--")
    ax.set_xscale("log")
    axes: list[Any] = [ax.xaxis]
    if measure == "EB05":
        ax.set_yscale("log")
        axes.append(ax.yaxis)
    for axis in axes:
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(FuncFormatter(_decimal))
        axis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("N (reports with the product and the event)")
    ax.set_ylabel(measure)
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    chosen = sorted(np.flatnonzero(highlight), key=lambda i: -float(y[i]))[:MAX_LABELS]
    fig.subplots_adjust(right=0.72)
    if chosen:
        to_axes = ax.transAxes.inverted()
        points = [tuple(to_axes.transform(ax.transData.transform((n[i], y[i])))) for i in chosen]
        ys = _label_positions([(float(px), float(py)) for px, py in points], 0.045)
        for i, (px, py), ly in zip(chosen, points, ys, strict=True):
            ax.annotate(
                labels[i],
                xy=(px, py),
                xycoords="axes fraction",
                xytext=(1.03, ly),
                textcoords="axes fraction",
                fontsize=8,
                va="center",
                arrowprops={"arrowstyle": "-", "color": "#c0392b", "linewidth": 0.5},
            )
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _fmt(value: float) -> str:
    if np.isnan(value):
        return "—"
    if np.isinf(value):
        return "∞"
    return f"{value:.3g}"


def write_html_report(
    result: DetectionResult,
    product: str,
    plan: RiskManagementPlan,
    out: Path,
    *,
    measure: str = "EB05",
    source: str = "",
    max_rows: int = 100,
) -> Path:
    """Write the report for ``product`` to ``out`` (HTML, the plot embedded as PNG)."""
    measure = measure.upper()
    if measure not in _MEASURES:
        raise UserInputError(f"--measure must be EB05 or IC025, not {measure}")
    codes = result.counts.product_codes([product])
    if product not in codes:
        raise UserInputError(f"no reports with the product {product!r}")
    rows = np.flatnonzero(result.counts.product_code == codes[product])
    events = result.counts.names("events")
    labels = [events[int(result.counts.event_code[i])] for i in rows]
    m = {k: v[rows] for k, v in result.measures.items()}
    pts = concern_pts(plan)
    highlight = np.array([label.lower() in pts for label in labels], dtype=bool)
    y = m[measure] if measure == "IC025" else np.maximum(m[measure], 1e-3)
    image = _plot(m["N"], y, highlight, labels, measure, f"{product}: {measure} against N")
    flags = {name: THRESHOLD_SETS[name].flags(m) for name in DEFAULT_THRESHOLDS}
    any_flag = np.logical_or.reduce(list(flags.values()))

    def row_html(j: int, concern: str = "") -> str:
        cells = [html.escape(labels[j]), html.escape(concern)]
        cells += [_fmt(float(m[c][j])) for c in ("N", "expected", "PRR", "chi2", "ROR025", "IC025", "EBGM", "EB05")]
        cells.append(", ".join(n for n, f in flags.items() if f[j]))
        return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"

    header = "".join(
        f"<th>{h}</th>"
        for h in ("event", "safety concern", "N", "E", "PRR", "χ²", "ROR025", "IC025", "EBGM", "EB05", "flagged by")
    )
    by_label = {label.lower(): j for j, label in enumerate(labels)}
    concern_rows = []
    for key, (pt, titles) in sorted(pts.items()):
        if key in by_label:
            concern_rows.append(row_html(by_label[key], "; ".join(titles)))
        else:
            concern_rows.append(
                f"<tr><td>{html.escape(pt)}</td><td>{html.escape('; '.join(titles))}</td>"
                f"<td colspan='9'>not reported with {html.escape(product)}</td></tr>"
            )
    order = np.argsort(-np.nan_to_num(m["EB05"], nan=-1.0))
    flagged_rows = [row_html(int(j), "; ".join(pts.get(labels[j].lower(), ("", []))[1])) for j in order if any_flag[j]]
    theta = result.theta
    references = "".join(
        f"<li>{html.escape(t.name)}: {html.escape(t.criterion)} — {html.escape(t.reference)}</li>"
        for t in THRESHOLD_SETS.values()
    )
    text = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Signal detection: {html.escape(product)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 6px;font-size:0.9em;overflow-wrap:anywhere}}th{{background:#eee}}
img{{max-width:100%;height:auto}}
@page{{size:A4 landscape;margin:12mm}}@media print{{body{{margin:0;max-width:none}}td,th{{font-size:7.5pt}}}}</style>
</head><body>
<h1>Signal detection: {html.escape(product)}</h1>
<p>Plan: {html.escape(plan.product.name)} ({html.escape(plan.name)}). Source: {html.escape(source)}.
Generated {dt.date.today().isoformat()}. {result.counts.n_total:,} reports, {result.n_pairs:,} product-event
pairs; {rows.shape[0]:,} events reported with {html.escape(product)}.</p>
<p>MGPS prior (DuMouchel 1999): α1 = {theta.alpha1:.4g}, β1 = {theta.beta1:.4g}, α2 = {theta.alpha2:.4g},
β2 = {theta.beta2:.4g}, P = {theta.p:.4g}.</p>
<img alt="{measure} against N" src="data:image/png;base64,{image}">
<h2>Safety-concern PTs of the plan</h2>
<table><tr>{header}</tr>{"".join(concern_rows)}</table>
<h2>Pairs flagged by a threshold set ({len(flagged_rows)})</h2>
<table><tr>{header}</tr>{"".join(flagged_rows[:max_rows])}</table>
<h2>Methods</h2><ul>{references}
<li>EB05/EBGM: Gamma-Poisson shrinker, DuMouchel 1999 (Am Stat 53:177); IC: Norén et al. 2006/2013.</li></ul>
</body></html>
"""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out
