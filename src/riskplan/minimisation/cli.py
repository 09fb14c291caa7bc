"""``riskplan check ...``: the pre-infusion checklist, the patient record schema, the patient card and the
effectiveness indicators of the risk-minimisation measures (GVP Module XVI).

``check infusion`` exits 0 when every check passes, 1 on a warning, 3 on a block, and 2 on bad input
(an unreadable file, JSON that is not strict — NaN, Infinity, a repeated key, an out-of-range number —,
a record that violates the schema). The checks and the card's key messages come from the plan in force
(:func:`riskplan.plan.current_plan`), and the output names the plan version used.
"""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from riskplan.cli_support import console
from riskplan.errors import UserInputError
from riskplan.minimisation.card import card_languages, write_patient_card
from riskplan.minimisation.checklist import ChecklistResult, CheckStatus, describe_plan, evaluate_infusion
from riskplan.minimisation.effectiveness import OutcomeIndicator, Share, outcome_indicators, process_indicators
from riskplan.minimisation.record import load_patient_record, load_patient_records, schema_text
from riskplan.plan import CurrentPlan, RiskManagementPlan, current_plan, load_plan
from riskplan.settings import get_settings
from riskplan.store import database, session_scope, user_errors

app = typer.Typer(
    help="Risk minimisation (GVP XVI): pre-infusion checklist, patient card, effectiveness indicators.",
    no_args_is_help=True,
)


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"


PlanOption = Annotated[
    str | None,
    typer.Option("--plan", "-p", help="Plan name (default: the configured plan, as in force) or a plan file"),
]
FormatOption = Annotated[Format, typer.Option("--format", help="table (for people) or json (for machines)")]
PatientFile = Annotated[Path, typer.Argument(help="The patient record (JSON; see `riskplan check schema`)")]

_STYLE = {CheckStatus.PASS: "green", CheckStatus.WARN: "yellow", CheckStatus.BLOCK: "bold red"}


def _plan(name_or_path: str | None) -> CurrentPlan | RiskManagementPlan:
    """The plan in force: for a plan name, the latest approved stored version, else the latest stored,
    else the bundled file (:func:`riskplan.plan.current_plan`); a plan file (.yaml/.json) as given."""
    wanted = name_or_path or get_settings().default_plan
    candidate = Path(wanted)
    if candidate.suffix.lower() in (".yaml", ".yml", ".json") or candidate.is_file():
        return load_plan(wanted)
    with session_scope(database()) as session:
        return current_plan(session, wanted)


def _plan_used(plan: CurrentPlan | RiskManagementPlan, given: str | None) -> tuple[RiskManagementPlan, str]:
    """The plan and how the output names it: ``uplizna version 2, approved version`` or the file."""
    if isinstance(plan, CurrentPlan):
        return plan.plan, describe_plan(plan.plan.name, plan.version, plan.origin)
    return plan, describe_plan(plan.name, None, f"file {given}")


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UserInputError(f"--date {text!r}: give the infusion date as YYYY-MM-DD") from None


def _checklist_table(result: ChecklistResult) -> Table:
    kind = "first dose" if result.first_dose else f"infusion {result.infusion_number}"
    table = Table(
        title=f"Pre-infusion checklist: patient {result.patient_id}, {result.infusion_date} ({kind}), "
        f"plan {result.plan_used()}"
    )
    for col in ("status", "check", "SmPC", "finding"):
        table.add_column(col, overflow="fold")
    for r in result.results:
        style = _STYLE[r.status]
        table.add_row(f"[{style}]{r.status.value.upper()}[/]", f"{r.title} ({r.id})", r.smpc_section, r.message)
    return table


