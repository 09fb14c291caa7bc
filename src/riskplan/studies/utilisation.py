"""Drug utilisation in a new-user cohort: dosing schedule, intervals, persistence, premedication.

* **Doses**: distinct dates of exposure to the cohort's drug during the first on-treatment era,
  numbered from 1 (the index date).
* **Adherence to the schedule**: dose k is on schedule when it falls within the schedule's window of
  its expected day, counted from the first dose. The schedule is the plan's (its ``dosing_schedule``
  infusion check, :func:`schedule_from_plan`): e.g. for UPLIZNA (SmPC 4.2) 300 mg on day 1 and day 15
  (expected days 0 and 14, +-3 days), then every 6 months from the first infusion (days 183, 366, ...;
  +-30 days).
* **Intervals** between consecutive doses: n, mean, median, quartiles, range (days).
* **Persistence**: time from index to the end of the first on-treatment era plus its grace period
  (the cohort's time-at-risk rules). Discontinuation = that end comes before the end of follow-up
  (observation end or death); otherwise censored. Kaplan–Meier persistence at 6, 12 and 24 months.
* **Premedication** with each dose: an exposure to a premedication class on the dose day or the day
  before (SmPC 4.2: corticosteroid, antihistamine and antipyretic before each infusion).
Proportions carry exact Clopper–Pearson 95% CIs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskplan.plan import DosingScheduleCheck, RiskManagementPlan
from riskplan.studies.cdm import Cdm
from riskplan.studies.cohorts import Cohort
from riskplan.studies.concepts import ConceptSet, expand_concept_set
from riskplan.studies.results import ResultTable
from riskplan.studies.stats import clopper_pearson
from riskplan.studies.vocabulary import PREMEDICATION_CLASSES


@dataclass(frozen=True)
class DosingSchedule:
    """Expected dose days counted from the first dose: loading doses, then a fixed interval."""

    name: str
    loading_days: tuple[int, ...] = (0, 14)
    interval_days: int = 183
    loading_window_days: int = 3
    window_days: int = 30

    def expected_day(self, dose_number: int) -> int:
        if dose_number <= len(self.loading_days):
            return self.loading_days[dose_number - 1]
        return self.interval_days * (dose_number - len(self.loading_days))

    def window(self, dose_number: int) -> int:
        return self.loading_window_days if dose_number <= len(self.loading_days) else self.window_days


def schedule_from_plan(plan: RiskManagementPlan) -> DosingSchedule | None:
    """The schedule of the plan's ``dosing_schedule`` infusion check (None when the plan has none): its
    loading doses, then one dose every ``maintenance_interval_months`` (a month: 30.5 days, 6 months: 183)."""
    for check in plan.infusion_checks:
        if isinstance(check, DosingScheduleCheck):
            p = check.parameters
            drug = plan.analysis.product if plan.analysis is not None else None
            substance = drug.substance if drug is not None else plan.product.active_substance
            return DosingSchedule(
                f"{substance} (SmPC {check.smpc_section}): {check.title}",
                tuple(i * p.loading_interval_days for i in range(p.loading_doses)),
                round(p.maintenance_interval_months * 30.5),
            )
    return None


def default_premedication() -> dict[str, ConceptSet]:
    return {name: ConceptSet(name, ids) for name, ids in PREMEDICATION_CLASSES.items()}


@dataclass(frozen=True)
class UtilisationResult:
    cohort: str
    schedule: str | None
    doses: ResultTable
    intervals: ResultTable
    persistence: ResultTable
    premedication: ResultTable
    notes: tuple[str, ...]


def drug_utilisation(
    cdm: Cdm,
    cohort: Cohort,
    schedule: DosingSchedule | None = None,
    premedication: dict[str, ConceptSet] | None = None,
    max_doses: int = 12,
) -> UtilisationResult:
    """Doses, adherence to the SmPC schedule, intervals, Kaplan–Meier persistence and premedication
    (Clopper–Pearson CIs) of the cohort's first treatment era."""
    notes: list[str] = []
    doses_table = cdm.temp_name(f"doses_{cohort.name}")
    cdm.execute(
        f"""
CREATE TABLE {doses_table} AS
SELECT subject_id, dose_date, row_number() OVER (PARTITION BY subject_id ORDER BY dose_date) AS dose_number,
       date_diff('day', cohort_start_date, dose_date) AS day,
       date_diff('day', lag(dose_date) OVER (PARTITION BY subject_id ORDER BY dose_date), dose_date) AS interval_days
FROM (
  SELECT DISTINCT c.subject_id, c.cohort_start_date, de.drug_exposure_start_date AS dose_date
  FROM {cohort.table} c JOIN drug_exposure de ON de.person_id = c.subject_id
  WHERE de.drug_concept_id IN (SELECT concept_id FROM {cohort.drug.table})
    AND de.drug_exposure_start_date BETWEEN c.cohort_start_date AND c.era_end_date
)
"""
    )
    doses = _dose_table(cdm, doses_table, schedule, max_doses)
    intervals = _interval_table(cdm, doses_table, max_doses)
    persistence = _persistence(cdm, cohort, notes)
    premed = _premedication(cdm, doses_table, premedication or default_premedication())
    return UtilisationResult(
        cohort.name, schedule.name if schedule else None, doses, intervals, persistence, premed, tuple(notes)
    )


