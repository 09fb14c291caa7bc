"""Concept sets: lists of OMOP concept ids, expanded to their descendants through ``concept_ancestor``.

This follows the OHDSI concept-set convention (ATLAS / Capr): a set names concepts and whether their
descendants count. When the CDM has no ``concept_ancestor`` the set is used as given and the result
says so (``descendants_included`` is False).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from riskplan.errors import UserInputError
from riskplan.studies.cdm import Cdm

_ID = re.compile(r"^\d{1,12}$")


@dataclass(frozen=True)
class ConceptSet:
    """Concept ids (e.g. an RxNorm ingredient, a SNOMED condition) and whether descendants count."""

    name: str
    concept_ids: tuple[int, ...]
    include_descendants: bool = True

    def __post_init__(self) -> None:
        if not self.concept_ids:
            raise UserInputError(f"concept set {self.name!r} has no concept ids")


@dataclass(frozen=True)
class ExpandedConceptSet:
    """A concept set as found in one CDM: the ids used after descendant expansion."""

    name: str
    requested: tuple[int, ...]
    concept_ids: tuple[int, ...]
    descendants_included: bool
    table: str
    unknown: tuple[int, ...]
    note: str | None = None


def parse_concept_ids(text: str, what: str = "--target") -> tuple[int, ...]:
    """``"1118084, 1124300"`` -> ``(1118084, 1124300)``; anything else is a clear user error."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise UserInputError(f"{what}: give one or more concept ids separated by commas, e.g. 1118084")
    bad = [p for p in parts if not _ID.match(p)]
    if bad:
        raise UserInputError(
            f"{what}: {', '.join(repr(b) for b in bad)} is not a concept id "
            "(concept ids are whole numbers, separated by commas, e.g. 1118084,1124300)"
        )
    return tuple(dict.fromkeys(int(p) for p in parts))


def expand_concept_set(cdm: Cdm, concept_set: ConceptSet) -> ExpandedConceptSet:
    """Expand to descendants (``concept_ancestor``) and store the ids in a table for joins."""
    cache: dict[tuple[tuple[int, ...], bool], ExpandedConceptSet] = cdm.__dict__.setdefault("_concept_cache", {})
    key = (tuple(sorted(concept_set.concept_ids)), concept_set.include_descendants)
    if key in cache:
        cached = cache[key]
        return ExpandedConceptSet(
            concept_set.name,
            concept_set.concept_ids,
            cached.concept_ids,
            cached.descendants_included,
            cached.table,
            cached.unknown,
            cached.note,
        )
    ids = list(concept_set.concept_ids)
    values = ", ".join(f"({i})" for i in ids)
    table = cdm.temp_name("concept_set")
    descend = concept_set.include_descendants and cdm.has_concept_ancestor
    if descend:
        cdm.execute(
            f"CREATE TABLE {table} AS SELECT DISTINCT concept_id FROM ("
            f" SELECT column0 AS concept_id FROM (VALUES {values}) AS v(column0)"
            f" UNION SELECT descendant_concept_id FROM concept_ancestor"
            f" WHERE ancestor_concept_id IN ({', '.join(map(str, ids))}))"
        )
    else:
        cdm.execute(
            f"CREATE TABLE {table} AS SELECT DISTINCT column0 AS concept_id FROM (VALUES {values}) AS v(column0)"
        )
    # One query: the expanded ids, and which of them the concept table knows (the given ids are among them).
    found = cdm.rows(
        f"SELECT s.concept_id, EXISTS (SELECT 1 FROM concept c WHERE c.concept_id = s.concept_id) AS known "
        f"FROM {table} s ORDER BY 1"
    )
    expanded = tuple(int(r[0]) for r in found)
    unknown: tuple[int, ...] = ()
    if cdm.count("concept") > 0:
        known = {int(r[0]) for r in found if r[1]}
        unknown = tuple(i for i in ids if i not in known)
    note = None
    if concept_set.include_descendants and not cdm.has_concept_ancestor:
        note = f"{concept_set.name}: no concept_ancestor in this CDM, so descendants were not included"
    result = ExpandedConceptSet(concept_set.name, concept_set.concept_ids, expanded, descend, table, unknown, note)
    cache[key] = result
    return result
