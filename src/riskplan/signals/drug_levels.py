"""The drug level signal detection counts at (``signal detect --drug-level``): name, ingredient or ATC.

GVP Module IX.B.3 leaves the grouping of medicinal products to the analysis; the same ingredient sold under
many names, or a class effect across an ATC group, is only seen when reports are counted at that level:

* ``name``: the medicinal product name as reported (E2B G.k.2.2; FAERS ``drugname``), trimmed, in the case
  of the source's other products (case store: lower case; FAERS: upper case);
* ``ingredient``: each active substance (E2B G.k.2.3.r; FAERS ``prod_ai``, combinations split at ``\\``),
  the name when none is given;
* ``atc``: each ATC code (WHO ATC/DDD Index, level 5 as WHODrug assigns it) of the WHODrug product a drug is
  coded to (``riskplan case code-drug``); drugs not coded with WHODrug are left out and counted.

Without ``--drug-level`` every source counts as it always did (case store: substances, else the name;
FAERS: ``prod_ai`` as a whole, else ``drugname``).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from riskplan.errors import UserInputError
from riskplan.terms import atc_of_products

__all__ = ["DrugLevel", "case_drugs_at_level", "faers_product_sql"]


class DrugLevel(StrEnum):
    NAME = "name"
    INGREDIENT = "ingredient"
    ATC = "atc"


def case_drugs_at_level(
    engine: Engine, rows: Sequence[Any], level: DrugLevel | None
) -> tuple[list[tuple[Any, str | None, str | None]], int]:
    """``(case_id, product, substances)`` rows for the case store's SQL (substances "; "-joined, used first),
    from ``(case_id, product, substances, product_code, product_code_version)`` rows; and how many drugs were
    left out (``atc``: not coded with a loaded WHODrug release)."""
    if level is None or level is DrugLevel.INGREDIENT:
        return [(r[0], r[1], r[2]) for r in rows], 0
    if level is DrugLevel.NAME:
        return [(r[0], (r[1] or "").strip() or None, None if r[1] else r[2]) for r in rows], 0
    with Session(engine) as session:
        atc = atc_of_products(session, [(r[4], r[3]) for r in rows])
    out: list[tuple[Any, str | None, str | None]] = []
    left_out = 0
    for case_id, _product, _substances, code, version in rows:
        codes = atc.get((version or "", code or ""))
        if codes:
            out.append((case_id, None, "; ".join(codes)))
        else:
            left_out += 1
    return out, left_out


def faers_product_sql(level: DrugLevel | None, alias: str = "g") -> str:
    """The SQL expression(s) for ``product`` over FAERS ``drug.parquet`` rows at ``level``."""
    if level is None:
        return f"{alias}.product"
    if level is DrugLevel.NAME:
        # as the importer normalises names: trimmed, blanks collapsed, trailing . , ; : ! ? dropped
        return f"nullif(upper(regexp_replace(rtrim(trim({alias}.drugname), '.,;:!? '), '\\s+', ' ', 'g')), '')"
    if level is DrugLevel.INGREDIENT:
        # FAERS joins the ingredients of a combination product with a backslash
        return (
            f"upper(trim(unnest(coalesce(string_split(nullif(trim({alias}.prod_ai), ''), '\\'), [{alias}.product]))))"
        )
    raise UserInputError(
        "FAERS drugs carry no ATC code: count at ATC level in riskplan's case store (--cases) after coding the "
        "drugs with WHODrug (`riskplan case code-drug`)"
    )
