"""Regulatory reporting of individual cases (ICH E2B(R3), GVP Module VI, 21 CFR 314.80).

From a case version to an accepted acknowledgment at every destination, on time, provably:

* destinations and their reporting rules as data (:mod:`~riskplan.submissions.destinations`), stored
  in versions (:mod:`~riskplan.submissions.destination_versions`);
* what each case owes each destination, with due date and rule (:mod:`~riskplan.submissions.rules`,
  :mod:`~riskplan.submissions.obligations`);
* submissions as audited records (:mod:`~riskplan.submissions.records`), generated as E2B(R3) batches
  and handed to a :class:`Transport` (:mod:`~riskplan.submissions.sending`,
  :mod:`~riskplan.submissions.transport`);
* acknowledgments (:mod:`~riskplan.submissions.acks`) and compliance (:mod:`~riskplan.submissions.compliance`);
* what the front ends show, one call each (:mod:`~riskplan.submissions.overview`).
"""

from riskplan.submissions.acks import Acknowledgment, AckOutcome, apply_ack, parse_ack
from riskplan.submissions.compliance import Compliance, LateReport, MonthLine, compliance
from riskplan.submissions.destination_versions import (
    DestinationInForce,
    destination_in_force,
    destinations_in_force,
    record_destination,
)
from riskplan.submissions.destinations import (
    Destination,
    Occurrence,
    ReportKind,
    Rule,
    Source,
    bundled_destinations,
    read_destination_file,
)
from riskplan.submissions.obligations import Obligation, case_views, current_obligations, obligation_for
from riskplan.submissions.overview import DueReport, compliance_period, compliance_report, due_reports, state_counts
from riskplan.submissions.records import (
    STATES,
    Submission,
    last_rejections,
    list_submissions,
    record_late_reason,
    sent_versions,
)
from riskplan.submissions.rules import Decision, VersionView, decide, view_of
from riskplan.submissions.sending import (
    GeneratedBatch,
    Refusal,
    generate,
    owed_now,
    record_mdn,
    transmit,
    unsent_batches,
)
from riskplan.submissions.transport import ManualTransport, Transmission, Transport

__all__ = [
    "STATES",
    "AckOutcome",
    "Acknowledgment",
    "Compliance",
    "Decision",
    "Destination",
    "DestinationInForce",
    "DueReport",
    "GeneratedBatch",
    "LateReport",
    "ManualTransport",
    "MonthLine",
    "Obligation",
    "Occurrence",
    "Refusal",
    "ReportKind",
    "Rule",
    "Source",
    "Submission",
    "Transmission",
    "Transport",
    "VersionView",
    "apply_ack",
    "bundled_destinations",
    "case_views",
    "compliance",
    "compliance_period",
    "compliance_report",
    "current_obligations",
    "decide",
    "destination_in_force",
    "destinations_in_force",
    "due_reports",
    "generate",
    "last_rejections",
    "list_submissions",
    "obligation_for",
    "owed_now",
    "parse_ack",
    "read_destination_file",
    "record_destination",
    "record_late_reason",
    "record_mdn",
    "sent_versions",
    "state_counts",
    "transmit",
    "unsent_batches",
    "view_of",
]
