"""``riskplan signal ...`` (``app``) and ``riskplan synth spontaneous`` (``synth_app``).

- ``signal detect``: every disproportionality measure (PRR, χ², ROR, IC, EBGM/EB05/EB95) for every
  product-event pair of FAERS data or a long table, with flags per threshold set;
- ``signal import-faers``: FAERS quarterly ASCII extracts → Parquet tables;
- ``signal trend``: the measures by cumulative period for one product (CSV + PNG);
- ``signal report``: an HTML report for one product with the plan's safety-concern PTs highlighted;
- ``synth spontaneous``: synthetic reports with injected associations (Parquet + ground truth CSV).
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.table import Table

from riskplan.cli_support import console, user_errors
from riskplan.errors import UserInputError
from riskplan.signals import faers as faers_import
from riskplan.signals.disproportionality import DetectionResult, detect
from riskplan.signals.mgps import read_hyperparameters
from riskplan.signals.sources import FAERS_ROLES, FaersParquet, LongTableFile, SpontaneousSource
from riskplan.signals.synth import injections_from_json, synthesise_spontaneous
from riskplan.signals.thresholds import DEFAULT_THRESHOLDS, threshold_sets

app = typer.Typer(
    help="Signal detection over spontaneous reports: disproportionality (PRR, ROR, IC, MGPS), FAERS import.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
synth_app = typer.Typer(
    help="Synthetic data for tests and benchmarks.", no_args_is_help=True, pretty_exceptions_enable=False
)


@synth_app.callback()
def _synth_group() -> None:
    """Synthetic data for tests and benchmarks."""


FaersOpt = Annotated[
    Path | None,
    typer.Option("--faers", help="FAERS: a folder from `signal import-faers`, or a quarterly extract (zip/folder)"),
]
ReportsOpt = Annotated[
    Path | None, typer.Option("--reports", help="A long table (.csv/.parquet): one row per report-product-event")
]
ReportColOpt = Annotated[str, typer.Option("--report-col", help="Column with the report id")]
ProductColOpt = Annotated[str, typer.Option("--product-col", help="Column with the product")]
EventColOpt = Annotated[str, typer.Option("--event-col", help="Column with the event (MedDRA PT)")]
StrataOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--strata-col", help="Stratify expected counts by this column (repeatable); FAERS: sex, age_grp, year"
    ),
]
PeriodOpt = Annotated[
    str | None, typer.Option("--period-col", help="Column with the period (text sorting in time order)")
]
RolesOpt = Annotated[str, typer.Option("--roles", help="FAERS drug roles to count, comma-separated (PS, SS, C, I)")]


@contextlib.contextmanager
def _source(
    faers: Path | None,
    reports: Path | None,
    report_col: str,
    product_col: str,
    event_col: str,
    strata: list[str] | None,
    period_col: str | None,
    roles: str,
) -> Iterator[SpontaneousSource]:
    """The source chosen by the options; a raw FAERS extract is imported to a temporary folder first."""
    if (faers is None) == (reports is None):
        raise UserInputError("give either --faers DIR|ZIP or --reports FILE (one of them)")
    if reports is not None:
        yield LongTableFile(reports, report_col, product_col, event_col, tuple(strata or ()), period_col)
        return
    assert faers is not None
    role_codes = tuple(r.strip().upper() for r in roles.split(",") if r.strip())
    if faers.is_dir() and (faers / "demo.parquet").is_file():
        yield FaersParquet(faers, role_codes, tuple(strata or ()))
        return
    with tempfile.TemporaryDirectory(prefix="faers_") as tmp:
        with faers_import.progress_context(sys.stderr.isatty()) as progress:
            report = faers_import.import_faers([faers], Path(tmp), progress=progress)
        if report.bad_rows_total:
            console.print(
                f"[yellow]{report.bad_rows_total} bad row(s) in {faers} were not loaded[/] "
                "(see `riskplan signal import-faers` for the list)"
            )
        yield FaersParquet(Path(tmp), role_codes, tuple(strata or ()))


def _run_detect(
    source: SpontaneousSource, con: duckdb.DuckDBPyConnection, hyperparameters: Path | None, squash: bool
) -> DetectionResult:
    theta = read_hyperparameters(hyperparameters) if hyperparameters else None
    rel = source.to_relation(con)
    try:
        return detect(con, rel, strata=source.strata, hyperparameters=theta, squash=squash)
    except duckdb.Error as exc:
        raise UserInputError(f"{source.description}: {str(exc).splitlines()[0]}") from None


@app.command("detect")
@user_errors
def detect_command(
    out: Annotated[Path, typer.Option("--out", help="Output file, .csv or .parquet")],
    faers: FaersOpt = None,
    reports: ReportsOpt = None,
    report_col: ReportColOpt = "report_id",
    product_col: ProductColOpt = "product",
    event_col: EventColOpt = "event",
    strata_col: StrataOpt = None,
    product: Annotated[
        list[str] | None,
        typer.Option("--product", help="Only write rows of this product (repeatable); the background stays all"),
    ] = None,
    thresholds: Annotated[
        str, typer.Option("--thresholds", help="Threshold sets for the flag columns: evans, eb05, ic025, ror025")
    ] = ",".join(DEFAULT_THRESHOLDS),
    hyperparameters: Annotated[
        Path | None, typer.Option("--hyperparameters", help="Reuse MGPS hyperparameters from this JSON file")
    ] = None,
    squash: Annotated[bool, typer.Option("--squash", help="Fit MGPS on openEBGM-squashed points")] = False,
    roles: RolesOpt = ",".join(FAERS_ROLES),
) -> None:
    """Disproportionality for every product-event pair: N, E, PRR, χ², ROR, IC, EBGM, EB05, EB95, flags.

    The fitted MGPS hyperparameters are written beside the output as <out>.hyperparameters.json.
    """
    sets = threshold_sets(thresholds)
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise UserInputError(f"{out}: --out must name a .csv or .parquet file")
    con = duckdb.connect()
    try:
        with _source(faers, reports, report_col, product_col, event_col, strata_col, None, roles) as source:
            result = _run_detect(source, con, hyperparameters, squash)
            rows = result.write(out, [s.name for s in sets], product or None)
        hyper_path = out.with_name(out.name + ".hyperparameters.json")
        if result.fit is not None:
            result.fit.write_json(hyper_path)
        _print_summary(result, out, rows, [s.name for s in sets], hyper_path if result.fit else None)
    finally:
        con.close()


def _print_summary(result: DetectionResult, out: Path, rows: int, sets: list[str], hyper: Path | None) -> None:
    c = result.counts
    theta = result.theta
    table = Table(title="signal detect", show_header=False)
    table.add_row("reports", f"{c.n_total:,}")
    table.add_row(
        "product-event pairs", f"{c.n_pairs:,}" + (f" (stratified E over {c.n_strata} strata)" if c.strata else "")
    )
    if c.excluded_rows:
        table.add_row("rows left out", f"{c.excluded_rows:,} (missing report id, product or event)")
    table.add_row(
        "MGPS prior (α1, β1, α2, β2, P)",
        f"{theta.alpha1:.4g}, {theta.beta1:.4g}, {theta.alpha2:.4g}, {theta.beta2:.4g}, {theta.p:.4g}"
        + ("" if result.fit else " (given)"),
    )
    if result.fit is not None:
        fit = result.fit
        status = "converged" if fit.converged else "NOT converged"
        status += f", {fit.num_close} other start(s) agree" if fit.consistent else ", starts disagree"
        table.add_row("MGPS fit", f"{status}; −log L = {fit.neg_log_likelihood:.3f} on {fit.n_points:,} points")
    flags = result.flags(sets)
    for name in sets:
        table.add_row(f"flagged: {name}", f"{int(flags[name].sum()):,}")
    table.add_row("seconds", ", ".join(f"{k} {v:.2f}" for k, v in result.timings.items()))
    table.add_row("written", f"{out} ({rows:,} rows)" + (f"; {hyper}" if hyper else ""))
    console.print(table)
    if result.fit is not None and not (result.fit.converged and result.fit.consistent):
        console.print(
            "[yellow]warning:[/] the MGPS hyperparameter fit is not confirmed by several starting "
            "points; check the hyperparameters file"
        )


@app.command("import-faers")
@user_errors
def import_faers_command(
    inputs: Annotated[list[Path], typer.Argument(help="Quarterly extracts: zips or folders (several quarters)")],
    out: Annotated[Path, typer.Option("--out", help="Output folder for the Parquet tables")],
    deleted: Annotated[
        list[Path] | None, typer.Option("--deleted", help="A deletion list (one caseid per line); repeatable")
    ] = None,
    show: Annotated[int, typer.Option("--show-bad", help="How many bad rows to list")] = 20,
) -> None:
    """Import FAERS quarterly ASCII files into Parquet: latest case versions, deletions removed."""
    with faers_import.progress_context(sys.stderr.isatty()) as progress:
        report = faers_import.import_faers(inputs, out, deleted or (), progress=progress)
    table = Table(title=f"FAERS import ({', '.join(report.quarters)})", show_header=False)
    table.add_row("files", str(len(report.files)))
    table.add_row(
        "cases",
        f"{report.cases:,} ({report.versions_superseded:,} older versions dropped, {report.cases_deleted:,} deleted)",
    )
    table.add_row("reports kept", f"{report.reports_kept:,}")
    for name, n in report.tables.items():
        table.add_row(f"{name}.parquet", f"{n:,} rows")
    table.add_row("bad rows (not loaded)", f"{report.bad_rows_total:,}")
    orphans = sum(report.orphan_rows.values())
    if orphans:
        table.add_row("rows without a DEMO record (left out)", f"{orphans:,}")
    console.print(table)
    if report.bad_rows_total:
        listed = report.bad_rows[:show]
        console.print(f"[yellow]{report.bad_rows_total} bad row(s)[/]; the first {len(listed)}:")
        for bad in listed:
            console.print(f"  {bad.file}:{bad.line}: {bad.reason}", markup=False)
    console.print(f"report: {out / 'import_report.json'}")


@app.command("trend")
@user_errors
def trend_command(
    product: Annotated[str, typer.Option("--product", help="The product to follow")],
    out: Annotated[Path, typer.Option("--out", help="Table of measures by period (.csv or .parquet)")],
    faers: FaersOpt = None,
    reports: ReportsOpt = None,
    report_col: ReportColOpt = "report_id",
    product_col: ProductColOpt = "product",
    event_col: EventColOpt = "event",
    period_col: PeriodOpt = None,
    event: Annotated[list[str] | None, typer.Option("--event", help="Events to plot (repeatable)")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="PNG plot of EB05 and IC025 by period")] = None,
    roles: RolesOpt = ",".join(FAERS_ROLES),
) -> None:
    """The measures for one product's pairs by cumulative period (refitting MGPS at each period)."""
    from riskplan.signals.trend import plot_trend, time_trend

    con = duckdb.connect()
    try:
        with _source(faers, reports, report_col, product_col, event_col, None, period_col, roles) as source:
            if not source.has_period:
                raise UserInputError("a time trend needs periods: give --period-col (FAERS has quarters)")
            trend = time_trend(con, source.to_relation(con), product)
        rows = trend.write(out)
        console.print(f"{rows} rows ({len(trend.periods)} periods) written to {out}")
        if plot is not None:
            plot_trend(trend, plot, events=event or None)
            console.print(f"plot: {plot}")
    finally:
        con.close()


