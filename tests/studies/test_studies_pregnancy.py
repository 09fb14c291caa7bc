"""Pregnancy registry analysis on a hand-made CDM: exposure window, enrolment, outcomes, SGA, CIs."""

from __future__ import annotations

import datetime as dt

import pytest

from riskplan.studies import vocabulary as v
from riskplan.studies.cdm import cdm_from_records
from riskplan.studies.concepts import ConceptSet
from riskplan.studies.pregnancy import intergrowth_p10, is_small_for_gestational_age, pregnancy_outcomes


def _obs(
    pid: int, concept: int, day: str, value: float | None = None, value_concept: int | None = None
) -> dict[str, object]:
    return {
        "person_id": pid,
        "observation_concept_id": concept,
        "observation_date": day,
        "value_as_number": value,
        "value_as_concept_id": value_concept,
    }


def _add(day: str, n: int) -> str:
    return str(dt.date.fromisoformat(day) + dt.timedelta(days=n))


def test_pregnancy_outcomes_by_exposure_and_enrolment() -> None:
    # pregnancies: LMP 2020-01-01 (conception 2020-01-15; window opens 2019-07-16)
    lmp = "2020-01-01"
    birth = _add(lmp, 7 * 39)
    preterm = _add(lmp, 7 * 35)
    rows = []
    # 1: dose 2019-08-01 (in window), prospective, live birth 39 w, 2300 g girl (< 2650: SGA), MCM
    rows += [
        _obs(1, v.PREGNANCY_START, lmp),
        _obs(1, v.REGISTRY_ENROLMENT, "2020-03-01"),
        _obs(1, v.LIVE_BIRTH, birth, 39.0),
        _obs(1, v.INFANT_SEX, birth, None, v.FEMALE),
        _obs(1, v.MAJOR_CONGENITAL_MALFORMATION, birth),
    ]
    # 2: dose 2019-06-01 (before the window: unexposed), retrospective, live birth 35 w (preterm), no weight
    rows += [
        _obs(2, v.PREGNANCY_START, lmp),
        _obs(2, v.REGISTRY_ENROLMENT, _add(preterm, 10)),
        _obs(2, v.LIVE_BIRTH, preterm, 35.0),
    ]
    # 3: dose during pregnancy, prospective, spontaneous abortion at 10 w
    rows += [
        _obs(3, v.PREGNANCY_START, lmp),
        _obs(3, v.REGISTRY_ENROLMENT, "2020-02-10"),
        _obs(3, v.SPONTANEOUS_ABORTION, _add(lmp, 70), 10.0),
    ]
    # 4: exposed, prospective, no outcome yet
    rows += [_obs(4, v.PREGNANCY_START, "2024-01-01"), _obs(4, v.REGISTRY_ENROLMENT, "2024-02-01")]
    doses = [(1, "2019-08-01"), (2, "2019-06-01"), (3, "2020-02-01"), (4, "2023-12-01")]
    cdm = cdm_from_records(
        {
            "person": [{"person_id": p, "gender_concept_id": 8532, "year_of_birth": 1990} for p in (1, 2, 3, 4)],
            "observation_period": [
                {
                    "person_id": p,
                    "observation_period_start_date": "2015-01-01",
                    "observation_period_end_date": "2024-12-31",
                }
                for p in (1, 2, 3, 4)
            ],
            "drug_exposure": [
                {
                    "person_id": p,
                    "drug_concept_id": v.INEBILIZUMAB,
                    "drug_exposure_start_date": d,
                    "drug_exposure_end_date": d,
                }
                for p, d in doses
            ],
            "observation": rows,
            "measurement": [
                {
                    "person_id": 1,
                    "measurement_concept_id": v.BIRTH_WEIGHT,
                    "measurement_date": birth,
                    "value_as_number": 2300.0,
                }
            ],
        }
    )
    result = pregnancy_outcomes(cdm, ConceptSet("inebilizumab", (v.INEBILIZUMAB,)))
    counts = {(r["exposure"], r["enrolment"]): r for r in result.pregnancies.to_dicts()}
    assert counts[("exposed", "prospective")]["pregnancies"] == 3
    assert counts[("exposed", "prospective")]["outcome_unknown"] == 1
    assert counts[("unexposed", "retrospective")]["pregnancies"] == 1
    out = {(r["exposure"], r["enrolment"], r["outcome"]): r for r in result.outcomes.to_dicts()}
    live = out[("exposed", "prospective", "live birth")]
    assert (live["n"], live["denominator"]) == (1, 2)
    assert live["ci_lower"] == pytest.approx(0.0126, abs=1e-4) and live["ci_upper"] == pytest.approx(0.9874, abs=1e-4)
    assert out[("exposed", "prospective", "spontaneous abortion")]["n"] == 1
    sga = out[("exposed", "prospective", "small for gestational age (<10th centile)")]
    assert (sga["n"], sga["denominator"]) == (1, 1)
    mcm = out[("exposed", "prospective", "major congenital malformation")]
    assert (mcm["n"], mcm["denominator"]) == (1, 1)
    pre = out[("unexposed", "retrospective", "preterm birth (<37 weeks)")]
    assert (pre["n"], pre["denominator"]) == (1, 1)
    assert out[("unexposed", "retrospective", "small for gestational age (<10th centile)")]["denominator"] == 0
    assert not any(r["enrolment"] == "all" for r in result.outcomes.to_dicts())  # never pooled


def test_intergrowth_table_and_sga() -> None:
    table = intergrowth_p10()
    assert len(table) == 20 and set(w for w, _ in table) == set(range(33, 43))
    assert table[(40, "male")] > table[(40, "female")]
    assert all(table[(w, s)] < table[(w + 1, s)] for w in range(33, 42) for s in ("male", "female"))
    assert is_small_for_gestational_age(2800, 40.5, "male") is True
    assert is_small_for_gestational_age(2900, 40.0, "male") is False
    assert is_small_for_gestational_age(1000, 30.0, "female") is None
