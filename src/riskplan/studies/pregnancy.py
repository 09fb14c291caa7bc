"""Pregnancy registry analysis: pregnancies exposed to the drug and their outcomes.

**Pregnancy records** (the layout the synthetic data and the registry mapping write; see
:mod:`riskplan.studies.vocabulary` for the concepts):

* ``observation`` *pregnancy start* on the first day of the last menstrual period (LMP);
* ``observation`` *outcome* (live birth, spontaneous abortion, stillbirth, elective termination) on
  the outcome date, ``value_as_number`` = gestational age at outcome in weeks;
* ``measurement`` *birth weight* (grams) and ``observation`` *sex of infant* (value_as_concept_id
  8507/8532) on the outcome date; ``observation`` *major congenital malformation* (MCM) from the
  outcome date up to one year after;
* ``observation`` *pregnancy registry enrolment* on the enrolment date.

A pregnancy is a pregnancy-start record linked to the first outcome record within 45 weeks after it.
Conception is taken as LMP + 14 days. **Exposure** (the plan's definition): any dose of the drug
during pregnancy or within 6 months before conception, i.e. a dose dated from conception - 183 days
to the outcome date (LMP + 280 days when the outcome is unknown).

**Enrolment**: prospective = enrolled before the outcome date; retrospective = enrolled on or after
it; "not enrolled" = database pregnancies without a registry enrolment. The three are kept apart and
never pooled, as registry guidance asks (FDA 2019 draft guidance on postapproval pregnancy safety
studies; EMA GVP Product- or Population-Specific Considerations III).

**Outcomes** with exact Clopper–Pearson 95% CIs and their denominators:

* live birth, spontaneous abortion, stillbirth, elective termination: of pregnancies with an outcome;
* preterm birth (< 37 completed weeks): of live births with a gestational age;
* small for gestational age (birth weight < 10th centile of the INTERGROWTH-21st Newborn Size
  Standards for sex and completed week, shipped in ``data/intergrowth21_birthweight_p10.csv``, weeks
  33-42): of live births with weight, sex and a gestational age in that range;
* major congenital malformation: of live births and stillbirths.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from importlib import resources

from riskplan.studies import vocabulary as v
from riskplan.studies.cdm import Cdm
from riskplan.studies.concepts import ConceptSet, expand_concept_set
from riskplan.studies.results import ResultTable
from riskplan.studies.stats import clopper_pearson

OUTCOME_CONCEPTS = {
    v.LIVE_BIRTH: "live birth",
    v.SPONTANEOUS_ABORTION: "spontaneous abortion",
    v.STILLBIRTH: "stillbirth",
    v.ELECTIVE_TERMINATION: "elective termination",
}
PRECONCEPTION_DAYS = 183
"""Six months before conception (the plan's exposure definition)."""


def intergrowth_p10() -> dict[tuple[int, str], float]:
    """(completed week, 'male'|'female') -> 10th-centile birth weight in grams (INTERGROWTH-21st)."""
    text = (resources.files("riskplan.studies") / "data" / "intergrowth21_birthweight_p10.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if line and not line.startswith("#"))
    return {(int(r["gestational_week"]), r["sex"]): float(r["p10_grams"]) for r in rows}


def is_small_for_gestational_age(weight_g: float, ga_weeks: float, sex: str) -> bool | None:
    """Birth weight below the INTERGROWTH-21st 10th centile; None when not assessable (week outside 33-42)."""
    p10 = intergrowth_p10().get((math.floor(ga_weeks), sex))
    return None if p10 is None else weight_g < p10


@dataclass(frozen=True)
class _Pregnancy:
    pregnancy_id: int
    outcome: str | None
    ga: float | None
    sga: bool | None
    mcm: bool


@dataclass(frozen=True)
class PregnancyResult:
    drug: str
    pregnancies: ResultTable
    outcomes: ResultTable
    notes: tuple[str, ...]
    episodes_table: str


def pregnancy_outcomes(cdm: Cdm, drug: ConceptSet) -> PregnancyResult:
    """Pregnancy outcomes by exposure to ``drug`` and enrolment type, with Clopper–Pearson CIs; SGA by the
    INTERGROWTH-21st newborn standards (Villar 2014)."""
    notes: list[str] = []
    exp = expand_concept_set(cdm, drug)
    if exp.note:
        notes.append(exp.note)
    outcome_ids = ", ".join(str(c) for c in OUTCOME_CONCEPTS)
    episodes = cdm.temp_name("pregnancies")
    sql = f"""
CREATE TABLE {episodes} AS
WITH starts AS (
  SELECT DISTINCT person_id, observation_date AS lmp_date FROM observation
  WHERE observation_concept_id = {v.PREGNANCY_START}
), outc AS (
  SELECT person_id, observation_date AS outcome_date, observation_concept_id AS outcome_concept_id,
         value_as_number AS ga_weeks FROM observation WHERE observation_concept_id IN ({outcome_ids})
), linked AS (
  SELECT s.person_id, s.lmp_date, o.outcome_date, o.outcome_concept_id,
         COALESCE(o.ga_weeks, date_diff('day', s.lmp_date, o.outcome_date) / 7.0) AS ga_weeks
  FROM starts s LEFT JOIN outc o ON o.person_id = s.person_id
   AND o.outcome_date > s.lmp_date AND o.outcome_date <= s.lmp_date + 315
  QUALIFY row_number() OVER (PARTITION BY s.person_id, s.lmp_date ORDER BY o.outcome_date NULLS LAST) = 1
)
SELECT row_number() OVER (ORDER BY l.person_id, l.lmp_date) AS pregnancy_id, l.*,
  (SELECT min(observation_date) FROM observation e WHERE e.person_id = l.person_id
     AND e.observation_concept_id = {v.REGISTRY_ENROLMENT}
     AND e.observation_date BETWEEN l.lmp_date AND COALESCE(l.outcome_date, l.lmp_date + 315) + 365) AS enrolment_date,
  (SELECT max(value_as_number) FROM measurement m WHERE m.person_id = l.person_id
     AND m.measurement_concept_id = {v.BIRTH_WEIGHT} AND m.measurement_date = l.outcome_date) AS birth_weight_g,
  (SELECT max(value_as_concept_id) FROM observation x WHERE x.person_id = l.person_id
     AND x.observation_concept_id = {v.INFANT_SEX} AND x.observation_date = l.outcome_date) AS infant_sex_concept_id,
  EXISTS (SELECT 1 FROM observation x WHERE x.person_id = l.person_id
     AND x.observation_concept_id = {v.MAJOR_CONGENITAL_MALFORMATION}
     AND x.observation_date BETWEEN l.outcome_date AND l.outcome_date + 365) AS mcm,
  EXISTS (SELECT 1 FROM drug_exposure d WHERE d.person_id = l.person_id
     AND d.drug_concept_id IN (SELECT concept_id FROM {exp.table})
     AND d.drug_exposure_start_date BETWEEN l.lmp_date + 14 - {PRECONCEPTION_DAYS}
         AND COALESCE(l.outcome_date, l.lmp_date + 280)) AS exposed
FROM linked l
"""
    cdm.execute(sql)
    rows = cdm.rows(
        f"SELECT pregnancy_id, outcome_date, outcome_concept_id, ga_weeks, enrolment_date, birth_weight_g, "
        f"infant_sex_concept_id, mcm, exposed FROM {episodes}"
    )
    p10 = intergrowth_p10()
    groups: dict[tuple[str, str], list[_Pregnancy]] = {}
    for pid, outcome_date, outcome_cid, ga, enrol, weight, sex_cid, mcm, exposed in rows:
        if enrol is None:
            enrolment = "not enrolled"
        elif outcome_date is None or enrol < outcome_date:
            enrolment = "prospective"
        else:
            enrolment = "retrospective"
        sex = {v.MALE: "male", v.FEMALE: "female"}.get(int(sex_cid)) if sex_cid is not None else None
        sga: bool | None = None
        if outcome_cid == v.LIVE_BIRTH and weight is not None and ga is not None and sex is not None:
            limit = p10.get((math.floor(float(ga)), sex))
            sga = None if limit is None else float(weight) < limit
        groups.setdefault(("exposed" if exposed else "unexposed", enrolment), []).append(
            _Pregnancy(
                int(pid),
                OUTCOME_CONCEPTS.get(int(outcome_cid)) if outcome_cid is not None else None,
                None if ga is None else float(ga),
                sga,
                bool(mcm),
            )
        )
    count_rows = []
    outcome_rows: list[tuple[object, ...]] = []
    for (exposure, enrolment), preg in sorted(groups.items()):
        known = [p for p in preg if p.outcome is not None]
        count_rows.append((exposure, enrolment, len(preg), len(known), len(preg) - len(known)))
        for name in OUTCOME_CONCEPTS.values():
            outcome_rows.append(
                _proportion(
                    exposure,
                    enrolment,
                    name,
                    sum(1 for p in known if p.outcome == name),
                    len(known),
                    "pregnancies with an outcome",
                )
            )
        live = [p for p in known if p.outcome == "live birth"]
        live_ga = [p for p in live if p.ga is not None]
        outcome_rows.append(
            _proportion(
                exposure,
                enrolment,
                "preterm birth (<37 weeks)",
                sum(1 for p in live_ga if p.ga is not None and p.ga < 37),
                len(live_ga),
                "live births with gestational age",
            )
        )
        assessable = [p for p in live if p.sga is not None]
        outcome_rows.append(
            _proportion(
                exposure,
                enrolment,
                "small for gestational age (<10th centile)",
                sum(1 for p in assessable if p.sga),
                len(assessable),
                "live births assessable (weeks 33-42, weight and sex known)",
            )
        )
        births = [p for p in known if p.outcome in ("live birth", "stillbirth")]
        outcome_rows.append(
            _proportion(
                exposure,
                enrolment,
                "major congenital malformation",
                sum(1 for p in births if p.mcm),
                len(births),
                "live births and stillbirths",
            )
        )
    pregnancies = ResultTable.from_records(
        "pregnancies", ("exposure", "enrolment", "pregnancies", "with_outcome", "outcome_unknown"), count_rows
    )
    outcomes = ResultTable.from_records(
        "pregnancy outcomes",
        (
            "exposure",
            "enrolment",
            "outcome",
            "n",
            "denominator",
            "proportion",
            "ci_lower",
            "ci_upper",
            "denominator_is",
        ),
        outcome_rows,
    )
    if not rows:
        notes.append("no pregnancy records (pregnancy-start observations) in this CDM")
    notes.append(
        f"exposure: any {drug.name} dose from {PRECONCEPTION_DAYS} days before conception (LMP + 14 days) "
        "to the outcome"
    )
    return PregnancyResult(drug.name, pregnancies, outcomes, tuple(notes), episodes)


def _proportion(exposure: str, enrolment: str, outcome: str, n: int, d: int, what: str) -> tuple[object, ...]:
    ci = clopper_pearson(n, d)
    return (exposure, enrolment, outcome, n, d, ci.estimate, ci.lower, ci.upper, what)