@app.command("report")
@user_errors
def report_command(
    product: Annotated[str, typer.Option("--product", help="The product of the report")],
    out: Annotated[Path, typer.Option("--out", help="HTML file to write")],
    faers: FaersOpt = None,
    reports: ReportsOpt = None,
    report_col: ReportColOpt = "report_id",
    product_col: ProductColOpt = "product",
    event_col: EventColOpt = "event",
    strata_col: StrataOpt = None,
    plan: Annotated[str, typer.Option("--plan", help="Plan whose safety-concern PTs to highlight")] = "uplizna",
    measure: Annotated[str, typer.Option("--measure", help="EB05 or IC025 on the plot's y axis")] = "EB05",
    roles: RolesOpt = ",".join(FAERS_ROLES),
) -> None:
    """An HTML report for one product: its pairs' EB05 (or IC025) against N, concern PTs highlighted."""
    from riskplan.plan.catalogue import load_plan
    from riskplan.signals.report import write_html_report

    rmp = load_plan(plan)
    con = duckdb.connect()
    try:
        with _source(faers, reports, report_col, product_col, event_col, strata_col, None, roles) as source:
            result = _run_detect(source, con, None, False)
            write_html_report(result, product, rmp, out, measure=measure, source=source.description)
        console.print(f"report: {out}")
    finally:
        con.close()


