"""Baseline characteristics and SMDs against hand computation on a hand-made CDM."""

from __future__ import annotations

import math
import statistics

import pytest

from riskplan.studies.cdm import cdm_from_records
from riskplan.studies.characteristics import baseline_characteristics
from riskplan.studies.cohorts import NewUserCohortDefinition, build_comparative_cohorts
from riskplan.studies.concepts import ConceptSet

# target (drug 7): persons 1-3, comparator (drug 8): persons 4-6; index 2015-01-01
YOB = {1: 1940, 2: 1960, 3: 1980, 4: 1950, 5: 1950, 6: 1990}
FEMALE = {1, 2, 4}
HYPERTENSION = {1, 4, 5}  # condition 100 in the year before index


def _cdm():  # type: ignore[no-untyped-def]
    return cdm_from_records(
        {
            "person": [
                {"person_id": p, "gender_concept_id": 8532 if p in FEMALE else 8507, "year_of_birth": y}
                for p, y in YOB.items()
            ],
            "observation_period": [
                {
                    "person_id": p,
                    "observation_period_start_date": "2010-01-01",
                    "observation_period_end_date": "2016-12-31",
                }
                for p in YOB
            ],
            "drug_exposure": [
                {
                    "person_id": p,
                    "drug_concept_id": 7 if p <= 3 else 8,
                    "drug_exposure_start_date": "2015-01-01",
                    "drug_exposure_end_date": "2015-01-01",
                }
                for p in YOB
            ],
            "condition_occurrence": [
                {"person_id": p, "condition_concept_id": 100, "condition_start_date": "2014-06-01"}
                for p in HYPERTENSION
            ],
            "visit_occurrence": [
                {"person_id": 1, "visit_concept_id": 9202, "visit_start_date": "2014-05-01"},
                {"person_id": 1, "visit_concept_id": 9202, "visit_start_date": "2014-07-01"},
            ],
        }
    )


def test_smd_against_hand_computation() -> None:
    cdm = _cdm()
    t, c = build_comparative_cohorts(
        cdm, NewUserCohortDefinition("t", ConceptSet("t", (7,))), NewUserCohortDefinition("c", ConceptSet("c", (8,)))
    )
    result = baseline_characteristics(
        cdm, t, c, conditions={"hypertension": ConceptSet("htn", (100,))}, top_conditions=0
    )
    age_t = [2015 - YOB[p] for p in (1, 2, 3)]
    age_c = [2015 - YOB[p] for p in (4, 5, 6)]
    row = result.table.one(covariate="age at index (years)")
    assert row["target_mean"] == pytest.approx(statistics.mean(age_t))
    assert row["target_sd"] == pytest.approx(statistics.stdev(age_t))
    expected = (statistics.mean(age_t) - statistics.mean(age_c)) / math.sqrt(
        (statistics.stdev(age_t) ** 2 + statistics.stdev(age_c) ** 2) / 2
    )
    assert row["smd"] == pytest.approx(expected)
    female = result.table.one(covariate="female")
    p1, p0 = 2 / 3, 1 / 3
    assert (female["target_count"], female["comparator_count"]) == (2, 1)
    assert female["smd"] == pytest.approx((p1 - p0) / math.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2))
    htn = result.table.one(covariate="hypertension (prior 365 days)")
    assert (htn["target_count"], htn["comparator_count"]) == (1, 2)
    visits = result.table.one(covariate="visits in prior 365 days")
    assert visits["target_mean"] == pytest.approx(2 / 3)
    old = result.table.one(covariate="age 65 or over")
    assert old["target_count"] == 1 and old["comparator_count"] == 2
    assert result.max_abs_smd == pytest.approx(max(abs(s) for s in result.table.column("smd") if s is not None))


def test_single_cohort_and_top_conditions() -> None:
    cdm = _cdm()
    t, _ = build_comparative_cohorts(
        cdm, NewUserCohortDefinition("t", ConceptSet("t", (7,))), NewUserCohortDefinition("c", ConceptSet("c", (8,)))
    )
    result = baseline_characteristics(cdm, t, None, top_conditions=5)
    assert result.comparator is None and result.max_abs_smd is None
    assert result.table.one(covariate="concept 100 (prior 365 days)")["target_count"] == 1


def test_a_named_condition_set_and_a_frequent_concept_are_one_row() -> None:
    """ "hypertension" (concept set {100}) and the frequent concept 100 are the same covariate: one row."""
    cdm = _cdm()
    t, c = build_comparative_cohorts(
        cdm, NewUserCohortDefinition("t", ConceptSet("t", (7,))), NewUserCohortDefinition("c", ConceptSet("c", (8,)))
    )
    result = baseline_characteristics(
        cdm, t, c, conditions={"hypertension": ConceptSet("htn", (100,))}, top_conditions=5
    )
    covariates = result.table.column("covariate")
    assert "hypertension (prior 365 days)" in covariates
    assert "concept 100 (prior 365 days)" not in covariates
    assert len(covariates) == len(set(covariates))
