"""One ICSR as FDA's business rules see it: the case, its route (postmarket or premarket) and its receivers.

FDA routes a postmarketing ICSR to ``ZZFDA`` / ``CDER`` and an IND safety report (a report from a study
under an IND, or an IND-exempt BA/BE study under a pre-ANDA) to ``ZZFDA_PREMKT`` / ``CDER_IND``
(``CDER_IND_EXEMPT_BA_BE``) (FDA E2B(R3) rejection rules R0004-R0007). The regional elements riskplan
keeps verbatim (``RegionalElement.xml``) are read here for their coded value, true/false or nullFlavor.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Final

from lxml import etree

from riskplan.cases import Drug, DrugRole, Icsr, NullFlavor, RegionalElement, ReportType

HL7: Final = "urn:hl7-org:v3"
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
POSTMARKET: Final = ("ZZFDA", "CDER")  # N.1.4, N.2.r.3 (R0004, R0006)
PREMARKET_IND: Final = ("ZZFDA_PREMKT", "CDER_IND")  # R0005, R0007
PREMARKET_BA_BE: Final = ("ZZFDA_PREMKT", "CDER_IND_EXEMPT_BA_BE")
IND_RECEIVERS: Final = ("CDER_IND", "CBER_IND", "CDER_IND_EXEMPT_BA_BE")
MALFUNCTION: Final = "C54026"  # FDA.G.k.12.r.1
DEVICE_PROBLEM: Final = "C54451"  # FDA.G.k.12.r.3.r
REMEDIAL_ACTION: Final = "C54594"  # FDA.G.k.12.r.11.r
NO_ADVERSE_EVENT: Final = "10067482"  # MedDRA LLT 'No adverse event' (R0027)


def _parse(element: RegionalElement) -> etree._Element | None:
    try:
        return etree.fromstring(element.xml.encode("utf-8"))
    except etree.XMLSyntaxError:
        return None


def coded(element: RegionalElement) -> str | None:
    """The value of a regional observation: its code, its true/false, else ``NF:<nullFlavor>``."""
    root = _parse(element)
    if root is None:
        return element.value
    for value in root.iter(f"{{{HL7}}}value"):
        for attribute in ("code", "value"):
            if value.get(attribute):
                return str(value.get(attribute))
        if value.get("nullFlavor"):
            return f"NF:{value.get('nullFlavor')}"
    for identifier in root.iter(f"{{{HL7}}}id"):
        if identifier.get("extension"):
            return str(identifier.get("extension"))
        if identifier.get("nullFlavor"):
            return f"NF:{identifier.get('nullFlavor')}"
    return element.value


@dataclass(frozen=True)
class Device:
    """One device constituent part of a combination product (FDA.G.k.12.r), read from its kept XML."""

    names: tuple[str, ...]  # FDA.G.k.12.r.4 brand name, FDA.G.k.12.r.5 common name (non-null ones)
    product_code: str | None  # FDA.G.k.12.r.6
    characteristics: dict[str, tuple[str, ...]]  # NCI code -> values (malfunction, problem codes ...)

    @property
    def malfunction(self) -> bool:
        return "true" in self.characteristics.get(MALFUNCTION, ())

    @classmethod
    def read(cls, element: RegionalElement) -> Device:
        root = _parse(element)
        if root is None:
            return cls((), None, {})
        product = root.find(f"{{{HL7}}}partProduct")
        names = tuple(
            (n.text or "").strip()
            for n in (product.findall(f"{{{HL7}}}name") if product is not None else [])
            if (n.text or "").strip() and n.get("nullFlavor") is None
        )
        code = product.find(f"{{{HL7}}}code") if product is not None else None
        found: dict[str, list[str]] = {}
        for characteristic in root.iter(f"{{{HL7}}}characteristic"):
            kind = characteristic.find(f"{{{HL7}}}code")
            value = characteristic.find(f"{{{HL7}}}value")
            if kind is None or value is None:
                continue
            text = value.get("code") or value.get("value") or (f"NF:{value.get('nullFlavor')}")
            found.setdefault(str(kind.get("code")), []).append(str(text))
        return cls(names, code.get("code") if code is not None else None, {k: tuple(v) for k, v in found.items()})


@dataclass(frozen=True)
class FdaMessage:
    """An ICSR on its way to FDA (or received by an FDA-like gateway)."""

    icsr: Icsr
    batch_receiver: str | None  # N.1.4
    message_receiver: str | None  # N.2.r.3
    initial: bool = True

    @property
    def premarket(self) -> bool:
        return self.batch_receiver == "ZZFDA_PREMKT"

    @property
    def postmarket(self) -> bool:
        return self.batch_receiver == "ZZFDA"

    @property
    def cder(self) -> bool:
        return self.message_receiver in ("CDER", "CBER")

    @property
    def ind_receiver(self) -> bool:
        """N.2.r.3 is CDER_IND or CBER_IND (an IND safety report)."""
        return self.message_receiver in ("CDER_IND", "CBER_IND")

    @property
    def ba_be(self) -> bool:
        return self.message_receiver == "CDER_IND_EXEMPT_BA_BE"

    @property
    def report_type(self) -> ReportType | None:
        return self.icsr.report_type

    @property
    def study_type(self) -> str | None:
        study = self.icsr.study
        return study.study_type.value if study is not None and study.study_type is not None else None

    def case_values(self, element: str) -> list[str]:
        return [v for e in self.icsr.regional if e.element == element for v in [coded(e)] if v is not None]

    def study_values(self, element: str) -> list[str]:
        study = self.icsr.study
        found = study.regional if study is not None else ()
        return [v for e in found if e.element == element for v in [coded(e)] if v is not None]

    def patient_values(self, prefix: str) -> list[str]:
        return [v for e in self.icsr.patient.regional if e.element.startswith(prefix) for v in [coded(e)] if v]

    @cached_property
    def combination_product(self) -> str | None:
        """FDA.C.1.12: 'true', 'false', 'NF:NI' or None (absent)."""
        values = self.case_values("FDA.C.1.12")
        return values[0] if values else None

    @cached_property
    def report_type_fda(self) -> str | None:
        """FDA.C.1.7.1 local criteria report type code (1 15-Day, 2 non-expedited, 4 5-Day, 5 30-Day, 6 7-Day)."""
        values = self.case_values("FDA.C.1.7.1")
        return values[0] if values else None

    @property
    def ind_number(self) -> list[str]:
        return self.study_values("FDA.C.5.5a")

    @property
    def pre_anda_number(self) -> list[str]:
        return self.study_values("FDA.C.5.5b")

    @property
    def aggregate(self) -> bool:
        """D.1 is 'AGGREGATE' (FDA's sheet spells it both AGGREGATE and AGGREGRATE)."""
        return (self.icsr.patient.name or "").upper() in ("AGGREGATE", "AGGREGRATE")

    @property
    def no_patient(self) -> bool:
        """D.1 nullFlavor NA, 'SUMMARY' or an aggregate (W0003, W0004)."""
        p = self.icsr.patient
        return p.name_null_flavor is NullFlavor.NA or (p.name or "").upper() == "SUMMARY" or self.aggregate

    def devices(self, drugs: Iterable[Drug] | None = None) -> Iterator[tuple[Drug, Device]]:
        for drug in self.icsr.drugs if drugs is None else drugs:
            for element in drug.regional:
                if element.element.startswith("FDA.G.k.12"):
                    yield drug, Device.read(element)

    @property
    def suspects(self) -> list[Drug]:
        return [d for d in self.icsr.drugs if d.role in (DrugRole.SUSPECT, DrugRole.INTERACTING)]


def fda_route(icsr: Icsr) -> tuple[str, str]:
    """(N.1.4, N.2.r.3) for this ICSR: premarket when it is a report from a study carrying an IND number
    (FDA.C.5.5a: CDER_IND) or a pre-ANDA number (FDA.C.5.5b: CDER_IND_EXEMPT_BA_BE); else postmarket.

    # FDA E2B(R3) rules R0004/R0005 (N.1.4) and R0006/R0007 (N.2.r.3); R0107/R0108: an IND or pre-ANDA
    # number must not be sent on the postmarket route."""
    probe = FdaMessage(icsr, None, None)
    if probe.pre_anda_number:
        return PREMARKET_BA_BE
    if probe.ind_number:
        return PREMARKET_IND
    return POSTMARKET
