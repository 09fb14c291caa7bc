"""``riskplan submission ...``: reports owed to each authority and partner, sending, ACKs, compliance."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from riskplan.cli_support import console, current_user, err_console
from riskplan.errors import UserInputError
from riskplan.settings import get_settings
from riskplan.store import database, session_scope, user_errors
from riskplan.submissions.acks import AckOutcome, apply_ack
from riskplan.submissions.as2 import As2Error
from riskplan.submissions.as2_channel import As2Channel, as2_channel
from riskplan.submissions.as2_sending import awaiting_ack, fetch_and_record_ack, send_batch
from riskplan.submissions.compliance import compliance
from riskplan.submissions.destination_versions import (
    DestinationInForce,
    destination_in_force,
    destinations_in_force,
    record_destination,
)
from riskplan.submissions.destinations import read_destination_file
from riskplan.submissions.obligations import Obligation
from riskplan.submissions.records import last_rejections, list_submissions, record_late_reason
from riskplan.submissions.sending import generate, owed_now, transmit, unsent_batches
from riskplan.submissions.transport import ManualTransport, Transport

#: Columns kept on one line at any terminal width (case numbers, destinations, dates); the others fold,
#: never cut: a long message id wraps whole.
_WHOLE = frozenset({"case", "id", "code", "v", "to", "due", "destination", "month"})

app = typer.Typer(
    help="Regulatory reporting: reports owed to each authority and partner, sending, ACKs, compliance.",
    no_args_is_help=True,
)
destinations_app = typer.Typer(help="Destinations and their reporting rules: list, show, load.", no_args_is_help=True)
app.add_typer(destinations_app, name="destinations")

FormatOption = Annotated[str, typer.Option("--format", help="table or json")]
DestinationOption = Annotated[
    str | None, typer.Option("--destination", "-d", help="Destination code (EU, US, UK, PARTNER); default: all")
]


def _format(fmt: str) -> str:
    if fmt not in ("table", "json"):
        raise UserInputError(f"--format must be table or json, not {fmt!r}")
    return fmt


def _date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserInputError(f"{option} {value!r} is not a date: give it as YYYY-MM-DD") from None


def _chosen(session: Any, code: str | None) -> list[DestinationInForce]:
    if code is None:
        return list(destinations_in_force(session).values())
    return [destination_in_force(session, code)]


# --------------------------------------------------------------------------------------------------
# destinations
# --------------------------------------------------------------------------------------------------


@destinations_app.command("list")
@user_errors
def destinations_list(fmt: FormatOption = "table") -> None:
    """The destinations in force (the latest stored version of each, else the bundled file)."""
    _format(fmt)
    with session_scope(database()) as session:
        found = destinations_in_force(session)
    if fmt == "json":
        typer.echo(
            json.dumps(
                [
                    {"code": d.destination.code, "name": d.destination.name, "version": d.version, "origin": d.origin}
                    for d in found.values()
                ],
                indent=2,
            )
        )
        return
    table = Table(title="Destinations of individual case reports")
    for col in ("code", "name", "kind", "receiver (N.1.4)", "rules", "in force"):
        table.add_column(col, no_wrap=col in _WHOLE, overflow="fold")  # identifiers and dates never cut
    for d in found.values():
        dest = d.destination
        receiver = dest.receiver_id or f"setting e2b_receiver_ids.{dest.code}"
        table.add_row(dest.code, dest.name, dest.kind, receiver, str(len(dest.rules)), d.origin)
    console.print(table)


@destinations_app.command("show")
@user_errors
def destinations_show(code: Annotated[str, typer.Argument(help="Destination code, e.g. EU")]) -> None:
    """A destination's reporting rules, each with the source it implements."""
    with session_scope(database()) as session:
        d = destination_in_force(session, code)
    dest = d.destination
    console.print(f"[bold]{dest.code}[/]: {dest.name} ({d.origin})")
    console.print(
        f"territory: {', '.join(dest.territory)}; RSI: {dest.rsi_region or 'plan default'}; "
        f"authorised: {'yes' if dest.authorised else 'no'}"
    )
    for rule in dest.rules:
        days = f" within {rule.days} days" if rule.days is not None else ""
        when = ", ".join(f"{k}={v}" for k, v in rule.when.model_dump(exclude_defaults=True).items()) or "any case"
        console.print(f"  {rule.id}: {when} → {rule.report.value}{days}  [{rule.cites}]", markup=False)


