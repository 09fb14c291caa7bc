"""Additional pharmacovigilance: the plan's observational studies on OMOP CDM data.

Modelled on OHDSI HADES — cohort -> analysis -> report, each step inspectable: every function returns
a typed result (a frozen dataclass) whose tables are :class:`~riskplan.studies.results.ResultTable`
values carrying the SQL that derived them, and intermediate tables stay in the CDM's DuckDB.

    from riskplan.studies import *
    cdm = open_cdm("path/to/cdm")                                  # Parquet/CSV folder, DuckDB, PostgreSQL
    target, comparator = build_comparative_cohorts(
        cdm,
        NewUserCohortDefinition("celecoxib", ConceptSet("celecoxib", (1118084,))),
        NewUserCohortDefinition("diclofenac", ConceptSet("diclofenac", (1124300,))),
    )
    result = incidence(cdm, target, outcome_from_concept_ids("GI bleed", (192671,)), comparator=comparator)
    result.rates.to_dicts(); result.rate_ratio; time_to_first_event(cdm, result)
"""

from riskplan.studies.background import BackgroundRates, load_background_rates
from riskplan.studies.cdm import Cdm, cdm_from_records, open_cdm
from riskplan.studies.characteristics import CharacteristicsResult, baseline_characteristics
from riskplan.studies.cli import CdmOption, PlanOption, synth_omop
from riskplan.studies.cli import app as cli_app
from riskplan.studies.cohorts import (
    SIX_MONTHLY_INFUSION,
    Cohort,
    NewUserCohortDefinition,
    TarKind,
    TimeAtRisk,
    build_comparative_cohorts,
    build_new_user_cohort,
)
from riskplan.studies.concepts import ConceptSet, ExpandedConceptSet, expand_concept_set, parse_concept_ids
from riskplan.studies.incidence import IncidenceResult, RateRatio, incidence
from riskplan.studies.labs import (
    LYMPHOCYTE_COUNT_DECREASED,
    NEUTROPHIL_COUNT_DECREASED,
    CtcaeGrading,
    LabSafetyResult,
    ctcae_grade,
    lab_safety,
)
from riskplan.studies.outcomes import (
    LabThreshold,
    OutcomeDefinition,
    OutcomeEvents,
    outcome_events,
    outcome_from_concept_ids,
    outcome_from_concern,
)
from riskplan.studies.plan_studies import (
    STUDY_ANALYSES,
    StudyRun,
    StudySection,
    drug_concepts,
    drug_definition,
    plan_concomitant,
    product_drug,
    run_plan_study,
    runnable,
)
from riskplan.studies.pregnancy import PregnancyResult, is_small_for_gestational_age, pregnancy_outcomes
from riskplan.studies.registry import RegistryMapping, load_registry_export, load_registry_mapping
from riskplan.studies.results import ResultTable, fmt, result_tables, result_to_dict
from riskplan.studies.stats import (
    clopper_pearson,
    poisson_exact_ci,
    rate_per,
    rate_ratio_exact,
    smd_binary,
    smd_continuous,
    standardised_ratio,
)
from riskplan.studies.survival import KaplanMeierCurve, SurvivalResult, kaplan_meier, time_to_first_event
from riskplan.studies.synth import SynthSummary, synthesise_omop
from riskplan.studies.utilisation import DosingSchedule, UtilisationResult, drug_utilisation, schedule_from_plan

__all__ = [
    "LYMPHOCYTE_COUNT_DECREASED",
    "NEUTROPHIL_COUNT_DECREASED",
    "SIX_MONTHLY_INFUSION",
    "STUDY_ANALYSES",
    "BackgroundRates",
    "Cdm",
    "CdmOption",
    "CharacteristicsResult",
    "Cohort",
    "ConceptSet",
    "CtcaeGrading",
    "DosingSchedule",
    "ExpandedConceptSet",
    "IncidenceResult",
    "KaplanMeierCurve",
    "LabSafetyResult",
    "LabThreshold",
    "NewUserCohortDefinition",
    "OutcomeDefinition",
    "OutcomeEvents",
    "PlanOption",
    "PregnancyResult",
    "RateRatio",
    "RegistryMapping",
    "ResultTable",
    "StudyRun",
    "StudySection",
    "SurvivalResult",
    "SynthSummary",
    "TarKind",
    "TimeAtRisk",
    "UtilisationResult",
    "baseline_characteristics",
    "build_comparative_cohorts",
    "build_new_user_cohort",
    "cdm_from_records",
    "cli_app",
    "clopper_pearson",
    "ctcae_grade",
    "drug_concepts",
    "drug_definition",
    "drug_utilisation",
    "expand_concept_set",
    "fmt",
    "incidence",
    "is_small_for_gestational_age",
    "kaplan_meier",
    "lab_safety",
    "load_background_rates",
    "load_registry_export",
    "load_registry_mapping",
    "open_cdm",
    "outcome_events",
    "outcome_from_concept_ids",
    "outcome_from_concern",
    "parse_concept_ids",
    "plan_concomitant",
    "poisson_exact_ci",
    "pregnancy_outcomes",
    "product_drug",
    "rate_per",
    "rate_ratio_exact",
    "result_tables",
    "result_to_dict",
    "run_plan_study",
    "runnable",
    "schedule_from_plan",
    "smd_binary",
    "smd_continuous",
    "standardised_ratio",
    "synth_omop",
    "synthesise_omop",
    "time_to_first_event",
]
