"""The plan's studies run as analyses on an OMOP CDM: each study the plan's ``analysis`` block gives a
design (:class:`~riskplan.plan.model.StudyAnalysis`) mapped to its cohorts, analyses and report sections. The
product, its comparators, their concepts and dosing, and the outcomes are the plan's data; the design
says which analyses run:

* ``comparative registry`` (a disease registry, targeted events): new users of the product vs each
  comparator — incidence of the study's outcomes with rate ratios; baseline characteristics and
  Kaplan–Meier curves against ``characteristics_vs``; pregnancy outcomes.
* ``pregnancy registry``: pregnancy outcomes by exposure (any dose during pregnancy or within 6 months
  before conception), prospective and retrospective enrolment apart.
* ``new-user cohort``: new users of the product — characteristics, drug utilisation (the schedule of the
  plan's dosing check, intervals, persistence, premedication), incidence of the outcomes with strata,
  SIRs and Kaplan–Meier curves.
* ``long-term safety`` (lab data during and after treatment): the product since the first dose — CTCAE
  grades and shift tables, B-cell repletion, IgG, incidence of the outcomes.

For UPLIZNA (the bundled plan), e.g. the SPHERES registry study compares inebilizumab with rituximab,
azathioprine, mycophenolate mofetil, eculizumab and satralizumab.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from riskplan.errors import NotFoundError, UserInputError
from riskplan.plan import PharmacovigilanceStudy, RiskManagementPlan, StudyAnalysis, StudyDesign, StudyDrug
from riskplan.studies import vocabulary as v
from riskplan.studies.background import load_background_rates
from riskplan.studies.cdm import Cdm
from riskplan.studies.characteristics import baseline_characteristics
from riskplan.studies.cohorts import (
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
from riskplan.studies.utilisation import drug_utilisation, schedule_from_plan


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


def product_drug(plan: RiskManagementPlan) -> StudyDrug:
    """The plan's product as its studies find it: ``analysis.product``, else the active substance by name."""
    given = plan.analysis.product if plan.analysis is not None else None
    return given or StudyDrug(substance=plan.product.active_substance)


def drug_concepts(drug: StudyDrug) -> tuple[int, ...] | None:
    """The drug's ingredient concepts: given in the plan, else riskplan's vocabulary concept of its name."""
    if drug.concept_ids:
        return tuple(drug.concept_ids)
    found = v.SUBSTANCES.get(drug.substance.casefold())
    return None if found is None else (found,)


def drug_definition(drug: StudyDrug, washout_days: int = 365, since_first: bool = False) -> NewUserCohortDefinition:
    """New users of a substance of the plan with the time at risk that fits its dosing."""
    concepts = drug_concepts(drug)
    if concepts is None:
        raise UserInputError(
            f"no OMOP concept for the substance {drug.substance!r}: give its concept_ids in the plan "
            "(analysis.product, or the study's comparators)"
        )
    kind = TarKind.SINCE_FIRST if since_first else TarKind.ON_TREATMENT
    tar = TimeAtRisk(kind, grace_days=drug.grace_days, dose_covers_days=drug.dose_covers_days)
    return NewUserCohortDefinition(drug.substance, ConceptSet(drug.substance, concepts), washout_days, tar)


def study_analysis(plan: RiskManagementPlan, study: PharmacovigilanceStudy) -> StudyAnalysis | None:
    """How riskplan runs the study (the plan's ``analysis.studies``); None: riskplan cannot run it."""
    return None if plan.analysis is None else plan.analysis.studies.get(study.id)


def runnable(plan: RiskManagementPlan, study: PharmacovigilanceStudy) -> bool:
    return study_analysis(plan, study) is not None


def _outcomes(plan: RiskManagementPlan, study: PharmacovigilanceStudy, analysis: StudyAnalysis) -> list[str]:
    """The concerns whose incidence the study estimates: its analysis' outcomes, else its safety concerns."""
    wanted = analysis.outcomes or study.safety_concerns
    known = {c.id for c in plan.safety_concerns}
    return [c for c in wanted if c in known]


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


def comorbidities(plan: RiskManagementPlan) -> dict[str, ConceptSet]:
    """The plan's named comorbidities for baseline characteristics (``analysis.comorbidities``)."""
    named = plan.analysis.comorbidities if plan.analysis is not None else {}
    return {label: ConceptSet(label, tuple(ids)) for label, ids in named.items()}


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


