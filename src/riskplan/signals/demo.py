"""Demo step: signal detection over the case store and a synthetic spontaneous database (GVP Module IX).

The company's own cases (:class:`~riskplan.signals.sources.CaseStoreSource`: the cases of the ``cases``
step, for the configured plan) are pooled with a synthetic spontaneous-reporting database
(:func:`~riskplan.signals.synth.synthesise_spontaneous`) that stands in for the wider background, as in
screening EudraVigilance or FAERS together with one's own database (GVP IX.B.2). The synthetic database
names its products ``DRUG-00001``… and events ``EVENT-00001``… by frequency rank; here one mid-ranked
product is renamed to the plan's active substance (:func:`demo_product`; for UPLIZNA ``inebilizumab``),
and synthetic events are renamed to the case store's PTs (the most frequent PTs of the cases to the most
frequent synthetic events, so the cases' events have a background) and to three PTs (demo data, chosen
from the bundled UPLIZNA plan's safety concerns), with associations injected for the product:

- Progressive multifocal leukoencephalopathy (PML concern), a rare event reported 10 times as often;
- Infusion related reaction (infusion-reaction concern), 3 times as often;
- Herpes zoster (serious-infections concern), 4 times as often.

Disproportionality (:func:`~riskplan.signals.disproportionality.detect`) runs over the pooled table;
:func:`~riskplan.signals.workflow.signals_from_detection` records a detected signal for each
product pair flagged by EB05 ≥ 2 (idempotent: a second run adds nothing), linked to the safety
concern whose definition lists the PT. The step prints the signals against the plan's concerns and
writes the detection table (CSV, and Parquet for the web signal board) and the HTML report.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import duckdb
import numpy as np
from rich.table import Table

from riskplan.errors import UserInputError
from riskplan.plan import RiskManagementPlan, current_plan
from riskplan.signals.disproportionality import DetectionResult, detect
from riskplan.signals.report import write_html_report
from riskplan.signals.sources import CaseStoreSource
from riskplan.signals.synth import Injection, synthesise_spontaneous
from riskplan.signals.workflow import Signal, list_signals, signals_from_detection
from riskplan.store import session_scope

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy import Engine

    from riskplan.settings import Settings


class DemoContext(Protocol):
    """What the demo (``riskplan demo``, above every folder) hands this step: its settings, database,
    console, the plan it uses and the list of outputs it prints at the end."""

    settings: Settings
    engine: Engine
    console: Console
    plan: RiskManagementPlan | None

    @property
    def out_dir(self) -> Path: ...

    def wrote(self, label: str, path: Path) -> None: ...


DEMO_REPORTS = 200_000
DEMO_SEED = 2026
DEMO_THRESHOLDS = ("eb05",)
#: Frequency rank of the synthetic product renamed to the plan's substance (~1,000 of 200,000 reports).
PRODUCT_RANK = 80
#: Demo data: (PT of a concern of the bundled UPLIZNA plan, rank of the synthetic event it renames, relative
#: reporting rate injected). With another plan they are injected all the same, as events of no concern.
INJECTED = (
    ("Progressive multifocal leukoencephalopathy", 150, 10.0),
    ("Infusion related reaction", 40, 3.0),
    ("Herpes zoster", 60, 4.0),
)


def demo_product(plan: RiskManagementPlan) -> str:
    """The plan's product as the case store names it in a detection table (its active substance, lower case)."""
    return plan.product.active_substance.strip().casefold()


def _plan(ctx: DemoContext) -> RiskManagementPlan:
    if ctx.plan is not None:
        return ctx.plan
    with session_scope(ctx.engine) as session:
        return current_plan(session, ctx.settings.default_plan).plan


def _event_names(case_pts: list[str], n_events: int) -> dict[str, str]:
    """Synthetic event name → PT: the injected PTs at their ranks, the cases' PTs on the free ranks."""
    names = {f"EVENT-{rank:05d}": pt for pt, rank, _ in INJECTED}
    reserved = {rank for _, rank, _ in INJECTED}
    injected_pts = {pt.casefold() for pt, _, _ in INJECTED}
    free = (rank for rank in range(1, n_events + 1) if rank not in reserved)
    for pt, rank in zip((p for p in case_pts if p.casefold() not in injected_pts), free, strict=False):
        names[f"EVENT-{rank:05d}"] = pt
    return names


