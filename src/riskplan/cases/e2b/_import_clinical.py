"""E2B(R3) import of the clinical sections: patient (D, with the C.5 study), reactions (E.i), tests (F.r),
drugs and the drug-reaction matrix (G.k), and the H.2 - H.4 comments (ICH IG v5.02 section 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from riskplan.cases.codes import (
    ActionTaken,
    AdditionalDrugInfo,
    AgeGroup,
    DrugRole,
    NullFlavor,
    Oid,
    Outcome,
    Recurrence,
    Sex,
    StudyType,
    TermHighlighted,
    TestResultCode,
)
from riskplan.cases.codes import ObservationCode as Obs
from riskplan.cases.e2b._read import (
    Element,
    _act,
    _bool,
    _build,
    _code,
    _coded_enum,
    _coded_value,
    _decimal,
    _find,
    _is_regional,
    _kids,
    _meddra,
    _null_flavor,
    _obs_code,
    _original_text,
    _pq,
    _regional,
    _Reject,
    _text,
    _text_nf,
    _timing,
    _ts,
)
from riskplan.cases.e2b._xml import XSI_TYPE, localname
from riskplan.cases.model import (
    CauseOfDeath,
    Comparator,
    Death,
    DiagnosticTest,
    Dosage,
    Drug,
    DrugReactionAssessment,
    Indication,
    Measurement,
    MeddraTerm,
    MedicalHistoryEpisode,
    Parent,
    PastDrug,
    Patient,
    Reaction,
    RegionalElement,
    RelatednessAssessment,
    Study,
    StudyRegistration,
    Substance,
    TestResult,
)

_SERIOUSNESS: dict[str, str] = {
    Obs.RESULTS_IN_DEATH: "results_in_death",
    Obs.LIFE_THREATENING: "life_threatening",
    Obs.HOSPITALISATION: "hospitalisation",
    Obs.DISABLING: "disabling",
    Obs.CONGENITAL_ANOMALY: "congenital_anomaly",
    Obs.OTHER_MEDICALLY_IMPORTANT: "other_medically_important",
}


def _adverse_event_assessment(assessment: Element, fields: dict[str, Any]) -> None:
    role = _find(assessment, "subject1", "primaryRole")
    if role is None:
        raise _Reject(assessment, "D: the adverseEventAssessment has no patient (primaryRole)")
    patient_fields: dict[str, Any] = {}
    _player(_find(role, "player1"), patient_fields)
    content = _Content()
    for wrapper in _kids(role, "subjectOf1"):
        research = _find(wrapper, "researchStudy")
        if research is not None:
            fields["study"] = _study(research)
    for wrapper in _kids(role, "subjectOf2"):
        _patient_subject(wrapper, patient_fields, content)
    if content.death:
        patient_fields["death"] = _build(Death, role, **content.death)
    patient_fields["regional"] = content.patient_regional
    fields["patient"] = _build(Patient, role, **patient_fields)
    fields["reactions"] = content.reactions
    fields["tests"] = content.tests
    matrix = _matrix(assessment)
    fields["drugs"] = _finish_drugs(content.drugs, matrix, [r.id for r in content.reactions], assessment)
    _h_comments(assessment, fields)


@dataclass
class _Content:
    """What the patient's ``subjectOf2`` children hold besides the patient's own data."""

    reactions: list[Reaction]
    tests: list[DiagnosticTest]
    drugs: list[tuple[Element, dict[str, Any]]]
    death: dict[str, Any]
    patient_regional: list[RegionalElement]

    def __init__(self) -> None:
        self.reactions, self.tests, self.drugs, self.death, self.patient_regional = [], [], [], {}, []


def _player(person: Element | None, fields: dict[str, Any]) -> None:
    """D.1, D.1.1.x, D.2.1, D.5 (and D.9.1 / D.10 via the death and parent readers)."""
    if person is None:
        return
    fields["name"], fields["name_null_flavor"] = _text_nf(_find(person, "name"))
    gender = _find(person, "administrativeGenderCode")
    fields["sex"], fields["sex_null_flavor"] = _coded_enum(Sex, gender, "D.5 sex"), _null_flavor(gender)
    birth = _find(person, "birthTime")
    fields["birth_date"], fields["birth_date_null_flavor"] = _ts(birth, "D.2.1"), _null_flavor(birth)
    records = {
        Oid.RECORD_GP: "gp_record_number",
        Oid.RECORD_SPECIALIST: "specialist_record_number",
        Oid.RECORD_HOSPITAL: "hospital_record_number",
        Oid.RECORD_INVESTIGATION: "investigation_number",
    }
    by_source = {
        "1": Oid.RECORD_GP,
        "2": Oid.RECORD_SPECIALIST,
        "3": Oid.RECORD_HOSPITAL,
        "4": Oid.RECORD_INVESTIGATION,
    }
    for entity in _kids(person, "asIdentifiedEntity"):
        identifier = _find(entity, "id")
        root = identifier.get("root") if identifier is not None else None
        key = records.get(root or "") or records.get(by_source.get(_code(_find(entity, "code")) or "", ""))
        if key is None:
            raise _Reject(entity, "D.1.1: unknown kind of patient record number")
        fields[key] = identifier.get("extension") if identifier is not None else None
        fields[f"{key}_null_flavor"] = _null_flavor(identifier) if fields[key] is None else None
    parent_role = _find(person, "role")
    if parent_role is not None:
        fields["parent"] = _parent(parent_role)
    deceased = _find(person, "deceasedTime")
    if deceased is not None:
        fields["_deceased"] = deceased


def _parent(role: Element) -> Parent:
    """D.10 parent information."""
    person = _find(role, "associatedPerson")
    fields: dict[str, Any] = {}
    fields["identification"], fields["identification_null_flavor"] = _text_nf(_find(person, "name"))
    gender = _find(person, "administrativeGenderCode")
    fields["sex"], fields["sex_null_flavor"] = _coded_enum(Sex, gender, "D.10.6 sex of parent"), _null_flavor(gender)
    birth = _find(person, "birthTime")
    fields["birth_date"], fields["birth_date_null_flavor"] = _ts(birth, "D.10.2.1"), _null_flavor(birth)
    for wrapper in _kids(role, "subjectOf2"):
        observation = _find(wrapper, "observation")
        organizer = _find(wrapper, "organizer")
        code = _obs_code(observation)
        value = _find(observation, "value")
        if code == Obs.AGE:
            fields["age"] = _pq(value, "D.10.2.2")
        elif code == Obs.LAST_MENSTRUAL_PERIOD:
            fields["last_menstrual_period"] = _ts(value, "D.10.3")
            fields["last_menstrual_period_null_flavor"] = _null_flavor(value)
        elif code == Obs.BODY_WEIGHT:
            fields["weight_kg"] = _decimal(value, "value", "D.10.4") if value is not None else None
        elif code == Obs.HEIGHT:
            fields["height_cm"] = _decimal(value, "value", "D.10.5") if value is not None else None
        elif _obs_code(organizer) == "1":
            fields["medical_history"], text, _ = _history(organizer)
            fields["medical_history_text"] = text[0]
        elif _obs_code(organizer) == "2":
            fields["past_drugs"] = _past_drugs(organizer)
        else:
            raise _Reject(wrapper, "D.10: parent information riskplan does not recognise")
    return _build(Parent, role, **fields)


def _patient_subject(wrapper: Element, p: dict[str, Any], content: _Content) -> None:
    observation = _find(wrapper, "observation")
    organizer = _find(wrapper, "organizer")
    if _is_regional(observation) or _is_regional(_find(organizer, "code")):
        content.patient_regional.append(_regional(wrapper))
        return
    if organizer is not None:
        _patient_organizer(organizer, wrapper, p, content)
        return
    code = _obs_code(observation)
    value = _find(observation, "value")
    if code == Obs.REACTION:  # E.i
        content.reactions.append(_reaction(observation))
    elif code == Obs.AGE:  # D.2.2
        p["age"] = _pq(value, "D.2.2")
    elif code == Obs.GESTATION_PERIOD:  # D.2.2.1
        p["gestation_period"] = _pq(value, "D.2.2.1")
    elif code == Obs.AGE_GROUP:  # D.2.3
        p["age_group"], p["age_group_null_flavor"] = _coded_enum(AgeGroup, value, "D.2.3"), _null_flavor(value)
    elif code == Obs.BODY_WEIGHT:  # D.3
        p["weight_kg"] = _decimal(value, "value", "D.3") if value is not None else None
    elif code == Obs.HEIGHT:  # D.4
        p["height_cm"] = _decimal(value, "value", "D.4") if value is not None else None
    elif code == Obs.LAST_MENSTRUAL_PERIOD:  # D.6
        p["last_menstrual_period"], p["last_menstrual_period_null_flavor"] = _ts(value, "D.6"), _null_flavor(value)
    elif code == Obs.REPORTED_CAUSE_OF_DEATH:  # D.9.2.r
        content.death.setdefault("reported_causes", []).append(_cause(value))
    elif code == Obs.AUTOPSY:  # D.9.3, D.9.4.r
        content.death["autopsy_done"], content.death["autopsy_done_null_flavor"] = _bool(value, "D.9.3")
        content.death["autopsy_causes"] = [
            _cause(_find(cause, "observation", "value")) for cause in _kids(observation, "outboundRelationship2")
        ]
    else:
        content.patient_regional.append(_regional(wrapper))
    _deceased(p, content)


def _deceased(p: dict[str, Any], content: _Content) -> None:
    deceased = p.pop("_deceased", None)
    if deceased is not None:  # D.9.1
        content.death["date"], content.death["date_null_flavor"] = _ts(deceased, "D.9.1"), _null_flavor(deceased)


def _patient_organizer(organizer: Element, wrapper: Element, p: dict[str, Any], content: _Content) -> None:
    _deceased(p, content)
    code = _obs_code(organizer)
    if code == "1":  # D.7
        p["medical_history"], text, p["concomitant_therapies"] = _history(organizer)
        p["medical_history_text"], p["medical_history_text_null_flavor"] = text
    elif code == "2":  # D.8.r
        p["past_drugs"] = _past_drugs(organizer)
    elif code == "3":  # F.r
        content.tests.extend(_test(_find(component, "observation")) for component in _kids(organizer, "component"))
    elif code == "4":  # G.k
        for component in _kids(organizer, "component"):
            administration = _find(component, "substanceAdministration")
            if administration is None:
                raise _Reject(component, "G.k: a drug without substanceAdministration")
            content.drugs.append((administration, _drug(administration)))
    else:
        content.patient_regional.append(_regional(wrapper))


def _cause(value: Element | None) -> CauseOfDeath:
    if value is None:
        return CauseOfDeath()
    return _build(
        CauseOfDeath, value, term=_meddra(value, "D.9 cause of death"), text=_text(_find(value, "originalText"))
    )


def _history(
    organizer: Element,
) -> tuple[list[MedicalHistoryEpisode], tuple[str | None, NullFlavor | None], bool | None]:
    """D.7.1.r episodes, D.7.2 text (with nullFlavor) and D.7.3 concomitant therapies."""
    episodes: list[MedicalHistoryEpisode] = []
    text: tuple[str | None, NullFlavor | None] = (None, None)
    concomitant: bool | None = None
    for component in _kids(organizer, "component"):
        observation = _find(component, "observation")
        code = _obs_code(observation)
        value = _find(observation, "value")
        if code == Obs.HISTORY_TEXT:
            text = _text_nf(value)
        elif code == Obs.CONCOMITANT_THERAPY:
            concomitant = _bool(value, "D.7.3")[0]
        else:
            episodes.append(_episode(observation))
    return episodes, text, concomitant


def _episode(observation: Element) -> MedicalHistoryEpisode:
    term = _meddra(_find(observation, "code"), "D.7.1.r.1")
    if term is None:
        raise _Reject(observation, "D.7.1.r.1: a medical history episode needs its MedDRA code")
    timing = _timing(_find(observation, "effectiveTime"), "D.7.1.r")
    fields: dict[str, Any] = {"term": term, **timing.dates()}
    for wrapper in _kids(observation, "outboundRelationship2") + _kids(observation, "inboundRelationship"):
        inner = _find(wrapper, "observation")
        code = _obs_code(inner)
        value = _find(inner, "value")
        if code == Obs.COMMENT:
            fields["comments"] = _text(value)
        elif code == Obs.FAMILY_HISTORY:
            fields["family_history"] = _bool(value, "D.7.1.r.6")[0]
        elif code == Obs.CONTINUING:
            fields["continuing"], fields["continuing_null_flavor"] = _bool(value, "D.7.1.r.3")
    return _build(MedicalHistoryEpisode, observation, **fields)


def _past_drugs(organizer: Element) -> list[PastDrug]:
    """D.8.r (D.10.8.r) past drug history."""
    drugs: list[PastDrug] = []
    for component in _kids(organizer, "component"):
        administration = _find(component, "substanceAdministration")
        kind = _find(administration, "consumable", "instanceOfKind", "kindOfProduct")
        fields: dict[str, Any] = _timing(_find(administration, "effectiveTime"), "D.8.r").dates()
        fields["name"], fields["name_null_flavor"] = _text_nf(_find(kind, "name"))
        fields["product_id"] = _coded_value(_find(kind, "code"))
        for wrapper in _kids(administration, "outboundRelationship2"):
            inner = _find(wrapper, "observation")
            code = _obs_code(inner)
            if code == Obs.INDICATION:
                fields["indication"] = _meddra(_find(inner, "value"), "D.8.r.6")
            elif code == Obs.REACTION:
                fields["reaction"] = _meddra(_find(inner, "value"), "D.8.r.7")
        drugs.append(_build(PastDrug, component, **fields))
    return drugs


def _study(research: Element) -> Study:
    """C.5 study identification; FDA IND / pre-ANDA registrations are kept as regional."""
    identifier = _find(research, "id")
    fields: dict[str, Any] = {
        "sponsor_study_number": identifier.get("extension") if identifier is not None else None,
        "sponsor_study_number_null_flavor": _null_flavor(identifier),
        "study_type": _coded_enum(StudyType, _find(research, "code"), "C.5.4 study type"),
    }
    if fields["sponsor_study_number"] is not None:
        fields["sponsor_study_number_null_flavor"] = None
    fields["name"], fields["name_null_flavor"] = _text_nf(_find(research, "title"))
    registrations: list[StudyRegistration] = []
    regional: list[RegionalElement] = []
    for wrapper in _kids(research, "authorization"):
        registration = _find(wrapper, "studyRegistration")
        number = _find(registration, "id")
        root = number.get("root") if number is not None else None
        if root is not None and root != Oid.STUDY_REGISTRATION:
            regional.append(_regional(wrapper))
            continue
        country = _find(registration, "author", "territorialAuthority", "governingPlace", "code")
        registrations.append(
            _build(
                StudyRegistration,
                registration,
                number=number.get("extension") if number is not None else None,
                number_null_flavor=_null_flavor(number) if number is not None and not number.get("extension") else None,
                country=_code(country),
                country_null_flavor=_null_flavor(country),
            )
        )
    return _build(Study, research, registrations=registrations, regional=regional, **fields)


def _reaction(observation: Element) -> Reaction:
    """E.i.0 - E.i.9."""
    identifier = _find(observation, "id")
    if identifier is None or not identifier.get("root"):
        raise _Reject(observation, "E.i: a reaction needs an id (referenced by the drug-reaction matrix)")
    value = _find(observation, "value")
    original = _find(value, "originalText")
    timing = _timing(_find(observation, "effectiveTime"), "E.i.4 / E.i.5")
    fields: dict[str, Any] = {
        "id": identifier.get("root"),
        "meddra": _meddra(value, "E.i.2.1"),
        "verbatim_term": _text(original),
        "verbatim_language": original.get("language") if original is not None else None,
        "country": _code(_find(observation, "location", "locatedEntity", "locatedPlace", "code")),
        "duration": timing.width,
        **timing.dates(),
    }
    regional: list[RegionalElement] = []
    for wrapper in _kids(observation, "outboundRelationship2"):
        inner = _find(wrapper, "observation")
        code = _obs_code(inner)
        inner_value = _find(inner, "value")
        if _is_regional(_find(inner, "code")):
            regional.append(_regional(wrapper))
        elif code in _SERIOUSNESS:  # E.i.3.2a-f
            fields[_SERIOUSNESS[code]] = _bool(inner_value, f"E.i.3.2 {code}")[0]
        elif code == Obs.REACTION_FOR_TRANSLATION:  # E.i.1.2
            fields["verbatim_term_english"] = _text(inner_value)
        elif code == Obs.TERM_HIGHLIGHTED:  # E.i.3.1
            fields["term_highlighted"] = _coded_enum(TermHighlighted, inner_value, "E.i.3.1 term highlighted")
        elif code == Obs.OUTCOME:  # E.i.7
            fields["outcome"] = _coded_enum(Outcome, inner_value, "E.i.7 outcome")
        elif code == Obs.MEDICAL_CONFIRMATION:  # E.i.8
            fields["medical_confirmation"] = _bool(inner_value, "E.i.8")[0]
        else:
            regional.append(_regional(wrapper))
    return _build(Reaction, observation, regional=regional, **fields)


def _test(observation: Element | None) -> DiagnosticTest:
    """F.r.1 - F.r.7."""
    if observation is None:
        return DiagnosticTest()
    code = _find(observation, "code")
    date = _find(observation, "effectiveTime")
    fields: dict[str, Any] = {
        "meddra": _meddra(code, "F.r.2.2"),
        "name": _text(_find(code, "originalText")),
        "date": _ts(date, "F.r.1"),
        "date_null_flavor": _null_flavor(date),
        "result_code": _coded_enum(TestResultCode, _find(observation, "interpretationCode"), "F.r.3.1"),
    }
    for value in _kids(observation, "value"):
        kind = (value.get(XSI_TYPE) or "").rpartition(":")[2]
        if kind in ("IVL_PQ", "PQ"):
            fields["result"] = _test_value(value)
        else:
            fields["result_text"] = _text(value)
    for reference in _kids(observation, "referenceRange"):
        observation_range = _find(reference, "observationRange")
        value = _find(observation_range, "value")
        number = _decimal(value, "value", "F.r.4 / F.r.5") if value is not None else None
        if number is None or value is None:
            continue
        measurement = _build(Measurement, value, value=number, unit=value.get("unit"))
        high = _code(_find(observation_range, "interpretationCode")) == "H"
        fields["normal_high" if high else "normal_low"] = measurement
    for wrapper in _kids(observation, "outboundRelationship2"):
        inner = _find(wrapper, "observation")
        if _obs_code(inner) == Obs.COMMENT:
            fields["comments"] = _text(_find(inner, "value"))
        elif _obs_code(inner) == Obs.MORE_INFORMATION:
            fields["more_information"] = _bool(_find(inner, "value"), "F.r.7")[0]
    return _build(DiagnosticTest, observation, **fields)


def _test_value(value: Element) -> TestResult | None:
    """F.r.3.2 / F.r.3.3 from PQ or IVL_PQ (center, or a bound against NINF / PINF)."""
    if value.get("value") is not None:
        number = _decimal(value, "value", "F.r.3.2")
        return _build(TestResult, value, value=number, unit=value.get("unit"))
    center, low, high = (_find(value, tag) for tag in ("center", "low", "high"))
    if center is not None:
        return _build(TestResult, center, value=_decimal(center, "value", "F.r.3.2"), unit=center.get("unit"))
    open_low = low is None or low.get("nullFlavor") == "NINF"
    bound = high if open_low else low
    if bound is None or bound.get("value") is None:
        return None
    inclusive = bound.get("inclusive", "true") == "true"
    if open_low:
        comparator = Comparator.LE if inclusive else Comparator.LT
    else:
        comparator = Comparator.GE if inclusive else Comparator.GT
    number = _decimal(bound, "value", "F.r.3.2")
    return _build(TestResult, bound, comparator=comparator, value=number, unit=bound.get("unit"))


def _drug(administration: Element) -> dict[str, Any]:
    """G.k.2 - G.k.11 of one drug (G.k.1 and G.k.9.i.2.r come from the matrix)."""
    identifier = _find(administration, "id")
    if identifier is None or not identifier.get("root"):
        raise _Reject(administration, "G.k: a drug needs an id (referenced by G.k.1 and G.k.9.i)")
    instance = _find(administration, "consumable", "instanceOfKind")
    kind = _find(instance, "kindOfProduct")
    fields: dict[str, Any] = {"id": identifier.get("root"), "regional": []}
    _product(kind, fields)
    country = _find(instance, "subjectOf", "productEvent", "performer", "assignedEntity", "representedOrganization")
    fields["obtained_country"] = _text(_find(_find(country, "addr"), "country"))  # G.k.2.4
    intervals: dict[str, dict[str, Any]] = {}
    for wrapper in _kids(administration, "outboundRelationship1"):  # G.k.9.i.3.1 / G.k.9.i.3.2
        reaction_id = _reaction_ref(wrapper)
        key = "time_from_start" if wrapper.get("typeCode") == "SAS" else "time_from_last_dose"
        intervals.setdefault(reaction_id, {})[key] = _pq(_find(wrapper, "pauseQuantity"), "G.k.9.i.3")
    fields["_intervals"] = intervals
    _drug_relationships(administration, fields)
    return fields


def _reaction_ref(wrapper: Element) -> str:
    reference = _find(wrapper, "actReference", "id")
    if reference is None or not reference.get("root"):
        raise _Reject(wrapper, "G.k.9.i.1: the reaction assessed is not identified")
    root: str = reference.get("root")
    return root


def _product(kind: Element | None, fields: dict[str, Any]) -> None:
    """G.k.2.1, G.k.2.2, G.k.2.3.r, G.k.3 and the regional device / product-category elements."""
    fields["product_id"] = _coded_value(_find(kind, "code"))
    fields["name"] = _text(_find(kind, "name"))
    manufactured = _find(kind, "asManufacturedProduct")
    for subject in _kids(manufactured, "subjectOf"):
        approval = _find(subject, "approval")
        if approval is None:
            fields["regional"].append(_regional(subject))
            continue
        number = _find(approval, "id")
        fields["authorisation_number"] = number.get("extension") if number is not None else None
        holder = _find(approval, "holder", "role", "playingOrganization", "name")
        fields["authorisation_holder"] = _text(holder)
        territory = _find(approval, "author", "territorialAuthority", "territory", "code")
        fields["authorisation_country"] = _code(territory)
    substances: list[Substance] = []
    for ingredient in _kids(kind, "ingredient"):
        substance = _find(ingredient, "ingredientSubstance")
        strength = _pq(_find(ingredient, "quantity", "numerator"), "G.k.2.3.r.3")
        substances.append(
            _build(
                Substance,
                ingredient,
                name=_text(_find(substance, "name")),
                term_id=_coded_value(_find(substance, "code")),
                strength=strength,
            )
        )
    fields["substances"] = substances
    fields["regional"].extend(_regional(part) for part in _kids(kind, "part"))


def _drug_relationships(administration: Element, fields: dict[str, Any]) -> None:
    dosages: list[Dosage] = []
    recurrences: dict[str, Recurrence | None] = {}
    codes: list[AdditionalDrugInfo] = []
    for wrapper in _kids(administration, "outboundRelationship2"):
        inner = _act(wrapper)
        code = _obs_code(inner)
        value = _find(inner, "value")
        if localname(inner) == "substanceAdministration" and wrapper.get("typeCode") == "COMP":  # G.k.4.r
            dosages.append(_dosage(inner))
        elif _is_regional(inner) or localname(inner) != "observation":
            fields["regional"].append(_regional(wrapper))
        elif code == Obs.BLINDED:  # G.k.2.5
            fields["blinded"] = _bool(value, "G.k.2.5")[0]
        elif code == Obs.CUMULATIVE_DOSE:  # G.k.5
            fields["cumulative_dose"] = _pq(value, "G.k.5")
        elif code == Obs.GESTATION_PERIOD:  # G.k.6
            fields["gestation_at_exposure"] = _pq(value, "G.k.6")
        elif code == Obs.RECURRENCE:  # G.k.9.i.4
            reaction_id = _reaction_ref(_find(inner, "outboundRelationship1"))
            recurrences[reaction_id] = _coded_enum(Recurrence, value, "G.k.9.i.4 recurrence")
        elif code == Obs.CODED_DRUG_INFORMATION:  # G.k.10.r
            info = _coded_enum(AdditionalDrugInfo, value, "G.k.10.r additional information")
            if info is not None:
                codes.append(info)
        elif code == Obs.ADDITIONAL_INFORMATION:  # G.k.11
            fields["additional_info"] = _text(value)
        else:
            fields["regional"].append(_regional(wrapper))
    fields["dosages"], fields["additional_info_codes"], fields["_recurrences"] = dosages, codes, recurrences
    indications: list[Indication] = []
    for wrapper in _kids(administration, "inboundRelationship"):
        inner = _act(wrapper)
        if localname(inner) == "act" and wrapper.get("typeCode") == "CAUS":  # G.k.8
            fields["action_taken"] = _coded_enum(ActionTaken, _find(inner, "code"), "G.k.8 action taken")
        elif _obs_code(inner) == Obs.INDICATION and not _is_regional(inner):  # G.k.7.r
            value = _find(inner, "value")
            text, flavor = _text_nf(_find(value, "originalText"))
            meddra = _meddra(value, "G.k.7.r.2")
            indications.append(_build(Indication, inner, text=text, text_null_flavor=flavor, meddra=meddra))
        else:
            fields["regional"].append(_regional(wrapper))
    fields["indications"] = indications


def _dosage(administration: Element) -> Dosage:
    """G.k.4.r.1 - G.k.4.r.11."""
    timing = _timing(_find(administration, "effectiveTime"), "G.k.4.r")
    route = _find(administration, "routeCode")
    instance = _find(administration, "consumable", "instanceOfKind")
    form = _find(instance, "kindOfProduct", "formCode")
    fields: dict[str, Any] = {
        "text": _text(_find(administration, "text")),
        "dose": _pq(_find(administration, "doseQuantity"), "G.k.4.r.1"),
        "period": timing.period,
        "duration": timing.width,
        "timing_null_flavor": timing.null_flavor,
        "batch_lot": _text(_find(instance, "productInstanceInstance", "lotNumberText")),
        "route": _coded_value(route),
        "dose_form": _coded_value(form),
        **timing.dates(),
    }
    fields["route_text"], fields["route_text_null_flavor"] = _original_text(route)
    fields["dose_form_text"], fields["dose_form_text_null_flavor"] = _original_text(form)
    for wrapper in _kids(administration, "inboundRelationship"):
        inner = _find(wrapper, "observation")
        if _obs_code(inner) == Obs.PARENT_ROUTE:  # G.k.4.r.11
            value = _find(inner, "value")
            fields["parent_route"] = _coded_value(value)
            fields["parent_route_text"], fields["parent_route_text_null_flavor"] = _original_text(value)
    return _build(Dosage, administration, **fields)


@dataclass
class _Matrix:
    """G.k.1 and G.k.9.i.2.r as read from ``adverseEventAssessment/component``."""

    roles: dict[str, DrugRole]
    relatedness: dict[tuple[str, str], list[RelatednessAssessment]]
    regional: dict[str, list[RegionalElement]]


def _matrix(assessment: Element) -> _Matrix:
    """G.k.1 characterisation and G.k.9.i.2.r relatedness from the ``causalityAssessment`` components."""
    matrix = _Matrix(roles={}, relatedness={}, regional={})
    for wrapper in _kids(assessment, "component"):
        causality = _find(wrapper, "causalityAssessment")
        drug_ref = _find(causality, "subject2", "productUseReference", "id")
        drug_id = drug_ref.get("root") if drug_ref is not None else None
        if drug_id is None:
            raise _Reject(wrapper, "G.k.1 / G.k.9.i.2: the drug assessed is not identified")
        code = _obs_code(causality)
        value = _find(causality, "value")
        if _is_regional(causality):
            matrix.regional.setdefault(drug_id, []).append(_regional(wrapper))
        elif code == Obs.CHARACTERISATION:  # G.k.1
            if drug_id in matrix.roles:
                raise _Reject(wrapper, f"G.k.1: drug {drug_id} is characterised twice")
            role = _coded_enum(DrugRole, value, "G.k.1 characterisation of drug role")
            if role is not None:
                matrix.roles[drug_id] = role
        elif code == Obs.CAUSALITY:  # G.k.9.i.2.r
            reaction = _find(causality, "subject1", "adverseEffectReference", "id")
            if reaction is None or not reaction.get("root"):
                raise _Reject(wrapper, "G.k.9.i.1: the reaction assessed is not identified")
            source = _find(causality, "author", "assignedEntity", "code", "originalText")
            relatedness = _build(
                RelatednessAssessment,
                causality,
                source=_text(source),
                method=_text(_find(causality, "methodCode", "originalText")),
                result=_text(value),
            )
            matrix.relatedness.setdefault((drug_id, reaction.get("root")), []).append(relatedness)
        else:
            matrix.regional.setdefault(drug_id, []).append(_regional(wrapper))
    return matrix


def _finish_drugs(
    drugs: list[tuple[Element, dict[str, Any]]], matrix: _Matrix, reaction_ids: list[str], assessment: Element
) -> list[Drug]:
    known = {fields["id"] for _, fields in drugs}
    unknown = (set(matrix.roles) | {drug for drug, _ in matrix.relatedness} | set(matrix.regional)) - known
    if unknown:
        raise _Reject(assessment, f"G.k.1 / G.k.9.i refer to drug(s) not in the case: {', '.join(sorted(unknown))}")
    result: list[Drug] = []
    for element, fields in drugs:
        drug_id = fields["id"]
        intervals: dict[str, dict[str, Any]] = fields.pop("_intervals")
        recurrences: dict[str, Recurrence | None] = fields.pop("_recurrences")
        pairs = set(intervals) | set(recurrences) | {r for d, r in matrix.relatedness if d == drug_id}
        order = {reaction_id: i for i, reaction_id in enumerate(reaction_ids)}
        fields["reaction_assessments"] = [
            _build(
                DrugReactionAssessment,
                element,
                reaction_id=reaction_id,
                assessments=matrix.relatedness.get((drug_id, reaction_id), []),
                recurrence=recurrences.get(reaction_id),
                **intervals.get(reaction_id, {}),
            )
            for reaction_id in sorted(pairs, key=lambda rid: (order.get(rid, len(order)), rid))
        ]
        fields["role"] = matrix.roles.get(drug_id)
        fields["regional"] = fields["regional"] + matrix.regional.get(drug_id, [])
        result.append(_build(Drug, element, **fields))
    return result


def _h_comments(assessment: Element, fields: dict[str, Any]) -> None:
    """H.2 reporter's comments, H.3.r sender's diagnosis, H.4 sender's comments."""
    diagnoses: list[MeddraTerm] = []
    for wrapper in _kids(assessment, "component1"):
        observation = _find(wrapper, "observationEvent")
        code = _obs_code(observation)
        author = _code(_find(observation, "author", "assignedEntity", "code"))
        value = _find(observation, "value")
        if code == Obs.COMMENT and author == "3":
            fields["reporter_comments"] = _text(value)
        elif code == Obs.COMMENT and author == "1":
            fields["sender_comments"] = _text(value)
        elif code == Obs.DIAGNOSIS:
            term = _meddra(value, "H.3.r")
            if term is not None:
                diagnoses.append(term)
        else:
            raise _Reject(wrapper, f"H: unknown comment / diagnosis (code {code!r}, author {author!r})")
    fields["sender_diagnoses"] = diagnoses
