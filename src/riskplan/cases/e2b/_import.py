"""Import of ICH E2B(R3) batches (``MCCI_IN200100UV01`` / ``PORR_IN049016UV``) into :class:`Icsr` objects.

Order of checks, each refusing the file with a clear :class:`E2bError` before the next:

1. size (default 50 MB) and a scan for ``<!DOCTYPE`` / ``<!ENTITY`` before parsing;
2. parsing with entities, DTDs and network access off; any DOCTYPE left is refused; then a
   structure no E2B file has (more than 24 attributes on an element, more than 48 levels deep) is
   refused before any costlier check;
3. the root element (an R2 ``ichicsr`` file is handed to :mod:`riskplan.cases.e2b._r2`);
4. the ICH schema, checked by libxml2 in linear time (the whole file is rejected, with the element
   path of each violation);
5. mapping each message: an unknown code or an impossible value (a date after today, an impossible
   age) rejects that message. Without ``skip_invalid`` one bad message rejects the whole batch
   (nothing is imported).

What is kept: every ICH element the model has (see :mod:`riskplan.cases.model`), and FDA regional
elements (FDA.x) plus any element of a known slot that riskplan does not map, verbatim, in the
``regional`` lists. What is dropped: ``displayName`` attributes and comments; HL7 scaffolding that
carries no E2B data element (e.g. an empty ``productInstanceInstance``, the ``effectiveTime`` of a
D.8.r.7 reaction); elements outside the case's slots (e.g. a ``performer`` inside a G.k.4.r dosage);
N.2.r message headers (the batch header N.1 is returned in :attr:`ImportResult.batch`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final
from urllib.parse import unquote

from lxml import etree

from riskplan.cases.codes import (
    FirstSender,
    NullFlavor,
    NullificationCode,
    Oid,
    Qualification,
    ReportType,
    SenderType,
)
from riskplan.cases.codes import ObservationCode as Obs
from riskplan.cases.e2b._base import (
    DEFAULT_MAX_BYTES,
    BatchInfo,
    E2bError,
    ImportResult,
    Rejection,
    first_schema_error,
    schema_errors,
)
from riskplan.cases.e2b._import_clinical import _adverse_event_assessment
from riskplan.cases.e2b._r2 import import_r2
from riskplan.cases.e2b._read import (
    Element,
    _bool,
    _build,
    _code,
    _coded_enum,
    _find,
    _is_regional,
    _kids,
    _null_flavor,
    _obs_code,
    _regional,
    _Reject,
    _text,
    _text_nf,
    _ts,
)
from riskplan.cases.e2b._rules import intake_refusals
from riskplan.cases.e2b._xml import HL7, element_path, localname, q, safe_parser
from riskplan.cases.model import (
    Attachment,
    CaseSummary,
    HeldDocument,
    Icsr,
    LiteratureReference,
    OtherCaseIdentifier,
    PrimarySource,
    RegionalElement,
    Sender,
)
from riskplan.store import utcnow

__all__ = ["import_e2b", "read_message"]


def import_e2b(
    data: bytes, *, skip_invalid: bool = False, max_bytes: int = DEFAULT_MAX_BYTES, today: dt.date | None = None
) -> ImportResult:
    """Read an E2B(R3) batch (or, best effort, an E2B(R2) ``ichicsr`` file) into ICSRs.

    Raises :class:`E2bError` for a refused file (too large, not XML, DOCTYPE / entities, wrong root,
    schema violation) and, unless ``skip_invalid``, when any message cannot be mapped; then
    nothing is imported. With ``skip_invalid`` the good messages are returned and each bad one is
    listed in :attr:`ImportResult.rejected`. A message with a date after ``today`` (default: today,
    UTC) or an impossible age is a bad message (:func:`~riskplan.cases.e2b._rules.intake_refusals`).
    """
    today = today or utcnow().date()
    root = parse_untrusted(data, max_bytes=max_bytes)
    if root.tag == "ichicsr":
        return _refuse_impossible(import_r2(root, skip_invalid=skip_invalid), today, skip_invalid)
    if root.tag == q("MCCI_IN200101UV01"):
        raise E2bError(
            "this is an acknowledgment (MCCI_IN200101UV01, an ACK of a batch sent to an authority), "
            "not an ICSR batch: use riskplan submission ack"
        )
    if root.tag != q("MCCI_IN200100UV01"):
        raise E2bError(
            f"not an E2B(R3) ICSR batch: the root element is <{localname(root)}> "
            f"(namespace {etree.QName(root).namespace or 'none'}), expected <MCCI_IN200100UV01> in {HL7}"
        )
    _check_schema(root)
    icsrs: list[Icsr] = []
    rejected: list[Rejection] = []
    messages = root.findall(q("PORR_IN049016UV"))
    for index, message in enumerate(messages):
        try:
            icsr = _message(message)
        except _Reject as problem:
            rejected.append(Rejection(index, _case_id(message), problem.path, problem.reason))
            continue
        refusals = intake_refusals(icsr, today=today)
        rejected += [Rejection(index, _case_id(message), f"{r.element} ({r.path})", r.message) for r in refusals]
        if not refusals:
            icsrs.append(icsr)
    if rejected and not skip_invalid:
        raise E2bError(
            f"{len(rejected)} of {len(messages)} message(s) rejected, so nothing was imported "
            "(to import the others: --skip-invalid on the command line, skip_invalid in the API)",
            rejections=rejected,
        )
    return ImportResult(icsrs=icsrs, rejected=rejected, batch=_batch_info(root))


def _refuse_impossible(result: ImportResult, today: dt.date, skip_invalid: bool) -> ImportResult:
    """An R2 import's cases without those that carry a future date or an impossible age."""
    kept: list[Icsr] = []
    for icsr in result.icsrs:
        refusals = intake_refusals(icsr, today=today)
        result.rejected += [
            Rejection(None, icsr.sender_report_id, f"{r.element} ({r.path})", r.message) for r in refusals
        ]
        if not refusals:
            kept.append(icsr)
    if len(kept) < len(result.icsrs) and not skip_invalid:
        raise E2bError(
            f"{len(result.icsrs) - len(kept)} report(s) rejected, so nothing was imported "
            "(to import the others: --skip-invalid on the command line, skip_invalid in the API)",
            rejections=result.rejected,
        )
    result.icsrs = kept
    return result


