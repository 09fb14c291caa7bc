"""Readers shared by the E2B(R3) importer: each turns an HL7 element into a value or model, and
rejects the message with the element's path when it cannot (:class:`_Reject`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeAlias, TypeVar

from pydantic import BaseModel, ValidationError

from riskplan.cases.codes import (
    NullFlavor,
    Oid,
)
from riskplan.cases.e2b._xml import XSI_TYPE, canonical_xml, element_path, localname, q
from riskplan.cases.model import (
    CodedValue,
    Hl7Timestamp,
    MeddraTerm,
    Period,
    Quantity,
    RegionalElement,
)

Element: TypeAlias = Any  # lxml.etree._Element (lxml ships no type information)


M = TypeVar("M", bound=BaseModel)


E = TypeVar("E", bound=StrEnum)


_REGIONAL_CODES: dict[str, str] = {
    "C54588": "FDA.C.1.7.1",
    "C156384": "FDA.C.1.12",
    "C17049": "FDA.D.11.r.1",
    "C16564": "FDA.D.12",
    "C94031": "FDA.G.k.10.1",
}


_REGIONAL_ROOTS: dict[str, str] = {
    "2.16.840.1.113883.3.989.5.1.2.2.1.2.1": "FDA.C.5.5a",
    "2.16.840.1.113883.3.989.5.1.2.2.1.2.2": "FDA.C.5.5b",
    "2.16.840.1.113883.3.989.5.1.2.2.1.2.3": "FDA.C.5.6.r",
}


_REGIONAL_VALUE_SYSTEMS: dict[str, str] = {
    "2.16.840.1.113883.3.989.5.1.2.2.1.3": "FDA.E.i.3.2h",
    "2.16.840.1.113883.3.989.5.1.2.1.1.7": "FDA.G.k.10a",
    "2.16.840.1.113883.3.989.5.1.2.1.1.8": "FDA.G.k.1.a",
}


class _Reject(Exception):
    """One message cannot be mapped: where and why."""

    def __init__(self, element: Element | None, reason: str) -> None:
        super().__init__(reason)
        self.path = element_path(element) if element is not None else "/"
        self.reason = reason


def _find(element: Element | None, *path: str) -> Element | None:
    node = element
    for tag in path:
        if node is None:
            return None
        node = node.find(q(tag))
    return node


def _kids(element: Element | None, tag: str) -> list[Element]:
    return [] if element is None else element.findall(q(tag))


def _text(element: Element | None) -> str | None:
    """The text of an element (ED: including text after a ``reference``), trimmed; None when empty."""
    if element is None:
        return None
    parts = [element.text or ""] + [child.tail or "" for child in element]
    text = "".join(parts).strip()
    return text or None


def _code(element: Element | None) -> str | None:
    return element.get("code") if element is not None else None


def _obs_code(element: Element | None) -> str | None:
    """The observation / organizer code of an act (its ``code/@code``)."""
    return _code(_find(element, "code"))


def _null_flavor(element: Element | None) -> NullFlavor | None:
    if element is None or element.get("nullFlavor") is None:
        return None
    value = element.get("nullFlavor")
    try:
        return NullFlavor(value)
    except ValueError:
        raise _Reject(element, f"nullFlavor {value!r} is not one E2B(R3) uses") from None


def _enum(kind: type[E], element: Element, code: str | None, what: str) -> E | None:
    if code is None:
        return None
    try:
        return kind(code)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise _Reject(element, f"{what}: unknown code {code!r} (allowed: {allowed})") from None


def _coded_enum(kind: type[E], element: Element | None, what: str) -> E | None:
    return None if element is None else _enum(kind, element, element.get("code"), what)


def _ts(element: Element | None, what: str) -> Hl7Timestamp | None:
    value = element.get("value") if element is not None else None
    if value is None:
        return None
    try:
        return Hl7Timestamp(value)
    except ValueError as exc:
        raise _Reject(element, f"{what}: {exc}") from None


def _decimal(element: Element, attribute: str, what: str) -> Decimal | None:
    value = element.get(attribute)
    if value is None:
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise _Reject(element, f"{what}: {value!r} is not a number") from None
    if not number.is_finite():
        raise _Reject(element, f"{what}: {value!r} is not a finite number")
    return number


def _pq(element: Element | None, what: str) -> Quantity | None:
    if element is None:
        return None
    value = _decimal(element, "value", what)
    if value is None:
        return None
    return _build(Quantity, element, value=value, unit=element.get("unit") or "1")


def _bool(element: Element | None, what: str) -> tuple[bool | None, NullFlavor | None]:
    if element is None:
        return None, None
    value = element.get("value")
    if value is None:
        return None, _null_flavor(element)
    if value not in ("true", "false"):
        raise _Reject(element, f"{what}: {value!r} is not true or false")
    return value == "true", None


def _meddra(element: Element | None, what: str) -> MeddraTerm | None:
    if element is None or element.get("code") is None:
        return None
    version = element.get("codeSystemVersion")
    if version is None:
        raise _Reject(element, f"{what}: MedDRA code {element.get('code')!r} has no MedDRA version")
    return _build(MeddraTerm, element, version=version, code=element.get("code"))


def _coded_value(element: Element | None) -> CodedValue | None:
    if element is None or element.get("code") is None:
        return None
    return _build(
        CodedValue,
        element,
        code=element.get("code"),
        code_system=element.get("codeSystem"),
        version=element.get("codeSystemVersion"),
    )


def _text_nf(element: Element | None) -> tuple[str | None, NullFlavor | None]:
    """Free text, or the element's nullFlavor when it has no text."""
    text = _text(element)
    return (text, None) if text is not None else (None, _null_flavor(element))


