"""Cohorts of new users with a washout window, comparator cohorts, and time at risk.

Design (OHDSI CohortMethod / CohortIncidence conventions; Book of OHDSI ch. 10 and 12):

* **New user**: index date = a person's first-ever exposure to the drug's concept set (descendants
  included, e.g. ingredient -> clinical drugs); the index date must fall in an observation period
  with at least ``washout_days`` of prior observation (default 365), so that earlier use would
  have been seen. Persons who died before the index date are left out.
* **Exposure end**: ``drug_exposure_end_date``, else start + ``days_supply`` - 1, else the start date;
  with ``dose_covers_days`` each dose covers at least that many days (e.g. 183 for 6-monthly infusions).
* **On-treatment era**: exposures are joined while the next one starts no later than ``grace_days``
  after the end of the coverage so far (the OHDSI drug-era rule with a persistence window). With
  infusions every 6 months, dose_covers_days=183 and grace_days=90 bridge gaps of up to 183+90 days.
* **Time at risk** (inclusive days): ``on-treatment`` from the index date to the end of the first era
  plus ``grace_days``; ``since-first`` from the index date to the end of observation. Both end at the
  end of the observation period or death, whichever is first, and at ``max_days`` if given.
* **Comparator cohorts**: built the same way; persons in both cohorts are removed from both by
  default (CohortMethod's ``removeDuplicateSubjects = "remove all"``) so that the cohorts are disjoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from riskplan.errors import UserInputError
from riskplan.studies.cdm import Cdm
from riskplan.studies.concepts import ConceptSet, ExpandedConceptSet, expand_concept_set
from riskplan.studies.results import ResultTable


class TarKind(StrEnum):
    ON_TREATMENT = "on-treatment"
    SINCE_FIRST = "since-first"


@dataclass(frozen=True)
class TimeAtRisk:
    """When a person is at risk: on treatment (with a grace period) or since the first dose."""

    kind: TarKind = TarKind.ON_TREATMENT
    grace_days: int = 30
    dose_covers_days: int | None = None
    max_days: int | None = None

    def __post_init__(self) -> None:
        if self.grace_days < 0:
            raise UserInputError("grace period must be 0 days or more")
        if self.dose_covers_days is not None and self.dose_covers_days < 1:
            raise UserInputError("days covered by a dose must be 1 or more")
        if self.max_days is not None and self.max_days < 1:
            raise UserInputError("maximum time at risk must be 1 day or more")

    def describe(self) -> str:
        if self.kind is TarKind.SINCE_FIRST:
            text = "since the first dose to the end of observation"
        else:
            covers = f", each dose covering {self.dose_covers_days} days" if self.dose_covers_days else ""
            text = f"on treatment (grace period {self.grace_days} days{covers})"
        return text + (f", at most {self.max_days} days" if self.max_days else "")


SIX_MONTHLY_INFUSION = TimeAtRisk(TarKind.ON_TREATMENT, grace_days=90, dose_covers_days=183)
"""On treatment with an infusion every 6 months (inebilizumab, rituximab): gaps up to 183+90 days bridged."""


@dataclass(frozen=True)
class NewUserCohortDefinition:
    name: str
    drug: ConceptSet
    washout_days: int = 365
    time_at_risk: TimeAtRisk = field(default_factory=TimeAtRisk)

    def __post_init__(self) -> None:
        if self.washout_days < 0:
            raise UserInputError("washout must be 0 days or more")


@dataclass(frozen=True)
class Cohort:
    """A cohort in the CDM's DuckDB: one row per subject, with index date and time at risk.

    Columns of :attr:`table`: subject_id, cohort_start_date (index), cohort_end_date (end of time at
    risk), observation_period_start_date, observation_period_end_date, era_end_date (end of the first
    on-treatment era, before the grace period), treatment_end_date, followup_end_date, death_date,
    censor_reason, exposures_in_first_era, gender_concept_id, year_of_birth, age_at_index.
    """

    definition: NewUserCohortDefinition
    table: str
    drug: ExpandedConceptSet
    persons: int
    attrition: ResultTable
    sql: str = field(repr=False)
    notes: tuple[str, ...] = ()
    cdm: Cdm = field(repr=False, compare=False, default=None)  # type: ignore[assignment]

    @property
    def name(self) -> str:
        return self.definition.name

    def rows(self, limit: int | None = None) -> ResultTable:
        """The cohort table itself (all rows, or the first ``limit`` by subject)."""
        lim = f" LIMIT {int(limit)}" if limit else ""
        return self.cdm.query(f"cohort {self.name}", f"SELECT * FROM {self.table} ORDER BY subject_id{lim}")


def _exposure_sql(cs_table: str, covers: int | None) -> str:
    cover = f", de.drug_exposure_start_date + {int(covers) - 1}" if covers else ""
    return (
        "SELECT de.person_id, de.drug_exposure_start_date AS s, "
        "GREATEST(de.drug_exposure_start_date, COALESCE(de.drug_exposure_end_date, "
        "de.drug_exposure_start_date + (GREATEST(COALESCE(de.days_supply, 1), 1) - 1))"
        f"{cover}) AS e "
        f"FROM drug_exposure de WHERE de.drug_concept_id IN (SELECT concept_id FROM {cs_table}) "
        "AND de.drug_exposure_start_date IS NOT NULL"
    )


def build_new_user_cohort(cdm: Cdm, definition: NewUserCohortDefinition) -> Cohort:
    """New users of ``definition.drug`` with the washout and time at risk of the definition."""
    cs = expand_concept_set(cdm, definition.drug)
    tar = definition.time_at_risk
    table = cdm.temp_name("cohort_" + definition.name)
    grace = int(tar.grace_days)
    on_treatment = tar.kind is TarKind.ON_TREATMENT
    chosen = "treatment_end_date" if on_treatment else "followup_end_date"
    cap = f"LEAST({chosen}, cohort_start_date + {int(tar.max_days) - 1})" if tar.max_days else chosen
    sql = f"""