@destinations_app.command("load")
@user_errors
def destinations_load(
    file: Annotated[Path, typer.Argument(help="A destination as YAML (see submissions/destinations/*.yaml)")],
    reason: Annotated[str | None, typer.Option(help="Why (recorded in the audit trail)")] = None,
) -> None:
    """Store an edited destination as a new version (audited); the same content again stores nothing."""
    destination = read_destination_file(file)
    with session_scope(database()) as session:
        version, created = record_destination(session, destination, who=current_user(), source=str(file), reason=reason)
    if created:
        console.print(f"{destination.code}: stored as version {version}")
    else:
        console.print(f"{destination.code}: unchanged (same content as version {version})")


# --------------------------------------------------------------------------------------------------
# due, send
# --------------------------------------------------------------------------------------------------


def _obligation_json(o: Obligation, today: dt.date, rejection: str | None) -> dict[str, Any]:
    return {
        "case": o.case_number,
        "worldwide_id": o.worldwide_id,
        "version": o.version,
        "destination": o.destination,
        "kind": o.kind.value,
        "report": o.report,
        "day_zero": o.day_zero.isoformat() if o.day_zero else None,
        "due": o.due.isoformat() if o.due else None,
        "days_left": (o.due - today).days if o.due else None,
        "rule": o.rule,
        "cites": o.cites,
        "periodic_report": o.periodic_report,
        "rejected": rejection,
    }


@app.command()
@user_errors
def due(
    destination: DestinationOption = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date to count from (YYYY-MM-DD)")] = None,
    include_periodic: Annotated[bool, typer.Option(help="Also list cases for the periodic report")] = False,
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="expedited or periodic (the US periodic report each case belongs to)"),
    ] = None,
    fmt: FormatOption = "table",
) -> None:
    """Reports owed to each destination, soonest due first, with the rule that decided each."""
    _format(fmt)
    if kind not in (None, "expedited", "periodic"):
        raise UserInputError(f"--kind must be expedited or periodic, not {kind!r}")
    today = _date(as_of, "--as-of") if as_of else dt.date.today()
    with session_scope(database()) as session:
        chosen = _chosen(session, destination)
        owed = owed_now(session, chosen, include_periodic=include_periodic or kind == "periodic")
        rejections = last_rejections(session)
    if kind is not None:
        owed = [o for o in owed if o.kind.value == kind]
    rejected = {k: r.ack_text or f"rejected ({r.ack_code})" for k, r in rejections.items()}
    if fmt == "json":
        items = [_obligation_json(o, today, rejected.get((o.case_id, o.destination))) for o in owed]
        typer.echo(json.dumps(items, indent=2))
        return
    overdue = sum(1 for o in owed if o.due is not None and o.due < today)
    table = Table(title=f"Reports owed as of {today}: {len(owed)} open, {overdue} overdue")
    for col in ("case", "v", "to", "report", "kind", "due", "days left", "rule"):
        table.add_column(col, no_wrap=col in _WHOLE, overflow="fold")  # identifiers and dates never cut
    for o in owed:
        left = (o.due - today).days if o.due else None
        status = "" if left is None else (f"[red]{left}[/]" if left < 0 else str(left))
        note = rejected.get((o.case_id, o.destination))
        table.add_row(
            o.case_number,
            str(o.version),
            o.destination,
            o.report + (" [red](rejected)[/]" if note else ""),
            o.kind.value,
            str(o.due or "periodic"),
            status,
            o.rule,
        )
    console.print(table)
    for o in owed:
        if o.periodic_report:
            console.print(f"{o.case_number} → {o.destination}: {o.periodic_report}", markup=False)
    for (case_id, code), text in rejected.items():
        if any(o.case_id == case_id and o.destination == code for o in owed):
            console.print(f"[red]RP{case_id:07d} rejected by {code}:[/] {text}", markup=True)


def _transport(channel: str, folder: Path) -> Transport:
    if channel == "manual":
        return ManualTransport(folder)
    raise UserInputError(f"unknown channel {channel!r}: channels are manual and as2")