def _dose_table(cdm: Cdm, doses: str, schedule: DosingSchedule | None, max_doses: int) -> ResultTable:
    rows: list[tuple[object, ...]] = []
    counts = cdm.rows(
        f"SELECT dose_number, count(*), median(day), list(day) FROM {doses} WHERE dose_number <= {int(max_doses)} "
        f"GROUP BY dose_number ORDER BY dose_number"
    )
    for number, n, median_day, days in counts:
        number, n = int(number), int(n)
        if schedule is not None:
            expected, window = schedule.expected_day(number), schedule.window(number)
            on = sum(1 for d in days if abs(int(d) - expected) <= window)
            ci = clopper_pearson(on, n)
            rows.append((number, n, float(median_day), expected, window, on, ci.estimate, ci.lower, ci.upper))
        else:
            rows.append((number, n, float(median_day), None, None, None, None, None, None))
    return ResultTable.from_records(
        "doses and adherence to the schedule",
        (
            "dose_number",
            "persons",
            "median_day",
            "expected_day",
            "window_days",
            "on_schedule",
            "proportion_on_schedule",
            "ci_lower",
            "ci_upper",
        ),
        rows,
    )


def _interval_table(cdm: Cdm, doses: str, max_doses: int) -> ResultTable:
    sql = f"""
SELECT (dose_number - 1) || ' to ' || dose_number AS interval, count(*) AS n,
       avg(interval_days) AS mean_days, median(interval_days) AS median_days,
       quantile_cont(interval_days, 0.25) AS q1_days, quantile_cont(interval_days, 0.75) AS q3_days,
       min(interval_days) AS min_days, max(interval_days) AS max_days
FROM {doses} WHERE dose_number > 1 AND dose_number <= {int(max_doses)}
GROUP BY dose_number ORDER BY dose_number
"""
    return cdm.query("intervals between doses", sql)


def _persistence(cdm: Cdm, cohort: Cohort, notes: list[str]) -> ResultTable:
    from riskplan.studies.survival import kaplan_meier

    d = cdm.arrays(
        f"SELECT date_diff('day', cohort_start_date, treatment_end_date) + 1 AS days, "
        f"CAST(treatment_end_date < followup_end_date AS INTEGER) AS discontinued FROM {cohort.table}"
    )
    n = len(d["days"])
    discontinued = int(d["discontinued"].sum()) if n else 0
    rows: list[tuple[object, ...]] = [
        ("persons", n, None, None, None),
        ("discontinued", discontinued, None, None, None),
    ]
    if n:
        curve = kaplan_meier(d["days"].astype(float), d["discontinued"].astype(int), cohort.name)
        times = np.array(curve.table.column("days"))
        surv = curve.table.column("survival")
        lo = curve.table.column("ci_lower")
        hi = curve.table.column("ci_upper")
        for label, day in (
            ("persistent at 6 months", 183),
            ("persistent at 12 months", 365),
            ("persistent at 24 months", 730),
        ):
            idx = int(np.searchsorted(times, day, side="right")) - 1
            if idx < 0:
                rows.append((label, None, 1.0, 1.0, 1.0))
            else:
                rows.append((label, None, surv[idx], lo[idx], hi[idx]))
        rows.append(("median persistence (days)", None, curve.median_days, None, None))
    else:
        notes.append(f"{cohort.name}: empty cohort, no persistence estimate")
    return ResultTable.from_records(
        "persistence (Kaplan-Meier)", ("measure", "persons", "estimate", "ci_lower", "ci_upper"), rows
    )


def _premedication(cdm: Cdm, doses: str, classes: dict[str, ConceptSet]) -> ResultTable:
    # One query for every class and for all classes together: per class, the doses (one row per person
    # and date) with a premedication start on the dose day or the day before, joined to the doses.
    joins = []
    flags = []
    for k, cs in enumerate(classes.values()):
        exp = expand_concept_set(cdm, cs)
        joins.append(
            f"LEFT JOIN (SELECT DISTINCT d2.subject_id, d2.dose_date FROM {doses} d2 "
            f"JOIN drug_exposure p ON p.person_id = d2.subject_id "
            f"AND p.drug_concept_id IN (SELECT concept_id FROM {exp.table}) "
            f"AND p.drug_exposure_start_date BETWEEN d2.dose_date - 1 AND d2.dose_date) f{k} "
            f"ON f{k}.subject_id = d.subject_id AND f{k}.dose_date = d.dose_date"
        )
        flags.append(f"f{k}.subject_id IS NOT NULL")
    sums = [f"CAST(COALESCE(sum(CASE WHEN {flag} THEN 1 ELSE 0 END), 0) AS BIGINT)" for flag in flags]
    if flags:
        sums.append(f"CAST(COALESCE(sum(CASE WHEN {' AND '.join(flags)} THEN 1 ELSE 0 END), 0) AS BIGINT)")
    total, *with_premedication = cdm.rows(f"SELECT {', '.join(['count(*)', *sums])} FROM {doses} d {' '.join(joins)}")[
        0
    ]
    total = int(total)
    rows = []
    names = [*classes, "all classes"] if flags else []
    for name, k in zip(names, with_premedication, strict=True):
        ci = clopper_pearson(int(k), total)
        rows.append((name, total, int(k), ci.estimate, ci.lower, ci.upper))
    return ResultTable.from_records(
        "premedication with each dose",
        ("premedication", "doses", "doses_with_premedication", "proportion", "ci_lower", "ci_upper"),
        rows,
    )
