"""Synthetic ICSRs, step 4: building the validated :class:`~riskplan.cases.model.Icsr` from a spec, with its
narrative (internal to :mod:`riskplan.cases.synth`)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from decimal import Decimal
from typing import Final

from riskplan.cases.codes import (
    DrugRole,
    FirstSender,
    NullFlavor,
    Outcome,
    Qualification,
    Sex,
    TermHighlighted,
)
from riskplan.cases.model import (
    Icsr,
    Patient,
    Period,
    PrimarySource,
)
from riskplan.cases.synth_data import (
    COMPANY,
    COUNTRY_NAMES,
    NAMES,
    Country,
)
from riskplan.cases.synth_specs import (
    ANONYMOUS,
    DOSE,
    DOSE_FORM,
    HCP_QUALIFICATIONS,
    IV_ROUTE,
    MAINTENANCE_DAYS,
    QUALIFICATION_WORDS,
    SENDER,
    SIX_MONTHS,
    SUBSTANCES,
    UNIDENTIFIED_PATIENT,
    CaseSpec,
    Draw,
    EventSpec,
    LabSpec,
    ParentSpec,
    TherapySpec,
    assessment,
    concomitant_parts,
    consumer_source,
    created_stamp,
    day_stamp,
    days_of,
    fmt,
    indications_of,
    measure,
    ordinal,
    past_drug,
    quantity,
    study_of,
    ts,
    uid,
)

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
        return UNIDENTIFIED_PATIENT
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
        fields["age"] = quantity(p.age, p.age_unit)
    if p.weight is not None:
        fields["weight_kg"] = p.weight
    if p.height:
        fields["height_cm"] = Decimal(p.height)
    if spec.concomitants:
        fields["concomitant_therapies"] = True
    if p.past_drugs:
        fields["past_drugs"] = tuple(past_drug(name) for name in p.past_drugs)
    return _rare_patient_fields(spec, fields)


def _rare_patient_fields(spec: CaseSpec, fields: Fields) -> Fields:
    p = spec.patient
    optional: Fields = {
        "investigation_number": p.investigation_number,
        "birth_date": day_stamp(p.birth_date) if p.birth_date else None,
        "age_group": p.age_group,
        "last_menstrual_period": day_stamp(p.lmp) if p.lmp else None,
        "death": _death(spec),
        "parent": _parent(p.parent) if p.parent else None,
    }
    fields.update((name, value) for name, value in optional.items() if value is not None)
    return fields


def _parent(parent: ParentSpec) -> Fields:
    fields: Fields = {
        "identification": parent.initials,
        "age": quantity(parent.age, "a"),
        "last_menstrual_period": day_stamp(parent.lmp),
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
        "date": day_stamp(when),
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
        "start_date": ts(event.onset, event.precision, event.minute),
        "outcome": event.outcome,
        "medical_confirmation": spec.qualification in HCP_QUALIFICATIONS and spec.invalid != "reporter",
    }
    if event.native:
        fields["verbatim_term_english"] = event.verbatim
    if spec.invalid != "reporter":
        fields["country"] = spec.country.code
    if event.end:
        fields["end_date"] = day_stamp(event.end)
    if event.duration_hours:
        fields["duration"] = quantity(event.duration_hours, "h")
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
        assessments.append(assessment("Primary source reporter", event.reporter_related))
    if event.criteria or event.related != "Unassessable":
        assessments.append(assessment(COMPANY, event.related))
    fields: Fields = {"reaction_id": reaction_id, "assessments": tuple(assessments)}
    therapy = spec.therapy
    if therapy.start_known == "day" and event.precision != "month" and therapy.route == IV_ROUTE:
        fields["time_from_last_dose"] = quantity((event.onset - therapy.last).days, "d")
    return fields if assessments or "time_from_last_dose" in fields else None


def _dosage(
    therapy: TherapySpec,
    text: str,
    start: dt.date | None,
    end: dt.date | None = None,
    batch: str | None = None,
    period: Period | None = None,
) -> Fields:
    fields: Fields = {"dose": DOSE, "text": text, "dose_form_text": DOSE_FORM, "route_text": therapy.route}
    if start is None:
        fields["start_date_null_flavor"] = NullFlavor.ASKU
    else:
        fields["start_date"] = ts(start, therapy.start_known)
    if end is not None:
        fields["end_date"] = ts(end, therapy.start_known)
    if batch is not None:
        fields["batch_lot"] = batch
    if period is not None:
        fields["period"] = period
    if therapy.route != IV_ROUTE:
        fields["parent_route_text"] = IV_ROUTE
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
    first_maintenance = therapy.first + days_of(MAINTENANCE_DAYS)
    text = "300 mg IV infusion every 6 months"
    return [loading, _dosage(therapy, text, first_maintenance, therapy.last, therapy.batch_last, SIX_MONTHS)]


def lab_fields(lab: LabSpec) -> Fields:
    fields: Fields = {"date": day_stamp(lab.date), "name": lab.name}
    if lab.code is not None:
        fields["result_code"] = lab.code
    if lab.value is not None:
        fields["result"] = {"value": lab.value, "unit": lab.unit, "comparator": lab.comparator}
    if lab.text is not None:
        fields["result_text"] = lab.text
    if lab.low is not None:
        fields["normal_low"] = measure(lab.low, lab.unit)
    if lab.high is not None:
        fields["normal_high"] = measure(lab.high, lab.unit)
    return fields


def build_icsr(d: Draw, spec: CaseSpec, wid: str) -> Icsr:
    """One validation of the whole case: sub-objects go in as field dicts (see :data:`Fields`)."""
    reaction_ids = [uid(d.rng) for _ in spec.events]
    fields: Fields = {
        "sender_report_id": wid,
        "worldwide_case_id": wid,
        "created": created_stamp(spec.latest, spec.created_delay),
        "report_type": spec.report_type,
        "first_received": day_stamp(spec.received),
        "most_recent_info": day_stamp(spec.latest),
        "local_expedited": any(e.criteria for e in spec.events),
        "first_sender": FirstSender.OTHER,
        "primary_sources": (build_primary_source(d, spec),),
        "sender": SENDER,
        "patient": _patient(spec),
        "reactions": [_reaction(e, spec, i) for e, i in zip(spec.events, reaction_ids, strict=True)],
        "drugs": [build_suspect(d, spec, reaction_ids), *build_concomitant_drugs(d, spec)],
        "narrative": _narrative(spec),
    }
    if spec.study is not None:
        fields["study"] = study_of(spec.study)
    if spec.labs:
        fields["tests"] = [lab_fields(lab) for lab in spec.labs]
    return Icsr.model_validate(fields)


def build_primary_source(d: Draw, spec: CaseSpec) -> PrimarySource:
    if spec.invalid == "reporter":
        return ANONYMOUS
    if spec.qualification not in HCP_QUALIFICATIONS:
        return consumer_source(spec.country.code)
    key = (spec.country.code, spec.qualification, spec.reporter)
    source = d.reporters.get(key)
    if source is None:
        source = _hcp(random.Random(f"{d.seed}:{key[0]}:{key[1].value}:{key[2]}"), spec.country, spec.qualification)
        d.reporters[key] = source
    return source


def build_suspect(d: Draw, spec: CaseSpec, reaction_ids: Sequence[str]) -> Fields:
    therapy = spec.therapy
    rows = (_matrix_row(i, event, spec) for i, event in zip(reaction_ids, spec.events, strict=True))
    drug: Fields = {
        "id": uid(d.rng),
        "role": DrugRole.SUSPECT,
        "name": therapy.name,
        "substances": SUBSTANCES,
        "obtained_country": spec.country.code,
        "authorisation_holder": COMPANY,
        "dosages": _dosages(therapy),
        "indications": indications_of(therapy.indication),
        "action_taken": therapy.action,
        "reaction_assessments": [row for row in rows if row is not None],
    }
    if therapy.start_known == "day":
        drug["cumulative_dose"] = quantity(300 * therapy.infusions, "mg")
    if therapy.gestation_weeks:
        drug["gestation_at_exposure"] = quantity(therapy.gestation_weeks, "wk")
    return drug


def build_concomitant_drugs(d: Draw, spec: CaseSpec) -> list[Fields]:
    drugs: list[Fields] = []
    for c in spec.concomitants:
        substances, dosages, indications = concomitant_parts(c)
        drugs.append(
            {
                "id": uid(d.rng),
                "role": DrugRole.CONCOMITANT,
                "name": c.name,
                "substances": substances,
                "dosages": dosages,
                "indications": indications,
            }
        )
    return drugs


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
        parts.append("Results: " + "; ".join(lab_text(lab) for lab in spec.labs) + ".")
    parts.append(f"Action taken with UPLIZNA: {spec.therapy.action.label.lower()}.")
    return " ".join(part for part in parts if part)


def _intro(spec: CaseSpec) -> str:
    if spec.invalid == "reporter":
        return "This spontaneous report was received from an unidentified caller."
    who = QUALIFICATION_WORDS[spec.qualification]
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
    if t.route != IV_ROUTE:
        how = "transplacentally" if t.route == "Transplacental" else "via breast milk"
        return f"The infant was exposed to UPLIZNA (inebilizumab) {how}; the mother received 300 mg IV."
    if t.start_known == "unknown":
        return "The patient receives UPLIZNA (inebilizumab) 300 mg IV every 6 months (start date unknown)."
    start = fmt(t.first, t.start_known)
    text = f"The patient started UPLIZNA (inebilizumab) 300 mg IV on {start} (day 1)"
    if t.infusions > 1:
        before = "before the event" if spec.events else "so far"
        text += f"; the last infusion {before} (the {ordinal(t.infusions)}) was on {fmt(t.last, t.start_known)}"
    if any(c.indication == "Premedication" for c in spec.concomitants):
        text += ", with premedication"
    return text + "."


def _events_sentence(spec: CaseSpec) -> str:
    if not spec.events:
        return ""
    index = spec.events[0]
    names = ", ".join(e.verbatim for e in spec.events)
    when = "In" if index.precision == "month" else "On"
    text = f"{when} {fmt(index.onset, index.precision)} the patient experienced {names}"
    criteria = [_CRITERIA_WORDS[c] for c in "DLHIM" if any(c in e.criteria for e in spec.events)]
    if criteria:
        text += "; the event " + ", ".join(criteria)
    return text + "."


def _outcome_sentence(spec: CaseSpec) -> str:
    if not spec.events:
        return ""
    index = spec.events[0]
    if index.outcome is Outcome.FATAL:
        return f"The patient died on {fmt(index.end or spec.latest)}."
    text = f"Outcome: {index.outcome.label}"
    if index.end is not None:
        text += f" on {fmt(index.end)}"
    return text + "."


def lab_text(lab: LabSpec) -> str:
    if lab.value is not None:
        return f"{lab.name} {lab.value} {lab.unit or ''}".rstrip() + f" on {fmt(lab.date)}"
    result = lab.text or (lab.code.label.lower() if lab.code else "done")
    return f"{lab.name}: {result} on {fmt(lab.date)}"