def _retry_notice(code: str) -> Any:
    def notice(attempt: int, total: int, delay: float, reason: str) -> None:
        err_console.print(
            f"{code}: gateway not reachable ({reason}): attempt {attempt}/{total} failed, retrying in {delay:.1f} s",
            markup=False,
        )

    return notice


def _as2_channels(chosen: list[DestinationInForce]) -> dict[str, As2Channel]:
    """Each chosen destination's AS2 connection ([gateway.<CODE>] in riskplan.toml), all checked first."""
    settings = get_settings()
    configured = {code.upper(): connection for code, connection in settings.gateway.items()}
    return {
        t.destination.code: as2_channel(
            t.destination.code, configured.get(t.destination.code), on_retry=_retry_notice(t.destination.code)
        )
        for t in chosen
    }


def _print_ack(where: str, outcome: AckOutcome) -> None:
    a = outcome.ack
    if outcome.already_imported:
        console.print(f"{where}: ACK {a.ack_batch_id} was already imported; nothing changed", markup=False)
        return
    console.print(
        f"{where}: ACK {a.ack_batch_id} for batch {a.batch_id} ({a.code}): {len(outcome.accepted)} accepted, "
        f"{len(outcome.rejected)} rejected, {len(outcome.unchanged)} unchanged",
        markup=False,
    )
    for message_id, text in outcome.rejected:
        console.print(f"  [red]rejected[/] {message_id}: {text or '(no error text)'}")
    for message_id in outcome.unknown:
        console.print(f"  [yellow]not in the batch:[/] {message_id}")


def _send_as2(
    engine: Any,
    chosen: list[DestinationInForce],
    channels: dict[str, As2Channel],
    pending: dict[str, list[str]],
    sizes: dict[str, int],
    *,
    who: str,
    now: dt.datetime,
) -> tuple[list[tuple[As2Channel, str]], int]:
    """Each pending batch over AS2: (channel, Message-ID) of those delivered, and how many failed."""
    delivered: list[tuple[As2Channel, str]] = []
    problems = 0
    for target in chosen:
        code = target.destination.code
        for batch_id in pending[code]:
            outcome = send_batch(engine, batch_id, target.destination, channels[code], who=who, now=now)
            size = f"{sizes[batch_id]} report(s)" if batch_id in sizes else "generated earlier"
            again = ", resumed under the same Message-ID" if outcome.resumed else ""
            if outcome.delivered:
                delivered.append((channels[code], outcome.message_id))
                console.print(
                    f"{code}: batch {batch_id} ({size}) sent by as2 as {outcome.message_id}{again}: "
                    f"MDN {outcome.status} (signed, MIC verified; {outcome.attempts} attempt(s)): delivered",
                    markup=False,
                )
                continue
            problems += 1
            console.print(f"[red]{code}: batch {batch_id} ({size}) not delivered{again}:[/] {outcome.detail}")
            console.print(
                f"  it stays generated with AS2 Message-ID {outcome.message_id}; the next "
                "`riskplan submission send --channel as2` sends the same file under that Message-ID",
                markup=False,
            )
    return delivered, problems


def _collect_acks(engine: Any, waiting: list[tuple[As2Channel, str]], wait: float, *, who: str) -> int:
    """Fetch and record the ACK of each delivered message, waiting up to ``wait`` seconds in all."""
    deadline = time.monotonic() + wait
    problems = 0
    for channel, message_id in waiting:
        try:
            outcome = fetch_and_record_ack(
                engine, channel, message_id, who=who, wait=max(0.0, deadline - time.monotonic())
            )
        except As2Error as exc:
            console.print(f"[red]{channel.destination}: ACK for {message_id} not fetched:[/] {exc}")
            problems += 1
            continue
        except UserInputError as exc:
            console.print(f"[red]{channel.destination}: ACK for {message_id} not recorded:[/] {exc}")
            problems += 1
            continue
        if outcome is None:
            console.print(
                f"{channel.destination}: no ACK yet for {message_id}; ask later with riskplan submission poll-acks",
                markup=False,
            )
            continue
        _print_ack(f"{channel.destination} {message_id}", outcome)
        if outcome.rejected:
            problems += 1
    return problems