def parse_untrusted(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Element:
    """Parse XML from outside: size limit, no DOCTYPE / entity declarations, no network, no DTD."""
    if not isinstance(data, bytes | bytearray):
        raise TypeError(f"E2B import reads bytes, not {type(data).__name__}")
    if len(data) > max_bytes:
        raise E2bError(f"file refused: {len(data):,} bytes is more than the {max_bytes:,} allowed")
    if not bytes(data).strip():
        raise E2bError("file refused: it is empty")
    _refuse_declarations(bytes(data))
    try:
        root = etree.fromstring(bytes(data), safe_parser())
    except etree.XMLSyntaxError as exc:
        raise E2bError(f"file refused: not well-formed XML ({exc})") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise E2bError("file refused: it declares a DOCTYPE / DTD, which E2B files must not carry")
    _check_structure(root)
    return root


#: More attributes on one element than any E2B element can have: the widest HL7 data type in the ICH
#: schema set (SC) declares 13, E2B files use at most 5. Hundreds of attributes on one element made the
#: schema check take minutes (its cost grows with the square of their number).
MAX_ATTRIBUTES: Final = 24
#: Deeper than any E2B(R3) element: messages nest 23 levels (libxml2's own limit is 256).
MAX_DEPTH: Final = 48


def _check_structure(root: Element) -> None:
    """Refuse, in C-speed XPath passes, shapes no E2B file has and that only serve to make checks slow."""
    crowded = root.xpath(f"(//*[count(@*) > {MAX_ATTRIBUTES}])[1]")
    if isinstance(crowded, list) and crowded and isinstance(crowded[0], etree._Element):
        element = crowded[0]
        raise E2bError(
            f"file refused: <{localname(element)}> at {element_path(element)} has {len(element.attrib):,} "
            f"attributes; no E2B(R3) element has more than {MAX_ATTRIBUTES}"
        )
    deep = root.xpath("(" + "/*" * (MAX_DEPTH + 1) + ")[1]")
    if isinstance(deep, list) and deep and isinstance(deep[0], etree._Element):
        raise E2bError(
            f"file refused: elements are nested more than {MAX_DEPTH} levels deep (at "
            f"{element_path(deep[0])[:300]}); E2B(R3) messages nest about 23"
        )


def _refuse_declarations(data: bytes) -> None:
    """Refuse DOCTYPE and ENTITY declarations before the parser sees them (billion laughs, XXE)."""
    text = data
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:64]:
        try:
            text = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise E2bError("file refused: it is neither UTF-8 nor UTF-16 text") from None
    if b"<!DOCTYPE" in text or b"<!ENTITY" in text:
        raise E2bError(
            "file refused: it contains a DOCTYPE / ENTITY declaration; E2B files must not declare "
            "entities (entity expansion and external entities are never processed)"
        )


