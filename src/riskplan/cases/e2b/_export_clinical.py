"""E2B(R3) export of the clinical sections: patient (D, with the C.5 study), reactions (E.i), tests (F.r),
drugs and the drug-reaction matrix (G.k), and H.2 - H.4 (ICH IG v5.02 section 3).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from lxml import etree

from riskplan.cases.codes import ObservationCode as Obs
from riskplan.cases.codes import Oid
from riskplan.cases.e2b._write import (
    Element,
    _author,
    _bl,
    _coded,
    _country,
    _el,
    _interval,
    _meddra,
    _nf,
    _num,
    _observation,
    _part,
    _pq,
    _product_code,
    _regional,
    _text_or_nf,
    _ts,
    _typed_ts,
    _wrap,
)
from riskplan.cases.e2b._xml import XSI_TYPE, parse_fragment
from riskplan.cases.model import (
    CauseOfDeath,
    Death,
    DiagnosticTest,
    Dosage,
    Drug,
    DrugReactionAssessment,
    Hl7Timestamp,
    Icsr,
    Measurement,
    MedicalHistoryEpisode,
    NullFlavor,
    Parent,
    PastDrug,
    Patient,
    Quantity,
    Reaction,
    Study,
    TestResult,
)

_SERIOUSNESS: tuple[tuple[Obs, str], ...] = (
    (Obs.RESULTS_IN_DEATH, "results_in_death"),
    (Obs.LIFE_THREATENING, "life_threatening"),
    (Obs.HOSPITALISATION, "hospitalisation"),
    (Obs.DISABLING, "disabling"),
    (Obs.CONGENITAL_ANOMALY, "congenital_anomaly"),
    (Obs.OTHER_MEDICALLY_IMPORTANT, "other_medically_important"),
)


def _adverse_event_assessment(assessment: Element, icsr: Icsr) -> None:
    assessment.set("classCode", "INVSTG")
    assessment.set("moodCode", "EVN")
    role = _el(_wrap(assessment, "subject1", "SBJ"), "primaryRole", classCode="INVSBJ")
    _player(role, icsr.patient)
    if icsr.study is not None:
        _study(role, icsr.study)
    _patient_observations(role, icsr.patient)
    for reaction in icsr.reactions:
        _reaction(_el(_wrap(role, "subjectOf2", "SBJ"), "observation", classCode="OBS", moodCode="EVN"), reaction)
    if icsr.tests:
        _tests(role, icsr.tests)
    if icsr.drugs:
        _drugs(role, icsr.drugs)
    _matrix(assessment, icsr.drugs)
    if icsr.reporter_comments is not None:  # H.2
        _comment(assessment, Obs.COMMENT, "3", icsr.reporter_comments)
    for diagnosis in icsr.sender_diagnoses:  # H.3.r
        observation = _assessment_observation(assessment, Obs.DIAGNOSIS)
        _meddra(observation, "value", diagnosis)
        _author(observation, "1")
    if icsr.sender_comments is not None:  # H.4
        _comment(assessment, Obs.COMMENT, "1", icsr.sender_comments)


def _assessment_observation(assessment: Element, code: Obs) -> Element:
    observation = _el(_wrap(assessment, "component1", "COMP"), "observationEvent", classCode="OBS", moodCode="EVN")
    _el(observation, "code", code=code.value, codeSystem=Oid.OBSERVATION)
    return observation


def _comment(assessment: Element, code: Obs, author: str, text: str) -> None:
    observation = _assessment_observation(assessment, code)
    _el(observation, "value", text, xsi_type="ED")
    _author(observation, author)


def _person_core(
    person: Element,
    name: str | None,
    name_nf: NullFlavor | None,
    sex: str | None,
    sex_nf: NullFlavor | None,
    birth: Hl7Timestamp | None,
    birth_nf: NullFlavor | None,
) -> None:
    _part(person, "name", name, name_nf)
    if sex is not None:
        _el(person, "administrativeGenderCode", code=sex, codeSystem=Oid.ISO_SEX)
    elif sex_nf is not None:
        _nf(_el(person, "administrativeGenderCode"), sex_nf)
    _ts(person, "birthTime", birth, birth_nf)


def _player(role: Element, p: Patient) -> None:
    """D.1, D.1.1.x, D.2.1, D.5, D.9.1 and the D.10 parent role."""
    person = _el(role, "player1", classCode="PSN", determinerCode="INSTANCE")
    sex = p.sex.value if p.sex else None
    _person_core(person, p.name, p.name_null_flavor, sex, p.sex_null_flavor, p.birth_date, p.birth_date_null_flavor)
    if p.death is not None:
        _ts(person, "deceasedTime", p.death.date, p.death.date_null_flavor)  # D.9.1
    records = (
        (p.gp_record_number, p.gp_record_number_null_flavor, Oid.RECORD_GP, "1"),
        (p.specialist_record_number, p.specialist_record_number_null_flavor, Oid.RECORD_SPECIALIST, "2"),
        (p.hospital_record_number, p.hospital_record_number_null_flavor, Oid.RECORD_HOSPITAL, "3"),
        (p.investigation_number, p.investigation_number_null_flavor, Oid.RECORD_INVESTIGATION, "4"),
    )
    for number, flavor, root, source in records:  # D.1.1.1-D.1.1.4
        if number is None and flavor is None:
            continue
        entity = _el(person, "asIdentifiedEntity", classCode="IDENT")
        identifier = _el(entity, "id", root=root)
        if number is not None:
            identifier.set("extension", number)
        elif flavor is not None:
            _nf(identifier, flavor)
        _el(entity, "code", code=source, codeSystem=Oid.MEDICAL_RECORD_SOURCE)
    if p.parent is not None:
        _parent(person, p.parent)


def _parent(person: Element, parent: Parent) -> None:
    """D.10 parent information (the parent's ``role`` under the patient)."""
    role = _el(person, "role", classCode="PRS")
    _el(role, "code", code="PRN", codeSystem=Oid.HL7_ROLE_CODE, displayName="parent")
    associated = _el(role, "associatedPerson", classCode="PSN", determinerCode="INSTANCE")
    sex = parent.sex.value if parent.sex else None
    _person_core(
        associated,
        parent.identification,  # D.10.1
        parent.identification_null_flavor,
        sex,  # D.10.6
        parent.sex_null_flavor,
        parent.birth_date,  # D.10.2.1
        parent.birth_date_null_flavor,
    )
    if parent.age is not None:  # D.10.2.2
        _pq(_observation(role, "subjectOf2", "SBJ", Obs.AGE), "value", parent.age, typed=True)
    if parent.last_menstrual_period is not None or parent.last_menstrual_period_null_flavor is not None:  # D.10.3
        observation = _observation(role, "subjectOf2", "SBJ", Obs.LAST_MENSTRUAL_PERIOD)
        _typed_ts(observation, parent.last_menstrual_period, parent.last_menstrual_period_null_flavor)
    _body_measures(role, parent.weight_kg, parent.height_cm)  # D.10.4, D.10.5
    _history(role, parent.medical_history, parent.medical_history_text, None, None)  # D.10.7
    _past_drugs(role, parent.past_drugs)  # D.10.8.r


def _body_measures(role: Element, weight: Decimal | None, height: Decimal | None) -> None:
    if weight is not None:
        _el(
            _observation(role, "subjectOf2", "SBJ", Obs.BODY_WEIGHT),
            "value",
            xsi_type="PQ",
            value=_num(weight),
            unit="kg",
        )
    if height is not None:
        _el(_observation(role, "subjectOf2", "SBJ", Obs.HEIGHT), "value", xsi_type="PQ", value=_num(height), unit="cm")


def _study(role: Element, study: Study) -> None:
    """C.5 study identification (``researchStudy`` under the patient's role)."""
    research = _el(_wrap(role, "subjectOf1", "SBJ"), "researchStudy", classCode="CLNTRL", moodCode="EVN")
    if study.sponsor_study_number is not None:  # C.5.3
        _el(research, "id", extension=study.sponsor_study_number, root=Oid.SPONSOR_STUDY_NUMBER)
    elif study.sponsor_study_number_null_flavor is not None:
        _nf(_el(research, "id", root=Oid.SPONSOR_STUDY_NUMBER), study.sponsor_study_number_null_flavor)
    if study.study_type is not None:  # C.5.4
        _el(research, "code", code=study.study_type.value, codeSystem=Oid.STUDY_TYPE)
    _part(research, "title", study.name, study.name_null_flavor)  # C.5.2
    for registration in study.registrations:  # C.5.1.r
        authorization = _wrap(research, "authorization", "AUTH")
        act = _el(authorization, "studyRegistration", classCode="ACT", moodCode="EVN")
        identifier = _el(act, "id", root=Oid.STUDY_REGISTRATION)
        if registration.number is not None:
            identifier.set("extension", registration.number)
        elif registration.number_null_flavor is not None:
            _nf(identifier, registration.number_null_flavor)
        if registration.country is not None or registration.country_null_flavor is not None:
            territory = _el(_wrap(act, "author", "AUT"), "territorialAuthority", classCode="TERR")
            place = _el(territory, "governingPlace", classCode="COUNTRY", determinerCode="INSTANCE")
            _country(place, "code", registration.country, registration.country_null_flavor)
    _regional(research, study.regional, "authorization")


def _patient_observations(role: Element, p: Patient) -> None:
    if p.age is not None:  # D.2.2
        _pq(_observation(role, "subjectOf2", "SBJ", Obs.AGE), "value", p.age, typed=True)
    if p.gestation_period is not None:  # D.2.2.1
        _pq(_observation(role, "subjectOf2", "SBJ", Obs.GESTATION_PERIOD), "value", p.gestation_period, typed=True)
    if p.age_group is not None or p.age_group_null_flavor is not None:  # D.2.3
        value = _el(_observation(role, "subjectOf2", "SBJ", Obs.AGE_GROUP), "value", xsi_type="CE")
        if p.age_group is not None:
            value.set("code", p.age_group.value)
            value.set("codeSystem", Oid.AGE_GROUP)
        elif p.age_group_null_flavor is not None:
            _nf(value, p.age_group_null_flavor)
    _body_measures(role, p.weight_kg, p.height_cm)  # D.3, D.4
    if p.last_menstrual_period is not None or p.last_menstrual_period_null_flavor is not None:  # D.6
        observation = _observation(role, "subjectOf2", "SBJ", Obs.LAST_MENSTRUAL_PERIOD)
        _typed_ts(observation, p.last_menstrual_period, p.last_menstrual_period_null_flavor)
    _regional(role, p.regional, "subjectOf2")
    _history(
        role, p.medical_history, p.medical_history_text, p.medical_history_text_null_flavor, p.concomitant_therapies
    )
    _past_drugs(role, p.past_drugs)
    if p.death is not None:
        _death(role, p.death)


def _organizer(role: Element, code: str) -> Element:
    organizer = _el(_wrap(role, "subjectOf2", "SBJ"), "organizer", classCode="CATEGORY", moodCode="EVN")
    _el(organizer, "code", code=code, codeSystem=Oid.ORGANIZER)
    return organizer


def _history(
    role: Element,
    episodes: Sequence[MedicalHistoryEpisode],
    text: str | None,
    text_nf: NullFlavor | None,
    concomitant: bool | None,
) -> None:
    """D.7.1.r, D.7.2, D.7.3 (and D.10.7.1.r, D.10.7.2 for the parent)."""
    if not episodes and text is None and text_nf is None and concomitant is None:
        return
    organizer = _organizer(role, "1")
    for episode in episodes:
        observation = _el(_wrap(organizer, "component", "COMP"), "observation", classCode="OBS", moodCode="EVN")
        _meddra(observation, "code", episode.term, xsi=False)  # D.7.1.r.1
        _interval(
            observation,
            episode.start_date,
            episode.start_date_null_flavor,
            episode.end_date,
            episode.end_date_null_flavor,
        )  # D.7.1.r.2, D.7.1.r.4
        if episode.comments is not None:  # D.7.1.r.5
            _el(
                _observation(observation, "outboundRelationship2", "COMP", Obs.COMMENT),
                "value",
                episode.comments,
                xsi_type="ED",
            )
        if episode.family_history is not None:  # D.7.1.r.6
            _bl(_observation(observation, "outboundRelationship2", "EXPL", Obs.FAMILY_HISTORY), episode.family_history)
        if episode.continuing is not None or episode.continuing_null_flavor is not None:  # D.7.1.r.3
            continuing = _observation(observation, "inboundRelationship", "REFR", Obs.CONTINUING)
            _bl(continuing, episode.continuing, episode.continuing_null_flavor)
    if text is not None or text_nf is not None:  # D.7.2
        observation = _observation(organizer, "component", "COMP", Obs.HISTORY_TEXT)
        _text_or_nf(_el(observation, "value", xsi_type="ED"), text, text_nf)
    if concomitant is not None:  # D.7.3
        _bl(_observation(organizer, "component", "COMP", Obs.CONCOMITANT_THERAPY), concomitant)


def _past_drugs(role: Element, drugs: Sequence[PastDrug]) -> None:
    """D.8.r (D.10.8.r) relevant past drug history."""
    if not drugs:
        return
    organizer = _organizer(role, "2")
    for drug in drugs:
        administration = _el(
            _wrap(organizer, "component", "COMP"), "substanceAdministration", classCode="SBADM", moodCode="EVN"
        )
        _interval(
            administration, drug.start_date, drug.start_date_null_flavor, drug.end_date, drug.end_date_null_flavor
        )
        instance = _el(_wrap(administration, "consumable", "CSM"), "instanceOfKind", classCode="INST")
        kind = _el(instance, "kindOfProduct", classCode="MMAT", determinerCode="KIND")
        _product_code(kind, drug.product_id)  # D.8.r.2 / D.8.r.3
        _part(kind, "name", drug.name, drug.name_null_flavor)  # D.8.r.1
        if drug.indication is not None:  # D.8.r.6
            _meddra(
                _observation(administration, "outboundRelationship2", "RSON", Obs.INDICATION), "value", drug.indication
            )
        if drug.reaction is not None:  # D.8.r.7
            _meddra(_observation(administration, "outboundRelationship2", "CAUS", Obs.REACTION), "value", drug.reaction)


def _death(role: Element, death: Death) -> None:
    """D.9.2.r reported causes, D.9.3 autopsy and D.9.4.r autopsy-determined causes."""
    for cause in death.reported_causes:
        _cause(_observation(role, "subjectOf2", "SBJ", Obs.REPORTED_CAUSE_OF_DEATH), cause)
    if death.autopsy_done is not None or death.autopsy_done_null_flavor is not None or death.autopsy_causes:
        autopsy = _observation(role, "subjectOf2", "SBJ", Obs.AUTOPSY)
        _bl(autopsy, death.autopsy_done, death.autopsy_done_null_flavor)
        for cause in death.autopsy_causes:
            _cause(_observation(autopsy, "outboundRelationship2", "DRIV", Obs.CAUSE_OF_DEATH), cause)


def _cause(observation: Element, cause: CauseOfDeath) -> None:
    _meddra(observation, "value", cause.term, text=cause.text)


def _reaction(observation: Element, r: Reaction) -> None:
    _el(observation, "id", root=r.id)
    _el(observation, "code", code=Obs.REACTION.value, codeSystem=Oid.OBSERVATION, displayName="reaction")
    _reaction_time(observation, r)  # E.i.4, E.i.5, E.i.6
    if r.meddra is not None or r.verbatim_term is not None:  # E.i.2.1, E.i.1.1
        value = _meddra(observation, "value", r.meddra, text=r.verbatim_term)
        if r.verbatim_language is not None and len(value):
            value[0].set("language", r.verbatim_language)
    if r.country is not None:  # E.i.9
        entity = _el(_wrap(observation, "location", "LOC"), "locatedEntity", classCode="LOCE")
        place = _el(entity, "locatedPlace", classCode="COUNTRY", determinerCode="INSTANCE")
        _country(place, "code", r.country)
    if r.verbatim_term_english is not None:  # E.i.1.2
        translation = _observation(observation, "outboundRelationship2", "PERT", Obs.REACTION_FOR_TRANSLATION)
        _el(translation, "value", r.verbatim_term_english, xsi_type="ED")
    if r.term_highlighted is not None:  # E.i.3.1
        highlighted = _observation(observation, "outboundRelationship2", "PERT", Obs.TERM_HIGHLIGHTED)
        _el(highlighted, "value", xsi_type="CE", code=r.term_highlighted.value, codeSystem=Oid.TERM_HIGHLIGHTED)
    for code, field in _SERIOUSNESS:  # E.i.3.2a-f: true, or nullFlavor NI
        criterion = _observation(observation, "outboundRelationship2", "PERT", code)
        value = getattr(r, field)
        if value is not None:
            _bl(criterion, value)
        else:
            _bl(criterion, None, NullFlavor.NI)
    _regional(observation, r.regional, "outboundRelationship2")
    if r.medical_confirmation is not None:  # E.i.8
        _bl(
            _observation(observation, "outboundRelationship2", "PERT", Obs.MEDICAL_CONFIRMATION), r.medical_confirmation
        )
    if r.outcome is not None:  # E.i.7
        outcome = _observation(observation, "outboundRelationship2", "PERT", Obs.OUTCOME)
        _el(outcome, "value", xsi_type="CE", code=r.outcome.value, codeSystem=Oid.OUTCOME)


def _reaction_time(observation: Element, r: Reaction) -> None:
    """IVL_TS low / high / width, or SXPR_TS when start, end and duration are all given (IG 3.3.5)."""
    has_start = r.start_date is not None or r.start_date_null_flavor is not None
    has_end = r.end_date is not None or r.end_date_null_flavor is not None
    if has_start and has_end and r.duration is not None:
        expression = _el(observation, "effectiveTime", xsi_type="SXPR_TS")
        interval = _el(expression, "comp", xsi_type="IVL_TS")
        _ts(interval, "low", r.start_date, r.start_date_null_flavor)
        _ts(interval, "high", r.end_date, r.end_date_null_flavor)
        _pq(_el(expression, "comp", xsi_type="IVL_TS", operator="A"), "width", r.duration)
        return
    if not (has_start or has_end or r.duration is not None):
        return
    interval = _el(observation, "effectiveTime", xsi_type="IVL_TS")
    _ts(interval, "low", r.start_date, r.start_date_null_flavor)
    if r.duration is not None:
        _pq(interval, "width", r.duration)
    _ts(interval, "high", r.end_date, r.end_date_null_flavor)


def _tests(role: Element, tests: Sequence[DiagnosticTest]) -> None:
    organizer = _organizer(role, "3")
    for test in tests:
        observation = _el(_wrap(organizer, "component", "COMP"), "observation", classCode="OBS", moodCode="EVN")
        code = _meddra(observation, "code", test.meddra, text=test.name, xsi=False)  # F.r.2.1, F.r.2.2
        if test.meddra is None and test.name is None:
            _nf(code, NullFlavor.NI)
        _ts(observation, "effectiveTime", test.date, test.date_null_flavor)  # F.r.1
        if test.result is not None:  # F.r.3.2, F.r.3.3
            _test_value(observation, test.result)
        if test.result_text is not None:  # F.r.3.4
            _el(observation, "value", test.result_text, xsi_type="ED")
        if test.result_code is not None:  # F.r.3.1
            _el(observation, "interpretationCode", code=test.result_code.value, codeSystem=Oid.TEST_RESULT)
        _normal(observation, test.normal_low, "L")  # F.r.4
        _normal(observation, test.normal_high, "H")  # F.r.5
        if test.comments is not None:  # F.r.6
            _el(
                _observation(observation, "outboundRelationship2", "PERT", Obs.COMMENT),
                "value",
                test.comments,
                xsi_type="ED",
            )
        if test.more_information is not None:  # F.r.7
            _bl(_observation(observation, "outboundRelationship2", "REFR", Obs.MORE_INFORMATION), test.more_information)


def _bound(parent: Element, tag: str, value: Decimal, unit: str | None, inclusive: bool) -> None:
    element = _el(parent, tag, value=_num(value), inclusive="true" if inclusive else "false")
    if unit is not None:
        element.set("unit", unit)


def _test_value(observation: Element, result: TestResult) -> None:
    """F.r.3.2 as IVL_PQ: ``center`` for '=', a NINF / PINF bound for '<', '<=', '>', '>='."""
    value = _el(observation, "value", xsi_type="IVL_PQ")
    comparator = result.comparator.value
    if comparator == "=":
        center = _el(value, "center", value=_num(result.value))
        if result.unit is not None:
            center.set("unit", result.unit)
    elif comparator in ("<", "<="):
        _nf(_el(value, "low"), NullFlavor.NINF)
        _bound(value, "high", result.value, result.unit, comparator == "<=")
    else:
        _bound(value, "low", result.value, result.unit, comparator == ">=")
        _nf(_el(value, "high"), NullFlavor.PINF)


def _normal(observation: Element, measurement: Measurement | None, interpretation: str) -> None:
    if measurement is None:
        return
    reference = _wrap(observation, "referenceRange", "REFV")
    observation_range = _el(reference, "observationRange", classCode="OBS", moodCode="EVN.CRT")
    value = _el(observation_range, "value", xsi_type="PQ", value=_num(measurement.value))
    if measurement.unit is not None:
        value.set("unit", measurement.unit)
    _el(observation_range, "interpretationCode", code=interpretation, codeSystem=Oid.HL7_INTERPRETATION)


def _drugs(role: Element, drugs: Sequence[Drug]) -> None:
    organizer = _organizer(role, "4")
    for drug in drugs:
        administration = _el(
            _wrap(organizer, "component", "COMP"), "substanceAdministration", classCode="SBADM", moodCode="EVN"
        )
        _drug(administration, drug)


def _drug(administration: Element, drug: Drug) -> None:
    _el(administration, "id", root=drug.id)
    instance = _el(_wrap(administration, "consumable", "CSM"), "instanceOfKind", classCode="INST")
    _product(_el(instance, "kindOfProduct", classCode="MMAT", determinerCode="KIND"), drug)
    if drug.obtained_country is not None:  # G.k.2.4
        event = _el(_wrap(instance, "subjectOf", "SBJ"), "productEvent", classCode="ACT", moodCode="EVN")
        _el(event, "code", code="1", codeSystem=Oid.SUPPLY, displayName="retailSupply")
        entity = _el(_wrap(event, "performer", "PRF"), "assignedEntity", classCode="ASSIGNED")
        organisation = _el(entity, "representedOrganization", classCode="ORG", determinerCode="INSTANCE")
        _el(_el(organisation, "addr"), "country", drug.obtained_country)
    for assessment in drug.reaction_assessments:  # G.k.9.i.3.1 / G.k.9.i.3.2
        _interval_to_reaction(administration, "SAS", assessment.time_from_start, assessment.reaction_id)
        _interval_to_reaction(administration, "SAE", assessment.time_from_last_dose, assessment.reaction_id)
    for dosage in drug.dosages:  # G.k.4.r
        _dosage(_el(_wrap(administration, "outboundRelationship2", "COMP"), "substanceAdministration"), dosage)
    _drug_observations(administration, drug)
    _regional(administration, drug.regional, "outboundRelationship2")
    for indication in drug.indications:  # G.k.7.r
        observation = _observation(administration, "inboundRelationship", "RSON", Obs.INDICATION)
        value = _meddra(observation, "value", indication.meddra)
        if indication.text is not None or indication.text_null_flavor is not None:
            _text_or_nf(_el(value, "originalText"), indication.text, indication.text_null_flavor)
        entity = _el(_wrap(observation, "performer", "PRF"), "assignedEntity", classCode="ASSIGNED")
        _el(entity, "code", code="3", codeSystem=Oid.AUTHOR_ROLE, displayName="sourceReporter")
    if drug.action_taken is not None:  # G.k.8
        act = _el(_wrap(administration, "inboundRelationship", "CAUS"), "act", classCode="ACT", moodCode="EVN")
        _el(act, "code", code=drug.action_taken.value, codeSystem=Oid.ACTION_TAKEN)
    _regional(administration, drug.regional, "inboundRelationship")


def _product(kind: Element, drug: Drug) -> None:
    _product_code(kind, drug.product_id)  # G.k.2.1
    _part(kind, "name", drug.name)  # G.k.2.2
    regional_subjects = [
        item for item in drug.regional if etree.QName(parse_fragment(item.xml)).localname == "subjectOf"
    ]
    has_approval = any(
        x is not None for x in (drug.authorisation_number, drug.authorisation_holder, drug.authorisation_country)
    )
    if has_approval or regional_subjects:
        manufactured = _el(kind, "asManufacturedProduct", classCode="MANU")
        if has_approval:
            approval = _el(_wrap(manufactured, "subjectOf", "SBJ"), "approval", classCode="CNTRCT", moodCode="EVN")
            if drug.authorisation_number is not None:  # G.k.3.1
                _el(approval, "id", extension=drug.authorisation_number, root=Oid.AUTHORISATION_NUMBER)
            if drug.authorisation_holder is not None:  # G.k.3.3
                role = _el(_wrap(approval, "holder", "HLD"), "role", classCode="HLD")
                organisation = _el(role, "playingOrganization", classCode="ORG", determinerCode="INSTANCE")
                _el(organisation, "name", drug.authorisation_holder)
            if drug.authorisation_country is not None:  # G.k.3.2
                authority = _el(_wrap(approval, "author", "AUT"), "territorialAuthority", classCode="TERR")
                territory = _el(authority, "territory", classCode="NAT", determinerCode="INSTANCE")
                _country(territory, "code", drug.authorisation_country)
        _regional(manufactured, drug.regional, "subjectOf")
    for substance in drug.substances:  # G.k.2.3.r
        ingredient = _el(kind, "ingredient", classCode="ACTI")
        if substance.strength is not None:  # G.k.2.3.r.3
            quantity = _el(ingredient, "quantity")
            _pq(quantity, "numerator", substance.strength)
            _el(quantity, "denominator", value="1", unit="1")
        ingredient_substance = _el(ingredient, "ingredientSubstance", classCode="MMAT", determinerCode="KIND")
        _product_code(ingredient_substance, substance.term_id)  # G.k.2.3.r.2
        _part(ingredient_substance, "name", substance.name)  # G.k.2.3.r.1
    _regional(kind, drug.regional, "part")


def _interval_to_reaction(administration: Element, type_code: str, interval: Quantity | None, reaction_id: str) -> None:
    if interval is None:
        return
    relationship = _wrap(administration, "outboundRelationship1", type_code)
    _pq(relationship, "pauseQuantity", interval)
    _el(_el(relationship, "actReference", classCode="OBS", moodCode="EVN"), "id", root=reaction_id)


def _drug_observations(administration: Element, drug: Drug) -> None:
    if drug.blinded is not None:  # G.k.2.5
        _bl(_observation(administration, "outboundRelationship2", "PERT", Obs.BLINDED), drug.blinded)
    if drug.cumulative_dose is not None:  # G.k.5
        observation = _observation(administration, "outboundRelationship2", "SUMM", Obs.CUMULATIVE_DOSE)
        _pq(observation, "value", drug.cumulative_dose, typed=True)
    if drug.gestation_at_exposure is not None:  # G.k.6
        observation = _observation(administration, "outboundRelationship2", "PERT", Obs.GESTATION_PERIOD)
        _pq(observation, "value", drug.gestation_at_exposure, typed=True)
    for assessment in drug.reaction_assessments:  # G.k.9.i.4
        _recurrence(administration, assessment)
    for info in drug.additional_info_codes:  # G.k.10.r
        observation = _observation(administration, "outboundRelationship2", "REFR", Obs.CODED_DRUG_INFORMATION)
        _el(observation, "value", xsi_type="CE", code=info.value, codeSystem=Oid.ADDITIONAL_INFO)
    if drug.additional_info is not None:  # G.k.11
        observation = _observation(administration, "outboundRelationship2", "REFR", Obs.ADDITIONAL_INFORMATION)
        _el(observation, "value", drug.additional_info, xsi_type="ST")


def _recurrence(administration: Element, assessment: DrugReactionAssessment) -> None:
    if assessment.recurrence is None:
        return
    observation = _observation(administration, "outboundRelationship2", "PERT", Obs.RECURRENCE)
    _el(observation, "value", xsi_type="CE", code=assessment.recurrence.value, codeSystem=Oid.RECURRENCE)
    reference = _el(
        _wrap(observation, "outboundRelationship1", "REFR"), "actReference", classCode="OBS", moodCode="EVN"
    )
    _el(reference, "id", root=assessment.reaction_id)


def _dosage(administration: Element, d: Dosage) -> None:
    """G.k.4.r dosage: text, timing (SXPR_TS of PIVL_TS period and IVL_TS dates / width), route, dose."""
    administration.set("classCode", "SBADM")
    administration.set("moodCode", "EVN")
    if d.text is not None:  # G.k.4.r.8
        _el(administration, "text", d.text)
    _dosage_time(administration, d)
    _coded(administration, "routeCode", d.route, d.route_text, d.route_text_null_flavor)  # G.k.4.r.10
    if d.dose is not None:  # G.k.4.r.1
        _pq(administration, "doseQuantity", d.dose)
    has_form = d.dose_form is not None or d.dose_form_text is not None or d.dose_form_text_null_flavor is not None
    if d.batch_lot is not None or has_form:
        instance = _el(_wrap(administration, "consumable", "CSM"), "instanceOfKind", classCode="INST")
        if d.batch_lot is not None:  # G.k.4.r.7
            product = _el(instance, "productInstanceInstance", classCode="MMAT", determinerCode="INSTANCE")
            _el(product, "lotNumberText", d.batch_lot)
        if has_form:  # G.k.4.r.9
            kind = _el(instance, "kindOfProduct", classCode="MMAT", determinerCode="KIND")
            _coded(kind, "formCode", d.dose_form, d.dose_form_text, d.dose_form_text_null_flavor)
    if d.parent_route is not None or d.parent_route_text is not None or d.parent_route_text_null_flavor is not None:
        observation = _observation(administration, "inboundRelationship", "REFR", Obs.PARENT_ROUTE)  # G.k.4.r.11
        value = _coded(observation, "value", d.parent_route, d.parent_route_text, d.parent_route_text_null_flavor)
        if value is not None:
            value.set(XSI_TYPE, "CE")


def _dosage_time(administration: Element, d: Dosage) -> None:
    if d.timing_null_flavor is not None:
        _nf(_el(administration, "effectiveTime"), d.timing_null_flavor)
        return
    has_dates = any(x is not None for x in (d.start_date, d.start_date_null_flavor, d.end_date, d.end_date_null_flavor))
    parts = sum((d.period is not None, has_dates, d.duration is not None))
    if parts == 0:
        return
    holder = _el(administration, "effectiveTime", xsi_type="SXPR_TS") if parts > 1 else administration
    tag = "comp" if parts > 1 else "effectiveTime"
    operator = {} if parts == 1 else {"operator": "A"}
    first = True
    if d.period is not None:  # G.k.4.r.2, G.k.4.r.3
        period = _el(_el(holder, tag, xsi_type="PIVL_TS"), "period", unit=d.period.unit)
        if d.period.value is not None:
            period.set("value", _num(d.period.value))
        first = False
    if has_dates:  # G.k.4.r.4, G.k.4.r.5
        interval = _el(holder, tag, xsi_type="IVL_TS", **({} if first else operator))
        _ts(interval, "low", d.start_date, d.start_date_null_flavor)
        _ts(interval, "high", d.end_date, d.end_date_null_flavor)
        first = False
    if d.duration is not None:  # G.k.4.r.6
        _pq(_el(holder, tag, xsi_type="IVL_TS", **({} if first else operator)), "width", d.duration)


def _matrix(assessment: Element, drugs: Sequence[Drug]) -> None:
    """G.k.1 characterisation and G.k.9.i.2.r relatedness (``causalityAssessment`` components)."""
    for drug in drugs:
        if drug.role is not None:
            causality = _causality(assessment, Obs.CHARACTERISATION)
            _el(causality, "value", xsi_type="CE", code=drug.role.value, codeSystem=Oid.DRUG_ROLE)
            _product_reference(causality, drug.id)
        _regional(assessment, drug.regional, "component")
    for drug in drugs:
        for pair in drug.reaction_assessments:
            for relatedness in pair.assessments:
                causality = _causality(assessment, Obs.CAUSALITY)
                if relatedness.result is not None:  # G.k.9.i.2.r.3
                    _el(causality, "value", relatedness.result, xsi_type="ST")
                if relatedness.method is not None:  # G.k.9.i.2.r.2
                    _el(_el(causality, "methodCode"), "originalText", relatedness.method)
                if relatedness.source is not None:  # G.k.9.i.2.r.1
                    entity = _el(_wrap(causality, "author", "AUT"), "assignedEntity", classCode="ASSIGNED")
                    _el(_el(entity, "code"), "originalText", relatedness.source)
                reference = _el(
                    _wrap(causality, "subject1", "SUBJ"), "adverseEffectReference", classCode="OBS", moodCode="EVN"
                )
                _el(reference, "id", root=pair.reaction_id)  # G.k.9.i.1
                _product_reference(causality, drug.id)


def _causality(assessment: Element, code: Obs) -> Element:
    causality = _el(_wrap(assessment, "component", "COMP"), "causalityAssessment", classCode="OBS", moodCode="EVN")
    _el(causality, "code", code=code.value, codeSystem=Oid.OBSERVATION)
    return causality


def _product_reference(causality: Element, drug_id: str) -> None:
    reference = _el(_wrap(causality, "subject2", "SUBJ"), "productUseReference", classCode="SBADM", moodCode="EVN")
    _el(reference, "id", root=drug_id)
