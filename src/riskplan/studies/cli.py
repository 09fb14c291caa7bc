"""``riskplan study ...``: the plan's observational studies on OMOP CDM data; ``riskplan synth omop``.

Every analysis command takes the CDM (``--cdm`` folder, DuckDB file or postgresql:// URL), the target
drug (``--target`` concept ids, comma-separated; descendants included where concept_ancestor is
present), optionally a comparator, the washout and the time at risk, and prints a table (``text``),
JSON or CSV. ``study run`` (a whole study of the plan and its report) is in :mod:`riskplan.reports.cli`:
the report is written by ``reports``, which sits above ``studies``.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from riskplan.cli_support import console
from riskplan.errors import UserInputError
from riskplan.plan import RiskManagementPlan, plan_in_force
from riskplan.store import user_errors
from riskplan.studies.background import load_background_rates
from riskplan.studies.cdm import Cdm, open_cdm
from riskplan.studies.characteristics import baseline_characteristics
from riskplan.studies.cohorts import (
    Cohort,
    NewUserCohortDefinition,
    TarKind,
    TimeAtRisk,
    build_comparative_cohorts,
    build_new_user_cohort,
)
from riskplan.studies.concept_search import DEFAULT_LIMIT, search_concepts
from riskplan.studies.concepts import ConceptSet, parse_concept_ids
from riskplan.studies.incidence import incidence
from riskplan.studies.labs import lab_safety
from riskplan.studies.outcomes import OutcomeDefinition, outcome_from_concept_ids, outcome_from_concern
from riskplan.studies.plan_studies import plan_concomitant, product_drug
from riskplan.studies.pregnancy import pregnancy_outcomes
from riskplan.studies.results import ResultTable, fmt, result_tables, result_to_dict
from riskplan.studies.synth import synthesise_omop
from riskplan.studies.utilisation import drug_utilisation, schedule_from_plan

app = typer.Typer(
    help="Observational studies of the plan on OMOP CDM data: cohorts, incidence, characteristics, "
    "utilisation, labs, pregnancy, and whole studies with their reports.",
    no_args_is_help=True,
)
synth_app = typer.Typer(help="Synthetic data for trying riskplan out.", no_args_is_help=True)


@synth_app.callback()
def _synth_group() -> None:
    """Synthetic data for trying riskplan out (a group, so that ``omop`` stays a subcommand)."""


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    CSV = "csv"


CdmOption = Annotated[
    str,
    typer.Option(
        "--cdm",
        help="OMOP CDM: folder of Parquet/CSV files, DuckDB file, postgresql://...?schema=cdm, "
        "or spark+local://?path=<Parquet folder> / spark://host:port?database=cdm&prefix=omop_",
    ),
]
TargetOption = Annotated[str, typer.Option("--target", help="Target drug concept ids, comma-separated (e.g. 1118084)")]
ComparatorOption = Annotated[
    str | None, typer.Option("--comparator", help="Comparator drug concept ids, comma-separated")
]
WashoutOption = Annotated[int, typer.Option("--washout", min=0, help="Days of prior observation without the drug")]
TarOption = Annotated[TarKind, typer.Option("--tar", help="Time at risk: on-treatment or since-first")]
GraceOption = Annotated[int, typer.Option("--grace", min=0, help="Grace period (days) bridging gaps between doses")]
CoversOption = Annotated[
    int | None, typer.Option("--dose-covers", min=1, help="Days each dose covers (e.g. 183 for 6-monthly infusions)")
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", help="text (tables), json or csv")]
OutOption = Annotated[Path | None, typer.Option("--out", help="Write the output to this file instead of stdout")]
PlanOption = Annotated[
    str | None,
    typer.Option(
        "--plan",
        help="Plan name (default: the configured plan; its approved version, else the latest stored, "
        "else the bundled file) or a plan file",
    ),
]


def _open(cdm: str) -> Cdm:
    return open_cdm(cdm)


def _definition(
    name: str, ids: str, what: str, washout: int, tar: TarKind, grace: int, covers: int | None
) -> NewUserCohortDefinition:
    return NewUserCohortDefinition(
        name, ConceptSet(name, parse_concept_ids(ids, what)), washout, TimeAtRisk(tar, grace, covers)
    )


def _cohorts(
    cdm: Cdm, target: str, comparator: str | None, washout: int, tar: TarKind, grace: int, covers: int | None
) -> tuple[Cohort, Cohort | None]:
    t_def = _definition("target", target, "--target", washout, tar, grace, covers)
    if comparator is None:
        return build_new_user_cohort(cdm, t_def), None
    c_def = _definition("comparator", comparator, "--comparator", washout, tar, grace, covers)
    return build_comparative_cohorts(cdm, t_def, c_def)


def _outcome(text: str, rmp: RiskManagementPlan) -> tuple[OutcomeDefinition, str | None]:
    if text.startswith("concern:"):
        concern_id = text.removeprefix("concern:")
        try:
            return outcome_from_concern(rmp.concern(concern_id)), concern_id
        except KeyError:
            raise UserInputError(
                f"--outcome: plan {rmp.name} has no safety concern {concern_id!r}; "
                f"its concerns: {', '.join(c.id for c in rmp.safety_concerns)}"
            ) from None
    return outcome_from_concept_ids("outcome", parse_concept_ids(text, "--outcome")), None


def _emit(
    result: Any,
    fmt: OutputFormat,
    main: ResultTable,
    out: Path | None,
    notes: tuple[str, ...] = (),
    lines: tuple[str, ...] = (),
) -> None:
    if fmt is OutputFormat.JSON:
        text = json.dumps(result_to_dict(result), indent=2) + "\n"
    elif fmt is OutputFormat.CSV:
        text = main.to_csv()
    else:
        if out is not None:
            raise UserInputError("--out needs --format json or csv")
        for table in result_tables(result).values():
            _print_table(table)
        for line in lines:
            console.print(line, markup=False)
        for note in notes:
            console.print(f"note: {note}", markup=False)
        return
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}", markup=False)
    else:
        typer.echo(text, nl=False)


def _fmt(value: Any) -> str:
    return fmt(value)


def _print_table(table: ResultTable) -> None:
    t = Table(title=table.name)
    for col in table.columns:
        t.add_column(col.replace("_", " "))
    for row in table.rows:
        t.add_row(*(_fmt(v) for v in row))
    console.print(t)


@app.command("concepts")
@user_errors
def concepts_command(
    text: Annotated[str, typer.Argument(help="Part of the name (or a synonym), any case, e.g. celecoxib or bleed")],
    cdm: CdmOption,
    domain: Annotated[
        str | None, typer.Option("--domain", help="Only this OMOP domain: Drug, Condition, Measurement, ...")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many concepts")] = DEFAULT_LIMIT,
    fmt: FormatOption = OutputFormat.TEXT,
    out: OutOption = None,
) -> None:
    """Find concept ids by name in the CDM's vocabulary, for --target / --outcome of the other commands.

    Case-insensitive search of concept names and synonyms; best first (exact name, standard concepts,
    ingredients). For a drug ingredient: the number of drug concepts below it in concept_ancestor (not
    counting itself; a concept set with descendants covers them all) and the persons exposed to any of
    them in drug_exposure.
    """
    with _open(cdm) as c:
        result = search_concepts(c, text, domain=domain, limit=limit)
    if fmt is OutputFormat.TEXT and not result.concepts.rows:
        where = f" in domain {result.domain}" if result.domain else ""
        console.print(f"no concept{where} has {text.strip()!r} in its name or a synonym", markup=False)
        for note in result.notes:
            console.print(f"note: {note}", markup=False)
        return
    if fmt is OutputFormat.TEXT:
        if out is not None:
            raise UserInputError("--out needs --format json or csv")
        _print_concepts(result.concepts)
        for note in result.notes:
            console.print(f"note: {note}", markup=False)
        return
    _emit(result, fmt, result.concepts, out, result.notes)


def _print_concepts(concepts: ResultTable) -> None:
    """One line per concept where the terminal allows; ids exactly as --target takes them (no separators)."""
    t = Table(title=f"Concepts ({len(concepts)})", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1))
    t.add_column("concept id", no_wrap=True, min_width=max(len(str(i)) for i in concepts.column("concept_id")))
    t.add_column("name (matched synonym)", ratio=3, overflow="fold")
    t.add_column("domain", no_wrap=True)
    t.add_column("vocabulary, class", ratio=2, overflow="fold")
    t.add_column("std", no_wrap=True)
    t.add_column("desc.", justify="right", no_wrap=True)
    t.add_column("exposed", justify="right", no_wrap=True)
    for row in concepts.to_dicts():
        name = row["concept_name"] + (f" ({row['matched_synonym']})" if row["matched_synonym"] else "")
        t.add_row(
            str(row["concept_id"]),
            name,
            row["domain"],
            f"{row['vocabulary']}, {row['concept_class']}",
            "S" if row["standard"] else "",
            "" if row["descendant_drug_concepts"] is None else str(row["descendant_drug_concepts"]),
            "" if row["persons_exposed"] is None else f"{row['persons_exposed']:,}",
        )
    console.print(t)
    console.print(
        "std: S = standard concept. desc.: drug concepts below the ingredient in concept_ancestor. "
        "exposed: persons in drug_exposure with the ingredient or one of those.",
        markup=False,
    )


@app.command("incidence")
@user_errors
def incidence_command(
    cdm: CdmOption,
    target: TargetOption,
    outcome: Annotated[str, typer.Option("--outcome", help="Outcome concept ids, or concern:<id> of the plan")],
    comparator: ComparatorOption = None,
    washout: WashoutOption = 365,
    tar: TarOption = TarKind.ON_TREATMENT,
    grace: GraceOption = 30,
    dose_covers: CoversOption = None,
    fmt: FormatOption = OutputFormat.TEXT,
    out: OutOption = None,
    plan: PlanOption = None,
) -> None:
    """Incidence of the first outcome in new users: rates per 100 PY (exact CIs), strata, rate ratio, SIR."""
    rmp = plan_in_force(plan).plan
    definition, concern_id = _outcome(outcome, rmp)
    with _open(cdm) as c:
        t, k = _cohorts(c, target, comparator, washout, tar, grace, dose_covers)
        result = incidence(
            c,
            t,
            definition,
            comparator=k,
            concomitant=plan_concomitant(rmp),
            background=load_background_rates() if concern_id else None,
            background_outcome=concern_id,
        )
        lines: tuple[str, ...] = ()
        if result.rate_ratio is not None:
            rr = result.rate_ratio
            lines = (
                f"rate ratio target/comparator: {_fmt(rr.ratio)} (95% CI {_fmt(rr.lower)} to {_fmt(rr.upper)}; "
                f"{rr.method})",
            )
        _emit(result, fmt, result.rates, out, result.notes, lines)


@app.command("characteristics")
@user_errors
def characteristics_command(
    cdm: CdmOption,
    target: TargetOption,
    comparator: ComparatorOption = None,
    washout: WashoutOption = 365,
    tar: TarOption = TarKind.ON_TREATMENT,
    grace: GraceOption = 30,
    dose_covers: CoversOption = None,
    fmt: FormatOption = OutputFormat.TEXT,
    out: OutOption = None,
    plan: PlanOption = None,
) -> None:
    """Baseline characteristics at index with standardised mean differences (Austin 2009)."""
    rmp = plan_in_force(plan).plan
    with _open(cdm) as c:
        t, k = _cohorts(c, target, comparator, washout, tar, grace, dose_covers)
        result = baseline_characteristics(c, t, k, concomitant=plan_concomitant(rmp))
        _emit(result, fmt, result.table, out, result.notes)


@app.command("utilisation")
@user_errors
def utilisation_command(
    cdm: CdmOption,
    target: TargetOption,
    washout: WashoutOption = 365,
    grace: Annotated[
        int | None, typer.Option("--grace", min=0, help="Grace period (days) bridging gaps (default: the plan's)")
    ] = None,
    dose_covers: Annotated[
        int | None, typer.Option("--dose-covers", min=1, help="Days each dose covers (default: the plan's)")
    ] = None,
    schedule: Annotated[
        str, typer.Option("--schedule", help="plan (the schedule of the plan's dosing check) or none")
    ] = "plan",
    fmt: FormatOption = OutputFormat.TEXT,
    out: OutOption = None,
    plan: PlanOption = None,
) -> None:
    """Drug utilisation: doses and adherence to the schedule, intervals, persistence, premedication."""
    if schedule not in ("plan", "none"):
        raise UserInputError(f"--schedule: {schedule!r} is not a known schedule (plan, none)")
    rmp = plan_in_force(plan).plan
    dosing = product_drug(rmp)  # the plan's product: its time at risk unless given
    grace = dosing.grace_days if grace is None else grace
    dose_covers = dosing.dose_covers_days if dose_covers is None else dose_covers
    with _open(cdm) as c:
        t, _ = _cohorts(c, target, None, washout, TarKind.ON_TREATMENT, grace, dose_covers)
        result = drug_utilisation(c, t, schedule_from_plan(rmp) if schedule == "plan" else None)
        _emit(result, fmt, result.doses, out, result.notes)


@app.command("labs")
@user_errors
def labs_command(
    cdm: CdmOption,
    target: TargetOption,
    washout: WashoutOption = 365,
    grace: GraceOption = 90,
    dose_covers: CoversOption = 183,
    igg_threshold: Annotated[
        float, typer.Option("--igg-threshold", min=0, help="IgG threshold in g/L (0: use the LLN)")
    ] = 7.0,
    fmt: FormatOption = OutputFormat.TEXT,
    out: OutOption = None,
) -> None:
    """Lab safety during and after treatment: CTCAE v5.0 grades and shifts, B-cell repletion, low IgG."""
    with _open(cdm) as c:
        t, _ = _cohorts(c, target, None, washout, TarKind.SINCE_FIRST, grace, dose_covers)
        result = lab_safety(c, t, igg_threshold=igg_threshold or None)
        _emit(result, fmt, result.grade_summary, out, result.notes)


@app.command("pregnancy")
@user_errors
def pregnancy_command(
    cdm: CdmOption,
    target: TargetOption,
    fmt: FormatOption = OutputFormat.TEXT,
    out: OutOption = None,
) -> None:
    """Pregnancy outcomes by exposure (any dose in pregnancy or 6 months before conception)."""
    with _open(cdm) as c:
        result = pregnancy_outcomes(c, ConceptSet("target", parse_concept_ids(target, "--target")))
        _emit(result, fmt, result.outcomes, out, result.notes)


@synth_app.command("omop")
@user_errors
def synth_omop(
    out: Annotated[Path, typer.Option("--out", help="Folder for the Parquet CDM tables")],
    persons: Annotated[int, typer.Option("--persons", min=1, help="Number of synthetic persons")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed")] = 1,
) -> None:
    """Write a synthetic NMOSD population as OMOP CDM v5.4 Parquet tables."""
    summary = synthesise_omop(persons, seed, out)
    table = Table(title=f"synthetic OMOP CDM in {summary.out} ({summary.seconds:.1f} s)")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in summary.rows.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