@app.command()
@user_errors
def send(
    destination: Annotated[
        str | None, typer.Option("--destination", "-d", help="Destination code (EU, US, UK, PARTNER); or --all")
    ] = None,
    everywhere: Annotated[
        bool, typer.Option("--all", help="Send to every destination in force (never the default)")
    ] = False,
    channel: Annotated[str, typer.Option(help="manual (write the file for a web upload) or as2")] = "manual",
    folder: Annotated[
        Path | None, typer.Option(help="Where the manual channel writes files (default: <output dir>/submissions)")
    ] = None,
    include_periodic: Annotated[bool, typer.Option(help="Also send the cases owed for the periodic report")] = False,
    late_reason: Annotated[
        str | None, typer.Option("--late-reason", help="Why the overdue ones in this send are late (recorded)")
    ] = None,
    allow_synthetic: Annotated[
        bool, typer.Option(help="Send synthetic cases too (refused otherwise); the batch id then says SYNTHETIC")
    ] = False,
    wait_ack: Annotated[
        float, typer.Option("--wait-ack", help="as2: seconds to wait for the authority's ACKs (0: do not wait)", min=0)
    ] = 0.0,
) -> None:
    """Generate one E2B(R3) batch per destination with every report owed, check it, and send it.

    Name the destination (--destination EU) or ask for every one (--all): a send reaches authorities, so
    riskplan never chooses "all" for you."""
    if destination is None and not everywhere:
        raise UserInputError(
            "submission send: say where: --destination CODE (e.g. --destination EU) for one destination, "
            "or --all for every destination in force; nothing was generated or sent"
        )
    if destination is not None and everywhere:
        raise UserInputError("submission send: --destination and --all together: give one or the other")
    settings = get_settings()
    engine = database()
    now = dt.datetime.now(dt.UTC)
    who = current_user()
    with session_scope(engine) as session:
        chosen = _chosen(session, destination)
    if channel == "as2":
        channels = _as2_channels(chosen)  # every connection checked before anything is generated
        transport: Transport | None = None
    else:
        transport = _transport(channel, folder or settings.output_dir / "submissions")
    with session_scope(engine) as session:
        owed = owed_now(session, chosen, include_periodic=include_periodic)
        generated = [
            generate(
                session,
                target,
                owed,
                sender_id=settings.e2b_sender_id,
                who=who,
                now=now,
                late_reason=late_reason,
                allow_synthetic=allow_synthetic,
                max_bytes=settings.e2b_max_file_bytes,
                receiver_ids={k.upper(): v for k, v in settings.e2b_receiver_ids.items()},
            )
            for target in chosen
        ]
        pending = {t.destination.code: unsent_batches(session, t.destination.code) for t in chosen}
    problems = 0
    refused = 0
    for g in generated:
        if g is None:
            continue
        for refusal in g.refused:
            refused += 1
            o = refusal.obligation
            console.print(f"[red]{o.case_number} v{o.version} → {o.destination}: not sent[/]")
            for reason in refusal.reasons:
                console.print(f"  - {reason}", markup=False)
        for warned in g.warned:
            o = warned.obligation
            console.print(f"[yellow]{o.case_number} v{o.version} → {o.destination}: sent with warnings[/]")
            for text in warned.warnings:
                console.print(f"  - {text}", markup=False)
    derived = sum(g.derived for g in generated if g is not None)
    if derived:
        # FDA ICSR data elements (Required) the cases did not give: derived from each report's obligation
        console.print(
            f"{derived} report(s) to FDA with regional elements derived from their obligation (FDA.C.1.7.1 from the "
            "rule that fired; nullFlavors where the case gives nothing): each listed in the audit trail",
            markup=False,
        )
    if refused:
        console.print(
            f"{refused} report(s) refused before sending: they stay owed (riskplan submission due) until the "
            "case is corrected",
            markup=False,
        )
    sizes = {b: n for g in generated if g is not None for b, n in g.files}
    if transport is None:
        delivered, failed = _send_as2(engine, chosen, channels, pending, sizes, who=who, now=now)
        problems += failed
        if delivered and wait_ack > 0:
            problems += _collect_acks(engine, delivered, wait_ack, who=who)
        if not delivered and not problems and not refused:
            console.print("nothing to send")
        _exit(problems, refused)
        return
    sent_any = False
    for target in chosen:
        for batch_id in pending[target.destination.code]:
            try:
                with session_scope(engine) as session:
                    transmission = transmit(session, batch_id, target.destination, transport, who=who, now=now)
            except UserInputError as exc:
                console.print(f"[red]{target.destination.code}: batch {batch_id} not sent:[/] {exc}")
                problems += 1
                continue
            sent_any = True
            where = f" to {transmission.location}" if transmission.location else ""
            size = f" ({sizes[batch_id]} report(s))" if batch_id in sizes else " (generated earlier)"
            console.print(f"{target.destination.code}: batch {batch_id}{size} sent by {transmission.channel}{where}")
    if not sent_any and not problems and not refused:
        console.print("nothing to send")
    _exit(problems, refused)


