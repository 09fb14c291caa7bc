"""``riskplan case code-drug``: suggest WHODrug products for a reported drug, or code it to the one chosen."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from riskplan.cases.cli import ReasonOption, app
from riskplan.cases.drug_coding import DrugNotFound, code_drug, drug_suggestions
from riskplan.cli_support import console, current_user
from riskplan.errors import UserInputError
from riskplan.store import database, session_scope, user_errors
from riskplan.terms import DrugSuggestion

__all__ = ["code_drug_command"]


def _suggestion_lines(suggestions: list[DrugSuggestion]) -> list[str]:
    if not suggestions:
        return ["no WHODrug name is close; check the spelling or look it up with `riskplan terms whodrug NAME`"]
    return ["closest WHODrug products (id, name, ingredients, score 0-100):"] + [
        f"  {s.product_id}  {s.drug_name}  [{', '.join(s.ingredients)}]  ({s.score:.0f})" for s in suggestions
    ]


@app.command("code-drug")
@user_errors
def code_drug_command(
    case: Annotated[str, typer.Argument(help="Case number (RP0000042) or worldwide case id")],
    drug: Annotated[int, typer.Option("--drug", "-d", help="The drug's number in `case show`")],
    whodrug: Annotated[
        str | None,
        typer.Option("--whodrug", help="The WHODrug product chosen: C3 Medicinal Product ID or B3 drug code"),
    ] = None,
    suggest: Annotated[bool, typer.Option("--suggest", help="Only list the closest WHODrug products")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Suggestions as JSON")] = False,
    reason: ReasonOption = None,
) -> None:
    """Code a reported drug with your WHODrug release (G.k.2.1.1 identifier, G.k.2.3.r ingredients); the
    name as reported (G.k.2.2) is kept. Stored as a new version of the case, audited. With --suggest nothing is
    stored: the closest products are listed for the processor to choose from."""
    if suggest == (whodrug is not None):
        raise UserInputError("give exactly one of --whodrug ID (to code) or --suggest (to list candidates)")
    if suggest:
        with session_scope(database()) as session:
            name, suggestions = drug_suggestions(session, case, drug)
        if json_output:
            rows = [
                {
                    "id": s.product_id,
                    "name": s.drug_name,
                    "ingredients": list(s.ingredients),
                    "score": round(s.score, 1),
                }
                for s in suggestions
            ]
            typer.echo(json.dumps({"reported_name": name, "suggestions": rows}, indent=2))
            return
        table = Table(title=f"WHODrug products closest to drug {drug} {name!r} (nothing coded: choose one)")
        for column in ("id", "drug name", "ingredients", "score"):
            table.add_column(column, justify="right" if column == "score" else "left")
        for s in suggestions:
            table.add_row(s.product_id, s.drug_name, ", ".join(s.ingredients), f"{s.score:.0f}")
        console.print(table if suggestions else _suggestion_lines([])[0])
        return
    try:
        with session_scope(database()) as session:
            done = code_drug(session, case, drug, whodrug_id=whodrug or "", who=current_user(), reason=reason)
    except DrugNotFound as exc:
        raise UserInputError("\n".join([str(exc), *_suggestion_lines(exc.suggestions)])) from None
    o = done.outcome
    d = done.drug
    if o.status == "unchanged":
        console.print(f"{o.case_number} drug {done.seq} is already coded to {d.drug_name}: nothing changed")
        return
    console.print(
        f"{o.case_number} drug {done.seq} {done.reported_name!r}: {done.old} → {d.drug_name} "
        f"(WHODrug {d.release} {d.mpid or d.drug_code}; ingredients: {', '.join(d.ingredients) or 'none'}); "
        f"stored as version {o.version}"
    )
