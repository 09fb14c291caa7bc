"""Incidence against independent computations: plain SQL on the Eunomia CSVs, and hand counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from scipy.stats import chi2

from riskplan.plan.catalogue import load_plan
from riskplan.plan.model import LabComparator
from riskplan.studies.background import BackgroundRate, BackgroundRates, load_background_rates
from riskplan.studies.cdm import cdm_from_records, open_cdm
from riskplan.studies.cohorts import NewUserCohortDefinition, TarKind, TimeAtRisk, build_comparative_cohorts
from riskplan.studies.concepts import ConceptSet
from riskplan.studies.incidence import incidence
from riskplan.studies.outcomes import LabThreshold, OutcomeDefinition, outcome_from_concept_ids, outcome_from_concern
from riskplan.studies.survival import time_to_first_event
from shared_data import missing_shared

EUNOMIA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "eunomia_gibleed"
SMALL = Path(__file__).resolve().parents[1] / "data" / "cdm_small"

# Independent SQL (written for this test, not taken from the code under test): new users of an
# ingredient with >= 365 days of prior observation, followed from the first dose to the end of the
# observation period (since-first), persons with a GI bleed before the first dose left out, first GI
# bleed (192671 and descendants) as the event; days counted inclusively.
SINCE_FIRST_SQL = """
WITH person_ok AS (SELECT person_id FROM read_csv('{d}/person.csv', header=true)),
op AS (
  SELECT person_id, observation_period_start_date AS s, observation_period_end_date AS e
  FROM read_csv('{d}/observation_period.csv', header=true) WHERE person_id IN (SELECT person_id FROM person_ok)
),
anc AS (
  SELECT CAST(ancestor_concept_id AS BIGINT) AS a, descendant_concept_id AS d
  FROM read_csv('{d}/concept_ancestor.csv', header=true)
),
drug AS (
  SELECT x.person_id, min(x.drug_exposure_start_date) AS first_day
  FROM read_csv('{d}/drug_exposure.csv', header=true) x JOIN anc ON anc.d = x.drug_concept_id AND anc.a = {ingredient}
  GROUP BY x.person_id
),
bleed AS (
  SELECT c.person_id, c.condition_start_date AS day
  FROM read_csv('{d}/condition_occurrence.csv', header=true) c
  JOIN anc ON anc.d = c.condition_concept_id AND anc.a = 192671
),
users AS (
  SELECT drug.person_id, drug.first_day, op.e FROM drug JOIN op ON op.person_id = drug.person_id
   AND drug.first_day >= op.s + INTERVAL 365 DAY AND drug.first_day <= op.e
  WHERE NOT EXISTS (SELECT 1 FROM bleed WHERE bleed.person_id = drug.person_id AND bleed.day < drug.first_day)
),
follow AS (
  SELECT u.person_id, u.first_day, u.e,
         (SELECT min(day) FROM bleed b WHERE b.person_id = u.person_id AND b.day >= u.first_day AND b.day <= u.e) AS ev
  FROM users u
)
SELECT count(*) AS persons, count(ev) AS events,
       sum(CAST(COALESCE(ev, e) - first_day AS BIGINT) + 1) AS person_days
