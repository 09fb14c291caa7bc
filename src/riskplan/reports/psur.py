"""The periodic safety update report (PSUR) in the format of the periodic benefit-risk evaluation report.

Structure and section numbers of ICH E2C(R2) (PBRER, 2012) as adopted by GVP Module VII (VII.B.5, Rev 1):
1 Introduction, 2 Worldwide marketing authorisation status, 3 Actions taken in the reporting interval for
safety reasons, 4 Changes to reference safety information, 5 Estimated exposure and use patterns, 6 Data
in summary tabulations, 7-14 clinical trial, non-interventional, other, non-clinical, literature, other
periodic report, lack of efficacy and late-breaking information, 15 Overview of signals, 16 Signal and
risk evaluation, 17 Benefit evaluation, 18 Integrated benefit-risk analysis, 19 Conclusions and actions,
20 Appendices. Where riskplan holds nothing for a section, the report says "no data in riskplan".

What riskplan computes, every count in the database (GROUP BY in SQL, no loop over cases in Python):

* **Cases counted** (E2C(R2) 3.6, GVP VII.B.5.6): for each case of the plan, the case as known at the
  data lock point (DLP): its latest version whose C.1.5 (date of most recent information) is on or before
  the DLP; the case counts when that version is valid (ICH E2D minimum criteria). A case belongs to the
  **interval** when it was first received (C.1.4; C.1.5 where C.1.4 is absent) within [start, DLP] and to
  the **cumulative** count when first received on or before the DLP. Follow-up received after the DLP is
  left for the next report.
* **Source** of a serious case from C.1.3 (type of report) and C.5.4 (study type): spontaneous (C.1.3 = 1);
  clinical trial (C.1.3 = 2 and C.5.4 = 1), tabulated in 6.2; solicited (C.1.3 = 2 with another study
  type, or 3 "other", e.g. patient support programmes); not available (C.1.3 = 4 or absent).
* **Summary tabulations** (E2C(R2) 3.6.1-3.6.2, Appendix B): serious reactions (E.i.3.2) by MedDRA SOC and
  PT, cases per PT (a case reporting a PT twice counts once), interval and cumulative, split into listed
  and unlisted against the reference safety information of the plan version the report uses (E2C(R2)
  3.4: one RSI for the whole report).
* **Exposure** (E2C(R2) 3.5.2): patients and patient-years on treatment in the interval and cumulatively,
  from an OMOP CDM (:mod:`riskplan.studies`) or from a CSV table the MAH supplies.
* **Safety concerns** (E2C(R2) 3.16, GVP VII.B.5.16): cases per concern (``icsr_case_concern``) in the
  interval and cumulatively, and observed against expected where a study of the CDM gives an incidence rate
  on the product (expected = rate x patient-years; O/E with the exact Poisson CI on the observed count).
* **Signals** (E2C(R2) 3.15-3.16.2) from :mod:`riskplan.signals.workflow` and the effectiveness of risk
  minimisation (E2C(R2) 3.16.5, GVP XVI.B.4) from :mod:`riskplan.minimisation.effectiveness`, when those
  modules are installed.

The HTML is a pure function of its inputs: the same data give the same bytes. Its cover carries a SHA-256
checksum of the canonical JSON of the counted rows (every counted case version and every aggregated
table), the plan version's content hash and the parameters; the wall-clock time of generation goes only
to the separate metadata JSON.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import datetime as dt
import hashlib
import importlib
import inspect
import io
import json
import math
import resource
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from riskplan import __version__
from riskplan.cases.reads import (
    CLINICAL_TRIAL,
    NOT_AVAILABLE,
    SOLICITED,
    SPONTANEOUS,
    concerns_by_version,
    is_synthetic_case,
    reactions_by_version,
    versions_at_dlp,
)
from riskplan.errors import UserInputError
from riskplan.plan import current_plan
from riskplan.plan.diff import diff_plans
from riskplan.plan.model import ConcernCategory, PlanPart, RiskManagementPlan, SafetyConcern
from riskplan.plan.versions import PlanVersion, content_hash, list_versions
from riskplan.reports.plan_summary import environment, html_to_pdf, summary_view
from riskplan.reports.psur_reporting import ReportingCompliance, collect_reporting_compliance
from riskplan.reports.study_report import fmt
from riskplan.store.audit import audit_head
from riskplan.store.db import session_scope

if TYPE_CHECKING:
    from riskplan.studies.cdm import Cdm

__all__ = [
    "CLINICAL_TRIAL",
    "NOT_AVAILABLE",
    "SOLICITED",
    "SOURCES",
    "SPONTANEOUS",
    "CaseCounts",
    "ConcernCount",
    "ConcernEvaluation",
    "Exposure",
    "ExposureRow",
    "PsurData",
    "PsurResult",
    "SignalRecord",
    "TabulationRow",
    "cdm_exposure",
    "collect_psur",
    "count_cases",
    "parse_date",
    "read_exposure_csv",
    "render_psur_html",
    "write_psur",
]

SOURCES: Final = (SPONTANEOUS, SOLICITED, CLINICAL_TRIAL, NOT_AVAILABLE)
POST_MARKETING: Final = (SPONTANEOUS, SOLICITED, NOT_AVAILABLE)
NOT_CODED: Final = "(not coded)"
NO_DATA: Final = "No data in riskplan."
NOT_ASSESSED: Final = "n/a"  # a tabulation cell that cannot be assessed (listedness without an RSI)
SIGNALS_NOT_AVAILABLE: Final = "Signal management records not available"
EXPOSURE_COLUMNS: Final = ("period", "patients", "patient_years", "source")
PERSON_YEAR_DAYS: Final = 365.25


# --------------------------------------------------------------------------------------------------
# Dates and parameters
# --------------------------------------------------------------------------------------------------


def parse_date(text: str, option: str) -> dt.date:
    """An ISO date (YYYY-MM-DD) given on the command line; anything else is a clear user error."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UserInputError(f"{option}: {text!r} is not a date; expected YYYY-MM-DD, e.g. 2025-06-30") from None


