"""Element writers shared by the E2B(R3) exporter (HL7 v3 data types: TS, PQ, BL, CE, ED, II)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, TypeAlias

from lxml import etree

from riskplan.cases.codes import ObservationCode as Obs
from riskplan.cases.codes import Oid
from riskplan.cases.e2b._xml import XSI_TYPE, parse_fragment, q
from riskplan.cases.model import (
    Attachment,
    CodedValue,
    Hl7Timestamp,
    MeddraTerm,
    NullFlavor,
    Quantity,
    RegionalElement,
)

Element: TypeAlias = Any  # lxml.etree._Element (lxml ships no type information)


def _el(parent: Element, tag: str, text: str | None = None, *, xsi_type: str | None = None, **attrs: str) -> Element:
    element = etree.SubElement(parent, q(tag))
    if xsi_type is not None:
        element.set(XSI_TYPE, xsi_type)
    for name, value in attrs.items():
        element.set(name, value)
    if text is not None:
        element.text = text
    return element


def _wrap(parent: Element, tag: str, type_code: str) -> Element:
    return _el(parent, tag, typeCode=type_code)


def _observation(parent: Element, wrapper: str, type_code: str, code: Obs) -> Element:
    """``<wrapper typeCode=..><observation classCode="OBS" moodCode="EVN"><code .../>``."""
    observation = _el(_wrap(parent, wrapper, type_code), "observation", classCode="OBS", moodCode="EVN")
    _el(observation, "code", code=code.value, codeSystem=Oid.OBSERVATION)
    return observation


def _nf(element: Element, flavor: NullFlavor) -> Element:
    element.set("nullFlavor", flavor.value)
    return element


def _ts(parent: Element, tag: str, value: Hl7Timestamp | None, flavor: NullFlavor | None = None) -> None:
    if value is not None:
        _el(parent, tag, value=str(value))
    elif flavor is not None:
        _nf(_el(parent, tag), flavor)


def _num(value: Decimal) -> str:
    return str(value)


def _pq(parent: Element, tag: str, quantity: Quantity, *, typed: bool = False) -> Element:
    return _el(parent, tag, xsi_type="PQ" if typed else None, value=_num(quantity.value), unit=quantity.unit)


def _bl(parent: Element, value: bool | None, flavor: NullFlavor | None = None) -> None:
    if value is not None:
        _el(parent, "value", xsi_type="BL", value="true" if value else "false")
    elif flavor is not None:
        _nf(_el(parent, "value", xsi_type="BL"), flavor)


def _text_or_nf(element: Element, text: str | None, flavor: NullFlavor | None) -> None:
    if text is not None:
        element.text = text
    elif flavor is not None:
        _nf(element, flavor)


def _meddra(
    parent: Element, tag: str, term: MeddraTerm | None, *, text: str | None = None, xsi: bool = True
) -> Element:
    """A MedDRA CE (``code``/``codeSystemVersion``) with an optional ``originalText``."""
    element = _el(parent, tag, xsi_type="CE" if xsi else None)
    if term is not None:
        element.set("code", term.code)
        element.set("codeSystem", Oid.MEDDRA)
        element.set("codeSystemVersion", term.version)
    if text is not None:
        _el(element, "originalText", text)
    return element


def _coded(
    parent: Element, tag: str, value: CodedValue | None, text: str | None, flavor: NullFlavor | None
) -> Element | None:
    """A CE carrying a term ID (code, system, version) and/or free text in ``originalText``."""
    if value is None and text is None and flavor is None:
        return None
    element = _el(parent, tag)
    if value is not None:
        element.set("code", value.code)
        if value.code_system:
            element.set("codeSystem", value.code_system)
        if value.version:
            element.set("codeSystemVersion", value.version)
    if text is not None or flavor is not None:
        _text_or_nf(_el(element, "originalText"), text, flavor)
    return element


def _country(parent: Element, tag: str, code: str | None, flavor: NullFlavor | None = None) -> None:
    if code is not None:
        _el(parent, tag, code=code, codeSystem=Oid.ISO_COUNTRY)
    elif flavor is not None:
        _nf(_el(parent, tag), flavor)


def _device(parent: Element, tag: str, type_code: str, identifier: str, root: str) -> None:
    device = _el(_wrap(parent, tag, type_code), "device", classCode="DEV", determinerCode="INSTANCE")
    _el(device, "id", extension=identifier, root=root)


def _regional(parent: Element, items: Iterable[RegionalElement], tag: str) -> None:
    for item in items:
        fragment = parse_fragment(item.xml)
        if etree.QName(fragment).localname == tag:
            parent.append(fragment)


def _ed(parent: Element, tag: str, attachment: Attachment) -> None:
    element = _el(parent, tag, mediaType=attachment.media_type, representation=attachment.representation)
    if attachment.compression:
        element.set("compression", attachment.compression)
    if attachment.file_name:
        _el(element, "reference", value=attachment.file_name)
    tail = attachment.content
    if len(element):
        element[-1].tail = tail
    else:
        element.text = tail


def _author(parent: Element, role_code: str) -> None:
    entity = _el(_wrap(parent, "author", "AUT"), "assignedEntity", classCode="ASSIGNED")
    _el(entity, "code", code=role_code, codeSystem=Oid.AUTHOR_ROLE)


def _part(parent: Element, tag: str, value: str | None, flavor: NullFlavor | None = None) -> None:
    if value is not None or flavor is not None:
        _text_or_nf(_el(parent, tag), value, flavor)


def _has_any(model: object, *names: str) -> bool:
    return any(getattr(model, name) is not None or getattr(model, f"{name}_null_flavor", None) for name in names)


def _typed_ts(observation: Element, value: Hl7Timestamp | None, flavor: NullFlavor | None) -> None:
    element = _el(observation, "value", xsi_type="TS")
    if value is not None:
        element.set("value", str(value))
    elif flavor is not None:
        _nf(element, flavor)


def _interval(
    parent: Element,
    low: Hl7Timestamp | None,
    low_nf: NullFlavor | None,
    high: Hl7Timestamp | None,
    high_nf: NullFlavor | None,
) -> None:
    has_low = low is not None or low_nf is not None
    has_high = high is not None or high_nf is not None
    if not has_low and not has_high:
        return
    interval = _el(parent, "effectiveTime", xsi_type="IVL_TS")
    _ts(interval, "low", low, low_nf)
    _ts(interval, "high", high, high_nf)


def _product_code(kind: Element, product: CodedValue | None) -> None:
    if product is not None:
        code = _el(kind, "code", code=product.code)
        if product.code_system:
            code.set("codeSystem", product.code_system)
        if product.version:
            code.set("codeSystemVersion", product.version)
