"""Seeded synthetic ICSRs for UPLIZNA (inebilizumab): realistic cases for tests, demos and benchmarks.

:func:`synthesise_cases` draws ``count`` validated :class:`~riskplan.cases.model.Icsr` objects the way a
company safety database fills up for an anti-CD19 B-cell-depleting antibody given by IV infusion
(300 mg on day 1 and day 15, then every 6 months) to adults with NMOSD:

* **who reports**: mostly spontaneous reports (physicians, pharmacists, infusion nurses, consumers) from
  16 countries, and reports from the plan's studies (SPHERES registry, the European real-world study,
  the post-authorisation safety study, the pregnancy registry) and a US patient support programme
  (solicited, C.5.4 "other studies"). The sender is the fictional MAH "Riskplan Demo Pharma";
  worldwide ids read ``DE-RPDEMO-2026-000123`` and C.1.1 equals C.1.8.1;
* **the patient**: mostly women (NMOSD), age at onset mostly 20-65 with some over 65, weight and
  history; pregnancies (LMP and the PT "Exposure during pregnancy"), parent-child reports (a neonate with
  "B-lymphocyte count decreased" and the mother in D.10), breast-feeding exposures;
* **what happened**: an index event drawn from :data:`~riskplan.cases.synth_data.PROFILES` (weights and
  their sources are documented there), its usual companions, dated after the last infusion on the
  schedule, with seriousness (criteria only ever ``True``), outcome, lab results (F.r), causality and
  the action taken; verbatims code through the open term list, a few native-language verbatims carry
  an English translation (E.i.1.2) and a few misspellings do not code at all;
* **what a validity step and a duplicate detector must find**: ``invalid_share`` of the cases miss one
  ICH minimum criterion, and ``duplicate_share`` are second reports of another case (the ground truth
  is in :func:`synthesise_cases_with_truth`).

:func:`follow_up_of` makes the next version of a case (same C.1.4 and worldwide id, later C.1.5).

Everything is drawn from one ``random.Random(seed)``: the same arguments give the same cases, down to
every UUID.

Speed (the cases feed a 100,000-case import benchmark): a case is first drawn as a plain, frozen
:class:`CaseSpec`, then validated *once* with ``Icsr.model_validate`` from nested field dicts, so each
sub-model built for that case is validated exactly once (a model instance handed to a parent has its
``after`` validators run again). Immutable sub-objects shared between cases (sender, studies,
substances, consumers, pooled reporters, concomitant regimens, quantities, timestamps) are built once
and cached. The cyclic garbage collector is paused during a run (see :func:`_collector_paused`). About
0.2 ms of CPU per case: 100,000 cases in about 21 s of CPU time and 1.6 GB of memory.
"""

from __future__ import annotations

import datetime as dt
import gc
import math
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache
from typing import Final, TypeVar

from pydantic import BaseModel

from riskplan.cases.codes import (
    ActionTaken,
    AgeGroup,
    DrugRole,
    FirstSender,
    NullFlavor,
    Outcome,
    Qualification,
    ReportType,
    SenderType,
    Sex,
    StudyType,
    TermHighlighted,
    TestResultCode,
)
from riskplan.cases.model import (
    Comparator,
    Dosage,
    DrugReactionAssessment,
    Hl7Timestamp,
    Icsr,
    Indication,
    Measurement,
    PastDrug,
    Patient,
    Period,
    PrimarySource,
    Quantity,
    Reaction,
    RegionalElement,
    RelatednessAssessment,
    Sender,
    Study,
    Substance,
)
from riskplan.cases.synth_data import (
    B_CELLS_DECREASED,
    BACKGROUND,
    BACKGROUND_SHARE,
    BREAST_FEEDING,
    BREAST_MILK,
    COMORBIDITIES,
    COMPANY,
    COMPANY_CODE,
    COUNTRIES,
    COUNTRY_NAMES,
    EXPOSURE_PREGNANCY,
    FOETAL_EXPOSURE,
    FOLIC_ACID,
    IMMUNOSUPPRESSANT_SHARE,
    IMMUNOSUPPRESSANTS,
    INDICATIONS,
    INITIAL_LETTERS,
    MALIGNANCY,
    MATERNAL_EXPOSURE_PREGNANCY,
    MISCARRIAGE,
    MISSPELLINGS,
    NAMES,
    NATIVE_TERMS,
    NEONATAL_NEUTROPENIA,
    OTHER_CONCOMITANTS,
    PAST_DRUGS,
    PREGNANCY_REGISTRY,
    PREMEDICATION_EU,
    PREMEDICATION_US,
    PRETERM,
    PRODUCT,
    PROFILES,
    SPONTANEOUS_QUALIFICATIONS,
    STUDIES,
    STUDY_QUALIFICATIONS,
    SUBSTANCE,
    Concomitant,
    Country,
    Profile,
    StudyInfo,
    Term,
    Weighted,
)

__all__ = ["INVALID_KINDS", "SyntheticCaseSet", "follow_up_of", "synthesise_cases", "synthesise_cases_with_truth"]

M = TypeVar("M", bound=BaseModel)

#: The ICH minimum criterion an invalid case misses: no identifiable reporter, no identifiable patient,
#: no adverse reaction. A "reaction" case has no E.i at all, which E2B(R3) cannot transmit (export
#: refuses it); leave it out of ``invalid_kinds`` when the cases must round-trip through XML.
INVALID_KINDS: Final = ("reporter", "patient", "reaction")
_INVALID_WEIGHTS: Final = {"reporter": 45.0, "patient": 45.0, "reaction": 10.0}

# Shares of special case kinds among valid cases (modelling choices; RMP missing information).
_KINDS: Final = Weighted(
    [("regular", 97.7), ("pregnancy", 1.5), ("neonate", 0.3), ("lactation-mother", 0.35), ("lactation-infant", 0.15)]
)
_FEMALE_SHARE: Final = 0.84  # NMOSD: ~9:1 female among AQP4-IgG+ patients; male reports a little likelier
_SEX_UNKNOWN_SHARE: Final = 0.02
_ELDERLY_SHARE: Final = 0.08  # RMP missing information: patients > 65 years
_AGE_GROUP_ONLY_SHARE: Final = 0.04
_MISSPELLING_SHARE: Final = 0.015
_NATIVE_SHARE: Final = 0.35  # of reactions from non-English-speaking countries with a translation table entry
#: G.k.8 when a patient on UPLIZNA is found pregnant: treatment is usually paused (modelling choice).
_PREGNANCY_ACTIONS: Final = Weighted(
    [
        (ActionTaken.WITHDRAWN, 35.0),
        (ActionTaken.UNKNOWN, 35.0),
        (ActionTaken.NOT_APPLICABLE, 20.0),
        (ActionTaken.DOSE_NOT_CHANGED, 10.0),
    ]
)
_FOLLOWED_UP_SHARE: Final = 0.2  # cases whose stored version already has later information (C.1.5 > C.1.4)
_MAINTENANCE_DAYS: Final = 182  # "every 6 months"
_GATEWAY_RUNS: Final = (6 * 60 + 15, 10 * 60 + 30, 14 * 60 + 15, 18 * 60 + 45)  # minutes after midnight
_DOSE: Final = Quantity(value=Decimal(300), unit="mg")
_SIX_MONTHS: Final = Period(value=Decimal(6), unit="mo")
_DOSE_FORM: Final = "Concentrate for solution for infusion"
_IV: Final = "Intravenous use"
_HCP: Final = frozenset({Qualification.PHYSICIAN, Qualification.PHARMACIST, Qualification.OTHER_HEALTH_PROFESSIONAL})
_QUALIFICATION_WORDS: Final = {
    Qualification.PHYSICIAN: "a physician",
    Qualification.PHARMACIST: "a pharmacist",
    Qualification.OTHER_HEALTH_PROFESSIONAL: "a nurse",
    Qualification.CONSUMER: "the patient (consumer)",
}
_SENDER: Final = Sender(
    sender_type=SenderType.PHARMACEUTICAL_COMPANY,
    organisation=COMPANY,
    department="Global Patient Safety",
    street="1 Example Square",
    city="Amsterdam",
    postcode="1000 AA",
    country="NL",
    email="drugsafety@riskplan-demo.example",
)
_SUBSTANCES: Final = (Substance(name=SUBSTANCE, strength=Quantity(value=Decimal(10), unit="mg/mL")),)


@dataclass(frozen=True)
class SyntheticCaseSet:
    """Synthetic cases with their ground truth.

    ``duplicate_pairs`` are (original, second report) worldwide ids; ``invalid`` maps the worldwide id
    of each invalid case to the minimum criterion it misses (one of :data:`INVALID_KINDS`).
    """

    cases: list[Icsr]
    duplicate_pairs: list[tuple[str, str]] = field(default_factory=list)
    invalid: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------
# Specs: everything drawn for a case, before any model object is built
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParentSpec:
    initials: str
    age: int
    lmp: dt.date
    weight: int | None


@dataclass(frozen=True)
class PatientSpec:
    initials: str | None  # None: masked (D.1 nullFlavor MSK)
    sex: Sex | None
    age: int | None
    age_unit: str = "a"
    age_group: AgeGroup | None = None
    weight: Decimal | None = None
    height: int | None = None
    birth_date: dt.date | None = None
    history: str | None = None
    past_drugs: tuple[str, ...] = ()
    lmp: dt.date | None = None
    investigation_number: str | None = None
    parent: ParentSpec | None = None


@dataclass(frozen=True)
class EventSpec:
    term: Term
    verbatim: str  # English (codable, or a misspelling)
    native: str | None  # E.i.1.1a in the reporter's language, when not English
    language: str
    criteria: str  # letters of E.i.3.2 (see synth_data.Criteria)
    onset: dt.date
    precision: str  # "day" | "month" | "minute"
    minute: int  # minute of the day, for "minute" precision
    outcome: Outcome
    end: dt.date | None
    duration_hours: int | None
    related: str  # company causality
    reporter_related: str | None
    highlighted: bool


@dataclass(frozen=True)
class _When:
    """The onset of a case's events and how precisely it was reported."""

    onset: dt.date
    precision: str  # "day" | "month" | "minute"
    minute: int  # minute of the day, for "minute" precision


@dataclass(frozen=True)
class TherapySpec:
    first: dt.date  # day 1
    infusions: int  # infusions up to and including the last one before the index event
    last: dt.date
    start_known: str  # "day" | "month" | "unknown"
    batch_first: str | None
    batch_last: str | None
    name: str
    indication: str
    action: ActionTaken
    route: str = _IV
    gestation_weeks: int | None = None  # G.k.6, parent-child reports

    @property
    def second(self) -> dt.date:
        return self.first + dt.timedelta(days=14)


