"""New-user cohorts on hand-made CDMs: washout, grace-period bridging, censoring, comparators."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from riskplan.errors import UserInputError
from riskplan.studies.cdm import cdm_from_records, open_cdm
from riskplan.studies.cohorts import (
    SIX_MONTHLY_INFUSION,
    NewUserCohortDefinition,
    TarKind,
    TimeAtRisk,
    build_comparative_cohorts,
    build_new_user_cohort,
)
from riskplan.studies.concepts import ConceptSet

SMALL = Path(__file__).resolve().parents[1] / "data" / "cdm_small"
D = dt.date


def _person(pid: int, yob: int = 1970, sex: int = 8532) -> dict[str, Any]:
    return {"person_id": pid, "gender_concept_id": sex, "year_of_birth": yob}


def _op(pid: int, start: str, end: str) -> dict[str, Any]:
    return {"person_id": pid, "observation_period_start_date": start, "observation_period_end_date": end}


def _dose(pid: int, day: str, concept: int = 7, end: str | None = None) -> dict[str, Any]:
    return {
        "person_id": pid,
        "drug_concept_id": concept,
        "drug_exposure_start_date": day,
        "drug_exposure_end_date": end or day,
    }


def test_washout_and_first_exposure() -> None:
    with open_cdm(SMALL) as cdm:
        cohort = build_new_user_cohort(cdm, NewUserCohortDefinition("target", ConceptSet("t", (1001,))))
        rows = cohort.rows().to_dicts()
        assert [r["subject_id"] for r in rows] == [1, 2]
        steps = cohort.attrition.column("persons")
        assert steps == [3, 3, 2, 2]  # person 3 has 151 days of prior observation only
        assert rows[0]["cohort_start_date"] == D(2011, 1, 1)
        assert rows[0]["treatment_end_date"] == D(2011, 3, 1)  # exposure end 30 Jan + 30 days grace
        assert rows[0]["censor_reason"] == "end of treatment"
        shorter = build_new_user_cohort(cdm, NewUserCohortDefinition("t0", ConceptSet("t", (1001,)), washout_days=150))
        assert shorter.persons == 3


def test_grace_period_bridges_six_monthly_infusions() -> None:
    # infusions on days 0, 14, 200 (bridged: 200 <= 14 + 182 + 90), then day 480 (> 200 + 182 + 90: new era)
    base = D(2015, 1, 1)
    days = [0, 14, 200, 480]
    cdm = cdm_from_records(
        {
            "person": [_person(1)],
            "observation_period": [_op(1, "2012-01-01", "2019-12-31")],
            "drug_exposure": [_dose(1, str(base + dt.timedelta(days=d))) for d in days],
        }
    )
    cohort = build_new_user_cohort(
        cdm, NewUserCohortDefinition("ineb", ConceptSet("i", (7,)), time_at_risk=SIX_MONTHLY_INFUSION)
    )
    row = cohort.rows().to_dicts()[0]
    assert row["exposures_in_first_era"] == 3
    assert row["era_end_date"] == base + dt.timedelta(days=200 + 182)
    assert row["treatment_end_date"] == base + dt.timedelta(days=200 + 182 + 90)
    assert row["cohort_end_date"] == row["treatment_end_date"]
    # without dose coverage the 186-day gap after day 14 is not bridged by a 90-day grace period
    short = build_new_user_cohort(
        cdm, NewUserCohortDefinition("s", ConceptSet("i", (7,)), time_at_risk=TimeAtRisk(grace_days=90))
    )
    assert short.rows().to_dicts()[0]["era_end_date"] == base + dt.timedelta(days=14)
    # a gap of exactly the bridge (next dose on day 14 + 182 + 90 = 286) is still bridged
    edge = cdm_from_records(
        {
            "person": [_person(1)],
            "observation_period": [_op(1, "2012-01-01", "2019-12-31")],
            "drug_exposure": [_dose(1, str(base + dt.timedelta(days=d))) for d in (0, 14, 286, 287 + 182 + 91)],
        }
    )
    edge_row = (
        build_new_user_cohort(
            edge, NewUserCohortDefinition("e", ConceptSet("i", (7,)), time_at_risk=SIX_MONTHLY_INFUSION)
        )
        .rows()
        .to_dicts()[0]
    )
    assert edge_row["exposures_in_first_era"] == 3


def test_censoring_at_observation_end_and_death() -> None:
    cdm = cdm_from_records(
        {
            "person": [_person(1), _person(2), _person(3)],
            "observation_period": [
                _op(1, "2010-01-01", "2015-02-01"),
                _op(2, "2010-01-01", "2016-12-31"),
                _op(3, "2010-01-01", "2016-12-31"),
            ],
            "drug_exposure": [
                _dose(1, "2015-01-01", end="2015-03-31"),
                _dose(2, "2015-01-01", end="2015-03-31"),
                _dose(3, "2015-01-01", end="2015-03-31"),
            ],
            "death": [{"person_id": 2, "death_date": "2015-02-10"}, {"person_id": 3, "death_date": "2014-12-01"}],
        }
    )
    on = build_new_user_cohort(cdm, NewUserCohortDefinition("d", ConceptSet("d", (7,))))
    rows = {r["subject_id"]: r for r in on.rows().to_dicts()}
    assert set(rows) == {1, 2}  # person 3 died before the index date
    assert rows[1]["cohort_end_date"] == D(2015, 2, 1) and rows[1]["censor_reason"] == "end of observation"
    assert rows[2]["cohort_end_date"] == D(2015, 2, 10) and rows[2]["censor_reason"] == "death"
    since = build_new_user_cohort(
        cdm, NewUserCohortDefinition("d", ConceptSet("d", (7,)), time_at_risk=TimeAtRisk(TarKind.SINCE_FIRST))
    )
    rows = {r["subject_id"]: r for r in since.rows().to_dicts()}
    assert rows[1]["cohort_end_date"] == D(2015, 2, 1)
    capped = build_new_user_cohort(
        cdm,
        NewUserCohortDefinition("c", ConceptSet("d", (7,)), time_at_risk=TimeAtRisk(TarKind.SINCE_FIRST, max_days=10)),
    )
    assert {r["cohort_end_date"] for r in capped.rows().to_dicts()} == {D(2015, 1, 10)}
    assert {r["censor_reason"] for r in capped.rows().to_dicts()} == {"maximum time at risk"}


def test_comparator_cohorts_remove_persons_in_both() -> None:
    cdm = cdm_from_records(
        {
            "person": [_person(1), _person(2), _person(3)],
            "observation_period": [_op(p, "2010-01-01", "2016-12-31") for p in (1, 2, 3)],
            "drug_exposure": [
                _dose(1, "2015-01-01", 7),
                _dose(2, "2015-01-01", 8),
                _dose(3, "2015-01-01", 7),
                _dose(3, "2015-06-01", 8),
            ],
        }
    )
    t, c = build_comparative_cohorts(
        cdm, NewUserCohortDefinition("a", ConceptSet("a", (7,))), NewUserCohortDefinition("b", ConceptSet("b", (8,)))
    )
    assert (t.persons, c.persons) == (1, 1)
    assert t.attrition.rows[-1][2] == 1
    assert any("1 persons were new users of both" in n for n in t.notes)
    t2, c2 = build_comparative_cohorts(
        cdm,
        NewUserCohortDefinition("a", ConceptSet("a", (7,))),
        NewUserCohortDefinition("b", ConceptSet("b", (8,))),
        remove_subjects_in_both=False,
    )
    assert (t2.persons, c2.persons) == (2, 2)


def test_bad_definitions_are_user_errors() -> None:
    with pytest.raises(UserInputError):
        TimeAtRisk(grace_days=-1)
    with pytest.raises(UserInputError):
        NewUserCohortDefinition("x", ConceptSet("x", (1,)), washout_days=-5)
    with pytest.raises(UserInputError):
        ConceptSet("empty", ())
