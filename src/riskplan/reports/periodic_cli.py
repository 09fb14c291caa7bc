"""``riskplan report dsur | pader | schedule | list | regenerate`` (and the PSUR stored by ``report psur``).

Every generated report is stored (:mod:`~riskplan.reports.stored`) and written to ``--out``. Bad input (dates,
an interval ending before it starts, an unknown report id, a plan without trials for a DSUR) exits with code 2
and a message, nothing stored.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Annotated

import typer

from riskplan.cli_support import console, current_user
from riskplan.errors import UserInputError
from riskplan.reports.psur_counts import parse_date
from riskplan.reports.schedule import report_schedule
from riskplan.reports.stored import TITLES, StoredReport, generate_report, list_reports, regenerate, report_bytes
from riskplan.settings import get_settings
from riskplan.store import database, session_scope, user_errors

FromOption = Annotated[str, typer.Option("--from", help="First day of the reporting interval (YYYY-MM-DD)")]
ToOption = Annotated[str, typer.Option("--to", help="Data lock point: last day of the interval (YYYY-MM-DD)")]
PlanOpt = Annotated[str | None, typer.Option("--plan", "-p", help="Plan name (default: the configured plan)")]
OutOption = Annotated[
    Path | None, typer.Option("--out", "-o", help="Folder for the report (default: <output dir>/<kind>)")
]
NoPdf = Annotated[bool, typer.Option("--no-pdf", help="Write and store the HTML only")]
FormatOption = Annotated[str, typer.Option("--format", help="table or json")]


def interval(from_: str, to: str) -> tuple[dt.date, dt.date]:
    start, end = parse_date(from_, "--from"), parse_date(to, "--to")
    if end < start:
        raise UserInputError(f"--to ({end}) is before --from ({start}): the data lock point ends the interval")
    return start, end


def _format(value: str) -> str:
    if value not in ("table", "json"):
        raise UserInputError(f"--format must be table or json, not {value!r}")
    return value


def out_folder(out: Path, option: str = "--out") -> Path:
    """Make sure ``out`` is a folder the reports can be written into, before anything is generated or stored:
    a folder that cannot be made or written is the user's input (exit 2), and nothing is stored. Nothing is
    made here either: the folder is made when the report is written, so a report that fails leaves none."""
    if out.exists() and not out.is_dir():
        raise UserInputError(f"{option} {out}: is a file, not a folder; give the folder for the report")
    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UserInputError(f"{option} {out}: the folder cannot be made ({existing} is a file)")
    if not os.access(existing, os.W_OK | os.X_OK):
        what = "written" if existing == out else f"made (no permission to write in {existing})"
        raise UserInputError(f"{option} {out}: the folder cannot be {what}")
    return out


def write_stored(report: StoredReport, out: Path) -> list[Path]:
    """Write a stored report's HTML and PDF into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with session_scope(database()) as session:
        for fmt in ("html", "pdf") if report.pdf_sha256 else ("html",):
            path = out / f"{report.stem}.{fmt}"
            path.write_bytes(report_bytes(session, report.id, fmt))
            written.append(path)
    return written


def generate_and_write(
    kind: str, from_: str, to: str, plan: str | None, out: Path | None, no_pdf: bool
) -> StoredReport:
    start, end = interval(from_, to)
    who = current_user()
    settings = get_settings()
    name = plan or settings.default_plan
    folder = out_folder(out or settings.output_dir / kind)
    with console.status(f"{TITLES[kind]}: reading the cases known at {end} and rendering", spinner="dots"):
        report = generate_report(database(), kind, name, start, end, who=who, pdf=not no_pdf)
    for path in write_stored(report, folder):
        console.print(f"wrote {path}", markup=False)
    console.print(
        f"stored report {report.id}: {TITLES[kind]} {start} to {end}; input checksum {report.input_checksum}; "
        f"HTML SHA-256 {report.html_sha256}",
        markup=False,
    )
    return report


@user_errors
def dsur(from_: FromOption, to: ToOption, plan: PlanOpt = None, out: OutOption = None, no_pdf: NoPdf = False) -> None:
    """Write and store the DSUR (ICH E2F) of the plan's clinical trials for a reporting period."""
    generate_and_write("dsur", from_, to, plan, out, no_pdf)


@user_errors
def pader(from_: FromOption, to: ToOption, plan: PlanOpt = None, out: OutOption = None, no_pdf: NoPdf = False) -> None:
    """Write and store the US periodic adverse drug experience report (21 CFR 314.80(c)(2))."""
    generate_and_write("pader", from_, to, plan, out, no_pdf)


@user_errors
def schedule(plan: PlanOpt = None, fmt: FormatOption = "table") -> None:
    """List the periodic reports due (PSUR EU, PADER US, DSUR) with their DLP, due date and status."""
    _format(fmt)
    name = plan or get_settings().default_plan
    today = dt.date.today()
    with session_scope(database()) as session:
        rows, notes = report_schedule(session, name, today)
    if fmt == "json":
        console.print_json(
            json.dumps(
                {"plan": name, "today": today.isoformat(), "reports": [r.as_dict() for r in rows], "notes": notes}
            )
        )
        return
    for r in rows:
        stored = f" (report {r.report_id})" if r.report_id else ""
        console.print(
            f"{r.kind.upper():5} {r.region:3} {r.start} to {r.data_lock_point}  due {r.due}  {r.status}{stored}",
            markup=False,
        )
    for note in notes:
        console.print(f"note: {note}", markup=False)


@user_errors
def list_command(plan: PlanOpt = None, fmt: FormatOption = "table") -> None:
    """List the stored periodic reports (newest first)."""
    _format(fmt)
    with session_scope(database()) as session:
        reports = list_reports(session, plan_name=plan)
    if fmt == "json":
        console.print_json(json.dumps([r.as_dict() for r in reports]))
        return
    if not reports:
        console.print("no stored periodic report", markup=False)
    for r in reports:
        console.print(
            f"{r.id:4}  {r.kind.upper():5} {r.plan_name} {r.period_start} to {r.data_lock_point} (DLP)  "
            f"by {r.generated_by} at {r.generated_at:%Y-%m-%d %H:%M} UTC  html {r.html_sha256[:12]}",
            markup=False,
        )


@user_errors
def regenerate_command(
    report_id: Annotated[int, typer.Argument(help="Stored report id (riskplan report list)")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Also write the regenerated files here")] = None,
) -> None:
    """Make a stored report again from its data lock point and check it is byte-identical (SHA-256)."""
    if report_id < 1:
        raise UserInputError(f"report id must be 1 or more, not {report_id}")
    if out is not None:
        out_folder(out)
    with console.status(f"regenerating report {report_id}", spinner="dots"):
        result = regenerate(database(), report_id, out=out)
    stored = result.report
    console.print(f"HTML SHA-256 stored {stored.html_sha256}, regenerated {result.html_sha256}", markup=False)
    if stored.pdf_sha256:
        console.print(f"PDF  SHA-256 stored {stored.pdf_sha256}, regenerated {result.pdf_sha256}", markup=False)
    if result.identical:
        console.print(f"report {report_id}: identical (same data lock point, same bytes)", markup=False)
        return
    console.print(
        f"report {report_id}: DIFFERS from the stored report (input checksum stored {stored.input_checksum}, "
        f"now {result.input_checksum}): data known at the DLP {stored.data_lock_point} or the plan changed",
        markup=False,
    )
    raise typer.Exit(1)
