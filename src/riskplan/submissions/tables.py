"""Tables owned by ``submissions/``.

* ``submission_destination_version``: each stored version of a destination and its reporting rules
  (only ever added, like plan versions).
* ``submission_batch``: one E2B(R3) batch file generated for one destination (N.1.2 batch number
  unique), with its SHA-256, how it was sent and the transport's receipt (message id, MDN); for AS2
  the Message-ID committed before the post, the attempts, the last failure, the MIC and the signed MDN.
* ``submission``: one report of one case version to one destination (one row per attempt); its state
  moves generated → sent → delivered → accepted / rejected → resubmitted, or nullified. Every change
  is in the audit trail. N.2.r.1 message numbers are unique.
* ``submission_ack``: each imported acknowledgment (ACK.M.1 unique), so an ACK imported twice changes
  nothing.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from riskplan.store import Base


class DestinationVersionRow(Base):
    __tablename__ = "submission_destination_version"
    __table_args__ = (UniqueConstraint("code", "version", name="uq_submission_destination_version_code_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(30), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    content_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content_json: Mapped[str] = mapped_column(Text, nullable=False)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    loaded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    source: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)


class BatchRow(Base):
    __tablename__ = "submission_batch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)  # N.1.2
    destination: Mapped[str] = mapped_column(String(30), nullable=False, index=True)
    file_name: Mapped[str] = mapped_column(Text, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)  # the file as generated (UTF-8 XML)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    channel: Mapped[str | None] = mapped_column(String(30))
    transmission_id: Mapped[str | None] = mapped_column(String(300), unique=True)  # e.g. the AS2 Message-ID
    mdn_status: Mapped[str | None] = mapped_column(String(40))
    location: Mapped[str | None] = mapped_column(Text)  # where the manual channel wrote the file
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    ack_code: Mapped[str | None] = mapped_column(String(10))  # ACK.A.4: AA, AE, AR
    ack_text: Mapped[str | None] = mapped_column(Text)  # ACK.A.5
    # AS2 (submissions_0002): the Message-ID is committed with sending_at before the post (RFC 4130 §9.5)
    sending_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    send_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    send_error: Mapped[str | None] = mapped_column(Text)  # why the last transmission failed
    mic: Mapped[str | None] = mapped_column(String(200))  # Received-Content-MIC the MDN returned (ours)
    mdn: Mapped[str | None] = mapped_column(Text)  # the signed MDN as received (base64), the receipt


class SubmissionRow(Base):
    __tablename__ = "submission"
    __table_args__ = (
        UniqueConstraint(
            "case_version_id", "destination", "attempt", name="uq_submission_case_version_id_destination_attempt"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_version_id: Mapped[int] = mapped_column(ForeignKey("icsr_case_version.id"), nullable=False, index=True)
    case_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    worldwide_id: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    destination: Mapped[str] = mapped_column(String(30), nullable=False, index=True)
    destination_version: Mapped[int | None] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # expedited | periodic
    report: Mapped[str] = mapped_column(String(20), nullable=False)  # initial | follow-up | downgrade | nullification
    rule: Mapped[str] = mapped_column(String(80), nullable=False)
    day_zero: Mapped[dt.date | None] = mapped_column(Date)
    due: Mapped[dt.date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("submission_batch.batch_id"), nullable=False, index=True)
    message_id: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)  # N.2.r.1
    generated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    ack_code: Mapped[str | None] = mapped_column(String(10))  # ACK.B.r.6
    ack_text: Mapped[str | None] = mapped_column(Text)  # ACK.B.r.7: the authority's error text
    late_reason: Mapped[str | None] = mapped_column(Text)
    periodic_report: Mapped[str | None] = mapped_column(Text)  # submissions_0004: 21 CFR 314.80(c)(2) report
    resubmission_of: Mapped[int | None] = mapped_column(Integer)


class AckRow(Base):
    __tablename__ = "submission_ack"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ack_batch_id: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)  # ACK.M.1
    batch_id: Mapped[str] = mapped_column(String(100), nullable=False, index=True)  # ACK.A.1
    code: Mapped[str] = mapped_column(String(10), nullable=False)  # ACK.A.4
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    imported_by: Mapped[str] = mapped_column(String(200), nullable=False)
