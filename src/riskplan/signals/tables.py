"""Tables owned by ``signals/``: signal records, their transitions and their linked cases (GVP Module IX).

A signal (``signal_record``) carries its current state and the dates that matter for periodic reports
(detected, closed); every move through the workflow is a row of ``signal_transition`` (GVP IX.B.8:
the signal management process is documented), and the cases a signal rests on are rows of
``signal_case``. Rows are only ever added, and a signal's record is only ever updated by a transition:
nothing is deleted.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from riskplan.store import Base


class SignalRow(Base):
    """One signal: what it is about, where it came from, and where it stands (GVP IX.B.1-IX.B.6)."""

    __tablename__ = "signal_record"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    signal_id: Mapped[str] = mapped_column(String(20), nullable=False, unique=True)  # SIG-2026-0001
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    product: Mapped[str | None] = mapped_column(String(300), index=True)
    event: Mapped[str | None] = mapped_column(String(200), index=True)  # MedDRA PT
    concern_id: Mapped[str | None] = mapped_column(String(80))
    plan_name: Mapped[str | None] = mapped_column(String(80), index=True)
    source: Mapped[str] = mapped_column(String(30), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    statistics_json: Mapped[str | None] = mapped_column(Text)  # the disproportionality row when from a hit
    state: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    outcome: Mapped[str | None] = mapped_column(String(40))
    outcome_concerns: Mapped[str | None] = mapped_column(Text)  # JSON list of concern ids the outcome touched
    plan_version: Mapped[int | None] = mapped_column(Integer)  # the plan version the outcome produced
    detected_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    detected_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    detected_by: Mapped[str] = mapped_column(String(200), nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_by: Mapped[str] = mapped_column(String(200), nullable=False)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(200))


class SignalTransitionRow(Base):
    """One move of a signal through the workflow, with who made it, when, acting as what, and why."""

    __tablename__ = "signal_transition"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    signal_pk: Mapped[int] = mapped_column(ForeignKey("signal_record.id"), nullable=False, index=True)
    from_state: Mapped[str | None] = mapped_column(String(20))  # None: the signal was recorded
    to_state: Mapped[str] = mapped_column(String(20), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    who: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str | None] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    outcome: Mapped[str | None] = mapped_column(String(40))
    plan_name: Mapped[str | None] = mapped_column(String(80))
    plan_version: Mapped[int | None] = mapped_column(Integer)


class SignalCaseRow(Base):
    """A case of the store that a signal rests on (GVP IX.B.3: the case series behind a signal)."""

    __tablename__ = "signal_case"
    __table_args__ = (UniqueConstraint("signal_pk", "case_id", name="uq_signal_case_signal_pk_case_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    signal_pk: Mapped[int] = mapped_column(ForeignKey("signal_record.id"), nullable=False, index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("icsr_case.id"), nullable=False, index=True)
    linked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    linked_by: Mapped[str] = mapped_column(String(200), nullable=False)
