"""``riskplan signal drug-names``: how a FAERS file's drug rows map to ingredients, by route."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from riskplan.cli_support import console
from riskplan.signals.cli import app
from riskplan.signals.drug_names import map_faers_drug_names, read_faers_drug_rows
from riskplan.store import user_errors
from riskplan.terms import DEFAULT_FUZZY_THRESHOLD, Route, normalise_drug_name, omop_ingredient_names

__all__ = ["drug_names_command"]


@app.command("drug-names")
@user_errors
def drug_names_command(
    source: Annotated[Path, typer.Argument(help="A FAERS DRUG file (DRUGyyQq.txt) or a folder holding some")],
    cdm: Annotated[
        Path | None, typer.Option("--cdm", help="OMOP CDM vocabulary folder (concept.csv, concept_ancestor.csv)")
    ] = None,
    plan: Annotated[str | None, typer.Option("--plan", "-p", help="Plan whose products are known names")] = None,
    threshold: Annotated[
        float, typer.Option("--threshold", min=50, max=100, help="Fuzzy score (0-100) a name needs to map")
    ] = DEFAULT_FUZZY_THRESHOLD,
    examples: Annotated[int, typer.Option("--examples", min=0, help="Examples shown per route")] = 5,
    output_format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Normalise FAERS drug names to active ingredients without WHODrug (prod_ai, drugname, the OMOP
    vocabulary, the plan's products) and show how many rows map by route: exact, normalised, fuzzy, unmapped."""
    from riskplan.plan import plan_in_force

    if output_format not in ("table", "json"):
        raise typer.BadParameter("--format must be table or json")
    rmp = plan_in_force(plan).plan
    products = {rmp.product.name: [s.strip() for s in rmp.product.active_substance.split("/")]}
    omop = omop_ingredient_names(cdm) if cdm is not None else None
    with console.status("mapping drug names"):
        rows = list(read_faers_drug_rows(source))
        report = map_faers_drug_names(rows, plan_products=products, omop=omop, threshold=threshold)
    if output_format == "json":
        typer.echo(json.dumps(report.as_dict(examples), indent=2))
        return
    table = Table(title=f"FAERS drug rows of {source} by route ({report.rows:,} rows)")
    table.add_column("route")
    table.add_column("rows", justify="right")
    table.add_column("%", justify="right")
    for route in Route:
        n = report.by_route.get(route, 0)
        table.add_row(route.value, f"{n:,}", f"{100 * n / report.rows:.1f}" if report.rows else "-")
    console.print(table)
    console.print(
        "mapped from: "
        + ", ".join(f"{k} {v:,} rows" for k, v in report.by_field.items())
        + f"; {len(report.ingredients):,} distinct ingredients; fuzzy threshold {threshold:g}"
    )
    for route in Route:
        shown = report.examples(route, examples)
        if not shown:
            continue
        ex = Table(title=f"{route.value}: most frequent names")
        for column in ("name", "rows", "ingredients", "matched", "score", "source"):
            ex.add_column(column)
        for name, n, m in shown:
            ingredients = ", ".join(normalise_drug_name(i) for i in m.ingredients)
            score = "" if m.score is None else f"{m.score:.0f}"
            ex.add_row(name or "(blank)", str(n), ingredients, m.matched or "", score, m.source or "")
        console.print(ex)
