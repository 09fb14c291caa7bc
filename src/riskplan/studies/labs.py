"""Laboratory safety during and after treatment: CTCAE v5.0 grades, shift tables, B-cell repletion, IgG.

**CTCAE v5.0 grades** (Common Terminology Criteria for Adverse Events v5.0, NCI 2017), values in 10^9/L:

* Neutrophil count decreased: G1 <LLN-1.5, G2 <1.5-1.0, G3 <1.0-0.5, G4 <0.5.
* Lymphocyte count decreased: G1 <LLN-0.8, G2 <0.8-0.5, G3 <0.5-0.2, G4 <0.2.

The wording "<1.5-1.0" means below 1.5 down to and including 1.0: a neutrophil count of exactly 1.5
is grade 1 (when 1.5 < LLN), 1.0 is grade 2, 0.99 grade 3. The LLN is the record's ``range_low``
when present, otherwise the analyte's default (see :data:`riskplan.studies.vocabulary.LAB_ANALYTES`).

**Periods**: baseline = the last value from ``baseline_days`` before index up to the index date;
during treatment = after index up to the end of the on-treatment era (with grace period); after
treatment = after that up to the end of follow-up. A shift table counts persons by baseline grade and
worst grade in a period.

**B-cell repletion** (defined here, after N-MOmentum's definition of return to the lower of baseline
or LLN): among persons who discontinued (on-treatment era ended before the end of follow-up), the
first CD19 count after the last dose that is >= min(LLN, baseline CD19) — or >= LLN without a
baseline value. Time to repletion is counted from the last dose; persons not repleted are censored at
their last CD19 count after the last dose. Kaplan–Meier estimates the median and the proportion
repleted by 12 and 24 months.

**IgG below threshold**: any IgG during (or after) treatment < ``igg_threshold`` g/L (default 7 g/L,
a common adult lower reference limit and hypogammaglobulinaemia mark); with ``igg_threshold=None`` the
record's LLN (``range_low``) is used instead. Proportions carry Clopper–Pearson 95% CIs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskplan.studies.cdm import Cdm
from riskplan.studies.cohorts import Cohort
from riskplan.studies.concepts import ConceptSet, expand_concept_set
from riskplan.studies.labs_units import UNIT_TABLE_COLUMNS, UnitConversion, unit_conversion
from riskplan.studies.results import ResultTable
from riskplan.studies.stats import clopper_pearson
from riskplan.studies.survival import KaplanMeierCurve, kaplan_meier
from riskplan.studies.vocabulary import LAB_ANALYTES, LabAnalyte


@dataclass(frozen=True)
class CtcaeGrading:
    """A CTCAE v5.0 'count decreased' term: grade 2, 3 and 4 start below these limits; grade 1 below LLN."""

    term: str
    analyte: str
    unit: str
    grade2_below: float
    grade3_below: float
    grade4_below: float

    def grade(self, value: float, lln: float) -> int:
        """The CTCAE v5.0 grade of one value (0 when at or above LLN)."""
        if value < self.grade4_below:
            return 4
        if value < self.grade3_below:
            return 3
        if value < self.grade2_below:
            return 2
        if value < lln:
            return 1
        return 0

    def grade_sql(self, value: str, lln: str) -> str:
        """The same grading as a SQL CASE expression."""
        return (
            f"(CASE WHEN {value} < {self.grade4_below!r} THEN 4 WHEN {value} < {self.grade3_below!r} THEN 3 "
            f"WHEN {value} < {self.grade2_below!r} THEN 2 WHEN {value} < {lln} THEN 1 ELSE 0 END)"
        )


NEUTROPHIL_COUNT_DECREASED = CtcaeGrading("Neutrophil count decreased", "neutrophil count", "10^9/L", 1.5, 1.0, 0.5)
LYMPHOCYTE_COUNT_DECREASED = CtcaeGrading("Lymphocyte count decreased", "lymphocyte count", "10^9/L", 0.8, 0.5, 0.2)
CTCAE_V5 = (NEUTROPHIL_COUNT_DECREASED, LYMPHOCYTE_COUNT_DECREASED)


def ctcae_grade(term: CtcaeGrading, value: float, lln: float) -> int:
    """CTCAE v5.0 grade of ``value`` for ``term`` given the lower limit of normal."""
    return term.grade(value, lln)


@dataclass(frozen=True)
class LabSafetyResult:
    cohort: str
    grade_summary: ResultTable
    shift_tables: tuple[ResultTable, ...]
    b_cells: ResultTable
    repletion_curve: KaplanMeierCurve | None
    igg: ResultTable
    notes: tuple[str, ...]
    units: ResultTable | None = None  # lab values by unit: converted with which factor, or left out


def _values_sql(
    cdm: Cdm, cohort: Cohort, analyte: LabAnalyte, baseline_days: int, units: dict[str, UnitConversion]
) -> tuple[str, str]:
    """The analyte's values in its analysis unit; values whose unit does not convert are left out and
    counted in ``units`` (never taken as factor 1)."""
    cs = expand_concept_set(cdm, ConceptSet(analyte.name, (analyte.concept_id,), include_descendants=True))
    table = cdm.temp_name(f"lab_{analyte.name}_{cohort.name}")
    if analyte.name not in units:
        units[analyte.name] = unit_conversion(cdm, cs.table, analyte.name, analyte.unit)
    factor = units[analyte.name].factor_sql("m.unit_source_value")
    sql = f"""
