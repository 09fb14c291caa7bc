"""Tables owned by ``plan/``: the stored versions of each plan and their approvals."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from riskplan.store import Base


class PlanVersionRow(Base):
    """One version of one plan. Versions are only ever added, never changed or deleted."""

    __tablename__ = "plan_version"
    __table_args__ = (UniqueConstraint("plan_name", "version", name="uq_plan_version_plan_name_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_name: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    content_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content_json: Mapped[str] = mapped_column(Text, nullable=False)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    loaded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    source: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)


class PlanApprovalRow(Base):
    """A stored plan version approved (e.g. by the QPPV); once per version, only ever added.

    ``approved_by`` is the user name as given (a web login or a command-line user), not a reference to
    another folder's table.
    """

    __tablename__ = "plan_approval"
    __table_args__ = (UniqueConstraint("plan_name", "version", name="uq_plan_approval_plan_name_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_name: Mapped[str] = mapped_column(String(80), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    approved_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    approved_by: Mapped[str] = mapped_column(String(200), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
