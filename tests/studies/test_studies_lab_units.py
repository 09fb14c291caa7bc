"""Lab units: every spelling of UCUM and common laboratory systems converts; an unknown unit is never
factor 1 — its values are left out and counted per unit in the result and the notes."""

from __future__ import annotations

import datetime as dt

import pytest

from riskplan.errors import UserInputError
from riskplan.plan.catalogue import load_plan
from riskplan.plan.model import LabComparator
from riskplan.reports.study_report import render_study_html
from riskplan.studies import vocabulary as v
from riskplan.studies.cdm import Cdm, cdm_from_records
from riskplan.studies.cohorts import SIX_MONTHLY_INFUSION, NewUserCohortDefinition, build_new_user_cohort
from riskplan.studies.concepts import ConceptSet
from riskplan.studies.labs import lab_safety
from riskplan.studies.labs_units import normalise_unit, unit_factor
from riskplan.studies.outcomes import LabThreshold, OutcomeDefinition, outcome_events
from riskplan.studies.plan_studies import run_plan_study

MU, MICRO = "\u03bc", "\u00b5"  # Greek small letter mu; micro sign

PER_MICROLITRE = [
    f"cells/{MU}L",
    f"cells/{MICRO}L",
    f"/{MU}L",
    f"/{MICRO}l",
    "cells/uL",
    "/uL",
    "cells/mcL",
    "/mm3",
    "cells/mm3",
    "cells/mm\u00b3",
    "cells/cu mm",
    "{cells}/uL",
    " cells / µL ",
]
GIGA_PER_LITRE = [
    "10^9/L",
    "10^9/l",
    "10*9/L",
    "x10E9/L",
    "x10^9/L",
    "10E9/L",
    "\u00d710\u2079/L",
    "10\u2079/L",
    "10^9 cells/L",
    "10^3/uL",
    f"10^3/{MU}L",
    "10*3/uL",
    "10\u00b3/\u00b5L",
    "K/uL",
    f"K/{MU}L",
    "thou/uL",
    "10^6/mL",
    "giga/L",
    "Giga/L",
    "G/L",
    "Gpt/L",
]


@pytest.mark.parametrize("unit", PER_MICROLITRE)
def test_cells_per_microlitre_in_every_spelling(unit: str) -> None:
    assert unit_factor(unit, "10^9/L") == 0.001
    assert unit_factor(unit, "cells/uL") == 1.0


@pytest.mark.parametrize("unit", GIGA_PER_LITRE)
def test_giga_per_litre_in_every_spelling(unit: str) -> None:
    assert unit_factor(unit, "10^9/L") == 1.0
    assert unit_factor(unit, f"cells/{MU}L") == 1000.0


@pytest.mark.parametrize(
    ("unit", "factor"), [("g/L", 1.0), ("G/L", 1.0), ("g/dL", 10.0), ("mg/dL", 0.01), ("MG/DL", 0.01), ("mg/L", 0.001)]
)
def test_mass_concentrations(unit: str, factor: float) -> None:
    assert unit_factor(unit, "g/L") == factor


@pytest.mark.parametrize("unit", ["cells/hpf", "%", "mmol/L", "1000/uL", "10.9/L", "g/L"])
def test_an_unknown_unit_or_one_of_another_kind_is_not_converted(unit: str) -> None:
    assert unit_factor(unit, "10^9/L") is None


def test_micro_sign_and_greek_mu_are_one_letter() -> None:
    assert normalise_unit(f"cells/{MU}L") == normalise_unit(f"cells/{MICRO}L") == "cells/uL"


BASE = dt.date(2018, 1, 1)


def _m(pid: int, day: int, value: float, unit: str | None) -> dict[str, object]:
    return {
        "person_id": pid,
        "measurement_concept_id": v.NEUTROPHILS,
        "measurement_date": str(BASE + dt.timedelta(days=day)),
        "value_as_number": value,
        "range_low": None,
        "unit_source_value": unit,
    }


def _cdm(measurements: list[dict[str, object]]) -> Cdm:
    persons = (1, 2, 3)
    return cdm_from_records(
        {
            "person": [{"person_id": p, "gender_concept_id": 8532, "year_of_birth": 1980} for p in persons],
            "observation_period": [
                {
                    "person_id": p,
                    "observation_period_start_date": "2015-01-01",
                    "observation_period_end_date": "2020-01-01",
                }
                for p in persons
            ],
            "drug_exposure": [
                {
                    "person_id": p,
                    "drug_concept_id": v.INEBILIZUMAB,
                    "drug_exposure_start_date": str(BASE + dt.timedelta(days=d)),
                    "drug_exposure_end_date": str(BASE + dt.timedelta(days=d)),
                }
                for p in persons
                for d in (0, 14, 183)
            ],
            "measurement": measurements,
        }
    )


