"""The PSUR as HTML: views of the tabulations, the two plots, what could not be assessed, the conclusions, and
the template (``templates/psur/report.html.j2``). A pure function of :class:`~riskplan.reports.psur_data.PsurData`:
the same data give the same bytes."""

from __future__ import annotations

import base64
import io
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Final

from riskplan import __version__
from riskplan.plan import ConcernCategory, PlanPart
from riskplan.reports.plan_summary import environment, summary_view
from riskplan.reports.psur_counts import (
    CLINICAL_TRIAL,
    NOT_AVAILABLE,
    POST_MARKETING,
    SOLICITED,
    SOURCES,
    SPONTANEOUS,
    CaseCounts,
    listedness_assessable,
)
from riskplan.reports.psur_data import PsurData
from riskplan.reports.psur_exposure import ci_text
from riskplan.reports.psur_sections import no_listedness_reason
from riskplan.reports.psur_tables import NOT_ASSESSED, post_marketing_view, trial_view
from riskplan.reports.study_report import fmt

NO_DATA: Final = "No data in riskplan."
NOT_ASSESSED_PAIR: Final = "not assessed"  # a drug-reaction pair no method assessed (riskplan.cases)

# --------------------------------------------------------------------------------------------------
# Presentation
# --------------------------------------------------------------------------------------------------


def _quarter(month: str) -> str:
    year, mm = month.split("-")
    return f"{year}-Q{(int(mm) - 1) // 3 + 1}"


