"""Tables owned by ``reports/``: every periodic report generated (PSUR / PBRER, DSUR, PADER), kept with what
makes it reproducible.

A stored report is never changed or removed: its data lock point and parameters regenerate it, its input
checksum and output SHA-256 prove that the regenerated document is the same one (GVP VII.C.4: the MAH keeps
the PSUR and what it was made from; 21 CFR 11.10(b), (c): accurate copies, records protected). The audit
trail's row count and head hash say which state of the tamper-evident trail it was generated from.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from riskplan.store import Base

__all__ = ["PeriodicReportRow"]


class PeriodicReportRow(Base):
    """One generated periodic report (reports_0001)."""

    __tablename__ = "periodic_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False, index=True)  # psur | dsur | pader
    region: Mapped[str] = mapped_column(String(10), nullable=False)  # EU (PSUR), ICH (DSUR), US (PADER)
    plan_name: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    plan_version: Mapped[int | None] = mapped_column(Integer)
    period_start: Mapped[dt.date] = mapped_column(Date, nullable=False)
    data_lock_point: Mapped[dt.date] = mapped_column(Date, nullable=False)
    parameters_json: Mapped[str] = mapped_column(Text, nullable=False)
    input_checksum: Mapped[str] = mapped_column(String(64), nullable=False)
    audit_rows: Mapped[int] = mapped_column(Integer, nullable=False)
    audit_head: Mapped[str] = mapped_column(String(64), nullable=False)
    html: Mapped[str] = mapped_column(Text, nullable=False)
    html_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    generated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    generated_by: Mapped[str] = mapped_column(String(200), nullable=False)