#: Above this many elements a file that breaks the schema is told by its first violation only: locating
#: every violation costs libxml2 time that grows with the square of same-named siblings (a hostile file).
FULL_SCHEMA_REPORT_ELEMENTS: Final = 3_000


def _check_schema(root: Element) -> None:
    first = first_schema_error(root)  # linear time: a valid file (the usual case) is settled here
    if first is None:
        return
    if sum(1 for _ in root.iter()) > FULL_SCHEMA_REPORT_ELEMENTS:
        raise E2bError(
            "file rejected: it does not conform to the ICH E2B(R3) schema (the first violation is told; fix it "
            "and import the file again to see any other)",
            rejections=[Rejection(None, None, "the file", f"schema: {first}")],
        )
    errors = schema_errors(root)
    if errors:
        tree = root.getroottree()
        rejections = [_schema_rejection(tree, error) for error in errors[:50]]
        more = f" (first 50 of {len(errors)})" if len(errors) > 50 else ""
        raise E2bError(f"file rejected: it does not conform to the ICH E2B(R3) schema{more}", rejections=rejections)


def _schema_rejection(tree: etree._ElementTree, error: etree._LogEntry) -> Rejection:
    """A libxml2 schema error located by element path; a misplaced or missing child is told at its parent."""
    found = tree.xpath(error.path) if error.path else []
    element = found[0] if isinstance(found, list) and found and isinstance(found[0], etree._Element) else None
    reason = error.message.replace(f"{{{HL7}}}", "")
    reason = reason if len(reason) <= 500 else reason[:500] + "… (shortened)"
    if element is not None and "This element is not expected" in reason and element.getparent() is not None:
        reason = f"child <{localname(element)}> (line {error.line}): {reason}"
        element = element.getparent()
    where = element_path(element) if element is not None else f"line {error.line}"
    return Rejection(_message_index(element), None, where, f"schema: {reason}")


def _message_index(element: Element | None) -> int | None:
    node = element
    while node is not None and node.getparent() is not None:
        if node.tag == q("PORR_IN049016UV"):
            return list(node.getparent().iterchildren(q("PORR_IN049016UV"))).index(node)
        node = node.getparent()
    return None


def _case_id(message: Element) -> str | None:
    for identifier in message.iterfind(f".//{q('investigationEvent')}/{q('id')}"):
        if identifier.get("root") == Oid.SENDER_REPORT_ID:
            value: str | None = identifier.get("extension")
            return value
    return None


def _batch_info(root: Element) -> BatchInfo:
    def device_id(tag: str) -> str | None:
        identifier = root.find(f"{q(tag)}/{q('device')}/{q('id')}")
        return identifier.get("extension") if identifier is not None else None

    batch = root.find(q("id"))
    created = root.find(q("creationTime"))
    return BatchInfo(
        batch_id=batch.get("extension") if batch is not None else None,
        sender_id=device_id("sender"),
        receiver_id=device_id("receiver"),
        created=created.get("value") if created is not None else None,
    )


def read_message(message: Element) -> Icsr:
    """One ``PORR_IN049016UV`` message of a schema-valid batch as an ICSR (a receiving gateway's reading);
    :class:`E2bError` with where and why when it cannot be mapped."""
    try:
        return _message(message)
    except _Reject as problem:
        raise E2bError(f"{problem.path}: {problem.reason}") from None


