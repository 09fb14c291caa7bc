"""The registry of rule kinds a plan's infusion checks may name, and their evaluation.

Each rule reads the patient record in a :class:`RuleContext` (the record, the date of the infusion about
to be given, the infusions before it and the record's entry for this one) and returns a
:class:`Finding`: ``pass``, ``fail`` (the check's ``severity_if_failed`` decides block or warn) or
``missing`` (the data needed is not in the record: always a warning that names the missing item). A
screening required before the first dose that is not on record is a ``fail``: the rule is that it was
done (SmPC 4.4), so its absence takes the check's severity.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from riskplan.minimisation.record import (
    Diagnosis,
    Infusion,
    PatientRecord,
    PregnancyStatus,
    Screening,
    ScreeningResult,
    Sex,
)
from riskplan.plan import (
    ActiveInfectionParameters,
    ContraindicatedDiagnosisParameters,
    DiagnosisCondition,
    DiagnosisStatus,
    DosingScheduleParameters,
    LabWithinDaysParameters,
    NoLiveVaccineParameters,
    ObservationAfterInfusionParameters,
    PositiveResult,
    PregnancyStatusParameters,
    PremedicationGivenParameters,
    RuleKind,
    ScreeningBeforeFirstDoseParameters,
    words_pattern,
)


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    MISSING = "missing"


@dataclass(frozen=True)
class Finding:
    verdict: Verdict
    message: str


def _pass(message: str) -> Finding:
    return Finding(Verdict.PASS, message)


def _fail(message: str) -> Finding:
    return Finding(Verdict.FAIL, message)


def _missing(message: str) -> Finding:
    return Finding(Verdict.MISSING, message)


@dataclass(frozen=True)
class RuleContext:
    record: PatientRecord
    infusion_date: dt.date
    prior: tuple[Infusion, ...]  # infusions before infusion_date, oldest first
    current: Infusion | None  # the record's entry for infusion_date, if any

    @classmethod
    def of(cls, record: PatientRecord, infusion_date: dt.date) -> RuleContext:
        ordered = record.sorted_infusions()
        prior = tuple(i for i in ordered if i.date < infusion_date)
        current = next((i for i in ordered if i.date == infusion_date), None)
        return cls(record, infusion_date, prior, current)

    @property
    def is_first_dose(self) -> bool:
        return not self.prior

    @property
    def first_dose_date(self) -> dt.date:
        return self.prior[0].date if self.prior else self.infusion_date

    @property
    def infusion_number(self) -> int:
        return len(self.prior) + 1


def _d(date: dt.date) -> str:
    return date.isoformat()


# --- contraindications and infections ----------------------------------------------------------------


def _code_matches(code: str | None, prefixes: Sequence[str]) -> bool:
    if not code:
        return False
    plain = code.replace(".", "").upper()
    return any(plain.startswith(p.replace(".", "")) for p in prefixes)


def _diagnosis_matches(diagnosis: Diagnosis, icd10: Sequence[str], terms: list[str], also: list[str]) -> bool:
    if _code_matches(diagnosis.code, icd10):
        return True
    pattern, extra = words_pattern(terms), words_pattern(also)
    if pattern is None or not pattern.search(diagnosis.text):
        return False
    return extra is None or bool(extra.search(diagnosis.text))


def status_on(dx: Diagnosis, date: dt.date) -> DiagnosisStatus | None:
    """The diagnosis's status on ``date``: None before its onset; active while it lasted."""
    if dx.onset is not None and dx.onset > date:
        return None
    if dx.status is not DiagnosisStatus.ACTIVE and dx.end is not None and dx.end >= date:
        return DiagnosisStatus.ACTIVE
    return dx.status


def _screening_evidence(record: PatientRecord, condition: DiagnosisCondition, until: dt.date) -> list[str]:
    """The latest result of each of the condition's screening tests, or that there is none."""
    if not condition.positive_screenings:
        return []
    notes = []
    for test in condition.positive_screenings:
        results = sorted(
            (s for s in record.screenings or () if s.test is test and s.date <= until), key=lambda s: s.date
        )
        if results:
            notes.append(f"{test.value} {results[-1].result.value} on {_d(results[-1].date)}")
    return notes or [f"no {' or '.join(t.value for t in condition.positive_screenings)} result on record"]


