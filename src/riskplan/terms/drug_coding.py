"""Suggesting WHODrug products for a reporter's verbatim drug name (the processor confirms one).

As with MedDRA (:mod:`riskplan.terms.coding`), riskplan never codes a drug name on a guess: it ranks the
names of the loaded WHODrug release by :func:`rapidfuzz.fuzz.token_sort_ratio` on case-folded names and a
processor chooses (``riskplan case code-drug``). Both sides are compared after
:func:`riskplan.terms.drug_names.normalise_drug_name` (strengths, dosage forms and salts stripped), so
"Celecoxa 200mg caps" finds "Celecoxa" with score 100; ties are ordered by name, then identifier.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process
from sqlalchemy.orm import Session

from riskplan.terms.drug_names import normalise_drug_name
from riskplan.terms.text import fold_term
from riskplan.terms.whodrug import current_whodrug, get_whodrug_drug, whodrug_names

__all__ = ["DrugSuggestion", "suggest_drugs"]

SUGGESTION_CUTOFF = 60.0


@dataclass(frozen=True)
class DrugSuggestion:
    product_id: str
    drug_name: str
    ingredients: tuple[str, ...]
    score: float


def suggest_drugs(
    session: Session, verbatim: str, *, limit: int = 5, release: str | None = None
) -> list[DrugSuggestion]:
    """The ``limit`` WHODrug names closest to ``verbatim`` (score 0-100, at least 60), best first."""
    rel = release or (r.version if (r := current_whodrug(session)) is not None else None)
    wanted = normalise_drug_name(verbatim) or fold_term(verbatim)
    if rel is None or not wanted:
        return []
    names = whodrug_names(session, rel)
    choices = {index: normalised for index, (_, _, normalised) in enumerate(names)}
    found = process.extract(wanted, choices, scorer=fuzz.token_sort_ratio, limit=limit, score_cutoff=SUGGESTION_CUTOFF)
    out: list[DrugSuggestion] = []
    for _, score, index in sorted(found, key=lambda f: (-f[1], names[f[2]][1], names[f[2]][0])):
        product_id, drug_name, _ = names[index]
        drug = get_whodrug_drug(session, product_id, rel)
        out.append(DrugSuggestion(product_id, drug_name, drug.ingredients if drug else (), float(score)))
    return out
