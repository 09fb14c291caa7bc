"""``riskplan plan ...``: show, export, parse, load, version and diff risk management plans."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from riskplan.cli_support import PasswordStdinOption, SignerOption, console, current_user
from riskplan.errors import UserInputError
from riskplan.plan.approvals import AlreadyApproved, approvals, approve_version
from riskplan.plan.catalogue import bundled_plan_names, load_plan, plan_to_yaml
from riskplan.plan.current import plan_in_force
from riskplan.plan.diff import PlanDiff, diff_plans
from riskplan.plan.loading import load_plan_version
from riskplan.plan.model import RiskManagementPlan
from riskplan.plan.render import ExportFormat, render_plan, routine_measure_lines
from riskplan.plan.versions import get_version, latest_version, list_versions
from riskplan.settings import get_settings
from riskplan.store import database, session_scope, user_errors, verified_signer

app = typer.Typer(help="The risk management plan: show, export, parse, load, versions, diff.", no_args_is_help=True)

PlanOption = Annotated[
    str | None,
    typer.Option(
        "--plan",
        "-p",
        help="Plan name (default: the configured plan; its approved version, else the latest stored, else the "
        "bundled file) or a plan file (.yaml/.json)",
    ),
]


def _plan(name_or_path: str | None) -> RiskManagementPlan:
    return plan_in_force(name_or_path).plan


@app.command("list")
@user_errors
def list_plans() -> None:
    """List the bundled plans and the plans stored in the database with their latest version."""
    table = Table(title="Plans")
    table.add_column("plan")
    table.add_column("bundled")
    table.add_column("latest stored version")
    engine = database()
    with session_scope(engine) as session:
        stored = {v.plan_name: v.version for v in list_versions(session)}
    for name in sorted(set(bundled_plan_names()) | set(stored)):
        table.add_row(name, "yes" if name in bundled_plan_names() else "", str(stored.get(name, "")))
    console.print(table)


@app.command()
@user_errors
def show(
    plan: PlanOption = None,
    detail: Annotated[bool, typer.Option("--detail", help="Also print each concern's routine measures")] = False,
) -> None:
    """Print the plan: its safety concerns by category, their measures, and the studies."""
    rmp = _plan(plan)
    p = rmp.product
    console.print(f"[bold]{p.name}[/] ({p.active_substance}) — {p.indication}; route {p.route}")
    concerns = Table(title=f"Safety concerns ({len(rmp.safety_concerns)})")
    for col in ("#", "category", "safety concern", "SmPC", "PL", "additional RMM", "id"):
        concerns.add_column(col, overflow="fold")
    for i, c in enumerate(rmp.safety_concerns, start=1):
        rm = c.routine_measures
        concerns.add_row(
            str(i),
            c.category.value,
            c.title,
            ", ".join(rm.smpc_sections),
            ", ".join(rm.pl_sections),
            ", ".join(m.name for m in c.additional_measures) or "None",
            c.id,
        )
    if detail:
        for c in rmp.safety_concerns:
            console.rule(c.title)
            for line in routine_measure_lines(c.routine_measures):
                console.print(f"  {line}")
    console.print(concerns)
    studies = Table(title=f"Pharmacovigilance plan studies ({len(rmp.studies)})", show_lines=True)
    for col in ("#", "study", "category", "sponsor", "safety concerns addressed"):
        studies.add_column(col)
    for i, s in enumerate(rmp.studies, start=1):
        studies.add_row(
            str(i),
            f"{s.short_name}\n{s.title}",
            str(s.category.value),
            s.sponsor or "",
            ", ".join(s.safety_concerns),
        )
    console.print(studies)


@app.command()
@user_errors
def export(
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="md, html or json")] = ExportFormat.MD,
    plan: PlanOption = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout)")] = None,
) -> None:
    """Render the plan as Markdown, HTML or JSON."""
    text = render_plan(_plan(plan), fmt)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    console.print(f"wrote {output}")


@app.command()
@user_errors
def parse(
    file: Annotated[Path, typer.Argument(help="An EMA 'Summary of risk management plan' (.txt or .pdf)")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="YAML file to write")] = None,
    name: Annotated[str | None, typer.Option(help="Plan name (default: from the product name)")] = None,
) -> None:
    """Read a published RMP summary (Part VI) into a plan file."""
    from riskplan.plan.parser import parse_summary_file

    rmp = parse_summary_file(file, name=name)
    text = plan_to_yaml(rmp)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    console.print(f"wrote {output}: {len(rmp.safety_concerns)} safety concerns, {len(rmp.studies)} studies")


@app.command()
@user_errors
def load(
    plan: Annotated[str, typer.Argument(help="Bundled plan name or plan file (.yaml/.json)")],
    reason: Annotated[str | None, typer.Option(help="Why this version is loaded (audit trail)")] = None,
    as_is: Annotated[
        bool,
        typer.Option("--as-is", help="Store the file as it is: do not keep the parts it lists as absent"),
    ] = False,
    accept_loss: Annotated[
        bool,
        typer.Option(
            "--accept-loss",
            help="Store it even though the new version loses definitions, RSI, infusion checks or patient card",
        ),
    ] = False,
) -> None:
    """Store a plan; a changed plan becomes a new version, an unchanged one is left as it is.

    Parts the file does not carry (a plan parsed from a public RMP summary lists them as absent: concern
    definitions, reference safety information, infusion checks, patient card) are kept from the current
    version. A load that would lose any of them is refused unless --accept-loss is given.
    """
    rmp = load_plan(plan)
    with session_scope(database()) as session:
        done = load_plan_version(
            session, rmp, who=current_user(), source=plan, reason=reason, as_is=as_is, accept_loss=accept_loss
        )
    for line in done.lines():
        console.print(line, markup=False)


@app.command()
@user_errors
def versions(plan: PlanOption = None) -> None:
    """List the stored versions of a plan."""
    name = _plan_name(plan)
    with session_scope(database()) as session:
        rows = list_versions(session, name)
        approved = approvals(session, name)
    table = Table(title=f"Versions of plan {name}")
    for col in ("version", "loaded at (UTC)", "by", "source", "reason", "sha256", "approved"):
        table.add_column(col)
    table.add_column("signed (21 CFR 11.50)", overflow="fold")
    for v in rows:
        a = approved.get(v.version)
        table.add_row(
            str(v.version),
            v.loaded_at.strftime("%Y-%m-%d %H:%M:%S"),
            v.loaded_by,
            v.source or "",
            v.reason or "",
            v.content_sha256[:12],
            f"{a.approved_at:%Y-%m-%d} by {a.approved_by}" if a else "",
            a.signed if a else "",
        )
    console.print(table)


@app.command()
@user_errors
def approve(
    version: Annotated[int, typer.Argument(help="The stored version number to approve")],
    reason: Annotated[str | None, typer.Option(help="Why it is approved, e.g. the approval reference (audit)")] = None,
    plan: PlanOption = None,
    signer: SignerOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Approve a stored version of the plan (once), electronically signed by the QPPV: your own user name
    and password are asked for now (21 CFR 11.200); recorded with who and when in the audit trail."""
    name = _plan_name(plan)
    engine = database()
    with session_scope(engine) as session:  # refused before the password is asked for
        get_version(session, name, version)
        if version in approvals(session, name):
            raise AlreadyApproved(f"plan {name} version {version} is already approved")
    who = verified_signer(engine, signer, password_stdin)
    with session_scope(engine) as session:
        done = approve_version(session, name, version, signer=who, reason=reason)
    console.print(f"plan {name} version {done.version} approved; signed: {done.signed}")