def _positive_screenings(record: PatientRecord, condition: DiagnosisCondition, until: dt.date) -> list[Screening]:
    return [
        s
        for s in record.screenings or ()
        if s.test in condition.positive_screenings
        and s.result is ScreeningResult.POSITIVE
        and s.date <= until
        and not (condition.untreated_only and s.treatment)
    ]


def contraindicated_diagnosis(p: ContraindicatedDiagnosisParameters, ctx: RuleContext) -> Finding:
    diagnoses = ctx.record.diagnoses
    evidence: list[str] = []
    for condition in p.conditions:
        for dx in diagnoses or ():
            if status_on(dx, ctx.infusion_date) in condition.statuses and _diagnosis_matches(
                dx, condition.icd10, condition.terms, condition.also_terms
            ):
                evidence.append(f"{condition.label}: diagnosis {dx.label()}, {dx.status.value}")
        for s in _positive_screenings(ctx.record, condition, ctx.infusion_date):
            untreated = ", no treatment documented" if condition.untreated_only else ""
            evidence.append(f"{condition.label}: {s.test.value} positive on {_d(s.date)}{untreated}")
    if evidence:
        return _fail("contraindicated — " + "; ".join(evidence))
    if diagnoses is None:
        return _missing("diagnoses not recorded: cannot exclude " + ", ".join(c.label for c in p.conditions))
    screened = [n for c in p.conditions for n in _screening_evidence(ctx.record, c, ctx.infusion_date)]
    return _pass(
        f"none of {', '.join(c.label for c in p.conditions)} among {len(diagnoses)} recorded diagnoses"
        + (f"; {'; '.join(screened)}" if screened else "")
    )


def active_infection(p: ActiveInfectionParameters, ctx: RuleContext) -> Finding:
    if ctx.record.diagnoses is None:
        return _missing("diagnoses not recorded: cannot exclude an active infection")
    active = [
        dx
        for dx in ctx.record.diagnoses
        if status_on(dx, ctx.infusion_date) is DiagnosisStatus.ACTIVE and _diagnosis_matches(dx, p.icd10, p.terms, [])
    ]
    if active:
        names = "; ".join(dx.label() + (f" since {_d(dx.onset)}" if dx.onset else "") for dx in active)
        return _fail(f"active infection: {names} — delay the infusion until the infection has resolved")
    if p.require_assessment and (ctx.current is None or ctx.current.infection_assessed is not True):
        return _missing(f"no infection assessment recorded for the infusion on {_d(ctx.infusion_date)}")
    return _pass("no active infection recorded; infection assessment documented")


# --- before the first dose ---------------------------------------------------------------------------


def screening_before_first_dose(p: ScreeningBeforeFirstDoseParameters, ctx: RuleContext) -> Finding:
    first = ctx.first_dose_date
    missing: list[str] = []
    failed: list[str] = []
    found: list[str] = []
    for req in p.required:
        results = sorted(
            (s for s in ctx.record.screenings or () if s.test in req.any_of and s.date <= first),
            key=lambda s: s.date,
        )
        if not results:
            missing.append(req.label)
            continue
        latest = results[-1]
        text = f"{latest.test.value} {latest.result.value} on {_d(latest.date)}"
        if p.max_age_days is not None and (first - latest.date).days > p.max_age_days:
            failed.append(f"{text}: older than {p.max_age_days} days at the first dose ({_d(first)})")
        elif latest.result is ScreeningResult.POSITIVE and (
            req.positive is PositiveResult.FAIL
            or (req.positive is PositiveResult.NEEDS_TREATMENT and not latest.treatment)
        ):
            failed.append(f"{text}" + ("" if req.positive is PositiveResult.FAIL else ", no treatment documented"))
        else:
            found.append(text + (f" (treatment: {latest.treatment})" if latest.treatment else ""))
    if missing:
        # SmPC 4.4: screen *before* starting treatment. A screening not on record is the failure itself
        # (the check's severity_if_failed), not missing data that only warns.
        where = "" if ctx.record.screenings is not None else " (screenings not recorded)"
        failed.append(f"not on record before the first dose{where}: {', '.join(missing)}")
    if failed:
        return _fail("; ".join(failed))
    return _pass("; ".join(found))


