"""``riskplan case ...``: intake, E2B(R3) import and export, listing, history, due dates, duplicates."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Annotated

import typer
import yaml
from pydantic import ValidationError
from rich.table import Table

from riskplan.cases.assessments import record_assessment
from riskplan.cases.duplicates import DEFAULT_THRESHOLD, find_duplicates
from riskplan.cases.extract import facts_from_icsr
from riskplan.cases.intake import IntakeContext, batches, intake, intake_context
from riskplan.cases.model import Icsr
from riskplan.cases.store import (
    StoreOutcome,
    case_history,
    case_number,
    due_cases,
    get_case,
    latest_icsrs,
    link_cases,
    list_cases,
    record_submission,
    resolve_case_id,
)
from riskplan.cli_support import console, current_user, database, user_errors
from riskplan.errors import UserInputError, validation_problems
from riskplan.settings import get_settings
from riskplan.store.db import session_scope

app = typer.Typer(
    help="Individual case safety reports: intake, E2B(R3) exchange, assessment, clocks.", no_args_is_help=True
)

PlanOption = Annotated[str | None, typer.Option("--plan", "-p", help="Plan the cases are assessed against")]
ReasonOption = Annotated[str | None, typer.Option(help="Why (recorded in the audit trail)")]


def _plan_name(plan: str | None) -> str:
    return plan or get_settings().default_plan


def read_case_file(path: Path) -> Icsr:
    """An ICSR from a JSON or YAML file in the shape of ``riskplan case schema``."""
    if not path.is_file():
        raise UserInputError(f"{path}: no such file")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise UserInputError(
            f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: {exc}"
        ) from None
    try:
        return Icsr.model_validate(data)
    except ValidationError as exc:
        raise UserInputError(validation_problems(exc, str(path), "case")) from None


def _print_outcomes(outcomes: list[StoreOutcome]) -> None:
    for o in outcomes:
        label = {
            "created": "created",
            "follow-up": f"follow-up stored as version {o.version}",
            "unchanged": "unchanged (same content as the latest version)",
        }[o.status]
        console.print(f"{o.case_number} ({o.worldwide_id}): {label}")


@app.command()
@user_errors
def new(
    file: Annotated[Path, typer.Argument(help="The case as JSON or YAML (see `riskplan case schema`)")],
    plan: PlanOption = None,
    reason: ReasonOption = None,
) -> None:
    """Enter a case (or follow-up information for a known worldwide case id) from a file."""
    icsr = read_case_file(file)
    with session_scope(database()) as session:
        ctx = intake_context(session, _plan_name(plan), current_user())
        outcomes = intake(session, [icsr], context=ctx, who=current_user(), reason=reason)
    _print_outcomes(outcomes)
    _show(outcomes[0].case_number, None)


@app.command("import")
@user_errors
def import_files(
    files: Annotated[list[Path], typer.Argument(help="E2B(R3) XML files (MCCI_IN200100UV01 batches)")],
    skip_invalid: Annotated[
        bool, typer.Option(help="Import the good reports of a batch and report the bad ones")
    ] = False,
    plan: PlanOption = None,
    reason: ReasonOption = None,
) -> None:
    """Import E2B(R3) files; each file is imported whole or not at all. Exits 0 only when everything imported."""
    from riskplan.cases.e2b import E2bError, import_e2b

    engine = database()
    problems = 0
    ctx: IntakeContext | None = None  # built with the first file that imports, then shared by all files
    for path in files:
        if not path.is_file():
            console.print(f"[red]{path}: no such file[/]")
            problems += 1
            continue
        try:
            result = import_e2b(path.read_bytes(), skip_invalid=skip_invalid)
        except E2bError as exc:
            console.print(f"[red]{path}: rejected, nothing imported[/]\n{exc}")
            problems += 1
            continue
        with session_scope(engine) as session:
            ctx = ctx or intake_context(session, _plan_name(plan), current_user())
            outcomes = intake(
                session,
                result.icsrs,
                context=ctx,
                who=current_user(),
                reason=reason or f"E2B(R3) import of {path.name}",
            )
        console.print(f"{path}: {len(outcomes)} case(s) imported")
        _print_outcomes(outcomes)
        for rejection in result.rejected:
            console.print(f"[red]{path}: skipped {rejection}[/]")
            problems += 1
    if problems:
        raise typer.Exit(1)


@app.command()
@user_errors
def export(
    e2b: Annotated[Path, typer.Option("--e2b", help="Folder to write the E2B(R3) batch file to")],
    ids: Annotated[list[str] | None, typer.Option("--id", help="Case number or worldwide id (repeatable)")] = None,
) -> None:
    """Export cases as one ICH E2B(R3) batch (default: every valid case whose latest version is due)."""
    from riskplan.cases.e2b import E2bError, export_icsrs

    settings = get_settings()
    now = dt.datetime.now(dt.UTC)
    batch_id = f"RP-{now:%Y%m%d%H%M%S}"
    engine = database()
    with session_scope(engine) as session:
        if ids:
            chosen = latest_icsrs(session, ids)
        else:
            due_ids = [str(d.case_id) for d in due_cases(session, now.date())]
            chosen = latest_icsrs(session, due_ids) if due_ids else []
        if not chosen:
            console.print("nothing to export")
            return
        try:
            data = export_icsrs(
                [i for _, _, i in chosen],
                batch_id=batch_id,
                sender_id=settings.e2b_sender_id,
                receiver_id=settings.e2b_receiver_id,
                created=now,
            )
        except E2bError as exc:
            raise UserInputError(f"export refused, nothing written:\n{exc}") from None
        e2b.mkdir(parents=True, exist_ok=True)
        target = e2b / f"{batch_id}.xml"
        target.write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        for case_id, version, _ in chosen:
            record_submission(
                session, case_id, version, batch_id=batch_id, file_name=target.name, sha256=digest, who=current_user()
            )
    console.print(f"wrote {target}: {len(chosen)} case(s), validated against the ICH E2B(R3) schema")


@app.command("list")
@user_errors
def list_command(
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    plan: PlanOption = None,
    limit: Annotated[int | None, typer.Option(help="At most this many cases")] = None,
) -> None:
    """List cases (latest versions) with validity, seriousness, due date and safety concerns."""
    if fmt not in ("table", "json"):
        raise UserInputError(f"--format must be table or json, not {fmt!r}")
    with session_scope(database()) as session:
        rows = list_cases(session, plan_name=plan, limit=limit)
    if fmt == "json":
        typer.echo(
            json.dumps(
                [
                    {
                        "case": r.case_number,
                        "worldwide_id": r.worldwide_id,
                        "version": r.version,
                        "received": r.received.isoformat(),
                        "valid": r.valid,
                        "serious": r.serious,
                        "due": r.due.isoformat() if r.due else None,
                        "safety_concerns": list(r.concerns),
                        "reactions": list(r.pts),
                    }
                    for r in rows
                ],
                indent=2,
            )
        )
        return
    table = Table(title=f"Cases ({len(rows)})")
    for col in ("case", "worldwide id", "v", "received", "valid", "serious", "due", "reactions (PT)", "concerns"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            r.case_number,
            r.worldwide_id,
            str(r.version),
            r.received.isoformat(),
            "yes" if r.valid else "NO",
            "yes" if r.serious else "",
            r.due.isoformat() if r.due else "",
            ", ".join(r.pts),
            ", ".join(r.concerns),
        )
    console.print(table)


def _show(ref: str, version: int | None) -> None:
    from riskplan.cases.case_view import case_view
    from riskplan.cases.case_view_cli import print_case_view

    with session_scope(database()) as session:
        view = case_view(session, ref, version)
    print_case_view(console, view)


@app.command()
@user_errors
def show(
    case: Annotated[str, typer.Argument(help="Case number (RP0000042) or worldwide case id")],
    version: Annotated[int | None, typer.Option(help="An earlier version (default: latest)")] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="text, json (the case view, for scripts) or icsr (the stored E2B JSON)")
    ] = "text",
) -> None:
    """Show the whole case: reporters, patient, reactions with coding and listedness, drugs, tests, narrative,
    safety concerns, assessments, versions, audit trail, and what E2B(R3) submission still needs."""
    if fmt not in ("text", "json", "icsr"):
        raise UserInputError(f"--format must be text, json or icsr, not {fmt!r}")
    if fmt == "icsr":
        with session_scope(database()) as session:
            typer.echo(get_case(session, case, version).icsr.model_dump_json(indent=2))
        return
    if fmt == "json":
        from riskplan.cases.case_view import case_view

        with session_scope(database()) as session:
            typer.echo(case_view(session, case, version).model_dump_json(indent=2))
        return
    _show(case, version)


@app.command()
@user_errors
def code(
    case: Annotated[str, typer.Argument(help="Case number (RP0000042) or worldwide case id")],
    reaction: Annotated[int, typer.Option("--reaction", "-r", help="The reaction's number in `case show`")],
    llt: Annotated[str | None, typer.Option(help="The MedDRA LLT (or open-list term) to code the reaction to")] = None,
    pt: Annotated[str | None, typer.Option(help="The MedDRA PT to code the reaction to")] = None,
    reason: ReasonOption = None,
) -> None:
    """Code a reaction by hand (MTS:PTC): stored as a new version of the case, audited with the old and new term.

    With no MedDRA release loaded the open term list is used. A term that is not found is refused with the
    closest terms (exit 2)."""
    from riskplan.cases.hand_coding import CodingNotFound, code_by_hand

    if (llt is None) == (pt is None):
        raise UserInputError("give exactly one of --llt TERM or --pt TERM")
    try:
        with session_scope(database()) as session:
            done = code_by_hand(
                session,
                case,
                reaction,
                term=llt or pt or "",
                level="llt" if llt else "pt",
                who=current_user(),
                reason=reason,
            )
    except CodingNotFound as exc:
        lines = [str(exc)]
        if exc.suggestions:
            lines.append("closest terms (score 0-100):")
            lines += [
                f"  {s.term}" + ("" if s.term == s.pt_name else f" → PT {s.pt_name}") + f" ({s.score:.0f})"
                for s in exc.suggestions
            ]
        else:
            lines.append("no term is close; check the spelling")
        raise UserInputError("\n".join(lines)) from None
    o = done.outcome
    if o.status == "unchanged":
        console.print(f"{o.case_number} reaction {done.seq} is already coded to PT {done.pt_name}: nothing changed")
        return
    term = f"LLT {done.llt_name} → " if done.llt_name else ""
    console.print(
        f"{o.case_number} reaction {done.seq} {done.verbatim!r}: {done.old} → {term}PT {done.pt_name}"
        + (f" ({done.soc_name})" if done.soc_name else "")
        + f"; stored as version {o.version} ({done.terminology})"
    )


@app.command()
@user_errors
def history(case: Annotated[str, typer.Argument(help="Case number or worldwide case id")]) -> None:
    """The audit trail of a case: who changed what, when, from which value to which, and why."""
    with session_scope(database()) as session:
        events = case_history(session, case)
    table = Table(title=f"History of {case}")
    for col in ("when (UTC)", "who", "action", "field", "old", "new", "why"):
        table.add_column(col, overflow="fold")
    for e in events:
        table.add_row(
            f"{e.at:%Y-%m-%d %H:%M:%S}",
            e.who,
            e.action,
            e.field or "",
            _short(e.old_value),
            _short(e.new_value),
            e.reason or "",
        )
    console.print(table)


def _short(value: str | None, limit: int = 120) -> str:
    text = value or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@app.command()
@user_errors
def due(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date to count from (YYYY-MM-DD; default today)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Cases whose reporting obligation is open: 15 days for serious, 90 for non-serious (GVP VI.C.3)."""
    today = _parse_date(as_of) if as_of else dt.date.today()
    with session_scope(database()) as session:
        items = due_cases(session, today)
    if fmt == "json":
        typer.echo(
            json.dumps(
                [
                    {
                        "case": i.case_number,
                        "worldwide_id": i.worldwide_id,
                        "version": i.version,
                        "serious": i.serious,
                        "day_zero": str(i.day_zero),
                        "due": str(i.due),
                        "days_left": i.days_left,
                        "overdue": i.overdue,
                    }
                    for i in items
                ],
                indent=2,
            )
        )
        return
    overdue = sum(i.overdue for i in items)
    table = Table(title=f"Due as of {today}: {len(items)} open, {overdue} overdue")
    for col in ("case", "worldwide id", "v", "serious", "day 0", "due", "days left", "status"):
        table.add_column(col)
    for i in items:
        table.add_row(
            i.case_number,
            i.worldwide_id,
            str(i.version),
            "15-day" if i.serious else "90-day",
            str(i.day_zero),
            str(i.due),
            str(i.days_left),
            "[red]OVERDUE[/]" if i.overdue else "due",
        )
    console.print(table)


