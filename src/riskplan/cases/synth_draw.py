"""Synthetic ICSRs, step 2: drawing a regular case: who reports, the patient, the therapy, the events,
concomitant drugs and lab results (internal to :mod:`riskplan.cases.synth`; every draw takes from ``Draw.rng``
in a fixed order)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from decimal import Decimal

from riskplan.cases.codes import (
    ActionTaken,
    AgeGroup,
    Outcome,
    Qualification,
    ReportType,
    Sex,
)
from riskplan.cases.synth_data import (
    BACKGROUND,
    BACKGROUND_SHARE,
    COMORBIDITIES,
    IMMUNOSUPPRESSANT_SHARE,
    IMMUNOSUPPRESSANTS,
    INDICATIONS,
    INITIAL_LETTERS,
    MALIGNANCY,
    MISSPELLINGS,
    NATIVE_TERMS,
    OTHER_CONCOMITANTS,
    PAST_DRUGS,
    PREMEDICATION_EU,
    PREMEDICATION_US,
    PRODUCT,
    SPONTANEOUS_QUALIFICATIONS,
    STUDY_QUALIFICATIONS,
    SUBSTANCE,
    Concomitant,
    Country,
    Profile,
    StudyInfo,
    Term,
)
from riskplan.cases.synth_labs import (
    LAB_MAKERS,
)
from riskplan.cases.synth_specs import (
    AGE_GROUP_ONLY_SHARE,
    COUNTRY_CHOICE,
    ELDERLY_SHARE,
    FEMALE_SHARE,
    FOLLOWED_UP_SHARE,
    GATEWAY_RUNS,
    HCP_QUALIFICATIONS,
    MISSPELLING_SHARE,
    NATIVE_SHARE,
    PROFILE_CHOICE,
    SEX_UNKNOWN_SHARE,
    STUDIES_BY_COUNTRY,
    TOTAL_COUNTRY_WEIGHT,
    CaseSpec,
    Draw,
    EventSpec,
    LabSpec,
    PatientSpec,
    TherapySpec,
    When,
    clip,
    days_of,
    dec,
    infusion_offset,
    lot_at,
)

# --------------------------------------------------------------------------------------------------
# A regular case
# --------------------------------------------------------------------------------------------------


def draw_received(d: Draw) -> dt.date:
    """C.1.4: reports grow with exposure (density rising 60% over the period), fewer at weekends."""
    rng, span = d.rng, (d.end - d.start).days
    k = 0.6
    x = (math.sqrt(1 + 2 * k * rng.random() * (1 + k / 2)) - 1) / k
    day = d.start + days_of(round(x * span))
    if day.weekday() >= 5 and rng.random() < 0.8:
        day += days_of(7 - day.weekday())
    return min(day, d.end)


def draw_report(d: Draw, country: Country) -> tuple[ReportType, StudyInfo | None, Qualification]:
    rng, u = d.rng, d.rng.random()
    for info, share in STUDIES_BY_COUNTRY[country.code]:
        u -= share
        if u < 0:
            if info.key == "psp":
                qualification = rng.choice((Qualification.CONSUMER, Qualification.OTHER_HEALTH_PROFESSIONAL))
            else:
                qualification = STUDY_QUALIFICATIONS.pick(rng)
            return ReportType.STUDY, info, qualification
    return ReportType.SPONTANEOUS, None, SPONTANEOUS_QUALIFICATIONS.pick(rng)


def draw_reporter_index(d: Draw, country: Country, qualification: Qualification) -> int:
    if qualification not in HCP_QUALIFICATIONS:
        return 0
    expected = d.count * country.weight / TOTAL_COUNTRY_WEIGHT * 0.68
    return d.rng.randrange(int(clip(expected / 5, 3, 5000)))


def draw_reporting_delay(d: Draw, qualification: Qualification, serious: bool, study: StudyInfo | None) -> int:
    """Days from onset to receipt: log-normal, median 10 days (HCP) / 21 (consumer), faster if serious."""
    median = 5.0 if study is not None else 10.0 if qualification in HCP_QUALIFICATIONS else 21.0
    median *= 0.6 if serious else 1.0
    return int(clip(d.rng.lognormvariate(math.log(median), 0.9), 0, 365))


def draw_latest(d: Draw, received: dt.date) -> dt.date:
    if d.rng.random() >= FOLLOWED_UP_SHARE:
        return received
    return min(d.end, received + days_of(d.rng.randint(3, 60)))


def draw_regular(d: Draw) -> CaseSpec:
    rng = d.rng
    country = COUNTRY_CHOICE.pick(rng)
    report_type, study, qualification = draw_report(d, country)
    profile = PROFILE_CHOICE.pick(rng)
    patient = draw_adult(d, country, study, profile)
    index_criteria = draw_criteria(d, profile)
    received = draw_received(d)
    onset = received - days_of(draw_reporting_delay(d, qualification, bool(index_criteria), study))
    course, onset_delay = draw_course(d, profile)
    therapy = draw_therapy(d, country, qualification, onset - days_of(onset_delay), course, profile, index_criteria)
    patient = draw_birth_date(d, patient, country, onset)
    latest = draw_latest(d, received)
    events = draw_events(d, profile, patient, qualification, onset, latest, index_criteria)
    events = draw_localised(d, events, country)
    return CaseSpec(
        kind="regular",
        profile=profile.key,
        country=country,
        report_type=report_type,
        study=study,
        qualification=qualification,
        reporter=draw_reporter_index(d, country, qualification),
        received=received,
        latest=latest,
        created_delay=draw_created_delay(d),
        patient=patient,
        therapy=therapy,
        events=events,
        concomitants=draw_concomitants(d, country, profile),
        labs=draw_labs(d, profile, country, onset, latest),
    )


def draw_initials(d: Draw) -> str:
    letters = 3 if d.rng.random() < 0.15 else 2
    return "".join(d.rng.choice(INITIAL_LETTERS) for _ in range(letters))


def draw_sex(d: Draw) -> Sex | None:
    u = d.rng.random()
    return None if u < SEX_UNKNOWN_SHARE else Sex.FEMALE if u < SEX_UNKNOWN_SHARE + FEMALE_SHARE else Sex.MALE


def draw_adult_age(d: Draw) -> int:
    if d.rng.random() < ELDERLY_SHARE:
        return d.rng.randint(66, 84)
    return round(clip(d.rng.gauss(43, 12), 18, 65))


def draw_body(d: Draw, sex: Sex | None) -> tuple[Decimal | None, int | None]:
    rng = d.rng
    male = sex is Sex.MALE
    weight = dec(clip(rng.gauss(82 if male else 68, 14), 42, 150), 0) if rng.random() < 0.65 else None
    height = round(clip(rng.gauss(178 if male else 165, 7), 145, 200)) if rng.random() < 0.35 else None
    return weight, height


def draw_history(d: Draw, diagnosed: int, profile: Profile | None = None) -> str:
    rng = d.rng
    parts = [f"Neuromyelitis optica spectrum disorder (AQP4-IgG seropositive) diagnosed in {diagnosed}"]
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        comorbidity = COMORBIDITIES.pick(rng)
        if comorbidity not in parts:
            parts.append(comorbidity)
    if profile is not None and profile.key == "hbv-reactivation":
        parts.append("hepatitis B core antibody positive and HBsAg negative at screening")
    return "; ".join(parts) + "."


def draw_adult(d: Draw, country: Country, study: StudyInfo | None, profile: Profile | None) -> PatientSpec:
    rng = d.rng
    sex = draw_sex(d)
    age = draw_adult_age(d)
    weight, height = draw_body(d, sex)
    only_group = rng.random() < AGE_GROUP_ONLY_SHARE
    group = (AgeGroup.ELDERLY if age > 65 else AgeGroup.ADULT) if only_group else None
    pasts = tuple(dict.fromkeys(PAST_DRUGS.pick(rng) for _ in range(rng.randint(1, 2)))) if rng.random() < 0.3 else ()
    return PatientSpec(
        initials=None if rng.random() < 0.05 else draw_initials(d),
        sex=sex,
        age=None if only_group else age,
        age_group=group,
        weight=weight,
        height=height,
        birth_date=None,  # filled in below when given (needs the onset)
        history=draw_history(d, d.start.year - rng.randint(1, 15), profile) if rng.random() < 0.85 else None,
        past_drugs=pasts,
        investigation_number=f"{study.subject_prefix}-{rng.randint(1, 60):03d}-{rng.randint(1, 999):04d}"
        if study is not None
        else None,
    )


def draw_birth_date(d: Draw, patient: PatientSpec, country: Country, onset: dt.date) -> PatientSpec:
    """D.2.1 for some patients (US reports more often give it): consistent with the age at onset."""
    if patient.age is None or d.rng.random() >= (0.25 if country.code == "US" else 0.05):
        return patient
    birth = onset - days_of(round(365.25 * patient.age) + d.rng.randint(1, 360))
    return replace(patient, birth_date=birth)


def draw_created_delay(d: Draw) -> int:
    """Minutes from midnight of C.1.5 to C.1.2: one to seven days later, at a run of the E2B gateway."""
    return d.rng.randint(1, 7) * 24 * 60 + d.rng.choice(GATEWAY_RUNS)


def draw_course(d: Draw, profile: Profile) -> tuple[int, int]:
    """Which infusion the index event follows (0 = day 1) and the days from it to the onset."""
    rng = d.rng
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


def draw_therapy(
    d: Draw,
    country: Country,
    qualification: Qualification,
    last: dt.date,
    course: int,
    profile: Profile | None,
    criteria: str,
) -> TherapySpec:
    rng = d.rng
    while course > 0 and last - days_of(infusion_offset(course)) < country.market_start:
        course -= 1
    first = last - days_of(infusion_offset(course))
    u = rng.random()
    consumer = qualification is Qualification.CONSUMER
    start_known = "unknown" if u < (0.12 if consumer else 0.03) else "month" if u < 0.2 else "day"
    batch_known = start_known == "day" and rng.random() < (0.4 if consumer else 0.75)
    return TherapySpec(
        first=first,
        infusions=course + 1,
        last=last,
        start_known=start_known,
        batch_first=lot_at(first, rng) if batch_known else None,
        batch_last=lot_at(last, rng) if batch_known and course > 1 else None,
        name=draw_product_name(d, country),
        indication=INDICATIONS.pick(rng),
        action=draw_action(d, profile, criteria),
    )


def draw_product_name(d: Draw, country: Country) -> str:
    u = d.rng.random()
    if u < 0.80:
        return PRODUCT
    if u < 0.90:
        return "Uplizna"
    if u < 0.95:
        return SUBSTANCE
    return "Uplizna (inebilizumab-cdon)" if country.code == "US" else "UPLIZNA 100 mg concentrate for solution"


def draw_action(d: Draw, profile: Profile | None, criteria: str) -> ActionTaken:
    rng = d.rng
    if "D" in criteria:
        return ActionTaken.NOT_APPLICABLE
    if profile is not None and rng.random() < profile.withdrawn:
        return ActionTaken.WITHDRAWN
    u = rng.random()
    return ActionTaken.DOSE_NOT_CHANGED if u < 0.55 else ActionTaken.UNKNOWN if u < 0.85 else ActionTaken.NOT_APPLICABLE


def draw_criteria(d: Draw, profile: Profile) -> str:
    rng = d.rng
    if rng.random() >= profile.serious:
        return ""
    criteria = profile.criteria.pick(rng)
    return "D" + criteria if profile.fatal and rng.random() < profile.fatal else criteria


def draw_index_term(d: Draw, profile: Profile, patient: PatientSpec) -> Term:
    for _ in range(6):
        candidate = profile.terms.pick(d.rng)
        if candidate.sex is None or patient.sex is None or candidate.sex == ("F" if patient.sex is Sex.FEMALE else "M"):
            return candidate
    return MALIGNANCY


def draw_events(
    d: Draw,
    profile: Profile,
    patient: PatientSpec,
    qualification: Qualification,
    onset: dt.date,
    latest: dt.date,
    criteria: str,
) -> tuple[EventSpec, ...]:
    """The index event, the companions the profile brings along, now and then an unrelated extra one."""
    rng = d.rng
    index = draw_index_term(d, profile, patient)
    outcome = Outcome.FATAL if "D" in criteria else profile.outcomes.pick(rng)
    terms: list[tuple[Term, str, Outcome]] = [(index, criteria, outcome)]
    companion_outcome = Outcome.UNKNOWN if outcome is Outcome.FATAL else outcome
    for companion in profile.companions:
        if rng.random() < companion.probability:
            shared = criteria.replace("D", "") if companion.serious_with_index else ""
            terms.append((companion.term, shared, companion_outcome))
    if rng.random() < BACKGROUND_SHARE:
        terms.append((BACKGROUND.pick(rng), "", profile.outcomes.pick(rng)))
    when = When(onset, draw_precision(d, profile, qualification), rng.randint(9 * 60, 16 * 60))
    seen: set[str] = set()
    events = []
    for item, item_criteria, item_outcome in terms:
        if item.pt not in seen:
            seen.add(item.pt)
            events.append(draw_event(d, item, item_criteria, item_outcome, profile, qualification, when, latest))
    return tuple(events)


def draw_precision(d: Draw, profile: Profile, qualification: Qualification) -> str:
    """Infusion reactions are often timed to the minute; consumers often give only the month."""
    u = d.rng.random()
    if profile.onset_days == (0, 0) and u < 0.35:
        return "minute"
    return "month" if u < (0.2 if qualification is Qualification.CONSUMER else 0.05) else "day"


def draw_verbatim(d: Draw, item: Term) -> str:
    """The reporter's words in English: a synonym from the open term list, now and then misspelt."""
    rng = d.rng
    misspelt = MISSPELLINGS.get(item.pt)
    if misspelt and rng.random() < MISSPELLING_SHARE:
        return rng.choice(misspelt)
    return rng.choice(item.verbatims)