def _check_interval(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise UserInputError(
            f"the reporting interval ends ({end}) before it starts ({start}): --to (the data lock point) "
            "must be on or after --from"
        )


# --------------------------------------------------------------------------------------------------
# Counting in the case store (E2C(R2) 3.6; GVP VII.B.5.6)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TabulationRow:
    """Serious reactions of one MedDRA PT from one source: cases first received in the interval and
    cumulatively (E2C(R2) Appendix B)."""

    source: str
    soc: str
    pt: str
    listedness: str
    interval: int
    cumulative: int


@dataclass(frozen=True)
class ConcernCount:
    """Cases counted toward a safety concern (``icsr_case_concern`` of the version known at the DLP)."""

    concern_id: str
    interval: int
    cumulative: int
    serious_interval: int
    serious_cumulative: int


@dataclass(frozen=True)
class CaseCounts:
    """What was counted: valid cases, serious cases by source, serious reactions per month."""

    valid_interval: int
    valid_cumulative: int
    serious_interval: int
    serious_cumulative: int
    serious_by_source: dict[str, tuple[int, int]]  # source -> (interval, cumulative)
    tabulation: tuple[TabulationRow, ...]
    monthly: tuple[tuple[str, str, int], ...]  # (YYYY-MM first received, source, serious reactions)
    concern_months: tuple[tuple[str, str, int], ...]  # (YYYY-MM first received, concern id, cases), interval only
    concerns: tuple[ConcernCount, ...]
    terminologies: tuple[str, ...]
    cases_sha256: str  # digest of every counted case version (case id, version id, date, source)
    synthetic_interval: int = 0  # counted cases made by riskplan synth or the demo (not real reports)
    synthetic_cumulative: int = 0

    def concern(self, concern_id: str) -> ConcernCount:
        for c in self.concerns:
            if c.concern_id == concern_id:
                return c
        return ConcernCount(concern_id, 0, 0, 0, 0)


def _month_expression(session: Session, column: Any) -> ColumnElement[str]:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.substr(column, 1, 7)  # SQLite keeps dates as ISO text


@contextmanager
def _counted_cases(session: Session, plan_name: str, end: dt.date) -> Iterator[Table]:
    """A temporary table of the case versions counted at the DLP ``end`` (one row per case), filled in one
    statement from :func:`riskplan.cases.reads.versions_at_dlp`.

    Columns: version_id, case_id, first_received (C.1.4, else C.1.5), serious, source (serious cases only:
    the JSON is read for them alone).
    """
    table = Table(
        f"psur_cases_{uuid.uuid4().hex[:12]}",
        MetaData(),
        Column("version_id", Integer, primary_key=True),
        Column("case_id", Integer, nullable=False),
        Column("first_received", Date, nullable=False),
        Column("serious", Boolean, nullable=False),
        Column("source", String(20)),
        prefixes=["TEMPORARY"],
    )
    rows = versions_at_dlp(session, plan_name, end)
    connection = session.connection()
    try:
        table.create(connection)
        connection.execute(
            table.insert().from_select(["version_id", "case_id", "first_received", "serious", "source"], rows)
        )
        yield table
    except BaseException:
        # PostgreSQL refuses any statement in a failed transaction, and its rollback drops the table; SQLite
        # may have created it outside the transaction, so it is dropped here, the original error kept.
        if connection.dialect.name != "postgresql":
            with suppress(Exception):
                table.drop(connection, checkfirst=True)
        raise
    table.drop(connection)


def count_cases(
    session: Session, plan: RiskManagementPlan, start: dt.date, end: dt.date, *, plan_name: str | None = None
) -> CaseCounts:
    """Every count of the report from the case store, as at the DLP ``end`` (see the module docstring)."""
    _check_interval(start, end)
    name = plan_name or plan.name
    rsi = plan.reference_safety_information
    with _counted_cases(session, name, end) as b:
        in_interval = b.c.first_received >= start
        totals = session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((in_interval, 1), else_=0)), 0),
                func.coalesce(func.sum(case((b.c.serious.is_(True), 1), else_=0)), 0),
                func.coalesce(func.sum(case((and_(b.c.serious.is_(True), in_interval), 1), else_=0)), 0),
            ).select_from(b)
        ).one()
        by_source = {
            str(src): (int(i), int(c))
            for src, i, c in session.execute(
                select(b.c.source, func.sum(case((in_interval, 1), else_=0)), func.count())
                .where(b.c.serious.is_(True))
                .group_by(b.c.source)
            )
        }

        r = reactions_by_version()
        if rsi is not None and rsi.expected_reactions:
            expected = sorted({e.pt.lower() for e in rsi.expected_reactions})
            listed: ColumnElement[str] = case(
                (r.c.pt_name.is_(None), literal("not assessable")),
                (func.lower(r.c.pt_name).in_(expected), literal("listed")),
                else_=literal("unlisted"),
            )
        else:
            listed = literal("not assessable")
        serious_reactions = and_(b.c.serious.is_(True), r.c.serious.is_(True))
        tabulation = tuple(
            sorted(
                (
                    TabulationRow(
                        str(src),
                        soc or NOT_CODED,
                        pt or NOT_CODED,
                        str(lst),
                        int(i),
                        int(c),
                    )
                    for src, soc, pt, lst, i, c in session.execute(
                        select(
                            b.c.source,
                            r.c.soc_name,
                            r.c.pt_name,
                            func.max(listed),
                            func.count(func.distinct(case((in_interval, b.c.case_id), else_=None))),
                            func.count(func.distinct(b.c.case_id)),
                        )
                        .join(r, r.c.case_version_id == b.c.version_id)
                        .where(serious_reactions)
                        .group_by(b.c.source, r.c.soc_name, r.c.pt_name)
                    )
                ),
                key=lambda t: (SOURCES.index(t.source), t.soc.casefold(), t.pt.casefold()),
            )
        )
        month = _month_expression(session, b.c.first_received)
        monthly = tuple(
            sorted(
                (str(m), str(src), int(n))
                for m, src, n in session.execute(
                    select(month, b.c.source, func.count())
                    .join(r, r.c.case_version_id == b.c.version_id)
                    .where(serious_reactions)
                    .group_by(month, b.c.source)
                )
            )
        )
        terminologies = tuple(
            sorted(
                str(t)
                for (t,) in session.execute(
                    select(r.c.terminology)
                    .distinct()
                    .join(b, r.c.case_version_id == b.c.version_id)
                    .where(r.c.terminology.is_not(None))
                )
            )
        )
        k = concerns_by_version()
        serious_case = and_(b.c.serious.is_(True))
        concerns = tuple(
            sorted(
                (
                    ConcernCount(str(cid), int(i), int(c), int(si), int(sc))
                    for cid, i, c, si, sc in session.execute(
                        select(
                            k.c.concern_id,
                            func.count(func.distinct(case((in_interval, b.c.case_id), else_=None))),
                            func.count(func.distinct(b.c.case_id)),
                            func.count(func.distinct(case((and_(in_interval, serious_case), b.c.case_id), else_=None))),
                            func.count(func.distinct(case((serious_case, b.c.case_id), else_=None))),
                        )
                        .join(b, b.c.version_id == k.c.case_version_id)
                        .group_by(k.c.concern_id)
                    )
                ),
                key=lambda x: x.concern_id,
            )
        )
        concern_months = tuple(
            sorted(
                (str(m), str(cid), int(n))
                for m, cid, n in session.execute(
                    select(month, k.c.concern_id, func.count(func.distinct(b.c.case_id)))
                    .join(b, b.c.version_id == k.c.case_version_id)
                    .where(in_interval)
                    .group_by(month, k.c.concern_id)
                )
            )
        )
        synthetic = session.execute(
            select(func.coalesce(func.sum(case((in_interval, 1), else_=0)), 0), func.count()).where(
                is_synthetic_case(b.c.case_id)
            )
        ).one()
        digest = hashlib.sha256()
        result = session.execute(
            select(b.c.case_id, b.c.version_id, b.c.first_received, b.c.source).order_by(b.c.case_id)
        )
        for part in result.partitions(50_000):
            digest.update(
                "".join(f"{cid},{vid},{_iso(first)},{src or ''}\n" for cid, vid, first, src in part).encode(
                    "ascii", "backslashreplace"
                )
            )
    return CaseCounts(
        valid_interval=int(totals[1]),
        valid_cumulative=int(totals[0]),
        serious_interval=int(totals[3]),
        serious_cumulative=int(totals[2]),
        serious_by_source=by_source,
        tabulation=tabulation,
        monthly=monthly,
        concerns=concerns,
        concern_months=concern_months,
        terminologies=terminologies,
        cases_sha256=digest.hexdigest(),
        synthetic_interval=int(synthetic[0]),
        synthetic_cumulative=int(synthetic[1]),
    )


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


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
    from riskplan.studies.plan_studies import drug_concepts, product_drug

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
    from riskplan.studies.concepts import expand_concept_set
    from riskplan.studies.plan_studies import drug_definition, product_drug

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
    row = cdm.con.execute(
        _ERA_SQL.format(covers=int(covers) - 1, concepts=concepts.table), [end, end, start, start, end, end]
    ).fetchone()
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
    from riskplan.studies.cohorts import build_new_user_cohort
    from riskplan.studies.incidence import incidence
    from riskplan.studies.outcomes import outcome_from_concern
    from riskplan.studies.plan_studies import drug_definition, product_drug

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
    from riskplan.studies.stats import standardised_ratio

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