def pooled_detection(
    ctx: DemoContext, con: duckdb.DuckDBPyConnection, plan: RiskManagementPlan
) -> tuple[DetectionResult, str]:
    """Disproportionality over the case store pooled with the synthetic database; returns the result and
    a description of the data."""
    cases = CaseStoreSource(ctx.engine, plan_name=plan.name)
    renamed = demo_product(plan)
    sql_name = renamed.replace("'", "''")  # an SQL string literal
    case_rel = cases.to_relation(con)
    case_pts = [
        str(event)
        for event, _ in con.sql(
            f"SELECT event, count(DISTINCT report_id) AS n FROM ({case_rel.sql_query()}) "
            "GROUP BY event ORDER BY n DESC, event"
        ).fetchall()
    ]
    product = f"DRUG-{PRODUCT_RANK:05d}"
    injections = [Injection(product, f"EVENT-{rank:05d}", rate) for _, rank, rate in INJECTED]
    synthetic = synthesise_spontaneous(DEMO_REPORTS, DEMO_SEED, injections)
    events = _event_names(case_pts, len(synthetic.events))
    con.register(
        "_demo_event_names",
        {"code": np.array(list(events), dtype=object), "name": np.array(list(events.values()), dtype=object)},
    )
    synth_rel = synthetic.to_relation(con)
    pooled = con.sql(
        f"""
        SELECT (report_id + {DEMO_REPORTS})::BIGINT AS report_id, product, event FROM ({case_rel.sql_query()})
        UNION ALL
        SELECT s.report_id::BIGINT AS report_id,
               CASE WHEN s.product = '{product}' THEN '{sql_name}' ELSE s.product END AS product,
               coalesce(m.name, s.event) AS event
        FROM ({synth_rel.sql_query()}) s LEFT JOIN _demo_event_names m ON m.code = s.event
        """
    )
    result = detect(con, pooled)
    counts = cases.counts
    n_cases = counts.reports if counts is not None else 0
    description = (
        f"{n_cases:,} cases of the case store pooled with {DEMO_REPORTS:,} synthetic spontaneous reports "
        f"(seed {DEMO_SEED}; {product} as {renamed}, injected: "
        + ", ".join(f"{pt} ×{rate:g}" for pt, _, rate in INJECTED)
        + ")"
    )
    ctx.console.print(f"case store: {cases.note}")
    return result, description


def step_signals(ctx: DemoContext) -> None:
    """Detect disproportionality for the plan's product, record detected signals, print them against the plan."""
    plan = _plan(ctx)
    product = demo_product(plan)
    folder = ctx.out_dir / "signals"
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        result, description = pooled_detection(ctx, con, plan)
        with session_scope(ctx.engine) as session:
            created = signals_from_detection(
                session,
                result,
                DEMO_THRESHOLDS,
                product=product,
                plan=plan,
                who=ctx.settings.user,
                source_description=description,
            )
            signals = [s for s in list_signals(session, product=product) if s.is_open]
        ctx.console.print(f"sources: {description}")
        ctx.console.print(
            f"disproportionality: {result.counts.n_total:,} reports, {result.n_pairs:,} product-event pairs, "
            f"{result.timings.get('total', 0.0):.1f} s"
        )
        ctx.console.print(
            f"{product}: {len(created)} new signal(s) recorded (threshold {', '.join(DEMO_THRESHOLDS)}); "
            f"{len(signals)} open"
        )
        ctx.console.print(_signal_table(result, signals, plan))
        signalled = {c for s in signals for c in s.concern_ids}
        quiet = [c.list_title for c in plan.safety_concerns if c.definition.meddra_pts and c.id not in signalled]
        if quiet:
            ctx.console.print(f"plan concerns with PTs but no open signal: {'; '.join(quiet)}")
        table_csv = folder / "disproportionality.csv"
        rows = result.write(table_csv)
        ctx.wrote(f"disproportionality table ({rows:,} pairs, csv)", table_csv)
        table_parquet = folder / "disproportionality.parquet"
        result.write(table_parquet)
        ctx.wrote("disproportionality table (parquet, for the web signal board)", table_parquet)
        report = write_html_report(result, product, plan, folder / f"{product}.html", source=description)
        ctx.wrote(f"signal detection report for {product} (html)", Path(report))
    finally:
        con.close()


def _fmt(value: float) -> str:
    if np.isnan(value):
        return "—"
    if np.isinf(value):
        return "∞"
    return f"{value:.2f}"


def _signal_table(result: DetectionResult, signals: list[Signal], plan: RiskManagementPlan) -> Table:
    product = demo_product(plan)
    titles = {c.id: c.list_title for c in plan.safety_concerns}
    table = Table(title=f"Open signals for {product} against the plan's safety concerns (GVP IX)")
    for column in ("signal", "event (PT)", "N", "EB05", "PRR", "IC025", "safety concern", "state"):
        table.add_column(column, justify="right" if column in ("N", "EB05", "PRR", "IC025") else "left")
    rows = []
    for s in signals:
        try:
            measures = result.row(product, s.event) if s.event else {}
        except UserInputError:  # an open signal whose event is not in this data
            measures = {}
        rows.append((measures.get("EB05", float("nan")), s, measures))
    rows.sort(key=lambda r: -np.nan_to_num(r[0], nan=-1.0))
    for _, s, m in rows:
        concern = "; ".join(titles.get(c, c) for c in s.concern_ids) or "— not a concern of the plan"
        table.add_row(
            s.id,
            s.event or "",
            f"{int(m['N'])}" if "N" in m else "",
            _fmt(m.get("EB05", float("nan"))),
            _fmt(m.get("PRR", float("nan"))),
            _fmt(m.get("IC025", float("nan"))),
            concern,
            s.state.value,
        )
    return table
