"""Incidence of a first outcome in new-user cohorts: events, person-years, rates and ratios.

Per person (OHDSI CohortIncidence conventions):

* persons with the outcome before the index date are left out (prevalent cases) when the outcome's
  ``exclude_prior`` is set (default);
* time at risk runs from the index date to the end of the cohort's time at risk, or to the first
  outcome, inclusive: days = end - index + 1; person-years = days / 365.25;
* an event is the first outcome date within the time at risk.

Rates are per 100 person-years with exact Poisson CIs (Garwood 1936), overall and by age group at
index (<65 / >=65, age = index year - year of birth), sex, and concomitant immunosuppressant use
(an exposure to the concomitant concept set that starts before the index date and lasts into the
``concomitant_window_days`` before it; the cohort's own drug is excluded, and so is anything started
on the index day, such as premedication with the first dose). The rate ratio target/comparator has an exact conditional
binomial CI; the SIR compares observed events with those expected from a background-rate table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from riskplan.studies.background import BackgroundRates
from riskplan.studies.cdm import Cdm
from riskplan.studies.cohorts import Cohort
from riskplan.studies.concepts import ConceptSet, expand_concept_set
from riskplan.studies.outcomes import OutcomeDefinition, OutcomeEvents, outcome_events
from riskplan.studies.results import ResultTable
from riskplan.studies.stats import (
    PERSON_YEAR_DAYS,
    rate_per,
    rate_ratio_exact,
    standardised_ratio,
)
from riskplan.studies.vocabulary import FEMALE, MALE

RATE_COLUMNS = (
    "cohort",
    "stratum_type",
    "stratum",
    "persons",
    "events",
    "person_days",
    "person_years",
    "rate_per_100py",
    "ci_lower",
    "ci_upper",
)


@dataclass(frozen=True)
class RateRatio:
    """Incidence rate ratio target/comparator with its exact conditional binomial CI."""

    ratio: float | None
    lower: float | None
    upper: float | None
    target_events: int
    target_person_years: float
    comparator_events: int
    comparator_person_years: float
    method: str = "exact conditional binomial (Rothman & Greenland)"


@dataclass(frozen=True)
class IncidenceResult:
    """Events, person-time and rates of one outcome in the target (and comparator) cohort."""

    outcome: str
    target: str
    comparator: str | None
    time_at_risk: str
    rates: ResultTable
    rate_ratio: RateRatio | None
    sir: ResultTable | None
    notes: tuple[str, ...]
    person_time_tables: dict[str, str] = field(repr=False)
    outcome_sql: str = field(repr=False, default="")

    def overall(self, cohort: str | None = None) -> dict[str, object]:
        """The all-persons row of the target (or the named) cohort."""
        return self.rates.one(cohort=cohort or self.target, stratum_type="all")


def concomitant_users_sql(cohort: Cohort, concomitant_table: str, table: str, window_days: int) -> str:
    """SQL creating the table of cohort members with concomitant use (the rule in the module docstring)."""
    return f"""
CREATE TABLE {table} AS
SELECT DISTINCT c.subject_id FROM {cohort.table} c
JOIN drug_exposure de ON de.person_id = c.subject_id
WHERE de.drug_concept_id IN (SELECT concept_id FROM {concomitant_table})
  AND de.drug_concept_id NOT IN (SELECT concept_id FROM {cohort.drug.table})
  AND de.drug_exposure_start_date < c.cohort_start_date
  AND COALESCE(de.drug_exposure_end_date, de.drug_exposure_start_date) >= c.cohort_start_date - {int(window_days)}
"""


def concomitant_users(cdm: Cdm, cohort: Cohort, concomitant_table: str, window_days: int) -> str:
    """The scratch table of ``cohort``'s concomitant users, made once per cohort, concept set and window.

    It does not depend on the outcome, so the outcomes analysed in one cohort share it rather than each
    scanning ``drug_exposure`` again (30 analyses of 3 cohorts: 3 scans, not 30).
    """
    made: dict[tuple[str, str, int], str] = cdm.__dict__.setdefault("_concomitant_users", {})
    key = (cohort.table, concomitant_table, int(window_days))
    if key not in made:
        table = cdm.temp_name(f"conc_{cohort.name}")
        cdm.execute(concomitant_users_sql(cohort, concomitant_table, table, window_days))
        made[key] = table
    return made[key]


def person_time_sql(
    cohort: Cohort,
    events_table: str,
    table: str,
    exclude_prior: bool,
    concomitant_users_table: str | None,
) -> str:
    """SQL creating the per-person time-at-risk table of a cohort for one outcome."""
    if concomitant_users_table:
        conc = f"conc AS (SELECT subject_id FROM {concomitant_users_table}),"
    else:
        conc = "conc AS (SELECT CAST(NULL AS BIGINT) AS subject_id WHERE false),"
    where = "WHERE a.prior_event = 0" if exclude_prior else ""
    return f"""