def _build(model: type[M], at: Element, /, **fields: Any) -> M:
    """Make a model; a validation failure rejects the message at element ``at``."""
    try:
        return model(**fields)
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or model.__name__}: {error['msg']}"
            for error in exc.errors()
        )
        raise _Reject(at, f"{model.__name__}: {details}") from None


def _regional(wrapper: Element, element_id: str | None = None) -> RegionalElement:
    """Keep ``wrapper`` (the child of a slot) verbatim as a regional element."""
    element_id = element_id or _regional_id(wrapper) or f"unmapped {localname(wrapper)}"
    return _build(
        RegionalElement, wrapper, element=element_id, value=_regional_value(wrapper), xml=canonical_xml(wrapper)
    )


def _regional_id(wrapper: Element) -> str | None:
    for node in wrapper.iter():
        if not isinstance(node.tag, str):
            continue
        if node.get("root") in _REGIONAL_ROOTS:
            return _REGIONAL_ROOTS[node.get("root")]
        if localname(node) == "code" and node.get("code") in _REGIONAL_CODES:
            return _REGIONAL_CODES[node.get("code")]
        if node.get("codeSystem") in _REGIONAL_VALUE_SYSTEMS:
            return _REGIONAL_VALUE_SYSTEMS[node.get("codeSystem")]
        if localname(node) == "part":
            return "FDA.G.k.12.r"
    return None


def _regional_value(wrapper: Element) -> str | None:
    for node in wrapper.iter(q("value"), q("id"), q("name")):
        for candidate in (node.get("displayName"), node.get("code"), node.get("value"), node.get("extension")):
            if candidate:
                return str(candidate)
        if _text(node):
            return _text(node)
    return None


def _is_regional(act: Element | None) -> bool:
    """An act coded in a regional system (FDA OIDs, or the NCI thesaurus FDA uses)."""
    if act is None:
        return False
    code, value, identifier = (_find(act, tag) for tag in ("code", "value", "id"))
    systems = {
        code.get("codeSystem") if code is not None else None,
        value.get("codeSystem") if value is not None else None,
        identifier.get("root") if identifier is not None else None,
    }
    if localname(act) == "code":
        systems.add(act.get("codeSystem"))
    return any(s and (s.startswith(Oid.FDA_REGIONAL_PREFIX) or s == Oid.NCI_THESAURUS) for s in systems)


def _act(wrapper: Element) -> Element | None:
    """The act inside a relationship wrapper (its first element child)."""
    for child in wrapper:
        if isinstance(child.tag, str) and localname(child) not in ("priorityNumber", "sequenceNumber", "pauseQuantity"):
            return child
    return None


@dataclass
class _Timing:
    """What an HL7 effectiveTime (IVL_TS, PIVL_TS, SXPR_TS or plain TS) says."""

    low: Hl7Timestamp | None = None
    low_nf: NullFlavor | None = None
    high: Hl7Timestamp | None = None
    high_nf: NullFlavor | None = None
    width: Quantity | None = None
    period: Period | None = None
    null_flavor: NullFlavor | None = None

    def dates(self) -> dict[str, Any]:
        return {
            "start_date": self.low,
            "start_date_null_flavor": self.low_nf,
            "end_date": self.high,
            "end_date_null_flavor": self.high_nf,
        }


def _timing(element: Element | None, what: str) -> _Timing:
    timing = _Timing()
    if element is not None:
        _collect_timing(element, timing, what)
    return timing


def _collect_timing(element: Element, timing: _Timing, what: str) -> None:
    kind = (element.get(XSI_TYPE) or "").rpartition(":")[2]
    if element.get("nullFlavor") is not None and not len(element):
        timing.null_flavor = _null_flavor(element)
        return
    if kind == "SXPR_TS":
        for comp in _kids(element, "comp"):
            _collect_timing(comp, timing, what)
        return
    if kind == "PIVL_TS":
        period = _find(element, "period")
        if period is not None:
            timing.period = _build(
                Period, period, value=_decimal(period, "value", f"{what} period"), unit=period.get("unit") or "1"
            )
        return
    for tag in ("low", "high"):
        bound = _find(element, tag)
        if bound is not None:
            setattr(timing, tag, _ts(bound, what))
            setattr(timing, f"{tag}_nf", _null_flavor(bound))
    width = _find(element, "width")
    if width is not None:
        timing.width = _pq(width, f"{what} duration")


def _original_text(element: Element | None) -> tuple[str | None, NullFlavor | None]:
    """Free text of a coded element (``originalText``), or its nullFlavor (on either element)."""
    if element is None:
        return None, None
    text, flavor = _text_nf(_find(element, "originalText"))
    if text is None and flavor is None and element.get("code") is None:
        flavor = _null_flavor(element)
    return text, flavor
