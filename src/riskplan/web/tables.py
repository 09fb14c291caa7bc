"""Tables owned by ``web/``: users, sessions, the cookie-signing key and study runs with their
report files. (Plan approvals belong to ``plan/``, medical assessments of cases to ``cases/``.)

Session tokens are never stored: a session row holds the SHA-256 of its token, so a copy of the
database does not let anyone act as a logged-in user. Study runs are only ever added.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from riskplan.store import Base
from riskplan.store import LoginAttempt as WebLoginAttempt
from riskplan.store import UserAccount as WebUser

# The accounts (web_user) and the failed logins under unknown names (web_login_attempt) are mapped in
# riskplan.store.accounts, so that every front end can check a signer's password (21 CFR 11.200); the
# tables keep their names and their migrations here (web_0001, web_0003, web_0004).
__all__ = ["WebClientAttempt", "WebLoginAttempt", "WebReportFile", "WebSecret", "WebSession", "WebStudyRun", "WebUser"]


class WebClientAttempt(Base):
    """Failed logins from one client address (password spraying: one guess on many accounts), counted
    and locked out per address (web_0004)."""

    __tablename__ = "web_client_attempt"

    client: Mapped[str] = mapped_column(String(100), primary_key=True)
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_failed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class WebSession(Base):
    """A login: a browser session (signed cookie) or an API bearer token."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("web_user.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)  # "browser" | "api"
    csrf_token: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class WebSecret(Base):
    """Keys the application generates for itself (the cookie-signing key when none is configured)."""

    __tablename__ = "web_secret"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class WebStudyRun(Base):
    """One run of a plan study on a CDM source; its report files are :class:`WebReportFile` rows."""

    __tablename__ = "web_study_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_name: Mapped[str] = mapped_column(String(80), nullable=False)
    study_id: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    cdm_source: Mapped[str] = mapped_column(Text, nullable=False)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    finished_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    run_by: Mapped[str] = mapped_column(String(200), nullable=False)
    sections: Mapped[int] = mapped_column(Integer, nullable=False)


class WebReportFile(Base):
    __tablename__ = "web_report_file"
    __table_args__ = (UniqueConstraint("run_id", "format", name="uq_web_report_file_run_id_format"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("web_study_run.id"), nullable=False, index=True)
    format: Mapped[str] = mapped_column(String(10), nullable=False)  # html | pdf | json
    media_type: Mapped[str] = mapped_column(String(100), nullable=False)
    file_name: Mapped[str] = mapped_column(String(200), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
