"""``riskplan case ...``: intake, E2B(R3) import and export, listing, history, duplicates.

``riskplan case due`` is added by the front end (:mod:`riskplan.cli`): it is ``riskplan submission due``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import yaml
from pydantic import ValidationError
from rich.table import Table

from riskplan.cases.causality import DEFAULT_SOURCE, check_request, choose_pair, record_causality
from riskplan.cases.causality_scales import NARANJO_QUESTIONS
from riskplan.cases.duplicates import DEFAULT_THRESHOLD, find_duplicates
from riskplan.cases.extract import facts_from_icsr
from riskplan.cases.intake import IntakeContext, batches, intake, intake_context, intake_transaction
from riskplan.cases.list_output import (
    LIST_COLUMNS,
    Column,
    ListFormat,
    list_table,
    page_csv,
    page_json,
)
from riskplan.cases.model import Icsr
from riskplan.cases.narrative_cli import narrative as narrative_command
from riskplan.cases.rejections import REJECTED, SKIPPED, record_rejected_import
from riskplan.cases.store import (
    StoreOutcome,
    case_history,
    case_number,
    get_case,
    latest_icsrs,
    link_cases,
    refuse_synthetic_beside_real_cases,
    resolve_case_id,
)
from riskplan.cases.worked_examples import ExampleKind, example_case_text
from riskplan.cases.worklist import CaseFilters, CasePage, CaseSort, CaseState, case_page
from riskplan.cli_support import EXIT_USER_ERROR, PasswordStdinOption, SignerOption, console, current_user
from riskplan.errors import UserInputError, validation_problems
from riskplan.settings import get_settings
from riskplan.store import database, session_scope, user_errors, verified_signer, write_transaction

if TYPE_CHECKING:
    from sqlalchemy import Engine

app = typer.Typer(
    help="Individual case safety reports: intake, E2B(R3) exchange, assessment, reports due.", no_args_is_help=True
)

ASSESS_HELP = (
    "Record the causality of one suspect or interacting drug against one reaction of the latest version of "
    "a case (ICH E2B(R3) G.k.9.i.2.r: source, method, result), electronically signed by its author (a "
    "safety physician or the QPPV: your own user name and password, 21 CFR 11.200).\n\n"
    "Name the pair with --drug N --reaction M (the numbers `riskplan case show` lists); a case with one pair "
    "needs neither.\n\n"
    "WHO-UMC: --method who-umc --result probable.\n\n"
    "Naranjo (Naranjo et al., Clin Pharmacol Ther 1981;30:239-245): --method naranjo --answers "
    "yes,no,dk,... with one answer (yes, no or dk for do not know) to each question in order; the score "
    "and category (9 or more definite, 5-8 probable, 1-4 possible, 0 or less doubtful) follow:\n\n"
    + "\n\n".join(f"{q.number}. {q.text} ({q.weights})" for q in NARANJO_QUESTIONS)
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


def _audit_rejection(engine: Engine, path: Path, data: bytes | None, reason: str, action: str = REJECTED) -> None:
    """Record a refused file in the audit trail, in a transaction of its own (the import rolled back)."""
    with session_scope(engine) as session:
        record_rejected_import(
            session, file_name=str(path), data=data, reason=reason, who=current_user(), action=action
        )


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
    engine = database()
    try:
        icsr = read_case_file(file)
        _, outcomes = intake_transaction(engine, [icsr], plan_name=_plan_name(plan), who=current_user(), reason=reason)
    except UserInputError as exc:
        if file.is_file():
            _audit_rejection(engine, file, file.read_bytes(), str(exc))
        raise
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
        data: bytes | None = None
        try:
            if path.stat().st_size > limit:  # refused unread: a huge file never fills the memory
                raise E2bError(f"file refused: {path.stat().st_size:,} bytes is more than the {limit:,} allowed")
            data = path.read_bytes()
            result = import_e2b(data, skip_invalid=skip_invalid, max_bytes=limit)
        except E2bError as exc:
            console.print(f"[red]{path}: rejected, nothing imported[/]\n{exc}")
            _audit_rejection(engine, path, data, str(exc))
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
        except UserInputError as exc:  # a business rule refused the batch: nothing of it is stored
            console.print(f"[red]{path}: rejected, nothing imported[/]\n{exc}")
            _audit_rejection(engine, path, data, str(exc))
            problems += 1
            continue
        console.print(f"{path}: {len(outcomes)} case(s) imported")
        _print_outcomes(outcomes)
        for rejection in result.rejected:
            console.print(f"[red]{path}: skipped {rejection}[/]")
            problems += 1
        if result.rejected:
            _audit_rejection(engine, path, data, "; ".join(str(r) for r in result.rejected), SKIPPED)
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
    from riskplan.cases.e2b import E2bError
    from riskplan.cases.exports import export_cases

    if not ids:
        raise UserInputError(
            "give the cases to export with --id (repeatable); the reports owed to each authority are listed "
            "by `riskplan submission due` and sent by `riskplan submission send`"
        )
    settings = get_settings()
    engine = database()
    with session_scope(engine) as session:
        try:
            files = export_cases(
                session,
                ids,
                sender_id=settings.e2b_sender_id,
                receiver_id=settings.e2b_receiver_id,
                now=dt.datetime.now(dt.UTC),
                who=current_user(),
                max_bytes=settings.e2b_max_file_bytes,
                allow_synthetic=allow_synthetic,
            )
        except E2bError as exc:
            raise UserInputError(f"export refused, nothing written:\n{exc}") from None
        e2b.mkdir(parents=True, exist_ok=True)
        for batch in files:
            target = e2b / batch.file_name
            target.write_bytes(batch.data)
            console.print(
                f"wrote {target}: {len(batch.cases)} case(s), {len(batch.data):,} bytes, "
                "validated against the ICH E2B(R3) schema (a manual export: not recorded as a submission)"
            )


StateOption = Annotated[
    list[CaseState] | None,
    typer.Option("--state", help="invalid, open, overdue or submitted (repeatable)", case_sensitive=False),
]
SeriousOption = Annotated[
    bool | None, typer.Option("--serious/--non-serious", help="Only serious / only non-serious cases")
]
ConcernOption = Annotated[
    str | None, typer.Option("--concern", help="Only cases counted toward this safety concern id")
]
SyntheticOption = Annotated[
    bool | None,
    typer.Option("--synthetic/--real", help="Only synthetic cases (riskplan synth, the demo) / only real ones"),
]
DueWithinOption = Annotated[
    int | None,
    typer.Option(
        "--due-within", min=0, help="Only cases whose open obligation is due within N days (overdue included)"
    ),
]
ProductOption = Annotated[
    str | None, typer.Option("--product", help="Only cases with a drug whose product or substance name contains this")
]
SortOption = Annotated[
    CaseSort, typer.Option("--sort", help="id (case number), received (newest first) or due (soonest first)")
]
LimitOption = Annotated[
    int | None, typer.Option("--limit", min=1, help="Cases per page (table: 50 by default; csv/json: all)")
]
OffsetOption = Annotated[int | None, typer.Option("--offset", min=0, help="Skip this many cases")]
PageOption = Annotated[int | None, typer.Option("--page", min=1, help="Page number (pages of --limit cases)")]
ListFormatOption = Annotated[ListFormat, typer.Option("--format", help="table, csv or json")]
AsOfOption = Annotated[str | None, typer.Option("--as-of", help="Date to count from (YYYY-MM-DD; default today)")]
TABLE_PAGE = 50


def _window(fmt: ListFormat, limit: int | None, offset: int | None, page: int | None) -> tuple[int | None, int]:
    if offset is not None and page is not None:
        raise UserInputError("give --offset or --page, not both")
    if limit is None and (fmt is ListFormat.TABLE or page is not None):
        limit = TABLE_PAGE
    if page is not None:
        assert limit is not None
        return limit, (page - 1) * limit
    return limit, offset or 0


def _print_page(fmt: ListFormat, page: CasePage, columns: Sequence[Column], table: tuple[Table, str]) -> None:
    if fmt is ListFormat.JSON:
        typer.echo(page_json(page, columns))
    elif fmt is ListFormat.CSV:
        typer.echo(page_csv(page, columns), nl=False)
    else:
        console.print(table[0], width=max(console.width, table[0].width or 0))  # --wide: as wide as it needs
        console.print(table[1], markup=False)


@app.command("list")
@user_errors
def list_command(
    state: StateOption = None,
    serious: SeriousOption = None,
    concern: ConcernOption = None,
    due_within: DueWithinOption = None,
    product: ProductOption = None,
    synthetic: SyntheticOption = None,
    plan: PlanOption = None,
    sort: SortOption = CaseSort.ID,
    limit: LimitOption = None,
    offset: OffsetOption = None,
    page: PageOption = None,
    fmt: ListFormatOption = ListFormat.TABLE,
    as_of: AsOfOption = None,
    destination: Annotated[
        str | None,
        typer.Option(help="With --state submitted (and the state column): sent to this destination (EU, US ...)"),
    ] = None,
    wide: Annotated[
        bool,
        typer.Option(
            "--wide", help="Table: every column (products too), every value whole, wider than the terminal if need be"
        ),
    ] = False,
) -> None:
    """List cases (latest versions): state, seriousness, due date, reactions and safety concerns.

    One line per case; filters, sort and paging are applied in the database.

    States: invalid (minimum criteria not met, GVP VI.B.2), open, overdue (GVP VI.C.3 clock), submitted
    (the version that started the clock, or a later one, sent to at least one destination: a submission
    record sent, delivered or accepted; --destination EU: sent to EudraVigilance).

    Example: riskplan case list --state overdue --serious --sort due --format csv > overdue.csv
    """
    today = _parse_date(as_of) if as_of else dt.date.today()
    if destination is not None and not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,29}", destination):
        raise UserInputError(f"--destination {destination!r} is not a destination code (e.g. EU, US, UK, PARTNER)")
    filters = CaseFilters(
        plan_name=plan,
        states=tuple(state or ()),
        serious=serious,
        concern=concern,
        due_within=due_within,
        product=product,
        synthetic=synthetic,
        destination=destination,
    )
    size, start = _window(fmt, limit, offset, page)
    with session_scope(database()) as session:
        found = case_page(session, filters, as_of=today, sort=sort, limit=size, offset=start)
    _print_page(
        fmt,
        found,
        LIST_COLUMNS,
        list_table(found, console.width, wide=wide) if fmt is ListFormat.TABLE else (Table(), ""),
    )


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


@app.command(help=ASSESS_HELP)
@user_errors
def assess(
    case: Annotated[str, typer.Argument(help="Case number or worldwide id")],
    drug: Annotated[
        int | None, typer.Option(help="The suspect or interacting drug's number, as `case show` lists it")
    ] = None,
    reaction: Annotated[int | None, typer.Option(help="The reaction's number, as `case show` lists it")] = None,
    method: Annotated[
        str | None,
        typer.Option(help="G.k.9.i.2.r.2: who-umc or naranjo (default: naranjo with --answers, else who-umc)"),
    ] = None,
    result: Annotated[
        str | None,
        typer.Option(
            help="G.k.9.i.2.r.3, WHO-UMC: certain, probable, possible, unlikely, conditional, unassessable "
            "(Naranjo: follows from the answers)"
        ),
    ] = None,
    answers: Annotated[
        str | None,
        typer.Option(help="Naranjo: the ten answers in question order, comma-separated: yes, no or dk (see above)"),
    ] = None,
    source: Annotated[
        str | None, typer.Option(help=f"G.k.9.i.2.r.1 Source of assessment (default: {DEFAULT_SOURCE})")
    ] = None,
    causality: Annotated[str | None, typer.Option(help="The same as --method who-umc --result CATEGORY")] = None,
    comment: Annotated[str | None, typer.Option(help="The medical reasoning (audit trail)")] = None,
    signer: SignerOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    if causality is not None:
        if result is not None and result != causality:
            raise UserInputError("--causality and --result say different things: give one")
        result = causality
    request = check_request(method, result, answers, source)
    engine = database()
    with session_scope(engine) as session:  # a bad case, pair or answer is refused before the password is asked
        case_id = resolve_case_id(session, case)
        ref = case_number(case_id)
        pair = choose_pair(get_case(session, ref).icsr, ref, drug, reaction)
    who = verified_signer(engine, signer, password_stdin)
    done = write_transaction(
        engine,
        lambda session: record_causality(session, case_id, pair, request, comment, signer=who),
        what="the causality assessment",
    )
    score = f", score {done.naranjo_score}" if done.naranjo_score is not None else ""
    console.print(
        f"{ref} version {done.version}, {pair.label}: assessed {done.method} {done.result}{score} "
        f"(source: {done.source}); signed: {done.signed}"
    )


@app.command()
def schema() -> None:
    """Print the JSON schema of a case file for `riskplan case new` (`riskplan case example` shows one)."""
    typer.echo(json.dumps(Icsr.model_json_schema(), indent=2))


@app.command()
def example(
    kind: Annotated[
        ExampleKind, typer.Option("--kind", help="spontaneous, literature, study or pregnancy")
    ] = ExampleKind.SPONTANEOUS,
) -> None:
    """Print a worked example of a case file that `riskplan case new` accepts.

    Dates in ISO 8601 ("2026-11-24", or "2026-08" when only the month is known); E2B(R3) HL7 dates work too.

    Coded fields in words ("sex": "female", "outcome": "recovered", "route": "intravenous"); E2B codes work too.

    Try: riskplan case example --kind pregnancy > case.json && riskplan case new case.json
    """
    typer.echo(example_case_text(kind), nl=False)


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


app.command("narrative")(narrative_command)