def _parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UserInputError(f"--as-of {text!r}: expected a date as YYYY-MM-DD") from None


@app.command()
@user_errors
def duplicates(
    case: Annotated[str | None, typer.Option("--id", help="Only pairs with this case")] = None,
    threshold: Annotated[float, typer.Option(help="Minimum score (bits)")] = DEFAULT_THRESHOLD,
) -> None:
    """Candidate duplicate pairs, ranked, with the reason for each part of the score (vigiMatch-style)."""
    with session_scope(database()) as session:
        cases = latest_icsrs(session)
        only = get_case(session, case).worldwide_id if case else None
    facts = [facts_from_icsr(i) for _, _, i in cases]
    numbers = {i.case_key: case_number(cid) for cid, _, i in cases}
    found = find_duplicates(facts, threshold=threshold, only=only)
    if not found:
        console.print("no candidate duplicates")
        return
    for d in found:
        console.print(f"[bold]{d.score:g}[/] {numbers[d.case_a]} ({d.case_a}) ~ {numbers[d.case_b]} ({d.case_b})")
        for reason in d.reasons:
            console.print(f"    {reason}")


@app.command()
@user_errors
def link(
    case: Annotated[str, typer.Argument(help="Case number or worldwide id")],
    other: Annotated[str, typer.Argument(help="Case number or worldwide id of its duplicate")],
    reason: Annotated[str, typer.Option(help="Why they are duplicates (audit trail)")],
) -> None:
    """Confirm two cases as duplicates: they are linked and both kept."""
    with session_scope(database()) as session:
        link_cases(session, case, other, kind="duplicate", who=current_user(), reason=reason)
    console.print(f"linked {case} and {other} as duplicates")