def _exit(problems: int, refused: int) -> None:
    """Exit 2 when a report was refused by a rule (a wrong input: the case must be corrected), 1 when a
    transmission failed (try again later), else 0."""
    if refused:
        raise typer.Exit(2)
    if problems:
        raise typer.Exit(1)


@app.command("poll-acks")
@user_errors
def poll_acks(
    destination: DestinationOption = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for ACKs not there yet", min=0)] = 0.0,
) -> None:
    """Fetch the ACKs of batches delivered over AS2 and not yet acknowledged; record each (idempotent)."""
    engine = database()
    with session_scope(engine) as session:
        chosen = _chosen(session, destination)
    codes = {t.destination.code for t in chosen}
    waiting = [(b, d, m) for b, d, m in awaiting_ack(engine) if d in codes]
    if not waiting:
        console.print("no batch sent over AS2 is waiting for its ACK")
        return
    channels = _as2_channels([t for t in chosen if t.destination.code in {d for _, d, _ in waiting}])
    problems = _collect_acks(engine, [(channels[d], m) for _, d, m in waiting], wait, who=current_user())
    if problems:
        raise typer.Exit(1)


# --------------------------------------------------------------------------------------------------
# ack, list, reason, compliance
# --------------------------------------------------------------------------------------------------


@app.command()
@user_errors
def ack(
    files: Annotated[list[Path], typer.Argument(help="ICH E2B(R3) acknowledgment files (MCCI_IN200101UV01)")],
) -> None:
    """Import acknowledgments: each report accepted, or rejected with the authority's error text."""
    engine = database()
    problems = 0
    for path in files:
        if not path.is_file():
            console.print(f"[red]{path}: no such file[/]")
            problems += 1
            continue
        try:
            with session_scope(engine) as session:
                outcome = apply_ack(session, path.read_bytes(), str(path), who=current_user())
        except UserInputError as exc:
            console.print(f"[red]{exc}[/]", markup=True)
            problems += 1
            continue
        _print_ack(str(path), outcome)
    if problems:
        raise typer.Exit(2)


