"""Outcome definitions: concept sets (with descendants) or the plan's safety-concern definitions.

An outcome occurs on a date when a person has

* a ``condition_occurrence`` (start date) or an ``observation`` (date) whose concept is in the
  outcome's concept set (descendants included where ``concept_ancestor`` is present), or
* a ``measurement`` of a lab analyte meeting a lab criterion of the plan, e.g. neutrophil count
  < 1.5 x10^9/L (CTCAE v5.0 grade 2 or worse).

:func:`outcome_from_concern` turns a plan concern's ``definition`` (MedDRA PTs/SOCs, lab criteria)
into an :class:`OutcomeDefinition` through :mod:`riskplan.studies.vocabulary`; PTs with no mapped
concept are listed in ``unmapped``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from riskplan.errors import UserInputError
from riskplan.plan import LabComparator, SafetyConcern
from riskplan.studies import vocabulary as v
from riskplan.studies.cdm import Cdm
from riskplan.studies.concepts import ConceptSet, ExpandedConceptSet, expand_concept_set
from riskplan.studies.labs_units import unit_conversion


@dataclass(frozen=True)
class LabThreshold:
    """A lab criterion: analyte concept set, comparator and value in ``unit``."""

    analyte: str
    concepts: ConceptSet
    comparator: LabComparator
    value: float
    unit: str
    source: str = ""


@dataclass(frozen=True)
class OutcomeDefinition:
    """What counts as an occurrence of the outcome, and whether prevalent cases are excluded."""

    name: str
    concepts: ConceptSet | None = None
    labs: tuple[LabThreshold, ...] = ()
    exclude_prior: bool = True
    unmapped: tuple[str, ...] = field(default=(), compare=False)
    source: str = ""


@dataclass(frozen=True)
class OutcomeEvents:
    """The outcome's events in a CDM: a table ``(person_id, event_date)`` and how it was built."""

    definition: OutcomeDefinition
    table: str
    concept_sets: tuple[ExpandedConceptSet, ...]
    sql: str
    notes: tuple[str, ...]


def outcome_from_concept_ids(name: str, ids: tuple[int, ...], exclude_prior: bool = True) -> OutcomeDefinition:
    return OutcomeDefinition(name=name, concepts=ConceptSet(name, ids), exclude_prior=exclude_prior)


def outcome_from_concern(concern: SafetyConcern) -> OutcomeDefinition:
    """The plan concern's definition as an outcome: PTs and SOCs to concepts, lab criteria as thresholds."""
    d = concern.definition
    ids: list[int] = []
    unmapped: list[str] = []
    for pt in d.meddra_pts:
        cid = v.PT_CONCEPTS.get(pt.casefold())
        if cid is None:
            unmapped.append(f"PT {pt}")
        elif cid not in ids:
            ids.append(cid)
    for soc in d.meddra_socs:
        cid = v.SOC_CONCEPTS.get(soc.casefold())
        if cid is None:
            unmapped.append(f"SOC {soc}")
        elif cid not in ids:
            ids.append(cid)
    labs: list[LabThreshold] = []
    for crit in d.lab_criteria:
        analyte = v.LAB_ANALYTES.get(crit.analyte.casefold())
        if analyte is None:
            unmapped.append(f"lab {crit.analyte}")
            continue
        labs.append(
            LabThreshold(
                analyte=analyte.name,
                concepts=ConceptSet(analyte.name, (analyte.concept_id,)),
                comparator=crit.comparator,
                value=crit.value,
                unit=crit.unit,
                source=crit.source,
            )
        )
    return OutcomeDefinition(
        name=concern.list_title,
        concepts=ConceptSet(concern.id, tuple(ids)) if ids else None,
        labs=tuple(labs),
        unmapped=tuple(unmapped),
        source=d.source or "",
    )


def outcome_events(cdm: Cdm, outcome: OutcomeDefinition) -> OutcomeEvents:
    """Materialise the outcome's events ``(person_id, event_date)`` (one row per person and date)."""
    parts: list[str] = []
    expanded: list[ExpandedConceptSet] = []
    notes: list[str] = []
    if outcome.concepts is not None:
        cs = expand_concept_set(cdm, outcome.concepts)
        expanded.append(cs)
        if cs.note:
            notes.append(cs.note)
        parts.append(
            f"SELECT person_id, condition_start_date AS event_date FROM condition_occurrence "
            f"WHERE condition_concept_id IN (SELECT concept_id FROM {cs.table})"
        )
        parts.append(
            f"SELECT person_id, observation_date AS event_date FROM observation "
            f"WHERE observation_concept_id IN (SELECT concept_id FROM {cs.table})"
        )
    for lab in outcome.labs:
        cs = expand_concept_set(cdm, lab.concepts)
        expanded.append(cs)
        try:
            conversion = unit_conversion(cdm, cs.table, lab.analyte, lab.unit)
        except ValueError as exc:
            raise UserInputError(f"lab criterion {lab.analyte}: {exc}") from None
        notes.extend(conversion.notes())  # values whose unit does not convert are left out, and counted
        value = f"(value_as_number * {conversion.factor_sql('unit_source_value')})"
        parts.append(
            f"SELECT person_id, measurement_date AS event_date FROM measurement "
            f"WHERE measurement_concept_id IN (SELECT concept_id FROM {cs.table}) "
            f"AND value_as_number IS NOT NULL AND {value} {lab.comparator.value} {float(lab.value)!r}"
        )
        notes.append(f"lab criterion: {lab.analyte} {lab.comparator.value} {lab.value:g} {lab.unit} ({lab.source})")
    if outcome.unmapped:
        notes.append(f"{outcome.name}: not mapped to concepts: {', '.join(outcome.unmapped)}")
    table = cdm.temp_name("outcome_" + outcome.name)
    body = (
        "\nUNION\n".join(parts)
        if parts
        else "SELECT CAST(NULL AS BIGINT) AS person_id, CAST(NULL AS DATE) AS event_date WHERE false"
    )
    sql = (
        f"CREATE TABLE {table} AS SELECT DISTINCT person_id, event_date FROM (\n{body}\n) WHERE event_date IS NOT NULL"
    )
    cdm.execute(sql)
    return OutcomeEvents(outcome, table, tuple(expanded), sql, tuple(notes))
