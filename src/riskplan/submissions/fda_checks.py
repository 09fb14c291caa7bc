"""The test behind each FDA business rule, by the rule's id (the rule's text is in ``fda_rules.csv``).

Each test answers True when the message breaks the rule. The ids are FDA's (R0004 ... R0114 rejections,
W0001 ... W0012 warnings, from "E2B(R3) rejection and warning rules"), or the data element number for
an element FDA's "ICSR data elements and business rules" sheet marks Required (generic error text
"Data value required for tag <element>"). Rules riskplan cannot or need not test are in
:data:`riskplan.submissions.fda_rules.NOT_CHECKED`, each with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from riskplan.cases import DrugRole, NullFlavor, ReportType, SenderType
from riskplan.submissions.fda_message import (
    DEVICE_PROBLEM,
    NO_ADVERSE_EVENT,
    REMEDIAL_ACTION,
    FdaMessage,
)

Check = Callable[[FdaMessage], bool]
SPONTANEOUS, STUDY = ReportType.SPONTANEOUS, ReportType.STUDY


def _c17(m: FdaMessage) -> str:
    """C.1.7 as 'true', 'false' or 'NI' (nullFlavor / absent)."""
    value = m.icsr.local_expedited
    return "NI" if value is None else str(value).lower()


def _c112(m: FdaMessage) -> str:
    return "true" if m.combination_product == "true" else "false-or-NI"


def _report_type_not_in(allowed: tuple[str, ...]) -> Callable[[FdaMessage], bool]:
    return lambda m: m.report_type_fda is not None and m.report_type_fda not in allowed


def _r0012(m: FdaMessage) -> bool:
    return m.postmarket and _c112(m) == "true" and _c17(m) == "true" and _report_type_not_in(("1", "4"))(m)


def _r0013(m: FdaMessage) -> bool:
    return m.postmarket and _c112(m) == "true" and _c17(m) != "true" and _report_type_not_in(("2", "5"))(m)


def _r0014(m: FdaMessage) -> bool:
    return m.postmarket and _c112(m) != "true" and _c17(m) == "true" and _report_type_not_in(("1",))(m)


def _r0015(m: FdaMessage) -> bool:
    return m.postmarket and _c112(m) != "true" and _c17(m) != "true" and _report_type_not_in(("2",))(m)


def _r0016(m: FdaMessage) -> bool:
    return (
        m.premarket
        and _c17(m) == "true"
        and m.report_type in (SPONTANEOUS, STUDY)
        and _report_type_not_in(("1", "6"))(m)
    )


def _attachments_not_b64(m: FdaMessage) -> bool:
    found = [d.attachment for d in m.icsr.documents_held] + [r.attachment for r in m.icsr.literature]
    return any(a is not None and (a.compression is not None or a.representation != "B64") for a in found)


def _primary(m: FdaMessage) -> list[object]:
    return [s for s in m.icsr.primary_sources if s.primary_for_regulatory_purposes]


def _sender_missing(attribute: str) -> Check:
    return lambda m: m.icsr.sender is None or not getattr(m.icsr.sender, attribute)


def _r0022(m: FdaMessage) -> bool:
    s = m.icsr.sender
    return s is not None and s.sender_type not in (None, SenderType.PATIENT_CONSUMER) and not s.organisation


def _drug_roles(m: FdaMessage) -> set[DrugRole | None]:
    return {d.role for d in m.icsr.drugs}


def _no_role(m: FdaMessage, wanted: tuple[DrugRole, ...]) -> bool:
    return not (_drug_roles(m) & set(wanted))


SUS, INT, NAD = DrugRole.SUSPECT, DrugRole.INTERACTING, DrugRole.DRUG_NOT_ADMINISTERED


def _w0005(m: FdaMessage) -> bool:
    if not m.postmarket or not m.icsr.drugs:
        return False
    first = m.icsr.drugs[0]
    allowed = (SUS, INT, NAD) if any(dev.malfunction for _, dev in m.devices([first])) else (SUS, INT)
    return first.role not in allowed


def _r0072(m: FdaMessage) -> bool:
    for drug in m.icsr.drugs:
        similar = any(e.element == "FDA.G.k.1.a" for e in drug.regional)
        if similar and not (
            m.combination_product == "true"
            and drug.role is NAD
            and any(dev.malfunction for _, dev in m.devices([drug]))
        ):
            return True
    return False


def _r0027(m: FdaMessage) -> bool:
    no_event = any(r.meddra is not None and r.meddra.code == NO_ADVERSE_EVENT for r in m.icsr.reactions)
    malfunction = any(dev.malfunction for _, dev in m.devices())
    return (
        m.postmarket
        and m.combination_product == "true"
        and malfunction
        and no_event
        and m.icsr.patient.name_null_flavor is not NullFlavor.NA
    )


def _r0035(m: FdaMessage) -> bool:
    p = m.icsr.patient
    return not p.medical_history and not p.medical_history_text and p.medical_history_text_null_flavor is None


def _death_causes_without_text(causes_of: str) -> Check:
    def check(m: FdaMessage) -> bool:
        death = m.icsr.patient.death
        causes = getattr(death, causes_of) if death is not None else ()
        return any(c.term is not None and not c.text for c in causes)

    return check


def _r0045(m: FdaMessage) -> bool:
    d = m.icsr.patient.death
    return d is not None and d.date is not None and d.autopsy_done is None and d.autopsy_done_null_flavor is None


def _r0041(m: FdaMessage) -> bool:
    died = any(r.results_in_death for r in m.icsr.reactions)
    d = m.icsr.patient.death
    return (
        m.premarket
        and m.report_type is STUDY
        and m.ind_receiver
        and died
        and (d is None or (d.date is None and d.date_null_flavor is None))
    )


def _r0051(m: FdaMessage) -> bool:
    parent = m.icsr.patient.parent
    return parent is not None and parent.sex is None and parent.sex_null_flavor is None


def _tests(m: FdaMessage, test: Callable[..., bool]) -> bool:
    return any(test(t) for t in m.icsr.tests)


def _named(t: object) -> bool:
    return bool(getattr(t, "name", None) or getattr(t, "meddra", None))


def _result_missing(t: object) -> bool:
    return (
        getattr(t, "meddra", None) is not None
        and getattr(t, "result_code", None) is None
        and getattr(t, "result", None) is None
        and not getattr(t, "result_text", None)
    )


def _premarket_study_with_ind(m: FdaMessage) -> bool:
    return m.premarket and m.report_type is STUDY and bool(m.ind_number)


def _assessment_missing(part: str) -> Check:
    def check(m: FdaMessage) -> bool:
        if not _premarket_study_with_ind(m):
            return False
        found = [a for d in m.suspects for ra in d.reaction_assessments for a in ra.assessments]
        return not found or any(not getattr(a, part) for a in found)

    return check


def _device_check(test: Callable[[FdaMessage], bool]) -> Check:
    return lambda m: m.postmarket and test(m)


def _r0092(m: FdaMessage) -> bool:
    return m.report_type_fda == "5" and not any(dev.malfunction for _, dev in m.devices(m.suspects))


def _r0093(m: FdaMessage) -> bool:
    return any(dev.malfunction and not dev.characteristics.get(DEVICE_PROBLEM) for _, dev in m.devices())


def _r0094(m: FdaMessage) -> bool:
    if m.combination_product != "true":
        return False
    devices = [dev for _, dev in m.devices()]
    return not devices or all(not dev.names and not dev.product_code for dev in devices)


def _r0096(m: FdaMessage) -> bool:
    return any(not dev.names and not dev.product_code for _, dev in m.devices())


def _w0007(m: FdaMessage) -> bool:
    return m.report_type_fda == "4" and any(
        dev.malfunction and not dev.characteristics.get(REMEDIAL_ACTION) for _, dev in m.devices()
    )


def _required_regional(values: Callable[[FdaMessage], list[str]]) -> Check:
    return lambda m: not values(m)


def _reporter_email(m: FdaMessage) -> bool:
    return any(not s.email and s.email_null_flavor is None for s in m.icsr.primary_sources)


def _reaction_intervention(m: FdaMessage) -> bool:
    return any(not any(e.element == "FDA.E.i.3.2h" for e in r.regional) for r in m.icsr.reactions)


def _race_or_ethnicity_not_na(prefix: str) -> Check:
    return lambda m: m.no_patient and any(v != "NF:NA" for v in m.patient_values(prefix))


CHECKS: Final[dict[str, Check]] = {
    # routing: batch and message receivers
    "R0006": lambda m: m.postmarket and m.message_receiver != "CDER",
    "R0007": lambda m: m.premarket and m.message_receiver not in ("CDER_IND", "CBER_IND", "CDER_IND_EXEMPT_BA_BE"),
    # C.1.3 type of report on the premarket route
    "R0008": lambda m: (
        m.premarket
        and m.message_receiver in ("CDER_IND", "CBER_IND", "CDER_IND_EXEMPT_BA_BE")
        and bool(m.ind_number or m.pre_anda_number)
        and m.study_type in ("1", "2", "3")
        and m.report_type is not STUDY
    ),
    "R0110": lambda m: (
        m.premarket
        and m.ind_receiver
        and bool(m.ind_number)
        and m.study_type is None
        and m.report_type is not SPONTANEOUS
    ),
    "R0111": lambda m: m.premarket and m.ba_be and m.report_type is not STUDY,
    "R0112": lambda m: (
        m.premarket and m.ind_receiver and m.report_type in (ReportType.OTHER, ReportType.NOT_AVAILABLE_TO_SENDER)
    ),
    # C.1.6 documents, C.1.7 local criteria, FDA.C.1.7.1 report type
    "R0009": lambda m: bool(m.icsr.additional_documents) and not m.icsr.documents_held,
    "R0010": _attachments_not_b64,
    "R0011": lambda m: (
        m.initial and m.icsr.local_expedited is None and m.icsr.local_expedited_null_flavor is NullFlavor.NI
    ),
    "C.1.7": lambda m: m.icsr.local_expedited is None and m.icsr.local_expedited_null_flavor is None,
    "R0012": _r0012,
    "R0013": _r0013,
    "R0014": _r0014,
    "R0015": _r0015,
    "R0016": _r0016,
    # C.1.9 other identifiers, C.1.10 linked reports, C.1.11 nullification
    "R0017": lambda m: bool(m.icsr.other_case_ids_flag) and not m.icsr.other_case_ids,
    "W0001": lambda m: m.premarket and m.aggregate and not m.icsr.linked_reports,
    "R0101": lambda m: m.initial and m.icsr.nullification is not None,
    "C.1.11.2": lambda m: m.icsr.nullification is not None and not m.icsr.nullification_reason,
    # C.2 primary sources, C.3 sender
    "R0019": lambda m: any(
        s.country is None and s.country_null_flavor is None
        for s in m.icsr.primary_sources
        if s.primary_for_regulatory_purposes
    ),
    "R0020": lambda m: any(
        s.qualification is None and s.qualification_null_flavor is None
        for s in m.icsr.primary_sources
        if s.primary_for_regulatory_purposes
    ),
    "R0021": lambda m: not _primary(m),
    "R0022": _r0022,
    # C.5 study
    "R0023": lambda m: m.report_type is STUDY and m.study_type is None,
    "R0102": lambda m: (
        m.premarket
        and m.report_type is STUDY
        and m.message_receiver in ("CDER_IND", "CBER_IND", "CDER_IND_EXEMPT_BA_BE")
        and m.study_type not in ("1", "2", "3")
    ),
    "R0103": lambda m: m.report_type is SPONTANEOUS and m.message_receiver == "CDER" and m.study_type is not None,
    "R0104": lambda m: (
        m.postmarket and m.report_type is STUDY and m.message_receiver == "CDER" and m.study_type not in ("1", "2", "3")
    ),
    "R0113": lambda m: m.premarket and m.ind_receiver and m.report_type is SPONTANEOUS and m.study_type is not None,
    "W0002": lambda m: m.aggregate and m.study_type != "1",
    "R0024": lambda m: m.report_type in (SPONTANEOUS, STUDY) and m.ind_receiver and not m.ind_number,
    "R0107": lambda m: m.postmarket and m.cder and bool(m.ind_number),
    "R0025": lambda m: m.report_type is STUDY and m.ba_be and not m.pre_anda_number,
    "R0108": lambda m: m.postmarket and m.cder and bool(m.pre_anda_number),
    "R0026": lambda m: bool(m.ind_number) and not m.study_values("FDA.C.5.6.r"),
    "R0109": lambda m: m.postmarket and m.cder and bool(m.study_values("FDA.C.5.6.r")),
    # D patient
    "R0027": _r0027,
    "W0010": lambda m: (
        m.premarket
        and m.report_type is STUDY
        and bool(m.icsr.linked_reports)
        and bool(m.ind_number)
        and not m.aggregate
    ),
    "R0035": _r0035,
    "R0036": lambda m: any(not d.name and d.name_null_flavor is None for d in m.icsr.patient.past_drugs),
    "R0041": _r0041,
    "R0044": _death_causes_without_text("reported_causes"),
    "R0045": _r0045,
    "R0048": _death_causes_without_text("autopsy_causes"),
    "R0051": _r0051,
    "W0003": _race_or_ethnicity_not_na("FDA.D.11"),
    "W0004": _race_or_ethnicity_not_na("FDA.D.12"),
    # E reactions, F tests
    "R0058": lambda m: any(r.verbatim_term and not r.verbatim_language for r in m.icsr.reactions),
    "R0061": lambda m: _tests(m, lambda t: _named(t) and t.date is None and t.date_null_flavor is None),
    "R0062": lambda m: _tests(m, lambda t: (t.date is not None or t.date_null_flavor) and not _named(t)),
    "R0064": lambda m: _tests(m, lambda t: (t.date is not None or t.date_null_flavor) and not _named(t)),
    "R0065": lambda m: _tests(m, _result_missing),
    "R0066": lambda m: _tests(m, _result_missing),
    "R0068": lambda m: _tests(m, _result_missing),
    "R0067": lambda m: _tests(m, lambda t: t.result is not None and t.result.unit is None),
    # G drugs
    "W0005": _w0005,
    "R0069": lambda m: m.postmarket and m.message_receiver == "CDER" and _no_role(m, (SUS, INT, NAD)),
    "R0070": lambda m: (
        m.premarket and m.report_type is STUDY and m.ind_receiver and (_no_role(m, (SUS, INT)) or NAD in _drug_roles(m))
    ),
    "R0071": lambda m: m.premarket and m.report_type is STUDY and m.ba_be and _no_role(m, (SUS, INT, NAD)),
    "R0072": _r0072,
    "R0114": lambda m: (
        m.postmarket
        and m.message_receiver == "CDER"
        and m.report_type is STUDY
        and m.study_type in ("2", "3")
        and any(
            ("IND" in (d.authorisation_number or "").upper() or "PANDA" in (d.authorisation_number or "").upper())
            for d in m.icsr.drugs
        )
    ),
    "R0074": lambda m: any(d.authorisation_number and not d.authorisation_country for d in m.icsr.drugs),
    "R0085": _assessment_missing("source"),
    "R0086": _assessment_missing("method"),
    "R0087": _assessment_missing("result"),
    "W0006": lambda m: (
        bool(m.pre_anda_number) and any(not any(e.element == "FDA.G.k.10a" for e in d.regional) for d in m.icsr.drugs)
    ),
    # FDA.G.k.12.r device constituent parts of a combination product
    "R0092": _device_check(_r0092),
    "R0093": _device_check(_r0093),
    "R0094": _device_check(_r0094),
    "R0095": _device_check(_r0094),
    "R0096": _device_check(_r0096),
    "W0007": _device_check(_w0007),
    # H narrative
    "R0099": lambda m: any(s.language is None for s in m.icsr.case_summaries),
    # elements FDA's data element sheet marks Required (postmarket and premarket)
    "FDA.C.1.7.1": _required_regional(lambda m: m.case_values("FDA.C.1.7.1")),
    "FDA.C.1.12": _required_regional(lambda m: m.case_values("FDA.C.1.12")),
    "FDA.C.2.r.2.8": _reporter_email,
    "C.3.3.1": _sender_missing("department"),
    "C.3.3.2": _sender_missing("title"),
    "C.3.3.3": _sender_missing("given_name"),
    "C.3.3.5": _sender_missing("family_name"),
    "C.3.4.1": _sender_missing("street"),
    "C.3.4.2": _sender_missing("city"),
    "C.3.4.3": _sender_missing("state"),
    "C.3.4.4": _sender_missing("postcode"),
    "C.3.4.5": _sender_missing("country"),
    "C.3.4.6": _sender_missing("telephone"),
    "C.3.4.7": _sender_missing("fax"),
    "C.3.4.8": _sender_missing("email"),
    "FDA.D.11.r.1": _required_regional(lambda m: m.patient_values("FDA.D.11")),
    "FDA.D.12": _required_regional(lambda m: m.patient_values("FDA.D.12")),
    "FDA.E.i.3.2h": _reaction_intervention,
}
