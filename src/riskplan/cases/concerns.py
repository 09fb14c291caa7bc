"""Which of the plan's safety concerns a case counts toward, and why (GVP Module V.B.8; VII.B.5.16).

Each concern's :class:`~riskplan.plan.model.ConcernDefinition` is applied to the case's facts: reaction
terms (MedDRA PTs, or SOCs restricted to serious reactions where the definition says so), lab criteria
and patient characteristics — including the missing-information concerns (age over 65, exposure in
pregnancy or lactation, concomitant immunosuppressants). Every match carries its reason so a safety
physician can check it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from riskplan.cases.facts import CaseFacts, LabFacts
from riskplan.plan import (
    ConcernDefinition,
    LabCriterion,
    PatientCharacteristic,
    PatientCriterion,
    RiskManagementPlan,
)
from riskplan.terms import ConcernTerms


@dataclass(frozen=True)
class ConcernMatch:
    concern_id: str
    reasons: tuple[str, ...]


def match_concerns(
    facts: CaseFacts, plan: RiskManagementPlan, terms: Mapping[str, ConcernTerms] | None = None
) -> list[ConcernMatch]:
    """The plan's concerns the case counts toward, in the plan's order, each with its reasons.

    ``terms`` (concern id to its expansion in the MedDRA release in use,
    :func:`riskplan.terms.expand_plan_terms`) adds the HLTs, HLGTs and SMQs a definition names.
    """
    matches = []
    for concern in plan.safety_concerns:
        reasons = definition_reasons(facts, concern.definition, (terms or {}).get(concern.id))
        if reasons:
            matches.append(ConcernMatch(concern.id, tuple(reasons)))
    return matches


def definition_reasons(facts: CaseFacts, definition: ConcernDefinition, terms: ConcernTerms | None = None) -> list[str]:
    """Why the case meets ``definition`` (empty when it does not)."""
    groups: list[list[str]] = []
    if definition.has_terms:
        groups.append(_term_reasons(facts, definition, terms))
    if definition.lab_criteria:
        groups.append([r for c in definition.lab_criteria for r in _lab_reasons(facts.labs, c)])
    if definition.patient_criteria:
        groups.append([r for c in definition.patient_criteria for r in _patient_reasons(facts, c)])
    if not groups:
        return []
    if definition.combine == "all" and not all(groups):
        return []
    return [reason for group in groups for reason in group]


def _code(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() else None


def _term_reasons(facts: CaseFacts, definition: ConcernDefinition, terms: ConcernTerms | None) -> list[str]:
    pts = {p.casefold() for p in definition.meddra_pts}
    socs = {s.casefold() for s in definition.meddra_socs}
    reasons = []
    for r in facts.reactions:
        expanded = terms.reaction_reason(_code(r.pt_code), _code(r.llt_code)) if terms is not None else None
        if r.pt_name and r.pt_name.casefold() in pts:
            reasons.append(f"reaction PT {r.pt_name}")
        elif expanded is not None and terms is not None:
            reasons.append(f"reaction PT {r.pt_name or r.verbatim} in {expanded} (MedDRA {terms.release})")
        elif r.soc_name and r.soc_name.casefold() in socs and (r.serious or not definition.serious_only):
            qualifier = "serious reaction" if definition.serious_only else "reaction"
            reasons.append(f"{qualifier} {r.pt_name or r.verbatim} in SOC {r.soc_name}")
    if terms is not None and terms.algorithmic:
        reasons += terms.case_reasons([(_code(r.pt_code), _code(r.llt_code)) for r in facts.reactions])
    return reasons


# Cell counts: the plan states thresholds in 10^9/L; reporters use these too.
_PER_LITRE_E9 = {"10^9/l", "10*9/l", "x10^9/l", "x10e9/l", "10e9/l", "g/l", "giga/l", "10^3/ul", "10*3/ul", "k/ul"}
_PER_MICROLITRE = {"/ul", "cells/ul", "/mm3", "cells/mm3", "/µl", "cells/µl", "/mm^3"}


def _normalise_unit(unit: str) -> str:
    return re.sub(r"\s+", "", unit.casefold().replace("×", "x"))


def convert_count(value: float, unit: str, target_unit: str) -> float | None:
    """A cell count in ``target_unit`` (10^9/L or /µL families); None when the units are not comparable."""
    source, target = _normalise_unit(unit), _normalise_unit(target_unit)
    if source == target or (source in _PER_LITRE_E9 and target in _PER_LITRE_E9):
        return value
    if source in _PER_MICROLITRE and target in _PER_LITRE_E9:
        return value / 1000.0
    if source in _PER_LITRE_E9 and target in _PER_MICROLITRE:
        return value * 1000.0
    if source in _PER_MICROLITRE and target in _PER_MICROLITRE:
        return value
    return None


_ANALYTE_SYNONYMS = {
    "neutrophil count": ("neutrophil count", "absolute neutrophil count", "anc", "neutrophils"),
    "lymphocyte count": ("lymphocyte count", "absolute lymphocyte count", "alc", "lymphocytes"),
}


def _same_analyte(test: str, analyte: str) -> bool:
    wanted = analyte.casefold()
    names = _ANALYTE_SYNONYMS.get(wanted, (wanted,))
    return test.casefold().strip() in names


def _lab_reasons(labs: tuple[LabFacts, ...], criterion: LabCriterion) -> list[str]:
    reasons = []
    for lab in labs:
        if lab.value is None or lab.unit is None or not _same_analyte(lab.test, criterion.analyte):
            continue
        value = convert_count(lab.value, lab.unit, criterion.unit)
        if value is not None and criterion.is_met(value):
            reasons.append(
                f"{lab.test} {lab.value:g} {lab.unit} {criterion.comparator.value} {criterion.value:g} "
                f"{criterion.unit} ({criterion.source})"
            )
    return reasons


def _patient_reasons(facts: CaseFacts, criterion: PatientCriterion) -> list[str]:
    match criterion.characteristic:
        case PatientCharacteristic.AGE_OVER:
            limit = criterion.age_years
            assert limit is not None  # the model requires it
            if facts.age_years is not None:
                return [f"age {facts.age_years:g} years > {limit:g}"] if facts.age_years > limit else []
            if facts.age_group == "elderly" and limit <= 65:
                return ["age group elderly (E2B D.2.3), age not given"]
            return []
        case PatientCharacteristic.EXPOSURE_IN_PREGNANCY:
            return ["exposure during pregnancy"] if facts.pregnant else []
        case PatientCharacteristic.EXPOSURE_DURING_LACTATION:
            return ["exposure during breast-feeding"] if facts.lactation_exposure else []
        case PatientCharacteristic.FOETAL_OR_NEONATAL_EXPOSURE:
            return ["parent-child report: foetal or neonatal exposure"] if facts.parent_child else []
        case PatientCharacteristic.CONCOMITANT_MEDICATION:
            wanted = [s.casefold() for s in criterion.substances]
            reasons = []
            for drug in facts.drugs:
                if drug.characterisation not in ("concomitant", "interacting"):
                    continue
                hit = next((w for w in wanted for name in drug.names if w in name), None)
                if hit:
                    reasons.append(f"concomitant {drug.product or hit} ({hit})")
            return reasons
    raise AssertionError(criterion.characteristic)  # pragma: no cover