def _message(message: Element) -> Icsr:
    act = _find(message, "controlActProcess")
    event = _find(act, "subject", "investigationEvent")
    if event is None:
        raise _Reject(message, "the message has no investigationEvent (the case)")
    fields: dict[str, Any] = {"created": _ts(_find(act, "effectiveTime"), "C.1.2 date of creation")}
    for identifier in _kids(event, "id"):
        if identifier.get("root") == Oid.SENDER_REPORT_ID:
            fields["sender_report_id"] = identifier.get("extension")
        elif identifier.get("root") == Oid.WORLDWIDE_CASE_ID:
            fields["worldwide_case_id"] = identifier.get("extension")
    for key, element in (("sender_report_id", "C.1.1"), ("worldwide_case_id", "C.1.8.1")):
        if not fields.get(key):
            raise _Reject(event, f"{element} is missing: the case cannot be identified")
    fields["narrative"] = _text(_find(event, "text"))  # H.1
    fields["first_received"] = _ts(_find(event, "effectiveTime", "low"), "C.1.4")
    fields["most_recent_info"] = _ts(_find(event, "availabilityTime"), "C.1.5")
    regional: list[RegionalElement] = []
    _references(event, fields, regional)
    _case_components(event, fields, regional)
    _outbound(event, fields, regional)
    _subjects(event, fields, regional)
    fields["regional"] = regional
    return _build(Icsr, event, **fields)


def _attachment(text: Element | None) -> Attachment | None:
    if text is None:
        return None
    reference = _find(text, "reference")
    representation = text.get("representation") or "TXT"
    content = _text(text) or ""
    if representation == "B64":
        # whitespace is not data in base64; content that does not decode is kept as sent (FDA's
        # Scenario 6 has such a document), see Attachment.decoded()
        content = "".join(content.split())
    return _build(
        Attachment,
        text,
        media_type=text.get("mediaType") or "text/plain",
        representation=representation,
        compression=text.get("compression"),
        file_name=reference.get("value") if reference is not None else None,
        content=content,
    )


def _references(event: Element, fields: dict[str, Any], regional: list[RegionalElement]) -> None:
    """C.1.6.1.r documents held by sender and C.4.r literature references."""
    held: list[HeldDocument] = []
    literature: list[LiteratureReference] = []
    for wrapper in _kids(event, "reference"):
        document = _find(wrapper, "document")
        kind = _obs_code(document)
        if kind == "1":
            title = _text(_find(document, "title")) or "(untitled)"
            held.append(_build(HeldDocument, document, title=title, attachment=_attachment(_find(document, "text"))))
        elif kind == "2":
            reference, flavor = _text_nf(_find(document, "bibliographicDesignationText"))
            attachment = _attachment(_find(document, "text"))
            literature.append(
                _build(
                    LiteratureReference,
                    document,
                    reference=reference,
                    reference_null_flavor=flavor,
                    attachment=attachment,
                )
            )
        else:
            regional.append(_regional(wrapper))
    fields["documents_held"] = held
    fields["literature"] = literature


def _case_components(event: Element, fields: dict[str, Any], regional: list[RegionalElement]) -> None:
    summaries: list[CaseSummary] = []
    assessments = 0
    for wrapper in _kids(event, "component"):
        assessment = _find(wrapper, "adverseEventAssessment")
        if assessment is not None:
            assessments += 1
            _adverse_event_assessment(assessment, fields)
            continue
        observation = _find(wrapper, "observationEvent")
        code = _obs_code(observation)
        value = _find(observation, "value")
        if _is_regional(observation) or observation is None:
            regional.append(_regional(wrapper))
        elif code == Obs.ADDITIONAL_DOCUMENTS:  # C.1.6.1
            fields["additional_documents"] = _bool(value, "C.1.6.1")[0]
        elif code == Obs.LOCAL_CRITERIA:  # C.1.7
            fields["local_expedited"], fields["local_expedited_null_flavor"] = _bool(value, "C.1.7")
        elif code == Obs.SUMMARY_AND_COMMENT:  # H.5.r
            text = _text(value)
            if text is not None and value is not None:
                summaries.append(_build(CaseSummary, observation, text=text, language=value.get("language")))
        else:
            regional.append(_regional(wrapper))
    if assessments != 1:
        raise _Reject(event, f"expected one adverseEventAssessment (patient, reactions, drugs), found {assessments}")
    fields["case_summaries"] = summaries