def lab_within_days(p: LabWithinDaysParameters, ctx: RuleContext) -> Finding:
    if ctx.record.labs is None:
        return _missing("laboratory results not recorded: " + ", ".join(r.label for r in p.required))
    missing: list[str] = []
    stale: list[str] = []
    found: list[str] = []
    for req in p.required:
        names = {n.casefold() for n in req.any_of}
        results = sorted(
            (r for r in ctx.record.labs if r.test.casefold() in names and r.date <= ctx.infusion_date),
            key=lambda r: r.date,
        )
        if not results:
            missing.append(req.label)
            continue
        latest = results[-1]
        age = (ctx.infusion_date - latest.date).days
        text = f"{latest.test} {latest.value:g} {latest.unit} on {_d(latest.date)}"
        (stale if age > p.days else found).append(text + (f" ({age} days old)" if age > p.days else ""))
    if stale:
        return _fail(f"older than {p.days} days: " + "; ".join(stale) + _also_missing(missing))
    if missing:
        return _missing("no result on record: " + ", ".join(missing))
    return _pass("; ".join(found))


def _also_missing(missing: list[str]) -> str:
    return f"; no result on record: {', '.join(missing)}" if missing else ""


def no_live_vaccine(p: NoLiveVaccineParameters, ctx: RuleContext) -> Finding:
    if ctx.record.vaccinations is None:
        return _missing("vaccination history not recorded (live or live-attenuated vaccines)")
    first = ctx.first_dose_date
    problems: list[str] = []
    for v in sorted(ctx.record.vaccinations, key=lambda v: v.date):
        if not v.live or v.date > ctx.infusion_date:
            continue
        gap = (first - v.date).days
        if p.min_days_before_first_dose is not None and 0 <= gap < p.min_days_before_first_dose:
            problems.append(
                f"live vaccine {v.vaccine} on {_d(v.date)}, {gap} days before the first dose on {_d(first)} "
                f"(at least {p.min_days_before_first_dose} days needed; earliest first dose "
                f"{_d(v.date + dt.timedelta(days=p.min_days_before_first_dose))})"
            )
        elif p.during_treatment and gap < 0:
            problems.append(f"live vaccine {v.vaccine} on {_d(v.date)}, during treatment (first dose {_d(first)})")
    if problems:
        return _fail("; ".join(problems))
    live = sum(1 for v in ctx.record.vaccinations if v.live)
    return _pass(f"{len(ctx.record.vaccinations)} vaccinations recorded ({live} live), none in the excluded period")


# --- every infusion ----------------------------------------------------------------------------------


def premedication_given(p: PremedicationGivenParameters, ctx: RuleContext) -> Finding:
    wanted = [c.value for c in p.categories]
    if ctx.current is None or ctx.current.premedication is None:
        return _missing(f"no premedication record for the infusion on {_d(ctx.infusion_date)} ({', '.join(wanted)})")
    given = ctx.current.premedication_categories()
    absent = [c.value for c in p.categories if c not in given]
    if absent:
        return _fail(f"premedication without {', '.join(absent)}: give it before the infusion")
    return _pass("premedication: " + ", ".join(f"{m.drug} ({m.category.value})" for m in ctx.current.premedication))


def observation_after_infusion(p: ObservationAfterInfusionParameters, ctx: RuleContext) -> Finding:
    if ctx.current is None or ctx.current.observation_minutes_after is None:
        return _missing(
            f"observation after the infusion on {_d(ctx.infusion_date)} not planned or documented "
            f"(at least {p.min_minutes} minutes)"
        )
    minutes = ctx.current.observation_minutes_after
    if minutes < p.min_minutes:
        return _fail(f"observation {minutes} minutes after the infusion, at least {p.min_minutes} needed")
    return _pass(f"observation {minutes} minutes after the infusion")