CREATE TABLE {table} AS
SELECT c.subject_id, m.measurement_date AS date, m.value_as_number * {factor} AS value,
       COALESCE(m.range_low * {factor}, {analyte.default_lln!r}) AS lln,
       CASE WHEN m.measurement_date <= c.cohort_start_date THEN 'baseline'
            WHEN m.measurement_date <= c.treatment_end_date THEN 'during treatment'
            ELSE 'after treatment' END AS period
FROM {cohort.table} c JOIN measurement m ON m.person_id = c.subject_id
WHERE m.measurement_concept_id IN (SELECT concept_id FROM {cs.table}) AND m.value_as_number IS NOT NULL
  AND {factor} IS NOT NULL
  AND m.measurement_date BETWEEN c.cohort_start_date - {int(baseline_days)} AND c.followup_end_date
"""
    cdm.execute(sql)
    return table, sql


def lab_safety(
    cdm: Cdm,
    cohort: Cohort,
    baseline_days: int = 90,
    igg_threshold: float | None = 7.0,
    gradings: tuple[CtcaeGrading, ...] = CTCAE_V5,
) -> LabSafetyResult:
    """CTCAE v5.0 grades and shift tables, B-cell repletion (Kaplan–Meier) and low IgG (Clopper–Pearson)."""
    notes: list[str] = []
    units: dict[str, UnitConversion] = {}
    summary_rows: list[tuple[object, ...]] = []
    shifts: list[ResultTable] = []
    n_persons = cohort.persons
    for grading in gradings:
        analyte = LAB_ANALYTES[grading.analyte]
        values, _ = _values_sql(cdm, cohort, analyte, baseline_days, units)
        # Both periods' worst grades in one query, graded on the fly (no scratch table of its own).
        raw = cdm.rows(
            f"""