CREATE TABLE {table} AS
WITH ev AS (
  SELECT e.person_id, e.event_date FROM {events_table} e
  WHERE e.person_id IN (SELECT subject_id FROM {cohort.table})
),
agg AS (
  SELECT c.subject_id,
         MIN(CASE WHEN ev.event_date BETWEEN c.cohort_start_date AND c.cohort_end_date THEN ev.event_date END)
           AS first_event_date,
         MAX(CASE WHEN ev.event_date < c.cohort_start_date THEN 1 ELSE 0 END) AS prior_event
  FROM {cohort.table} c LEFT JOIN ev ON ev.person_id = c.subject_id
  GROUP BY c.subject_id
),
{conc}
pt AS (
  SELECT c.subject_id, c.cohort_start_date, c.cohort_end_date, c.age_at_index, c.gender_concept_id,
         a.first_event_date, (a.first_event_date IS NOT NULL) AS outcome,
         date_diff('day', c.cohort_start_date, COALESCE(a.first_event_date, c.cohort_end_date)) + 1 AS days_at_risk,
         CASE WHEN c.age_at_index >= 65 THEN '>=65' ELSE '<65' END AS age_group,
         CASE c.gender_concept_id WHEN {FEMALE} THEN 'female' WHEN {MALE} THEN 'male' ELSE 'unknown' END AS sex,
         (conc.subject_id IS NOT NULL) AS concomitant
  FROM {cohort.table} c JOIN agg a ON a.subject_id = c.subject_id
  LEFT JOIN conc ON conc.subject_id = c.subject_id
  {where}
)
SELECT * FROM pt
"""


def _strata_sql(pt_table: str) -> str:
    agg = (
        "count(*) AS persons, CAST(COALESCE(sum(CAST(outcome AS INTEGER)), 0) AS BIGINT) AS events, "
        "CAST(COALESCE(sum(days_at_risk), 0) AS BIGINT) AS person_days"
    )
    return f"""
SELECT 'all' AS stratum_type, 'all' AS stratum, {agg}, 0 AS o FROM {pt_table}
UNION ALL SELECT 'age group', age_group, {agg}, 1 FROM {pt_table} GROUP BY age_group
UNION ALL SELECT 'sex', sex, {agg}, 2 FROM {pt_table} GROUP BY sex
UNION ALL SELECT 'concomitant immunosuppressant', CASE WHEN concomitant THEN 'yes' ELSE 'no' END, {agg}, 3
  FROM {pt_table} GROUP BY concomitant
