"""How FAERS drug rows map to active ingredients without WHODrug (``riskplan signal drug-names``).

A FAERS DRUG row (FDA "ASCII Data Files" README: ``primaryid$caseid$drug_seq$role_cod$drugname$prod_ai$...``)
names its drug twice: ``drugname`` as reported and ``prod_ai``, the product's active ingredient(s) as FDA
coded them (several joined by a backslash), often blank for names FDA could not match. A row is mapped
from ``prod_ai`` when given, else from ``drugname``, through :class:`riskplan.terms.DrugNameIndex` built in
this order (the first mapping of a name wins):

1. the plan's products (name -> active substance);
2. the OMOP CDM vocabulary, when a folder is given (RxNorm ingredients and drug names, e.g. Eunomia's);
3. the data itself: every ``prod_ai`` ingredient, and each ``drugname`` reported with a ``prod_ai``.

The result counts rows by route (exact, normalised, fuzzy, unmapped) and by the field mapped, with the most
frequent names of each route as examples; ingredients are given normalised (salts stripped) so that
"WARFARIN SODIUM" and "warfarin" count as one ingredient.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from riskplan.errors import UserInputError
from riskplan.terms import DrugNameIndex, MappedName, Route, normalise_drug_name

__all__ = ["DrugNameReport", "FaersDrugRow", "map_faers_drug_names", "read_faers_drug_rows"]

_NEEDED = ("primaryid", "drugname", "prod_ai")


@dataclass(frozen=True)
class FaersDrugRow:
    primaryid: str
    drugname: str
    prod_ai: str


def _drug_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        found = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and p.name.upper().startswith("DRUG") and p.suffix.lower() == ".txt"
        )
        if found:
            return found
        raise UserInputError(f"{path}: no FAERS DRUG file (DRUGyyQq.txt) in this folder")
    raise UserInputError(f"{path}: no such file or folder")


def read_faers_drug_rows(path: Path) -> Iterator[FaersDrugRow]:
    """The rows of a FAERS DRUG file (or of every DRUG file under a folder): ``$``-delimited, header first,
    UTF-8 or Latin-1. A file without the header fields primaryid, drugname and prod_ai is refused."""
    for file in _drug_files(path):
        with file.open("rb") as fh:
            header = fh.readline().decode("latin-1").rstrip("\r\n").lower().split("$")
            missing = [n for n in _NEEDED if n not in header]
            if missing:
                raise UserInputError(
                    f"{file}, line 1: not a FAERS DRUG file (no {', '.join(missing)} in the $-delimited header)"
                )
            at = {n: header.index(n) for n in _NEEDED}
            last = max(at.values())
            for number, raw in enumerate(fh, start=2):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError:
                    line = raw.decode("latin-1")
                fields = line.rstrip("\r\n").split("$")
                if len(fields) <= last:  # FAERS rows may end early; the fields read must be there
                    raise UserInputError(
                        f"{file}, line {number}: {len(fields)} $-delimited fields, too few to hold "
                        f"{', '.join(_NEEDED)} (fields {', '.join(str(at[n] + 1) for n in _NEEDED)} of the header)"
                    )
                values = [fields[at[n]].strip() for n in _NEEDED]
                yield FaersDrugRow(*values)


def _ingredients(prod_ai: str) -> list[str]:
    return [part.strip() for part in prod_ai.split("\\") if part.strip()]


@dataclass
class DrugNameReport:
    """Rows by route and by field, with examples: the most frequent names of each route."""

    rows: int = 0
    by_route: Counter[Route] = field(default_factory=Counter)
    by_field: Counter[str] = field(default_factory=Counter)
    names: dict[Route, Counter[str]] = field(default_factory=dict)
    mapped: dict[str, MappedName] = field(default_factory=dict)
    ingredients: Counter[str] = field(default_factory=Counter)
    sources: Mapping[str, int] = field(default_factory=dict)

    def examples(self, route: Route, limit: int = 5) -> list[tuple[str, int, MappedName]]:
        counts = self.names.get(route, Counter())
        return [
            (name, n, self.mapped[name]) for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        ]

    def as_dict(self, limit: int = 5) -> dict[str, object]:
        def example(name: str, n: int, m: MappedName) -> dict[str, object]:
            return {
                "name": name,
                "rows": n,
                "ingredients": [normalise_drug_name(i) for i in m.ingredients],
                "matched": m.matched,
                "score": None if m.score is None else round(m.score, 1),
                "source": m.source,
            }

        return {
            "rows": self.rows,
            "by_route": {r.value: self.by_route.get(r, 0) for r in Route},
            "by_field": dict(self.by_field),
            "known_names_by_source": dict(self.sources),
            "examples": {r.value: [example(*e) for e in self.examples(r, limit)] for r in Route},
            "distinct_ingredients": len(self.ingredients),
        }


def map_faers_drug_names(
    rows: Sequence[FaersDrugRow],
    *,
    plan_products: Mapping[str, Sequence[str]] | None = None,
    omop: Mapping[str, Sequence[str]] | None = None,
    threshold: float | None = None,
) -> DrugNameReport:
    """Map every row (its ``prod_ai``, else its ``drugname``) to ingredients; see the module docstring."""
    index = DrugNameIndex() if threshold is None else DrugNameIndex(threshold=threshold)
    sources: Counter[str] = Counter()
    for source, known in (("plan", plan_products or {}), ("OMOP vocabulary", omop or {})):
        for name, ingredients in known.items():
            before = len(index)
            index.add(name, ingredients, source)
            sources[source] += len(index) - before
    for row in rows:
        for ingredient in _ingredients(row.prod_ai):
            before = len(index)
            index.add(ingredient, [ingredient], "FAERS prod_ai")
            sources["FAERS prod_ai"] += len(index) - before
    for row in rows:
        if row.prod_ai and row.drugname:
            before = len(index)
            index.add(row.drugname, _ingredients(row.prod_ai), "FAERS drugname with prod_ai")
            sources["FAERS drugname with prod_ai"] += len(index) - before
    report = DrugNameReport(sources=dict(sources))
    for row in rows:
        report.rows += 1
        text, used = (row.prod_ai, "prod_ai") if row.prod_ai else (row.drugname, "drugname")
        report.by_field[used if text else "blank"] += 1
        mapped = report.mapped.get(text)
        if mapped is None:
            mapped = index.map(text) if text else MappedName(text, Route.UNMAPPED)
            report.mapped[text] = mapped
        report.by_route[mapped.route] += 1
        report.names.setdefault(mapped.route, Counter())[text] += 1
        for ingredient in mapped.ingredients:
            report.ingredients[normalise_drug_name(ingredient)] += 1
    return report