def _outbound(event: Element, fields: dict[str, Any], regional: list[RegionalElement]) -> None:
    """C.1.8.2 first sender, C.1.10.r linked reports and C.2.r primary sources."""
    sources: list[PrimarySource] = []
    linked: list[str] = []
    for wrapper in _kids(event, "outboundRelationship"):
        related = _find(wrapper, "relatedInvestigation")
        code_element = _find(related, "code")
        control = _find(related, "subjectOf2", "controlActEvent")
        entity = _find(control, "author", "assignedEntity")
        kind = _code(code_element)
        if kind == "1":  # C.1.8.2
            fields["first_sender"] = _coded_enum(FirstSender, _find(entity, "code"), "C.1.8.2 first sender")
        elif kind == "2":  # C.2.r
            priority = _find(wrapper, "priorityNumber")
            primary = priority is not None and priority.get("value") in ("1", "1.0")
            sources.append(_primary_source(entity, primary, wrapper))
        elif code_element is not None and code_element.get("nullFlavor") == "NA":  # C.1.10.r
            identifier = _find(control, "id")
            if identifier is not None and identifier.get("extension"):
                linked.append(identifier.get("extension"))
        else:
            regional.append(_regional(wrapper))
    fields["primary_sources"] = sources
    fields["linked_reports"] = linked


def _street(addr: Element | None) -> tuple[str | None, NullFlavor | None]:
    lines = [_text(line) for line in _kids(addr, "streetAddressLine")]
    present = [line for line in lines if line]
    if present:
        return "\n".join(present), None
    flavors = [_null_flavor(line) for line in _kids(addr, "streetAddressLine")]
    return None, next((flavor for flavor in flavors if flavor), None)


def _telecoms(entity: Element | None) -> dict[str, tuple[str | None, NullFlavor | None]]:
    found: dict[str, tuple[str | None, NullFlavor | None]] = {}
    for telecom in _kids(entity, "telecom"):
        value = telecom.get("value")
        if value is None:
            found.setdefault("tel", (None, _null_flavor(telecom)))
            continue
        if ":" not in value and telecom.get("nullFlavor"):  # FDA.C.2.r.2.8: <telecom nullFlavor="NASK" value="mailto"/>
            found.setdefault(value.lower(), (None, _null_flavor(telecom)))
            continue
        scheme, _, rest = value.partition(":")
        found.setdefault(scheme.lower(), (unquote(rest).strip() or None, None))
    return found


def _names(name: Element | None) -> dict[str, tuple[str | None, NullFlavor | None]]:
    given = _kids(name, "given")
    parts = {
        "title": _text_nf(_find(name, "prefix")),
        "given_name": _text_nf(given[0]) if given else (None, None),
        "middle_name": _text_nf(given[1]) if len(given) > 1 else (None, None),
        "family_name": _text_nf(_find(name, "family")),
    }
    return parts


def _organisation(entity: Element | None) -> dict[str, tuple[str | None, NullFlavor | None]]:
    outer = _find(entity, "representedOrganization")
    inner = _find(outer, "assignedEntity", "representedOrganization")
    return {"department": _text_nf(_find(outer, "name")), "organisation": _text_nf(_find(inner, "name"))}


def _spread(fields: dict[str, Any], values: dict[str, tuple[str | None, NullFlavor | None]], nulls: bool) -> None:
    for key, (value, flavor) in values.items():
        fields[key] = value
        if nulls:
            fields[f"{key}_null_flavor"] = flavor


