"""``riskplan terms load-whodrug`` and ``terms whodrug``: load a WHODrug Global release, look a drug up."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from riskplan.cli_support import console, current_user, fail
from riskplan.store import database, session_scope, user_errors
from riskplan.terms.cli import app
from riskplan.terms.drug_coding import suggest_drugs
from riskplan.terms.whodrug import WhodrugLoadError, current_whodrug, get_whodrug_drug, load_whodrug

__all__ = ["load_whodrug_command", "whodrug_command"]


@app.command("load-whodrug")
@user_errors
def load_whodrug_command(
    directory: Annotated[
        Path, typer.Argument(help="Folder with the release's .txt files (B3: DD.txt ...; C3: MP.txt ...)")
    ],
    version: Annotated[str, typer.Option("--version", help="Release name, e.g. 2026-Mar-01-GLOBALB3")],
) -> None:
    """Load your WHODrug Global release (B3 or C3); every file is checked first, nothing written on any error."""
    with console.status("loading WHODrug"):
        try:
            with session_scope(database()) as session:
                release = load_whodrug(session, directory, who=current_user(), version=version)
                row = (release.version, release.file_format, release.product_count, release.ingredient_count)
                atc = release.atc_count
        except WhodrugLoadError as exc:
            raise fail(f"{exc} (nothing was written)") from None
    table = Table(title=f"WHODrug {row[0]} ({row[1]} format) loaded")
    table.add_column("records")
    table.add_column("count", justify="right")
    table.add_row("drug names" if row[1] == "B3" else "medicinal products", f"{row[2]:,}")
    table.add_row("product ingredients", f"{row[3]:,}")
    table.add_row("product ATC classes", f"{atc:,}")
    console.print(table)
    console.print(f"recorded in the audit trail as loaded by {current_user()}")


@app.command("whodrug")
@user_errors
def whodrug_command(
    name: Annotated[str, typer.Argument(help="A drug code / MPID, or a drug name to find suggestions for")],
) -> None:
    """Look a drug up in the loaded WHODrug release: by drug code or MPID, or the closest names."""
    with session_scope(database()) as session:
        if current_whodrug(session) is None:
            raise fail("no WHODrug release is loaded: load yours with `riskplan terms load-whodrug DIR --version V`")
        drug = get_whodrug_drug(session, name)
        suggestions = [] if drug is not None else suggest_drugs(session, name)
    if drug is not None:
        console.print(
            f"{drug.drug_name} (drug code {drug.drug_code}" + (f", MPID {drug.mpid}" if drug.mpid else "") + ")"
        )
        console.print("ingredients: " + (", ".join(drug.ingredients) or "(none)"))
        console.print("ATC: " + (", ".join(f"{c} {t or ''}".strip() for c, t in drug.atc) or "(none)"))
        return
    table = Table(title=f"Closest WHODrug names to {name!r}")
    for column in ("id", "drug name", "ingredients", "score"):
        table.add_column(column)
    for s in suggestions:
        table.add_row(s.product_id, s.drug_name, ", ".join(s.ingredients), f"{s.score:.0f}")
    console.print(table)
