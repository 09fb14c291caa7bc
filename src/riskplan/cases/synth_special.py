"""Synthetic ICSRs, step 3: the special kinds (pregnancy, neonate, lactation) and the cases a validity step
and a duplicate detector must find: invalid cases and second reports (internal to :mod:`riskplan.cases.synth`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from riskplan.cases.codes import (
    ActionTaken,
    AgeGroup,
    Outcome,
    Qualification,
    ReportType,
    Sex,
)
from riskplan.cases.synth_data import (
    B_CELLS_DECREASED,
    BACKGROUND,
    BREAST_FEEDING,
    BREAST_MILK,
    EXPOSURE_PREGNANCY,
    FOETAL_EXPOSURE,
    FOLIC_ACID,
    MATERNAL_EXPOSURE_PREGNANCY,
    MISCARRIAGE,
    NEONATAL_NEUTROPENIA,
    PREGNANCY_REGISTRY,
    PRETERM,
    SPONTANEOUS_QUALIFICATIONS,
    Concomitant,
    Country,
    StudyInfo,
    Term,
    Weighted,
)
from riskplan.cases.synth_draw import (
    draw_adult,
    draw_created_delay,
    draw_initials,
    draw_received,
    draw_reporter_index,
    draw_therapy,
    draw_verbatim,
)
from riskplan.cases.synth_labs import (
    b_cells,
    neutrophils_neonate,
)
from riskplan.cases.synth_specs import (
    COUNTRY_CHOICE,
    HCP_QUALIFICATIONS,
    PREGNANCY_ACTIONS,
    CaseSpec,
    Draw,
    EventSpec,
    LabSpec,
    ParentSpec,
    PatientSpec,
    TherapySpec,
    clip,
    days_of,
    dec,
    fmt,
)

# --------------------------------------------------------------------------------------------------
# Special kinds, invalid cases and duplicates
# --------------------------------------------------------------------------------------------------


def draw_special(
    d: Draw,
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
        reporter=draw_reporter_index(d, country, qualification),
        received=received,
        latest=received,
        created_delay=draw_created_delay(d),
        patient=patient,
        therapy=therapy,
        events=events,
        concomitants=concomitants,
        labs=labs,
        note=note,
    )


def draw_pregnancy_reporter(d: Draw, country: Country) -> tuple[StudyInfo | None, Qualification]:
    rng = d.rng
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


def draw_simple_event(d: Draw, item: Term, onset: dt.date, outcome: Outcome, criteria: str = "") -> EventSpec:
    return EventSpec(
        term=item,
        verbatim=draw_verbatim(d, item),
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


def draw_pregnancy(d: Draw) -> CaseSpec:
    rng = d.rng
    country = COUNTRY_CHOICE.pick(rng)
    study, qualification = draw_pregnancy_reporter(d, country)
    received = draw_received(d)
    outcome_event = rng.random() < 0.12  # reported with a pregnancy outcome: miscarriage or preterm birth
    miscarriage = outcome_event and rng.random() < 0.6
    weeks_at_report = (
        rng.randint(9, 20) if miscarriage else rng.randint(31, 36) if outcome_event else rng.randint(5, 34)
    )
    lmp = received - days_of(weeks_at_report * 7 + rng.randint(0, 6))
    conception = lmp + days_of(14)
    last = min(conception + days_of(rng.randint(-170, 60)), received - days_of(1))
    therapy = draw_therapy(d, country, qualification, last, 1 + rng.randint(0, 4), None, "")
    therapy = replace(therapy, action=PREGNANCY_ACTIONS.pick(rng))
    patient = replace(
        draw_adult(d, country, study, None),
        sex=Sex.FEMALE,
        age=rng.randint(19, 44),
        age_group=None,
        lmp=lmp,
        birth_date=None,
    )
    exposure = EXPOSURE_PREGNANCY if rng.random() < 0.85 else MATERNAL_EXPOSURE_PREGNANCY
    status = Outcome.UNKNOWN if rng.random() < 0.6 else Outcome.NOT_RECOVERED
    events = [draw_simple_event(d, exposure, max(last, conception), status)]
    if outcome_event:
        item, criteria = (MISCARRIAGE, "M") if miscarriage else (PRETERM, "H" if rng.random() < 0.3 else "")
        events.append(draw_simple_event(d, item, received - days_of(rng.randint(1, 10)), Outcome.RECOVERED, criteria))
    gestation = (max(last, lmp) - lmp).days // 7
    note = f"Last menstrual period {fmt(lmp)}; the last UPLIZNA infusion on {fmt(last)} was " + (
        f"in gestational week {gestation}." if last >= lmp else f"{(lmp - last).days} days before the LMP."
    )
    concomitants = (FOLIC_ACID,) if rng.random() < 0.5 else ()
    return draw_special(
        d,
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


def draw_parent(d: Draw, lmp: dt.date) -> ParentSpec:
    rng = d.rng
    weight = rng.randint(55, 95) if rng.random() < 0.5 else None
    return ParentSpec(initials=draw_initials(d), age=rng.randint(21, 42), lmp=lmp, weight=weight)


def draw_neonate(d: Draw) -> CaseSpec:
    rng = d.rng
    country = COUNTRY_CHOICE.pick(rng)
    study = PREGNANCY_REGISTRY if country.code == "US" and rng.random() < 0.4 else None
    qualification = Qualification.PHYSICIAN if study or rng.random() < 0.8 else Qualification.OTHER_HEALTH_PROFESSIONAL
    received = draw_received(d)
    age_days = rng.randint(1, 28)
    onset = received - days_of(rng.randint(1, 40))
    birth = onset - days_of(age_days)
    weeks_at_birth = rng.randint(33, 36) if rng.random() < 0.15 else rng.randint(37, 41)
    lmp = birth - days_of(weeks_at_birth * 7)
    exposure_week = rng.randint(4, min(30, weeks_at_birth - 1))
    last = lmp + days_of(exposure_week * 7)
    therapy = replace(
        draw_therapy(d, country, qualification, last, 1 + rng.randint(0, 4), None, ""),
        route="Transplacental",
        gestation_weeks=exposure_week,
        action=ActionTaken.NOT_APPLICABLE,
    )
    patient = PatientSpec(
        initials=draw_initials(d),
        sex=rng.choice((Sex.FEMALE, Sex.MALE)),
        age=age_days,
        age_unit="d",
        age_group=AgeGroup.NEONATE,
        weight=dec(clip(rng.gauss(3.2, 0.45), 1.9, 4.4), 2),
        height=rng.randint(45, 54) if rng.random() < 0.5 else None,
        birth_date=birth,
        parent=draw_parent(d, lmp),
    )
    outcome = Weighted(
        [
            (Outcome.RECOVERING, 40.0),
            (Outcome.RECOVERED, 25.0),
            (Outcome.NOT_RECOVERED, 20.0),
            (Outcome.UNKNOWN, 15.0),
        ]
    ).pick(rng)
    events = [draw_simple_event(d, B_CELLS_DECREASED, onset, outcome, "M" if rng.random() < 0.4 else "")]
    labs = [b_cells(rng, onset)]
    if rng.random() < 0.6:
        events.append(draw_simple_event(d, FOETAL_EXPOSURE, last, Outcome.UNKNOWN))
    if rng.random() < 0.15:
        events.append(draw_simple_event(d, NEONATAL_NEUTROPENIA, onset, Outcome.RECOVERING))
        labs.append(neutrophils_neonate(rng, onset))
    note = (
        f"The mother received UPLIZNA during pregnancy (last infusion in gestational week {exposure_week}); "
        f"the infant was born on {fmt(birth)} at {weeks_at_birth} weeks of gestation."
    )
    return draw_special(
        d, "neonate", country, qualification, study, received, patient, therapy, tuple(events), note, labs=tuple(labs)
    )


def draw_lactation(d: Draw, kind: str) -> CaseSpec:
    rng = d.rng
    country = COUNTRY_CHOICE.pick(rng)
    qualification = SPONTANEOUS_QUALIFICATIONS.pick(rng)
    received = draw_received(d)
    last = received - days_of(rng.randint(3, 60))
    therapy = draw_therapy(d, country, qualification, last, 2 + rng.randint(0, 4), None, "")
    infant_months = rng.randint(1, 11)
    if kind == "lactation-mother":
        patient = replace(draw_adult(d, country, None, None), sex=Sex.FEMALE, age=rng.randint(22, 42), age_group=None)
        events = (draw_simple_event(d, BREAST_FEEDING, last, Outcome.UNKNOWN),)
        note = f"The patient was breast-feeding her {infant_months}-month-old infant at the time of the infusion."
    else:
        patient = PatientSpec(
            initials=draw_initials(d),
            sex=rng.choice((Sex.FEMALE, Sex.MALE)),
            age=infant_months,
            age_unit="mo",
            age_group=AgeGroup.INFANT,
            weight=dec(clip(4.5 + 0.5 * infant_months + rng.gauss(0, 0.8), 3, 12), 1),
            parent=draw_parent(d, last - days_of(280 + 30 * infant_months)),
        )
        therapy = replace(therapy, route="Transmammary", action=ActionTaken.NOT_APPLICABLE)
        events = (draw_simple_event(d, BREAST_MILK, last, Outcome.UNKNOWN),)
        note = "The infant was breast-fed while the mother received UPLIZNA; no adverse effect was reported."
    return draw_special(d, kind, country, qualification, None, received, patient, therapy, events, note)


def draw_make_invalid(d: Draw, spec: CaseSpec, kind: str) -> CaseSpec:
    if kind == "reporter":
        note = "Anonymous call to the medical information line; the caller declined to give any contact details."
        return replace(spec, invalid=kind, note=note, report_type=ReportType.SPONTANEOUS, study=None)
    if kind == "patient":
        note = "The reporter could not give any details identifying the patient."
        return replace(spec, invalid=kind, note=note, patient=PatientSpec(initials=None, sex=None, age=None))
    note = "The reporter asked the medical information service about UPLIZNA; no adverse event was described."
    return replace(spec, invalid=kind, note=note, events=(), labs=(), report_type=ReportType.SPONTANEOUS, study=None)


def draw_duplicate(d: Draw, original: CaseSpec) -> CaseSpec:
    """The same patient and events reported again by someone else, a few days later."""
    rng = d.rng
    qualification = draw_other_qualification(d, original.qualification)
    received = min(d.end, original.received + days_of(rng.randint(2, 21)))
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
        reporter=draw_reporter_index(d, original.country, qualification),
        received=received,
        latest=received,
        patient=replace(patient, investigation_number=None),
        events=draw_duplicate_events(d, original, received),
        concomitants=tuple(c for c in original.concomitants if rng.random() < 0.7),
        labs=tuple(lab for lab in original.labs if lab.date <= received) if qualification in HCP_QUALIFICATIONS else (),
        therapy=replace(original.therapy, batch_first=None, batch_last=None)
        if qualification is Qualification.CONSUMER
        else original.therapy,
    )


def draw_other_qualification(d: Draw, original: Qualification) -> Qualification:
    if original is Qualification.CONSUMER:
        return Qualification.PHYSICIAN if d.rng.random() < 0.6 else Qualification.OTHER_HEALTH_PROFESSIONAL
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
    return Qualification.CONSUMER if d.rng.random() < 0.5 else d.rng.choice(others)


def draw_duplicate_events(d: Draw, original: CaseSpec, received: dt.date) -> tuple[EventSpec, ...]:
    """The second reporter's account: in their own (English) words, an event more or less, dates a day off."""
    rng = d.rng
    index, *rest = original.events
    if rest and rng.random() < 0.35:
        rest.pop(rng.randrange(len(rest)))
    extra = BACKGROUND.pick(rng)
    if rng.random() < 0.3 and all(e.term.pt != extra.pt for e in original.events):
        rest.append(replace(index, term=extra, verbatim=extra.verbatims[0], criteria="", outcome=Outcome.UNKNOWN))
    shift = rng.choice((-2, -1, 1, 2)) if rng.random() < 0.25 else 0
    return tuple(draw_retold(d, event, received, shift) for event in (index, *rest))


def draw_retold(d: Draw, event: EventSpec, received: dt.date, shift: int) -> EventSpec:
    misspelt = event.verbatim not in event.term.verbatims
    verbatim = event.verbatim if misspelt or d.rng.random() < 0.4 else d.rng.choice(event.term.verbatims)
    onset = min(event.onset + days_of(shift), received)
    end, outcome = event.end, event.outcome
    if end is not None and not onset <= end <= received:
        end = None
        if outcome in (Outcome.RECOVERED, Outcome.RECOVERED_WITH_SEQUELAE):
            outcome = Outcome.RECOVERING
    return replace(event, verbatim=verbatim, native=None, language="eng", onset=onset, end=end, outcome=outcome)
