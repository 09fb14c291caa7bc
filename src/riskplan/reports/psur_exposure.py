"""PSUR exposure and safety-concern evaluation: patient exposure (ICH E2C(R2) 3.5, GVP VII.B.5.5) from an OMOP
CDM or the MAH's table, study incidence rates from the CDM, and observed against expected per safety concern
(E2C(R2) 3.16.3-3.16.4).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from riskplan.errors import UserInputError
from riskplan.plan import ConcernCategory, RiskManagementPlan, SafetyConcern
from riskplan.reports.psur_counts import CaseCounts, ConcernCount
from riskplan.reports.study_report import fmt

if TYPE_CHECKING:
    from riskplan.studies import Cdm

EXPOSURE_COLUMNS: Final = ("period", "patients", "patient_years", "source")
PERSON_YEAR_DAYS: Final = 365.25

# --------------------------------------------------------------------------------------------------
# Exposure (E2C(R2) 3.5; GVP VII.B.5.5)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExposureRow:
    """A row of the exposure table: ``period`` is "interval", "cumulative" or the MAH's own label."""

    period: str
    patients: int
    patient_years: float
    source: str


@dataclass(frozen=True)
class Exposure:
    """Patient exposure from marketing experience (E2C(R2) 3.5.2)."""

    kind: str  # "cdm" | "file" | "none"
    description: str
    interval_patients: int | None
    interval_patient_years: float | None
    cumulative_patients: int | None
    cumulative_patient_years: float | None
    rows: tuple[ExposureRow, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def available(self) -> bool:
        return self.interval_patient_years is not None or self.cumulative_patient_years is not None


NO_EXPOSURE = Exposure(
    "none",
    "Exposure was not provided (no --cdm or --exposure).",
    None,
    None,
    None,
    None,
)


def read_exposure_csv(path: Path) -> list[ExposureRow]:
    """The MAH's exposure table: CSV with a header ``period,patients,patient_years,source``.

    ``period`` "interval" and "cumulative" rows give the figures of section 5.2 (several rows of the same
    period, e.g. one per region, are added up); rows with other periods (e.g. "2025-Q1") are shown as given.
    """
    if not path.is_file():
        raise UserInputError(f"--exposure: {path}: no such file (expected a CSV with {', '.join(EXPOSURE_COLUMNS)})")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserInputError(f"--exposure: {path.name} is not UTF-8 text (byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in EXPOSURE_COLUMNS if c not in header]
    if missing:
        raise UserInputError(
            f"--exposure: {path.name}: missing column(s) {', '.join(missing)}; expected the header "
            f"{','.join(EXPOSURE_COLUMNS)}"
        )
    rows: list[ExposureRow] = []
    for line, raw in enumerate(reader, start=2):
        record = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        if not any(record.values()):
            continue
        period = record["period"]
        if not period:
            raise UserInputError(f"--exposure: {path.name} line {line}: empty period")
        try:
            patients = int(record["patients"])
            years = float(record["patient_years"])
        except ValueError:
            raise UserInputError(
                f"--exposure: {path.name} line {line}: patients must be a whole number and patient_years a "
                f"number, found {record['patients']!r} and {record['patient_years']!r}"
            ) from None
        if patients < 0 or years < 0 or not math.isfinite(years):
            raise UserInputError(f"--exposure: {path.name} line {line}: patients and patient_years must be >= 0")
        rows.append(ExposureRow(period, patients, years, record["source"] or "not stated"))
    if not rows:
        raise UserInputError(f"--exposure: {path.name} has no rows")
    return rows


def exposure_from_rows(rows: Sequence[ExposureRow], description: str) -> Exposure:
    def total(period: str) -> tuple[int | None, float | None]:
        chosen = [r for r in rows if r.period.casefold() == period]
        if not chosen:
            return None, None
        return sum(r.patients for r in chosen), sum(r.patient_years for r in chosen)

    ip, iy = total("interval")
    cp, cy = total("cumulative")
    notes = []
    if iy is None:
        notes.append('no row with period "interval": interval exposure not stated')
    if cy is None:
        notes.append('no row with period "cumulative": cumulative exposure not stated')
    return Exposure("file", description, ip, iy, cp, cy, tuple(rows), tuple(notes))


_ERA_SQL = """
WITH exp AS (
  SELECT de.person_id, de.drug_exposure_start_date AS s,
         GREATEST(de.drug_exposure_start_date,
                  COALESCE(de.drug_exposure_end_date,
                           de.drug_exposure_start_date + (GREATEST(COALESCE(de.days_supply, 1), 1) - 1)),
                  de.drug_exposure_start_date + {covers}) AS e
  FROM drug_exposure de
  WHERE de.drug_concept_id IN (SELECT concept_id FROM {concepts})
    AND de.drug_exposure_start_date IS NOT NULL AND de.drug_exposure_start_date <= ?
),
stops AS (SELECT person_id, MAX(observation_period_end_date) AS op_end FROM observation_period GROUP BY person_id),
deaths AS (SELECT person_id, MIN(death_date) AS death_date FROM death GROUP BY person_id),
clipped AS (
  SELECT x.person_id, x.s, LEAST(x.e, COALESCE(st.op_end, x.e), COALESCE(d.death_date, x.e)) AS e
  FROM exp x LEFT JOIN stops st ON st.person_id = x.person_id LEFT JOIN deaths d ON d.person_id = x.person_id
),
ordered AS (
  SELECT person_id, s, e,
         MAX(e) OVER (PARTITION BY person_id ORDER BY s, e ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
  FROM clipped WHERE e >= s
),
islands AS (
  SELECT person_id, s, e,
         SUM(CASE WHEN prev_end IS NULL OR s > prev_end + 1 THEN 1 ELSE 0 END)
           OVER (PARTITION BY person_id ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS k
  FROM ordered
),
eras AS (SELECT person_id, MIN(s) AS s, MAX(e) AS e FROM islands GROUP BY person_id, k)
SELECT
  COUNT(DISTINCT CASE WHEN s <= ? AND e >= ? THEN person_id END),
  COALESCE(SUM(GREATEST(date_diff('day', GREATEST(s, ?), LEAST(e, ?)) + 1, 0)), 0),
  COUNT(DISTINCT person_id),
  COALESCE(SUM(GREATEST(date_diff('day', s, LEAST(e, ?)) + 1, 0)), 0)
FROM eras
"""


def _substance_key(plan: RiskManagementPlan) -> str | None:
    """The product's substance as the plan's studies name it, when it has OMOP concepts (plan or vocabulary)."""
    from riskplan.studies import drug_concepts, product_drug

    drug = product_drug(plan)
    return drug.substance if drug_concepts(drug) is not None else None


def cdm_exposure(cdm: Cdm, plan: RiskManagementPlan, start: dt.date, end: dt.date) -> Exposure:
    """Patients and patient-years on treatment with the product's ingredient in an OMOP CDM.

    Exposures of the ingredient concept set (descendants included) each cover their days (end date, else
    days supply; for a 6-monthly infusion at least 183 days, as in the plan's studies); overlapping or
    adjacent coverage is joined into treatment eras, cut at the end of observation and at death. Patients:
    persons with treatment time in the interval (cumulatively: on or before the DLP); patient-years: days
    on treatment / 365.25.
    """
    from riskplan.studies import drug_definition, expand_concept_set, product_drug

    key = _substance_key(plan)
    if key is None:
        return dataclasses.replace(
            NO_EXPOSURE,
            kind="cdm",
            description=f"OMOP CDM {cdm.source}",
            notes=(f"no OMOP concept is mapped for {plan.product.active_substance!r}: exposure not computed",),
        )
    definition = drug_definition(product_drug(plan))
    covers = definition.time_at_risk.dose_covers_days or 1
    concepts = expand_concept_set(cdm, definition.drug)
    row = next(
        iter(
            cdm.rows(
                _ERA_SQL.format(covers=int(covers) - 1, concepts=concepts.table), [end, end, start, start, end, end]
            )
        ),
        None,
    )
    ip, idays, cp, cdays = (int(x or 0) for x in (row or (0, 0, 0, 0)))
    notes = [n for n in (concepts.note,) if n]
    description = (
        f"OMOP CDM {cdm.source}: persons with {plan.product.active_substance} exposure (concept "
        f"{', '.join(str(c) for c in definition.drug.concept_ids)} and descendants); each dose covers at least "
        f"{covers} day(s); eras cut at end of observation and death."
    )
    return Exposure(
        "cdm",
        description,
        ip,
        idays / PERSON_YEAR_DAYS,
        cp,
        cdays / PERSON_YEAR_DAYS,
        (
            ExposureRow("interval", ip, idays / PERSON_YEAR_DAYS, "OMOP CDM"),
            ExposureRow("cumulative", cp, cdays / PERSON_YEAR_DAYS, "OMOP CDM"),
        ),
        tuple(notes),
    )


# --------------------------------------------------------------------------------------------------
# Study rates: observed against expected (E2C(R2) 3.16.3-3.16.4)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyRate:
    rate_per_100py: float | None
    lower: float | None
    upper: float | None
    events: int
    person_years: float
    source: str


def cdm_study_rates(cdm: Cdm, plan: RiskManagementPlan) -> tuple[dict[str, StudyRate], tuple[str, ...]]:
    """Incidence of each concern's outcome in new users of the product (``riskplan.studies.incidence``)."""
    from riskplan.studies import build_new_user_cohort, drug_definition, incidence, outcome_from_concern, product_drug

    key = _substance_key(plan)
    if key is None:
        return {}, (f"no OMOP concept is mapped for {plan.product.active_substance!r}: no study rates",)
    definition = drug_definition(product_drug(plan))
    cohort = build_new_user_cohort(cdm, definition)
    notes = [f"new users of {key}: {cohort.persons:,} persons; time at risk {definition.time_at_risk.describe()}"]
    rates: dict[str, StudyRate] = {}
    for concern in plan.safety_concerns:
        outcome = outcome_from_concern(concern)
        if outcome.concepts is None and not outcome.labs:
            continue
        result = incidence(cdm, cohort, outcome)
        row = result.overall()
        rate = row["rate_per_100py"]
        rates[concern.id] = StudyRate(
            float(rate) if isinstance(rate, int | float) else None,
            _float_or_none(row["ci_lower"]),
            _float_or_none(row["ci_upper"]),
            int(str(row["events"])),
            float(str(row["person_years"])),
            f"incidence in new users of {key}, OMOP CDM ({cohort.persons:,} persons)",
        )
    return rates, tuple(notes)


def _float_or_none(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class ConcernEvaluation:
    """A safety concern in the reporting interval: cases, exposure-adjusted reporting rate, O/E."""

    concern: SafetyConcern
    number: str
    count: ConcernCount
    study: StudyRate | None
    expected_interval: float | None
    expected_cumulative: float | None
    oe_interval: tuple[float | None, float | None, float | None]
    oe_cumulative: tuple[float | None, float | None, float | None]
    reporting_rate_interval: float | None  # cases per 100 patient-years
    # A concern without a definition in the plan version counts no case: its counts are not assessable.
    defined: bool = True


def evaluate_concerns(
    plan: RiskManagementPlan, counts: CaseCounts, exposure: Exposure, rates: Mapping[str, StudyRate]
) -> list[ConcernEvaluation]:
    from riskplan.studies import standardised_ratio

    out = []
    for category in ConcernCategory:
        for n, concern in enumerate(plan.concerns_in(category), start=1):
            count = counts.concern(concern.id)
            study = rates.get(concern.id)
            exp_i = exp_c = None
            oe_i: tuple[float | None, float | None, float | None] = (None, None, None)
            oe_c: tuple[float | None, float | None, float | None] = (None, None, None)
            if study is not None and study.rate_per_100py is not None:
                if exposure.interval_patient_years is not None:
                    exp_i = study.rate_per_100py / 100.0 * exposure.interval_patient_years
                    r = standardised_ratio(count.interval, exp_i)
                    oe_i = (r.estimate, r.lower, r.upper)
                if exposure.cumulative_patient_years is not None:
                    exp_c = study.rate_per_100py / 100.0 * exposure.cumulative_patient_years
                    r = standardised_ratio(count.cumulative, exp_c)
                    oe_c = (r.estimate, r.lower, r.upper)
            py = exposure.interval_patient_years
            out.append(
                ConcernEvaluation(
                    concern=concern,
                    number=f"{category.heading} {n}",
                    count=count,
                    study=study,
                    expected_interval=exp_i,
                    expected_cumulative=exp_c,
                    oe_interval=oe_i,
                    oe_cumulative=oe_c,
                    reporting_rate_interval=(100.0 * count.interval / py) if py else None,
                    defined=not concern.definition.is_empty,
                )
            )
    return out


def ci_text(triple: tuple[float | None, float | None, float | None]) -> str:
    """An estimate with its 95% CI, "–" when there is none."""
    est, lo, hi = triple
    if est is None:
        return "–"
    return f"{fmt(est)} ({fmt(lo)} to {fmt(hi)})"
