"""The ICH acknowledgement an authority returns for an E2B(R3) batch (MCCI_IN200101UV01, ICH E2B(R3)
IG §3.4 ACK): batch code ACK.A.4 AA (all accepted), AE (some messages need action) or AR (batch
rejected), and per message ACK.B.r.6 CA / CR with the error text (ACK.B.r.7). Shape as in the FDA
examples fda_R3ack-positive.xml / fda_R3ack-negative.xml.

The local gateway checks what an authority's gateway checks: well-formed XML, the ICH schema (libxml2,
in C; the detailed reasons of a failure from xmlschema), then the business rules of its profile
(:mod:`riskplan.submissions.gateway_rules`: EU or FDA).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Final

from lxml import etree

from riskplan.cases import HL7, XSI, element_path, get_schema, schema_errors
from riskplan.submissions.gateway_rules import ProfileRules

NS: Final = {"h": HL7}
# ICH E2B(R3) OIDs (IG Appendix I(A)) used by the acknowledgement
OID_MESSAGE_NUMBER: Final = "2.16.840.1.113883.3.989.2.1.3.1"  # ACK.B.r.1 / N.2.r.1
OID_ACK_MESSAGE_SENDER: Final = "2.16.840.1.113883.3.989.2.1.3.15"  # ACK.B.r.4
OID_ACK_MESSAGE_RECEIVER: Final = "2.16.840.1.113883.3.989.2.1.3.16"  # ACK.B.r.3
OID_ACK_BATCH_SENDER: Final = "2.16.840.1.113883.3.989.2.1.3.17"  # ACK.M.2
OID_ACK_BATCH_RECEIVER: Final = "2.16.840.1.113883.3.989.2.1.3.18"  # ACK.M.3
OID_LOCAL_REPORT_NUMBER: Final = "2.16.840.1.113883.3.989.2.1.3.19"  # ACK.B.r.2
OID_ACK_BATCH_NUMBER: Final = "2.16.840.1.113883.3.989.2.1.3.20"  # ACK.M.1
OID_LOCAL_MESSAGE_NUMBER: Final = "2.16.840.1.113883.3.989.2.1.3.21"  # ACK.A.2
OID_BATCH_NUMBER: Final = "2.16.840.1.113883.3.989.2.1.3.22"  # ACK.A.1 / N.1.2
OID_INTERACTION: Final = "2.16.840.1.113883.1.6"
OID_ACK_KEYWORDS: Final = "2.16.840.1.113883.3.989.2.1.1.24"
MAX_DETAIL: Final = 2000  # characters of error text in one acknowledgementDetail

_local_numbers = itertools.count(1)


@dataclass(frozen=True)
class MessageVerdict:
    """One ICSR message of the batch (N.2.r) and its acknowledgement (ACK.B.r)."""

    message_number: str  # N.2.r.1
    created: str | None  # N.2.r.4
    sender: str | None  # N.2.r.2
    accepted: bool
    text: str


@dataclass(frozen=True)
class Acknowledgement:
    """The ACK built for a batch, and its XML."""

    batch_code: str  # ACK.A.4: AA, AE or AR
    text: str  # ACK.A.5
    messages: tuple[MessageVerdict, ...]
    xml: bytes


def acknowledge(
    payload: bytes, *, gateway_id: str, received: dt.datetime | None = None, rules: ProfileRules | None = None
) -> Acknowledgement:
    """Check an E2B(R3) batch (well-formed, ICH schema, the profile's business rules) and write the
    acknowledgement an authority sends."""
    now = received or dt.datetime.now(dt.UTC)
    try:
        if b"<!DOCTYPE" in payload or b"<!ENTITY" in payload:
            raise ValueError("the file declares a DOCTYPE / ENTITY; E2B files must not")
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        root = etree.fromstring(payload, parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        return _write(None, "AR", f"batch rejected: not well-formed XML: {exc}", (), gateway_id, now)
    if root.tag != f"{{{HL7}}}MCCI_IN200100UV01":
        text = f"batch rejected: the root element is {etree.QName(root).localname}, not MCCI_IN200100UV01"
        return _write(root, "AR", text, (), gateway_id, now)
    messages = root.findall("h:PORR_IN049016UV", NS)
    batch_errors: list[str] = []
    message_errors: dict[int, list[str]] = {}
    # libxml2 says at once whether the file conforms (~100x faster); only a failing file is read again by
    # xmlschema, whose errors name the element and the message they are in
    if schema_errors(root):
        for error in get_schema().iter_errors(root, use_location_hints=False):
            index = _message_index(error.elem, messages)
            where = element_path(error.elem) if error.elem is not None else (error.path or "/")
            line = f"schema: {where}: {error.reason or error.message}"
            (batch_errors if index is None else message_errors.setdefault(index, [])).append(line)
    if rules is not None and not batch_errors:
        batch_errors += rules.batch(root)
        for index, message in enumerate(messages):
            if index not in message_errors and not batch_errors:
                found = rules.message(message)
                if found:
                    message_errors[index] = found
    if batch_errors:  # a rejected batch (ACK.A.4 AR) loads none of its reports: each is CR with the batch's reason
        reason = "batch rejected: " + "; ".join(batch_errors)
        message_errors = {i: [*message_errors.get(i, []), reason] for i in range(len(messages))}
    verdicts = tuple(
        MessageVerdict(
            message_number=_attr(message, "h:id", "extension") or f"message {i + 1}",
            created=_attr(message, "h:creationTime", "value"),
            sender=_attr(message, "h:sender/h:device/h:id", "extension"),
            accepted=i not in message_errors,
            text="; ".join(message_errors[i]) if i in message_errors else "Report Loaded Successfully",
        )
        for i, message in enumerate(messages)
    )
    if batch_errors or not messages:
        reasons = batch_errors or ["the batch holds no PORR_IN049016UV message"]
        code, text = "AR", "batch rejected: " + "; ".join(reasons)
    elif message_errors:  # ICH E2B(R3) IG ACK.A.4: AE, some reports need action
        code, text = "AE", f"{len(message_errors)} of {len(messages)} ICSR message(s) rejected, need further action"
    else:
        code, text = "AA", "message successfully processed, no further action"
    return _write(root, code, text, verdicts, gateway_id, now)


def _message_index(element: etree._Element | None, messages: list[etree._Element]) -> int | None:
    node = element
    while node is not None:
        if node.tag == f"{{{HL7}}}PORR_IN049016UV":
            return messages.index(node) if node in messages else None
        node = node.getparent()
    return None


def _attr(element: etree._Element | None, path: str, name: str) -> str | None:
    if element is None:
        return None
    found = element.find(path, NS)
    value = found.get(name) if found is not None else None
    return str(value) if value else None


def _ts(value: dt.datetime) -> str:
    return value.strftime("%Y%m%d%H%M%S%z")


def _el(parent: etree._Element, tag: str, **attributes: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{HL7}}}{tag}", attributes)


def _device(parent: etree._Element, role: str, type_code: str, extension: str, root: str) -> None:
    device = _el(_el(parent, role, typeCode=type_code), "device", classCode="DEV", determinerCode="INSTANCE")
    _el(device, "id", extension=extension, root=root)


def _attention(parent: etree._Element, code: str, name: str, value: dict[str, str], xsi_type: str) -> None:
    line = _el(parent, "attentionLine")
    _el(line, "keyWordText", code=code, codeSystem=OID_ACK_KEYWORDS, codeSystemVersion="1.0", displayName=name)
    _el(line, "value", **value).set(f"{{{XSI}}}type", xsi_type)


def _write(
    batch: etree._Element | None,
    code: str,
    text: str,
    verdicts: tuple[MessageVerdict, ...],
    gateway_id: str,
    now: dt.datetime,
) -> Acknowledgement:
    batch_number = _attr(batch, "h:id", "extension") or "unknown"  # N.1.2
    batch_sender = _attr(batch, "h:sender/h:device/h:id", "extension") or "unknown"  # N.1.3
    batch_created = _attr(batch, "h:creationTime", "value")  # N.1.5
    stamp = _ts(now)
    local = next(_local_numbers)
    ack = etree.Element(f"{{{HL7}}}MCCI_IN200101UV01", {"ITSVersion": "XML_1.0"}, nsmap={None: HL7, "xsi": XSI})
    _el(ack, "id", extension=f"{now:%Y%m%d%H%M%S}-{local}", root=OID_ACK_BATCH_NUMBER)  # ACK.M.1
    _el(ack, "creationTime", value=stamp)  # ACK.M.4
    _el(ack, "responseModeCode", code="D")
    _el(ack, "interactionId", extension="MCCI_IN200101UV01", root=OID_INTERACTION)
    for number, verdict in enumerate(verdicts, start=1):
        message = _el(ack, "MCCI_IN000002UV01")
        _el(message, "id", extension=f"{local}-{number}", root=OID_LOCAL_REPORT_NUMBER)  # ACK.B.r.2
        _el(message, "creationTime", value=stamp[:14])
        _el(message, "interactionId", extension="MCCI_IN000002UV01", root=OID_INTERACTION)
        _el(message, "processingCode", code="P")
        _el(message, "processingModeCode", code="T")
        _el(message, "acceptAckCode", code="NE")
        _device(message, "receiver", "RCV", verdict.sender or batch_sender, OID_ACK_MESSAGE_RECEIVER)  # ACK.B.r.3
        _device(message, "sender", "SND", gateway_id, OID_ACK_MESSAGE_SENDER)  # ACK.B.r.4
        if verdict.created:  # ACK.B.r.5
            _attention(message, "1", "dateOfIcsrMessageCreation", {"value": verdict.created}, "TS")
        acknowledgement = _el(message, "acknowledgement", typeCode="CA" if verdict.accepted else "CR")  # ACK.B.r.6
        _el(_el(acknowledgement, "targetMessage"), "id", extension=verdict.message_number, root=OID_MESSAGE_NUMBER)
        etree.SubElement(_el(acknowledgement, "acknowledgementDetail"), f"{{{HL7}}}text").text = verdict.text[
            :MAX_DETAIL
        ]  # ACK.B.r.7
    _device(ack, "receiver", "RCV", batch_sender, OID_ACK_BATCH_RECEIVER)  # ACK.M.3
    _device(ack, "sender", "SND", gateway_id, OID_ACK_BATCH_SENDER)  # ACK.M.2
    _attention(
        ack, "2", "acknowledgementLocalMessageNumber", {"extension": str(local), "root": OID_LOCAL_MESSAGE_NUMBER}, "II"
    )
    if batch_created:  # ACK.A.3
        _attention(ack, "3", "dateOfIcsrBatchTransmission", {"value": batch_created}, "TS")
    acknowledgement = _el(ack, "acknowledgement", typeCode=code)  # ACK.A.4
    _el(_el(acknowledgement, "targetBatch"), "id", extension=batch_number, root=OID_BATCH_NUMBER)  # ACK.A.1
    etree.SubElement(_el(acknowledgement, "acknowledgementDetail"), f"{{{HL7}}}text").text = text[:MAX_DETAIL]
    xml = etree.tostring(ack, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return Acknowledgement(batch_code=code, text=text, messages=verdicts, xml=xml)
