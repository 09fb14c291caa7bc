"""``riskplan signal ...`` (``app``) and ``riskplan synth spontaneous`` (``synth_app``).

- ``signal detect``: every disproportionality measure (PRR, χ², ROR, IC, EBGM/EB05/EB95) for every
  product-event pair of FAERS data or a long table, with flags per threshold set;
- ``signal import-faers``: FAERS quarterly ASCII extracts → Parquet tables;
- ``signal trend``: the measures by cumulative period for one product (CSV + PNG);
- ``signal report``: an HTML report for one product with the plan's safety-concern PTs highlighted;
- ``signal new``, ``list``, ``show``, ``transition``: signal management (GVP Module IX), see
  :mod:`riskplan.signals.workflow`. ``transition --role`` says in which role the user acts; it defaults to
  ``qppv`` (the command line is run by the QPPV's office), and only ``qppv`` may close a signal;
- ``synth spontaneous``: synthetic reports with injected associations (Parquet + ground truth CSV).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.console import Console
from rich.progress import TaskID
from rich.table import Table

from riskplan.cli_support import PasswordStdinOption, SignerOption, console
from riskplan.errors import UserInputError
from riskplan.signals import faers as faers_import
from riskplan.signals.disproportionality import DetectionResult, detect, detect_counted
from riskplan.signals.drug_levels import DrugLevel, faers_product_sql
from riskplan.signals.mgps import read_hyperparameters
from riskplan.signals.sources import FAERS_ROLES, FaersParquet, LongTableFile, SpontaneousSource
from riskplan.signals.synth import injections_from_json, synthesise_spontaneous
from riskplan.signals.thresholds import DEFAULT_THRESHOLDS, ThresholdSet, threshold_sets
from riskplan.store import user_errors
from riskplan.terms import EVENT_LEVELS

app = typer.Typer(
    help="Signals: disproportionality (PRR, ROR, IC, MGPS) over spontaneous reports, FAERS import, and signal"
    " management (GVP Module IX: new, list, show, transition).",
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
    cases: bool = False,
    drug_level: DrugLevel | None = None,
) -> Iterator[SpontaneousSource]:
    """The source chosen by the options; a raw FAERS extract is imported to a temporary folder first."""
    if drug_level is DrugLevel.ATC and not cases:
        faers_product_sql(drug_level)  # refused with the reason before any import
    if cases:
        if faers is not None or reports is not None:
            raise UserInputError("give either --faers DIR|ZIP or --reports FILE or --cases (one of them)")
        from riskplan.signals.sources import CaseStoreSource
        from riskplan.store import database

        yield CaseStoreSource(database(), use_strata=tuple(strata or ()), drug_level=drug_level)
        return
    if (faers is None) == (reports is None):
        raise UserInputError("give either --faers DIR|ZIP or --reports FILE (one of them)")
    if reports is not None:
        if drug_level is not None:
            raise UserInputError(
                "--drug-level needs --cases or --faers: a long table's product column is used as it is"
            )
        yield LongTableFile(reports, report_col, product_col, event_col, tuple(strata or ()), period_col)
        return
    assert faers is not None
    role_codes = tuple(r.strip().upper() for r in roles.split(",") if r.strip())
    if faers.is_dir() and (faers / "demo.parquet").is_file():
        yield FaersParquet(faers, role_codes, tuple(strata or ()), drug_level)
        return
    with tempfile.TemporaryDirectory(prefix="faers_") as tmp:
        with faers_import.progress_context(sys.stderr.isatty()) as progress:
            report = faers_import.import_faers([faers], Path(tmp), progress=progress)
        if report.bad_rows_total:
            console.print(
                f"[yellow]{report.bad_rows_total} bad row(s) in {faers} were not loaded[/] "
                "(see `riskplan signal import-faers` for the list)"
            )
        yield FaersParquet(Path(tmp), role_codes, tuple(strata or ()), drug_level)


@contextlib.contextmanager
def step_progress(enabled: bool, console: Console | None = None) -> Iterator[Callable[[str], None]]:
    """A rich display of the steps of a long command (spinner, description, time taken; a tick when a
    step is done) on stderr when ``enabled``; yields the function that starts the next step."""
    if not enabled:
        yield lambda _description: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    display = Progress(
        SpinnerColumn(finished_text="[green]✓[/]"),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
    )
    started: list[TaskID] = []

    def finish_last() -> None:
        if started:
            display.update(started[-1], total=1, completed=1)

    def start(description: str) -> None:
        finish_last()
        started.append(display.add_task(description, total=None))

    with display:
        yield start
        finish_last()


def _grouped(inner: SpontaneousSource, level: str, smq_scope: str) -> SpontaneousSource:
    from riskplan.signals.event_levels import GroupedSource
    from riskplan.store import database

    return GroupedSource(inner, database(), level, smq_scope=smq_scope)


def _run_detect(
    source: SpontaneousSource,
    con: duckdb.DuckDBPyConnection,
    hyperparameters: Path | None,
    squash: bool | None,
    threads: int | None = None,
    on_step: Callable[[str], None] | None = None,
) -> DetectionResult:
    theta = read_hyperparameters(hyperparameters) if hyperparameters else None
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    rel = source.to_relation(con)
    try:
        return detect(
            con, rel, strata=source.strata, hyperparameters=theta, squash=squash, workers=threads, on_step=on_step
        )
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
    squash: Annotated[
        bool | None,
        typer.Option(
            "--squash/--no-squash",
            help="Fit MGPS on openEBGM-squashed points (default: only above 500,000 distinct (N, E) points)",
        ),
    ] = None,
    roles: RolesOpt = ",".join(FAERS_ROLES),
    cases: Annotated[
        bool,
        typer.Option(
            "--cases",
            help="Use riskplan's case store: latest valid case versions, suspect/interacting substances, coded PTs"
            " (strata: sex, country, year)",
        ),
    ] = False,
    threads: Annotated[
        int | None,
        typer.Option("--threads", min=1, help="Threads for DuckDB and NumPy (default: all cores, NumPy at most 8)"),
    ] = None,
    drug_level: Annotated[
        DrugLevel | None,
        typer.Option(
            "--drug-level",
            help="Count drugs by name as reported, by active ingredient, or by ATC code of their WHODrug coding "
            "(--cases); default: ingredient as stored (FAERS: prod_ai as a whole, else drugname)",
        ),
    ] = None,
    event_level: Annotated[
        str,
        typer.Option(
            "--event-level",
            help="Count events as PTs (default) or grouped by HLT, HLGT, SOC (primary path) or SMQ, with the"
            " loaded MedDRA release",
        ),
    ] = "pt",
    smq_scope: Annotated[
        str, typer.Option("--smq-scope", help="With --event-level smq: narrow or broad term sets")
    ] = "broad",
    counts_on: Annotated[
        str,
        typer.Option(
            "--counts-on",
            help="Where N, E and the margins are counted: duckdb (default, in this process) or Apache Spark:"
            " spark+local:// (local mode, all cores), spark+local://N (N cores) or spark://host:port (a cluster)."
            " Spark needs --reports (a .parquet file, a folder of Parquet files, or a .csv file); the MGPS fit"
            " and the scores then run here on the counted pairs, with the same results",
        ),
    ] = "duckdb",
) -> None:
    """Disproportionality for every product-event pair: N, E, PRR, χ², ROR, IC, EBGM, EB05, EB95, flags.

    The fitted MGPS hyperparameters are written beside the output as <out>.hyperparameters.json.
    With --counts-on spark+local:// (or spark://host:port) the counting step runs on Apache Spark.
    """
    sets = threshold_sets(thresholds)
    level = event_level.strip().lower()
    if level not in EVENT_LEVELS:
        raise UserInputError(f"--event-level {event_level!r}: use one of {', '.join(EVENT_LEVELS)}")
    if smq_scope not in ("narrow", "broad"):
        raise UserInputError(f"--smq-scope {smq_scope!r}: use narrow or broad")
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise UserInputError(f"{out}: --out must name a .csv or .parquet file")
    if counts_on.strip().lower() != "duckdb":
        spark_options = _SparkRoute(faers, cases, drug_level, level, counts_on).checked()
        _detect_on_spark(
            spark_options,
            out,
            reports,
            (report_col, product_col, event_col),
            strata_col,
            product,
            sets,
            hyperparameters,
            squash,
            threads,
        )
        return
    con = duckdb.connect()
    try:
        with (
            _source(
                faers, reports, report_col, product_col, event_col, strata_col, None, roles, cases, drug_level
            ) as inner,
            step_progress(sys.stderr.isatty()) as step,
        ):
            source = inner if level == "pt" else _grouped(inner, level, smq_scope)
            result = _run_detect(source, con, hyperparameters, squash, threads, step)
            step(f"writing {out.name}")
            rows = result.write(out, [s.name for s in sets], product or None)
            note = getattr(source, "note", "")
        if note:
            console.print(f"{source.description}: {note}", markup=False)
        hyper_path = out.with_name(out.name + ".hyperparameters.json")
        if result.fit is not None:
            result.fit.write_json(hyper_path)
        _print_summary(result, out, rows, [s.name for s in sets], hyper_path if result.fit else None)
    finally:
        con.close()


@dataclass(frozen=True)
class _SparkRoute:
    """The options of ``signal detect --counts-on SPARK``, checked before Spark starts."""

    faers: Path | None
    cases: bool
    drug_level: DrugLevel | None
    event_level: str
    counts_on: str

    def checked(self) -> str:
        """The Spark master URL; a user error for options the Spark route does not take."""
        from riskplan.store import spark_master

        if self.faers is not None or self.cases:
            raise UserInputError(
                f"--counts-on {self.counts_on}: Spark counts a long table given by --reports (a .parquet file, a"
                " folder of Parquet files or a .csv file), not --faers or --cases"
            )
        if self.drug_level is not None or self.event_level != "pt":
            raise UserInputError(
                f"--counts-on {self.counts_on}: --drug-level and --event-level are not available with Spark counting"
            )
        if not self.counts_on.strip().startswith(("spark+local://", "spark://")):
            raise UserInputError(
                f"--counts-on {self.counts_on!r}: use duckdb, spark+local://, spark+local://N or spark://host:port"
            )
        return spark_master(self.counts_on)


def _detect_on_spark(
    master: str,
    out: Path,
    reports: Path | None,
    columns: tuple[str, str, str],
    strata: list[str] | None,
    products: list[str] | None,
    sets: list[ThresholdSet],
    hyperparameters: Path | None,
    squash: bool | None,
    threads: int | None,
) -> None:
    """``signal detect`` with the counts made by Spark, then the MGPS fit and the scores here."""
    import time

    from riskplan.signals.counts_spark import count_pairs_spark, read_reports_spark
    from riskplan.store import spark_session

    if reports is None:
        raise UserInputError("--counts-on spark: give --reports (a .parquet file, a folder of Parquet files or a .csv)")
    theta = read_hyperparameters(hyperparameters) if hyperparameters else None
    con = duckdb.connect()
    try:
        with step_progress(sys.stderr.isatty()) as step:
            step(f"starting Spark ({master})")
            spark = spark_session(master)
            started = time.perf_counter()
            step("counting product-event pairs on Spark")
            frame = read_reports_spark(spark, reports, *columns, strata=tuple(strata or ()))
            counts = count_pairs_spark(frame, tuple(strata or ()), con)
            if counts.n_pairs == 0:
                raise UserInputError(f"{reports}: no product-event pairs (no rows with a report id, product and event)")
            result = detect_counted(
                counts, hyperparameters=theta, squash=squash, workers=threads, on_step=step, started=started
            )
            step(f"writing {out.name}")
            rows = result.write(out, [s.name for s in sets], products or None)
        hyper_path = out.with_name(out.name + ".hyperparameters.json")
        if result.fit is not None:
            result.fit.write_json(hyper_path)
        _print_summary(result, out, rows, [s.name for s in sets], hyper_path if result.fit else None)
        console.print(f"counted on Spark ({master})", markup=False)
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
        table.add_row("MGPS fit", f"{status}; −log L = {fit.neg_log_likelihood:.3f}; {fit.description}")
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
    plan: Annotated[
        str | None,
        typer.Option("--plan", help="Plan whose safety-concern PTs to highlight (default: the configured plan)"),
    ] = None,
    measure: Annotated[str, typer.Option("--measure", help="EB05 or IC025 on the plot's y axis")] = "EB05",
    roles: RolesOpt = ",".join(FAERS_ROLES),
) -> None:
    """An HTML report for one product: its pairs' EB05 (or IC025) against N, concern PTs highlighted."""
    from riskplan.plan import plan_in_force
    from riskplan.signals.report import write_html_report

    rmp = plan_in_force(plan).plan
    con = duckdb.connect()
    try:
        with _source(faers, reports, report_col, product_col, event_col, strata_col, None, roles) as source:
            result = _run_detect(source, con, None, False)
            write_html_report(result, product, rmp, out, measure=measure, source=source.description)
        console.print(f"report: {out}")
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------------
# Signal management (GVP Module IX): riskplan.signals.workflow
# ---------------------------------------------------------------------------------------------------


