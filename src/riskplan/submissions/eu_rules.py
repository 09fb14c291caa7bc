"""EudraVigilance business rules as data: the EU profile applied before a report leaves for EVHUMAN.

``eu_rules.csv`` (bundled) holds the rules riskplan could read and cite, one row per rule with its id, level
(reject / warn), element, wording and source: the business rules of the EU ICSR Implementation Guide
(EMA/51938/2013, section C.4, Tables 32 and 35) as far as they could be read, and the ICH E2B(R3)
Implementation Guide's C.1.1 format. A rule at level reject stops the report before it is sent (it stays
owed, with the rule's text); a warning is recorded and shown. The local gateway's ``eu`` profile applies
the same table. What is not checked, and why, is in :data:`NOT_CHECKED`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final, Literal

from riskplan.cases import Icsr, ReportType, StudyType

Level = Literal["reject", "warn"]

#: Rules read but not checked here, and why.
NOT_CHECKED: Final[dict[str, str]] = {
    "C.1.8.1": (
        "ICH E2B(R3) IG C.1.8.1: 'the receiver should accept the value in this data element as is and not apply "
        "particular business validation rules'"
    ),
    "EU.N1": (
        "EU ICSR IG Table 35 note 1 (only the current and previous MedDRA versions, current LLT codes): needs the "
        "MedDRA release EudraVigilance runs, which riskplan does not hold (terms/ checks codes against the user's)"
    ),
    "EU.N.1.3": (
        "EU ICSR IG Table 32 (N.1.3 must match the EDI gateway id used to send the file): a registration check "
        "EudraVigilance makes at its own gateway; riskplan sends the setting e2b_sender_id"
    ),
}
_WWID: Final = re.compile(r"^([A-Z]{2})-[^-\s]+-\S+$")  # ICH E2B(R3) IG C.1.1


@dataclass(frozen=True)
class EuRule:
    id: str
    level: Level
    element: str
    text: str
    source: str


@dataclass(frozen=True)
class EuFinding:
    rule: str
    text: str
    level: Level = "reject"

    def __str__(self) -> str:
        return f"EU {self.rule}: {self.text}"


@cache
def eu_rules() -> tuple[EuRule, ...]:
    """Every rule of the bundled table, in its order."""
    data = (resources.files("riskplan.submissions") / "eu_rules.csv").read_text(encoding="utf-8")
    return tuple(
        EuRule(r["id"], "warn" if r["level"] == "warn" else "reject", r["element"], r["text"], r["source"])
        for r in csv.DictReader(io.StringIO(data))
    )


def _study_type(icsr: Icsr) -> StudyType | None:
    return icsr.study.study_type if icsr.study is not None else None


def _c11_format(icsr: Icsr) -> bool:
    found = _WWID.match(icsr.sender_report_id or "")
    if found is None:
        return True
    countries = {s.country for s in icsr.primary_sources if s.primary_for_regulatory_purposes and s.country}
    return bool(countries) and found.group(1) not in countries


#: The test of each message-level rule: True when the ICSR breaks it.
CHECKS: Final[dict[str, Callable[[Icsr], bool]]] = {
    # EU ICSR IG Table 35 note 2 a): report from study at EVPM only for individual patient use / other studies
    "EU.N2a.1": lambda i: (
        i.report_type is ReportType.STUDY
        and _study_type(i) not in (StudyType.INDIVIDUAL_PATIENT_USE, StudyType.OTHER_STUDY)
    ),
    "EU.N2a.2": lambda i: (
        _study_type(i) in (StudyType.INDIVIDUAL_PATIENT_USE, StudyType.OTHER_STUDY)
        and i.report_type is not ReportType.STUDY
    ),
    "ICH.C.1.1": _c11_format,
}


def eu_findings(icsr: Icsr) -> list[EuFinding]:
    """Every EU rule this ICSR breaks, rejections and warnings, in the table's order."""
    return [
        EuFinding(rule.id, rule.text, rule.level) for rule in eu_rules() if rule.id in CHECKS and CHECKS[rule.id](icsr)
    ]


def batch_findings(creation_time: str | None) -> list[EuFinding]:
    """EU rules on the batch wrapper: N.1.5 recorded down to the second (CCYYMMDDhhmmss)."""
    rule = next(r for r in eu_rules() if r.id == "EU.N.1.5")
    digits = re.match(r"^\d+", creation_time or "")
    return [] if digits is not None and len(digits.group(0)) >= 14 else [EuFinding(rule.id, rule.text)]