ORDER BY o, stratum
"""


def _rate_rows(cohort: str, raw: ResultTable, confidence: float) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for r in raw.to_dicts():
        py = float(r["person_days"]) / PERSON_YEAR_DAYS
        rate = rate_per(int(r["events"]), py, 100.0, confidence)
        rows.append(
            (
                cohort,
                r["stratum_type"],
                r["stratum"],
                int(r["persons"]),
                int(r["events"]),
                int(r["person_days"]),
                py,
                rate.estimate,
                rate.lower,
                rate.upper,
            )
        )
    return rows


def incidence(
    cdm: Cdm,
    target: Cohort,
    outcome: OutcomeDefinition | OutcomeEvents,
    comparator: Cohort | None = None,
    concomitant: ConceptSet | None = None,
    concomitant_window_days: int = 90,
    background: BackgroundRates | None = None,
    background_outcome: str | None = None,
    confidence: float = 0.95,
) -> IncidenceResult:
    """Incidence of the first ``outcome`` in ``target`` (and ``comparator``): rates, rate ratio, SIR.

    Rates per 100 PY with exact Poisson CIs (Garwood 1936); rate ratio with the exact conditional
    binomial CI (Rothman & Greenland); SIR by indirect standardisation (Breslow & Day 1987).
    """
    events = outcome if isinstance(outcome, OutcomeEvents) else outcome_events(cdm, outcome)
    definition = events.definition
    notes: list[str] = list(events.notes)
    conc_table = None
    if concomitant is not None:
        conc_cs = expand_concept_set(cdm, concomitant)
        conc_table = conc_cs.table
        if conc_cs.note:
            notes.append(conc_cs.note)
    cohorts = [target] + ([comparator] if comparator is not None else [])
    rows: list[tuple[object, ...]] = []
    sql_parts: list[str] = []
    pt_tables: dict[str, str] = {}
    for cohort in cohorts:
        pt = cdm.temp_name(f"pt_{cohort.name}_{definition.name}")
        users = concomitant_users(cdm, cohort, conc_table, concomitant_window_days) if conc_table else None
        cdm.execute(person_time_sql(cohort, events.table, pt, definition.exclude_prior, users))
        pt_tables[cohort.name] = pt
        raw = cdm.query("strata", _strata_sql(pt))
        sql_parts.append(raw.sql or "")
        rows.extend(_rate_rows(cohort.name, raw, confidence))
        notes.extend(n for n in cohort.notes if n not in notes)
        if definition.exclude_prior:
            excluded = cohort.persons - int(raw.rows[0][2])  # the first stratum row counts all of pt
            if excluded:
                notes.append(
                    f"{cohort.name}: {excluded:,} persons with {definition.name} before the index date left out"
                )
    rates = ResultTable("incidence rates", RATE_COLUMNS, tuple(rows), "\n;\n".join(sql_parts))
    ratio = None
    if comparator is not None:
        t = rates.one(cohort=target.name, stratum_type="all")
        c = rates.one(cohort=comparator.name, stratum_type="all")
        rr = rate_ratio_exact(
            int(t["events"]), float(t["person_years"]), int(c["events"]), float(c["person_years"]), confidence
        )
        ratio = RateRatio(
            rr.estimate,
            rr.lower,
            rr.upper,
            int(t["events"]),
            float(t["person_years"]),
            int(c["events"]),
            float(c["person_years"]),
        )
    sir = None
    if background is not None:
        key = background_outcome or definition.name
        sir = standardised_incidence(cdm, pt_tables, key, background, confidence)
        if sir is None:
            notes.append(f"no background rate for {key!r} in {background.where}: no SIR")
    return IncidenceResult(
        outcome=definition.name,
        target=target.name,
        comparator=comparator.name if comparator is not None else None,
        time_at_risk=target.definition.time_at_risk.describe(),
        rates=rates,
        rate_ratio=ratio,
        sir=sir,
        notes=tuple(notes),
        person_time_tables=pt_tables,
        outcome_sql=events.sql,
    )


def standardised_incidence(
    cdm: Cdm, pt_tables: dict[str, str], outcome_key: str, background: BackgroundRates, confidence: float = 0.95
) -> ResultTable | None:
    """SIR per cohort: observed first events / expected from the background rates (indirect standardisation)."""
    if outcome_key not in background.outcomes():
        return None
    rows = []
    for cohort, pt in pt_tables.items():
        cells = cdm.rows(
            f"SELECT age_group, sex, CAST(COALESCE(sum(days_at_risk), 0) AS BIGINT), "
            f"CAST(COALESCE(sum(CAST(outcome AS INTEGER)), 0) AS BIGINT) FROM {pt} GROUP BY 1, 2"
        )
        expected = 0.0
        observed = 0
        sources: list[str] = []
        evidence: set[str] = set()
        for age_group, sex, days, events in cells:
            rate = background.best(outcome_key, str(age_group), str(sex))
            if rate is None:
                continue
            expected += float(days) / PERSON_YEAR_DAYS * rate.rate_per_100py / 100.0
            observed += int(events)
            evidence.add(rate.evidence)
            if rate.source not in sources:
                sources.append(rate.source)
        est = standardised_ratio(observed, expected, confidence)
        rows.append(
            (
                cohort,
                outcome_key,
                observed,
                expected,
                est.estimate,
                est.lower,
                est.upper,
                ", ".join(sorted(evidence)),
                " | ".join(sources),
            )
        )
    return ResultTable.from_records(
        "standardised incidence ratios",
        ("cohort", "outcome", "observed", "expected", "sir", "ci_lower", "ci_upper", "evidence", "source"),
        rows,
    )
