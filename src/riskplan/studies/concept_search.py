"""Finding OMOP concept ids by name: what ``riskplan study concepts`` shows before ``study incidence``.

The analyses take numeric concept ids (``--target 1118084``); an epidemiologist knows the drug or the
condition by name. The search runs over the CDM's own vocabulary tables (``concept`` and, when present,
``concept_synonym``), case-insensitively, so that it finds exactly the ids this CDM can use. For an
ingredient it also says how many drug concepts lie below it in ``concept_ancestor`` (the ids a concept
set with descendants covers, OHDSI convention) and how many persons ``drug_exposure`` records as exposed
to any of them: the figure that tells whether a study on this CDM is worth running.
"""

from __future__ import annotations

from dataclasses import dataclass

from riskplan.errors import UserInputError
from riskplan.studies.cdm import Cdm
from riskplan.studies.results import ResultTable

DEFAULT_LIMIT = 20

_SEARCH_SQL = """
WITH matched AS (
    SELECT concept_id, CAST(NULL AS VARCHAR) AS synonym
    FROM concept WHERE strpos(lower(concept_name), lower($text)) > 0
    UNION ALL
    SELECT concept_id, concept_synonym_name
    FROM concept_synonym WHERE strpos(lower(concept_synonym_name), lower($text)) > 0
), best AS (
    SELECT concept_id, bool_or(synonym IS NULL) AS by_name, min(synonym) AS synonym
    FROM matched GROUP BY concept_id
), hits AS (
    SELECT c.concept_id, c.concept_name, c.domain_id AS domain, c.vocabulary_id AS vocabulary,
           c.concept_class_id AS concept_class, coalesce(c.standard_concept = 'S', false) AS standard,
           CASE WHEN best.by_name THEN NULL ELSE best.synonym END AS matched_synonym
    FROM best JOIN concept c ON c.concept_id = best.concept_id
    WHERE $domain IS NULL OR lower(c.domain_id) = lower($domain)
    ORDER BY lower(c.concept_name) = lower($text) DESC, standard DESC, c.concept_class_id = 'Ingredient' DESC,
             best.by_name DESC, length(c.concept_name), c.concept_id
    LIMIT $limit
), ingredients AS (
    SELECT concept_id FROM hits WHERE domain = 'Drug' AND concept_class = 'Ingredient'
), below AS (
    SELECT i.concept_id AS ingredient_id, a.descendant_concept_id AS drug_concept_id
    FROM ingredients i JOIN concept_ancestor a ON a.ancestor_concept_id = i.concept_id
    WHERE a.descendant_concept_id <> i.concept_id
), covered AS (
    SELECT concept_id AS ingredient_id, concept_id AS drug_concept_id FROM ingredients
    UNION SELECT ingredient_id, drug_concept_id FROM below
), exposed AS (
    SELECT cv.ingredient_id, count(DISTINCT d.person_id) AS persons
    FROM covered cv JOIN drug_exposure d ON d.drug_concept_id = cv.drug_concept_id
    GROUP BY cv.ingredient_id
)
SELECT h.concept_id, h.concept_name, h.domain, h.vocabulary, h.concept_class, h.standard,
       CASE WHEN h.concept_id IN (SELECT concept_id FROM ingredients) AND $ancestry
            THEN (SELECT count(DISTINCT b.drug_concept_id) FROM below b WHERE b.ingredient_id = h.concept_id)
       END AS descendant_drug_concepts,
       CASE WHEN h.concept_id IN (SELECT concept_id FROM ingredients) AND $exposures
            THEN coalesce((SELECT e.persons FROM exposed e WHERE e.ingredient_id = h.concept_id), 0)
       END AS persons_exposed,
       h.matched_synonym
FROM hits h
ORDER BY lower(h.concept_name) = lower($text) DESC, h.standard DESC, h.concept_class = 'Ingredient' DESC,
         h.matched_synonym IS NULL DESC, length(h.concept_name), h.concept_id
"""


@dataclass(frozen=True)
class ConceptSearch:
    """The concepts of one CDM whose name (or a synonym) contains the text searched for."""

    text: str
    domain: str | None
    concepts: ResultTable
    notes: tuple[str, ...] = ()


def search_concepts(cdm: Cdm, text: str, *, domain: str | None = None, limit: int = DEFAULT_LIMIT) -> ConceptSearch:
    """Concepts whose name or synonym contains ``text`` (case-insensitive), best first: the exact name, then
    standard concepts, then ingredients, then shorter names. ``domain`` keeps one OMOP domain (Drug,
    Condition, Measurement, ...). Columns: ``concept_id``, ``concept_name``, ``domain``, ``vocabulary``,
    ``concept_class``, ``standard``, ``descendant_drug_concepts`` and ``persons_exposed`` (ingredients only;
    NULL otherwise) and ``matched_synonym`` (when the synonym, not the name, matched)."""
    text = text.strip()
    if not text:
        raise UserInputError("give a name to search for, e.g. riskplan study concepts celecoxib --cdm DIR")
    if limit < 1:
        raise UserInputError(f"--limit must be at least 1, not {limit}")
    if cdm.count("concept") == 0:
        raise UserInputError(
            f"{cdm.source}: the CDM has no vocabulary (its concept table is absent or empty), so there is "
            "nothing to search; load the OMOP vocabulary tables (concept, concept_ancestor) with the CDM"
        )
    domains = [str(r[0]) for r in cdm.rows("SELECT DISTINCT domain_id FROM concept ORDER BY 1")]
    chosen = None
    if domain is not None:
        chosen = next((d for d in domains if d.casefold() == domain.strip().casefold()), None)
        if chosen is None:
            raise UserInputError(f"--domain {domain!r}: this CDM's vocabulary has the domains {', '.join(domains)}")
    ancestry = cdm.has_concept_ancestor
    exposures = cdm.count("drug_exposure") > 0
    notes = []
    if not ancestry:
        notes.append("concept_ancestor is absent or empty: descendant drug concepts cannot be counted")
    if not exposures:
        notes.append("drug_exposure is empty: persons exposed cannot be counted")
    params = {"text": text, "domain": chosen, "limit": limit, "ancestry": ancestry, "exposures": exposures}
    columns, rows = cdm.engine.query(_SEARCH_SQL, params)
    table = ResultTable("concepts", columns, tuple(rows), _SEARCH_SQL.strip())
    return ConceptSearch(text, chosen, table, tuple(notes))