FROM follow
"""


@pytest.fixture(scope="module")
def eunomia_dir() -> Path:
    if not (EUNOMIA / "person.csv").is_file():
        missing_shared(f"Eunomia GiBleed CSVs are absent at {EUNOMIA} (the shared data folder is needed)")
    return EUNOMIA


def test_gi_bleed_in_celecoxib_vs_diclofenac_new_users_matches_plain_sql(eunomia_dir: Path) -> None:
    con = duckdb.connect()
    expected = {}
    for name, ingredient in (("celecoxib", 1118084), ("diclofenac", 1124300)):
        persons, events, days = con.execute(SINCE_FIRST_SQL.format(d=eunomia_dir, ingredient=ingredient)).fetchone()  # type: ignore[misc]
        expected[name] = (int(persons), int(events), int(days))
    with open_cdm(eunomia_dir) as cdm:
        tar = TimeAtRisk(TarKind.SINCE_FIRST)
        t, c = build_comparative_cohorts(
            cdm,
            NewUserCohortDefinition("celecoxib", ConceptSet("celecoxib", (1118084,)), 365, tar),
            NewUserCohortDefinition("diclofenac", ConceptSet("diclofenac", (1124300,)), 365, tar),
        )
        result = incidence(cdm, t, outcome_from_concept_ids("GI bleed", (192671,)), comparator=c)
        for name in ("celecoxib", "diclofenac"):
            row = result.overall(name)
            persons, events, days = expected[name]
            assert (row["persons"], row["events"], row["person_days"]) == (persons, events, days)
            py = days / 365.25
            assert row["rate_per_100py"] == pytest.approx(events / py * 100)
            assert row["ci_lower"] == pytest.approx(chi2.ppf(0.025, 2 * events) / 2 / py * 100)
            assert row["ci_upper"] == pytest.approx(chi2.ppf(0.975, 2 * events + 2) / 2 / py * 100)
        assert result.rate_ratio is not None
        e1, e0 = expected["celecoxib"], expected["diclofenac"]
        assert result.rate_ratio.ratio == pytest.approx((e1[1] / e1[2]) / (e0[1] / e0[2]))
        survival = time_to_first_event(cdm, result)
        assert len(survival.curves) == 2 and survival.cox is not None
        assert survival.cox.one(covariate="target")["hazard_ratio"] > 0


def test_on_treatment_incidence_on_hand_made_cdm() -> None:
    # expected by hand (see tests/data/cdm_small/README.md): target persons 1 and 2, person 1 has the
    # outcome on day 20; person 2 is followed 1 Mar - 29 Apr 2011 (60 days). Comparator: person 4
    # (event on day 46); person 5 had the outcome before index and is left out.
    with open_cdm(SMALL) as cdm:
        t, c = build_comparative_cohorts(
            cdm,
            NewUserCohortDefinition("t", ConceptSet("t", (1001,))),
            NewUserCohortDefinition("c", ConceptSet("c", (1002,))),
        )
        result = incidence(cdm, t, outcome_from_concept_ids("o", (5001,)), comparator=c)
        assert (result.overall("t")["persons"], result.overall("t")["events"], result.overall("t")["person_days"]) == (
            2,
            1,
            80,
        )
        assert (result.overall("c")["persons"], result.overall("c")["events"], result.overall("c")["person_days"]) == (
            1,
            1,
            46,
        )
        assert any("1 persons with o before the index date" in n for n in result.notes)
        strata = {(r["stratum_type"], r["stratum"]): r["persons"] for r in result.rates.where(cohort="t")}
        assert strata[("age group", ">=65")] == 1 and strata[("age group", "<65")] == 1
        assert strata[("sex", "female")] == 1 and strata[("sex", "male")] == 1
        since = build_comparative_cohorts(
            cdm,
            NewUserCohortDefinition("t", ConceptSet("t", (1001,)), time_at_risk=TimeAtRisk(TarKind.SINCE_FIRST)),
            NewUserCohortDefinition("c", ConceptSet("c", (1002,)), time_at_risk=TimeAtRisk(TarKind.SINCE_FIRST)),
        )
        r2 = incidence(cdm, since[0], outcome_from_concept_ids("o", (5001,)))
        assert r2.overall()["person_days"] == 20 + 672
        keep = incidence(cdm, c, OutcomeDefinition("o", ConceptSet("o", (5001,)), exclude_prior=False))
        assert keep.overall()["persons"] == 2 and keep.overall()["events"] == 1


def test_lab_outcome_concomitant_strata_and_sir() -> None:
    cdm = cdm_from_records(
        {
            "person": [{"person_id": p, "gender_concept_id": 8532, "year_of_birth": 1960} for p in (1, 2, 3)],
            "observation_period": [
                {
                    "person_id": p,
                    "observation_period_start_date": "2010-01-01",
                    "observation_period_end_date": "2012-12-31",
                }
                for p in (1, 2, 3)
            ],
            "drug_exposure": [
                *(
                    {
                        "person_id": p,
                        "drug_concept_id": 7,
                        "drug_exposure_start_date": "2011-01-01",
                        "drug_exposure_end_date": "2011-12-31",
                    }
                    for p in (1, 2, 3)
                ),
                {
                    "person_id": 1,
                    "drug_concept_id": 9,
                    "drug_exposure_start_date": "2010-12-01",
                    "drug_exposure_end_date": "2010-12-20",
                },
                {
                    "person_id": 2,
                    "drug_concept_id": 9,
                    "drug_exposure_start_date": "2011-01-01",
                    "drug_exposure_end_date": "2011-01-01",
                },
            ],
            "measurement": [
                {
                    "person_id": 1,
                    "measurement_concept_id": 50,
                    "measurement_date": "2011-03-01",
                    "value_as_number": 1.5,
                    "unit_source_value": "10^9/L",
                },
                {
                    "person_id": 2,
                    "measurement_concept_id": 50,
                    "measurement_date": "2011-03-01",
                    "value_as_number": 1490.0,
                    "unit_source_value": "cells/uL",
                },
                {
                    "person_id": 3,
                    "measurement_concept_id": 50,
                    "measurement_date": "2011-04-01",
                    "value_as_number": 0.9,
                },
            ],
        }
    )
    from riskplan.studies.cohorts import build_new_user_cohort

    cohort = build_new_user_cohort(
        cdm,
        NewUserCohortDefinition(
            "d", ConceptSet("d", (7,)), washout_days=0, time_at_risk=TimeAtRisk(TarKind.SINCE_FIRST)
        ),
    )
    lab = LabThreshold("neutrophil count", ConceptSet("anc", (50,)), LabComparator.LT, 1.5, "10^9/L", "CTCAE v5.0")
    background = BackgroundRates(
        (BackgroundRate("neutropenia", "all", "all", 10.0, "test", "illustrative", "test"),), "test"
    )
    result = incidence(
        cdm,
        cohort,
        OutcomeDefinition("neutropenia", labs=(lab,)),
        concomitant=ConceptSet("is", (9,)),
        background=background,
    )
    assert result.overall()["events"] == 2  # 1.5 is not < 1.5; 1490 cells/uL = 1.49 x10^9/L is
    conc = {r["stratum"]: r["persons"] for r in result.rates.where(stratum_type="concomitant immunosuppressant")}
    assert conc == {"yes": 1, "no": 2}  # person 2's index-day dose does not count as concomitant
    assert result.sir is not None
    sir = result.sir.one(cohort="d")
    assert sir["expected"] == pytest.approx(result.overall()["person_years"] * 0.10)
    assert sir["observed"] == 2


def test_plan_concern_outcomes() -> None:
    plan = load_plan("uplizna")
    neutropenia = outcome_from_concern(plan.concern("neutropenia"))
    assert neutropenia.concepts is not None and len(neutropenia.labs) == 1
    assert neutropenia.labs[0].value == 1.5 and neutropenia.labs[0].comparator is LabComparator.LT
    infections = outcome_from_concern(plan.concern("serious-infections"))
    assert infections.concepts is not None and not infections.unmapped
    rates = load_background_rates()
    assert {"pml", "malignancy"} <= set(rates.outcomes())
    assert rates.best("pml", "<65", "female") is not None
    assert all(r.evidence in ("published", "illustrative") for r in rates.rates)


def test_on_treatment_gi_bleed_matches_an_independent_era_computation(eunomia_dir: Path) -> None:
    """On-treatment time at risk (30-day grace) recomputed in plain Python from rows read with plain SQL."""
    con = duckdb.connect()
    d = eunomia_dir
    exposures = con.execute(f"""
        SELECT x.person_id, x.drug_exposure_start_date,
               greatest(x.drug_exposure_start_date, COALESCE(x.drug_exposure_end_date,
                        x.drug_exposure_start_date + CAST(greatest(COALESCE(x.days_supply, 1), 1) - 1 AS INTEGER)))
        FROM read_csv('{d}/drug_exposure.csv', header=true) x
        JOIN read_csv('{d}/concept_ancestor.csv', header=true) a
          ON a.descendant_concept_id = x.drug_concept_id AND CAST(a.ancestor_concept_id AS BIGINT) = 1118084
        ORDER BY 1, 2, 3""").fetchall()
    periods = {
        p: (s, e)
        for p, s, e in con.execute(f"""
        SELECT o.person_id, o.observation_period_start_date, o.observation_period_end_date
        FROM read_csv('{d}/observation_period.csv', header=true) o
        WHERE o.person_id IN (SELECT person_id FROM read_csv('{d}/person.csv', header=true))""").fetchall()
    }
    bleeds: dict[int, list[dt.date]] = {}
    for p, day in con.execute(f"""
        SELECT c.person_id, c.condition_start_date FROM read_csv('{d}/condition_occurrence.csv', header=true) c
        JOIN read_csv('{d}/concept_ancestor.csv', header=true) a
          ON a.descendant_concept_id = c.condition_concept_id AND CAST(a.ancestor_concept_id AS BIGINT) = 192671
        """).fetchall():
        bleeds.setdefault(p, []).append(day)
    by_person: dict[int, list[tuple[dt.date, dt.date]]] = {}
    for p, s, e in exposures:
        by_person.setdefault(p, []).append((s, e))
    persons = events = days = 0
    for p, exp in by_person.items():
        index = exp[0][0]
        if p not in periods or not (periods[p][0] <= index <= periods[p][1]):
            continue
        if (index - periods[p][0]).days < 365 or any(b < index for b in bleeds.get(p, [])):
            continue
        era_end = exp[0][1]
        for s, e in exp[1:]:
            if s > era_end + dt.timedelta(days=30):
                break
            era_end = max(era_end, e)
        end = min(era_end + dt.timedelta(days=30), periods[p][1])
        first = min((b for b in bleeds.get(p, []) if index <= b <= end), default=None)
        persons += 1
        events += first is not None
        days += ((first or end) - index).days + 1
    with open_cdm(d) as cdm:
        from riskplan.studies.cohorts import build_new_user_cohort

        cohort = build_new_user_cohort(cdm, NewUserCohortDefinition("celecoxib", ConceptSet("c", (1118084,))))
        row = incidence(cdm, cohort, outcome_from_concept_ids("GI bleed", (192671,))).overall()
    assert (row["persons"], row["events"], row["person_days"]) == (persons, events, days)