def _plan_name(plan: str | None) -> str:
    if plan is None:
        return get_settings().default_plan
    return load_plan(plan).name if Path(plan).suffix else plan


def _resolve(ref: str, plan_name: str) -> tuple[str, RiskManagementPlan]:
    """A version number of the stored plan, ``latest``, or a plan file / bundled plan name."""
    with session_scope(database()) as session:
        if ref.isdigit():
            v = get_version(session, plan_name, int(ref))
            return f"{plan_name} v{v.version}", v.plan
        if ref == "latest":
            latest = latest_version(session, plan_name)
            if latest is None:
                raise UserInputError(f"plan {plan_name!r} has no stored version; load it first")
            return f"{plan_name} v{latest.version}", latest.plan
    return ref, load_plan(ref)


@app.command()
@user_errors
def diff(
    old: Annotated[str, typer.Argument(help="Version number, 'latest', or a plan file")],
    new: Annotated[str, typer.Argument(help="Version number, 'latest', or a plan file")],
    plan: PlanOption = None,
) -> None:
    """Show added, removed and changed safety concerns, measures and studies between two versions."""
    name = _plan_name(plan)
    old_label, old_plan = _resolve(old, name)
    new_label, new_plan = _resolve(new, name)
    print_diff(diff_plans(old_plan, new_plan), old_label, new_label)


def print_diff(result: PlanDiff, old_label: str, new_label: str) -> None:
    console.print(f"[bold]{old_label} → {new_label}[/]")
    if result.is_empty:
        console.print("no differences")
        return
    table = Table(show_lines=True)
    for col in ("change", "kind", "id", "field", "old", "new"):
        table.add_column(col)
    for item in result.items:
        if item.change != "changed":
            table.add_row(item.change, item.kind, item.id, item.title, "", "")
            continue
        for f in item.fields:
            table.add_row(item.change, item.kind, item.id, f.path, _short(f.old), _short(f.new))
    for f in result.plan_fields:
        table.add_row("changed", "plan", "", f.path, _short(f.old), _short(f.new))
    console.print(table)


def _short(value: object, limit: int = 200) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
