"""The FDA regional elements of a report derived from its obligation, when the case file gives none.

FDA requires, in every postmarketing and premarketing ICSR, elements that an ICH case does not carry
(FDA "ICSR data elements and business rules", Required): FDA.C.1.7.1 local criteria report type,
FDA.C.1.12 combination product indicator, FDA.D.11.r.1 race, FDA.D.12 ethnicity, FDA.E.i.3.2h required
intervention, FDA.C.2.r.2.8 reporter's e-mail, and C.1.7 (no nullFlavor NI in an initial report, R0011).

At generation of the file for an FDA destination, each element the case does not give is derived here,
and only here: from the obligation (the rule that fired decides 15-day or non-expedited), else as the
nullFlavor FDA allows for "no information". A value the case gives always wins. Each derived value is
returned with its reason (the rule it follows) and recorded with the submission; nothing about the
patient, the reporter or the product is invented.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from riskplan.cases import Icsr, NullFlavor, RegionalElement
from riskplan.submissions.destinations import ReportKind
from riskplan.submissions.obligations import INITIAL, Obligation

_NCI: Final = "2.16.840.1.113883.3.26.1.1"  # NCI Thesaurus, FDA's code system for its observations
_REPORT_TYPES: Final = "2.16.840.1.113883.3.989.5.1.2.2.1.1.1"  # FDA.C.1.7.1 value list
_FDA_OBSERVATIONS: Final = "2.16.840.1.113883.3.989.5.1.2.2.1.3"
_XSI: Final = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
#: FDA.C.1.7.1 codes (FDA ICSR data elements: 1 15-Day, 2 Non-Expedited AE, 4 5-Day, 5 30-Day, 6 7-Day)
FIFTEEN_DAY: Final = ("1", "15-Day")
SEVEN_DAY: Final = ("6", "7-Day")
NON_EXPEDITED: Final = ("2", "Non-Expedited AE")


@dataclass(frozen=True)
class Derived:
    """One element written into the FDA file that the case itself did not give, and why."""

    element: str
    value: str
    why: str

    def __str__(self) -> str:
        return f"{self.element} = {self.value} ({self.why})"


def _observation(wrapper: str, tag: str, code: str, name: str, value: str, system: str = _NCI) -> str:
    type_code = {"component": "COMP", "subjectOf2": "SBJ", "outboundRelationship2": "PERT"}[wrapper]
    return (
        f'<{wrapper} xmlns="urn:hl7-org:v3" typeCode="{type_code}"><{tag} classCode="OBS" moodCode="EVN">'
        f'<code code="{code}" codeSystem="{system}" displayName="{name}"/><value {_XSI} {value}/></{tag}></{wrapper}>'
    )


def _has(elements: tuple[RegionalElement, ...], prefix: str) -> bool:
    return any(e.element == prefix or e.element.startswith(prefix + ".") for e in elements)


def _report_type(obligation: Obligation, expedited: bool) -> tuple[tuple[str, str], str]:
    """FDA.C.1.7.1 from the obligation: the rule that fired says 15-day (or 7-day) or periodic."""
    if not expedited:
        return NON_EXPEDITED, f"{obligation.kind.value} report by rule {obligation.rule}: {obligation.cites}"
    days = (obligation.due - obligation.day_zero).days if obligation.due and obligation.day_zero else None
    # 21 CFR 312.32(c)(2): a fatal or life-threatening IND safety report is due in 7 calendar days
    chosen = SEVEN_DAY if days == 7 else FIFTEEN_DAY
    return chosen, f"expedited report by rule {obligation.rule}: {obligation.cites}"


def with_fda_elements(icsr: Icsr, obligation: Obligation) -> tuple[Icsr, tuple[Derived, ...]]:
    """``icsr`` as it goes to FDA for ``obligation``: the FDA-required elements it lacks, derived; and the
    list of what was derived (empty when the case gave everything)."""
    derived: list[Derived] = []
    expedited = obligation.kind is ReportKind.EXPEDITED
    update: dict[str, object] = {}
    case_regional = tuple(icsr.regional)
    # C.1.7 local criteria for an expedited report: FDA rejects nullFlavor NI in an initial report (R0011)
    blank = icsr.local_expedited_null_flavor is None or (
        icsr.local_expedited_null_flavor is NullFlavor.NI and obligation.report == INITIAL
    )
    if icsr.local_expedited is None and blank:
        update["local_expedited"], update["local_expedited_null_flavor"] = expedited, None
        derived.append(Derived("C.1.7", str(expedited).lower(), f"{obligation.kind.value} by rule {obligation.rule}"))
    if not _has(case_regional, "FDA.C.1.7.1"):
        (code, label), why = _report_type(obligation, expedited)
        xml = _observation(
            "component",
            "observationEvent",
            "C54588",
            "localCriteriaReportType",
            f'xsi:type="CE" code="{code}" codeSystem="{_REPORT_TYPES}" displayName="{label}"',
        )
        case_regional += (RegionalElement(element="FDA.C.1.7.1", value=label, xml=xml),)
        derived.append(Derived("FDA.C.1.7.1", f"{code} ({label})", why))
    if not _has(case_regional, "FDA.C.1.12"):
        xml = _observation(
            "component",
            "observationEvent",
            "C156384",
            "Combination Product Report Indicator",
            'xsi:type="BL" nullFlavor="NI"',
        )
        case_regional += (RegionalElement(element="FDA.C.1.12", value="NI", xml=xml),)
        derived.append(
            Derived("FDA.C.1.12", "nullFlavor NI", "the case does not say the product is a combination product")
        )
    update["regional"] = case_regional
    patient = tuple(icsr.patient.regional)
    # FDA.D.11.r.1 race (nullFlavor MSK, UNK, NA, OTH allowed), FDA.D.12 ethnicity (NI, MSK, UNK, NA allowed)
    if not _has(patient, "FDA.D.11"):
        xml = _observation("subjectOf2", "observation", "C17049", "Race", 'xsi:type="CE" nullFlavor="UNK"')
        patient += (RegionalElement(element="FDA.D.11.r.1", value="UNK", xml=xml),)
        derived.append(Derived("FDA.D.11.r.1", "nullFlavor UNK", "the case gives no race"))
    if not _has(patient, "FDA.D.12"):
        xml = _observation("subjectOf2", "observation", "C16564", "Ethnic Group", 'xsi:type="CE" nullFlavor="NI"')
        patient += (RegionalElement(element="FDA.D.12", value="NI", xml=xml),)
        derived.append(Derived("FDA.D.12", "nullFlavor NI", "the case gives no ethnicity"))
    update["patient"] = icsr.patient.model_copy(update={"regional": patient})
    # FDA.E.i.3.2h required intervention, per reaction: 'true' or nullFlavor NI
    intervention = RegionalElement(
        element="FDA.E.i.3.2h",
        value="NI",
        xml=_observation(
            "outboundRelationship2",
            "observation",
            "7",
            "requiredIntervention",
            'xsi:type="BL" nullFlavor="NI"',
            _FDA_OBSERVATIONS,
        ),
    )
    missing = [i for i, r in enumerate(icsr.reactions) if not _has(tuple(r.regional), "FDA.E.i.3.2h")]
    if missing:
        update["reactions"] = tuple(
            r.model_copy(update={"regional": (*r.regional, intervention)}) if i in missing else r
            for i, r in enumerate(icsr.reactions)
        )
        derived.append(
            Derived("FDA.E.i.3.2h", "nullFlavor NI", f"the case does not say so, for {len(missing)} reaction(s)")
        )
    # FDA.C.2.r.2.8 reporter's e-mail: MSK, ASKU or NASK when there is none (NI is not allowed)
    unasked = [i for i, s in enumerate(icsr.primary_sources) if not s.email and s.email_null_flavor is None]
    if unasked:
        update["primary_sources"] = tuple(
            s.model_copy(update={"email_null_flavor": NullFlavor.NASK}) if i in unasked else s
            for i, s in enumerate(icsr.primary_sources)
        )
        derived.append(
            Derived(
                "FDA.C.2.r.2.8",
                "nullFlavor NASK",
                f"no e-mail and no reason recorded for {len(unasked)} reporter(s); FDA allows only MSK, ASKU, NASK",
            )
        )
    return icsr.model_copy(update=update), tuple(derived)
