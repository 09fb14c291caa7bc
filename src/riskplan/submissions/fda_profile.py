"""FDA checks applied before a batch is sent to FAERS: a file FDA would reject stops here.

Every rule of FDA's "E2B(R3) rejection and warning rules" and "ICSR data elements and business rules"
sheets is in :mod:`riskplan.submissions.fda_rules` (as data, each with FDA's id and text) and tested in
:mod:`riskplan.submissions.fda_checks`; the few riskplan cannot test are listed there with the reason.
The route is chosen from the case (:func:`riskplan.submissions.fda_message.fda_route`): postmarket
(``ZZFDA`` / ``CDER``), or premarket (``ZZFDA_PREMKT`` / ``CDER_IND``) for a report from a study under an IND.
"""

from __future__ import annotations

from riskplan.cases import Icsr
from riskplan.submissions.destinations import Destination
from riskplan.submissions.fda_message import FdaMessage, fda_route
from riskplan.submissions.fda_rules import FdaFinding, message_findings, receiver_findings

__all__ = ["FdaFinding", "case_findings", "destination_findings", "receiver_findings", "route_for"]


def route_for(destination: Destination, icsr: Icsr) -> tuple[str, str]:
    """(N.1.4, N.2.r.3) of this ICSR at an FDA destination: the destination's own receivers for a
    postmarketing report, FDA's premarket receivers for an IND safety report."""
    route = fda_route(icsr)
    if route[0] == "ZZFDA":
        return destination.receiver_id or "ZZFDA", destination.message_receiver_id or "CDER"
    return route


def destination_findings(destination: Destination) -> list[FdaFinding]:
    """R0004 / R0006 on the destination's own (postmarket) receivers."""
    return receiver_findings(destination.receiver_id, destination.message_receiver_id or destination.receiver_id)


def case_findings(
    icsr: Icsr, *, initial: bool, batch_receiver: str | None = None, message_receiver: str | None = None
) -> list[FdaFinding]:
    """What FDA would reject in (level reject) or warn about (level warn) in this ICSR, on the route the
    case needs unless receivers are given."""
    if batch_receiver is None:
        batch_receiver, message_receiver = fda_route(icsr)
    message = FdaMessage(icsr, batch_receiver, message_receiver, initial)
    return [*receiver_findings(batch_receiver, message_receiver, icsr), *message_findings(message)]