def pregnancy_status(p: PregnancyStatusParameters, ctx: RuleContext) -> Finding:
    patient = ctx.record.patient
    if patient.sex is Sex.MALE:
        return _pass("not applicable: male patient")
    if patient.childbearing_potential is False:
        return _pass("not applicable: not of childbearing potential")
    if patient.childbearing_potential is None:
        return _missing("childbearing potential not recorded")
    preg = ctx.record.pregnancy
    if preg is None:
        return _missing("pregnancy status not recorded for a woman of childbearing potential")
    when = f" on {_d(preg.test_date)}" if preg.test_date else ""
    if preg.test_date is not None and preg.test_date > ctx.infusion_date:
        return _missing(f"pregnancy status is dated after the infusion ({_d(preg.test_date)})")
    if preg.status is PregnancyStatus.PREGNANT:
        return _fail(f"pregnant{when}: use in pregnancy needs the prescriber's benefit-risk decision")
    if preg.status is PregnancyStatus.UNKNOWN:
        return _missing(f"pregnancy status unknown{when}")
    if p.status_within_days is not None:
        if preg.test_date is None:
            return _missing("date of the pregnancy test not recorded")
        age = (ctx.infusion_date - preg.test_date).days
        if age > p.status_within_days:
            return _missing(f"pregnancy test{when} is {age} days old (at most {p.status_within_days})")
    if p.require_contraception:
        c = ctx.record.contraception
        if c is None:
            return _missing("contraception not recorded for a woman of childbearing potential")
        if not c.effective:
            return _fail(f"no effective contraception ({c.method or 'none'})")
        return _pass(f"not pregnant{when}; contraception: {c.method}")
    return _pass(f"not pregnant{when}")


def add_months(date: dt.date, months: int) -> dt.date:
    month0 = date.month - 1 + months
    year, month = date.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(date.day, calendar.monthrange(year, month)[1]))


def _expected_date(p: DosingScheduleParameters, ctx: RuleContext) -> tuple[dt.date, int, str]:
    """The due date of this dose, its tolerance in days, and what the dose is."""
    n = ctx.infusion_number
    first = ctx.first_dose_date
    if n <= p.loading_doses:
        due = first + dt.timedelta(days=p.loading_interval_days * (n - 1))
        return due, p.loading_tolerance_days, f"loading dose {n} (day {(due - first).days + 1})"
    anchor = first if n == p.loading_doses + 1 else ctx.prior[-1].date
    since = "the first infusion" if n == p.loading_doses + 1 else f"the last dose on {_d(anchor)}"
    due = add_months(anchor, p.maintenance_interval_months)
    return due, p.maintenance_tolerance_days, f"maintenance dose, {p.maintenance_interval_months} months after {since}"


def dosing_schedule(p: DosingScheduleParameters, ctx: RuleContext) -> Finding:
    problems: list[str] = []
    if ctx.is_first_dose:
        what = "first dose (day 1)"
    else:
        due, tolerance, what = _expected_date(p, ctx)
        off = (ctx.infusion_date - due).days
        if abs(off) > tolerance:
            timing = f"{-off} days early" if off < 0 else f"{off} days late"
            problems.append(f"infusion {ctx.infusion_number} is the {what}, due {_d(due)}: {timing} (± {tolerance})")
        else:
            what = f"{what}, due {_d(due)}"
    dose = ctx.current.dose_mg if ctx.current else None
    if dose is not None and abs(dose - p.dose_mg) > 1e-9:
        problems.append(f"dose {dose:g} mg, the schedule gives {p.dose_mg:g} mg")
    if problems:
        return _fail("; ".join(problems))
    if dose is None:
        return _missing(f"{what}: dose for the infusion on {_d(ctx.infusion_date)} not recorded")
    return _pass(f"{what}: {dose:g} mg")


Rule = Callable[[Any, RuleContext], Finding]

RULES: Final[dict[RuleKind, Rule]] = {
    RuleKind.CONTRAINDICATED_DIAGNOSIS: contraindicated_diagnosis,
    RuleKind.SCREENING_BEFORE_FIRST_DOSE: screening_before_first_dose,
    RuleKind.LAB_WITHIN_DAYS: lab_within_days,
    RuleKind.NO_LIVE_VACCINE: no_live_vaccine,
    RuleKind.PREMEDICATION_GIVEN: premedication_given,
    RuleKind.OBSERVATION_AFTER_INFUSION: observation_after_infusion,
    RuleKind.PREGNANCY_STATUS: pregnancy_status,
    RuleKind.DOSING_SCHEDULE: dosing_schedule,
    RuleKind.ACTIVE_INFECTION: active_infection,
}
"""Every rule kind a plan may name, with the function that evaluates it."""
