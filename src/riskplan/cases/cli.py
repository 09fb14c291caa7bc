"""``riskplan case ...``: intake, E2B(R3) import and export, listing, history, duplicates.

``riskplan case due`` is added by the front end (:mod:`riskplan.cli`): it is ``riskplan submission due``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from pathlib import Path
from typing import Annotated

import typer
import yaml
from pydantic import ValidationError
from rich.table import Table

from riskplan.cases.assessments import record_assessment
from riskplan.cases.duplicates import DEFAULT_THRESHOLD, find_duplicates
from riskplan.cases.extract import facts_from_icsr
from riskplan.cases.intake import IntakeContext, batches, intake, intake_context, intake_transaction
from riskplan.cases.model import Icsr
from riskplan.cases.store import (
    StoreOutcome,
    case_history,
    case_number,
    get_case,
    latest_icsrs,
    link_cases,
    list_cases,
    record_export,
    refuse_synthetic_beside_real_cases,
    refuse_synthetic_export,
    resolve_case_id,
)
from riskplan.cli_support import EXIT_USER_ERROR, console, current_user, database, user_errors
from riskplan.errors import UserInputError, validation_problems
from riskplan.settings import get_settings
from riskplan.store.db import session_scope

app = typer.Typer(
    help="Individual case safety reports: intake, E2B(R3) exchange, assessment, reports due.", no_args_is_help=True
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
    _, outcomes = intake_transaction(database(), [icsr], plan_name=_plan_name(plan), who=current_user(), reason=reason)
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
    """Import E2B(R3) files; each file is imported whole or not at all.

    Exits 0 only when everything imported, 2 when any file or report was refused (each is named, with why).
    """
    from riskplan.cases.e2b import E2bError, import_e2b

    engine = database()
    problems = 0
    ctx: IntakeContext | None = None  # built with the first file that imports, then shared by all files
    for path in files:
        if not path.is_file():
            console.print(f"[red]{path}: no such file[/]")
            problems += 1
            continue
        limit = get_settings().e2b_max_file_bytes
        try:
            if path.stat().st_size > limit:  # refused unread: a huge file never fills the memory
                raise E2bError(f"file refused: {path.stat().st_size:,} bytes is more than the {limit:,} allowed")
            result = import_e2b(path.read_bytes(), skip_invalid=skip_invalid, max_bytes=limit)
        except E2bError as exc:
            console.print(f"[red]{path}: rejected, nothing imported[/]\n{exc}")
            problems += 1
            continue
        try:
            ctx, outcomes = intake_transaction(
                engine,
                result.icsrs,
                plan_name=_plan_name(plan),
                who=current_user(),
                reason=reason or f"E2B(R3) import of {path.name}",
                context=ctx,
            )
        except UserInputError as exc:
            console.print(f"[red]{path}: rejected, nothing imported[/]\n{exc}")
            problems += 1
            continue
        console.print(f"{path}: {len(outcomes)} case(s) imported")
        _print_outcomes(outcomes)
        for rejection in result.rejected:
            console.print(f"[red]{path}: skipped {rejection}[/]")
            problems += 1
    if problems:
        raise typer.Exit(EXIT_USER_ERROR)


@app.command()
@user_errors
def export(
    e2b: Annotated[Path, typer.Option("--e2b", help="Folder to write the E2B(R3) batch file to")],
    ids: Annotated[list[str] | None, typer.Option("--id", help="Case number or worldwide id (repeatable)")] = None,
    allow_synthetic: Annotated[
        bool,
        typer.Option(help="Export synthetic cases too (refused otherwise); the batch id then says SYNTHETIC"),
    ] = False,
) -> None:
    """Write the latest version of the given cases to ICH E2B(R3) batch files (a manual export).

    An export is a copy (for a partner, an inspection, another system): it is recorded in each case's
    audit trail and does not count as a submission. Reports owed to an authority are sent with
    `riskplan submission send` (its manual channel writes the file for a web upload and records it).
    A batch larger than the import limit (setting ``e2b_max_file_bytes``) is split into several files.
    Synthetic cases (riskplan synth, the demo) are refused unless --allow-synthetic is given.
    """
    from riskplan.cases.e2b import E2bError, export_batches

    if not ids:
        raise UserInputError(
            "give the cases to export with --id (repeatable); the reports owed to each authority are listed "
            "by `riskplan submission due` and sent by `riskplan submission send`"
        )
    settings = get_settings()
    now = dt.datetime.now(dt.UTC)
    # microseconds and a random part: two exports, even from two processes in one second, never share an id
    batch_id = f"RP-{now:%Y%m%d%H%M%S%f}-{secrets.token_hex(3).upper()}"
    engine = database()
    with session_scope(engine) as session:
        chosen = latest_icsrs(session, ids)
        if refuse_synthetic_export(session, [c for c, _, _ in chosen], allowed=allow_synthetic):
            batch_id = batch_id.replace("RP-", "RP-SYNTHETIC-", 1)
        try:
            files = export_batches(
                [i for _, _, i in chosen],
                batch_id=batch_id,
                sender_id=settings.e2b_sender_id,
                receiver_id=settings.e2b_receiver_id,
                created=now,
                max_bytes=settings.e2b_max_file_bytes,
            )
        except E2bError as exc:
            raise UserInputError(f"export refused, nothing written:\n{exc}") from None
        e2b.mkdir(parents=True, exist_ok=True)
        for batch in files:
            target = e2b / f"{batch.batch_id}.xml"
            target.write_bytes(batch.data)
            digest = hashlib.sha256(batch.data).hexdigest()
            for index in batch.indexes:
                case_id, version, _ = chosen[index]
                record_export(
                    session,
                    case_id,
                    version,
                    batch_id=batch.batch_id,
                    file_name=target.name,
                    sha256=digest,
                    who=current_user(),
                )
            console.print(
                f"wrote {target}: {len(batch.indexes)} case(s), {len(batch.data):,} bytes, "
                "validated against the ICH E2B(R3) schema (a manual export: not recorded as a submission)"
            )


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
                        "synthetic": r.synthetic,
                    }
                    for r in rows
                ],
                indent=2,
            )
        )
        return
    synthetic = sum(r.synthetic for r in rows)
    title = f"Cases ({len(rows)}" + (f", {synthetic} SYNTHETIC: not real reports)" if synthetic else ")")
    table = Table(title=title)
    for col in ("case", "worldwide id", "v", "received", "valid", "serious", "due", "reactions (PT)", "concerns"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            r.case_number,
            f"{r.worldwide_id} [bold]SYNTHETIC[/]" if r.synthetic else r.worldwide_id,
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
    with session_scope(database()) as session:
        c = get_case(session, ref, version)
    if c.synthetic:
        console.print("[bold]SYNTHETIC case[/] (made by riskplan synth or the demo): not a real report")
    console.print(
        f"[bold]{c.case_number}[/] {c.worldwide_id} — version {c.version} of {c.latest_version}, "
        f"received {c.received}, recorded {c.recorded_at:%Y-%m-%d %H:%M} by {c.recorded_by}"
    )
    console.print(
        f"valid: {'yes' if c.valid else 'NO — ' + '; '.join(c.invalid_reasons)}; "
        f"serious: {'yes' if c.serious else 'no'}; day 0: {c.day_zero or '-'}; due: {c.due or '-'}"
    )
    table = Table(title="Reactions")
    for col in ("#", "verbatim", "PT", "SOC", "coding", "serious", "criteria", "listedness", "onset", "outcome"):
        table.add_column(col, overflow="fold")
    for r in c.reactions:
        table.add_row(
            str(r["seq"]),
            r["verbatim"],
            r["pt_name"] or "",
            r["soc_name"] or "",
            r["coding_status"],
            "yes" if r["serious"] else "",
            r["seriousness_criteria"] or "",
            r["listedness"],
            str(r["onset"] or ""),
            r["outcome"] or "",
        )
    console.print(table)
    for r in c.reactions:
        if r["coding_status"] != "coded" and r["coding_note"]:
            console.print(f"reaction {r['seq']} {r['verbatim']!r} not coded: {r['coding_note']}")
    for concern, reasons in c.concerns:
        console.print(f"safety concern [bold]{concern}[/]: {reasons}")
    for kind, other, why in c.links:
        console.print(f"linked as {kind} with {other}" + (f": {why}" if why else ""))


@app.command()
@user_errors
def show(
    case: Annotated[str, typer.Argument(help="Case number (RP0000042) or worldwide case id")],
    version: Annotated[int | None, typer.Option(help="An earlier version (default: latest)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text or json (the full ICSR)")] = "text",
) -> None:
    """Show a case: validity, seriousness, clock, reactions with coding and listedness, safety concerns."""
    if fmt == "json":
        with session_scope(database()) as session:
            typer.echo(get_case(session, case, version).icsr.model_dump_json(indent=2))
        return
    _show(case, version)


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


@user_errors
def synth_cases(
    count: Annotated[int, typer.Option("--count", "-n", help="Number of cases", min=1)] = 300,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same cases)")] = 0,
    plan: PlanOption = None,
) -> None:
    """Create realistic synthetic UPLIZNA cases and store them (seeded; for demos, tests, benchmarks).

    They are marked synthetic, and refused (exit 2, nothing written) in a database that holds real cases.
    """
    from rich.progress import Progress

    from riskplan.cases.synth import synthesise_cases

    engine = database()
    with session_scope(engine) as session:
        refuse_synthetic_beside_real_cases(session)
    icsrs = synthesise_cases(count, seed=seed)
    stored: list[StoreOutcome] = []
    with session_scope(engine) as session, Progress(transient=True) as bar:
        ctx = intake_context(session, _plan_name(plan), current_user())
        task = bar.add_task("processing and storing cases", total=len(icsrs))
        for batch in batches(icsrs, 500):
            stored += intake(
                session, batch, context=ctx, who=current_user(), reason=f"synthetic cases, seed {seed}", synthetic=True
            )
            bar.advance(task, len(batch))
    created = sum(o.status == "created" for o in stored)
    console.print(f"{created} synthetic case(s) created, {len(stored) - created} already present")
