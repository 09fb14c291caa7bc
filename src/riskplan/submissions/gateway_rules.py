"""The business rules a receiving gateway applies after the ICH schema, per profile (``gateway serve --profile``):

* ``ich``: the ICH schema only;
* ``eu``: EudraVigilance: N.1.4 is ``EVHUMAN`` (EU ICSR Implementation Guide, EMA/51938/2013, batch
  receiver), N.1.5 to the second, the ICH E2B(R3) business rules of each message (error level) as riskplan
  checks them and the rejecting rules of :mod:`riskplan.submissions.eu_rules`;
* ``fda``: FDA FAERS postmarket: R0004 / R0006 on the receivers, and the rules of
  :mod:`riskplan.submissions.fda_profile` on each message, in FDA's own words. R0011 (nullFlavor NI in
  C.1.7 of an initial report) counts a case as initial the first time this gateway sees its C.1.8.1.

A rule that fails rejects the message (ACK.B.r.6 CR) with the rule's text (ACK.B.r.7), as the authority would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from lxml import etree

from riskplan.cases import HL7, E2bError, Severity, check_business_rules, read_message
from riskplan.submissions.eu_rules import batch_findings, eu_findings
from riskplan.submissions.fda_profile import case_findings, receiver_findings

PROFILES: Final = ("ich", "eu", "fda")
NS: Final = {"h": HL7}
EV_RECEIVER: Final = "EVHUMAN"


def _receiver(element: etree._Element) -> str | None:
    found = element.find("h:receiver/h:device/h:id", NS)
    value = found.get("extension") if found is not None else None
    return str(value) if value else None


@dataclass
class ProfileRules:
    """One gateway's business rules; remembers the cases it has seen (initial vs follow-up)."""

    profile: str = "ich"
    seen: set[str] = field(default_factory=set)
    batch_receiver: str | None = None  # N.1.4 of the batch being read (FDA: ZZFDA or ZZFDA_PREMKT)

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"unknown gateway profile {self.profile!r}: profiles are {', '.join(PROFILES)}")

    def batch(self, root: etree._Element) -> list[str]:
        """Rules on the batch wrapper (N.1): a failure rejects the whole batch (ACK.A.4 AR)."""
        receiver = _receiver(root)
        self.batch_receiver = receiver
        if self.profile == "eu" and receiver != EV_RECEIVER:
            return [f"EU ICSR Implementation Guide: N.1.4 batch receiver is {receiver!r}, not {EV_RECEIVER}"]
        if self.profile == "eu":
            created = root.find("h:creationTime", NS)
            return [str(f) for f in batch_findings(created.get("value") if created is not None else None)]
        if self.profile == "fda" and receiver not in ("ZZFDA", "ZZFDA_PREMKT"):
            return [str(f) for f in receiver_findings(receiver, "CDER")]
        return []

    def message(self, message: etree._Element) -> list[str]:
        """Rules on one ICSR message (N.2.r and the case): a failure rejects that message (ACK.B.r.6 CR)."""
        if self.profile == "ich":
            return []
        found: list[str] = []
        try:
            icsr = read_message(message)
        except E2bError as exc:
            return [*found, f"the message cannot be read: {exc}"]
        if self.profile == "fda":
            initial = icsr.worldwide_case_id not in self.seen
            batch = self.batch_receiver or "ZZFDA"
            found += [
                str(f)
                for f in case_findings(icsr, initial=initial, batch_receiver=batch, message_receiver=_receiver(message))
                if f.level == "reject"
            ]
        else:
            found += [
                f"{v.element} {v.path}: {v.message}" for v in check_business_rules(icsr) if v.severity is Severity.ERROR
            ]
            # the EU ICSR Implementation Guide's rules (eu_rules.csv) that reject a message
            found += [str(f) for f in eu_findings(icsr) if f.level == "reject"]
        if not found:
            self.seen.add(icsr.worldwide_case_id)
        return found