WITH graded AS (SELECT *, {grading.grade_sql("value", "lln")} AS grade FROM {values}),
base AS (
  SELECT subject_id, grade AS baseline_grade FROM (
    SELECT subject_id, grade, row_number() OVER (PARTITION BY subject_id ORDER BY date DESC, grade DESC) AS k
    FROM graded WHERE period = 'baseline'
  ) AS last_value WHERE k = 1
), w AS (
  SELECT subject_id,
         max(CASE WHEN period = 'during treatment' THEN grade END) AS worst_during,
         max(CASE WHEN period = 'after treatment' THEN grade END) AS worst_after
  FROM graded GROUP BY subject_id
)
SELECT c.subject_id, base.baseline_grade, w.worst_during, w.worst_after FROM {cohort.table} c
LEFT JOIN base ON base.subject_id = c.subject_id LEFT JOIN w ON w.subject_id = c.subject_id
"""
        )
        for column, period in ((2, "during treatment"), (3, "after treatment")):
            worst: list[tuple[int, int | None, int | None]] = [
                (
                    int(r[0]),
                    None if r[1] is None else int(r[1]),
                    None if r[column] is None else int(r[column]),
                )
                for r in raw
            ]
            with_values = [r for r in worst if r[2] is not None]
            n = len(with_values)
            counts = [sum(1 for r in with_values if (r[2] or 0) >= g) for g in (1, 2, 3, 4)]
            g3 = clopper_pearson(counts[2], n)
            summary_rows.append((grading.term, period, n_persons, n, *counts, g3.estimate, g3.lower, g3.upper))
            shifts.append(_shift_table(grading.term, period, worst))
    summary = ResultTable.from_records(
        "CTCAE v5.0 worst grade",
        (
            "term",
            "period",
            "persons",
            "persons_with_values",
            "grade_1_or_worse",
            "grade_2_or_worse",
            "grade_3_or_worse",
            "grade_4",
            "proportion_grade_3_or_worse",
            "ci_lower",
            "ci_upper",
        ),
        summary_rows,
    )
    b_cells, curve = _b_cell_repletion(cdm, cohort, baseline_days, notes, units)
    igg = _igg(cdm, cohort, baseline_days, igg_threshold, units)
    if igg_threshold is None:
        notes.append("IgG threshold: the record's lower limit of normal (range_low), else 7 g/L")
    else:
        notes.append(f"IgG threshold: < {igg_threshold:g} g/L")
    for conversion in units.values():
        notes.extend(conversion.notes())
    by_unit = ResultTable.from_records(
        "lab values by unit", UNIT_TABLE_COLUMNS, [row for c in units.values() for row in c.rows()]
    )
    return LabSafetyResult(cohort.name, summary, tuple(shifts), b_cells, curve, igg, tuple(notes), by_unit)


def _shift_table(term: str, period: str, worst: list[tuple[int, int | None, int | None]]) -> ResultTable:
    columns = ("baseline_grade", "worst_0", "worst_1", "worst_2", "worst_3", "worst_4", "no_value", "total")
    rows = []
    for base in ("0", "1", "2", "3", "4", "missing"):
        subset = [r for r in worst if (str(r[1]) if r[1] is not None else "missing") == base]
        cells = [sum(1 for r in subset if r[2] == g) for g in range(5)]
        rows.append((base, *cells, sum(1 for r in subset if r[2] is None), len(subset)))
    return ResultTable.from_records(f"shift {term} {period}", columns, rows)


def _b_cell_repletion(
    cdm: Cdm, cohort: Cohort, baseline_days: int, notes: list[str], units: dict[str, UnitConversion]
) -> tuple[ResultTable, KaplanMeierCurve | None]:
    analyte = LAB_ANALYTES["cd19 b-cell count"]
    values, _ = _values_sql(cdm, cohort, analyte, baseline_days, units)
    table = cdm.temp_name(f"repletion_{cohort.name}")
    cdm.execute(
        f"""
CREATE TABLE {table} AS
WITH last_dose AS (
  SELECT c.subject_id, max(de.drug_exposure_start_date) AS last_dose_date
  FROM {cohort.table} c JOIN drug_exposure de ON de.person_id = c.subject_id
  WHERE de.drug_concept_id IN (SELECT concept_id FROM {cohort.drug.table})
    AND de.drug_exposure_start_date BETWEEN c.cohort_start_date AND c.era_end_date
  GROUP BY c.subject_id
), base AS (
  SELECT subject_id, value AS baseline FROM (
    SELECT subject_id, value, row_number() OVER (PARTITION BY subject_id ORDER BY date DESC, value DESC) AS k
    FROM {values} WHERE period = 'baseline'
  ) AS last_value WHERE k = 1
), disc AS (
  SELECT c.subject_id, l.last_dose_date, b.baseline
  FROM {cohort.table} c JOIN last_dose l ON l.subject_id = c.subject_id
  LEFT JOIN base b ON b.subject_id = c.subject_id
  WHERE c.treatment_end_date < c.followup_end_date
), after AS (
  SELECT d.subject_id, v.date, v.value, v.lln, d.baseline, d.last_dose_date,
         v.value >= CASE WHEN d.baseline IS NULL THEN v.lln ELSE least(v.lln, d.baseline) END AS repleted
  FROM disc d JOIN {values} v ON v.subject_id = d.subject_id AND v.date > d.last_dose_date
)
SELECT d.subject_id, d.last_dose_date, d.baseline,
       min(CASE WHEN a.repleted THEN a.date END) AS repletion_date,
       max(a.date) AS last_cd19_date, count(a.date) AS cd19_after_last_dose