def _primary_source(entity: Element | None, primary: bool, wrapper: Element) -> PrimarySource:
    """C.2.r.1 - C.2.r.5."""
    if entity is None:
        raise _Reject(wrapper, "C.2.r: the primary source has no assignedEntity")
    person = _find(entity, "assignedPerson")
    addr = _find(entity, "addr")
    fields: dict[str, Any] = {"primary_for_regulatory_purposes": primary}
    _spread(fields, _names(_find(person, "name")), nulls=True)
    _spread(fields, _organisation(entity), nulls=True)
    fields["street"], fields["street_null_flavor"] = _street(addr)
    for key, tag in (("city", "city"), ("state", "state"), ("postcode", "postalCode")):
        fields[key], fields[f"{key}_null_flavor"] = _text_nf(_find(addr, tag))
    telecoms = _telecoms(entity)
    fields["telephone"], fields["telephone_null_flavor"] = telecoms.get("tel", (None, None))
    fields["email"], fields["email_null_flavor"] = telecoms.get("mailto", (None, None))
    qualification = _find(person, "asQualifiedEntity", "code")
    fields["qualification"] = _coded_enum(Qualification, qualification, "C.2.r.4 qualification")
    fields["qualification_null_flavor"] = _null_flavor(qualification)
    country = _find(person, "asLocatedEntity", "location", "code")
    fields["country"], fields["country_null_flavor"] = _code(country), _null_flavor(country)
    return _build(PrimarySource, entity, **fields)


def _subjects(event: Element, fields: dict[str, Any], regional: list[RegionalElement]) -> None:
    """C.3 sender and C.1.9.1.r (subjectOf1); C.1.3, C.1.9.1, C.1.11 (subjectOf2)."""
    others: list[OtherCaseIdentifier] = []
    for wrapper in _kids(event, "subjectOf1"):
        control = _find(wrapper, "controlActEvent")
        entity = _find(control, "author", "assignedEntity")
        identifier = _find(control, "id")
        if entity is not None:
            fields["sender"] = _sender(entity)
        elif identifier is not None and identifier.get("root") == Oid.OTHER_CASE_ID:
            source = identifier.get("assigningAuthorityName") or "(unknown source)"
            others.append(_build(OtherCaseIdentifier, identifier, source=source, case_id=identifier.get("extension")))
        else:
            regional.append(_regional(wrapper))
    fields["other_case_ids"] = others
    for wrapper in _kids(event, "subjectOf2"):
        characteristic = _find(wrapper, "investigationCharacteristic")
        value = _find(characteristic, "value")
        code = _obs_code(characteristic)
        if _is_regional(characteristic) or _find(characteristic, "code") is None:
            regional.append(_regional(wrapper))
        elif code == "1":  # C.1.3
            fields["report_type"] = _coded_enum(ReportType, value, "C.1.3 type of report")
        elif code == "2":  # C.1.9.1 (true or NI)
            fields["other_case_ids_flag"] = _bool(value, "C.1.9.1")[0]
        elif code == "3":  # C.1.11.1
            fields["nullification"] = _coded_enum(NullificationCode, value, "C.1.11.1 nullification / amendment")
        elif code == "4":  # C.1.11.2
            fields["nullification_reason"] = _text(_find(value, "originalText"))
        else:
            regional.append(_regional(wrapper))


def _sender(entity: Element) -> Sender:
    """C.3.1 - C.3.4.8."""
    person = _find(entity, "assignedPerson")
    addr = _find(entity, "addr")
    fields: dict[str, Any] = {"sender_type": _coded_enum(SenderType, _find(entity, "code"), "C.3.1 sender type")}
    _spread(fields, _names(_find(person, "name")), nulls=False)
    _spread(fields, _organisation(entity), nulls=False)
    fields["street"] = _street(addr)[0]
    fields["city"], fields["state"] = _text(_find(addr, "city")), _text(_find(addr, "state"))
    fields["postcode"] = _text(_find(addr, "postalCode"))
    fields["country"] = _code(_find(person, "asLocatedEntity", "location", "code"))
    telecoms = _telecoms(entity)
    for key, scheme in (("telephone", "tel"), ("fax", "fax"), ("email", "mailto")):
        fields[key] = telecoms.get(scheme, (None, None))[0]
    return _build(Sender, entity, **fields)