def draw_localised(d: Draw, events: tuple[EventSpec, ...], country: Country) -> tuple[EventSpec, ...]:
    """Some reports from non-English-speaking countries keep the reporter's own words (E.i.1.1a) and carry
    the English translation in E.i.1.2: only when every event of the case has a translation."""
    language = country.language
    if language is None or not events or d.rng.random() >= NATIVE_SHARE:
        return events
    natives = [NATIVE_TERMS.get(e.term.pt, {}).get(language) for e in events]
    if any(native is None for native in natives):
        return events
    return tuple(replace(e, native=n, language=language) for e, n in zip(events, natives, strict=True))


def draw_event(
    d: Draw,
    item: Term,
    criteria: str,
    outcome: Outcome,
    profile: Profile,
    qualification: Qualification,
    when: When,
    latest: dt.date,
) -> EventSpec:
    rng = d.rng
    consumer = qualification is Qualification.CONSUMER
    end = None
    resolved = outcome in (Outcome.RECOVERED, Outcome.RECOVERED_WITH_SEQUELAE, Outcome.FATAL)
    if resolved and when.precision != "month":
        end = when.onset + days_of(rng.randint(*profile.duration_days))
        if end > latest:
            end = None if outcome is not Outcome.FATAL else latest
            outcome = Outcome.RECOVERING if outcome is not Outcome.FATAL else outcome
    short = profile.onset_days == (0, 0) and end is not None and rng.random() < 0.5
    return EventSpec(
        term=item,
        verbatim=draw_verbatim(d, item),
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


def draw_concomitants(d: Draw, country: Country, profile: Profile) -> tuple[Concomitant, ...]:
    rng = d.rng
    chosen: list[Concomitant] = []
    premedication_share = 0.7 if profile.first_infusion else 0.15
    if rng.random() < premedication_share:
        premedication = PREMEDICATION_US if country.code == "US" else PREMEDICATION_EU
        chosen += [c for c in premedication if rng.random() < 0.85]
    if rng.random() < IMMUNOSUPPRESSANT_SHARE:
        chosen.append(IMMUNOSUPPRESSANTS.pick(rng))
    chosen += [c for c, share in OTHER_CONCOMITANTS if rng.random() < share]
    return tuple(dict.fromkeys(chosen))


def draw_labs(d: Draw, profile: Profile, country: Country, onset: dt.date, latest: dt.date) -> tuple[LabSpec, ...]:
    if profile.lab is None or d.rng.random() >= profile.lab_probability:
        return ()
    day = min(onset + days_of(d.rng.randint(0, 3)), latest)
    return LAB_MAKERS[profile.lab](d.rng, day, country.code == "US")
