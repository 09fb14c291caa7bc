"""The plan's studies run as analyses: each study id of the UPLIZNA plan mapped to its cohorts,
analyses and report sections.

* ``spheres-registry-study`` (disease registry, comparative safety of NMOSD treatments, targeted
  events): inebilizumab vs each comparator (rituximab, azathioprine, mycophenolate mofetil,
  eculizumab, satralizumab) — incidence of serious infections, malignancy and infusion/hypersensitivity
  reactions with rate ratios; baseline characteristics vs rituximab; pregnancy outcomes.
* ``pregnancy-registry-study``: pregnancy outcomes by exposure (any dose during pregnancy or within
  6 months before conception), prospective and retrospective enrolment apart.
* ``real-world-observational-study``: new users of inebilizumab — characteristics, drug utilisation
  (schedule, intervals, persistence, premedication), incidence of infusion reactions, serious
  infections (incl. PML) and malignancy with strata, SIRs and Kaplan–Meier curves.
* ``post-authorization-safety-study`` (long-term safety with lab data during and after treatment):
  inebilizumab since first dose — CTCAE grades and shift tables, B-cell repletion, IgG, incidence of
  neutropenia (the plan's lab criterion) and serious infections.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from riskplan.errors import NotFoundError
from riskplan.plan.model import PharmacovigilanceStudy, RiskManagementPlan
from riskplan.studies import vocabulary as v
from riskplan.studies.background import load_background_rates
from riskplan.studies.cdm import Cdm
from riskplan.studies.characteristics import baseline_characteristics
from riskplan.studies.cohorts import (
    SIX_MONTHLY_INFUSION,
    Cohort,
    NewUserCohortDefinition,
    TarKind,
    TimeAtRisk,
    build_comparative_cohorts,
    build_new_user_cohort,
)
from riskplan.studies.concepts import ConceptSet
from riskplan.studies.incidence import incidence
from riskplan.studies.labs import lab_safety
from riskplan.studies.outcomes import outcome_events, outcome_from_concern
from riskplan.studies.pregnancy import pregnancy_outcomes
from riskplan.studies.results import ResultTable
from riskplan.studies.survival import time_to_first_event
from riskplan.studies.utilisation import INEBILIZUMAB_SCHEDULE, drug_utilisation


@dataclass(frozen=True)
class StudySection:
    """One analysis of a study run: its kind, a title, what it did, and the typed result."""

    kind: str
    title: str
    description: str
    result: Any


@dataclass(frozen=True)
class StudyRun:
    plan: str
    study: PharmacovigilanceStudy
    cdm_source: str
    cdm_tables: ResultTable
    cdm_notes: tuple[str, ...]
    sections: tuple[StudySection, ...]


def drug_definition(name: str, washout_days: int = 365, since_first: bool = False) -> NewUserCohortDefinition:
    """New users of a plan substance with the time at risk that fits its dosing."""
    ingredient = v.SUBSTANCES[name]
    if name in ("inebilizumab", "rituximab"):
        tar = SIX_MONTHLY_INFUSION
    else:
        tar = TimeAtRisk(TarKind.ON_TREATMENT, grace_days=30)
    if since_first:
        tar = TimeAtRisk(TarKind.SINCE_FIRST, grace_days=tar.grace_days, dose_covers_days=tar.dose_covers_days)
    return NewUserCohortDefinition(name, ConceptSet(name, (ingredient,)), washout_days, tar)


def plan_concomitant(plan: RiskManagementPlan) -> ConceptSet:
    """The plan's concomitant immunosuppressants (missing information 3) as a concept set."""
    ids: list[int] = []
    for concern in plan.safety_concerns:
        for crit in concern.definition.patient_criteria:
            for substance in crit.substances:
                cid = v.SUBSTANCES.get(substance.casefold())
                if cid is not None and cid not in ids:
                    ids.append(cid)
    return ConceptSet("concomitant immunosuppressants", tuple(ids or (v.PREDNISONE,)))


COMORBIDITIES = {
    "hypertension": ConceptSet("hypertension", (v.HYPERTENSION,)),
    "diabetes": ConceptSet("diabetes", (v.DIABETES,)),
    "depression": ConceptSet("depression", (v.DEPRESSION,)),
    "systemic lupus erythematosus": ConceptSet("sle", (v.SLE,)),
}


def _incidence_sections(
    cdm: Cdm,
    plan: RiskManagementPlan,
    target: Cohort,
    concern_ids: Sequence[str],
    comparator: Cohort | None = None,
    survival: bool = True,
    label: str = "",
) -> list[StudySection]:
    sections: list[StudySection] = []
    background = load_background_rates()
    concomitant = plan_concomitant(plan)
    for cid in concern_ids:
        concern = plan.concern(cid)
        events = outcome_events(cdm, outcome_from_concern(concern))
        result = incidence(
            cdm,
            target,
            events,
            comparator=comparator,
            concomitant=concomitant,
            background=background,
            background_outcome=cid,
        )
        vs = f" vs {comparator.name}" if comparator is not None else ""
        sections.append(
            StudySection(
                "incidence",
                f"{concern.list_title}: {target.name}{vs}{label}",
                f"Safety concern {cid}; time at risk {result.time_at_risk}.",
                result,
            )
        )
        if survival:
            sections.append(
                StudySection(
                    "survival",
                    f"Time to first {concern.list_title.lower()}: {target.name}{vs}",
                    "Kaplan-Meier estimate of the event-free proportion.",
                    time_to_first_event(cdm, result),
                )
            )
    return sections


