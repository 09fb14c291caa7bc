"""Drug utilisation on a hand-made CDM: schedule adherence, intervals, persistence, premedication."""

from __future__ import annotations

import datetime as dt

import pytest

from riskplan.plan.catalogue import load_plan
from riskplan.studies.cdm import cdm_from_records
from riskplan.studies.cohorts import SIX_MONTHLY_INFUSION, NewUserCohortDefinition, build_new_user_cohort
from riskplan.studies.concepts import ConceptSet
from riskplan.studies.utilisation import DosingSchedule, drug_utilisation, schedule_from_plan

BASE = dt.date(2018, 1, 1)
DRUG, STEROID, ANTIHISTAMINE = 7, 71, 72


def _day(d: int) -> str:
    return str(BASE + dt.timedelta(days=d))


def test_schedule_adherence_intervals_persistence_premedication() -> None:
    # person 1: on schedule (0, 14, 183, 366); person 2: day 16 (late by 2: within +-3), day 250
    # (67 days late: off schedule), then stops -> discontinued (observation goes on to 2023)
    doses = {1: (0, 14, 183, 366), 2: (0, 16, 250)}
    exposures = [
        {
            "person_id": p,
            "drug_concept_id": DRUG,
            "drug_exposure_start_date": _day(d),
            "drug_exposure_end_date": _day(d),
        }
        for p, days in doses.items()
        for d in days
    ]
    premed = (
        [{"person_id": 1, "drug_concept_id": STEROID, "drug_exposure_start_date": _day(d)} for d in (0, 14, 183, 366)]
        + [{"person_id": 1, "drug_concept_id": ANTIHISTAMINE, "drug_exposure_start_date": _day(-1)}]
        + [{"person_id": 2, "drug_concept_id": STEROID, "drug_exposure_start_date": _day(5)}]
    )
    cdm = cdm_from_records(
        {
            "person": [{"person_id": p, "gender_concept_id": 8532, "year_of_birth": 1980} for p in (1, 2)],
            "observation_period": [
                {
                    "person_id": p,
                    "observation_period_start_date": "2015-01-01",
                    "observation_period_end_date": "2019-03-01" if p == 1 else "2023-12-31",
                }
                for p in (1, 2)
            ],
            "drug_exposure": exposures + premed,
        }
    )
    cohort = build_new_user_cohort(
        cdm, NewUserCohortDefinition("ineb", ConceptSet("i", (DRUG,)), time_at_risk=SIX_MONTHLY_INFUSION)
    )
    result = drug_utilisation(
        cdm,
        cohort,
        schedule_from_plan(load_plan("uplizna")),  # the schedule of the plan's dosing check
        {"corticosteroid": ConceptSet("c", (STEROID,)), "antihistamine": ConceptSet("a", (ANTIHISTAMINE,))},
    )
    d = {r["dose_number"]: r for r in result.doses.to_dicts()}
    assert (d[1]["persons"], d[1]["on_schedule"]) == (2, 2)
    assert (d[2]["persons"], d[2]["on_schedule"]) == (2, 2)
    assert (d[3]["persons"], d[3]["on_schedule"], d[3]["expected_day"]) == (2, 1, 183)
    assert d[3]["proportion_on_schedule"] == pytest.approx(0.5)
    assert (d[4]["persons"], d[4]["on_schedule"], d[4]["expected_day"]) == (1, 1, 366)
    intervals = {r["interval"]: r for r in result.intervals.to_dicts()}
    assert intervals["1 to 2"]["mean_days"] == pytest.approx(15.0)
    assert intervals["2 to 3"]["min_days"] == 169 and intervals["2 to 3"]["max_days"] == 234
    persistence = {r["measure"]: r for r in result.persistence.to_dicts()}
    assert persistence["discontinued"]["persons"] == 1  # person 2; person 1 is censored at observation end
    premeds = {r["premedication"]: r for r in result.premedication.to_dicts()}
    assert premeds["corticosteroid"]["doses"] == 7 and premeds["corticosteroid"]["doses_with_premedication"] == 4
    assert premeds["antihistamine"]["doses_with_premedication"] == 1  # the day before the first dose counts
    assert premeds["all classes"]["doses_with_premedication"] == 1


def test_schedule_expected_days() -> None:
    s = DosingSchedule("test", (0, 14), 183, 3, 30)
    assert [s.expected_day(k) for k in (1, 2, 3, 4, 5)] == [0, 14, 183, 366, 549]
    assert (s.window(2), s.window(3)) == (3, 30)
