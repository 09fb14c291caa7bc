"""``riskplan case cioms RP... [--version N] [--blinded] --out FILE.pdf`` and
``riskplan report line-listing --from --to [--concern ...] [--serious] --out FILE.(pdf|csv|xlsx)``.

Both are written here, in ``reports`` (above ``cases``); the front end (``riskplan.cli``) adds ``cioms`` to
the ``case`` group and ``line-listing`` to the ``report`` group.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from riskplan.cli_support import console
from riskplan.errors import UserInputError
from riskplan.reports.cioms import case_cioms_form, render_cioms_pdf
from riskplan.reports.line_listing import line_listing, listing_csv, listing_html, listing_xlsx
from riskplan.reports.psur import parse_date
from riskplan.settings import get_settings
from riskplan.store import database, session_scope, user_errors

__all__ = ["FORMATS", "cioms", "line_listing_command", "write_out"]

FORMATS = ("pdf", "csv", "xlsx")


def write_out(out: Path, data: bytes) -> None:
    """Write ``data`` to ``out``; a folder that does not exist or cannot be written is the user's input (exit 2)."""
    if out.is_dir():
        raise UserInputError(f"--out {out}: is a folder; give a file name")
    if out.parent.exists() and not out.parent.is_dir():
        raise UserInputError(f"--out {out}: {out.parent} is a file, not a folder")
    if not out.parent.is_dir():
        raise UserInputError(f"--out {out}: the folder {out.parent} does not exist")
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise UserInputError(f"--out {out}: cannot be written ({exc.strerror})") from None


@user_errors
def cioms(
    case: Annotated[str, typer.Argument(help="Case number (RP0000042) or worldwide id")],
    out: Annotated[Path, typer.Option("--out", "-o", help="PDF file to write")],
    version: Annotated[int | None, typer.Option("--version", help="Case version (default: the latest)")] = None,
    blinded: Annotated[bool, typer.Option("--blinded", help="Study case: show no treatment arm")] = False,
) -> None:
    """Write the CIOMS I form (boxes 1-25, continuation pages) of a case version as PDF."""
    if out.suffix.lower() != ".pdf":
        raise UserInputError(f"--out {out.name}: the CIOMS I form is written as PDF; end the file name in .pdf")
    with session_scope(database()) as session:
        form = case_cioms_form(session, case, version, blinded=blinded)
    write_out(out, render_cioms_pdf(form))
    extra = f", {len(form.continued)} box(es) continued" if form.continued else ""
    blind = " (blinded)" if blinded else ""
    console.print(f"wrote {out}: CIOMS I of {form.case_number} version {form.version}{blind}{extra}", markup=False)


@user_errors
def line_listing_command(
    from_: Annotated[str, typer.Option("--from", help="First day of the interval (YYYY-MM-DD)")],
    to: Annotated[str, typer.Option("--to", help="Data lock point: last day of the interval (YYYY-MM-DD)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write: .pdf, .csv or .xlsx")],
    concern: Annotated[
        list[str] | None, typer.Option("--concern", help="Only cases of this safety concern id (repeatable)")
    ] = None,
    serious: Annotated[bool, typer.Option("--serious", help="Serious cases only")] = False,
    output_format: Annotated[
        str | None, typer.Option("--format", help="pdf, csv or xlsx (default: from the file name)")
    ] = None,
    plan: Annotated[str | None, typer.Option("--plan", "-p", help="Plan name (default: the configured plan)")] = None,
) -> None:
    """Write the line listing (CIOMS II layout) of the cases first received in the interval."""
    start = parse_date(from_, "--from")
    end = parse_date(to, "--to")
    if end < start:
        raise UserInputError(f"--to ({end}) is before --from ({start})")
    kind = (output_format or out.suffix.lstrip(".")).lower()
    if output_format is not None and kind not in FORMATS:
        raise UserInputError(f"--format {output_format}: not a line-listing format; use pdf, csv or xlsx")
    if kind not in FORMATS:
        raise UserInputError(f"--out {out.name}: give a .pdf, .csv or .xlsx file, or --format pdf|csv|xlsx")
    name = plan or get_settings().default_plan
    with session_scope(database()) as session:
        if concern:
            from riskplan.plan import current_plan

            known = {c.id for c in current_plan(session, name).plan.safety_concerns}
            unknown = [c for c in concern if c not in known]
            if unknown:
                raise UserInputError(
                    f"--concern {', '.join(unknown)}: not a safety concern of plan {name}; "
                    f"it has: {', '.join(sorted(known))}"
                )
        lines = line_listing(session, name, start, end, concerns=concern or (), serious=serious)
    title = f"Line listing {name} {start} to {end}"
    if kind == "csv":
        data = listing_csv(lines).encode("utf-8")
    elif kind == "xlsx":
        data = listing_xlsx(lines, title)
    else:
        from weasyprint import HTML  # type: ignore[import-untyped]

        subtitle = "CIOMS II layout; cases first received in the interval" + (", serious only" if serious else "")
        if concern:
            subtitle += f"; safety concern(s): {', '.join(concern)}"
        data = HTML(string=listing_html(lines, title, subtitle)).write_pdf()
    write_out(out, data)
    console.print(f"wrote {out}: {len(lines)} case(s), {start} to {end}", markup=False)