# --------------------------------------------------------------------------------------------------
# Signals and risk-minimisation effectiveness (optional modules)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignalRecord:
    """A signal as the PBRER tabulates it (E2C(R2) 3.15 and Appendix C)."""

    id: str
    title: str
    state: str
    detected: dt.date | None
    closed: dt.date | None
    outcome: str | None
    concern_ids: tuple[str, ...]
    status_in_interval: str


@dataclass(frozen=True)
class OptionalSection:
    """A section fed by another module: whether it was available, why not, and its rows."""

    available: bool
    note: str
    headers: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


def _field(record: Any, *names: str) -> Any:
    for name in names:
        if isinstance(record, Mapping) and name in record:
            return record[name]
        if hasattr(record, name):
            return getattr(record, name)
    return None


def _as_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "value") and not isinstance(value, str | int | float):
        return str(value.value)
    return str(value)


def _import(module: str) -> Any | None:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def collect_signals(session: Session, start: dt.date, end: dt.date) -> tuple[bool, str, tuple[SignalRecord, ...]]:
    """Signals new, ongoing and closed in the interval from ``riskplan.signals.workflow.signals_in_interval``.

    New: detected in the interval; closed: closed in the interval; ongoing: detected before or in the
    interval and not closed by the DLP (E2C(R2) 3.15).
    """
    module = _import("riskplan.signals.workflow")
    reader = getattr(module, "signals_in_interval", None) if module is not None else None
    if reader is None:
        return False, f"{SIGNALS_NOT_AVAILABLE} (riskplan.signals.workflow is not installed).", ()
    try:
        records = list(reader(session, start, end))
    except Exception as exc:  # another module's failure must not stop the report; it is stated instead
        return False, f"{SIGNALS_NOT_AVAILABLE}: signals_in_interval failed ({exc.__class__.__name__}: {exc}).", ()
    out = []
    for rec in records:
        detected = _as_date(_field(rec, "detected", "detected_on", "detected_date", "detected_at"))
        closed = _as_date(_field(rec, "closed", "closed_on", "closed_date", "closed_at"))
        status = []
        if detected is not None and start <= detected <= end:
            status.append("new")
        if closed is not None and start <= closed <= end:
            status.append("closed")
        elif closed is None or closed > end:
            status.append("ongoing")
        concerns = _field(rec, "concern_ids", "concerns", "safety_concerns") or ()
        out.append(
            SignalRecord(
                id=_text(_field(rec, "id", "signal_id")),
                title=_text(_field(rec, "title", "name")),
                state=_text(_field(rec, "state", "status")),
                detected=detected,
                closed=closed,
                outcome=_text(_field(rec, "outcome")) or None,
                concern_ids=tuple(_text(c) for c in concerns),
                status_in_interval=", ".join(status) or "outside the interval",
            )
        )
    out.sort(key=lambda s: (s.detected or dt.date.min, s.id))
    return True, f"{len(out)} signal(s) from riskplan's signal management records.", tuple(out)


