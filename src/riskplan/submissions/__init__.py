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

from riskplan.submissions import tables as _tables  # noqa: F401 -- its tables join the store's metadata (riskplan.schema)
from riskplan.submissions.acks import Acknowledgment, AckOutcome, apply_ack, parse_ack
from riskplan.submissions.as2 import As2Partner, build_message, post, read_mdn
from riskplan.submissions.as2_channel import As2Channel, as2_channel
from riskplan.submissions.as2_sending import fetch_and_record_ack, send_batch
from riskplan.submissions.as2_smime import load_key_pair
from riskplan.submissions.cli import app as cli_app
from riskplan.submissions.cli import due as due_command
from riskplan.submissions.compliance import (
    Compliance,
    ComplianceCounts,
    LateReport,
    MonthLine,
    compliance,
    compliance_counts,
)
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
from riskplan.submissions.gateway import Gateway, create_app, message_key, prepare_gateway
from riskplan.submissions.gateway_ack import acknowledge
from riskplan.submissions.gateway_cli import app as gateway_app
from riskplan.submissions.gateway_local import gateway_in_thread
from riskplan.submissions.obligations import Obligation, case_views, current_obligations, obligation_for
from riskplan.submissions.overview import DueReport, compliance_period, compliance_report, due_reports, state_counts
from riskplan.submissions.periodic import PeriodicReport, periodic_reports_until
from riskplan.submissions.queue_cli import queue as queue_command
from riskplan.submissions.queues import Queue, queue_counts, work_queue
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
    "As2Channel",
    "As2Partner",
    "Compliance",
    "ComplianceCounts",
    "Decision",
    "Destination",
    "DestinationInForce",
    "DueReport",
    "Gateway",
    "GeneratedBatch",
    "LateReport",
    "ManualTransport",
    "MonthLine",
    "Obligation",
    "Occurrence",
    "PeriodicReport",
    "Queue",
    "Refusal",
    "ReportKind",
    "Rule",
    "Source",
    "Submission",
    "Transmission",
    "Transport",
    "VersionView",
    "acknowledge",
    "apply_ack",
    "as2_channel",
    "build_message",
    "bundled_destinations",
    "case_views",
    "cli_app",
    "compliance",
    "compliance_counts",
    "compliance_period",
    "compliance_report",
    "create_app",
    "current_obligations",
    "decide",
    "destination_in_force",
    "destinations_in_force",
    "due_command",
    "due_reports",
    "fetch_and_record_ack",
    "gateway_app",
    "gateway_in_thread",
    "generate",
    "last_rejections",
    "list_submissions",
    "load_key_pair",
    "message_key",
    "obligation_for",
    "owed_now",
    "parse_ack",
    "periodic_reports_until",
    "post",
    "prepare_gateway",
    "queue_command",
    "queue_counts",
    "read_destination_file",
    "read_mdn",
    "record_destination",
    "record_late_reason",
    "record_mdn",
    "send_batch",
    "sent_versions",
    "state_counts",
    "transmit",
    "unsent_batches",
    "view_of",
    "work_queue",
]
