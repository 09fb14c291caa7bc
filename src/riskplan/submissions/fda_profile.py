"""FDA postmarketing checks applied before a batch is sent to FAERS (a file FDA would reject stops here).

From FDA's "E2B(R3) rejection and warning rules" and "ICSR data elements and business rules" sheets
(``shared/standards/e2b_r3/reference``), the rules riskplan can check on its own data:

* R0004: N.1.4 is ``ZZFDA`` for the postmarket route; R0006: N.2.r.3 is ``CDER`` when N.1.4 is ``ZZFDA``;
* R0011: C.1.7 (local criteria for an expedited report) is not nullFlavor NI in an initial submission;
* the regional elements the data-element sheet marks Required for postmarket ICSRs: FDA.C.1.7.1 (local
  criteria report type), FDA.C.1.12 (combination product indicator), FDA.D.11.r.1 (patient race) and
  FDA.D.12 (patient ethnicity), present or given a nullFlavor.

Not checked here (noted for the lead): FDA.C.2.r.2.8 reporter e-mail, the device elements FDA.G.k.12.r.*
of combination products, R0012-R0016 on the value of FDA.C.1.7.1 against C.1.7, and the premarket route.
"""

from __future__ import annotations

from dataclasses import dataclass

from riskplan.cases import Icsr, NullFlavor
from riskplan.submissions.destinations import Destination


@dataclass(frozen=True)
class FdaFinding:
    rule: str  # FDA error id or data element
    text: str  # the rule's text, as FDA words it

    def __str__(self) -> str:
        return f"{self.rule}: {self.text}"


_REQUIRED_CASE = {
    "FDA.C.1.7.1": "Element value for SafetyCasePriority With Tag Id FDA.C.1.7.1 is Mandatory",
    "FDA.C.1.12": "Element value for CombinationProductReport With Tag Id FDA.C.1.12 is Mandatory",
}
_REQUIRED_PATIENT = {
    "FDA.D.11.r.1": "Patient Race Code (FDA.D.11.r.1) must be provided (or an appropriate nullFlavor)",
    "FDA.D.12": "Patient Ethnicity Code (FDA.D.12) must be provided (or an appropriate nullFlavor)",
}


R0004 = FdaFinding("R0004", 'ICSR sent to the postmarket route does not have the value "ZZFDA" for N.1.4')
R0006 = FdaFinding("R0006", 'N.1.4 = "ZZFDA" but N.2.r.3 is not "CDER"')


def destination_findings(destination: Destination) -> list[FdaFinding]:
    return receiver_findings(destination.receiver_id, destination.message_receiver_id or destination.receiver_id)


def receiver_findings(batch_receiver: str | None, message_receiver: str | None) -> list[FdaFinding]:
    """R0004 and R0006 on N.1.4 (batch receiver) and N.2.r.3 (message receiver)."""
    found = []
    if batch_receiver != "ZZFDA":
        found.append(R0004)
    if message_receiver != "CDER":
        found.append(R0006)
    return found


def case_findings(icsr: Icsr, *, initial: bool) -> list[FdaFinding]:
    """What FDA would reject in this ICSR (postmarket route)."""
    found = []
    if initial and icsr.local_expedited is None and icsr.local_expedited_null_flavor is NullFlavor.NI:
        found.append(FdaFinding("R0011", "nullFlavor 'NI' used for initial report submission (C.1.7)"))
    if icsr.local_expedited is None and icsr.local_expedited_null_flavor is None:
        found.append(FdaFinding("C.1.7", "Data value required for tag C.1.7"))
    case_elements = {e.element for e in icsr.regional}
    patient_elements = {e.element for e in icsr.patient.regional}
    found += [FdaFinding(k, v) for k, v in _REQUIRED_CASE.items() if k not in case_elements]
    found += [FdaFinding(k, v) for k, v in _REQUIRED_PATIENT.items() if not _has(patient_elements, k)]
    return found


def _has(elements: set[str], wanted: str) -> bool:
    # FDA.D.11.r.1 may be kept as FDA.D.11.r.1 or under its repeating parent FDA.D.11.r
    return any(e == wanted or e.startswith(wanted.rsplit(".", 1)[0]) for e in elements)
