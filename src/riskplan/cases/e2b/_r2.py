"""Best-effort import of ICH E2B(R2) ``ichicsr`` files (ICH M2 DTD 2.1) into the E2B(R3) model.

The mapping follows the ICH E2B(R3) backwards / forwards compatibility (BFC) recommendations for the
main elements: A.1 report identification, A.2 primary sources and study, A.3.1 sender, B.1 patient
(with B.1.7 history, B.1.8 past drugs, B.1.9 death, B.1.10 parent), B.2 reactions, B.3 tests,
B.4 drugs (dosage, indication, action, relatedness) and B.5 narrative. Conversion choices:

* R2 seriousness is case level (A.1.5.2); it is copied to every reaction's E.i.3.2, as is A.1.14
  (medical confirmation, E.i.8) and A.1.2 (country of occurrence, E.i.9).
* R2 reactions carry no ids: each gets a stable UUID derived from the report id and its position.
* R2 B.2.i.2 PT codes go to riskplan's ``Reaction.pt_code``; B.2.i.1 LLT codes to E.i.2.1.
* Uncoded R2 medical-history names are appended to D.7.2; B.3.2 free-text results become one test.
* Not mapped: the receiver (A.3.2), recurrence (B.4.k.17), the drug start / last periods (B.4.k.13)
  and the parent's history and past drugs.

E2B(R2) files usually start with ``<!DOCTYPE ichicsr SYSTEM "...dtd">``; such files are refused like
any other DOCTYPE (see :func:`riskplan.cases.e2b._import.parse_untrusted`): remove the line first.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any, TypeAlias, TypeVar

from pydantic import BaseModel, ValidationError

from riskplan.cases.codes import (
    ActionTaken,
    AgeGroup,
    DrugRole,
    FirstSender,
    NullificationCode,
    Outcome,
    Qualification,
    ReportType,
    SenderType,
    Sex,
    StudyType,
    TermHighlighted,
)
from riskplan.cases.e2b._base import BatchInfo, E2bError, ImportResult, Rejection
from riskplan.cases.e2b._read import _Reject
from riskplan.cases.model import (
    CauseOfDeath,
    Death,
    DiagnosticTest,
    Dosage,
    Drug,
    DrugReactionAssessment,
    HeldDocument,
    Hl7Timestamp,
    Icsr,
    Indication,
    LiteratureReference,
    Measurement,
    MeddraTerm,
    MedicalHistoryEpisode,
    OtherCaseIdentifier,
    Parent,
    PastDrug,
    Patient,
    Period,
    PrimarySource,
    Quantity,
    Reaction,
    RelatednessAssessment,
    Sender,
    Study,
    Substance,
    TestResult,
)

Element: TypeAlias = Any  # lxml.etree._Element
M = TypeVar("M", bound=BaseModel)

__all__ = ["import_r2"]

_DATE_FORMATS = {"102": 8, "610": 6, "602": 4, "203": 12, "204": 14}
_AGE_UNITS = {"800": "10.a", "801": "a", "802": "mo", "803": "wk", "804": "d", "805": "h"}
_TIME_UNITS = {"801": "a", "802": "mo", "803": "wk", "804": "d", "805": "h", "806": "min", "807": "s"}
_GESTATION_UNITS = {"802": "mo", "803": "wk", "804": "d", "810": "{trimester}"}
_INTERVAL_UNITS = {**_TIME_UNITS, "810": "{cyclical}", "811": "{trimester}", "812": "{asnecessary}", "813": "{total}"}
_DOSE_UNITS = {
    "001": "kg", "002": "g", "003": "mg", "004": "ug", "005": "ng", "006": "pg", "007": "mg/kg", "008": "ug/kg",
    "009": "mg/m2", "010": "ug/m2", "011": "l", "012": "ml", "013": "ul", "014": "Bq", "015": "GBq", "016": "MBq",
    "017": "kBq", "018": "Ci", "019": "mCi", "020": "uCi", "021": "nCi", "022": "mol", "023": "mmol",
    "024": "umol", "025": "[iU]", "026": "k[iU]", "027": "M[iU]", "028": "[iU]/kg", "029": "meq", "030": "%",
    "031": "[drp]", "032": "{DF}",
}  # fmt: skip
_OUTCOMES = {"1": "1", "2": "2", "3": "3", "4": "4", "5": "5", "6": "0"}
_ACTIONS = {"1": "1", "2": "2", "3": "3", "4": "4", "5": "0", "6": "9"}
_SERIOUSNESS = {
    "seriousnessdeath": "results_in_death",
    "seriousnesslifethreatening": "life_threatening",
    "seriousnesshospitalization": "hospitalisation",
    "seriousnessdisabling": "disabling",
    "seriousnesscongenitalanomali": "congenital_anomaly",
    "seriousnessother": "other_medically_important",
}


def import_r2(root: Element, *, skip_invalid: bool = False) -> ImportResult:
    """Map each ``safetyreport`` of an E2B(R2) ``ichicsr`` document (already safely parsed)."""
    icsrs: list[Icsr] = []
    rejected: list[Rejection] = []
    reports = root.findall("safetyreport")
    for index, report in enumerate(reports):
        try:
            icsrs.append(_report(report))
        except _Reject as problem:
            rejected.append(Rejection(index, _t(report, "safetyreportid"), problem.path, problem.reason))
    if rejected and not skip_invalid:
        raise E2bError(
            f"{len(rejected)} of {len(reports)} E2B(R2) report(s) rejected, so nothing was imported",
            rejections=rejected,
        )
    header = root.find("ichicsrmessageheader")
    batch = BatchInfo(
        batch_id=_t(header, "messagenumb"),
        sender_id=_t(header, "messagesenderidentifier"),
        receiver_id=_t(header, "messagereceiveridentifier"),
        created=_t(header, "messagedate"),
    )
    return ImportResult(icsrs=icsrs, rejected=rejected, batch=batch)


# --------------------------------------------------------------------------------------------------
# Readers
# --------------------------------------------------------------------------------------------------


def _t(element: Element | None, tag: str) -> str | None:
    child = element.find(tag) if element is not None else None
    text = (child.text or "").strip() if child is not None else ""
    return text or None


def _date(element: Element, tag: str) -> Hl7Timestamp | None:
    value = _t(element, tag)
    if value is None:
        return None
    fmt = _t(element, f"{tag}format")
    if fmt is not None and _DATE_FORMATS.get(fmt) != len(value):
        raise _Reject(element.find(tag), f"{tag}: {value!r} does not match date format {fmt}")
    try:
        return Hl7Timestamp(value)
    except ValueError as exc:
        raise _Reject(element.find(tag), f"{tag}: {exc}") from None


def _number(element: Element, tag: str) -> Decimal | None:
    value = _t(element, tag)
    if value is None:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _Reject(element.find(tag), f"{tag}: {value!r} is not a number") from None
    return number if number.is_finite() else None


def _lookup(element: Element, tag: str, table: dict[str, str]) -> str | None:
    value = _t(element, tag)
    if value is None:
        return None
    if value not in table:
        raise _Reject(element.find(tag), f"{tag}: unknown code {value!r} (allowed: {', '.join(sorted(table))})")
    return table[value]


def _code(element: Element, tag: str, allowed: type[Any]) -> Any:
    value = _t(element, tag)
    if value is None:
        return None
    try:
        return allowed(value)
    except ValueError:
        raise _Reject(element.find(tag), f"{tag}: unknown code {value!r}") from None


def _yes(element: Element, tag: str) -> bool | None:
    value = _lookup(element, tag, {"1": "yes", "2": "no", "3": "unknown"})
    return None if value in (None, "unknown") else value == "yes"


def _quantity(element: Element, number: str, unit: str, table: dict[str, str]) -> Quantity | None:
    value, code = _number(element, number), _lookup(element, unit, table)
    return Quantity(value=value, unit=code) if value is not None and code is not None else None


def _meddra(element: Element, version: str, code: str) -> MeddraTerm | None:
    term, edition = _t(element, code), _t(element, version)
    if term is None or edition is None or not term.isdigit() or len(term) != 8:
        return None
    return MeddraTerm(version=edition if "." in edition else f"{edition}.0", code=term)


def _build(model: type[M], element: Element, /, **fields: Any) -> M:
    try:
        return model(**fields)
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise _Reject(element, f"{model.__name__}: {details}") from None


# --------------------------------------------------------------------------------------------------
# A: report, primary source, sender
# --------------------------------------------------------------------------------------------------


def _report(report: Element) -> Icsr:
    report_id = _t(report, "safetyreportid")
    if report_id is None:
        raise _Reject(report, "A.1.0.1 safetyreportid is missing: the case cannot be identified")
    authority, company = _t(report, "authoritynumb"), _t(report, "companynumb")
    serious = {field: True for tag, field in _SERIOUSNESS.items() if _t(report, tag) == "1"}
    context = {
        "serious": serious,
        "confirmed": _yes(report, "medicallyconfirm"),
        "country": _t(report, "occurcountry"),
        "highlight_serious": _t(report, "serious") == "1",
    }
    patient_element = report.find("patient")
    reactions = [
        _reaction(element, report_id, index, context)
        for index, element in enumerate(patient_element.findall("reaction") if patient_element is not None else [])
    ]
    fields: dict[str, Any] = {
        "sender_report_id": report_id,
        "worldwide_case_id": authority or company or report_id,
        "first_sender": FirstSender.REGULATOR if authority else FirstSender.OTHER if company else None,
        "created": _date(report, "transmissiondate"),
        "report_type": _code(report, "reporttype", ReportType),
        "first_received": _date(report, "receivedate"),
        "most_recent_info": _date(report, "receiptdate"),
        "additional_documents": _yes(report, "additionaldocument"),
        "documents_held": [HeldDocument(title=title)] if (title := _t(report, "documentlist")) else [],
        "local_expedited": _yes(report, "fulfillexpeditecriteria"),
        "other_case_ids_flag": True if _t(report, "duplicate") == "1" else None,
        "other_case_ids": [
            _build(
                OtherCaseIdentifier,
                d,
                source=_t(d, "duplicatesource") or "(unknown source)",
                case_id=_t(d, "duplicatenumb"),
            )
            for d in report.findall("reportduplicate")
            if _t(d, "duplicatenumb")
        ],
        "linked_reports": [n for n in (_t(link, "linkreportnumb") for link in report.findall("linkedreport")) if n],
        "nullification": NullificationCode.NULLIFICATION if _t(report, "casenullification") == "1" else None,
        "nullification_reason": _t(report, "nullificationreason"),
        "reactions": reactions,
    }
    _sources(report, fields)
    sender = report.find("sender")
    if sender is not None:
        fields["sender"] = _sender(sender)
    if patient_element is not None:
        _patient(patient_element, fields, reactions)
    return _build(Icsr, report, **fields)


def _sources(report: Element, fields: dict[str, Any]) -> None:
    """A.2 primary source(s): reporter, literature and study."""
    sources: list[PrimarySource] = []
    literature: list[LiteratureReference] = []
    for index, source in enumerate(report.findall("primarysource")):
        sources.append(
            _build(
                PrimarySource,
                source,
                title=_t(source, "reportertitle"),
                given_name=_t(source, "reportergivename"),
                middle_name=_t(source, "reportermiddlename"),
                family_name=_t(source, "reporterfamilyname"),
                organisation=_t(source, "reporterorganization"),
                department=_t(source, "reporterdepartment"),
                street=_t(source, "reporterstreet"),
                city=_t(source, "reportercity"),
                state=_t(source, "reporterstate"),
                postcode=_t(source, "reporterpostcode"),
                country=_t(source, "reportercountry") or _t(report, "primarysourcecountry"),
                qualification=_code(source, "qualification", Qualification),
                primary_for_regulatory_purposes=index == 0,
            )
        )
        if _t(source, "literaturereference"):
            literature.append(LiteratureReference(reference=_t(source, "literaturereference")))
        if any(_t(source, tag) for tag in ("studyname", "sponsorstudynumb", "observestudytype")):
            fields["study"] = _build(
                Study,
                source,
                name=_t(source, "studyname"),
                sponsor_study_number=_t(source, "sponsorstudynumb"),
                study_type=_code(source, "observestudytype", StudyType),
            )
    fields["primary_sources"], fields["literature"] = sources, literature


def _sender(sender: Element) -> Sender:
    """A.3.1 sender."""
    return _build(
        Sender,
        sender,
        sender_type=_code(sender, "sendertype", SenderType),
        organisation=_t(sender, "senderorganization"),
        department=_t(sender, "senderdepartment"),
        title=_t(sender, "sendertitle"),
        given_name=_t(sender, "sendergivename"),
        middle_name=_t(sender, "sendermiddlename"),
        family_name=_t(sender, "senderfamilyname"),
        street=_t(sender, "senderstreetaddress"),
        city=_t(sender, "sendercity"),
        state=_t(sender, "senderstate"),
        postcode=_t(sender, "senderpostcode"),
        country=_t(sender, "sendercountrycode"),
        telephone=_t(sender, "sendertel"),
        fax=_t(sender, "senderfax"),
        email=_t(sender, "senderemailaddress"),
    )


# --------------------------------------------------------------------------------------------------
# B: patient, reactions, tests, drugs, narrative
# --------------------------------------------------------------------------------------------------


def _patient(patient: Element, fields: dict[str, Any], reactions: list[Reaction]) -> None:
    episodes, uncoded = _history(patient)
    history_text = "\n".join(t for t in (_t(patient, "patientmedicalhistorytext"), *uncoded) if t) or None
    sex = _t(patient, "patientsex")
    death = patient.find("patientdeath")
    parent = patient.find("parent")
    fields["patient"] = _build(
        Patient,
        patient,
        name=_t(patient, "patientinitial"),
        gp_record_number=_t(patient, "patientgpmedicalrecordnumb"),
        specialist_record_number=_t(patient, "patientspecialistrecordnumb"),
        hospital_record_number=_t(patient, "patienthospitalrecordnumb"),
        investigation_number=_t(patient, "patientinvestigationnumb"),
        birth_date=_date(patient, "patientbirthdate"),
        age=_quantity(patient, "patientonsetage", "patientonsetageunit", _AGE_UNITS),
        gestation_period=_quantity(patient, "gestationperiod", "gestationperiodunit", _GESTATION_UNITS),
        age_group=_code(patient, "patientagegroup", AgeGroup),
        weight_kg=_number(patient, "patientweight"),
        height_cm=_number(patient, "patientheight"),
        sex=Sex(sex) if sex in ("1", "2") else None,
        last_menstrual_period=_date(patient, "patientlastmenstrualdate"),
        medical_history=episodes,
        medical_history_text=history_text,
        past_drugs=[_past_drug(d) for d in patient.findall("patientpastdrugtherapy")],
        death=_death(death) if death is not None else None,
        parent=_parent(parent) if parent is not None else None,
    )
    fields["tests"] = _tests(patient)
    report_id = fields["sender_report_id"]
    fields["drugs"] = [_drug(d, reactions, f"{report_id}/drug/{k}") for k, d in enumerate(patient.findall("drug"))]
    summary = patient.find("summary")
    if summary is not None:
        fields["narrative"] = _t(summary, "narrativeincludeclinical")
        fields["reporter_comments"] = _t(summary, "reportercomment")
        fields["sender_comments"] = _t(summary, "sendercomment")
        diagnosis = _meddra(summary, "senderdiagnosismeddraversion", "senderdiagnosis")
        fields["sender_diagnoses"] = [diagnosis] if diagnosis else []


def _history(patient: Element) -> tuple[list[MedicalHistoryEpisode], list[str]]:
    """B.1.7.1 episodes: coded ones become D.7.1.r, the others lines of D.7.2."""
    episodes: list[MedicalHistoryEpisode] = []
    uncoded: list[str] = []
    for episode in patient.findall("medicalhistoryepisode"):
        term = _meddra(episode, "patientepisodenamemeddraversion", "patientepisodename")
        if term is None:
            name = _t(episode, "patientepisodename")
            if name:
                uncoded.append(name)
            continue
        continuing = _t(episode, "patientmedicalcontinue")
        episodes.append(
            _build(
                MedicalHistoryEpisode,
                episode,
                term=term,
                start_date=_date(episode, "patientmedicalstartdate"),
                end_date=_date(episode, "patientmedicalenddate"),
                continuing={"1": True, "2": False}.get(continuing or ""),
                comments=_t(episode, "patientmedicalcomment"),
            )
        )
    return episodes, uncoded


def _past_drug(drug: Element) -> PastDrug:
    return _build(
        PastDrug,
        drug,
        name=_t(drug, "patientdrugname"),
        start_date=_date(drug, "patientdrugstartdate"),
        end_date=_date(drug, "patientdrugenddate"),
        indication=_meddra(drug, "patientindicationmeddraversion", "patientdrugindication"),
        reaction=_meddra(drug, "patientdrgreactionmeddraversion", "patientdrugreaction"),
    )


def _death(death: Element) -> Death:
    reported = [
        CauseOfDeath(
            term=_meddra(c, "patientdeathreportmeddraversion", "patientdeathreport"),
            text=_free(c, "patientdeathreport"),
        )
        for c in death.findall("patientdeathcause")
    ]
    autopsy = [
        CauseOfDeath(
            term=_meddra(c, "patientdetermautopsmeddraversion", "patientdetermineautopsy"),
            text=_free(c, "patientdetermineautopsy"),
        )
        for c in death.findall("patientautopsy")
    ]
    return _build(
        Death,
        death,
        date=_date(death, "patientdeathdate"),
        autopsy_done=_yes(death, "patientautopsyyesno"),
        reported_causes=reported,
        autopsy_causes=autopsy,
    )


def _free(element: Element, tag: str) -> str | None:
    """A term sent as text rather than as an 8-digit MedDRA code."""
    value = _t(element, tag)
    return None if value is None or (value.isdigit() and len(value) == 8) else value


def _parent(parent: Element) -> Parent:
    sex = _t(parent, "parentsex")
    return _build(
        Parent,
        parent,
        identification=_t(parent, "parentidentification"),
        birth_date=_date(parent, "parentbirthdate"),
        age=_quantity(parent, "parentage", "parentageunit", _AGE_UNITS),
        last_menstrual_period=_date(parent, "parentlastmenstrualdate"),
        weight_kg=_number(parent, "parentweight"),
        height_cm=_number(parent, "parentheight"),
        sex=Sex(sex) if sex in ("1", "2") else None,
        medical_history_text=_t(parent, "parentmedicalrelevanttext"),
    )


def _reaction(element: Element, report_id: str, index: int, context: dict[str, Any]) -> Reaction:
    """B.2.i reaction; seriousness, confirmation and country come from A.1 (see the module notes)."""
    highlighted = _t(element, "termhighlighted")
    serious = context["highlight_serious"]
    highlight = {
        ("1", True): TermHighlighted.HIGHLIGHTED_SERIOUS,
        ("1", False): TermHighlighted.HIGHLIGHTED_NOT_SERIOUS,
        ("2", True): TermHighlighted.NOT_HIGHLIGHTED_SERIOUS,
        ("2", False): TermHighlighted.NOT_HIGHLIGHTED_NOT_SERIOUS,
    }.get((highlighted or "", serious))
    pt = _t(element, "reactionmeddrapt")
    return _build(
        Reaction,
        element,
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"e2b-r2:{report_id}/reaction/{index}")),  # stable across imports
        verbatim_term=_t(element, "primarysourcereaction"),
        meddra=_meddra(element, "reactionmeddraversionllt", "reactionmeddrallt"),
        pt_code=pt if pt and pt.isdigit() and len(pt) == 8 else None,
        term_highlighted=highlight,
        start_date=_date(element, "reactionstartdate"),
        end_date=_date(element, "reactionenddate"),
        duration=_quantity(element, "reactionduration", "reactiondurationunit", _TIME_UNITS),
        outcome=Outcome(outcome) if (outcome := _lookup(element, "reactionoutcome", _OUTCOMES)) else None,
        medical_confirmation=context["confirmed"],
        country=context["country"],
        **context["serious"],
    )


def _tests(patient: Element) -> list[DiagnosticTest]:
    """B.3.1 structured tests; B.3.2 free-text results as one more test."""
    tests: list[DiagnosticTest] = []
    for test in patient.findall("test"):
        result = _t(test, "testresult")
        number: Decimal | None = None
        if result is not None:
            try:
                number = Decimal(result)
            except InvalidOperation:
                number = None
        low, high = _number(test, "lowtestrange"), _number(test, "hightestrange")
        unit = _t(test, "testunit")
        tests.append(
            _build(
                DiagnosticTest,
                test,
                name=_t(test, "testname"),
                date=_date(test, "testdate"),
                result=TestResult(value=number, unit=unit) if number is not None else None,
                result_text=result if number is None else None,
                normal_low=Measurement(value=low, unit=unit) if low is not None else None,
                normal_high=Measurement(value=high, unit=unit) if high is not None else None,
                more_information=_yes(test, "moreinformation"),
            )
        )
    unstructured = _t(patient, "resultstestsprocedures")
    if unstructured:
        tests.append(DiagnosticTest(name="Results of tests and procedures (E2B(R2) B.3.2)", result_text=unstructured))
    return tests


def _drug(drug: Element, reactions: list[Reaction], key: str) -> Drug:
    """B.4.k drug: product, authorisation, one dosage, indication, action, relatedness."""
    dosage = _build(
        Dosage,
        drug,
        dose=_quantity(drug, "drugstructuredosagenumb", "drugstructuredosageunit", _DOSE_UNITS),
        period=_period(drug),
        start_date=_date(drug, "drugstartdate"),
        end_date=_date(drug, "drugenddate"),
        duration=_quantity(drug, "drugtreatmentduration", "drugtreatmentdurationunit", _TIME_UNITS),
        batch_lot=_t(drug, "drugbatchnumb"),
        text=_t(drug, "drugdosagetext"),
        dose_form_text=_t(drug, "drugdosageform"),
    )
    route = _t(drug, "drugadministrationroute")
    if route is not None:
        dosage = dosage.model_copy(update={"route_text": f"E2B(R2) route code {route}"})
    indication = _meddra(drug, "drugindicationmeddraversion", "drugindication")
    action = _lookup(drug, "actiondrug", _ACTIONS)
    return _build(
        Drug,
        drug,
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"e2b-r2:{key}")),
        role=_code(drug, "drugcharacterization", DrugRole),
        name=_t(drug, "medicinalproduct"),
        obtained_country=_t(drug, "obtaindrugcountry"),
        authorisation_number=_t(drug, "drugauthorizationnumb"),
        authorisation_country=_t(drug, "drugauthorizationcountry"),
        authorisation_holder=_t(drug, "drugauthorizationholder"),
        substances=[
            Substance(name=n) for n in (_t(s, "activesubstancename") for s in drug.findall("activesubstance")) if n
        ],
        dosages=[dosage] if dosage != Dosage() else [],
        cumulative_dose=_quantity(drug, "drugcumulativedosagenumb", "drugcumulativedosageunit", _DOSE_UNITS),
        gestation_at_exposure=_quantity(
            drug, "reactiongestationperiod", "reactiongestationperiodunit", _GESTATION_UNITS
        ),
        indications=[Indication(meddra=indication)] if indication else [],
        action_taken=ActionTaken(action) if action else None,
        additional_info=_t(drug, "drugadditional"),
        reaction_assessments=_relatedness(drug, reactions),
    )


def _period(drug: Element) -> Period | None:
    unit = _lookup(drug, "drugintervaldosagedefinition", _INTERVAL_UNITS)
    return Period(value=_number(drug, "drugintervaldosageunitnumb"), unit=unit) if unit else None


def _relatedness(drug: Element, reactions: list[Reaction]) -> list[DrugReactionAssessment]:
    """B.4.k.18 relatedness, matched to reactions by MedDRA code or reported term."""
    found: dict[str, list[RelatednessAssessment]] = {}
    for item in drug.findall("drugreactionrelatedness"):
        assessed = _t(item, "drugreactionasses")
        match = next(
            (
                r
                for r in reactions
                if assessed and assessed in (r.meddra.code if r.meddra else None, r.pt_code, r.verbatim_term)
            ),
            None,
        )
        if match is None:
            raise _Reject(item, f"drugreactionasses: {assessed!r} is not one of the report's reactions")
        found.setdefault(match.id, []).append(
            RelatednessAssessment(
                source=_t(item, "drugassessmentsource"),
                method=_t(item, "drugassessmentmethod"),
                result=_t(item, "drugresult"),
            )
        )
    order = [r.id for r in reactions]
    return [DrugReactionAssessment(reaction_id=rid, assessments=found[rid]) for rid in sorted(found, key=order.index)]