def _spheres(cdm: Cdm, plan: RiskManagementPlan, study: PharmacovigilanceStudy) -> list[StudySection]:
    sections: list[StudySection] = []
    concerns: list[str] = [
        c
        for c in ("serious-infections", "malignancy", "infusion-reaction")
        if c in {x.id for x in plan.safety_concerns}
    ]
    for comparator in ("rituximab", "azathioprine", "mycophenolate mofetil", "eculizumab", "satralizumab"):
        t, c = build_comparative_cohorts(cdm, drug_definition("inebilizumab"), drug_definition(comparator))
        sections.append(
            StudySection(
                "cohorts",
                f"Cohorts: inebilizumab vs {comparator}",
                "New users with 365 days washout; persons in both cohorts removed.",
                (t, c),
            )
        )
        if comparator == "rituximab":
            sections.append(
                StudySection(
                    "characteristics",
                    "Baseline characteristics: inebilizumab vs rituximab",
                    "Covariates at index with Austin 2009 standardised mean differences.",
                    baseline_characteristics(cdm, t, c, concomitant=plan_concomitant(plan), conditions=COMORBIDITIES),
                )
            )
        sections += _incidence_sections(cdm, plan, t, concerns, comparator=c, survival=comparator == "rituximab")
    sections.append(
        StudySection(
            "pregnancy",
            "Pregnancy outcomes (targeted event: pregnancy)",
            "Pregnancies exposed to inebilizumab and their outcomes.",
            pregnancy_outcomes(cdm, ConceptSet("inebilizumab", (v.INEBILIZUMAB,))),
        )
    )
    return sections


def _pregnancy(cdm: Cdm, plan: RiskManagementPlan, study: PharmacovigilanceStudy) -> list[StudySection]:
    return [
        StudySection(
            "pregnancy",
            "Pregnancy and birth outcomes",
            "Exposure: any inebilizumab dose during pregnancy or within 6 months before conception.",
            pregnancy_outcomes(cdm, ConceptSet("inebilizumab", (v.INEBILIZUMAB,))),
        )
    ]


def _real_world(cdm: Cdm, plan: RiskManagementPlan, study: PharmacovigilanceStudy) -> list[StudySection]:
    cohort = build_new_user_cohort(cdm, drug_definition("inebilizumab"))
    sections = [
        StudySection("cohorts", "Cohort: new users of inebilizumab", "New users with 365 days washout.", (cohort,)),
        StudySection(
            "characteristics",
            "Characteristics of new users of inebilizumab",
            "Demographics, comorbidities and concomitant medication at index.",
            baseline_characteristics(cdm, cohort, concomitant=plan_concomitant(plan), conditions=COMORBIDITIES),
        ),
        StudySection(
            "utilisation", "Drug utilisation of inebilizumab", INEBILIZUMAB_SCHEDULE.name, drug_utilisation(cdm, cohort)
        ),
    ]
    concerns = [c for c in study.safety_concerns] or ["infusion-reaction", "serious-infections", "pml", "malignancy"]
    return sections + _incidence_sections(cdm, plan, cohort, concerns)


def _long_term(cdm: Cdm, plan: RiskManagementPlan, study: PharmacovigilanceStudy) -> list[StudySection]:
    cohort = build_new_user_cohort(cdm, drug_definition("inebilizumab", since_first=True))
    sections = [
        StudySection(
            "cohorts",
            "Cohort: patients receiving inebilizumab (since first dose)",
            "Followed from the first dose to the end of observation, during and after treatment.",
            (cohort,),
        ),
        StudySection(
            "labs",
            "Laboratory safety during and after treatment",
            "CTCAE v5.0 grades, shift tables, B-cell repletion and IgG.",
            lab_safety(cdm, cohort),
        ),
    ]
    known = {c.id for c in plan.safety_concerns}
    return sections + _incidence_sections(
        cdm, plan, cohort, [c for c in ("neutropenia", "serious-infections") if c in known], label=" (since first dose)"
    )


STUDY_ANALYSES: dict[str, Callable[[Cdm, RiskManagementPlan, PharmacovigilanceStudy], list[StudySection]]] = {
    "spheres-registry-study": _spheres,
    "pregnancy-registry-study": _pregnancy,
    "real-world-observational-study": _real_world,
    "post-authorization-safety-study": _long_term,
}


def run_plan_study(cdm: Cdm, plan: RiskManagementPlan, study_id: str, plan_label: str | None = None) -> StudyRun:
    """Run every analysis mapped to the plan's study ``study_id`` on ``cdm``; ``plan_label`` says which
    plan version it is (:meth:`riskplan.plan.CurrentPlan.describe`), shown in the report (default: the name)."""
    study = next((s for s in plan.studies if s.id == study_id), None)
    if study is None:
        raise NotFoundError(
            f"plan {plan.name} has no study {study_id!r}; its studies: {', '.join(s.id for s in plan.studies)}"
        )
    analysis = STUDY_ANALYSES.get(study_id)
    if analysis is None:
        raise NotFoundError(f"no analyses are mapped to study {study_id!r}; mapped: {', '.join(STUDY_ANALYSES)}")
    sections = analysis(cdm, plan, study)
    return StudyRun(plan_label or plan.name, study, cdm.source, cdm.summary(), tuple(cdm.notes), tuple(sections))
