"""Lab safety: CTCAE v5.0 grade boundaries (Python and SQL agree), shift tables, B-cell repletion, IgG."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from riskplan.studies import vocabulary as v
from riskplan.studies.cdm import cdm_from_records
from riskplan.studies.cohorts import SIX_MONTHLY_INFUSION, NewUserCohortDefinition, build_new_user_cohort
from riskplan.studies.concepts import ConceptSet
from riskplan.studies.labs import LYMPHOCYTE_COUNT_DECREASED, NEUTROPHIL_COUNT_DECREASED, ctcae_grade, lab_safety

ANC = [(2.5, 0), (2.0, 0), (1.99, 1), (1.5, 1), (1.49, 2), (1.0, 2), (0.99, 3), (0.5, 3), (0.49, 4), (0.0, 4)]
ALC = [(1.0, 0), (0.99, 1), (0.8, 1), (0.79, 2), (0.5, 2), (0.49, 3), (0.2, 3), (0.19, 4)]


@pytest.mark.parametrize(("value", "grade"), ANC)
def test_neutrophil_grade_boundaries(value: float, grade: int) -> None:
    # CTCAE v5.0: G1 <LLN-1.5, G2 <1.5-1.0, G3 <1.0-0.5, G4 <0.5: exactly 1.5 is G1, 1.0 is G2
    assert ctcae_grade(NEUTROPHIL_COUNT_DECREASED, value, lln=2.0) == grade
    sql = NEUTROPHIL_COUNT_DECREASED.grade_sql(repr(value), "2.0")
    assert duckdb.connect().execute(f"SELECT {sql}").fetchone() == (grade,)


@pytest.mark.parametrize(("value", "grade"), ALC)
def test_lymphocyte_grade_boundaries(value: float, grade: int) -> None:
    assert ctcae_grade(LYMPHOCYTE_COUNT_DECREASED, value, lln=1.0) == grade
    assert duckdb.connect().execute(
        f"SELECT {LYMPHOCYTE_COUNT_DECREASED.grade_sql(repr(value), '1.0')}"
    ).fetchone() == (grade,)


def test_grade_1_needs_a_value_below_lln() -> None:
    assert ctcae_grade(NEUTROPHIL_COUNT_DECREASED, 1.6, lln=1.6) == 0


BASE = dt.date(2018, 1, 1)


def _day(d: int) -> str:
    return str(BASE + dt.timedelta(days=d))


def _m(
    pid: int, concept: int, day: int, value: float, low: float | None = None, unit: str | None = None
) -> dict[str, object]:
    return {
        "person_id": pid,
        "measurement_concept_id": concept,
        "measurement_date": _day(day),
        "value_as_number": value,
        "range_low": low,
        "unit_source_value": unit,
    }


def test_shift_table_repletion_and_igg() -> None:
    # person 1: doses days 0 and 14 only -> treatment ends day 14+182+90 = 286; observation to day 1500
    # person 2: doses every 6 months until observation ends (never discontinues)
    doses = [(1, 0), (1, 14)] + [(2, d) for d in (0, 14, 183, 366, 549)]
    measurements = [
        _m(1, v.NEUTROPHILS, -10, 4.0, 2.0),
        _m(1, v.NEUTROPHILS, 100, 1.5, 2.0),
        _m(1, v.NEUTROPHILS, 200, 0.9, 2.0),
        _m(1, v.NEUTROPHILS, 400, 1.2, 2.0),
        _m(2, v.NEUTROPHILS, -5, 1.8, 2.0),
        _m(2, v.NEUTROPHILS, 300, 2.2, 2.0),
        _m(1, v.CD19_B_CELLS, -10, 100.0, 80.0),
        _m(1, v.CD19_B_CELLS, 200, 1.0, 80.0),
        _m(1, v.CD19_B_CELLS, 500, 60.0, 80.0),
        _m(1, v.CD19_B_CELLS, 700, 85.0, 80.0),
        _m(2, v.CD19_B_CELLS, 300, 2.0, 80.0),
        _m(1, v.IGG, -10, 9.0),
        _m(1, v.IGG, 200, 690.0, None, "mg/dL"),
        _m(2, v.IGG, 300, 7.0),
    ]
    cdm = cdm_from_records(
        {
            "person": [{"person_id": p, "gender_concept_id": 8532, "year_of_birth": 1980} for p in (1, 2)],
            "observation_period": [
                {
                    "person_id": p,
                    "observation_period_start_date": "2015-01-01",
                    "observation_period_end_date": _day(1500) if p == 1 else _day(600),
                }
                for p in (1, 2)
            ],
            "drug_exposure": [
                {
                    "person_id": p,
                    "drug_concept_id": v.INEBILIZUMAB,
                    "drug_exposure_start_date": _day(d),
                    "drug_exposure_end_date": _day(d),
                }
                for p, d in doses
            ],
            "measurement": measurements,
        }
    )
    cohort = build_new_user_cohort(
        cdm, NewUserCohortDefinition("ineb", ConceptSet("i", (v.INEBILIZUMAB,)), time_at_risk=SIX_MONTHLY_INFUSION)
    )
    result = lab_safety(cdm, cohort)
    during = result.grade_summary.one(term="Neutrophil count decreased", period="during treatment")
    assert during["persons_with_values"] == 2
    assert (during["grade_1_or_worse"], during["grade_2_or_worse"], during["grade_3_or_worse"]) == (1, 1, 1)
    after = result.grade_summary.one(term="Neutrophil count decreased", period="after treatment")
    assert (after["persons_with_values"], after["grade_2_or_worse"], after["grade_3_or_worse"]) == (1, 1, 0)
    shift = next(t for t in result.shift_tables if t.name == "shift Neutrophil count decreased during treatment")
    assert shift.one(baseline_grade="0")["worst_3"] == 1  # person 1: baseline 4.0 (G0), worst 0.9 (G3)
    assert shift.one(baseline_grade="1")["worst_0"] == 1  # person 2: baseline 1.8 (G1), worst 2.2 (G0)
    b = {r["measure"]: r for r in result.b_cells.to_dicts()}
    assert b["persons who discontinued"]["persons"] == 1
    assert b["repleted"]["persons"] == 1
    # repletion: first CD19 after the last dose (day 14) >= min(LLN 80, baseline 100) = 80 -> day 700
    assert b["median time to repletion (days)"]["estimate"] == pytest.approx(700 - 14)
    igg = result.igg.one(period="during treatment")
    assert (igg["persons_with_values"], igg["persons_below_threshold"]) == (2, 1)  # 690 mg/dL = 6.9 g/L; 7.0 is not < 7
    assert result.igg.one(period="baseline")["persons_below_threshold"] == 0