@dataclass(frozen=True)
class LabSpec:
    name: str
    date: dt.date
    value: Decimal | None = None
    unit: str | None = None
    code: TestResultCode | None = None
    text: str | None = None
    low: Decimal | None = None
    high: Decimal | None = None
    comparator: Comparator = Comparator.EQ


@dataclass(frozen=True)
class CaseSpec:
    kind: str  # regular | pregnancy | neonate | lactation-mother | lactation-infant (for debugging)
    profile: str  # key of the index event's Profile, or the kind
    country: Country
    report_type: ReportType
    study: StudyInfo | None
    qualification: Qualification
    reporter: int
    received: dt.date  # C.1.4
    latest: dt.date  # C.1.5
    created_delay: int  # minutes from midnight of C.1.5 to C.1.2
    patient: PatientSpec
    therapy: TherapySpec
    events: tuple[EventSpec, ...]
    concomitants: tuple[Concomitant, ...] = ()
    labs: tuple[LabSpec, ...] = ()
    invalid: str | None = None
    note: str | None = None


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def synthesise_cases(
    count: int,
    *,
    seed: int = 0,
    start: dt.date = dt.date(2025, 1, 1),
    end: dt.date = dt.date(2026, 11, 1),
    duplicate_share: float = 0.02,
    invalid_share: float = 0.03,
    invalid_kinds: Sequence[str] = INVALID_KINDS,
    fda_regional: bool = False,
) -> list[Icsr]:
    """``count`` synthetic UPLIZNA ICSRs received between ``start`` and ``end`` (see the module docstring).

    ``fda_regional``: every case also carries the FDA regional elements FAERS requires of a postmarketing
    ICSR (:func:`with_fda_regional`), so that it can be sent to the US as well as to the EU and the UK.
    """
    cases = synthesise_cases_with_truth(
        count,
        seed=seed,
        start=start,
        end=end,
        duplicate_share=duplicate_share,
        invalid_share=invalid_share,
        invalid_kinds=invalid_kinds,
    ).cases
    return [with_fda_regional(c) for c in cases] if fda_regional else cases


_NCI: Final = "2.16.840.1.113883.3.26.1.1"  # NCI Thesaurus, FDA's code system for these elements
_FDA_REPORT_TYPE: Final = "2.16.840.1.113883.3.989.5.1.2.2.1.1.1"
_XSI: Final = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
_RACES: Final = (("C41261", "White"), ("C16352", "Black or African American"), ("C41260", "Asian"))
_ETHNICITIES: Final = (("C41222", "Not Hispanic or Latino"), ("C17459", "Hispanic or Latino"))


def _fda_observation(wrapper: str, tag: str, code: str, name: str, value: str) -> str:
    head = f'<{wrapper} xmlns="urn:hl7-org:v3" typeCode="{"COMP" if wrapper == "component" else "SBJ"}">'
    return (
        f'{head}<{tag} classCode="OBS" moodCode="EVN"><code code="{code}" codeSystem="{_NCI}" displayName="{name}"/>'
        f"<value {_XSI} {value}/></{tag}></{wrapper}>"
    )