@app.command("infusion")
@user_errors
def infusion(
    patient_file: PatientFile,
    date: Annotated[str | None, typer.Option("--date", help="Infusion date YYYY-MM-DD (default: today)")] = None,
    plan: PlanOption = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """Check a patient's record before an infusion: each of the plan's checks passes, warns or blocks."""
    record = load_patient_record(patient_file)
    result = evaluate_infusion(record, _plan(plan), _date(date), plan_source=f"file {plan}")
    if fmt is Format.JSON:
        data = result.model_dump(mode="json") | {
            "plan_used": result.plan_used(),
            "status": result.status.value,
            "exit_code": result.exit_code,
        }
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        console.print(_checklist_table(result))
        if result.not_applicable:
            console.print(f"not applicable after the first dose: {', '.join(result.not_applicable)}")
        counts = ", ".join(f"{result.count(s)} {s.value}" for s in CheckStatus)
        console.print(f"[{_STYLE[result.status]}]overall: {result.status.value.upper()}[/] ({counts})")
    raise typer.Exit(result.exit_code)


@app.command("schema")
def schema() -> None:
    """Print the JSON schema of the patient record."""
    typer.echo(schema_text(), nl=False)


@app.command("card")
@user_errors
def card(
    patient_file: PatientFile,
    out: Annotated[Path, typer.Option("--out", "-o", help="The PDF to write")],
    language: Annotated[str, typer.Option("--language", "-l", help="Card language, e.g. en or de")] = "en",
    plan: PlanOption = None,
) -> None:
    """Write the patient card (PDF) with the plan's key messages and the patient's treatment details."""
    if language not in card_languages():
        raise UserInputError(f"--language {language!r}: choose one of {', '.join(card_languages())}")
    record = load_patient_record(patient_file)
    rmp, used = _plan_used(_plan(plan), plan)
    path = write_patient_card(record, rmp, out, language)
    console.print(f"patient card for {record.patient.id} ({language}) written to {path}", markup=False)
    console.print(f"key messages from plan {used}", markup=False)


def _fraction(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _shares_table(shares: list[Share]) -> Table:
    table = Table(title="Process indicators (GVP XVI.B.4)")
    for col in ("indicator", "n", "N", "share", "95% CI (Clopper–Pearson)"):
        table.add_column(col, overflow="fold")
    for s in shares:
        ci = "—" if s.ci_lower is None else f"{_fraction(s.ci_lower)} to {_fraction(s.ci_upper)}"
        table.add_row(s.indicator, str(s.numerator), str(s.denominator), _fraction(s.proportion), ci)
    return table


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _outcomes_table(outcomes: list[OutcomeIndicator]) -> Table:
    table = Table(title="Outcome indicators: cases by quarter received")
    for col in ("safety concern", "quarter", "cases", "patient-years", "per 100 PY", "95% CI"):
        table.add_column(col, overflow="fold")
    for o in outcomes:
        for q in o.quarters:
            ci = "—" if q.ci_lower is None else f"{_rate(q.ci_lower)} to {_rate(q.ci_upper)}"
            py = "—" if q.patient_years is None else f"{q.patient_years:g}"
            table.add_row(o.concern_id, q.quarter, str(q.cases), py, _rate(q.rate_per_100py), ci)
        ci = "—" if o.ci_lower is None else f"{_rate(o.ci_lower)} to {_rate(o.ci_upper)}"
        py = "—" if o.patient_years is None else f"{o.patient_years:g}"
        table.add_row(o.concern_id, "all", str(o.total_cases), py, _rate(o.rate_per_100py), ci)
    return table


@app.command("effectiveness")
@user_errors
def effectiveness(
    records: Annotated[Path, typer.Option("--records", help="Folder of patient records (*.json)")],
    cases: Annotated[
        bool, typer.Option("--cases", help="Also count infusion-reaction and serious-infection cases by quarter")
    ] = False,
    patient_years: Annotated[
        float | None, typer.Option("--patient-years", min=0.0, help="Exposure for rates per 100 patient-years")
    ] = None,
    plan: PlanOption = None,
    fmt: FormatOption = Format.TABLE,
) -> None:
    """Process indicators from patient records and, with --cases, outcome indicators from the case store."""
    shares = process_indicators(load_patient_records(records))
    outcomes: list[OutcomeIndicator] = []
    if cases:
        rmp, _ = _plan_used(_plan(plan), plan)
        with session_scope(database()) as session:
            outcomes = outcome_indicators(session, rmp.name, total_patient_years=patient_years or None)
    if fmt is Format.JSON:
        data: dict[str, Any] = {"process": [s.to_dict() for s in shares]}
        if cases:
            data["outcomes"] = [o.to_dict() for o in outcomes]
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    console.print(_shares_table(shares))
    if cases:
        console.print(_outcomes_table(outcomes))