def _date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UserInputError(f"{option}: expected a date as YYYY-MM-DD, not {text!r}") from None


@app.command("new")
@user_errors
def new_command(
    title: Annotated[str, typer.Option("--title", help="What the signal is, e.g. 'Herpes zoster with inebilizumab'")],
    product: Annotated[str | None, typer.Option("--product", help="The product (active substance)")] = None,
    event: Annotated[str | None, typer.Option("--event", help="The event (MedDRA PT)")] = None,
    concern: Annotated[str | None, typer.Option("--concern", help="Id of the plan's safety concern")] = None,
    source: Annotated[
        str, typer.Option("--source", help="disproportionality, case-series, study, literature or other")
    ] = "other",
    case: Annotated[
        list[str] | None, typer.Option("--case", help="A linked case: RP number or worldwide case id (repeatable)")
    ] = None,
    plan: Annotated[
        str | None, typer.Option("--plan", "-p", help="The plan the signal belongs to (default: the settings' plan)")
    ] = None,
    detected: Annotated[
        str | None, typer.Option("--detected", help="Date of detection, YYYY-MM-DD (default: today)")
    ] = None,
    description: Annotated[str | None, typer.Option("--description", help="Free-text description")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why it is recorded (audit trail)")] = None,
) -> None:
    """Record a detected signal (GVP IX.B.2); it starts in the state 'detected'."""
    from riskplan.cli_support import current_user
    from riskplan.plan import load_plan
    from riskplan.settings import get_settings
    from riskplan.signals.workflow import new_signal
    from riskplan.store import database, session_scope

    rmp = load_plan(plan) if plan is not None and Path(plan).suffix else None
    plan_name = rmp.name if rmp is not None else plan or get_settings().default_plan
    with session_scope(database()) as session:
        signal = new_signal(
            session,
            title=title,
            who=current_user(),
            product=product,
            event=event,
            concern_id=concern,
            plan_name=plan_name,
            source=source,
            cases=case or (),
            description=description,
            detected=_date(detected, "--detected"),
            reason=reason,
            plan=rmp,
        )
    console.print(f"{signal.id}: {signal.title} — {signal.state.value}", markup=False)


class ListFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


@app.command("list")
@user_errors
def list_command(
    state: Annotated[str | None, typer.Option("--state", help="Only signals in this state")] = None,
    plan: Annotated[str | None, typer.Option("--plan", "-p", help="Only signals of this plan")] = None,
    fmt: Annotated[ListFormat, typer.Option("--format", "-f", help="table or json")] = ListFormat.TABLE,
) -> None:
    """List the signals with their state, outcome and the plan version an outcome produced."""
    from riskplan.signals.workflow import list_signals, signal_to_dict
    from riskplan.store import database, session_scope

    with session_scope(database()) as session:
        signals = list_signals(session, state, plan_name=plan)
    if fmt is ListFormat.JSON:
        typer.echo(json.dumps([signal_to_dict(s) for s in signals], indent=2, ensure_ascii=False))
        return
    table = Table(title=f"Signals ({len(signals)})")
    for column in ("id", "title", "product", "event", "concern", "source", "state", "detected", "closed", "outcome"):
        table.add_column(column, overflow="fold")
    for s in signals:
        outcome = s.outcome.value if s.outcome else ""
        if s.plan_version is not None:
            outcome += f" → {s.plan_name} v{s.plan_version}"
        table.add_row(
            s.id,
            s.title,
            s.product or "",
            s.event or "",
            ", ".join(s.concern_ids),
            s.source.value,
            s.state.value,
            s.detected_on.isoformat(),
            s.closed_on.isoformat() if s.closed_on else "",
            outcome,
        )
    console.print(table)


@app.command("show")
@user_errors
def show_command(signal_id: Annotated[str, typer.Argument(help="The signal, e.g. SIG-2026-0001")]) -> None:
    """One signal: what it is about, its statistics, linked cases and its history of transitions."""
    from riskplan.signals.workflow import get_signal, signal_causality, signal_history
    from riskplan.store import database, session_scope

    with session_scope(database()) as session:
        s = get_signal(session, signal_id)
        moves = signal_history(session, signal_id)
        pairs = signal_causality(session, signal_id)
    info = Table(title=f"{s.id}: {s.title}", show_header=False)
    rows = [
        (
            "state",
            s.state.value + ("" if not s.allowed_next else f" (next: {', '.join(n.value for n in s.allowed_next)})"),
        ),
        ("product", s.product or ""),
        ("event (PT)", s.event or ""),
        ("safety concern(s)", ", ".join(s.concern_ids)),
        ("plan", s.plan_name or ""),
        ("source", s.source.value),
        ("detected", f"{s.detected_on} by {s.detected_by}"),
        ("closed", f"{s.closed_on} by {s.closed_by}" if s.closed_at else ""),
        ("electronic signature", s.signed),
        ("outcome", s.outcome.value if s.outcome else ""),
        ("plan version produced", f"{s.plan_name} v{s.plan_version}" if s.plan_version is not None else ""),
        ("linked cases", ", ".join(s.cases)),
        ("description", s.description or ""),
    ]
    if s.statistics:
        shown = ("N", "expected", "PRR", "chi2", "ROR025", "IC025", "EBGM", "EB05", "flagged_by")
        rows.append(("statistics", ", ".join(f"{k} {_stat(s.statistics.get(k))}" for k in shown if k in s.statistics)))
    for key, value in rows:
        if value:
            info.add_row(key, value)
    console.print(info)
    history = Table(title="History")
    for column in ("at (UTC)", "from", "to", "who", "acting as", "reason", "outcome", "plan version"):
        history.add_column(column, overflow="fold")
    for m in moves:
        history.add_row(
            m.at.strftime("%Y-%m-%d %H:%M:%S"),
            m.from_state.value if m.from_state else "",
            m.to_state.value,
            m.who,
            m.role or "",
            m.reason,
            m.outcome.value if m.outcome else "",
            f"{m.plan_name} v{m.plan_version}" if m.plan_version is not None else "",
        )
    console.print(history)
    if pairs:
        causality = Table(title="Causality per drug × reaction in the case series (G.k.9.i.2.r)")
        for column in ("case", "drug", "reaction", "method", "result", "score", "assessor", "date (UTC)", "origin"):
            causality.add_column(column, overflow="fold")
        for c in pairs:
            causality.add_row(
                f"{c.case_number} {c.worldwide_id}",
                f"{c.drug_seq} {c.drug}",
                f"{c.reaction_seq} {c.reaction}",
                c.method or "",
                c.result,
                "" if c.score is None else str(c.score),
                c.assessor or "",
                f"{c.assessed_at:%Y-%m-%d %H:%M}" if c.assessed_at else "",
                c.origin,
            )
        console.print(causality)


def _stat(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list):
        return "/".join(str(v) for v in value)
    return "—" if value is None else str(value)


@app.command("transition")
@user_errors
def transition_command(
    signal_id: Annotated[str, typer.Argument(help="The signal, e.g. SIG-2026-0001")],
    state: Annotated[str, typer.Argument(help="validated, refuted, prioritised, assessed or closed")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded with the transition and in the audit trail)")],
    outcome: Annotated[
        str | None,
        typer.Option(
            "--outcome",
            help="When closing: new-safety-concern, changed-safety-concern, risk-minimisation-change or no-action",
        ),
    ] = None,
    plan: Annotated[
        Path | None,
        typer.Option("--plan", help="The changed plan (.yaml/.json) for an outcome that changes the plan"),
    ] = None,
    role: Annotated[str, typer.Option("--role", help="The role you act in; only 'qppv' may close a signal")] = "qppv",
    signer: SignerOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Move a signal on: detected → validated | refuted; validated → prioritised → assessed → closed.

    Closing needs --outcome and --role qppv (the default) and is electronically signed by the QPPV: your
    own user name and password are asked for (or --signer and --password-stdin; 21 CFR 11.200). An
    outcome that changes the plan needs --plan with the changed plan, which is stored as a new plan
    version whose reason names the signal.
    """
    from riskplan.cli_support import current_user
    from riskplan.signals.workflow import SignalState, closing_is_ready, parse_state, transition
    from riskplan.store import database, session_scope, verified_signer

    engine = database()
    signed_by = None
    if parse_state(state) is SignalState.CLOSED:
        with session_scope(engine) as session:
            ready = closing_is_ready(session, signal_id, role=role, outcome=outcome)
        if ready:
            signed_by = verified_signer(engine, signer, password_stdin)
    who = signed_by.username if signed_by is not None else current_user()
    with session_scope(engine) as session:
        s = transition(
            session,
            signal_id,
            state,
            who=who,
            role=role,
            reason=reason,
            outcome=outcome,
            plan=plan,
            signer=signed_by,
        )
    message = f"{s.id}: {s.state.value}"
    if s.outcome is not None:
        message += f" ({s.outcome.value})"
    if s.plan_version is not None:
        message += f"; plan {s.plan_name} stored as version {s.plan_version}"
    if s.signed:
        message += f"; signed: {s.signed}"
    console.print(message, markup=False)


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