@synth_app.command("spontaneous")
@user_errors
def synth_spontaneous_command(
    out: Annotated[Path, typer.Option("--out", help="Parquet file for the long table")],
    n_reports: Annotated[int, typer.Option("--reports", help="Number of reports")] = 100_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed")] = 0,
    injected: Annotated[
        Path | None,
        typer.Option("--injected", help="JSON list of {product, event, relative_rate} to inject (default: ~20)"),
    ] = None,
) -> None:
    """Synthetic spontaneous reports (one row per report-product-event) with known associations.

    The ground truth of the injected associations is written beside the output as <stem>.injected.csv.
    """
    if out.suffix.lower() != ".parquet":
        raise UserInputError(f"{out}: --out must name a .parquet file")
    injections = None
    if injected is not None:
        if not injected.is_file():
            raise UserInputError(f"{injected}: no such file")
        injections = injections_from_json(injected.read_text(encoding="utf-8"))
    data = synthesise_spontaneous(n_reports, seed, injections)
    truth = data.write_parquet(out)
    console.print(
        f"{data.n_reports:,} reports, {data.n_rows:,} rows → {out}; "
        f"{len(data.injected)} injected associations → {truth}"
    )


if __name__ == "__main__":  # pragma: no cover - `python -m riskplan.signals.cli`
    app()