@app.command()
@user_errors
def assess(
    case: Annotated[str, typer.Argument(help="Case number or worldwide id")],
    causality: Annotated[
        str, typer.Option(help="WHO-UMC category: certain, probable, possible, unlikely, conditional, unassessable")
    ],
    comment: Annotated[str | None, typer.Option(help="The medical reasoning (audit trail)")] = None,
) -> None:
    """Record a medical assessment (WHO-UMC causality) of the latest version of a case."""
    with session_scope(database()) as session:
        case_id = resolve_case_id(session, case)
        done = record_assessment(session, case_id, causality, comment, who=current_user())
    console.print(f"{case_number(case_id)} version {done.version} assessed: {done.causality}")


@app.command()
def schema() -> None:
    """Print the JSON schema of a case file for `riskplan case new`."""
    typer.echo(json.dumps(Icsr.model_json_schema(), indent=2))


def synth_cases(
    count: Annotated[int, typer.Option("--count", "-n", help="Number of cases", min=1)] = 300,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same cases)")] = 0,
    plan: PlanOption = None,
) -> None:
    """Create realistic synthetic UPLIZNA cases and store them (seeded; for demos, tests, benchmarks)."""
    from rich.progress import Progress

    from riskplan.cases.synth import synthesise_cases

    icsrs = synthesise_cases(count, seed=seed)
    engine = database()
    stored: list[StoreOutcome] = []
    with session_scope(engine) as session, Progress(transient=True) as bar:
        ctx = intake_context(session, _plan_name(plan), current_user())
        task = bar.add_task("processing and storing cases", total=len(icsrs))
        for batch in batches(icsrs, 500):
            stored += intake(session, batch, context=ctx, who=current_user(), reason=f"synthetic cases, seed {seed}")
            bar.advance(task, len(batch))
    created = sum(o.status == "created" for o in stored)
    console.print(f"{created} synthetic case(s) created, {len(stored) - created} already present")
