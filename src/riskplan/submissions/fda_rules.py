"""FDA's E2B(R3) business rules as data: every rule of FDA's two sheets, each checked or said why not.

``fda_rules.csv`` (bundled) is derived from FDA's "E2B(R3) rejection and warning rules" and "ICSR data
elements and business rules" sheets (``shared/standards/e2b_r3/reference``): one row per rule with its id,
level (reject / warn), route (postmarket, premarket, any), data element and FDA's own text (its spelling
"postmaket" / "premaket" corrected). The test of
each rule is in :mod:`riskplan.submissions.fda_checks`, by id; the rules riskplan does not test are in
:data:`NOT_CHECKED` with the reason. A rule at level reject stops the report before it is sent (the case
goes back to the processor's queue with the rule's id and text); a warning is recorded and shown.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final, Literal

from riskplan.cases import Icsr
from riskplan.submissions.fda_checks import CHECKS
from riskplan.submissions.fda_message import FdaMessage, fda_route

Level = Literal["reject", "warn"]

_MODEL: Final = (
    "riskplan's case model holds this pair as one value whose parts are both required (MeddraTerm: version "
    "and code; Quantity: number and unit; Period: unit): a file with one part alone cannot be produced"
)
_REGISTRY: Final = "needs FDA's register of IND / pre-ANDA applications and product names, which riskplan has not"
#: Rules riskplan does not test, and why (each is still listed by ``fda_rules()``).
NOT_CHECKED: Final[dict[str, str]] = {
    **{
        rule: _MODEL
        for rule in [
            "R0029",
            "R0030",
            "R0031",
            "R0032",
            "R0033",
            "R0034",
            "R0037",
            "R0038",
            "R0039",
            "R0040",
            "R0042",
            "R0043",
            "R0046",
            "R0047",
            "R0049",
            "R0050",
            "R0052",
            "R0053",
            "R0054",
            "R0055",
            "R0056",
            "R0057",
            "R0059",
            "R0060",
            "R0063",
            "R0073",
            "R0075",
            "R0076",
            "R0077",
            "R0078",
            "R0079",
            "R0080",
            "R0081",
            "R0082",
            "R0083",
            "R0084",
            "R0088",
            "R0089",
            "R0090",
            "R0091",
            "R0097",
            "R0098",
        ]
    },
    "R0018": "C.1.9.1.r.2 (case identifier) is required by riskplan's model for every C.1.9.1.r source",
    "R0100": "riskplan writes N.2.r.2 and N.1.3 from the one sender id (setting e2b_sender_id): they always match",
    "R0105": _REGISTRY,
    "R0106": _REGISTRY,
    "W0012": _REGISTRY,
    "W0009": _REGISTRY,
    "W0008": "FDA validates the device problem code only for format against its and IMDRF's code lists, not bundled",
    "R0004": "checked on the route: see receiver_findings (N.1.4 is chosen from the case by fda_route)",
    "R0005": "checked on the route: see receiver_findings (N.1.4 is chosen from the case by fda_route)",
}


@dataclass(frozen=True)
class FdaRule:
    id: str  # FDA's error id (R0012, W0005) or the required element's number (FDA.C.2.r.2.8)
    level: Level
    route: str  # postmarket, premarket or any
    element: str
    text: str  # FDA's own words


@dataclass(frozen=True)
class FdaFinding:
    rule: str
    text: str
    level: Level = "reject"

    def __str__(self) -> str:
        return f"{self.rule}: {self.text}"


@cache
def fda_rules() -> tuple[FdaRule, ...]:
    """Every rule of the bundled table, in FDA's order."""
    data = (resources.files("riskplan.submissions") / "fda_rules.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO(data))
    return tuple(
        FdaRule(r["id"], "warn" if r["level"] == "warn" else "reject", r["route"], r["element"], r["text"])
        for r in rows
    )


def receiver_findings(
    batch_receiver: str | None, message_receiver: str | None, icsr: Icsr | None = None
) -> list[FdaFinding]:
    """R0004 / R0005 on N.1.4 (against the route the case needs, postmarket when unknown), R0006 / R0007
    on N.2.r.3."""
    route = fda_route(icsr)[0] if icsr is not None else None
    found = []
    by_id = {r.id: r for r in fda_rules()}
    if batch_receiver not in ("ZZFDA", "ZZFDA_PREMKT") or (route is not None and batch_receiver != route):
        rule = "R0005" if route == "ZZFDA_PREMKT" else "R0004"
        found.append(FdaFinding(rule, by_id[rule].text))
    # N.2.r.3 is judged on the route meant (R0006 postmarket, R0007 premarket), even when N.1.4 is wrong
    meant = route or (batch_receiver if batch_receiver == "ZZFDA_PREMKT" else "ZZFDA")
    probe = FdaMessage(icsr or Icsr.model_construct(sender_report_id="", worldwide_case_id=""), meant, message_receiver)
    for rule in ("R0006", "R0007"):
        if CHECKS[rule](probe):
            found.append(FdaFinding(rule, by_id[rule].text))
    return found


def message_findings(message: FdaMessage) -> list[FdaFinding]:
    """Every FDA rule this message breaks, rejections and warnings, in FDA's order (R0004-R0007 aside)."""
    found = []
    for rule in fda_rules():
        check = CHECKS.get(rule.id)
        if check is None or rule.id in ("R0006", "R0007"):
            continue
        if check(message):
            found.append(FdaFinding(rule.id, rule.text, rule.level))
    return found
