"""Synthetic ICSRs, step 1: what is drawn for a case before any model object is built (the specs), the
shares and constants of the draw, the state of one draw (:class:`Draw`) and small shared helpers.

Internal to :mod:`riskplan.cases.synth` (see its docstring).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Final, TypeVar

from pydantic import BaseModel

from riskplan.cases.codes import (
    ActionTaken,
    AgeGroup,
    NullFlavor,
    Outcome,
    Qualification,
    ReportType,
    SenderType,
    Sex,
    StudyType,
    TestResultCode,
)
from riskplan.cases.model import (
    Comparator,
    Dosage,
    Hl7Timestamp,
    Indication,
    Measurement,
    PastDrug,
    Patient,
    Period,
    PrimarySource,
    Quantity,
    RelatednessAssessment,
    Sender,
    Study,
    Substance,
)
from riskplan.cases.synth_data import (
    COMPANY,
    COUNTRIES,
    PROFILES,
    STUDIES,
    SUBSTANCE,
    Concomitant,
    Country,
    StudyInfo,
    Term,
    Weighted,
)

M = TypeVar("M", bound=BaseModel)

#: The ICH minimum criterion an invalid case misses: no identifiable reporter, no identifiable patient,
#: no adverse reaction. A "reaction" case has no E.i at all, which E2B(R3) cannot transmit (export
#: refuses it); leave it out of ``invalid_kinds`` when the cases must round-trip through XML.
INVALID_KINDS: Final = ("reporter", "patient", "reaction")
INVALID_WEIGHTS: Final = {"reporter": 45.0, "patient": 45.0, "reaction": 10.0}

# Shares of special case kinds among valid cases (modelling choices; RMP missing information).
KINDS: Final = Weighted(
    [("regular", 97.7), ("pregnancy", 1.5), ("neonate", 0.3), ("lactation-mother", 0.35), ("lactation-infant", 0.15)]
)
FEMALE_SHARE: Final = 0.84  # NMOSD: ~9:1 female among AQP4-IgG+ patients; male reports a little likelier
SEX_UNKNOWN_SHARE: Final = 0.02
ELDERLY_SHARE: Final = 0.08  # RMP missing information: patients > 65 years
AGE_GROUP_ONLY_SHARE: Final = 0.04
MISSPELLING_SHARE: Final = 0.015
NATIVE_SHARE: Final = 0.35  # of reactions from non-English-speaking countries with a translation table entry
#: G.k.8 when a patient on UPLIZNA is found pregnant: treatment is usually paused (modelling choice).
PREGNANCY_ACTIONS: Final = Weighted(
    [
        (ActionTaken.WITHDRAWN, 35.0),
        (ActionTaken.UNKNOWN, 35.0),
        (ActionTaken.NOT_APPLICABLE, 20.0),
        (ActionTaken.DOSE_NOT_CHANGED, 10.0),
    ]
)
FOLLOWED_UP_SHARE: Final = 0.2  # cases whose stored version already has later information (C.1.5 > C.1.4)
MAINTENANCE_DAYS: Final = 182  # "every 6 months"
GATEWAY_RUNS: Final = (6 * 60 + 15, 10 * 60 + 30, 14 * 60 + 15, 18 * 60 + 45)  # minutes after midnight
DOSE: Final = Quantity(value=Decimal(300), unit="mg")
SIX_MONTHS: Final = Period(value=Decimal(6), unit="mo")
DOSE_FORM: Final = "Concentrate for solution for infusion"
IV_ROUTE: Final = "Intravenous use"
HCP_QUALIFICATIONS: Final = frozenset(
    {Qualification.PHYSICIAN, Qualification.PHARMACIST, Qualification.OTHER_HEALTH_PROFESSIONAL}
)
QUALIFICATION_WORDS: Final = {
    Qualification.PHYSICIAN: "a physician",
    Qualification.PHARMACIST: "a pharmacist",
    Qualification.OTHER_HEALTH_PROFESSIONAL: "a nurse",
    Qualification.CONSUMER: "the patient (consumer)",
}
SENDER: Final = Sender(
    sender_type=SenderType.PHARMACEUTICAL_COMPANY,
    organisation=COMPANY,
    department="Global Patient Safety",
    # the contact person, state, telephone and fax FDA requires of every sender (C.3.3.2-C.3.3.5, C.3.4.3,
    # C.3.4.6, C.3.4.7: FDA ICSR data elements, Required); fictional, like the company
    title="Dr",
    given_name="Ada",
    family_name="Example",
    street="1 Example Square",
    city="Amsterdam",
    state="Noord-Holland",
    postcode="1000 AA",
    country="NL",
    telephone="+31 20 000 0000",
    fax="+31 20 000 0001",
    email="drugsafety@riskplan-demo.example",
)
SUBSTANCES: Final = (Substance(name=SUBSTANCE, strength=Quantity(value=Decimal(10), unit="mg/mL")),)


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
class When:
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
    route: str = IV_ROUTE
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
# Small shared helpers
# --------------------------------------------------------------------------------------------------


@lru_cache(maxsize=16384)
def day_stamp(value: dt.date) -> Hl7Timestamp:
    return Hl7Timestamp(value.strftime("%Y%m%d"))


@lru_cache(maxsize=1024)
def _month(year: int, month: int) -> Hl7Timestamp:
    return Hl7Timestamp(f"{year:04d}{month:02d}")


@lru_cache(maxsize=16384)
def created_stamp(latest: dt.date, minutes: int) -> Hl7Timestamp:
    """C.1.2 (to the second, as FDA requires): ``minutes`` after midnight of C.1.5."""
    return Hl7Timestamp.from_datetime(dt.datetime.combine(latest, dt.time()) + dt.timedelta(minutes=minutes))


def ts(value: dt.date, precision: str = "day", minute: int = 0) -> Hl7Timestamp:
    if precision == "month":
        return _month(value.year, value.month)
    if precision == "minute":
        return Hl7Timestamp(f"{value:%Y%m%d}{minute // 60:02d}{minute % 60:02d}")
    return day_stamp(value)


@lru_cache(maxsize=4096)
def quantity(value: int, unit: str) -> Quantity:
    return Quantity(value=Decimal(value), unit=unit)


@lru_cache(maxsize=4096)
def measure(value: Decimal, unit: str | None) -> Measurement:
    return Measurement(value=value, unit=unit)


@lru_cache(maxsize=64)
def indications_of(text: str) -> tuple[Indication, ...]:
    return (Indication(text=text),)


@lru_cache(maxsize=64)
def assessment(source: str, result: str) -> RelatednessAssessment:
    return RelatednessAssessment(source=source, method="Global introspection", result=result)


@lru_cache(maxsize=64)
def past_drug(name: str) -> PastDrug:
    return PastDrug(name=name)


@lru_cache(maxsize=64)
def concomitant_parts(c: Concomitant) -> tuple[tuple[Substance, ...], tuple[Dosage, ...], tuple[Indication, ...]]:
    period = Period(value=Decimal(c.period[0]), unit=c.period[1]) if c.period else None
    dosage = Dosage(dose=Quantity(value=Decimal(c.dose), unit=c.unit), period=period, route_text=c.route, text=c.text)
    return (Substance(name=c.substance),), (dosage,), indications_of(c.indication)


@lru_cache(maxsize=8)
def study_of(info: StudyInfo) -> Study:
    kind = StudyType.CLINICAL_TRIAL if info.clinical_trial else StudyType.OTHER_STUDY
    return Study(name=info.name, sponsor_study_number=info.sponsor_number, study_type=kind)


@lru_cache(maxsize=32)
def consumer_source(country: str) -> PrimarySource:
    return PrimarySource(
        given_name_null_flavor=NullFlavor.MSK,
        family_name_null_flavor=NullFlavor.MSK,
        country=country,
        qualification=Qualification.CONSUMER,
        primary_for_regulatory_purposes=True,
    )


ANONYMOUS: Final = PrimarySource(
    given_name_null_flavor=NullFlavor.ASKU,
    family_name_null_flavor=NullFlavor.ASKU,
    country_null_flavor=NullFlavor.UNK,
    qualification_null_flavor=NullFlavor.UNK,
    primary_for_regulatory_purposes=True,
)
UNIDENTIFIED_PATIENT: Final = Patient(
    name_null_flavor=NullFlavor.UNK,
    sex_null_flavor=NullFlavor.UNK,
    age_group_null_flavor=NullFlavor.UNK,
    medical_history_text_null_flavor=NullFlavor.UNK,
)


_UUID_CLEAR: Final = ~((0xF000 << 64) | (0xC000 << 48))  # version nibble and variant bits
_UUID_SET: Final = (4 << 76) | (0x8000 << 48)  # version 4, RFC 4122 variant


def uid(rng: random.Random) -> str:
    """A random (version 4) UUID from ``rng``: the text of ``uuid.UUID(int=..., version=4)``, made faster."""
    h = f"{(rng.getrandbits(128) & _UUID_CLEAR) | _UUID_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def days_of(value: int) -> dt.timedelta:
    return dt.timedelta(days=value)


def clip(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


def dec(value: float, places: int) -> Decimal:
    return Decimal(f"{value:.{places}f}")


@lru_cache(maxsize=16384)
def fmt(value: dt.date, precision: str = "day") -> str:
    return value.strftime("%b-%Y" if precision == "month" else "%d-%b-%Y").upper()


def infusion_offset(index: int) -> int:
    """Days from day 1 to infusion ``index`` (0 = day 1, 1 = day 15, 2 = month 6, 3 = month 12 ...)."""
    return 0 if index == 0 else 14 if index == 1 else MAINTENANCE_DAYS * (index - 1)


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def lot_at(day: dt.date, rng: random.Random) -> str:
    """The batch in use at ``day``: a new lot every two months, two in parallel."""
    return f"IB{day.year % 100:02d}{(day.month + 1) // 2:02d}{rng.choice('AB')}{rng.randint(1, 9)}"


# --------------------------------------------------------------------------------------------------
# Drawing specs
# --------------------------------------------------------------------------------------------------

COUNTRY_CHOICE: Final = Weighted([(c, c.weight) for c in COUNTRIES])
PROFILE_CHOICE: Final = Weighted([(p, p.weight) for p in PROFILES])
TOTAL_COUNTRY_WEIGHT: Final = sum(c.weight for c in COUNTRIES)


def _study_share(info: StudyInfo, country: str) -> float:
    """P(study | country) so that the study holds ``info.share`` per cent of all regular cases."""
    if country not in info.countries:
        return 0.0
    weight = sum(c.weight for c in COUNTRIES if c.code in info.countries) / TOTAL_COUNTRY_WEIGHT
    return info.share / 100.0 / weight


#: Per country: the studies its cases can come from, with P(study | country).
STUDIES_BY_COUNTRY: Final = {
    c.code: tuple((info, share) for info in STUDIES if (share := _study_share(info, c.code)) > 0) for c in COUNTRIES
}


@dataclass
class Draw:
    """The state of drawing one synthetic set: the one random stream every draw takes from, in a fixed order
    (the same arguments give the same cases, down to every UUID), the set's parameters, and the pooled
    reporters built so far (one ``random.Random`` per reporter, so a reporter is the same in every set)."""

    rng: random.Random
    seed: int
    count: int
    start: dt.date
    end: dt.date
    kinds: tuple[str, ...]
    reporters: dict[tuple[str, Qualification, int], PrimarySource] = field(default_factory=dict)
