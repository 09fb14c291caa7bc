"""Baseline characteristics of cohorts at index, with standardised mean differences.

Covariates (measured at or before the index date):

* age at index (index year - year of birth; mean, SD) and age >= 65; female sex;
* days of prior observation;
* visits in the 365 days before index;
* concomitant immunosuppressant: an exposure to the concomitant concept set started before the index
  date and lasting into the 90 days before it (the cohort's own drug and index-day premedication excluded);
* named condition concept sets (e.g. comorbidities), and the ``top_conditions`` most frequent
  condition concepts, each as "any record in the 365 days before index".

The SMD compares target with comparator (Austin 2009): continuous (m1 - m0)/sqrt((s1^2 + s0^2)/2),
binary (p1 - p0)/sqrt((p1(1-p1) + p0(1-p0))/2). |SMD| > 0.1 is the usual mark of imbalance.
"""

from __future__ import annotations

from dataclasses import dataclass

from riskplan.studies.cdm import Cdm
from riskplan.studies.cohorts import Cohort
from riskplan.studies.concepts import ConceptSet, expand_concept_set
from riskplan.studies.results import ResultTable
from riskplan.studies.stats import smd_binary, smd_continuous
from riskplan.studies.vocabulary import FEMALE

COLUMNS = (
    "covariate",
    "kind",
    "target_n",
    "target_mean",
    "target_sd",
    "target_count",
    "comparator_n",
    "comparator_mean",
    "comparator_sd",
    "comparator_count",
    "smd",
)


@dataclass(frozen=True)
class CharacteristicsResult:
    """Table 1: one row per covariate (mean and SD, or count and proportion), and the SMD."""

    target: str
    comparator: str | None
    table: ResultTable
    max_abs_smd: float | None
    notes: tuple[str, ...]


@dataclass(frozen=True)
class _Covariate:
    name: str
    kind: str  # "continuous" | "binary"
    expr: str  # SQL expression over the per-person covariate table


def _person_covariates_sql(
    cdm: Cdm, cohort: Cohort, table: str, conc_table: str | None, condition_sets: list[tuple[str, str]]
) -> str:
    # Written as joins to per-person derived tables (not correlated subqueries) so that every engine
    # plans them as hash joins: PostgreSQL runs a correlated EXISTS once per cohort member.
    joins = [
        f"""LEFT JOIN (SELECT c2.subject_id, count(*) AS n FROM {cohort.table} c2
  JOIN visit_occurrence v ON v.person_id = c2.subject_id
   AND v.visit_start_date BETWEEN c2.cohort_start_date - 365 AND c2.cohort_start_date - 1
  GROUP BY c2.subject_id) vis ON vis.subject_id = c.subject_id"""
    ]
    conc = "FALSE"
    if conc_table:
        conc = "(conc.subject_id IS NOT NULL)"
        joins.append(
            f"""LEFT JOIN (SELECT DISTINCT c2.subject_id FROM {cohort.table} c2
  JOIN drug_exposure de ON de.person_id = c2.subject_id
  WHERE de.drug_concept_id IN (SELECT concept_id FROM {conc_table})
    AND de.drug_concept_id NOT IN (SELECT concept_id FROM {cohort.drug.table})
    AND de.drug_exposure_start_date < c2.cohort_start_date
    AND COALESCE(de.drug_exposure_end_date, de.drug_exposure_start_date) >= c2.cohort_start_date - 90
  ) conc ON conc.subject_id = c.subject_id"""
        )
    conds = ""
    for k, (col, cs_table) in enumerate(condition_sets):
        conds += f', (k{k}.subject_id IS NOT NULL) AS "{col}"'
        joins.append(
            f"""LEFT JOIN (SELECT DISTINCT c2.subject_id FROM {cohort.table} c2
  JOIN condition_occurrence co ON co.person_id = c2.subject_id
  WHERE co.condition_concept_id IN (SELECT concept_id FROM {cs_table})
    AND co.condition_start_date BETWEEN c2.cohort_start_date - 365 AND c2.cohort_start_date - 1
  ) k{k} ON k{k}.subject_id = c.subject_id"""
        )
    joined = "\n".join(joins)
    return f"""
CREATE TABLE {table} AS
SELECT c.subject_id, CAST(c.age_at_index AS DOUBLE) AS age, (c.age_at_index >= 65) AS age65,
       (c.gender_concept_id = {FEMALE}) AS female,
       CAST(date_diff('day', c.observation_period_start_date, c.cohort_start_date) AS DOUBLE) AS prior_obs,
       CAST(COALESCE(vis.n, 0) AS DOUBLE) AS visits,
       {conc} AS concomitant{conds}
FROM {cohort.table} c
{joined}
"""


