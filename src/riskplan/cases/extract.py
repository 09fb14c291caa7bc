"""From an E2B(R3)-shaped :class:`~riskplan.cases.model.Icsr` to the :class:`CaseFacts` the rules read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from riskplan.cases.codes import AgeGroup, DrugRole, Qualification, Sex
from riskplan.cases.facts import CaseFacts, DrugFacts, LabFacts, ReactionFacts
from riskplan.cases.model import Hl7Timestamp, Icsr, Quantity
from riskplan.terms import CodingResult

# UCUM units of age (E2B(R3) D.2.2b) in years.
_AGE_UNIT_YEARS = {
    "a": 1.0,
    "10.a": 10.0,
    "mo": 1 / 12,
    "wk": 7 / 365.25,
    "d": 1 / 365.25,
    "h": 1 / (24 * 365.25),
}
_PREGNANCY_PTS = {"exposure during pregnancy", "maternal exposure during pregnancy", "foetal exposure during pregnancy"}
_LACTATION_PTS = {"exposure via breast milk", "maternal exposure during breast feeding"}
_ROLE_NAMES = {
    DrugRole.SUSPECT: "suspect",
    DrugRole.CONCOMITANT: "concomitant",
    DrugRole.INTERACTING: "interacting",
    DrugRole.DRUG_NOT_ADMINISTERED: "not administered",
}


def age_in_years(age: Quantity | None) -> float | None:
    if age is None:
        return None
    factor = _AGE_UNIT_YEARS.get(age.unit)
    return None if factor is None else round(float(Decimal(age.value)) * factor, 2)


def _date(ts: Hl7Timestamp | None) -> dt.date | None:
    return None if ts is None else ts.earliest_date()


def facts_from_icsr(icsr: Icsr, coding: Sequence[CodingResult | None] | None = None) -> CaseFacts:
    """The facts of ``icsr``; ``coding`` gives each reaction's coding result (for its SOC), in order."""
    patient = icsr.patient
    reactions = []
    for i, r in enumerate(icsr.reactions):
        result = coding[i] if coding is not None and i < len(coding) else None
        reactions.append(
            ReactionFacts(
                verbatim=r.verbatim_term_english or r.verbatim_term or (r.meddra.code if r.meddra else ""),
                pt_name=r.pt_name,
                pt_code=r.pt_code,
                llt_code=r.meddra.code if r.meddra else None,
                soc_name=result.soc_name if result is not None else None,
                serious=r.is_serious,
                seriousness_criteria=tuple(c.value for c in r.seriousness_criteria),
                onset=_date(r.start_date),
            )
        )
    drugs = []
    for d in icsr.drugs:
        starts = [s for s in (_date(x.start_date) for x in d.dosages) if s is not None]
        drugs.append(
            DrugFacts(
                characterisation=_ROLE_NAMES.get(d.role, "unknown") if d.role is not None else "unknown",
                product=d.name,
                substances=tuple(s.name for s in d.substances if s.name),
                start=min(starts) if starts else None,
                product_code=d.product_id.code if d.product_id is not None else None,
                product_code_version=d.product_id.version if d.product_id is not None else None,
            )
        )
    labs = []
    for t in icsr.tests:
        if t.name is None or t.result is None:
            continue
        labs.append(LabFacts(t.name, float(Decimal(t.result.value)), t.result.unit, _date(t.date)))
    pts = {r.pt_name.casefold() for r in icsr.reactions if r.pt_name}
    source = icsr.primary_source
    age_group = patient.age_group.name.casefold() if isinstance(patient.age_group, AgeGroup) else None
    return CaseFacts(
        case_key=icsr.case_key,
        reactions=tuple(reactions),
        drugs=tuple(drugs),
        labs=tuple(labs),
        patient_initials=patient.name,
        age_years=age_in_years(patient.age),
        age_group=age_group,
        sex={Sex.MALE: "male", Sex.FEMALE: "female"}.get(patient.sex) if patient.sex else None,
        birth_date=_date(patient.birth_date),
        pregnant=bool(pts & _PREGNANCY_PTS)
        or (patient.last_menstrual_period is not None and not icsr.is_parent_child_report),
        lactation_exposure=bool(pts & _LACTATION_PTS),
        parent_child=icsr.is_parent_child_report or patient.parent is not None,
        reporter_qualification=_qualification(source.qualification) if source else None,
        reporter_country=source.country if source else None,
        first_received=_date(icsr.first_received),
        latest_received=_date(icsr.most_recent_info),
    )


def _qualification(q: Qualification | None) -> str | None:
    return None if q is None else q.name.casefold().replace("_", " ")