def with_fda_regional(icsr: Icsr) -> Icsr:
    """``icsr`` with the FDA regional elements required for a postmarketing ICSR (FDA ICSR data elements
    and business rules): FDA.C.1.7.1 local criteria report type (1 = 15-Day when C.1.7 is true, else
    2 = Non-Expedited AE), FDA.C.1.12 combination product (false), FDA.D.11.r.1 race and FDA.D.12
    ethnicity (drawn from the case's number, so the same case always gets the same)."""
    expedited = bool(icsr.local_expedited)
    report_type = ("1", "15-Day") if expedited else ("2", "Non-Expedited AE")
    pick = sum(icsr.worldwide_case_id.encode())
    race = _RACES[pick % len(_RACES)]
    ethnicity = _ETHNICITIES[(pick // 3) % len(_ETHNICITIES)]
    case = (
        RegionalElement(
            element="FDA.C.1.7.1",
            value=report_type[1],
            xml=_fda_observation(
                "component",
                "observationEvent",
                "C54588",
                "localCriteriaReportType",
                f'code="{report_type[0]}" codeSystem="{_FDA_REPORT_TYPE}" displayName="{report_type[1]}" xsi:type="CE"',
            ),
        ),
        RegionalElement(
            element="FDA.C.1.12",
            value="false",
            xml=_fda_observation(
                "component",
                "observationEvent",
                "C156384",
                "Combination Product Report Indicator",
                'value="false" xsi:type="BL"',
            ),
        ),
    )
    patient = (
        RegionalElement(
            element="FDA.D.11.r.1",
            value=race[1],
            xml=_fda_observation(
                "subjectOf2",
                "observation",
                "C17049",
                "Race",
                f'code="{race[0]}" codeSystem="{_NCI}" displayName="{race[1]}" xsi:type="CE"',
            ),
        ),
        RegionalElement(
            element="FDA.D.12",
            value=ethnicity[1],
            xml=_fda_observation(
                "subjectOf2",
                "observation",
                "C16564",
                "Ethnic Group",
                f'code="{ethnicity[0]}" codeSystem="{_NCI}" displayName="{ethnicity[1]}" xsi:type="CE"',
            ),
        ),
    )
    kept = tuple(e for e in icsr.regional if e.element not in ("FDA.C.1.7.1", "FDA.C.1.12"))
    kept_patient = tuple(e for e in icsr.patient.regional if not e.element.startswith(("FDA.D.11", "FDA.D.12")))
    # FDA.E.i.3.2h required intervention (nullFlavor NI allowed), per reaction
    reactions = tuple(
        r
        if any(e.element == "FDA.E.i.3.2h" for e in r.regional)
        else r.model_copy(update={"regional": (*r.regional, _REQUIRED_INTERVENTION)})
        for r in icsr.reactions
    )
    # FDA.C.2.r.2.8 reporter e-mail, required (nullFlavor ASKU: asked, unknown); C.3.3 / C.3.4 sender, required
    sources = tuple(
        s if s.email else s.model_copy(update={"email_null_flavor": NullFlavor.ASKU}) for s in icsr.primary_sources
    )
    sender = icsr.sender
    if sender is not None:
        sender = sender.model_copy(update={k: v for k, v in _FDA_SENDER.items() if getattr(sender, k) is None})
    return icsr.model_copy(
        update={
            "regional": (*kept, *case),
            "patient": icsr.patient.model_copy(update={"regional": (*kept_patient, *patient)}),
            "reactions": reactions,
            "primary_sources": sources,
            "sender": sender,
        }
    )


_REQUIRED_INTERVENTION: Final = RegionalElement(
    element="FDA.E.i.3.2h",
    value=None,
    xml=(
        '<outboundRelationship2 xmlns="urn:hl7-org:v3" typeCode="PERT"><observation classCode="OBS" moodCode="EVN">'
        '<code code="7" codeSystem="2.16.840.1.113883.3.989.5.1.2.2.1.3" displayName="requiredIntervention"/>'
        f'<value {_XSI} nullFlavor="NI" xsi:type="BL"/></observation></outboundRelationship2>'
    ),
)
#: The sender details FDA requires (C.3.3.2-C.3.3.5, C.3.4.3, C.3.4.6, C.3.4.7) for the invented company.
_FDA_SENDER: Final = {
    "title": "Dr",
    "given_name": "Ada",
    "family_name": "Example",
    "state": "Noord-Holland",
    "telephone": "+31 20 000 0000",
    "fax": "+31 20 000 0001",
}


def synthesise_cases_with_truth(
    count: int,
    *,
    seed: int = 0,
    start: dt.date = dt.date(2025, 1, 1),
    end: dt.date = dt.date(2026, 11, 1),
    duplicate_share: float = 0.02,
    invalid_share: float = 0.03,
    invalid_kinds: Sequence[str] = INVALID_KINDS,
) -> SyntheticCaseSet:
    """Like :func:`synthesise_cases`, with the duplicate pairs and the invalid cases as ground truth.

    Cases come in order of C.1.4; C.1.2 lies up to a few days after C.1.5, so pick ``end`` a week or
    more before today when the cases are to be exported (E2B refuses dates in the future).
    """
    _check_arguments(count, start, end, duplicate_share, invalid_share, invalid_kinds)
    generator = _Generator(random.Random(seed), seed, count, start, end, tuple(invalid_kinds))
    with _collector_paused():
        return generator.run(round(count * duplicate_share), round(count * invalid_share))


def follow_up_of(icsr: Icsr, rng: random.Random, received: dt.date) -> Icsr:
    """The next version of ``icsr``: same C.1.1, C.1.8.1 and C.1.4, C.1.5 = ``received``.

    An invalid case gets what it missed (the reporter's details, the patient's, or the reaction); a
    valid one gets one or two of: an outcome update (e.g. not recovered -> recovered), a seriousness
    criterion (hospitalisation), a lab result. The narrative says what the follow-up brought.
    """
    first = icsr.first_received.earliest_date() if icsr.first_received else received
    if received < first:
        raise ValueError(f"a follow-up cannot be received ({received}) before the case was first received ({first})")
    return _FollowUp(icsr, rng, received).build()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while the cases are built, then restore its state.

    The cases are millions of small, long-lived, acyclic objects; every generation-2 collection would
    rescan all of them (a third of the run time at 20,000 cases, more as the heap grows). Nothing here
    makes reference cycles, so nothing is left for the collector to find.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_arguments(
    count: int, start: dt.date, end: dt.date, duplicate_share: float, invalid_share: float, kinds: Sequence[str]
) -> None:
    if count < 0:
        raise ValueError("count must not be negative")
    if end < start:
        raise ValueError(f"end ({end}) is before start ({start})")
    if not (0.0 <= duplicate_share <= 0.5 and 0.0 <= invalid_share <= 0.5):
        raise ValueError("duplicate_share and invalid_share must each be between 0 and 0.5")
    unknown = set(kinds) - set(INVALID_KINDS)
    if unknown or (invalid_share > 0 and not kinds):
        raise ValueError(f"invalid_kinds must be a non-empty subset of {INVALID_KINDS}")


# --------------------------------------------------------------------------------------------------
# Small shared helpers
# --------------------------------------------------------------------------------------------------


@lru_cache(maxsize=16384)
def _day(value: dt.date) -> Hl7Timestamp:
    return Hl7Timestamp(value.strftime("%Y%m%d"))


@lru_cache(maxsize=1024)
def _month(year: int, month: int) -> Hl7Timestamp:
    return Hl7Timestamp(f"{year:04d}{month:02d}")


@lru_cache(maxsize=16384)
def _created(latest: dt.date, minutes: int) -> Hl7Timestamp:
    """C.1.2 (to the second, as FDA requires): ``minutes`` after midnight of C.1.5."""
    return Hl7Timestamp.from_datetime(dt.datetime.combine(latest, dt.time()) + dt.timedelta(minutes=minutes))


def _ts(value: dt.date, precision: str = "day", minute: int = 0) -> Hl7Timestamp:
    if precision == "month":
        return _month(value.year, value.month)
    if precision == "minute":
        return Hl7Timestamp(f"{value:%Y%m%d}{minute // 60:02d}{minute % 60:02d}")
    return _day(value)


@lru_cache(maxsize=4096)
def _quantity(value: int, unit: str) -> Quantity:
    return Quantity(value=Decimal(value), unit=unit)


@lru_cache(maxsize=4096)
def _measure(value: Decimal, unit: str | None) -> Measurement:
    return Measurement(value=value, unit=unit)


@lru_cache(maxsize=64)
def _indication(text: str) -> tuple[Indication, ...]:
    return (Indication(text=text),)


@lru_cache(maxsize=64)
def _assessment(source: str, result: str) -> RelatednessAssessment:
    return RelatednessAssessment(source=source, method="Global introspection", result=result)


@lru_cache(maxsize=64)
def _past_drug(name: str) -> PastDrug:
    return PastDrug(name=name)


@lru_cache(maxsize=64)
def _concomitant_parts(c: Concomitant) -> tuple[tuple[Substance, ...], tuple[Dosage, ...], tuple[Indication, ...]]:
    period = Period(value=Decimal(c.period[0]), unit=c.period[1]) if c.period else None
    dosage = Dosage(dose=Quantity(value=Decimal(c.dose), unit=c.unit), period=period, route_text=c.route, text=c.text)
    return (Substance(name=c.substance),), (dosage,), _indication(c.indication)


@lru_cache(maxsize=8)
def _study(info: StudyInfo) -> Study:
    kind = StudyType.CLINICAL_TRIAL if info.clinical_trial else StudyType.OTHER_STUDY
    return Study(name=info.name, sponsor_study_number=info.sponsor_number, study_type=kind)


@lru_cache(maxsize=32)
def _consumer(country: str) -> PrimarySource:
    return PrimarySource(
        given_name_null_flavor=NullFlavor.MSK,
        family_name_null_flavor=NullFlavor.MSK,
        country=country,
        qualification=Qualification.CONSUMER,
        primary_for_regulatory_purposes=True,
    )


_ANONYMOUS: Final = PrimarySource(
    given_name_null_flavor=NullFlavor.ASKU,
    family_name_null_flavor=NullFlavor.ASKU,
    country_null_flavor=NullFlavor.UNK,
    qualification_null_flavor=NullFlavor.UNK,
    primary_for_regulatory_purposes=True,
)
_UNIDENTIFIED_PATIENT: Final = Patient(
    name_null_flavor=NullFlavor.UNK,
    sex_null_flavor=NullFlavor.UNK,
    age_group_null_flavor=NullFlavor.UNK,
    medical_history_text_null_flavor=NullFlavor.UNK,
)


_UUID_CLEAR: Final = ~((0xF000 << 64) | (0xC000 << 48))  # version nibble and variant bits
_UUID_SET: Final = (4 << 76) | (0x8000 << 48)  # version 4, RFC 4122 variant


def _uid(rng: random.Random) -> str:
    """A random (version 4) UUID from ``rng``: the text of ``uuid.UUID(int=..., version=4)``, made faster."""
    h = f"{(rng.getrandbits(128) & _UUID_CLEAR) | _UUID_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _days(value: int) -> dt.timedelta:
    return dt.timedelta(days=value)


def _clip(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


def _dec(value: float, places: int) -> Decimal:
    return Decimal(f"{value:.{places}f}")


@lru_cache(maxsize=16384)
def _fmt(value: dt.date, precision: str = "day") -> str:
    return value.strftime("%b-%Y" if precision == "month" else "%d-%b-%Y").upper()


def _infusion_offset(index: int) -> int:
    """Days from day 1 to infusion ``index`` (0 = day 1, 1 = day 15, 2 = month 6, 3 = month 12 ...)."""
    return 0 if index == 0 else 14 if index == 1 else _MAINTENANCE_DAYS * (index - 1)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _lot(day: dt.date, rng: random.Random) -> str:
    """The batch in use at ``day``: a new lot every two months, two in parallel."""
    return f"IB{day.year % 100:02d}{(day.month + 1) // 2:02d}{rng.choice('AB')}{rng.randint(1, 9)}"


# --------------------------------------------------------------------------------------------------
# Drawing specs
# --------------------------------------------------------------------------------------------------

_COUNTRY_CHOICE: Final = Weighted([(c, c.weight) for c in COUNTRIES])
_PROFILE_CHOICE: Final = Weighted([(p, p.weight) for p in PROFILES])
_TOTAL_COUNTRY_WEIGHT: Final = sum(c.weight for c in COUNTRIES)


def _study_share(info: StudyInfo, country: str) -> float:
    """P(study | country) so that the study holds ``info.share`` per cent of all regular cases."""
    if country not in info.countries:
        return 0.0
    weight = sum(c.weight for c in COUNTRIES if c.code in info.countries) / _TOTAL_COUNTRY_WEIGHT
    return info.share / 100.0 / weight


#: Per country: the studies its cases can come from, with P(study | country).
_STUDIES_BY_COUNTRY: Final = {
    c.code: tuple((info, share) for info in STUDIES if (share := _study_share(info, c.code)) > 0) for c in COUNTRIES
}


class _Generator:
    """Draws the specs of one synthetic set and builds the ICSRs from them."""

    def __init__(
        self, rng: random.Random, seed: int, count: int, start: dt.date, end: dt.date, kinds: tuple[str, ...]
    ) -> None:
        self.rng = rng
        self.seed = seed
        self.count = count
        self.start = start
        self.end = end
        self.kinds = kinds
        self._reporters: dict[tuple[str, Qualification, int], PrimarySource] = {}

    # -- the whole set --------------------------------------------------------------------------

    def run(self, duplicates: int, invalid: int) -> SyntheticCaseSet:
        base = self.count - duplicates
        if invalid + duplicates > base:
            raise ValueError("too many duplicates and invalid cases for this count")
        rng = self.rng
        invalid_at = set(rng.sample(range(base), invalid))
        specs = [self._case(self._invalid_kind() if i in invalid_at else None) for i in range(base)]
        originals = rng.sample([i for i in range(base) if i not in invalid_at], duplicates)
        pairs = [(i, len(specs) + n) for n, i in enumerate(originals)]
        specs += [self._duplicate(specs[i]) for i in originals]
        order = sorted(range(len(specs)), key=lambda i: (specs[i].received, i))
        ids = self._worldwide_ids(specs, order)
        cases = [self._icsr(specs[i], ids[i]) for i in order]
        return SyntheticCaseSet(
            cases=cases,
            duplicate_pairs=sorted((ids[a], ids[b]) for a, b in pairs),
            invalid={ids[i]: kind for i, spec in enumerate(specs) if (kind := spec.invalid) is not None},
        )

    def _invalid_kind(self) -> str:
        return Weighted([(k, _INVALID_WEIGHTS[k]) for k in self.kinds]).pick(self.rng)

    def _worldwide_ids(self, specs: Sequence[CaseSpec], order: Sequence[int]) -> dict[int, str]:
        numbers: dict[int, int] = {}
        ids = {}
        for i in order:
            year = specs[i].received.year
            numbers[year] = numbers.get(year, 0) + 1
            ids[i] = f"{specs[i].country.code}-{COMPANY_CODE}-{year}-{numbers[year]:06d}"
        return ids

    # -- one case ---------------------------------------------------------------------------------

    def _case(self, invalid: str | None) -> CaseSpec:
        kind = "regular" if invalid else _KINDS.pick(self.rng)
        if kind == "pregnancy":
            return self._pregnancy()
        if kind == "neonate":
            return self._neonate()
        if kind in ("lactation-mother", "lactation-infant"):
            return self._lactation(kind)
        spec = self._regular()
        return self._make_invalid(spec, invalid) if invalid else spec

    def _received(self) -> dt.date:
        """C.1.4: reports grow with exposure (density rising 60% over the period), fewer at weekends."""
        rng, span = self.rng, (self.end - self.start).days
        k = 0.6
        x = (math.sqrt(1 + 2 * k * rng.random() * (1 + k / 2)) - 1) / k
        day = self.start + _days(round(x * span))
        if day.weekday() >= 5 and rng.random() < 0.8:
            day += _days(7 - day.weekday())
        return min(day, self.end)

    def _report(self, country: Country) -> tuple[ReportType, StudyInfo | None, Qualification]:
        rng, u = self.rng, self.rng.random()
        for info, share in _STUDIES_BY_COUNTRY[country.code]:
            u -= share
            if u < 0:
                if info.key == "psp":
                    qualification = rng.choice((Qualification.CONSUMER, Qualification.OTHER_HEALTH_PROFESSIONAL))
                else:
                    qualification = STUDY_QUALIFICATIONS.pick(rng)
                return ReportType.STUDY, info, qualification
        return ReportType.SPONTANEOUS, None, SPONTANEOUS_QUALIFICATIONS.pick(rng)

    def _reporter_index(self, country: Country, qualification: Qualification) -> int:
        if qualification not in _HCP:
            return 0
        expected = self.count * country.weight / _TOTAL_COUNTRY_WEIGHT * 0.68
        return self.rng.randrange(int(_clip(expected / 5, 3, 5000)))

    def _reporting_delay(self, qualification: Qualification, serious: bool, study: StudyInfo | None) -> int:
        """Days from onset to receipt: log-normal, median 10 days (HCP) / 21 (consumer), faster if serious."""
        median = 5.0 if study is not None else 10.0 if qualification in _HCP else 21.0
        median *= 0.6 if serious else 1.0
        return int(_clip(self.rng.lognormvariate(math.log(median), 0.9), 0, 365))

    def _latest(self, received: dt.date) -> dt.date:
        if self.rng.random() >= _FOLLOWED_UP_SHARE:
            return received
        return min(self.end, received + _days(self.rng.randint(3, 60)))

    def _regular(self) -> CaseSpec:
        rng = self.rng
        country = _COUNTRY_CHOICE.pick(rng)
        report_type, study, qualification = self._report(country)
        profile = _PROFILE_CHOICE.pick(rng)
        patient = self._adult(country, study, profile)
        index_criteria = self._criteria(profile)
        received = self._received()
        onset = received - _days(self._reporting_delay(qualification, bool(index_criteria), study))
        course, onset_delay = self._course(profile)
        therapy = self._therapy(country, qualification, onset - _days(onset_delay), course, profile, index_criteria)
        patient = self._birth_date(patient, country, onset)
        latest = self._latest(received)
        events = self._events(profile, patient, qualification, onset, latest, index_criteria)
        events = self._localised(events, country)
        return CaseSpec(
            kind="regular",
            profile=profile.key,
            country=country,
            report_type=report_type,
            study=study,
            qualification=qualification,
            reporter=self._reporter_index(country, qualification),
            received=received,
            latest=latest,
            created_delay=self._created_delay(),
            patient=patient,
            therapy=therapy,
            events=events,
            concomitants=self._concomitants(country, profile),
            labs=self._labs(profile, country, onset, latest),
        )

    # -- patients ---------------------------------------------------------------------------------

    def _initials(self) -> str:
        letters = 3 if self.rng.random() < 0.15 else 2
        return "".join(self.rng.choice(INITIAL_LETTERS) for _ in range(letters))

    def _sex(self) -> Sex | None:
        u = self.rng.random()
        return None if u < _SEX_UNKNOWN_SHARE else Sex.FEMALE if u < _SEX_UNKNOWN_SHARE + _FEMALE_SHARE else Sex.MALE

    def _adult_age(self) -> int:
        if self.rng.random() < _ELDERLY_SHARE:
            return self.rng.randint(66, 84)
        return round(_clip(self.rng.gauss(43, 12), 18, 65))

    def _body(self, sex: Sex | None) -> tuple[Decimal | None, int | None]:
        rng = self.rng
        male = sex is Sex.MALE
        weight = _dec(_clip(rng.gauss(82 if male else 68, 14), 42, 150), 0) if rng.random() < 0.65 else None
        height = round(_clip(rng.gauss(178 if male else 165, 7), 145, 200)) if rng.random() < 0.35 else None
        return weight, height

    def _history(self, diagnosed: int, profile: Profile | None = None) -> str:
        rng = self.rng
        parts = [f"Neuromyelitis optica spectrum disorder (AQP4-IgG seropositive) diagnosed in {diagnosed}"]
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            comorbidity = COMORBIDITIES.pick(rng)
            if comorbidity not in parts:
                parts.append(comorbidity)
        if profile is not None and profile.key == "hbv-reactivation":
            parts.append("hepatitis B core antibody positive and HBsAg negative at screening")
        return "; ".join(parts) + "."

    def _adult(self, country: Country, study: StudyInfo | None, profile: Profile | None) -> PatientSpec:
        rng = self.rng
        sex = self._sex()
        age = self._adult_age()
        weight, height = self._body(sex)
        only_group = rng.random() < _AGE_GROUP_ONLY_SHARE
        group = (AgeGroup.ELDERLY if age > 65 else AgeGroup.ADULT) if only_group else None
        pasts = (
            tuple(dict.fromkeys(PAST_DRUGS.pick(rng) for _ in range(rng.randint(1, 2)))) if rng.random() < 0.3 else ()
        )
        return PatientSpec(
            initials=None if rng.random() < 0.05 else self._initials(),
            sex=sex,
            age=None if only_group else age,
            age_group=group,
            weight=weight,
            height=height,
            birth_date=None,  # filled in below when given (needs the onset)
            history=self._history(self.start.year - rng.randint(1, 15), profile) if rng.random() < 0.85 else None,
            past_drugs=pasts,
            investigation_number=f"{study.subject_prefix}-{rng.randint(1, 60):03d}-{rng.randint(1, 999):04d}"
            if study is not None
            else None,
        )

    # -- therapy ------------------------------------------------------------------------------------

    def _birth_date(self, patient: PatientSpec, country: Country, onset: dt.date) -> PatientSpec:
        """D.2.1 for some patients (US reports more often give it): consistent with the age at onset."""
        if patient.age is None or self.rng.random() >= (0.25 if country.code == "US" else 0.05):
            return patient
        birth = onset - _days(round(365.25 * patient.age) + self.rng.randint(1, 360))
        return replace(patient, birth_date=birth)

    def _created_delay(self) -> int:
        """Minutes from midnight of C.1.5 to C.1.2: one to seven days later, at a run of the E2B gateway."""
        return self.rng.randint(1, 7) * 24 * 60 + self.rng.choice(_GATEWAY_RUNS)

    def _course(self, profile: Profile) -> tuple[int, int]:
        """Which infusion the index event follows (0 = day 1) and the days from it to the onset."""
        rng = self.rng
        delay = rng.randint(*profile.onset_days)
        if profile.first_infusion and rng.random() < profile.first_infusion:
            return 0, delay
        u = rng.random()
        if u < 0.06 and profile.min_course == 0:
            return 0, min(delay, rng.randint(1, 13))
        if u < 0.20 and profile.min_course <= 1:
            return 1, delay
        maintenance = 0
        while maintenance < 9 and rng.random() < 0.72:
            maintenance += 1
        return max(2 + maintenance, profile.min_course), delay

    def _therapy(
        self,
        country: Country,
        qualification: Qualification,
        last: dt.date,
        course: int,
        profile: Profile | None,
        criteria: str,
    ) -> TherapySpec:
        rng = self.rng
        while course > 0 and last - _days(_infusion_offset(course)) < country.market_start:
            course -= 1
        first = last - _days(_infusion_offset(course))
        u = rng.random()
        consumer = qualification is Qualification.CONSUMER
        start_known = "unknown" if u < (0.12 if consumer else 0.03) else "month" if u < 0.2 else "day"
        batch_known = start_known == "day" and rng.random() < (0.4 if consumer else 0.75)
        return TherapySpec(
            first=first,
            infusions=course + 1,
            last=last,
            start_known=start_known,
            batch_first=_lot(first, rng) if batch_known else None,
            batch_last=_lot(last, rng) if batch_known and course > 1 else None,
            name=self._product_name(country),
            indication=INDICATIONS.pick(rng),
            action=self._action(profile, criteria),
        )

    def _product_name(self, country: Country) -> str:
        u = self.rng.random()
        if u < 0.80:
            return PRODUCT
        if u < 0.90:
            return "Uplizna"
        if u < 0.95:
            return SUBSTANCE
        return "Uplizna (inebilizumab-cdon)" if country.code == "US" else "UPLIZNA 100 mg concentrate for solution"

    def _action(self, profile: Profile | None, criteria: str) -> ActionTaken:
        rng = self.rng
        if "D" in criteria:
            return ActionTaken.NOT_APPLICABLE
        if profile is not None and rng.random() < profile.withdrawn:
            return ActionTaken.WITHDRAWN
        u = rng.random()
        return (
            ActionTaken.DOSE_NOT_CHANGED
            if u < 0.55
            else ActionTaken.UNKNOWN
            if u < 0.85
            else ActionTaken.NOT_APPLICABLE
        )

    # -- events ----------------------------------------------------------------------------------

    def _criteria(self, profile: Profile) -> str:
        rng = self.rng
        if rng.random() >= profile.serious:
            return ""
        criteria = profile.criteria.pick(rng)
        return "D" + criteria if profile.fatal and rng.random() < profile.fatal else criteria

    def _index_term(self, profile: Profile, patient: PatientSpec) -> Term:
        for _ in range(6):
            candidate = profile.terms.pick(self.rng)
            if (
                candidate.sex is None
                or patient.sex is None
                or candidate.sex == ("F" if patient.sex is Sex.FEMALE else "M")
            ):
                return candidate
        return MALIGNANCY

    def _events(
        self,
        profile: Profile,
        patient: PatientSpec,
        qualification: Qualification,
        onset: dt.date,
        latest: dt.date,
        criteria: str,
    ) -> tuple[EventSpec, ...]:
        """The index event, the companions the profile brings along, now and then an unrelated extra one."""
        rng = self.rng
        index = self._index_term(profile, patient)
        outcome = Outcome.FATAL if "D" in criteria else profile.outcomes.pick(rng)
        terms: list[tuple[Term, str, Outcome]] = [(index, criteria, outcome)]
        companion_outcome = Outcome.UNKNOWN if outcome is Outcome.FATAL else outcome
        for companion in profile.companions:
            if rng.random() < companion.probability:
                shared = criteria.replace("D", "") if companion.serious_with_index else ""
                terms.append((companion.term, shared, companion_outcome))
        if rng.random() < BACKGROUND_SHARE:
            terms.append((BACKGROUND.pick(rng), "", profile.outcomes.pick(rng)))
        when = _When(onset, self._precision(profile, qualification), rng.randint(9 * 60, 16 * 60))
        seen: set[str] = set()
        events = []
        for item, item_criteria, item_outcome in terms:
            if item.pt not in seen:
                seen.add(item.pt)
                events.append(self._event(item, item_criteria, item_outcome, profile, qualification, when, latest))
        return tuple(events)

    def _precision(self, profile: Profile, qualification: Qualification) -> str:
        """Infusion reactions are often timed to the minute; consumers often give only the month."""
        u = self.rng.random()
        if profile.onset_days == (0, 0) and u < 0.35:
            return "minute"
        return "month" if u < (0.2 if qualification is Qualification.CONSUMER else 0.05) else "day"

    def _verbatim(self, item: Term) -> str:
        """The reporter's words in English: a synonym from the open term list, now and then misspelt."""
        rng = self.rng
        misspelt = MISSPELLINGS.get(item.pt)
        if misspelt and rng.random() < _MISSPELLING_SHARE:
            return rng.choice(misspelt)
        return rng.choice(item.verbatims)

    def _localised(self, events: tuple[EventSpec, ...], country: Country) -> tuple[EventSpec, ...]:
        """Some reports from non-English-speaking countries keep the reporter's own words (E.i.1.1a) and carry
        the English translation in E.i.1.2: only when every event of the case has a translation."""
        language = country.language
        if language is None or not events or self.rng.random() >= _NATIVE_SHARE:
            return events
        natives = [NATIVE_TERMS.get(e.term.pt, {}).get(language) for e in events]
        if any(native is None for native in natives):
            return events
        return tuple(replace(e, native=n, language=language) for e, n in zip(events, natives, strict=True))

    def _event(
        self,
        item: Term,
        criteria: str,
        outcome: Outcome,
        profile: Profile,
        qualification: Qualification,
        when: _When,
        latest: dt.date,
    ) -> EventSpec:
        rng = self.rng
        consumer = qualification is Qualification.CONSUMER
        end = None
        resolved = outcome in (Outcome.RECOVERED, Outcome.RECOVERED_WITH_SEQUELAE, Outcome.FATAL)
        if resolved and when.precision != "month":
            end = when.onset + _days(rng.randint(*profile.duration_days))
            if end > latest:
                end = None if outcome is not Outcome.FATAL else latest
                outcome = Outcome.RECOVERING if outcome is not Outcome.FATAL else outcome
        short = profile.onset_days == (0, 0) and end is not None and rng.random() < 0.5
        return EventSpec(
            term=item,
            verbatim=self._verbatim(item),
            native=None,
            language="eng",
            criteria=criteria,
            onset=when.onset,
            precision=when.precision,
            minute=when.minute,
            outcome=outcome,
            end=end,
            duration_hours=rng.randint(1, 8) if short else None,
            related=profile.related.pick(rng),
            reporter_related=None if consumer or rng.random() < 0.35 else profile.related.pick(rng),
            highlighted=rng.random() < 0.15,
        )

    # -- concomitant drugs ---------------------------------------------------------------------------

    def _concomitants(self, country: Country, profile: Profile) -> tuple[Concomitant, ...]:
        rng = self.rng
        chosen: list[Concomitant] = []
        premedication_share = 0.7 if profile.first_infusion else 0.15
        if rng.random() < premedication_share:
            premedication = PREMEDICATION_US if country.code == "US" else PREMEDICATION_EU
            chosen += [c for c in premedication if rng.random() < 0.85]
        if rng.random() < IMMUNOSUPPRESSANT_SHARE:
            chosen.append(IMMUNOSUPPRESSANTS.pick(rng))
        chosen += [c for c, share in OTHER_CONCOMITANTS if rng.random() < share]
        return tuple(dict.fromkeys(chosen))

    # -- labs ------------------------------------------------------------------------------------------

    def _labs(self, profile: Profile, country: Country, onset: dt.date, latest: dt.date) -> tuple[LabSpec, ...]:
        if profile.lab is None or self.rng.random() >= profile.lab_probability:
            return ()
        day = min(onset + _days(self.rng.randint(0, 3)), latest)
        return _LAB_MAKERS[profile.lab](self.rng, day, country.code == "US")

    # -- special kinds ---------------------------------------------------------------------------------

    def _special(
        self,
        kind: str,
        country: Country,
        qualification: Qualification,
        study: StudyInfo | None,
        received: dt.date,
        patient: PatientSpec,
        therapy: TherapySpec,
        events: tuple[EventSpec, ...],
        note: str,
        concomitants: tuple[Concomitant, ...] = (),
        labs: tuple[LabSpec, ...] = (),
    ) -> CaseSpec:
        return CaseSpec(
            kind=kind,
            profile=kind,
            country=country,
            report_type=ReportType.STUDY if study is not None else ReportType.SPONTANEOUS,
            study=study,
            qualification=qualification,
            reporter=self._reporter_index(country, qualification),
            received=received,
            latest=received,
            created_delay=self._created_delay(),
            patient=patient,
            therapy=therapy,
            events=events,
            concomitants=concomitants,
            labs=labs,
            note=note,
        )

    def _pregnancy_reporter(self, country: Country) -> tuple[StudyInfo | None, Qualification]:
        rng = self.rng
        study = PREGNANCY_REGISTRY if country.code in PREGNANCY_REGISTRY.countries and rng.random() < 0.25 else None
        u = rng.random()
        qualification = (
            Qualification.PHYSICIAN
            if u < 0.45
            else Qualification.OTHER_HEALTH_PROFESSIONAL
            if u < 0.6
            else Qualification.CONSUMER
        )
        return study, Qualification.PHYSICIAN if study is not None else qualification

    def _simple_event(self, item: Term, onset: dt.date, outcome: Outcome, criteria: str = "") -> EventSpec:
        return EventSpec(
            term=item,
            verbatim=self._verbatim(item),
            native=None,
            language="eng",
            criteria=criteria,
            onset=onset,
            precision="day",
            minute=0,
            outcome=outcome,
            end=onset if outcome is Outcome.RECOVERED else None,
            duration_hours=None,
            related="Unassessable",
            reporter_related=None,
            highlighted=False,
        )

    def _pregnancy(self) -> CaseSpec:
        rng = self.rng
        country = _COUNTRY_CHOICE.pick(rng)
        study, qualification = self._pregnancy_reporter(country)
        received = self._received()
        outcome_event = rng.random() < 0.12  # reported with a pregnancy outcome: miscarriage or preterm birth
        miscarriage = outcome_event and rng.random() < 0.6
        weeks_at_report = (
            rng.randint(9, 20) if miscarriage else rng.randint(31, 36) if outcome_event else rng.randint(5, 34)
        )
        lmp = received - _days(weeks_at_report * 7 + rng.randint(0, 6))
        conception = lmp + _days(14)
        last = min(conception + _days(rng.randint(-170, 60)), received - _days(1))
        therapy = self._therapy(country, qualification, last, 1 + rng.randint(0, 4), None, "")
        therapy = replace(therapy, action=_PREGNANCY_ACTIONS.pick(rng))
        patient = replace(
            self._adult(country, study, None),
            sex=Sex.FEMALE,
            age=rng.randint(19, 44),
            age_group=None,
            lmp=lmp,
            birth_date=None,
        )
        exposure = EXPOSURE_PREGNANCY if rng.random() < 0.85 else MATERNAL_EXPOSURE_PREGNANCY
        status = Outcome.UNKNOWN if rng.random() < 0.6 else Outcome.NOT_RECOVERED
        events = [self._simple_event(exposure, max(last, conception), status)]
        if outcome_event:
            item, criteria = (MISCARRIAGE, "M") if miscarriage else (PRETERM, "H" if rng.random() < 0.3 else "")
            events.append(self._simple_event(item, received - _days(rng.randint(1, 10)), Outcome.RECOVERED, criteria))
        gestation = (max(last, lmp) - lmp).days // 7
        note = f"Last menstrual period {_fmt(lmp)}; the last UPLIZNA infusion on {_fmt(last)} was " + (
            f"in gestational week {gestation}." if last >= lmp else f"{(lmp - last).days} days before the LMP."
        )
        concomitants = (FOLIC_ACID,) if rng.random() < 0.5 else ()
        return self._special(
            "pregnancy",
            country,
            qualification,
            study,
            received,
            patient,
            therapy,
            tuple(events),
            note,
            concomitants=concomitants,
        )

    def _parent(self, lmp: dt.date) -> ParentSpec:
        rng = self.rng
        weight = rng.randint(55, 95) if rng.random() < 0.5 else None
        return ParentSpec(initials=self._initials(), age=rng.randint(21, 42), lmp=lmp, weight=weight)

    def _neonate(self) -> CaseSpec:
        rng = self.rng
        country = _COUNTRY_CHOICE.pick(rng)
        study = PREGNANCY_REGISTRY if country.code == "US" and rng.random() < 0.4 else None
        qualification = (
            Qualification.PHYSICIAN if study or rng.random() < 0.8 else Qualification.OTHER_HEALTH_PROFESSIONAL
        )
        received = self._received()
        age_days = rng.randint(1, 28)
        onset = received - _days(rng.randint(1, 40))
        birth = onset - _days(age_days)
        weeks_at_birth = rng.randint(33, 36) if rng.random() < 0.15 else rng.randint(37, 41)
        lmp = birth - _days(weeks_at_birth * 7)
        exposure_week = rng.randint(4, min(30, weeks_at_birth - 1))
        last = lmp + _days(exposure_week * 7)
        therapy = replace(
            self._therapy(country, qualification, last, 1 + rng.randint(0, 4), None, ""),
            route="Transplacental",
            gestation_weeks=exposure_week,
            action=ActionTaken.NOT_APPLICABLE,
        )
        patient = PatientSpec(
            initials=self._initials(),
            sex=rng.choice((Sex.FEMALE, Sex.MALE)),
            age=age_days,
            age_unit="d",
            age_group=AgeGroup.NEONATE,
            weight=_dec(_clip(rng.gauss(3.2, 0.45), 1.9, 4.4), 2),
            height=rng.randint(45, 54) if rng.random() < 0.5 else None,
            birth_date=birth,
            parent=self._parent(lmp),
        )
        outcome = Weighted(
            [
                (Outcome.RECOVERING, 40.0),
                (Outcome.RECOVERED, 25.0),
                (Outcome.NOT_RECOVERED, 20.0),
                (Outcome.UNKNOWN, 15.0),
            ]
        ).pick(rng)
        events = [self._simple_event(B_CELLS_DECREASED, onset, outcome, "M" if rng.random() < 0.4 else "")]
        labs = [_b_cells(rng, onset)]
        if rng.random() < 0.6:
            events.append(self._simple_event(FOETAL_EXPOSURE, last, Outcome.UNKNOWN))
        if rng.random() < 0.15:
            events.append(self._simple_event(NEONATAL_NEUTROPENIA, onset, Outcome.RECOVERING))
            labs.append(_neutrophils_neonate(rng, onset))
        note = (
            f"The mother received UPLIZNA during pregnancy (last infusion in gestational week {exposure_week}); "
            f"the infant was born on {_fmt(birth)} at {weeks_at_birth} weeks of gestation."
        )
        return self._special(
            "neonate", country, qualification, study, received, patient, therapy, tuple(events), note, labs=tuple(labs)
        )

    def _lactation(self, kind: str) -> CaseSpec:
        rng = self.rng
        country = _COUNTRY_CHOICE.pick(rng)
        qualification = SPONTANEOUS_QUALIFICATIONS.pick(rng)
        received = self._received()
        last = received - _days(rng.randint(3, 60))
        therapy = self._therapy(country, qualification, last, 2 + rng.randint(0, 4), None, "")
        infant_months = rng.randint(1, 11)
        if kind == "lactation-mother":
            patient = replace(self._adult(country, None, None), sex=Sex.FEMALE, age=rng.randint(22, 42), age_group=None)
            events = (self._simple_event(BREAST_FEEDING, last, Outcome.UNKNOWN),)
            note = f"The patient was breast-feeding her {infant_months}-month-old infant at the time of the infusion."
        else:
            patient = PatientSpec(
                initials=self._initials(),
                sex=rng.choice((Sex.FEMALE, Sex.MALE)),
                age=infant_months,
                age_unit="mo",
                age_group=AgeGroup.INFANT,
                weight=_dec(_clip(4.5 + 0.5 * infant_months + rng.gauss(0, 0.8), 3, 12), 1),
                parent=self._parent(last - _days(280 + 30 * infant_months)),
            )
            therapy = replace(therapy, route="Transmammary", action=ActionTaken.NOT_APPLICABLE)
            events = (self._simple_event(BREAST_MILK, last, Outcome.UNKNOWN),)
            note = "The infant was breast-fed while the mother received UPLIZNA; no adverse effect was reported."
        return self._special(kind, country, qualification, None, received, patient, therapy, events, note)

    # -- invalid and duplicate cases ---------------------------------------------------------------

    def _make_invalid(self, spec: CaseSpec, kind: str) -> CaseSpec:
        if kind == "reporter":
            note = "Anonymous call to the medical information line; the caller declined to give any contact details."
            return replace(spec, invalid=kind, note=note, report_type=ReportType.SPONTANEOUS, study=None)
        if kind == "patient":
            note = "The reporter could not give any details identifying the patient."
            return replace(spec, invalid=kind, note=note, patient=PatientSpec(initials=None, sex=None, age=None))
        note = "The reporter asked the medical information service about UPLIZNA; no adverse event was described."
        return replace(
            spec, invalid=kind, note=note, events=(), labs=(), report_type=ReportType.SPONTANEOUS, study=None
        )

    def _duplicate(self, original: CaseSpec) -> CaseSpec:
        """The same patient and events reported again by someone else, a few days later."""
        rng = self.rng
        qualification = self._other_qualification(original.qualification)
        received = min(self.end, original.received + _days(rng.randint(2, 21)))
        patient = original.patient
        if patient.age is not None and patient.age_unit == "a" and rng.random() < 0.1:
            patient = replace(patient, age=patient.age + 1)
        if rng.random() < 0.4:
            patient = replace(patient, weight=None, height=None)
        return replace(
            original,
            report_type=ReportType.SPONTANEOUS,
            study=None,
            qualification=qualification,
            reporter=self._reporter_index(original.country, qualification),
            received=received,
            latest=received,
            patient=replace(patient, investigation_number=None),
            events=self._duplicate_events(original, received),
            concomitants=tuple(c for c in original.concomitants if rng.random() < 0.7),
            labs=tuple(lab for lab in original.labs if lab.date <= received) if qualification in _HCP else (),
            therapy=replace(original.therapy, batch_first=None, batch_last=None)
            if qualification is Qualification.CONSUMER
            else original.therapy,
        )

    def _other_qualification(self, original: Qualification) -> Qualification:
        if original is Qualification.CONSUMER:
            return Qualification.PHYSICIAN if self.rng.random() < 0.6 else Qualification.OTHER_HEALTH_PROFESSIONAL
        others = [
            q
            for q in (
                Qualification.CONSUMER,
                Qualification.PHYSICIAN,
                Qualification.PHARMACIST,
                Qualification.OTHER_HEALTH_PROFESSIONAL,
            )
            if q is not original
        ]
        return Qualification.CONSUMER if self.rng.random() < 0.5 else self.rng.choice(others)

    def _duplicate_events(self, original: CaseSpec, received: dt.date) -> tuple[EventSpec, ...]:
        """The second reporter's account: in their own (English) words, an event more or less, dates a day off."""
        rng = self.rng
        index, *rest = original.events
        if rest and rng.random() < 0.35:
            rest.pop(rng.randrange(len(rest)))
        extra = BACKGROUND.pick(rng)
        if rng.random() < 0.3 and all(e.term.pt != extra.pt for e in original.events):
            rest.append(replace(index, term=extra, verbatim=extra.verbatims[0], criteria="", outcome=Outcome.UNKNOWN))
        shift = rng.choice((-2, -1, 1, 2)) if rng.random() < 0.25 else 0
        return tuple(self._retold(event, received, shift) for event in (index, *rest))

    def _retold(self, event: EventSpec, received: dt.date, shift: int) -> EventSpec:
        misspelt = event.verbatim not in event.term.verbatims
        verbatim = event.verbatim if misspelt or self.rng.random() < 0.4 else self.rng.choice(event.term.verbatims)
        onset = min(event.onset + _days(shift), received)
        end, outcome = event.end, event.outcome
        if end is not None and not onset <= end <= received:
            end = None
            if outcome in (Outcome.RECOVERED, Outcome.RECOVERED_WITH_SEQUELAE):
                outcome = Outcome.RECOVERING
        return replace(event, verbatim=verbatim, native=None, language="eng", onset=onset, end=end, outcome=outcome)

    # -- building the ICSR ----------------------------------------------------------------------------

    def _icsr(self, spec: CaseSpec, wid: str) -> Icsr:
        """One validation of the whole case: sub-objects go in as field dicts (see :data:`Fields`)."""
        reaction_ids = [_uid(self.rng) for _ in spec.events]
        fields: Fields = {
            "sender_report_id": wid,
            "worldwide_case_id": wid,
            "created": _created(spec.latest, spec.created_delay),
            "report_type": spec.report_type,
            "first_received": _day(spec.received),
            "most_recent_info": _day(spec.latest),
            "local_expedited": any(e.criteria for e in spec.events),
            "first_sender": FirstSender.OTHER,
            "primary_sources": (self._primary_source(spec),),
            "sender": _SENDER,
            "patient": _patient(spec),
            "reactions": [_reaction(e, spec, i) for e, i in zip(spec.events, reaction_ids, strict=True)],
            "drugs": [self._suspect(spec, reaction_ids), *self._concomitant_drugs(spec)],
            "narrative": _narrative(spec),
        }
        if spec.study is not None:
            fields["study"] = _study(spec.study)
        if spec.labs:
            fields["tests"] = [_test(lab) for lab in spec.labs]
        return Icsr.model_validate(fields)

    def _primary_source(self, spec: CaseSpec) -> PrimarySource:
        if spec.invalid == "reporter":
            return _ANONYMOUS
        if spec.qualification not in _HCP:
            return _consumer(spec.country.code)
        key = (spec.country.code, spec.qualification, spec.reporter)
        source = self._reporters.get(key)
        if source is None:
            source = _hcp(
                random.Random(f"{self.seed}:{key[0]}:{key[1].value}:{key[2]}"), spec.country, spec.qualification
            )
            self._reporters[key] = source
        return source

    def _suspect(self, spec: CaseSpec, reaction_ids: Sequence[str]) -> Fields:
        therapy = spec.therapy
        rows = (_matrix_row(i, event, spec) for i, event in zip(reaction_ids, spec.events, strict=True))
        drug: Fields = {
            "id": _uid(self.rng),
            "role": DrugRole.SUSPECT,
            "name": therapy.name,
            "substances": _SUBSTANCES,
            "obtained_country": spec.country.code,
            "authorisation_holder": COMPANY,
            "dosages": _dosages(therapy),
            "indications": _indication(therapy.indication),
            "action_taken": therapy.action,
            "reaction_assessments": [row for row in rows if row is not None],
        }
        if therapy.start_known == "day":
            drug["cumulative_dose"] = _quantity(300 * therapy.infusions, "mg")
        if therapy.gestation_weeks:
            drug["gestation_at_exposure"] = _quantity(therapy.gestation_weeks, "wk")
        return drug

    def _concomitant_drugs(self, spec: CaseSpec) -> list[Fields]:
        drugs: list[Fields] = []
        for c in spec.concomitants:
            substances, dosages, indications = _concomitant_parts(c)
            drugs.append(
                {
                    "id": _uid(self.rng),
                    "role": DrugRole.CONCOMITANT,
                    "name": c.name,
                    "substances": substances,
                    "dosages": dosages,
                    "indications": indications,
                }
            )
        return drugs


# --------------------------------------------------------------------------------------------------
# Builders: specs to model fields
# --------------------------------------------------------------------------------------------------

#: The fields of one model object, validated when the case is (``Icsr.model_validate``). Each sub-model
#: built for one case goes in as its fields, so pydantic validates it exactly once; a model instance
#: assigned to a parent would have its ``after`` validators run a second time. Shared, cached
#: sub-objects (timestamps, quantities, substances, reporters ...) go in as instances.
Fields = dict[str, object]


def _hcp(rng: random.Random, country: Country, qualification: Qualification) -> PrimarySource:
    female, male, family = NAMES[country.names]
    city = rng.choice(country.cities)
    department = {
        Qualification.PHYSICIAN: "Neurology",
        Qualification.PHARMACIST: "Pharmacy",
        Qualification.OTHER_HEALTH_PROFESSIONAL: "Infusion centre",
    }[qualification]
    return PrimarySource(
        title="Dr." if qualification is Qualification.PHYSICIAN else None,
        given_name=rng.choice(female if rng.random() < 0.55 else male),
        family_name=rng.choice(family),
        organisation=country.organisation.format(city=city.name),
        department=department,
        city=city.name,
        state=city.state,
        postcode=city.postcode,
        country=country.code,
        qualification=qualification,
        primary_for_regulatory_purposes=True,
    )


def _patient(spec: CaseSpec) -> Patient | Fields:
    p = spec.patient
    if spec.invalid == "patient":
        return _UNIDENTIFIED_PATIENT
    fields: Fields = {"sex": p.sex} if p.sex is not None else {"sex_null_flavor": NullFlavor.UNK}
    if p.initials is not None:
        fields["name"] = p.initials
    else:
        fields["name_null_flavor"] = NullFlavor.MSK
    if p.history:
        fields["medical_history_text"] = p.history
    else:
        fields["medical_history_text_null_flavor"] = NullFlavor.UNK
    if p.age is not None:
        fields["age"] = _quantity(p.age, p.age_unit)
    if p.weight is not None:
        fields["weight_kg"] = p.weight
    if p.height:
        fields["height_cm"] = Decimal(p.height)
    if spec.concomitants:
        fields["concomitant_therapies"] = True
    if p.past_drugs:
        fields["past_drugs"] = tuple(_past_drug(name) for name in p.past_drugs)
    return _rare_patient_fields(spec, fields)


def _rare_patient_fields(spec: CaseSpec, fields: Fields) -> Fields:
    p = spec.patient
    optional: Fields = {
        "investigation_number": p.investigation_number,
        "birth_date": _day(p.birth_date) if p.birth_date else None,
        "age_group": p.age_group,
        "last_menstrual_period": _day(p.lmp) if p.lmp else None,
        "death": _death(spec),
        "parent": _parent(p.parent) if p.parent else None,
    }
    fields.update((name, value) for name, value in optional.items() if value is not None)
    return fields


def _parent(parent: ParentSpec) -> Fields:
    fields: Fields = {
        "identification": parent.initials,
        "age": _quantity(parent.age, "a"),
        "last_menstrual_period": _day(parent.lmp),
        "sex": Sex.FEMALE,
        "medical_history_text": "Neuromyelitis optica spectrum disorder (AQP4-IgG seropositive) treated with UPLIZNA.",
    }
    if parent.weight:
        fields["weight_kg"] = Decimal(parent.weight)
    return fields


def _death(spec: CaseSpec) -> Fields | None:
    fatal = next((e for e in spec.events if "D" in e.criteria), None)
    if fatal is None:
        return None
    when = fatal.end or spec.latest
    return {
        "date": _day(when),
        "reported_causes": ({"text": fatal.verbatim},),
        "autopsy_done_null_flavor": NullFlavor.UNK,
    }


_CRITERIA_FIELDS: Final = (
    ("D", "results_in_death"),
    ("L", "life_threatening"),
    ("H", "hospitalisation"),
    ("I", "disabling"),
    ("C", "congenital_anomaly"),
    ("M", "other_medically_important"),
)


def _reaction(event: EventSpec, spec: CaseSpec, reaction_id: str) -> Fields:
    fields: Fields = {
        "id": reaction_id,
        "verbatim_term": event.native or event.verbatim,
        "verbatim_language": event.language,
        "start_date": _ts(event.onset, event.precision, event.minute),
        "outcome": event.outcome,
        "medical_confirmation": spec.qualification in _HCP and spec.invalid != "reporter",
    }
    if event.native:
        fields["verbatim_term_english"] = event.verbatim
    if spec.invalid != "reporter":
        fields["country"] = spec.country.code
    if event.end:
        fields["end_date"] = _day(event.end)
    if event.duration_hours:
        fields["duration"] = _quantity(event.duration_hours, "h")
    for letter, name in _CRITERIA_FIELDS:  # E.i.3.2a-f: true when met, else left out (nullFlavor NI)
        if letter in event.criteria:
            fields[name] = True
    if event.highlighted:
        serious = bool(event.criteria)
        fields["term_highlighted"] = (
            TermHighlighted.HIGHLIGHTED_SERIOUS if serious else TermHighlighted.HIGHLIGHTED_NOT_SERIOUS
        )
    return fields


def _matrix_row(reaction_id: str, event: EventSpec, spec: CaseSpec) -> Fields | None:
    """G.k.9.i for the suspect drug: reporter's and company's causality, time from the last infusion."""
    assessments = []
    if event.reporter_related is not None:
        assessments.append(_assessment("Primary source reporter", event.reporter_related))
    if event.criteria or event.related != "Unassessable":
        assessments.append(_assessment(COMPANY, event.related))
    fields: Fields = {"reaction_id": reaction_id, "assessments": tuple(assessments)}
    therapy = spec.therapy
    if therapy.start_known == "day" and event.precision != "month" and therapy.route == _IV:
        fields["time_from_last_dose"] = _quantity((event.onset - therapy.last).days, "d")
    return fields if assessments or "time_from_last_dose" in fields else None


def _dosage(
    therapy: TherapySpec,
    text: str,
    start: dt.date | None,
    end: dt.date | None = None,
    batch: str | None = None,
    period: Period | None = None,
) -> Fields:
    fields: Fields = {"dose": _DOSE, "text": text, "dose_form_text": _DOSE_FORM, "route_text": therapy.route}
    if start is None:
        fields["start_date_null_flavor"] = NullFlavor.ASKU
    else:
        fields["start_date"] = _ts(start, therapy.start_known)
    if end is not None:
        fields["end_date"] = _ts(end, therapy.start_known)
    if batch is not None:
        fields["batch_lot"] = batch
    if period is not None:
        fields["period"] = period
    if therapy.route != _IV:
        fields["parent_route_text"] = _IV
    return fields


def _dosages(therapy: TherapySpec) -> list[Fields]:
    """G.k.4.r: the loading doses (day 1, day 15) and the 6-monthly maintenance doses up to the event."""
    if therapy.start_known == "unknown":
        return [_dosage(therapy, "300 mg IV every 6 months", None)]
    if therapy.infusions == 1:
        return [_dosage(therapy, "300 mg IV infusion (day 1)", therapy.first, therapy.first, therapy.batch_first)]
    loading = _dosage(
        therapy, "300 mg IV infusion on day 1 and day 15", therapy.first, therapy.second, therapy.batch_first
    )
    if therapy.infusions == 2:
        return [loading]
    first_maintenance = therapy.first + _days(_MAINTENANCE_DAYS)
    text = "300 mg IV infusion every 6 months"
    return [loading, _dosage(therapy, text, first_maintenance, therapy.last, therapy.batch_last, _SIX_MONTHS)]


def _test(lab: LabSpec) -> Fields:
    fields: Fields = {"date": _day(lab.date), "name": lab.name}
    if lab.code is not None:
        fields["result_code"] = lab.code
    if lab.value is not None:
        fields["result"] = {"value": lab.value, "unit": lab.unit, "comparator": lab.comparator}
    if lab.text is not None:
        fields["result_text"] = lab.text
    if lab.low is not None:
        fields["normal_low"] = _measure(lab.low, lab.unit)
    if lab.high is not None:
        fields["normal_high"] = _measure(lab.high, lab.unit)
    return fields


# --------------------------------------------------------------------------------------------------
# Lab results (F.r): values a physician would expect with each event
# --------------------------------------------------------------------------------------------------


def _cell_count(
    rng: random.Random, day: dt.date, us: bool, name: str, value: float, low: float, high: float
) -> LabSpec:
    """A cell count in 10^9/L (Europe, Asia; UCUM 10*9/L or the plan's 10^9/L) or cells/mm3 (US)."""
    if us:
        return LabSpec(name, day, _dec(value * 1000, 0), "/mm3", low=_dec(low * 1000, 0), high=_dec(high * 1000, 0))
    unit = "10^9/L" if rng.random() < 0.6 else "10*9/L"
    return LabSpec(name, day, _dec(value, 2), unit, low=_dec(low, 1), high=_dec(high, 1))


def _neutrophil_name(rng: random.Random) -> str:
    return rng.choice(("Neutrophil count", "Neutrophil count", "Absolute neutrophil count", "ANC"))


def _neutrophils(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    """ANC: 60% grade 2-3 (0.5-<1.5 x10^9/L), 30% mild (1.5-1.8), 10% grade 4 (<0.5) (CTCAE v5.0)."""
    u = rng.random()
    value = rng.uniform(0.5, 1.49) if u < 0.6 else rng.uniform(1.5, 1.79) if u < 0.9 else rng.uniform(0.1, 0.49)
    return (_cell_count(rng, day, us, _neutrophil_name(rng), value, 1.8, 7.5),)


def _neutrophils_severe(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    crp = LabSpec("C-reactive protein", day, _dec(rng.uniform(20, 180), 0), "mg/L", high=Decimal(5))
    return _cell_count(rng, day, us, _neutrophil_name(rng), rng.uniform(0.05, 0.49), 1.8, 7.5), crp


def _lymphocytes(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    name = rng.choice(("Lymphocyte count", "Absolute lymphocyte count"))
    return (_cell_count(rng, day, us, name, rng.uniform(0.2, 0.95), 1.0, 4.0),)


def _leukocytes(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    return (_cell_count(rng, day, us, "White blood cell count", rng.uniform(1.8, 3.8), 4.0, 10.0),)


def _igg(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    value = rng.uniform(2.5, 6.9)
    if us:
        return (LabSpec("Immunoglobulin G", day, _dec(value * 100, 0), "mg/dL", low=Decimal(700), high=Decimal(1600)),)
    return (LabSpec("Immunoglobulin G", day, _dec(value, 1), "g/L", low=Decimal(7), high=Decimal(16)),)


def _crp(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    return (LabSpec("C-reactive protein", day, _dec(rng.uniform(30, 250), 0), "mg/L", high=Decimal(5)),)


def _pneumonia(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    finding = rng.choice(("right lower lobe consolidation", "left lower lobe consolidation", "bilateral infiltrates"))
    return LabSpec("Chest X-ray", day, text=finding.capitalize()), *_crp(rng, day, us)


def _sepsis(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    organism = rng.choice(
        ("Escherichia coli", "Klebsiella pneumoniae", "Staphylococcus aureus", "Streptococcus pneumoniae")
    )
    culture = LabSpec("Blood culture", day, code=TestResultCode.POSITIVE, text=organism)
    procalcitonin = LabSpec("Procalcitonin", day, _dec(rng.uniform(2, 40), 1), "ng/mL", high=Decimal("0.5"))
    return culture, procalcitonin, *_crp(rng, day, us)


def _urine(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    organism = rng.choice(("Escherichia coli", "Escherichia coli", "Klebsiella pneumoniae", "Enterococcus faecalis"))
    return (LabSpec("Urine culture", day, code=TestResultCode.POSITIVE, text=f"{organism} > 10^5 CFU/mL"),)


def _sars_cov_2(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    return (LabSpec("SARS-CoV-2 RT-PCR (nasopharyngeal swab)", day, code=TestResultCode.POSITIVE),)


def _vzv(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    return (LabSpec("Varicella zoster virus PCR (lesion swab)", day, code=TestResultCode.POSITIVE),)


def _hbv(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    dna = LabSpec(
        "Hepatitis B virus DNA", day, _dec(10 ** rng.uniform(3, 7), 0), "[IU]/mL", code=TestResultCode.POSITIVE
    )
    antigen = LabSpec("Hepatitis B surface antigen", day, code=TestResultCode.POSITIVE)
    alt = LabSpec("Alanine aminotransferase", day, _dec(rng.uniform(80, 900), 0), "U/L", high=Decimal(35))
    return dna, antigen, alt


def _jcv(rng: random.Random, day: dt.date, us: bool) -> tuple[LabSpec, ...]:
    pcr = LabSpec(
        "JC virus DNA, cerebrospinal fluid (PCR)",
        day,
        _dec(rng.uniform(50, 5000), 0),
        "{copies}/mL",
        code=TestResultCode.POSITIVE,
    )
    mri = LabSpec(
        "Magnetic resonance imaging head",
        day,
        text="Multifocal subcortical white matter T2/FLAIR lesions "
        "without mass effect or enhancement, consistent with PML",
    )
    return pcr, mri


def _b_cells(rng: random.Random, day: dt.date) -> LabSpec:
    return LabSpec("CD19+ B-cell count", day, _dec(rng.uniform(0, 40), 0), "/uL", low=Decimal(300), high=Decimal(2000))


def _neutrophils_neonate(rng: random.Random, day: dt.date) -> LabSpec:
    return LabSpec("Neutrophil count", day, _dec(rng.uniform(0.6, 1.4), 2), "10^9/L", low=Decimal("1.5"))


_LAB_MAKERS: Final = {
    "neutrophils": _neutrophils,
    "neutrophils-severe": _neutrophils_severe,
    "lymphocytes": _lymphocytes,
    "leukocytes": _leukocytes,
    "igg": _igg,
    "crp": _crp,
    "pneumonia": _pneumonia,
    "sepsis": _sepsis,
    "urine": _urine,
    "sars-cov-2": _sars_cov_2,
    "vzv": _vzv,
    "hbv": _hbv,
    "jcv": _jcv,
}


# --------------------------------------------------------------------------------------------------
# Narrative (H.1)
# --------------------------------------------------------------------------------------------------

_CRITERIA_WORDS: Final = {
    "D": "resulted in death",
    "L": "was life-threatening",
    "H": "required hospitalisation",
    "I": "was disabling",
    "C": "was a congenital anomaly",
    "M": "was medically important",
}


def _narrative(spec: CaseSpec) -> str:
    parts = [_intro(spec), _patient_sentence(spec), _therapy_sentence(spec)]
    if spec.note:
        parts.append(spec.note)
    parts += [_events_sentence(spec), _outcome_sentence(spec)]
    if spec.labs:
        parts.append("Results: " + "; ".join(_lab_text(lab) for lab in spec.labs) + ".")
    parts.append(f"Action taken with UPLIZNA: {spec.therapy.action.label.lower()}.")
    return " ".join(part for part in parts if part)


def _intro(spec: CaseSpec) -> str:
    if spec.invalid == "reporter":
        return "This spontaneous report was received from an unidentified caller."
    who = _QUALIFICATION_WORDS[spec.qualification]
    where = COUNTRY_NAMES[spec.country.code]
    if spec.study is not None:
        kind = "solicited report" if spec.study.key == "psp" else "report"
        return (
            f"This {kind} from the {spec.study.name} ({spec.study.sponsor_number}) was received from {who} in {where}."
        )
    return f"This spontaneous report was received from {who} in {where}."


def _patient_sentence(spec: CaseSpec) -> str:
    p = spec.patient
    if spec.invalid == "patient":
        return "It concerns a patient of unknown age and sex."
    unit = {"a": "year", "d": "day", "mo": "month"}[p.age_unit]
    age = f"{p.age}-{unit}-old" if p.age is not None else (p.age_group.label.lower() if p.age_group else "")
    sex = {Sex.FEMALE: "female", Sex.MALE: "male", None: ""}[p.sex]
    described = " ".join(word for word in (age, sex) if word)
    subject = "patient" if p.parent is None else ("neonate" if p.age_unit == "d" else "infant")
    words = f"{described} {subject}".strip()
    article = "an" if words[0] in "aeiou8" or words.startswith(("11-", "18-")) else "a"
    text = f"It concerns {article} {words}"
    if p.history and p.parent is None:
        text += f" with a history of {p.history[0].lower()}{p.history[1:-1]}"
    return text + "."


def _therapy_sentence(spec: CaseSpec) -> str:
    t = spec.therapy
    if t.route != _IV:
        how = "transplacentally" if t.route == "Transplacental" else "via breast milk"
        return f"The infant was exposed to UPLIZNA (inebilizumab) {how}; the mother received 300 mg IV."
    if t.start_known == "unknown":
        return "The patient receives UPLIZNA (inebilizumab) 300 mg IV every 6 months (start date unknown)."
    start = _fmt(t.first, t.start_known)
    text = f"The patient started UPLIZNA (inebilizumab) 300 mg IV on {start} (day 1)"
    if t.infusions > 1:
        before = "before the event" if spec.events else "so far"
        text += f"; the last infusion {before} (the {_ordinal(t.infusions)}) was on {_fmt(t.last, t.start_known)}"
    if any(c.indication == "Premedication" for c in spec.concomitants):
        text += ", with premedication"
    return text + "."


def _events_sentence(spec: CaseSpec) -> str:
    if not spec.events:
        return ""
    index = spec.events[0]
    names = ", ".join(e.verbatim for e in spec.events)
    when = "In" if index.precision == "month" else "On"
    text = f"{when} {_fmt(index.onset, index.precision)} the patient experienced {names}"
    criteria = [_CRITERIA_WORDS[c] for c in "DLHIM" if any(c in e.criteria for e in spec.events)]
    if criteria:
        text += "; the event " + ", ".join(criteria)
    return text + "."


def _outcome_sentence(spec: CaseSpec) -> str:
    if not spec.events:
        return ""
    index = spec.events[0]
    if index.outcome is Outcome.FATAL:
        return f"The patient died on {_fmt(index.end or spec.latest)}."
    text = f"Outcome: {index.outcome.label}"
    if index.end is not None:
        text += f" on {_fmt(index.end)}"
    return text + "."


def _lab_text(lab: LabSpec) -> str:
    if lab.value is not None:
        return f"{lab.name} {lab.value} {lab.unit or ''}".rstrip() + f" on {_fmt(lab.date)}"
    result = lab.text or (lab.code.label.lower() if lab.code else "done")
    return f"{lab.name}: {result} on {_fmt(lab.date)}"


# --------------------------------------------------------------------------------------------------
# Follow-up versions
# --------------------------------------------------------------------------------------------------


def _rebuilt(model: M, **changes: object) -> M:
    """A validated copy of a pydantic model with ``changes`` (unlike ``model_copy``, which skips validation)."""
    cls = type(model)
    values: dict[str, object] = {name: getattr(model, name) for name in cls.model_fields}
    values.update(changes)
    return cls.model_validate(values)


class _FollowUp:
    """Builds a follow-up version of one case."""

    def __init__(self, icsr: Icsr, rng: random.Random, received: dt.date) -> None:
        self.icsr = icsr
        self.rng = rng
        self.received = received
        self.news: list[str] = []
        self.changes: dict[str, object] = {}

    def build(self) -> Icsr:
        if not self._complete_invalid():
            steps = [self._outcome_update, self._hospitalisation, self._lab_result]
            self.rng.shuffle(steps)
            for step in steps:
                if step() and (len(self.news) >= 2 or self.rng.random() < 0.5):
                    break
            if not self.news:
                self.news.append("the reporter confirmed the information already given")
        day = self.received + _days(self.rng.randint(1, 3))
        created = f"{day:%Y%m%d}{self.rng.randint(8, 18):02d}{self.rng.randint(0, 59):02d}00"
        narrative = (
            f"{self.icsr.narrative or ''} Follow-up information received on {_fmt(self.received)}: "
            + "; ".join(self.news)
            + "."
        )
        return _rebuilt(
            self.icsr,
            most_recent_info=_day(self.received),
            created=Hl7Timestamp(created),
            narrative=narrative.strip(),
            **self.changes,
        )

    def _reactions(self) -> tuple[Reaction, ...]:
        return self.changes.get("reactions", self.icsr.reactions)  # type: ignore[return-value]

    def _complete_invalid(self) -> bool:
        icsr = self.icsr
        source = icsr.primary_sources[0] if icsr.primary_sources else None
        if source is not None and source.qualification is None and source.country is None:
            country = icsr.worldwide_case_id[:2]
            done = _rebuilt(
                source,
                qualification=Qualification.PHYSICIAN,
                qualification_null_flavor=None,
                country=country,
                country_null_flavor=None,
            )
            self.changes["primary_sources"] = (done, *icsr.primary_sources[1:])
            self.news.append("the treating neurologist was identified and confirmed the report")
            return True
        p = icsr.patient
        if p.name is None and p.sex is None and p.age is None and p.age_group is None and p.parent is None:
            self.changes["patient"] = _rebuilt(
                p,
                name="".join(self.rng.choice(INITIAL_LETTERS) for _ in range(2)),
                name_null_flavor=None,
                sex=Sex.FEMALE,
                sex_null_flavor=None,
                age=_quantity(self.rng.randint(25, 60), "a"),
                age_group_null_flavor=None,
            )
            self.news.append("the patient's initials, age and sex were provided")
            return True
        if not icsr.reactions:
            self._add_reaction()
            return True
        return False

    def _add_reaction(self) -> None:
        onset = self.received - _days(self.rng.randint(1, 20))
        reaction = Reaction(
            id=_uid(self.rng),
            verbatim_term="headache",
            verbatim_language="eng",
            start_date=_day(onset),
            outcome=Outcome.RECOVERED,
            end_date=_day(onset + _days(1)),
        )
        suspect = next(d for d in self.icsr.drugs if d.is_suspect)
        row = DrugReactionAssessment(
            reaction_id=reaction.id, assessments=(_assessment("Primary source reporter", "Possibly related"),)
        )
        drugs = tuple(
            _rebuilt(d, reaction_assessments=(*d.reaction_assessments, row)) if d is suspect else d
            for d in self.icsr.drugs
        )
        self.changes.update(reactions=(reaction,), drugs=drugs)
        self.news.append("the patient reported headache after the last infusion")

    def _outcome_update(self) -> bool:
        reactions = list(self._reactions())
        for i, r in enumerate(reactions):
            if r.outcome in (Outcome.NOT_RECOVERED, Outcome.RECOVERING, Outcome.UNKNOWN) and r.start_date:
                start = r.start_date.latest_date()
                if start >= self.received:
                    continue
                end = start + _days(self.rng.randint(0, (self.received - start).days))
                reactions[i] = _rebuilt(r, outcome=Outcome.RECOVERED, end_date=_day(end), end_date_null_flavor=None)
                self.changes["reactions"] = tuple(reactions)
                self.news.append(f"{r.verbatim_term_english or r.verbatim_term} resolved on {_fmt(end)}")
                return True
        return False

    def _hospitalisation(self) -> bool:
        """An unresolved event turned out to need hospital care (E.i.3.2c): the case may become serious."""
        reactions = list(self._reactions())
        for i, r in enumerate(reactions):
            unresolved = r.outcome in (Outcome.NOT_RECOVERED, Outcome.RECOVERING, Outcome.UNKNOWN)
            if unresolved and not r.hospitalisation and r.start_date is not None:
                reactions[i] = _rebuilt(r, hospitalisation=True)
                self.changes["reactions"] = tuple(reactions)
                self.changes["local_expedited"] = True
                admitted = max(r.start_date.latest_date(), self.received - _days(self.rng.randint(1, 10)))
                name = r.verbatim_term_english or r.verbatim_term
                self.news.append(f"the patient was admitted to hospital on {_fmt(admitted)} because of {name}")
                return True
        return False

    def _lab_result(self) -> bool:
        day = self.received - _days(self.rng.randint(0, 5))
        if self.icsr.first_received and day < self.icsr.first_received.earliest_date():
            day = self.icsr.first_received.earliest_date()
        us = self.icsr.worldwide_case_id.startswith("US-")
        rng = self.rng
        if rng.random() < 0.7:  # routine blood count of B-cell-depletion monitoring: half of them low
            low = rng.random() < 0.5
            lab = (
                _neutrophils(rng, day, us)[0]
                if low
                else _cell_count(rng, day, us, "Neutrophil count", rng.uniform(2.0, 6.0), 1.8, 7.5)
            )
        else:
            lab = _igg(rng, day, us)[0]
        self.changes["tests"] = (*self.icsr.tests, _test(lab))
        self.news.append(_lab_text(lab))
        return True