def baseline_characteristics(
    cdm: Cdm,
    target: Cohort,
    comparator: Cohort | None = None,
    concomitant: ConceptSet | None = None,
    conditions: dict[str, ConceptSet] | None = None,
    top_conditions: int = 10,
) -> CharacteristicsResult:
    """Table 1 of the target (and comparator) cohort with Austin 2009 SMDs."""
    notes: list[str] = []
    conc_table = expand_concept_set(cdm, concomitant).table if concomitant is not None else None
    condition_sets: list[tuple[str, str]] = []
    for label, cs in (conditions or {}).items():
        exp = expand_concept_set(cdm, cs)
        condition_sets.append((f"cond: {label}", exp.table))
        if exp.note:
            notes.append(exp.note)
    cohorts = [target] + ([comparator] if comparator is not None else [])
    # one row per covariate: a frequent condition concept that a named condition set already holds (e.g.
    # "Essential hypertension" in "hypertension") is that set's row, not a second row under another name
    named = [t for _, t in condition_sets]
    for concept_id, name in _top_conditions(cdm, cohorts, top_conditions, exclude=named):
        # one concept: a derived table in the covariates query, not a scratch table of its own
        condition_sets.append((f"cond: {name}", f"(SELECT CAST({int(concept_id)} AS BIGINT) AS concept_id) AS one"))
    covariates = [
        _Covariate("age at index (years)", "continuous", "age"),
        _Covariate("age 65 or over", "binary", "age65"),
        _Covariate("female", "binary", "female"),
        _Covariate("prior observation (days)", "continuous", "prior_obs"),
        _Covariate("visits in prior 365 days", "continuous", "visits"),
    ]
    if conc_table:
        covariates.append(_Covariate("concomitant immunosuppressant (90 days before index)", "binary", "concomitant"))
    covariates += [
        _Covariate(col.removeprefix("cond: ") + " (prior 365 days)", "binary", f'"{col}"') for col, _ in condition_sets
    ]
    stats: dict[str, dict[str, tuple[int, float | None, float | None, int | None]]] = {}
    sql_texts = []
    for cohort in cohorts:
        table = cdm.temp_name(f"covariates_{cohort.name}")
        sql = _person_covariates_sql(cdm, cohort, table, conc_table, condition_sets)
        cdm.execute(sql)
        sql_texts.append(sql.strip())
        stats[cohort.name] = {}
        # every covariate's summary in one query (one scan of the covariates table)
        parts = []
        for cov in covariates:
            if cov.kind == "continuous":
                parts.append(f"count({cov.expr}), avg({cov.expr}), stddev_samp({cov.expr})")
            else:
                parts.append(f"count(*), CAST(COALESCE(sum(CAST({cov.expr} AS INTEGER)), 0) AS BIGINT)")
        values = list(cdm.rows(f"SELECT {', '.join(parts)} FROM {table}")[0])
        for cov in covariates:
            if cov.kind == "continuous":
                n, mean, sd = values[:3]
                del values[:3]
                stats[cohort.name][cov.name] = (int(n), _f(mean), _f(sd), None)
            else:
                n, k = values[:2]
                del values[:2]
                stats[cohort.name][cov.name] = (int(n), (int(k) / int(n)) if n else None, None, int(k))
    rows = []
    smds: list[float] = []
    for cov in covariates:
        t = stats[target.name][cov.name]
        c = stats[comparator.name][cov.name] if comparator is not None else (0, None, None, None)
        smd = None
        if comparator is not None and t[1] is not None and c[1] is not None:
            if cov.kind == "continuous":
                smd = smd_continuous(t[1], t[2] or 0.0, c[1], c[2] or 0.0)
            else:
                smd = smd_binary(t[1], c[1])
        if smd is not None:
            smds.append(abs(smd))
        rows.append((cov.name, cov.kind, t[0], t[1], t[2], t[3], c[0], c[1], c[2], c[3], smd))
    result_table = ResultTable("baseline characteristics", COLUMNS, tuple(rows), "\n;\n".join(sql_texts))
    return CharacteristicsResult(
        target.name,
        comparator.name if comparator is not None else None,
        result_table,
        max(smds) if smds else None,
        tuple(notes),
    )


def _f(x: object) -> float | None:
    return None if x is None else float(x)  # type: ignore[arg-type]


def _top_conditions(cdm: Cdm, cohorts: list[Cohort], n: int, exclude: list[str] | None = None) -> list[tuple[int, str]]:
    """The ``n`` condition concepts most frequent in the year before index, leaving out the concepts of the
    concept-set tables ``exclude`` (the named condition sets, which are rows of their own)."""
    if n <= 0:
        return []
    union = " UNION ALL ".join(f"SELECT subject_id, cohort_start_date FROM {c.table}" for c in cohorts)
    left_out = "".join(
        f" AND co.condition_concept_id NOT IN (SELECT concept_id FROM {table})" for table in (exclude or [])
    )
    rows = cdm.rows(
        f"""
SELECT co.condition_concept_id, COALESCE(min(cn.concept_name), 'concept ' || co.condition_concept_id),
       count(DISTINCT c.subject_id) AS persons
FROM ({union}) c
JOIN condition_occurrence co ON co.person_id = c.subject_id
 AND co.condition_start_date BETWEEN c.cohort_start_date - 365 AND c.cohort_start_date - 1{left_out}
LEFT JOIN concept cn ON cn.concept_id = co.condition_concept_id
GROUP BY co.condition_concept_id ORDER BY persons DESC, co.condition_concept_id LIMIT {int(n)}
"""
    )
    return [(int(r[0]), str(r[1])) for r in rows]