CREATE TABLE {table} AS
WITH exp AS ({_exposure_sql(cs.table, tar.dose_covers_days)}),
firsts AS (SELECT person_id, MIN(s) AS index_date FROM exp GROUP BY person_id),
in_op AS (
  SELECT f.person_id, f.index_date,
         op.observation_period_start_date AS op_start, op.observation_period_end_date AS op_end
  FROM firsts f JOIN observation_period op ON op.person_id = f.person_id
   AND f.index_date BETWEEN op.observation_period_start_date AND op.observation_period_end_date
  QUALIFY row_number() OVER (PARTITION BY f.person_id ORDER BY op.observation_period_start_date) = 1
),
dth AS (SELECT person_id, MIN(death_date) AS death_date FROM death GROUP BY person_id),
eligible AS (
  SELECT i.*, d.death_date FROM in_op i LEFT JOIN dth d ON d.person_id = i.person_id
  WHERE date_diff('day', i.op_start, i.index_date) >= {int(definition.washout_days)}
    AND (d.death_date IS NULL OR d.death_date >= i.index_date)
),
ordered AS (
  SELECT x.person_id, x.s, x.e,
         MAX(x.e) OVER (PARTITION BY x.person_id ORDER BY x.s, x.e
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
  FROM exp x JOIN eligible el ON el.person_id = x.person_id
),
flagged AS (
  SELECT *, SUM(CASE WHEN prev_end IS NULL OR s > prev_end + {grace} THEN 1 ELSE 0 END)
            OVER (PARTITION BY person_id ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS era
  FROM ordered
),
first_era AS (SELECT person_id, MAX(e) AS era_end, COUNT(*) AS n FROM flagged WHERE era = 1 GROUP BY person_id),
base AS (
  SELECT el.person_id AS subject_id, el.index_date AS cohort_start_date,
         el.op_start AS observation_period_start_date, el.op_end AS observation_period_end_date,
         fe.era_end AS era_end_date,
         LEAST(fe.era_end + {grace}, el.op_end, COALESCE(el.death_date, el.op_end)) AS treatment_end_date,
         LEAST(el.op_end, COALESCE(el.death_date, el.op_end)) AS followup_end_date,
         el.death_date, fe.n AS exposures_in_first_era,
         p.gender_concept_id, p.year_of_birth,
         year(el.index_date) - p.year_of_birth AS age_at_index
  FROM eligible el JOIN first_era fe ON fe.person_id = el.person_id
  JOIN person p ON p.person_id = el.person_id
)
SELECT *, {cap} AS cohort_end_date,
       CASE WHEN {cap} = death_date THEN 'death'
            WHEN {cap} = observation_period_end_date THEN 'end of observation'
            WHEN {cap} < {chosen} THEN 'maximum time at risk'
            ELSE 'end of treatment' END AS censor_reason
FROM base
"""
    cdm.execute(sql)
    attrition = _attrition(cdm, cs.table, table, definition)
    persons = int(attrition.rows[-1][2])  # the last step counts the cohort table
    notes = tuple(n for n in (cs.note,) if n)
    if cs.unknown:
        notes += (f"{definition.name}: concept id(s) {', '.join(map(str, cs.unknown))} not found in the concept table",)
    return Cohort(definition, table, cs, persons, attrition, sql.strip(), notes, cdm)


def _attrition(cdm: Cdm, cs_table: str, cohort_table: str, definition: NewUserCohortDefinition) -> ResultTable:
    washout = int(definition.washout_days)
    sql = f"""
WITH firsts AS (
  SELECT person_id, MIN(drug_exposure_start_date) AS index_date FROM drug_exposure
  WHERE drug_concept_id IN (SELECT concept_id FROM {cs_table}) GROUP BY person_id
),
in_op AS (
  SELECT DISTINCT f.person_id, f.index_date, op.observation_period_start_date AS op_start
  FROM firsts f JOIN observation_period op ON op.person_id = f.person_id
   AND f.index_date BETWEEN op.observation_period_start_date AND op.observation_period_end_date
)
SELECT 1 AS step, 'persons with any exposure to the drug' AS criterion, (SELECT count(*) FROM firsts) AS persons
UNION ALL SELECT 2, 'first exposure within an observation period', (SELECT count(DISTINCT person_id) FROM in_op)
UNION ALL SELECT 3, 'at least {washout} days of prior observation (washout)',
  (SELECT count(DISTINCT person_id) FROM in_op WHERE date_diff('day', op_start, index_date) >= {washout})
UNION ALL SELECT 4, 'alive at index (final cohort)', (SELECT count(*) FROM {cohort_table})
ORDER BY step
"""
    return cdm.query(f"attrition {definition.name}", sql)


def build_comparative_cohorts(
    cdm: Cdm,
    target: NewUserCohortDefinition,
    comparator: NewUserCohortDefinition,
    remove_subjects_in_both: bool = True,
) -> tuple[Cohort, Cohort]:
    """Target and comparator new-user cohorts; persons in both are removed from both by default."""
    t = build_new_user_cohort(cdm, target)
    c = build_new_user_cohort(cdm, comparator)
    if not remove_subjects_in_both:
        return t, c
    in_both = cdm.temp_name("both_cohorts")
    cdm.execute(
        f"CREATE TABLE {in_both} AS SELECT subject_id FROM {t.table} INTERSECT SELECT subject_id FROM {c.table}"
    )
    for cohort in (t, c):
        cdm.execute(f"DELETE FROM {cohort.table} WHERE subject_id IN (SELECT subject_id FROM {in_both})")
    # Both remaining sizes in one query; the persons in both are those the target lost.
    kept = cdm.rows(f"SELECT (SELECT count(*) FROM {t.table}), (SELECT count(*) FROM {c.table})")[0]
    both = t.persons - int(kept[0])
    out = []
    for cohort, persons in zip((t, c), kept, strict=True):
        rows = list(cohort.attrition.rows)
        rows.append((5, "not in both cohorts (persons in both removed)", int(persons)))
        attrition = ResultTable(cohort.attrition.name, cohort.attrition.columns, tuple(rows), cohort.attrition.sql)
        notes = cohort.notes
        if both:
            notes = (
                *notes,
                f"{both:,} persons were new users of both {t.name} and {c.name} and were removed from both",
            )
        out.append(replace(cohort, persons=int(persons), attrition=attrition, notes=notes))
    return out[0], out[1]
