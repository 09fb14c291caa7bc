"""Study reports: one HTML document (and its PDF through WeasyPrint) per study of the plan.

A report shows the study as the plan states it (title, purpose, objectives, safety concerns), the
data source and what was found on loading it, and every analysis section of the run with its tables,
Kaplan–Meier curves and a forest plot of incidence rates per 100 patient-years (exact 95% CIs).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from riskplan.studies import IncidenceResult, KaplanMeierCurve, ResultTable, StudyRun
from riskplan.studies import fmt as fmt  # the table-cell format, also used by the PSUR


@dataclass(frozen=True)
class StudyReportFiles:
    html: Path
    pdf: Path | None


def present(table: ResultTable, columns: list[str] | None = None) -> dict[str, Any]:
    """Headers and formatted rows of a result table for the template."""
    cols = columns or list(table.columns)
    idx = [table.columns.index(c) for c in cols]
    return {
        "name": table.name,
        "headers": [c.replace("_", " ") for c in cols],
        "rows": [[{"text": fmt(r[i]), "num": _is_number(r[i])} for i in idx] for r in table.rows],
    }


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def km_plot(
    curves: tuple[KaplanMeierCurve, ...] | list[KaplanMeierCurve],
    title: str,
    ylabel: str = "event-free proportion",
    invert: bool = False,
) -> str | None:
    """Kaplan–Meier step curves with their CIs, as a PNG data URI."""
    if not curves:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, risk) = plt.subplots(
        2,
        1,
        figsize=(6.4, 3.4 + 0.22 * len(curves) + 0.3),
        height_ratios=(3.4, 0.22 * len(curves) + 0.3),
        sharex=True,
    )
    for curve in curves:
        t = [0.0, *curve.table.column("days")]
        s = [1.0, *curve.table.column("survival")]
        lo = [1.0, *curve.table.column("ci_lower")]
        hi = [1.0, *curve.table.column("ci_upper")]
        if invert:
            s, lo, hi = [1 - x for x in s], [1 - x for x in hi], [1 - x for x in lo]
        years = [x / 365.25 for x in t]
        ax.step(years, s, where="post", label=curve.cohort)
        ax.fill_between(years, lo, hi, step="post", alpha=0.15)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _numbers_at_risk(risk, ax, curves)
    risk.set_xlabel("years since index")
    return _png(fig)


def _numbers_at_risk(risk: Any, ax: Any, curves: tuple[KaplanMeierCurve, ...] | list[KaplanMeierCurve]) -> None:
    """The numbers-at-risk table under a Kaplan–Meier plot, at the plot's x ticks, one row per curve
    (Pocock, Clayton & Altman 2002, Lancet 359:1686; :meth:`riskplan.studies.KaplanMeierCurve.at_risk`)."""
    left, right = ax.get_xlim()
    ticks = [x for x in ax.get_xticks() if left - 1e-9 <= x <= right + 1e-9]
    risk.set_ylim(-0.5, len(curves) - 0.5)
    risk.set_yticks(range(len(curves)), [c.cohort for c in curves][::-1], fontsize=7)
    for row, curve in enumerate(reversed(list(curves))):
        for x in ticks:
            risk.text(x, row, f"{curve.at_risk(x * 365.25):,}", ha="center", va="center", fontsize=7)
    risk.set_title("Number at risk", fontsize=8, loc="left")
    risk.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        risk.spines[side].set_visible(False)


def forest_plot(rows: list[tuple[str, float, float, float]], title: str) -> str | None:
    """Rates per 100 patient-years with 95% CIs, one line per (label, rate, lower, upper)."""
    rows = [r for r in rows if r[1] is not None]
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 0.32 * len(rows) + 1.0))
    ys = list(range(len(rows)))[::-1]
    for y, (_label, rate, lo, hi) in zip(ys, rows, strict=True):
        ax.plot([lo, hi], [y, y], color="black", lw=1)
        ax.plot([rate], [y], "s", color="tab:blue", ms=5)
    ax.set_yticks(ys, [r[0] for r in rows], fontsize=7)
    positive = [r[2] for r in rows if r[2] and r[2] > 0] + [r[1] for r in rows if r[1] > 0]
    if positive and max(r[3] for r in rows) / max(min(positive), 1e-9) > 50:
        ax.set_xscale("log")
    ax.set_xlabel("rate per 100 patient-years (95% CI)")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def _forest_rows(run: StudyRun) -> list[tuple[str, float, float, float]]:
    rows = []
    for section in run.sections:
        if section.kind != "incidence":
            continue
        result: IncidenceResult = section.result
        for r in result.rates.where(stratum_type="all"):
            if r["rate_per_100py"] is None:
                continue
            outcome = result.outcome if len(result.outcome) <= 32 else result.outcome[:31] + "…"
            rows.append(
                (
                    f"{outcome}: {r['cohort']} ({r['events']}/{r['person_years']:.0f} PY)",
                    float(r["rate_per_100py"]),
                    float(r["ci_lower"]),
                    float(r["ci_upper"]),
                )
            )
    return rows


def _section_view(section: Any) -> dict[str, Any]:
    kind = section.kind
    res = section.result
    view: dict[str, Any] = {
        "kind": kind,
        "title": section.title,
        "description": section.description,
        "tables": [],
        "images": [],
        "notes": [],
        "lines": [],
    }
    if kind == "cohorts":
        for cohort in res:
            view["lines"].append(
                f"{cohort.name}: {cohort.persons:,} persons; time at risk "
                f"{cohort.definition.time_at_risk.describe()}; washout {cohort.definition.washout_days} days."
            )
            view["tables"].append(present(cohort.attrition))
            view["notes"] += list(cohort.notes)
    elif kind == "incidence":
        view["tables"].append(
            present(
                res.rates,
                [
                    "cohort",
                    "stratum_type",
                    "stratum",
                    "persons",
                    "events",
                    "person_years",
                    "rate_per_100py",
                    "ci_lower",
                    "ci_upper",
                ],
            )
        )
        if res.rate_ratio is not None:
            rr = res.rate_ratio
            view["lines"].append(
                f"Rate ratio {res.target}/{res.comparator}: {fmt(rr.ratio)} "
                f"(95% CI {fmt(rr.lower)} to {fmt(rr.upper)}; {rr.method})."
            )
        if res.sir is not None:
            view["tables"].append(
                present(
                    res.sir, ["cohort", "observed", "expected", "sir", "ci_lower", "ci_upper", "evidence", "source"]
                )
            )
        view["notes"] += list(res.notes)
    elif kind == "survival":
        img = km_plot(res.curves, f"Time to first {res.outcome}")
        if img:
            view["images"].append(img)
        for curve in res.curves:
            view["lines"].append(
                f"{curve.cohort}: median time to event "
                f"{fmt(curve.median_days) + ' days' if curve.median_days else 'not reached'}."
            )
        if res.cox is not None:
            target, comparator = res.cox_cohorts or ("target", "comparator")
            view["lines"].append(
                f"Cox proportional-hazards model, {target} against {comparator} (the covariate target): "
                f"hazard ratios {res.adjustment}."
            )
            view["tables"].append(present(res.cox))
        view["notes"] += list(res.notes)
    elif kind == "characteristics":
        cols = ["covariate", "target_n", "target_mean", "target_sd", "target_count"]
        if res.comparator:
            cols += ["comparator_n", "comparator_mean", "comparator_sd", "comparator_count", "smd"]
        view["tables"].append(present(res.table, cols))
        if res.max_abs_smd is not None:
            view["lines"].append(
                f"Largest absolute SMD: {fmt(res.max_abs_smd)} (Austin 2009; > 0.1 suggests imbalance)."
            )
        view["notes"] += list(res.notes)
    elif kind == "utilisation":
        for t in (res.doses, res.intervals, res.persistence, res.premedication):
            view["tables"].append(present(t))
        view["notes"] += list(res.notes)
    elif kind == "labs":
        view["tables"].append(present(res.grade_summary))
        for t in res.shift_tables:
            view["tables"].append(present(t))
        view["tables"].append(present(res.b_cells))
        if res.repletion_curve is not None:
            img = km_plot(
                [res.repletion_curve], "B-cell repletion after the last dose", "proportion repleted", invert=True
            )
            if img:
                view["images"].append(img)
        view["tables"].append(present(res.igg))
        if res.units is not None:
            view["tables"].append(present(res.units))  # which unit converted with which factor, which not
        view["notes"] += list(res.notes)
    elif kind == "pregnancy":
        view["tables"].append(present(res.pregnancies))
        view["tables"].append(present(res.outcomes))
        view["notes"] += list(res.notes)
    return view


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("riskplan.reports", "templates/study"),
        autoescape=select_autoescape(["html.j2", "html"], default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_study_html(run: StudyRun, generated: dt.datetime | None = None) -> str:
    """The study report as a self-contained HTML document (plots embedded as PNG data URIs)."""
    forest = forest_plot(_forest_rows(run), "Incidence rates per 100 patient-years (overall)")
    template = _environment().get_template("report.html.j2")
    return template.render(
        run=run,
        study=run.study,
        cdm_tables=present(run.cdm_tables),
        sections=[_section_view(s) for s in run.sections],
        forest=forest,
        generated=(generated or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC"),
    )


def write_study_report(run: StudyRun, out_dir: Path, pdf: bool = True) -> StudyReportFiles:
    """Write ``<study id>.html`` (and ``.pdf`` through WeasyPrint) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    html = render_study_html(run)
    html_path = out_dir / f"{run.study.id}.html"
    html_path.write_text(html, encoding="utf-8")
    pdf_path = None
    if pdf:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # WeasyPrint's notes about optional system libraries
            from weasyprint import HTML  # type: ignore[import-untyped]

            pdf_path = out_dir / f"{run.study.id}.pdf"
            HTML(string=html, base_url=str(out_dir)).write_pdf(str(pdf_path))
    return StudyReportFiles(html_path, pdf_path)