def _records_table(records: Sequence[Any]) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Any records (dataclasses, pydantic models, mappings, objects) as headers and text rows."""
    dicts: list[dict[str, Any]] = []
    for rec in records:
        if dataclasses.is_dataclass(rec) and not isinstance(rec, type):
            dicts.append(dataclasses.asdict(rec))
        elif hasattr(rec, "model_dump"):
            dicts.append(rec.model_dump(mode="json"))
        elif isinstance(rec, Mapping):
            dicts.append(dict(rec))
        else:
            dicts.append({k: v for k, v in vars(rec).items() if not k.startswith("_")})
    headers: list[str] = []
    for d in dicts:
        headers.extend(k for k in d if k not in headers)
    rows = tuple(tuple(fmt(_plain(d.get(h))) for h in headers) for d in dicts)
    return tuple(h.replace("_", " ") for h in headers), rows


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple | set | frozenset):
        return "; ".join(str(_plain(v)) for v in value)
    if hasattr(value, "value") and not isinstance(value, str | int | float | bool | dt.date):
        return value.value
    return value


def _quarter_of(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _quarter_exposure(exposure: Exposure) -> dict[str, float] | None:
    """Patient-years per calendar quarter from exposure rows labelled like ``2025-Q1``."""
    found: dict[str, float] = defaultdict(float)
    for row in exposure.rows:
        label = row.period.strip().upper()
        if len(label) == 7 and label[:4].isdigit() and label[4:6] == "-Q" and label[6] in "1234":
            found[label] += row.patient_years
    return dict(found) or None


def _quarterly_indicator_rows(
    records: Sequence[Any], plan: RiskManagementPlan, start: dt.date, end: dt.date, total_label: str | None = None
) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Indicators with per-quarter counts (``concern_id``, ``quarters``): the quarters of the interval, and
    the indicator's overall figures as a ``total_label`` row when given."""
    first, last = _quarter_of(start), _quarter_of(end)
    titles = {c.id: c.list_title for c in plan.safety_concerns}
    rows = []
    for rec in records:
        cid = _text(_field(rec, "concern_id", "indicator", "id"))
        for q in _field(rec, "quarters") or ():
            quarter = _text(_field(q, "quarter"))
            if not first <= quarter <= last:
                continue
            rate = _field(q, "rate_per_100py")
            rows.append(
                (
                    titles.get(cid, cid),
                    quarter,
                    fmt(_field(q, "cases")),
                    fmt(_field(q, "patient_years")),
                    "–" if rate is None else _ci((rate, _field(q, "ci_lower"), _field(q, "ci_upper"))),
                )
            )
        if total_label is not None:
            rate = _field(rec, "rate_per_100py")
            rows.append(
                (
                    titles.get(cid, cid),
                    total_label,
                    fmt(_field(rec, "total_cases")),
                    fmt(_field(rec, "patient_years")),
                    "–" if rate is None else _ci((rate, _field(rec, "ci_lower"), _field(rec, "ci_upper"))),
                )
            )
    headers = ("Safety concern", "Quarter", "Cases", "Patient-years", "Rate per 100 PY (95% CI)")
    return headers, tuple(rows)


def collect_minimisation(
    session: Session,
    plan: RiskManagementPlan,
    start: dt.date,
    end: dt.date,
    *,
    counts: CaseCounts | None = None,
    plan_name: str | None = None,
    exposure: Exposure | None = None,
) -> OptionalSection:
    """Outcome indicators of risk-minimisation effectiveness (GVP XVI.B.4, E2C(R2) 3.16.5) from
    ``riskplan.minimisation.effectiveness``.

    With ``counts``, its ``quarterly_outcomes`` aggregates this report's own cases (as at the DLP, first
    received in the interval; counted by month in the database) for its ``outcome_concerns(plan)``, with the
    quarterly exposure of an exposure table and the interval patient-years. Otherwise its
    ``outcome_indicators`` reads the case store itself (called with whichever of session, plan, plan_name,
    start, end and quarterly exposure it names). Indicators counted per quarter are shown for the quarters
    of the interval; other records as a plain table.
    """
    module = _import("riskplan.minimisation.effectiveness")
    if module is None:
        return OptionalSection(
            False, "Not available: riskplan.minimisation.effectiveness is not installed in this riskplan."
        )
    by_quarter = _quarter_exposure(exposure) if exposure is not None else None
    quarterly = getattr(module, "quarterly_outcomes", None)
    reader = getattr(module, "outcome_indicators", None)
    try:
        if counts is not None and callable(quarterly):
            known = {c.id for c in plan.safety_concerns}
            chooser = getattr(module, "outcome_concerns", None)  # the plan's analysis.effectiveness_indicators
            wanted = [c for c in (chooser(plan) if callable(chooser) else ()) if c in known]
            if not wanted:
                wanted = sorted(c.id for c in plan.safety_concerns if c.additional_measures)
            # a concern without a definition counts no case: its indicator cannot be assessed, not zero
            undefined = [c for c in wanted if plan.concern(c).definition.is_empty]
            wanted = [c for c in wanted if c not in undefined]
            if undefined and not wanted:
                return OptionalSection(
                    False,
                    f"Not assessed: the safety concern(s) the indicators count ({', '.join(undefined)}) have no "
                    "definition in the plan, so no case is counted toward them.",
                )
            pairs = (
                (dt.date.fromisoformat(f"{month}-01"), (cid,))
                for month, cid, n in counts.concern_months
                if cid in wanted
                for _ in range(n)
            )
            records = list(
                quarterly(
                    pairs,
                    concern_ids=tuple(wanted),
                    exposure_by_quarter=by_quarter,
                    total_patient_years=exposure.interval_patient_years if exposure is not None else None,
                )
            )
            source = (
                "computed by riskplan.minimisation.effectiveness.quarterly_outcomes over the cases of this report "
                "(as at the DLP, by quarter of first receipt in the interval)"
            )
            if undefined:
                source += f"; not assessed for {', '.join(undefined)} (no definition in the plan)"
        elif callable(reader):
            available, why, kwargs = _arguments(
                reader,
                {
                    "session": session,
                    "plan": plan,
                    "plan_name": plan_name or plan.name,
                    "start": start,
                    "end": end,
                    "exposure_by_quarter": by_quarter,
                },
            )
            if not available:
                return OptionalSection(False, why)
            result = reader(**kwargs)
            records = list(result.values() if isinstance(result, Mapping) else result)
            source = "from riskplan.minimisation.effectiveness.outcome_indicators (that module's own counting rules)"
        else:
            return OptionalSection(
                False, "Not available: riskplan.minimisation.effectiveness has no outcome indicators."
            )
    except Exception as exc:  # another module's failure must not stop the report; it is stated instead
        return OptionalSection(
            False, f"Not available: the outcome indicators failed ({exc.__class__.__name__}: {exc})."
        )
    if records and all(_field(r, "quarters") is not None for r in records):
        total = "interval" if counts is not None and callable(quarterly) else None
        headers, rows = _quarterly_indicator_rows(records, plan, start, end, total)
        note = f"Outcome indicators for {len(records)} safety concern(s) by calendar quarter, {source}."
    else:
        headers, rows = _records_table(records)
        note = f"{len(rows)} indicator(s), {source}."
    return OptionalSection(True, note, headers, rows)