@app.command("list")
@user_errors
def list_command(
    state: Annotated[list[str] | None, typer.Option("--state", help="Only these states (repeatable)")] = None,
    destination: DestinationOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Submissions with their state, batch, message number and ACK."""
    _format(fmt)
    with session_scope(database()) as session:
        rows = list_submissions(session, states=state or (), destination=destination)
    if fmt == "json":
        typer.echo(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "case": r.case_number,
                        "worldwide_id": r.worldwide_id,
                        "version": r.version,
                        "destination": r.destination,
                        "attempt": r.attempt,
                        "kind": r.kind,
                        "report": r.report,
                        "rule": r.rule,
                        "due": r.due.isoformat() if r.due else None,
                        "state": r.state,
                        "batch": r.batch_id,
                        "message": r.message_id,
                        "ack": r.ack_code,
                        "ack_text": r.ack_text,
                        "late_reason": r.late_reason,
                        "send_error": r.send_error,
                        "periodic_report": r.periodic_report,
                    }
                    for r in rows
                ],
                indent=2,
            )
        )
        return
    table = Table(title=f"{len(rows)} submission(s)")
    for col in ("id", "case", "v", "to", "report", "due", "state", "message", "ack"):
        table.add_column(col, no_wrap=col in _WHOLE, overflow="fold")  # identifiers and dates never cut
    for r in rows:
        table.add_row(
            str(r.id),
            r.case_number,
            str(r.version),
            r.destination,
            r.report,
            str(r.due or "periodic"),
            r.state,
            r.message_id,
            (r.ack_code or "")
            + (f": {r.ack_text[:60]}" if r.ack_text else "")
            + (f"send failed: {r.send_error[:60]}" if r.send_error else ""),
        )
    console.print(table)
    for r in rows:
        if r.periodic_report:
            console.print(f"{r.case_number} → {r.destination} ({r.message_id}): {r.periodic_report}", markup=False)


@app.command()
@user_errors
def reason(
    submission: Annotated[str, typer.Argument(help="Submission id or message number")],
    text: Annotated[str, typer.Argument(help="Why the report was late")],
) -> None:
    """Record why a report was late (shown by the compliance report; audited)."""
    with session_scope(database()) as session:
        s = record_late_reason(session, submission, text, who=current_user())
    console.print(f"{s.message_id}: late reason recorded")


@app.command("compliance")
@user_errors
def compliance_command(
    start: Annotated[str, typer.Option("--from", help="First due date counted (YYYY-MM-DD)")],
    end: Annotated[str, typer.Option("--to", help="Last due date counted (YYYY-MM-DD)")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="Today, for open reports (YYYY-MM-DD)")] = None,
    fmt: FormatOption = "table",
) -> None:
    """Per destination and month: share of expedited reports accepted by their due date; late ones; due soon."""
    _format(fmt)
    first, last = _date(start, "--from"), _date(end, "--to")
    today = _date(as_of, "--as-of") if as_of else dt.date.today()
    with session_scope(database()) as session:
        owed = owed_now(session, list(destinations_in_force(session).values()), include_periodic=True)
        report = compliance(session, first, last, today, owed)
    if fmt == "json":
        typer.echo(json.dumps(_compliance_json(report), indent=2))
        return
    table = Table(title=f"Reporting compliance, due {first} to {last} (as of {today})")
    for col in ("destination", "month", "due", "on time", "late", "pending", "% on time"):
        table.add_column(col, no_wrap=col in _WHOLE, overflow="fold")  # identifiers and dates never cut
    for m in report.months:
        share = "pending" if m.share_on_time is None and m.pending else "-"
        share = share if m.share_on_time is None else f"{100 * m.share_on_time:.0f}%"
        table.add_row(m.destination, m.month, str(m.due), str(m.on_time), str(m.late), str(m.pending), share)
    console.print(table)
    if report.late:
        console.print("[bold]Late[/]")
        for x in report.late:
            done = f"accepted {x.done}" if x.done else f"still {x.state}"
            console.print(
                f"  {x.case} v{x.version} → {x.destination}: due {x.due}, {done}, {x.days_late} day(s) late; "
                f"reason: {x.reason or 'none recorded'}",
                markup=False,
            )
    console.print(f"[bold]Due in the next 7 days:[/] {len(report.due_soon)}")
    for item in report.due_soon:
        console.print(
            f"  {item.case if hasattr(item, 'case') else item.case_number} → {item.destination}: due {item.due}"
        )


def _compliance_json(report: Any) -> dict[str, Any]:
    return {
        "from": report.start.isoformat(),
        "to": report.end.isoformat(),
        "as_of": report.today.isoformat(),
        "months": [
            {
                "destination": m.destination,
                "month": m.month,
                "due": m.due,
                "on_time": m.on_time,
                "late": m.late,
                "pending": m.pending,
                "share_on_time": m.share_on_time,
            }
            for m in report.months
        ],
        "late": [
            {
                "case": x.case,
                "worldwide_id": x.worldwide_id,
                "version": x.version,
                "destination": x.destination,
                "due": x.due.isoformat(),
                "accepted": x.done.isoformat() if x.done else None,
                "days_late": x.days_late,
                "state": x.state,
                "reason": x.reason,
            }
            for x in report.late
        ],
        "due_next_7_days": [
            {
                "case": getattr(x, "case", None) or x.case_number,
                "version": x.version,
                "destination": x.destination,
                "due": x.due.isoformat() if x.due else None,
            }
            for x in report.due_soon
        ],
    }