def quarterly(monthly: Sequence[tuple[str, str, int]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for month, source, n in monthly:
        out[_quarter(month)][source] += n
    return {q: dict(v) for q, v in sorted(out.items())}


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def quarter_plot(data: PsurData) -> str | None:
    """Serious reactions per quarter of first receipt, stacked by source; the interval shaded."""
    quarters = quarterly(data.counts.monthly)
    if not quarters:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(quarters)
    fig, ax = plt.subplots(figsize=(7.0, 3.2))
    bottom = [0] * len(labels)
    colours = {SPONTANEOUS: "#3b6ea5", SOLICITED: "#e39b3b", CLINICAL_TRIAL: "#5a9e5a", NOT_AVAILABLE: "#999999"}
    for source in SOURCES:
        values = [quarters[q].get(source, 0) for q in labels]
        if any(values):
            ax.bar(range(len(labels)), values, bottom=bottom, label=source, color=colours[source], width=0.8)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    first_q = _quarter(data.start.isoformat()[:7])
    inside = [i for i, q in enumerate(labels) if q >= first_q]
    if inside:
        ax.axvspan(inside[0] - 0.5, inside[-1] + 0.5, color="#f2e6b3", alpha=0.45, zorder=0, label="reporting interval")
    step = max(1, len(labels) // 12)
    ax.set_xticks(range(0, len(labels), step), labels[::step], rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("serious reactions")
    ax.set_title("Serious reactions per quarter of first receipt (C.1.4)", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def concern_plot(data: PsurData) -> str | None:
    """Cases per safety concern, interval against cumulative (concerns with a definition: others count nothing)."""
    evs = [e for e in data.evaluations if e.defined]
    if not evs:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [e.concern.list_title if len(e.concern.list_title) <= 40 else e.concern.list_title[:39] + "…" for e in evs]
    ys = list(range(len(evs)))[::-1]
    fig, ax = plt.subplots(figsize=(7.0, 0.38 * len(evs) + 1.1))
    ax.barh([y + 0.2 for y in ys], [e.count.cumulative for e in evs], height=0.4, label="cumulative", color="#9db7d5")
    ax.barh([y - 0.2 for y in ys], [e.count.interval for e in evs], height=0.4, label="interval", color="#3b6ea5")
    ax.set_yticks(ys, labels, fontsize=7)
    ax.set_xlabel("cases")
    ax.set_title("Cases per safety concern: interval and cumulative", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def plan_label(data: PsurData) -> str:
    if data.plan_version is None:
        return f"{data.plan_name} (bundled plan, not stored)"
    return f"{data.plan_name} version {data.plan_version}"


def not_assessed(data: PsurData) -> list[str]:
    """What this report could not assess, and why: a section that depends on it draws no conclusion."""
    label = plan_label(data)
    lines = []
    if not listedness_assessable(data.plan):
        lines.append(
            f"Listedness of serious reactions (sections 4, 6 and 19): {no_listedness_reason(data.plan, label)}; "
            "whether a reaction is listed or unlisted, and whether an unlisted serious PT was reported for the "
            "first time, cannot be determined."
        )
    undefined = [e.concern.list_title for e in data.evaluations if not e.defined]
    if undefined:
        why = f"no definition in plan {label}"
        if PlanPart.CONCERN_DEFINITIONS in data.plan.absent:
            why += " (its source document, e.g. a public RMP summary, does not carry them)"
        lines.append(
            f"Cases per safety concern (sections 16.3 to 16.5) for {len(undefined)} concern(s): {why}, so no case "
            f"is counted toward them: {'; '.join(undefined)}."
        )
    if not data.exposure.available:
        lines.append(
            "Reporting rates and observed-to-expected comparisons (sections 5.2, 16.3 and 16.4): no patient "
            f"exposure. {data.exposure.description}"
        )
    elif not data.study_rates:
        lines.append("Observed-to-expected comparisons (section 16.3): no study incidence rates (no OMOP CDM given).")
    return lines


def _new_unlisted_lines(c: CaseCounts, data: PsurData) -> list[str]:
    """Unlisted serious PTs first reported in the interval (any source), or why this cannot be assessed."""
    if not listedness_assessable(data.plan):
        return [
            "Whether any unlisted serious PT was reported for the first time in the interval could not be assessed: "
            f"{no_listedness_reason(data.plan, plan_label(data))}."
        ]
    before: dict[str, int] = defaultdict(int)  # cases before the interval, over every source
    in_interval: dict[str, int] = defaultdict(int)
    for r in c.tabulation:
        if r.listedness == "unlisted":
            before[r.pt] += r.cumulative - r.interval
            in_interval[r.pt] += r.interval
    new_unlisted = sorted((pt for pt, n in in_interval.items() if n > 0 and before[pt] == 0), key=str.casefold)
    lines = []
    if new_unlisted:
        lines.append(
            f"{len(new_unlisted)} unlisted serious PT(s) were reported for the first time in the interval: "
            + ", ".join(new_unlisted)
            + "."
        )
    else:
        lines.append("No unlisted serious PT was reported for the first time in the interval.")
    uncoded = sum(r.interval for r in c.tabulation if r.listedness == "not assessable")
    if uncoded:
        lines.append(
            f"Serious reactions without a MedDRA PT ({fmt(uncoded)} in the interval tabulations) could not be "
            "assessed for listedness."
        )
    return lines


def _conclusions(data: PsurData) -> list[str]:
    c = data.counts
    lines = [
        f"{fmt(c.valid_interval)} valid case(s) were first received in the interval ({fmt(c.valid_cumulative)} "
        f"cumulatively), of which {fmt(c.serious_interval)} serious ({fmt(c.serious_cumulative)} cumulatively)."
    ]
    if c.synthetic_cumulative:
        lines.insert(
            0,
            f"SYNTHETIC DATA: {fmt(c.synthetic_interval)} of the interval's cases ({fmt(c.synthetic_cumulative)} "
            "cumulatively) were made by riskplan synth or the demo, not received as real reports; "
            "this report is not for submission.",
        )
    lines += _new_unlisted_lines(c, data)
    high = [e for e in data.evaluations if e.defined and e.oe_interval[1] is not None and e.oe_interval[1] > 1]
    illustrative = oe_illustrative(data)
    for e in high:
        if illustrative:
            lines.append(
                f"{e.concern.list_title}: O/E {ci_text(e.oe_interval)} is ILLUSTRATIVE ({illustrative}); "
                "no conclusion is drawn from it."
            )
        else:
            lines.append(
                f"{e.concern.list_title}: observed cases exceed those expected from the study rate "
                f"(O/E {ci_text(e.oe_interval)}); to be evaluated."
            )
    new = sum("new" in s.status_in_interval for s in data.signals)
    closed = sum("closed" in s.status_in_interval for s in data.signals)
    lines.append(f"Signals: {new} new and {closed} closed in the interval.{signals_after_dlp_text(data)}")
    lines.append(
        "The evaluation of the benefit-risk balance and any proposed actions are for the MAH's qualified person "
        "responsible for pharmacovigilance (QPPV) to state; riskplan provides the data above."
    )
    return lines


def signals_after_dlp_text(data: PsurData) -> str:
    """ " N signal(s) detected after the data lock point ..." (or nothing): a report never reads "0 signals" while
    the signal records hold later ones."""
    n = data.signals_after_dlp
    if not n:
        return ""
    return (
        f" {n} signal(s) detected after the data lock point ({data.end.isoformat()}), not in this period: "
        "they belong to the next report."
    )


def oe_illustrative(data: PsurData) -> str:
    """Why the observed/expected ratios of section 16.3 are illustrative only ("" when they are not): observed
    cases made by riskplan synth or the demo, compared with rates from a study of an OMOP CDM."""
    if not data.study_rates or not data.counts.synthetic_cumulative:
        return ""
    return (
        "the observed cases include synthetic cases made by riskplan synth or the demo and the expected counts "
        "come from study rates of the OMOP CDM given, whose data are not established background rates; the "
        "ratios are illustrative, not for conclusions"
    )


def causality_rows(data: PsurData) -> list[tuple[str, str, int]]:
    """(method, category, pairs) of appendix 20.5, "not assessed" last within its method."""
    if data.causality is None:
        return []
    rows = []
    for method in sorted(data.causality.counts, key=lambda m: (m == NOT_ASSESSED_PAIR, m.casefold())):
        for category, n in sorted(data.causality.counts[method].items(), key=lambda kv: kv[0].casefold()):
            rows.append((method, category, n))
    return rows


def _view(data: PsurData) -> dict[str, Any]:
    c = data.counts
    tab_by_source = {s: [r for r in c.tabulation if r.source == s] for s in SOURCES}
    post_marketing = [
        (s, post_marketing_view(tab_by_source[s], f"Adverse reactions from {s} post-marketing sources"))
        for s in POST_MARKETING
        if tab_by_source[s]
    ]
    trials = (
        trial_view(c.trial_tabulation, "Serious adverse events from clinical trials (case reports), by treatment arm")
        if c.trial_tabulation
        else None
    )
    source_rows = [(s, *c.serious_by_source.get(s, (0, 0))) for s in SOURCES]
    plan_studies = [
        {
            "short_name": s.short_name,
            "category": int(s.category),
            "status": s.status.value if s.status else "not recorded",
            "concerns": ", ".join(s.safety_concerns) or "–",
            "milestones": [
                f"{m.name}: {m.due.isoformat() if m.due else 'no date'}"
                for m in s.milestones
                if m.due is None or data.start <= m.due <= data.end
            ],
        }
        for s in data.plan.studies
    ]
    additional = [
        (e.number, e.concern.list_title, "; ".join(m.name for m in e.concern.additional_measures))
        for e in data.evaluations
        if e.concern.additional_measures
    ]
    return {
        "d": data,
        "c": c,
        "p": data.plan.product,
        "s": summary_view(data.plan),
        "fmt": fmt,
        "ci": ci_text,
        "NO_DATA": NO_DATA,
        "version": __version__,
        "post_marketing": post_marketing,
        "trials": trials,
        "source_rows": source_rows,
        "quarter_plot": quarter_plot(data),
        "concern_plot": concern_plot(data),
        "categories": list(ConcernCategory),
        "plan_studies": plan_studies,
        "additional": additional,
        "conclusions": _conclusions(data),
        "closed_signals": [sg for sg in data.signals if "closed" in sg.status_in_interval],
        "plan_label": plan_label(data),
        "listedness": listedness_assessable(data.plan),
        "no_listedness": no_listedness_reason(data.plan, plan_label(data)),
        "not_assessed": not_assessed(data),
        "NOT_ASSESSED": NOT_ASSESSED,
        "signals_after_dlp": signals_after_dlp_text(data).strip(),
        "oe_illustrative": oe_illustrative(data),
        "causality_rows": causality_rows(data),
        "NOT_ASSESSED_PAIR": NOT_ASSESSED_PAIR,
    }


def render_psur_html(data: PsurData) -> str:
    """The PBRER as one self-contained HTML document (plots as PNG data URIs); deterministic."""
    return environment().get_template("psur/report.html.j2").render(**_view(data))
