"""``riskplan terms ...``: load a MedDRA release, list loaded releases, code a verbatim term."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from riskplan.cli_support import console, current_user, fail
from riskplan.store import database, session_scope, user_errors
from riskplan.terms.coding import (
    CodingResult,
    MeddraTerminology,
    OpenTermList,
    Terminology,
    code_verbatim,
)
from riskplan.terms.meddra import (
    MeddraLoadError,
    current_release,
    list_releases,
    load_meddra,
    release_counts,
)

app = typer.Typer(
    help=(
        "Terminology: load your own MedDRA release (MedDRA ASCII files), list loaded releases, and code "
        "reporters' verbatim terms (MedDRA, or the bundled open term list when no release is loaded)."
    ),
    no_args_is_help=True,
)

_STAGES = {"reading": "reading files", "checking": "checking records", "writing": "writing terms"}


@app.command("load-meddra")
@user_errors
def load_meddra_command(
    directory: Annotated[
        Path, typer.Argument(help="Folder with the MedDRA ASCII files (llt.asc, pt.asc, ...) or its parent")
    ],
    version: Annotated[
        str | None,
        typer.Option("--version", help="Release version, e.g. 27.1; needed only without meddra_release.asc"),
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", help="Release language when meddra_release.asc is absent")
    ] = None,
) -> None:
    """Load a MedDRA release; every file is checked first and nothing is written if any check fails."""
    engine = database()
    bar_console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description:<18}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=bar_console,
        transient=True,
        disable=not bar_console.is_terminal,
    ) as bar:
        task = bar.add_task("reading files", total=None)

        def report(stage: str, done: int, total: int) -> None:
            bar.update(task, description=_STAGES.get(stage, stage), completed=done, total=total)

        try:
            with session_scope(engine) as session:
                release = load_meddra(
                    session, directory, who=current_user(), version=version, language=language, progress=report
                )
                counts = release_counts(release)
                loaded_version, loaded_language, encoding = release.version, release.language, release.encoding
        except MeddraLoadError as exc:
            bar.stop()
            raise fail(f"{exc} (nothing was written)") from None
    table = Table(title=f"MedDRA {loaded_version} loaded" + (f" ({loaded_language})" if loaded_language else ""))
    table.add_column("level")
    table.add_column("terms", justify="right")
    for level, count in counts.items():
        table.add_row(level, f"{count:,}")
    console.print(table)
    console.print(f"files read as {encoding}; recorded in the audit trail as loaded by {current_user()}")


@app.command("releases")
@user_errors
def releases_command() -> None:
    """List the loaded MedDRA releases; the highest version is the one used for coding."""
    engine = database()
    with session_scope(engine) as session:
        releases = list_releases(session)
        current = current_release(session)
        rows = [
            (
                r.version,
                r.language or "",
                f"{r.loaded_at:%Y-%m-%d %H:%M}",
                r.loaded_by,
                f"{r.pt_count:,}",
                f"{r.llt_count:,}",
                "yes" if current is not None and r.version == current.version else "",
            )
            for r in releases
        ]
    if not rows:
        console.print(
            "No MedDRA release is loaded; coding uses the bundled open term list. "
            "Load your own release with `riskplan terms load-meddra DIR`."
        )
        return
    table = Table(title="Loaded MedDRA releases")
    for column in ("version", "language", "loaded at (UTC)", "loaded by", "PTs", "LLTs", "current"):
        table.add_column(column, justify="right" if column in ("PTs", "LLTs") else "left")
    for row in rows:
        table.add_row(*row)
    console.print(table)


@app.command("code")
@user_errors
def code_command(
    verbatim: Annotated[str, typer.Argument(help="The reporter's term, e.g. 'shingles'")],
    plan: Annotated[
        str | None,
        typer.Option("--plan", "-p", help="Plan whose PT names extend the open term list (default: settings)"),
    ] = None,
    release: Annotated[
        str | None, typer.Option("--release", help="MedDRA version to use (default: the highest loaded)")
    ] = None,
    open_list: Annotated[
        bool, typer.Option("--open-list", help="Use the open term list even when MedDRA is loaded")
    ] = False,
) -> None:
    """Code a verbatim term to a preferred term; near misses are shown as suggestions, never coded."""
    engine = database()
    with session_scope(engine) as session:
        terms: Terminology
        if not open_list and (release is not None or current_release(session) is not None):
            terms = MeddraTerminology(session, release)
        else:
            from riskplan.plan import plan_in_force

            terms = OpenTermList(plan_in_force(plan).plan)
        result = code_verbatim(verbatim, terms)
    _print_result(result)


def _print_result(result: CodingResult) -> None:
    version = f" {result.terminology_version}" if result.terminology_version else ""
    table = Table(title=f"Coding of {result.verbatim!r} ({result.terminology}{version})", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    status = result.status.value + (" (non-current LLT: review)" if result.non_current else "")
    table.add_row("status", status)
    if result.is_coded:
        if result.llt_name is not None:
            table.add_row("LLT", f"{result.llt_name} ({result.llt_code})")
        elif result.matched_term is not None:
            table.add_row("matched", f"{result.matched_term} ({result.source})")
        table.add_row(
            "PT", result.pt_name + (f" ({result.pt_code})" if result.pt_code else "") if result.pt_name else ""
        )
        soc = result.soc_name or "(not in the open term list)"
        table.add_row("primary SOC", soc + (f" ({result.soc_code})" if result.soc_code else ""))
    if result.note:
        table.add_row("note", result.note)
    console.print(table)
    if result.suggestions:
        hints = Table(title="Suggestions (not coded: choose one and code it explicitly)")
        hints.add_column("#", justify="right")
        hints.add_column("term")
        hints.add_column("PT")
        hints.add_column("score", justify="right")
        for number, s in enumerate(result.suggestions, start=1):
            term = s.term + (f" ({s.llt_code})" if s.llt_code else "")
            hints.add_row(str(number), term, s.pt_name, f"{s.score:.0f}")
        console.print(hints)
