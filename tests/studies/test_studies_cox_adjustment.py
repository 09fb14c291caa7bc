"""Cox models say what they are adjusted for: the Eunomia GiBleed celecoxib-diclofenac hazard ratio is adjusted
for sex (nobody in the cohorts is 65 or over, so age drops out), in the result, its JSON and the study report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from riskplan.plan.catalogue import load_plan
from riskplan.reports.study_report import render_study_html
from riskplan.studies.cdm import Cdm, open_cdm
from riskplan.studies.cohorts import NewUserCohortDefinition, TarKind, TimeAtRisk, build_comparative_cohorts
from riskplan.studies.concepts import ConceptSet
from riskplan.studies.incidence import incidence
from riskplan.studies.outcomes import outcome_from_concept_ids
from riskplan.studies.plan_studies import StudyRun, StudySection
from riskplan.studies.results import result_to_dict
from riskplan.studies.survival import SurvivalResult, time_to_first_event
from shared_data import missing_shared

EUNOMIA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "eunomia_gibleed"


@pytest.fixture(scope="module")
def eunomia() -> Iterator[Cdm]:
    if not (EUNOMIA / "person.csv").is_file():
        missing_shared(f"Eunomia GiBleed CSVs are absent at {EUNOMIA} (the shared data folder is needed)")
    with open_cdm(EUNOMIA) as cdm:
        yield cdm


@pytest.fixture(scope="module")
def survival(eunomia: Cdm) -> SurvivalResult:
    tar = TimeAtRisk(TarKind.SINCE_FIRST)
    t, c = build_comparative_cohorts(
        eunomia,
        NewUserCohortDefinition("celecoxib", ConceptSet("celecoxib", (1118084,)), 365, tar),
        NewUserCohortDefinition("diclofenac", ConceptSet("diclofenac", (1124300,)), 365, tar),
    )
    result = incidence(eunomia, t, outcome_from_concept_ids("GI bleed", (192671,)), comparator=c)
    return time_to_first_event(eunomia, result)


def test_eunomia_hazard_ratio_is_adjusted_for_sex(eunomia: Cdm, survival: SurvivalResult) -> None:
    # nobody in the cohorts is 65 or over at the first dose: the age covariate has no variation and drops out
    assert survival.cox is not None
    assert set(survival.cox.column("covariate")) == {"target", "female"}
    assert survival.adjusted_for == ("sex",)
    assert survival.adjustment == "adjusted for sex"
    assert survival.cox_cohorts == ("celecoxib", "diclofenac")
    assert any("age_65_or_over dropped (no variation)" in n for n in survival.notes)
    as_json = json.loads(json.dumps(result_to_dict(survival)))
    assert as_json["adjusted_for"] == ["sex"]


def test_study_report_names_the_adjustment(eunomia: Cdm, survival: SurvivalResult) -> None:
    plan = load_plan("uplizna")
    run = StudyRun(
        plan="uplizna",
        study=plan.studies[0],
        cdm_source=str(EUNOMIA),
        cdm_tables=eunomia.summary(),
        cdm_notes=(),
        sections=(StudySection("survival", "Time to first GI bleed", "Kaplan-Meier and Cox.", survival),),
    )
    html = render_study_html(run)
    assert "Cox proportional-hazards model, celecoxib against diclofenac (the covariate target): hazard ratios " in html
    assert "hazard ratios adjusted for sex." in html
    assert "unadjusted" not in html


def test_unadjusted_only_when_no_covariate_is_left(survival: SurvivalResult) -> None:
    from dataclasses import replace

    assert replace(survival, adjusted_for=()).adjustment == "unadjusted"
    assert replace(survival, adjusted_for=("age 65 or over", "sex")).adjustment == "adjusted for age 65 or over and sex"
    assert replace(survival, cox=None, adjusted_for=()).adjustment is None