def test_neutrophils_in_cells_per_greek_mu_litre_are_graded_by_ctcae() -> None:
    # CTCAE v5.0 neutrophil count decreased: 1200 cells/μL = 1.2 x10^9/L is grade 2 (< 1.5 - 1.0)
    cdm = _cdm(
        [
            _m(1, -5, 4000.0, f"cells/{MU}L"),
            _m(1, 100, 1200.0, f"cells/{MU}L"),
            _m(2, 100, 0.8, "G/L"),  # grade 3
            _m(3, 100, 1300.0, "cells/hpf"),  # unknown unit: left out, not read as 1300 x10^9/L
            _m(3, 101, 1.1, None),  # no unit: taken as 10^9/L, and said so
        ]
    )
    cohort = build_new_user_cohort(
        cdm, NewUserCohortDefinition("ineb", ConceptSet("i", (v.INEBILIZUMAB,)), time_at_risk=SIX_MONTHLY_INFUSION)
    )
    result = lab_safety(cdm, cohort)
    during = result.grade_summary.one(term="Neutrophil count decreased", period="during treatment")
    assert during["persons_with_values"] == 3
    assert (during["grade_2_or_worse"], during["grade_3_or_worse"]) == (3, 1)
    shift = next(t for t in result.shift_tables if t.name == "shift Neutrophil count decreased during treatment")
    assert shift.one(baseline_grade="0")["worst_2"] == 1  # person 1: 4000 cells/μL (G0) then 1200 (G2)
    assert "neutrophil count: 1 value(s) in 'cells/hpf' not converted to 10^9/L (unknown unit) and left out" in (
        result.notes
    )
    assert "neutrophil count: 1 value(s) without a unit taken to be in 10^9/L" in result.notes
    assert result.units is not None
    by_unit = {(r["analyte"], r["unit"]): r for r in result.units.to_dicts()}
    assert by_unit[("neutrophil count", f"cells/{MU}L")]["factor"] == 0.001
    assert by_unit[("neutrophil count", "cells/hpf")]["converted"] == "no"
    assert by_unit[("neutrophil count", "cells/hpf")]["values"] == 1


def test_a_lab_outcome_reads_greek_mu_and_reports_an_unknown_unit() -> None:
    cdm = _cdm([_m(1, 100, 1200.0, f"cells/{MU}L"), _m(2, 100, 900.0, "cells/hpf"), _m(3, 100, 4000.0, "/mm3")])
    neutropenia = OutcomeDefinition(
        "neutropenia",
        labs=(
            LabThreshold(
                "neutrophil count", ConceptSet("anc", (v.NEUTROPHILS,)), LabComparator("<"), 1.5, "10^9/L", "CTCAE"
            ),
        ),
    )
    events = outcome_events(cdm, neutropenia)
    persons = [r[0] for r in cdm.con.execute(f"SELECT person_id FROM {events.table} ORDER BY 1").fetchall()]
    assert persons == [1]
    assert any("1 value(s) in 'cells/hpf' not converted to 10^9/L (unknown unit)" in n for n in events.notes)


def test_the_study_report_shows_the_units_and_the_values_left_out() -> None:
    cdm = _cdm([_m(1, -5, 4000.0, f"cells/{MU}L"), _m(1, 100, 1200.0, f"cells/{MU}L"), _m(2, 100, 900.0, "cells/hpf")])
    run = run_plan_study(cdm, load_plan("uplizna"), "post-authorization-safety-study")
    html = render_study_html(run)
    assert "lab values by unit" in html
    assert "neutrophil count: 1 value(s) in &#39;cells/hpf&#39; not converted to 10^9/L (unknown unit)" in html


def test_a_lab_criterion_in_a_unit_that_cannot_be_read_is_a_user_error() -> None:
    cdm = _cdm([_m(1, 100, 1.2, "10^9/L")])
    anc = ConceptSet("anc", (v.NEUTROPHILS,))
    threshold = LabThreshold("neutrophil count", anc, LabComparator("<"), 1.5, "furlongs")
    with pytest.raises(UserInputError, match="lab criterion neutrophil count: 'furlongs' is not a lab unit"):
        outcome_events(cdm, OutcomeDefinition("neutropenia", labs=(threshold,)))