FROM disc d LEFT JOIN after a ON a.subject_id = d.subject_id
GROUP BY d.subject_id, d.last_dose_date, d.baseline
"""
    )
    d = cdm.arrays(
        f"SELECT date_diff('day', last_dose_date, COALESCE(repletion_date, last_cd19_date)) AS days, "
        f"CAST(repletion_date IS NOT NULL AS INTEGER) AS repleted FROM {table} WHERE cd19_after_last_dose > 0"
    )
    discontinued = cdm.count(table)
    followed = len(d["days"])
    repleted = int(d["repleted"].sum()) if followed else 0
    rows: list[tuple[object, ...]] = [
        ("persons who discontinued", discontinued, None, None, None),
        ("with a CD19 count after the last dose", followed, None, None, None),
        ("repleted", repleted, None, None, None),
    ]
    curve = None
    if followed and repleted:
        curve = kaplan_meier(d["days"].astype(float), d["repleted"].astype(int), f"{cohort.name} B-cell repletion")
        times = np.array(curve.table.column("days"))
        for label, day in (("repleted by 12 months", 365), ("repleted by 24 months", 730)):
            idx = int(np.searchsorted(times, day, side="right")) - 1
            if idx >= 0:
                s, lo, hi = curve.table.rows[idx][3], curve.table.rows[idx][4], curve.table.rows[idx][5]
                rows.append((label, None, 1 - s, 1 - hi, 1 - lo))
            else:
                rows.append((label, None, 0.0, 0.0, 0.0))
        rows.append(("median time to repletion (days)", None, curve.median_days, None, None))
    elif discontinued:
        notes.append(f"{cohort.name}: no B-cell repletion observed among {discontinued:,} persons who discontinued")
    return ResultTable.from_records(
        "B-cell (CD19) repletion after the last dose", ("measure", "persons", "estimate", "ci_lower", "ci_upper"), rows
    ), curve


def _igg(
    cdm: Cdm, cohort: Cohort, baseline_days: int, threshold: float | None, units: dict[str, UnitConversion]
) -> ResultTable:
    analyte = LAB_ANALYTES["igg"]
    values, _ = _values_sql(cdm, cohort, analyte, baseline_days, units)
    limit = repr(float(threshold)) if threshold is not None else "lln"
    # The three periods in one query; a period without values has no row (0 persons, no median).
    by_period = {
        str(r[0]): r[1:]
        for r in cdm.rows(
            f"SELECT period, count(*), CAST(COALESCE(sum(CAST(low AS INTEGER)), 0) AS BIGINT), median(min_value)"
            f" FROM (SELECT subject_id, period, bool_or(value < {limit}) AS low, min(value) AS min_value"
            f" FROM {values} GROUP BY subject_id, period) AS per_person GROUP BY period"
        )
    }
    rows = []
    for period in ("baseline", "during treatment", "after treatment"):
        n, low, min_median = by_period.get(period, (0, 0, None))
        ci = clopper_pearson(int(low), int(n))
        rows.append(
            (
                period,
                int(n),
                int(low),
                ci.estimate,
                ci.lower,
                ci.upper,
                None if min_median is None else float(min_median),
            )
        )
    label = f"< {threshold:g} g/L" if threshold is not None else "< LLN"
    return ResultTable.from_records(
        f"IgG {label}",
        (
            "period",
            "persons_with_values",
            "persons_below_threshold",
            "proportion",
            "ci_lower",
            "ci_upper",
            "median_lowest_igg_g_l",
        ),
        rows,
    )