def _comparative_registry(
    cdm: Cdm, plan: RiskManagementPlan, study: PharmacovigilanceStudy, analysis: StudyAnalysis
) -> list[StudySection]:
    sections: list[StudySection] = []
    product = product_drug(plan)
    name = product.substance
    concerns = _outcomes(plan, study, analysis)
    for comparator in analysis.comparators:
        vs = comparator.substance
        t, c = build_comparative_cohorts(cdm, drug_definition(product), drug_definition(comparator))
        sections.append(
            StudySection(
                "cohorts",
                f"Cohorts: {name} vs {vs}",
                "New users with 365 days washout; persons in both cohorts removed.",
                (t, c),
            )
        )
        main = vs == analysis.characteristics_vs
        if main:
            sections.append(
                StudySection(
                    "characteristics",
                    f"Baseline characteristics: {name} vs {vs}",
                    "Covariates at index with Austin 2009 standardised mean differences.",
                    baseline_characteristics(
                        cdm, t, c, concomitant=plan_concomitant(plan), conditions=comorbidities(plan)
                    ),
                )
            )
        sections += _incidence_sections(cdm, plan, t, concerns, comparator=c, survival=main)
    sections.append(
        StudySection(
            "pregnancy",
            "Pregnancy outcomes (targeted event: pregnancy)",
            f"Pregnancies exposed to {name} and their outcomes.",
            pregnancy_outcomes(cdm, drug_definition(product).drug),
        )
    )
    return sections


def _pregnancy(
    cdm: Cdm, plan: RiskManagementPlan, study: PharmacovigilanceStudy, analysis: StudyAnalysis
) -> list[StudySection]:
    product = product_drug(plan)
    return [
        StudySection(
            "pregnancy",
            "Pregnancy and birth outcomes",
            f"Exposure: any {product.substance} dose during pregnancy or within 6 months before conception.",
            pregnancy_outcomes(cdm, drug_definition(product).drug),
        )
    ]


def _new_user_cohort(
    cdm: Cdm, plan: RiskManagementPlan, study: PharmacovigilanceStudy, analysis: StudyAnalysis
) -> list[StudySection]:
    name = product_drug(plan).substance
    cohort = build_new_user_cohort(cdm, drug_definition(product_drug(plan)))
    schedule = schedule_from_plan(plan)
    sections = [
        StudySection("cohorts", f"Cohort: new users of {name}", "New users with 365 days washout.", (cohort,)),
        StudySection(
            "characteristics",
            f"Characteristics of new users of {name}",
            "Demographics, comorbidities and concomitant medication at index.",
            baseline_characteristics(cdm, cohort, concomitant=plan_concomitant(plan), conditions=comorbidities(plan)),
        ),
        StudySection(
            "utilisation",
            f"Drug utilisation of {name}",
            schedule.name if schedule is not None else "No dosing schedule in the plan: adherence not assessed.",
            drug_utilisation(cdm, cohort, schedule),
        ),
    ]
    return sections + _incidence_sections(cdm, plan, cohort, _outcomes(plan, study, analysis))


def _long_term(
    cdm: Cdm, plan: RiskManagementPlan, study: PharmacovigilanceStudy, analysis: StudyAnalysis
) -> list[StudySection]:
    name = product_drug(plan).substance
    cohort = build_new_user_cohort(cdm, drug_definition(product_drug(plan), since_first=True))
    sections = [
        StudySection(
            "cohorts",
            f"Cohort: patients receiving {name} (since first dose)",
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
    return sections + _incidence_sections(
        cdm, plan, cohort, _outcomes(plan, study, analysis), label=" (since first dose)"
    )


STUDY_ANALYSES: dict[
    StudyDesign, Callable[[Cdm, RiskManagementPlan, PharmacovigilanceStudy, StudyAnalysis], list[StudySection]]
] = {
    StudyDesign.COMPARATIVE_REGISTRY: _comparative_registry,
    StudyDesign.PREGNANCY_REGISTRY: _pregnancy,
    StudyDesign.NEW_USER_COHORT: _new_user_cohort,
    StudyDesign.LONG_TERM_SAFETY: _long_term,
}


def run_plan_study(cdm: Cdm, plan: RiskManagementPlan, study_id: str, plan_label: str | None = None) -> StudyRun:
    """Run every analysis mapped to the plan's study ``study_id`` on ``cdm``; ``plan_label`` says which
    plan version it is (:meth:`riskplan.plan.CurrentPlan.describe`), shown in the report (default: the name)."""
    study = next((s for s in plan.studies if s.id == study_id), None)
    if study is None:
        raise NotFoundError(
            f"plan {plan.name} has no study {study_id!r}; its studies: {', '.join(s.id for s in plan.studies)}"
        )
    analysis = study_analysis(plan, study)
    if analysis is None:
        mapped = [s.id for s in plan.studies if runnable(plan, s)]
        raise NotFoundError(
            f"plan {plan.name}: study {study_id!r} has no analysis design (analysis.studies in the plan), so "
            f"riskplan cannot run it; studies with one: {', '.join(mapped) or 'none'}"
        )
    sections = STUDY_ANALYSES[analysis.design](cdm, plan, study, analysis)
    return StudyRun(plan_label or plan.name, study, cdm.source, cdm.summary(), tuple(cdm.notes), tuple(sections))
