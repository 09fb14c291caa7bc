"""Export of ICSRs as an ICH E2B(R3) batch: ``MCCI_IN200100UV01`` wrapping ``PORR_IN049016UV`` messages.

The structure follows the ICH E2B(R3) Implementation Guide (IG) v5.02 section 3 and the FDA FAERS
example instances (Scenario 6, the all-elements file, is the map). Each builder below names the
data elements it writes. A case that breaks an error-level business rule is refused before any XML
is written, and the finished batch is validated against the ICH schema set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from lxml import etree

from riskplan.cases.codes import ObservationCode as Obs
from riskplan.cases.codes import Oid, Severity
from riskplan.cases.e2b._base import E2bError, Rejection, RuleViolation, get_schema, schema_errors
from riskplan.cases.e2b._export_clinical import _adverse_event_assessment
from riskplan.cases.e2b._rules import check_business_rules
from riskplan.cases.e2b._write import (
    Element,
    _author,
    _bl,
    _country,
    _device,
    _ed,
    _el,
    _has_any,
    _nf,
    _part,
    _regional,
    _text_or_nf,
    _ts,
    _wrap,
)
from riskplan.cases.e2b._xml import NSMAP, element_path, parse_fragment, q
from riskplan.cases.model import (
    Hl7Timestamp,
    Icsr,
    NullFlavor,
    PrimarySource,
    RegionalElement,
    Sender,
)

__all__ = ["ExportedBatch", "export_batches", "export_icsrs"]


_REGIONAL_SLOTS: dict[str, frozenset[str]] = {
    "case": frozenset({"reference", "component", "outboundRelationship", "subjectOf1", "subjectOf2"}),
    "study": frozenset({"authorization"}),
    "patient": frozenset({"subjectOf2"}),
    "reaction": frozenset({"outboundRelationship2"}),
    "drug": frozenset({"outboundRelationship2", "inboundRelationship", "part", "subjectOf", "component"}),
}


def export_icsrs(
    icsrs: Sequence[Icsr],
    *,
    batch_id: str,
    sender_id: str,
    receiver_id: str,
    created: dt.datetime,
    message_receiver_id: str | None = None,
    validate: bool = True,
    message_ids: Sequence[str] | None = None,
) -> bytes:
    """Write ``icsrs`` as one E2B(R3) batch file (UTF-8 XML bytes).

    ``batch_id``, ``sender_id`` and ``receiver_id`` are N.1.2, N.1.3 and N.1.4; ``created`` is N.1.5
    and N.2.r.4. Each message's N.2.r.2 is ``sender_id`` and its N.2.r.3 ``message_receiver_id``
    (FDA: ``CDER`` inside a ``ZZFDA`` batch), by default ``receiver_id``. N.2.r.1 is the case's C.1.1, or
    the matching entry of ``message_ids`` (unique message numbers an acknowledgment refers to).

    Raises :class:`E2bError` listing every error-level business-rule violation of every case, or
    (``validate=True``, the default) any schema violation of the finished file.
    """
    if not icsrs:
        raise E2bError("nothing to export: an E2B(R3) batch needs at least one ICSR")
    if message_ids is not None and len(message_ids) != len(icsrs):
        raise E2bError(f"{len(message_ids)} message number(s) for {len(icsrs)} ICSR(s)")
    _refuse_rule_errors(icsrs)
    stamp = str(Hl7Timestamp.from_datetime(created))
    scratch = etree.Element(q("MCCI_IN200100UV01"), nsmap=NSMAP)
    for index, icsr in enumerate(icsrs):
        message_id = message_ids[index] if message_ids is not None else icsr.sender_report_id
        _message(scratch, icsr, stamp, sender_id, message_receiver_id or receiver_id, message_id)
    data, root = _batch(list(scratch), batch_id, stamp, sender_id, receiver_id)
    if validate:
        _validate(root)
    return data


@dataclass(frozen=True)
class ExportedBatch:
    """One batch file of a split export: its N.1.2 batch number, its bytes and the cases it carries."""

    batch_id: str
    data: bytes
    indexes: tuple[int, ...]  # positions of its ICSRs in the list exported


def export_batches(
    icsrs: Sequence[Icsr],
    *,
    batch_id: str,
    sender_id: str,
    receiver_id: str,
    created: dt.datetime,
    max_bytes: int,
    max_messages: int | None = None,
    message_receiver_id: str | None = None,
    message_ids: Sequence[str] | None = None,
    rules_checked: bool = False,
) -> list[ExportedBatch]:
    """``icsrs`` as as many schema-valid batch files as it takes for each to be at most ``max_bytes`` (and
    ``max_messages`` ICSRs), so that an importer with that file-size limit (riskplan's own included)
    reads every one. One file keeps ``batch_id``; several are numbered ``batch_id-0001``, ``-0002``, ...

    Messages are packed in order by their measured size; a file that still comes out too large is split
    in two. One ICSR larger than ``max_bytes`` on its own is refused (:class:`E2bError`). ``message_ids``
    gives each ICSR's N.2.r.1 as in :func:`export_icsrs`; ``rules_checked``: the caller has already
    refused the ICSRs with business-rule errors (:func:`check_business_rules`), so they are not checked twice.
    """
    if not icsrs:
        raise E2bError("nothing to export: an E2B(R3) batch needs at least one ICSR")
    if message_ids is not None and len(message_ids) != len(icsrs):
        raise E2bError(f"{len(message_ids)} message number(s) for {len(icsrs)} ICSR(s)")
    if rules_checked:
        slots: list[RuleViolation] = []
        for index, icsr in enumerate(icsrs):
            _check_regional_slots(icsr, index, slots)
        if slots:
            raise E2bError(f"export refused: {len(slots)} business-rule error(s)", violations=slots)
    else:
        _refuse_rule_errors(icsrs)
    stamp = str(Hl7Timestamp.from_datetime(created))
    scratch = etree.Element(q("MCCI_IN200100UV01"), nsmap=NSMAP)
    for index, icsr in enumerate(icsrs):
        message_id = message_ids[index] if message_ids is not None else icsr.sender_report_id
        _message(scratch, icsr, stamp, sender_id, message_receiver_id or receiver_id, message_id)
    messages = list(scratch)
    placeholder = f"{batch_id}-0000"  # as long as any numbered batch id
    overhead = len(_batch([], placeholder, stamp, sender_id, receiver_id)[0])
    groups: list[list[int]] = []
    for group in _pack(messages, overhead, max_bytes, max_messages):
        groups += _fit(messages, group, placeholder, stamp, sender_id, receiver_id, max_bytes, icsrs)
    batches = []
    for number, group in enumerate(groups, start=1):
        name = batch_id if len(groups) == 1 else f"{batch_id}-{number:04d}"
        data, root = _batch([messages[i] for i in group], name, stamp, sender_id, receiver_id)
        _validate(root)
        batches.append(ExportedBatch(name, data, tuple(group)))
    return batches


def _pack(messages: list[Element], overhead: int, max_bytes: int, max_messages: int | None) -> list[list[int]]:
    """Consecutive groups of messages whose estimated batch size is at most ``max_bytes``."""
    groups: list[list[int]] = [[]]
    size = overhead
    for index, message in enumerate(messages):
        alone = etree.tostring(message, pretty_print=True)
        estimate = len(alone) + 2 * alone.count(b"\n")  # indented one level deeper inside the batch
        full = max_messages is not None and len(groups[-1]) >= max_messages
        if groups[-1] and (size + estimate > max_bytes or full):
            groups.append([])
            size = overhead
        groups[-1].append(index)
        size += estimate
    return groups


def _fit(
    messages: list[Element],
    group: list[int],
    batch_id: str,
    stamp: str,
    sender_id: str,
    receiver_id: str,
    max_bytes: int,
    icsrs: Sequence[Icsr],
) -> list[list[int]]:
    """``group``, split in halves until each half's file is at most ``max_bytes``."""
    data, _ = _batch([messages[i] for i in group], batch_id, stamp, sender_id, receiver_id)
    if len(data) <= max_bytes:
        return [group]
    if len(group) == 1:
        case = icsrs[group[0]].sender_report_id
        raise E2bError(
            f"export refused: case {case} alone makes a batch file of {len(data):,} bytes, more than the "
            f"{max_bytes:,} allowed per file"
        )
    half = len(group) // 2
    return [
        *_fit(messages, group[:half], batch_id, stamp, sender_id, receiver_id, max_bytes, icsrs),
        *_fit(messages, group[half:], batch_id, stamp, sender_id, receiver_id, max_bytes, icsrs),
    ]


def _batch(
    messages: Sequence[Element], batch_id: str, stamp: str, sender_id: str, receiver_id: str
) -> tuple[bytes, Element]:
    """The N.1 batch wrapper around ``messages`` (moved into it), serialised."""
    root = etree.Element(q("MCCI_IN200100UV01"), {"ITSVersion": "XML_1.0"}, nsmap=NSMAP)
    _el(root, "id", extension=batch_id, root=Oid.BATCH_NUMBER)
    _el(root, "creationTime", value=stamp)
    _el(root, "responseModeCode", code="D")
    _el(root, "interactionId", extension="MCCI_IN200100UV01", root=Oid.HL7_INTERACTION)
    _el(root, "name", code="1", codeSystem=Oid.MESSAGE_TYPE, displayName="ichicsr")  # N.1.1
    root.extend(messages)
    _device(root, "receiver", "RCV", receiver_id, Oid.BATCH_RECEIVER)  # N.1.4
    _device(root, "sender", "SND", sender_id, Oid.BATCH_SENDER)  # N.1.3
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data, root


def _refuse_rule_errors(icsrs: Sequence[Icsr]) -> None:
    found: list[RuleViolation] = []
    for index, icsr in enumerate(icsrs):
        for violation in check_business_rules(icsr):
            if violation.severity is Severity.ERROR:
                path = f"icsrs[{index}] ({icsr.sender_report_id}).{violation.path}"
                found.append(RuleViolation(violation.element, path, violation.message, violation.severity))
        _check_regional_slots(icsr, index, found)
    if found:
        raise E2bError(f"export refused: {len(found)} business-rule error(s)", violations=found)


def _check_regional_slots(icsr: Icsr, index: int, found: list[RuleViolation]) -> None:
    owners: list[tuple[str, str, Iterable[RegionalElement]]] = [
        ("case", "regional", icsr.regional),
        ("patient", "patient.regional", icsr.patient.regional),
        ("study", "study.regional", icsr.study.regional if icsr.study else ()),
    ]
    owners += [("reaction", f"reactions[{i}].regional", r.regional) for i, r in enumerate(icsr.reactions)]
    owners += [("drug", f"drugs[{k}].regional", d.regional) for k, d in enumerate(icsr.drugs)]
    for kind, path, items in owners:
        for item in items:
            tag = etree.QName(parse_fragment(item.xml)).localname
            if tag not in _REGIONAL_SLOTS[kind]:
                message = f"a regional <{tag}> cannot be placed under a {kind}"
                found.append(RuleViolation(item.element, f"icsrs[{index}].{path}", message))


def _validate(root: Element) -> None:
    if not schema_errors(root):  # libxml2, fast; the pure-Python validator then says why, in detail
        return
    errors = list(get_schema().iter_errors(root, use_location_hints=False))
    if errors:
        rejections = [
            Rejection(None, None, element_path(e.elem) if e.elem is not None else (e.path or "/"), e.reason or str(e))
            for e in errors[:50]
        ]
        raise E2bError("export produced XML that the ICH schema rejects (a riskplan bug)", rejections=rejections)


def _message(root: Element, icsr: Icsr, stamp: str, sender_id: str, receiver_id: str, message_id: str) -> None:
    message = _el(root, "PORR_IN049016UV")
    _el(message, "id", extension=message_id, root=Oid.SENDER_REPORT_ID)  # N.2.r.1
    _el(message, "creationTime", value=stamp)  # N.2.r.4
    _el(message, "interactionId", extension="PORR_IN049016UV", root=Oid.HL7_INTERACTION)
    _el(message, "processingCode", code="P")
    _el(message, "processingModeCode", code="T")
    _el(message, "acceptAckCode", code="AL")
    _device(message, "receiver", "RCV", receiver_id, Oid.MESSAGE_RECEIVER)  # N.2.r.3
    _device(message, "sender", "SND", sender_id, Oid.MESSAGE_SENDER)  # N.2.r.2
    act = _el(message, "controlActProcess", classCode="CACT", moodCode="EVN")
    _el(act, "code", code="PORR_TE049016UV", codeSystem=Oid.HL7_TRIGGER_EVENT)
    _ts(act, "effectiveTime", icsr.created)  # C.1.2
    event = _el(_wrap(act, "subject", "SUBJ"), "investigationEvent", classCode="INVSTG", moodCode="EVN")
    _investigation(event, icsr)


def _investigation(event: Element, icsr: Icsr) -> None:
    _el(event, "id", extension=icsr.sender_report_id, root=Oid.SENDER_REPORT_ID)  # C.1.1
    _el(event, "id", extension=icsr.worldwide_case_id, root=Oid.WORLDWIDE_CASE_ID)  # C.1.8.1
    _el(event, "code", code="PAT_ADV_EVNT", codeSystem=Oid.HL7_ACT_CODE)
    if icsr.narrative is not None:
        _el(event, "text", icsr.narrative, mediaType="text/plain")  # H.1
    _el(event, "statusCode", code="active")
    if icsr.first_received is not None:
        _ts(_el(event, "effectiveTime"), "low", icsr.first_received)  # C.1.4
    _ts(event, "availabilityTime", icsr.most_recent_info)  # C.1.5
    _documents(event, icsr)
    _regional(event, icsr.regional, "reference")
    _adverse_event_assessment(_el(_wrap(event, "component", "COMP"), "adverseEventAssessment"), icsr)
    _case_components(event, icsr)
    _regional(event, icsr.regional, "component")
    _related_investigations(event, icsr)
    _regional(event, icsr.regional, "outboundRelationship")
    if icsr.sender is not None:
        _sender(event, icsr.sender)  # C.3
    for other in icsr.other_case_ids:  # C.1.9.1.r
        control = _el(_wrap(event, "subjectOf1", "SUBJ"), "controlActEvent", classCode="CACT", moodCode="EVN")
        _el(control, "id", assigningAuthorityName=other.source, extension=other.case_id, root=Oid.OTHER_CASE_ID)
    _regional(event, icsr.regional, "subjectOf1")
    _characteristics(event, icsr)
    _regional(event, icsr.regional, "subjectOf2")


def _documents(event: Element, icsr: Icsr) -> None:
    """C.1.6.1.r documents held by sender and C.4.r literature references."""
    for held in icsr.documents_held:
        document = _el(_wrap(event, "reference", "REFR"), "document", classCode="DOC", moodCode="EVN")
        _el(document, "code", code="1", codeSystem=Oid.DOCUMENT, displayName="documentsHeldBySender")
        _el(document, "title", held.title)  # C.1.6.1.r.1
        if held.attachment is not None:
            _ed(document, "text", held.attachment)  # C.1.6.1.r.2
    for reference in icsr.literature:
        document = _el(_wrap(event, "reference", "REFR"), "document", classCode="DOC", moodCode="EVN")
        _el(document, "code", code="2", codeSystem=Oid.DOCUMENT, displayName="literatureReference")
        if reference.attachment is not None:
            _ed(document, "text", reference.attachment)  # C.4.r.2
        if reference.reference is not None or reference.reference_null_flavor is not None:
            citation = _el(document, "bibliographicDesignationText")  # C.4.r.1
            _text_or_nf(citation, reference.reference, reference.reference_null_flavor)


def _case_observation(event: Element, code: Obs) -> Element:
    observation = _el(_wrap(event, "component", "COMP"), "observationEvent", classCode="OBS", moodCode="EVN")
    _el(observation, "code", code=code.value, codeSystem=Oid.OBSERVATION)
    return observation


def _case_components(event: Element, icsr: Icsr) -> None:
    if icsr.additional_documents is not None:  # C.1.6.1
        _bl(_case_observation(event, Obs.ADDITIONAL_DOCUMENTS), icsr.additional_documents)
    if icsr.local_expedited is not None or icsr.local_expedited_null_flavor is not None:  # C.1.7
        _bl(_case_observation(event, Obs.LOCAL_CRITERIA), icsr.local_expedited, icsr.local_expedited_null_flavor)
    for summary in icsr.case_summaries:  # H.5.r
        observation = _case_observation(event, Obs.SUMMARY_AND_COMMENT)
        value = _el(observation, "value", summary.text, xsi_type="ED")
        if summary.language:
            value.set("language", summary.language)
        _author(observation, "2")


def _related_investigations(event: Element, icsr: Icsr) -> None:
    if icsr.first_sender is not None:  # C.1.8.2
        related = _related(event, None)
        _el(related, "code", code="1", codeSystem=Oid.RELATED_INVESTIGATION, displayName="initialReport")
        entity = _el(_control_author(related), "assignedEntity", classCode="ASSIGNED")
        _el(entity, "code", code=icsr.first_sender.value, codeSystem=Oid.FIRST_SENDER)
    for linked in icsr.linked_reports:  # C.1.10.r
        related = _related(event, None)
        _nf(_el(related, "code"), NullFlavor.NA)
        control = _el(_wrap(related, "subjectOf2", "SUBJ"), "controlActEvent", classCode="CACT", moodCode="EVN")
        _el(control, "id", extension=linked, root=Oid.WORLDWIDE_CASE_ID)
    for source in icsr.primary_sources:  # C.2.r
        related = _related(event, 1 if source.primary_for_regulatory_purposes else None)
        _el(related, "code", code="2", codeSystem=Oid.RELATED_INVESTIGATION, displayName="sourceReport")
        _primary_source(_el(_control_author(related), "assignedEntity", classCode="ASSIGNED"), source)


def _related(event: Element, priority: int | None) -> Element:
    relationship = _wrap(event, "outboundRelationship", "SPRT")
    if priority is not None:
        _el(relationship, "priorityNumber", value=str(priority))  # C.2.r.5
    return _el(relationship, "relatedInvestigation", classCode="INVSTG", moodCode="EVN")


def _control_author(related: Element) -> Element:
    control = _el(_wrap(related, "subjectOf2", "SUBJ"), "controlActEvent", classCode="CACT", moodCode="EVN")
    return _wrap(control, "author", "AUT")


def _street(parent: Element, street: str | None, flavor: NullFlavor | None = None) -> None:
    if street is None:
        _part(parent, "streetAddressLine", None, flavor)
        return
    for line in street.split("\n"):
        if line.strip():
            _el(parent, "streetAddressLine", line.strip())


def _telecom(parent: Element, scheme: str, value: str | None, flavor: NullFlavor | None = None) -> None:
    if value is not None:
        _el(parent, "telecom", value=f"{scheme}:{quote(value, safe='+-()./@#*,;=')}")
    elif flavor is not None:
        _nf(_el(parent, "telecom"), flavor)


def _primary_source(entity: Element, s: PrimarySource) -> None:
    """C.2.r.1-C.2.r.4 (the ``assignedEntity`` of a source report)."""
    if _has_any(s, "street", "city", "state", "postcode"):
        addr = _el(entity, "addr")
        _street(addr, s.street, s.street_null_flavor)  # C.2.r.2.3
        _part(addr, "city", s.city, s.city_null_flavor)  # C.2.r.2.4
        _part(addr, "state", s.state, s.state_null_flavor)  # C.2.r.2.5
        _part(addr, "postalCode", s.postcode, s.postcode_null_flavor)  # C.2.r.2.6
    _telecom(entity, "tel", s.telephone, s.telephone_null_flavor)  # C.2.r.2.7
    _telecom(entity, "mailto", s.email)  # FDA.C.2.r.2.8
    if s.email is None and s.email_null_flavor is not None:  # FDA: <telecom nullFlavor="NASK" value="mailto"/>
        _nf(_el(entity, "telecom", value="mailto"), s.email_null_flavor)
    person = _el(entity, "assignedPerson", classCode="PSN", determinerCode="INSTANCE")
    if _has_any(s, "title", "given_name", "middle_name", "family_name"):
        name = _el(person, "name")
        _part(name, "prefix", s.title, s.title_null_flavor)  # C.2.r.1.1
        _part(name, "given", s.given_name, s.given_name_null_flavor)  # C.2.r.1.2
        _part(name, "given", s.middle_name, s.middle_name_null_flavor)  # C.2.r.1.3
        _part(name, "family", s.family_name, s.family_name_null_flavor)  # C.2.r.1.4
    if s.qualification is not None or s.qualification_null_flavor is not None:  # C.2.r.4
        qualified = _el(person, "asQualifiedEntity", classCode="QUAL")
        if s.qualification is not None:
            _el(qualified, "code", code=s.qualification.value, codeSystem=Oid.QUALIFICATION)
        elif s.qualification_null_flavor is not None:
            _nf(_el(qualified, "code"), s.qualification_null_flavor)
    if s.country is not None or s.country_null_flavor is not None:  # C.2.r.3
        located = _el(person, "asLocatedEntity", classCode="LOCE")
        location = _el(located, "location", classCode="COUNTRY", determinerCode="INSTANCE")
        _country(location, "code", s.country, s.country_null_flavor)
    _organisation(entity, s.department, s.department_null_flavor, s.organisation, s.organisation_null_flavor)


def _organisation(
    entity: Element,
    department: str | None,
    department_nf: NullFlavor | None,
    organisation: str | None,
    organisation_nf: NullFlavor | None,
) -> None:
    """``representedOrganization`` (department) wrapping the organisation (C.2.r.2.1/2, C.3.2/C.3.3.1)."""
    if department is None and department_nf is None and organisation is None and organisation_nf is None:
        return
    outer = _el(entity, "representedOrganization", classCode="ORG", determinerCode="INSTANCE")
    _part(outer, "name", department, department_nf)
    if organisation is not None or organisation_nf is not None:
        inner_entity = _el(outer, "assignedEntity", classCode="ASSIGNED")
        inner = _el(inner_entity, "representedOrganization", classCode="ORG", determinerCode="INSTANCE")
        _part(inner, "name", organisation, organisation_nf)


def _sender(event: Element, s: Sender) -> None:
    """C.3 Information on sender of case safety report."""
    control = _el(_wrap(event, "subjectOf1", "SUBJ"), "controlActEvent", classCode="CACT", moodCode="EVN")
    entity = _el(_wrap(control, "author", "AUT"), "assignedEntity", classCode="ASSIGNED")
    if s.sender_type is not None:
        _el(entity, "code", code=s.sender_type.value, codeSystem=Oid.SENDER_TYPE)  # C.3.1
    if _has_any(s, "street", "city", "state", "postcode"):
        addr = _el(entity, "addr")
        _street(addr, s.street)  # C.3.4.1
        _part(addr, "city", s.city)  # C.3.4.2
        _part(addr, "state", s.state)  # C.3.4.3
        _part(addr, "postalCode", s.postcode)  # C.3.4.4
    _telecom(entity, "tel", s.telephone)  # C.3.4.6
    _telecom(entity, "fax", s.fax)  # C.3.4.7
    _telecom(entity, "mailto", s.email)  # C.3.4.8
    if _has_any(s, "title", "given_name", "middle_name", "family_name", "country"):
        person = _el(entity, "assignedPerson", classCode="PSN", determinerCode="INSTANCE")
        if _has_any(s, "title", "given_name", "middle_name", "family_name"):
            name = _el(person, "name")
            _part(name, "prefix", s.title)  # C.3.3.2
            _part(name, "given", s.given_name)  # C.3.3.3
            _part(name, "given", s.middle_name)  # C.3.3.4
            _part(name, "family", s.family_name)  # C.3.3.5
        if s.country is not None:  # C.3.4.5
            located = _el(person, "asLocatedEntity", classCode="LOCE")
            location = _el(located, "location", classCode="COUNTRY", determinerCode="INSTANCE")
            _country(location, "code", s.country)
    _organisation(entity, s.department, None, s.organisation, None)  # C.3.3.1, C.3.2


def _characteristic(event: Element, code: str) -> Element:
    characteristic = _el(
        _wrap(event, "subjectOf2", "SUBJ"), "investigationCharacteristic", classCode="OBS", moodCode="EVN"
    )
    _el(characteristic, "code", code=code, codeSystem=Oid.CHARACTERISTIC)
    return characteristic


def _characteristics(event: Element, icsr: Icsr) -> None:
    if icsr.report_type is not None:  # C.1.3
        value = icsr.report_type.value
        _el(_characteristic(event, "1"), "value", xsi_type="CE", code=value, codeSystem=Oid.REPORT_TYPE)
    if icsr.other_case_ids_flag is not None or icsr.other_case_ids:  # C.1.9.1 (true or NI)
        flag = _characteristic(event, "2")
        if icsr.other_case_ids_flag:
            _bl(flag, True)
        else:
            _bl(flag, None, NullFlavor.NI)
    if icsr.nullification is not None:  # C.1.11.1
        code = icsr.nullification.value
        _el(_characteristic(event, "3"), "value", xsi_type="CE", code=code, codeSystem=Oid.NULLIFICATION)
    if icsr.nullification_reason is not None:  # C.1.11.2
        value = _el(_characteristic(event, "4"), "value", xsi_type="CE")
        _el(value, "originalText", icsr.nullification_reason)