def _arguments(func_: Callable[..., Any], known: Mapping[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    """Keyword arguments for ``func_`` from ``known``; False and why when it needs one we cannot give."""
    kwargs: dict[str, Any] = {}
    for name, param in inspect.signature(func_).parameters.items():
        if name in known:
            kwargs[name] = known[name]
        elif param.default is inspect.Parameter.empty and param.kind not in (
            inspect.Parameter.VAR_POSITIONAL,
            inspect.Parameter.VAR_KEYWORD,
        ):
            return False, f"Not available: {getattr(func_, '__name__', 'the indicator function')} needs {name!r}.", {}
    return True, "", kwargs


# --------------------------------------------------------------------------------------------------
# Plan versions: actions taken and RSI changes (E2C(R2) 3.3, 3.4)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanChange:
    version: int
    loaded: dt.date
    loaded_by: str
    reason: str
    changes: tuple[str, ...]


def _plan_changes(versions: Sequence[PlanVersion], start: dt.date, end: dt.date) -> list[PlanChange]:
    out = []
    befores: list[PlanVersion | None] = [None, *versions][: len(versions)]
    for before, after in zip(befores, versions, strict=True):
        loaded = after.loaded_at.date()
        if not start <= loaded <= end:
            continue
        lines: list[str] = []
        if before is None:
            lines.append("first version of the plan stored")
        else:
            d = diff_plans(before.plan, after.plan)
            lines += [f"{i.kind} {i.change}: {i.title}" for i in d.items]
            lines += [f"{f.path} changed" for f in d.plan_fields]
        out.append(
            PlanChange(after.version, loaded, after.loaded_by, after.reason or "", tuple(lines) or ("no change",))
        )
    return out


def listedness_assessable(plan: RiskManagementPlan) -> bool:
    """Listedness needs an RSI with expected reactions (E2C(R2) 3.4); :func:`count_cases` uses the same rule."""
    rsi = plan.reference_safety_information
    return rsi is not None and bool(rsi.expected_reactions)


def no_listedness_reason(plan: RiskManagementPlan, plan_label: str) -> str:
    """Why listedness cannot be assessed against ``plan`` (for a plan where :func:`listedness_assessable` is
    False)."""
    if plan.reference_safety_information is not None:
        return f"the reference safety information of plan {plan_label} lists no expected reaction"
    why = f"plan {plan_label} has no reference safety information"
    if PlanPart.REFERENCE_SAFETY_INFORMATION in plan.absent:
        why += " (its source document, e.g. a public RMP summary, does not carry one)"
    return why


def _rsi_changes(versions: Sequence[PlanVersion], plan: RiskManagementPlan, start: dt.date) -> list[str]:
    """Expected reactions added or removed since the plan version in effect at the start of the interval."""
    earlier = [v for v in versions if v.loaded_at.date() <= start]
    if not earlier:
        return []
    old = earlier[-1].plan.reference_safety_information
    new = plan.reference_safety_information
    if old is not None and new is None:  # the whole RSI is gone, not each of its reactions
        return [
            f"the plan version in effect at the start of the interval (version {earlier[-1].version}) had "
            f"reference safety information ({old.document}, {len(old.expected_reactions)} expected reactions); "
            "the version this report uses has none"
        ]
    old_pts = {r.pt for r in old.expected_reactions} if old else set()
    new_pts = {r.pt for r in new.expected_reactions} if new else set()
    lines = [f"added to the RSI: {pt}" for pt in sorted(new_pts - old_pts)]
    lines += [f"removed from the RSI: {pt}" for pt in sorted(old_pts - new_pts)]
    if old and new and (old.document, old.version) != (new.document, new.version):
        lines.append(
            f"RSI document changed from {old.document} {old.version or ''} to {new.document} {new.version or ''}"
        )
    return lines


# --------------------------------------------------------------------------------------------------
# Collecting everything
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PsurData:
    """Everything the report shows, with the checksum of its inputs."""

    plan_name: str
    plan: RiskManagementPlan
    plan_version: int | None
    plan_sha256: str
    start: dt.date
    end: dt.date
    counts: CaseCounts
    exposure: Exposure
    study_rates: dict[str, StudyRate]
    study_notes: tuple[str, ...]
    evaluations: tuple[ConcernEvaluation, ...]
    signals_available: bool
    signals_note: str
    signals: tuple[SignalRecord, ...]
    minimisation: OptionalSection
    plan_changes: tuple[PlanChange, ...]
    rsi_changes: tuple[str, ...]
    rsi_baseline: bool
    parameters: dict[str, Any]
    reporting: ReportingCompliance = field(default_factory=ReportingCompliance)  # appendix 20.4
    checksum: str = field(default="")
    # (rows, head hash) of the audit trail when the report was generated: which state of the tamper-evident
    # trail (21 CFR 11.10(e)) the report was made from; not an input, so not in the checksum
    audit_trail: tuple[int, str] = field(default=(0, ""))

    plan_in_force: str = ""  # which plan version the report used and why (CurrentPlan.describe())


def _canonical(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 9)
    return value


def input_checksum(data: PsurData) -> str:
    """SHA-256 of the canonical JSON of the counted rows, the plan version's content hash and the parameters."""
    payload = {
        "parameters": data.parameters,
        "plan": {"name": data.plan_name, "version": data.plan_version, "content_sha256": data.plan_sha256},
        "counts": _canonical(data.counts),
        "exposure": _canonical(data.exposure),
        "study_rates": _canonical(data.study_rates),
        "signals": _canonical(data.signals) if data.signals_available else None,
        "minimisation": _canonical(data.minimisation),
        "plan_changes": _canonical(data.plan_changes),
        "reporting": _canonical(data.reporting),
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def collect_psur(
    session: Session,
    plan_name: str,
    start: dt.date,
    end: dt.date,
    *,
    cdm: str | Path | None = None,
    exposure: Path | None = None,
) -> PsurData:
    """Read and compute everything the report shows (no rendering).

    The exposure table is read and the CDM opened first, so that bad input fails before the counting.
    """
    _check_interval(start, end)
    in_force = current_plan(session, plan_name)  # the approved version, else the latest stored, else bundled
    plan, version = in_force.plan, in_force.version
    versions = list_versions(session, plan_name) if version is not None else []
    exposure_data = NO_EXPOSURE
    exposure_sha = None
    if exposure is not None:
        rows = read_exposure_csv(Path(exposure))
        exposure_sha = hashlib.sha256(Path(exposure).read_bytes()).hexdigest()
        exposure_data = exposure_from_rows(rows, f"Exposure table supplied by the MAH ({Path(exposure).name}).")
    rates: dict[str, StudyRate] = {}
    study_notes: tuple[str, ...] = ()
    if cdm is not None:
        from riskplan.studies.cdm import open_cdm

        with open_cdm(cdm) as opened:
            if exposure is None:
                exposure_data = cdm_exposure(opened, plan, start, end)
            rates, study_notes = cdm_study_rates(opened, plan)
    counts = count_cases(session, plan, start, end, plan_name=plan_name)
    signals_available, signals_note, signals = collect_signals(session, start, end)
    data = PsurData(
        plan_name=plan_name,
        plan=plan,
        plan_version=version,
        plan_in_force=in_force.describe(),
        plan_sha256=content_hash(plan),
        start=start,
        end=end,
        counts=counts,
        exposure=exposure_data,
        study_rates=rates,
        study_notes=study_notes,
        evaluations=tuple(evaluate_concerns(plan, counts, exposure_data, rates)),
        signals_available=signals_available,
        signals_note=signals_note,
        signals=signals,
        minimisation=collect_minimisation(
            session, plan, start, end, counts=counts, plan_name=plan_name, exposure=exposure_data
        ),
        plan_changes=tuple(_plan_changes(versions, start, end)),
        rsi_changes=tuple(_rsi_changes(versions, plan, start)),
        rsi_baseline=any(v.loaded_at.date() <= start for v in versions),
        reporting=collect_reporting_compliance(session, plan_name, start, end),
        parameters={
            "plan": plan_name,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "cdm": None if cdm is None else Path(str(cdm)).name,
            "exposure_sha256": exposure_sha,
        },
        audit_trail=audit_head(session),
    )
    return dataclasses.replace(data, checksum=input_checksum(data))


# --------------------------------------------------------------------------------------------------
# Presentation
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableView:
    caption: str
    groups: tuple[tuple[str, int], ...]  # header groups (label, colspan)
    headers: tuple[str, ...]
    rows: tuple[tuple[tuple[str, bool, str], ...], ...]  # (text, numeric, css class)


def _cell(value: Any, css: str = "") -> tuple[str, bool, str]:
    numeric = value is None or (isinstance(value, int | float) and not isinstance(value, bool))
    return fmt(value), numeric, css


def tabulation_view(rows: Sequence[TabulationRow], caption: str) -> TableView:
    """SOC / PT rows with interval and cumulative counts, listed and unlisted (E2C(R2) Appendix B)."""
    by_soc: dict[str, list[TabulationRow]] = defaultdict(list)
    for r in rows:
        by_soc[r.soc].append(r)

    def split(items: Iterable[TabulationRow]) -> list[int | str]:
        vals: list[int | str] = [0] * 6
        rows_ = list(items)
        for r in rows_:
            for offset, n in ((0, r.interval), (3, r.cumulative)):
                column = {"listed": 0, "unlisted": 1}.get(r.listedness)
                if column is not None:
                    vals[offset + column] = int(vals[offset + column]) + n
                vals[offset + 2] = int(vals[offset + 2]) + n
        if all(r.listedness == "not assessable" for r in rows_):
            # no RSI (or no PT): listed and unlisted are unknown, not zero (E2C(R2) 3.4)
            vals[0] = vals[1] = vals[3] = vals[4] = NOT_ASSESSED
        return vals

    out: list[tuple[tuple[str, bool, str], ...]] = []
    for soc in sorted(by_soc, key=str.casefold):
        items = by_soc[soc]
        out.append((_cell(soc, "soc"), _cell("", "soc"), *(_cell(v, "soc") for v in split(items))))
        for r in sorted(items, key=lambda x: x.pt.casefold()):
            out.append((_cell(""), _cell(r.pt), *(_cell(v) for v in split([r]))))
    total = split(rows)
    out.append((_cell("Total", "total"), _cell("", "total"), *(_cell(v, "total") for v in total)))
    return TableView(
        caption,
        (("", 2), ("Interval", 3), ("Cumulative to the DLP", 3)),
        ("System organ class", "Preferred term", "listed", "unlisted", "total", "listed", "unlisted", "total"),
        tuple(out),
    )


def _quarter(month: str) -> str:
    year, mm = month.split("-")
    return f"{year}-Q{(int(mm) - 1) // 3 + 1}"


def quarterly(monthly: Sequence[tuple[str, str, int]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for month, source, n in monthly:
        out[_quarter(month)][source] += n
    return {q: dict(v) for q, v in sorted(out.items())}


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def quarter_plot(data: PsurData) -> str | None:
    """Serious reactions per quarter of first receipt, stacked by source; the interval shaded."""
    quarters = quarterly(data.counts.monthly)
    if not quarters:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(quarters)
    fig, ax = plt.subplots(figsize=(7.0, 3.2))
    bottom = [0] * len(labels)
    colours = {SPONTANEOUS: "#3b6ea5", SOLICITED: "#e39b3b", CLINICAL_TRIAL: "#5a9e5a", NOT_AVAILABLE: "#999999"}
    for source in SOURCES:
        values = [quarters[q].get(source, 0) for q in labels]
        if any(values):
            ax.bar(range(len(labels)), values, bottom=bottom, label=source, color=colours[source], width=0.8)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    first_q = _quarter(data.start.isoformat()[:7])
    inside = [i for i, q in enumerate(labels) if q >= first_q]
    if inside:
        ax.axvspan(inside[0] - 0.5, inside[-1] + 0.5, color="#f2e6b3", alpha=0.45, zorder=0, label="reporting interval")
    step = max(1, len(labels) // 12)
    ax.set_xticks(range(0, len(labels), step), labels[::step], rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("serious reactions")
    ax.set_title("Serious reactions per quarter of first receipt (C.1.4)", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def concern_plot(data: PsurData) -> str | None:
    """Cases per safety concern, interval against cumulative (concerns with a definition: others count nothing)."""
    evs = [e for e in data.evaluations if e.defined]
    if not evs:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [e.concern.list_title if len(e.concern.list_title) <= 40 else e.concern.list_title[:39] + "…" for e in evs]
    ys = list(range(len(evs)))[::-1]
    fig, ax = plt.subplots(figsize=(7.0, 0.38 * len(evs) + 1.1))
    ax.barh([y + 0.2 for y in ys], [e.count.cumulative for e in evs], height=0.4, label="cumulative", color="#9db7d5")
    ax.barh([y - 0.2 for y in ys], [e.count.interval for e in evs], height=0.4, label="interval", color="#3b6ea5")
    ax.set_yticks(ys, labels, fontsize=7)
    ax.set_xlabel("cases")
    ax.set_title("Cases per safety concern: interval and cumulative", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def _ci(triple: tuple[float | None, float | None, float | None]) -> str:
    est, lo, hi = triple
    if est is None:
        return "–"
    return f"{fmt(est)} ({fmt(lo)} to {fmt(hi)})"


def plan_label(data: PsurData) -> str:
    if data.plan_version is None:
        return f"{data.plan_name} (bundled plan, not stored)"
    return f"{data.plan_name} version {data.plan_version}"


def not_assessed(data: PsurData) -> list[str]:
    """What this report could not assess, and why: a section that depends on it draws no conclusion."""
    label = plan_label(data)
    lines = []
    if not listedness_assessable(data.plan):
        lines.append(
            f"Listedness of serious reactions (sections 4, 6 and 19): {no_listedness_reason(data.plan, label)}; "
            "whether a reaction is listed or unlisted, and whether an unlisted serious PT was reported for the "
            "first time, cannot be determined."
        )
    undefined = [e.concern.list_title for e in data.evaluations if not e.defined]
    if undefined:
        why = f"no definition in plan {label}"
        if PlanPart.CONCERN_DEFINITIONS in data.plan.absent:
            why += " (its source document, e.g. a public RMP summary, does not carry them)"
        lines.append(
            f"Cases per safety concern (sections 16.3 to 16.5) for {len(undefined)} concern(s): {why}, so no case "
            f"is counted toward them: {'; '.join(undefined)}."
        )
    if not data.exposure.available:
        lines.append(
            "Reporting rates and observed-to-expected comparisons (sections 5.2, 16.3 and 16.4): no patient "
            f"exposure. {data.exposure.description}"
        )
    elif not data.study_rates:
        lines.append("Observed-to-expected comparisons (section 16.3): no study incidence rates (no OMOP CDM given).")
    if not data.signals_available:
        lines.append(f"Signals (sections 15 and 16.2): {data.signals_note}")
    return lines


def _new_unlisted_lines(c: CaseCounts, data: PsurData) -> list[str]:
    """Unlisted serious PTs first reported in the interval (any source), or why this cannot be assessed."""
    if not listedness_assessable(data.plan):
        return [
            "Whether any unlisted serious PT was reported for the first time in the interval could not be assessed: "
            f"{no_listedness_reason(data.plan, plan_label(data))}."
        ]
    before: dict[str, int] = defaultdict(int)  # cases before the interval, over every source
    in_interval: dict[str, int] = defaultdict(int)
    for r in c.tabulation:
        if r.listedness == "unlisted":
            before[r.pt] += r.cumulative - r.interval
            in_interval[r.pt] += r.interval
    new_unlisted = sorted((pt for pt, n in in_interval.items() if n > 0 and before[pt] == 0), key=str.casefold)
    lines = []
    if new_unlisted:
        lines.append(
            f"{len(new_unlisted)} unlisted serious PT(s) were reported for the first time in the interval: "
            + ", ".join(new_unlisted)
            + "."
        )
    else:
        lines.append("No unlisted serious PT was reported for the first time in the interval.")
    uncoded = sum(r.interval for r in c.tabulation if r.listedness == "not assessable")
    if uncoded:
        lines.append(
            f"Serious reactions without a MedDRA PT ({fmt(uncoded)} in the interval tabulations) could not be "
            "assessed for listedness."
        )
    return lines


def _conclusions(data: PsurData) -> list[str]:
    c = data.counts
    lines = [
        f"{fmt(c.valid_interval)} valid case(s) were first received in the interval ({fmt(c.valid_cumulative)} "
        f"cumulatively), of which {fmt(c.serious_interval)} serious ({fmt(c.serious_cumulative)} cumulatively)."
    ]
    if c.synthetic_cumulative:
        lines.insert(
            0,
            f"SYNTHETIC DATA: {fmt(c.synthetic_interval)} of the interval's cases ({fmt(c.synthetic_cumulative)} "
            "cumulatively) were made by riskplan synth or the demo, not received as real reports; "
            "this report is not for submission.",
        )
    lines += _new_unlisted_lines(c, data)
    high = [e for e in data.evaluations if e.defined and e.oe_interval[1] is not None and e.oe_interval[1] > 1]
    for e in high:
        lines.append(
            f"{e.concern.list_title}: observed cases exceed those expected from the study rate "
            f"(O/E {_ci(e.oe_interval)}); to be evaluated."
        )
    if data.signals_available:
        new = sum("new" in s.status_in_interval for s in data.signals)
        closed = sum("closed" in s.status_in_interval for s in data.signals)
        lines.append(f"Signals: {new} new and {closed} closed in the interval.")
    else:
        lines.append("Signals: signal management records were not available to this report.")
    lines.append(
        "The evaluation of the benefit-risk balance and any proposed actions are for the MAH's qualified person "
        "responsible for pharmacovigilance (QPPV) to state; riskplan provides the data above."
    )
    return lines


def _view(data: PsurData) -> dict[str, Any]:
    c = data.counts
    tab_by_source = {s: [r for r in c.tabulation if r.source == s] for s in SOURCES}
    post_marketing = [
        (s, tabulation_view(tab_by_source[s], f"Serious adverse reactions from {s} post-marketing sources"))
        for s in POST_MARKETING
        if tab_by_source[s]
    ]
    trials = (
        tabulation_view(tab_by_source[CLINICAL_TRIAL], "Serious adverse events from clinical trials (case reports)")
        if tab_by_source[CLINICAL_TRIAL]
        else None
    )
    source_rows = [(s, *c.serious_by_source.get(s, (0, 0))) for s in SOURCES]
    plan_studies = [
        {
            "short_name": s.short_name,
            "category": int(s.category),
            "status": s.status.value if s.status else "not recorded",
            "concerns": ", ".join(s.safety_concerns) or "–",
            "milestones": [
                f"{m.name}: {m.due.isoformat() if m.due else 'no date'}"
                for m in s.milestones
                if m.due is None or data.start <= m.due <= data.end
            ],
        }
        for s in data.plan.studies
    ]
    additional = [
        (e.number, e.concern.list_title, "; ".join(m.name for m in e.concern.additional_measures))
        for e in data.evaluations
        if e.concern.additional_measures
    ]
    return {
        "d": data,
        "c": c,
        "p": data.plan.product,
        "s": summary_view(data.plan),
        "fmt": fmt,
        "ci": _ci,
        "NO_DATA": NO_DATA,
        "version": __version__,
        "post_marketing": post_marketing,
        "trials": trials,
        "source_rows": source_rows,
        "quarter_plot": quarter_plot(data),
        "concern_plot": concern_plot(data),
        "categories": list(ConcernCategory),
        "plan_studies": plan_studies,
        "additional": additional,
        "conclusions": _conclusions(data),
        "closed_signals": [sg for sg in data.signals if "closed" in sg.status_in_interval],
        "plan_label": plan_label(data),
        "listedness": listedness_assessable(data.plan),
        "no_listedness": no_listedness_reason(data.plan, plan_label(data)),
        "not_assessed": not_assessed(data),
        "NOT_ASSESSED": NOT_ASSESSED,
    }


def render_psur_html(data: PsurData) -> str:
    """The PBRER as one self-contained HTML document (plots as PNG data URIs); deterministic."""
    return environment().get_template("psur/report.html.j2").render(**_view(data))


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


def peak_rss_mib() -> float:
    """Peak resident memory of this process in MiB (``VmHWM``, which, unlike ``ru_maxrss``, starts afresh at
    ``exec``; ``ru_maxrss`` where /proc is absent)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


@dataclass(frozen=True)
class PsurResult:
    """The files written (HTML, PDF unless skipped, metadata JSON) and the input checksum on the cover."""

    paths: tuple[Path, ...]
    checksum: str
    html: Path
    pdf: Path | None
    metadata: Path


def write_psur(
    engine: Engine,
    plan_name: str,
    start: dt.date,
    end: dt.date,
    out_dir: Path,
    cdm: str | Path | None = None,
    exposure: Path | None = None,
    *,
    pdf: bool = True,
    progress: Callable[[str], None] | None = None,
) -> PsurResult:
    """Write ``psur_<plan>_<from>_<to>.html``, ``.pdf`` and ``.metadata.json`` into ``out_dir``."""
    _check_interval(start, end)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with session_scope(engine) as session:
        data = collect_psur(session, plan_name, start, end, cdm=cdm, exposure=exposure)
    timings["collect_seconds"] = time.perf_counter() - t0
    if progress:
        progress(f"counted {data.counts.valid_cumulative:,} cases in {timings['collect_seconds']:.1f} s")
    t1 = time.perf_counter()
    html = render_psur_html(data)
    timings["html_seconds"] = time.perf_counter() - t1
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"psur_{plan_name}_{start.isoformat()}_{end.isoformat()}"
    html_path = out_dir / f"{stem}.html"
    html_path.write_text(html, encoding="utf-8")
    pdf_path: Path | None = None
    if pdf:
        t2 = time.perf_counter()
        pdf_path = out_dir / f"{stem}.pdf"
        pdf_path.write_bytes(html_to_pdf(html))
        timings["pdf_seconds"] = time.perf_counter() - t2
    meta_path = out_dir / f"{stem}.metadata.json"
    metadata = {
        "report": "PSUR / PBRER (ICH E2C(R2), GVP Module VII)",
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "riskplan_version": __version__,
        "checksum_sha256": data.checksum,
        "audit_trail": {"rows": data.audit_trail[0], "head_sha256": data.audit_trail[1]},
        "parameters": data.parameters,
        "plan": {
            "name": plan_name,
            "version": data.plan_version,
            "in_force": data.plan_in_force,
            "content_sha256": data.plan_sha256,
        },
        "counted_cases_sha256": data.counts.cases_sha256,
        "files": {
            "html": html_path.name,
            "html_sha256": hashlib.sha256(html.encode("utf-8")).hexdigest(),
            "pdf": pdf_path.name if pdf_path else None,
        },
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }
    meta_path.write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    paths = tuple(p for p in (html_path, pdf_path, meta_path) if p is not None)
    return PsurResult(paths, data.checksum, html_path, pdf_path, meta_path)
