"""Suggesting WHODrug products for a reporter's verbatim drug name (the processor confirms one).

As with MedDRA (:mod:`riskplan.terms.coding`), riskplan never codes a drug name on a guess: it ranks the
names of the loaded WHODrug release by :func:`rapidfuzz.fuzz.token_sort_ratio` on case-folded names and a
processor chooses (``riskplan case code-drug``). Both sides are compared after
:func:`riskplan.terms.drug_names.normalise_drug_name` (strengths, dosage forms and salts stripped), so
"Celecoxa 200mg caps" finds "Celecoxa" with score 100; ties are ordered by name, then identifier.

A release never changes once loaded, so its names are read and prepared once per process
(:func:`_name_index`, kept by database, release version and load: time stamp and file checksums); every
later suggestion is one rapidfuzz pass over names already in memory. The names' tokens are sorted once
there, so the pass compares with :func:`rapidfuzz.fuzz.ratio`, which on token-sorted strings is
``token_sort_ratio`` itself (the same scores), without sorting 300,000 names' tokens again per call.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from sqlalchemy.orm import Session

from riskplan.terms.drug_names import normalise_drug_name
from riskplan.terms.text import fold_term
from riskplan.terms.whodrug import current_whodrug, get_whodrug_drug, whodrug_names
from riskplan.terms.whodrug_tables import WhodrugRelease

__all__ = ["DrugSuggestion", "suggest_drugs"]

SUGGESTION_CUTOFF = 60.0


@dataclass(frozen=True)
class DrugSuggestion:
    product_id: str
    drug_name: str
    ingredients: tuple[str, ...]
    score: float


@dataclass(frozen=True)
class _NameIndex:
    names: list[tuple[str, str, str]]  # (product id, drug name, normalised name), in product id order
    sorted_tokens: list[str]  # each normalised name with its tokens sorted, as token_sort_ratio compares


_CACHED_RELEASES = 4  # a process rarely uses more: the current release and the one before
_indexes: dict[tuple[str, str, str, str], _NameIndex] = {}
_indexes_lock = threading.Lock()


def _sorted_tokens(text: str) -> str:
    return " ".join(sorted(text.split()))


def _name_index(session: Session, release: WhodrugRelease) -> _NameIndex:
    """The names of ``release``, read once per process and load (see the module docstring)."""
    database = session.get_bind().engine.url.render_as_string(hide_password=True)
    loaded = hashlib.sha256(f"{release.loaded_at.isoformat()} {release.checksums_json}".encode()).hexdigest()
    key = (database, release.version, loaded, release.source_dir)
    with _indexes_lock:
        found = _indexes.get(key)
    if found is not None:
        return found
    names = whodrug_names(session, release.version)
    index = _NameIndex(names, [_sorted_tokens(normalised) for _, _, normalised in names])
    with _indexes_lock:
        while len(_indexes) >= _CACHED_RELEASES:
            _indexes.pop(next(iter(_indexes)))
        _indexes[key] = index
    return index


def suggest_drugs(
    session: Session, verbatim: str, *, limit: int = 5, release: str | None = None
) -> list[DrugSuggestion]:
    """The ``limit`` WHODrug names closest to ``verbatim`` (score 0-100, at least 60), best first."""
    loaded = session.get(WhodrugRelease, release) if release else current_whodrug(session)
    wanted = normalise_drug_name(verbatim) or fold_term(verbatim)
    if loaded is None or not wanted:
        return []
    rel = loaded.version
    name_index = _name_index(session, loaded)
    names = name_index.names
    found = process.extract(
        _sorted_tokens(wanted), name_index.sorted_tokens, scorer=fuzz.ratio, limit=limit, score_cutoff=SUGGESTION_CUTOFF
    )
    out: list[DrugSuggestion] = []
    for _, score, index in sorted(found, key=lambda f: (-f[1], names[f[2]][1], names[f[2]][0])):
        product_id, drug_name, _ = names[index]
        drug = get_whodrug_drug(session, product_id, rel)
        out.append(DrugSuggestion(product_id, drug_name, drug.ingredients if drug else (), float(score)))
    return out
