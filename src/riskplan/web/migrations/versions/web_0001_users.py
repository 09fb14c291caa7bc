"""web: users, sessions, secrets, plan approvals, case assessments, study runs and report files

Revision ID: web_0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "web_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("web",)
# web_case_assessment refers to icsr_case
depends_on: str | Sequence[str] | None = ("cases_0001",)


def upgrade() -> None:
    op.create_table(
        "web_user",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("role", sa.String(30), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_web_user"),
        sa.UniqueConstraint("username", name="uq_web_user_username"),
    )
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_web_session"),
        sa.ForeignKeyConstraint(["user_id"], ["web_user.id"], name="fk_web_session_user_id_web_user"),
        sa.UniqueConstraint("token_hash", name="uq_web_session_token_hash"),
    )
    op.create_index("ix_web_session_user_id", "web_session", ["user_id"])
    op.create_table(
        "web_secret",
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_web_secret"),
    )
    op.create_table(
        "web_plan_approval",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("plan_name", sa.String(80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_web_plan_approval"),
        sa.UniqueConstraint("plan_name", "version", name="uq_web_plan_approval_plan_name_version"),
    )
    op.create_table(
        "web_case_assessment",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("causality", sa.String(30), nullable=False),
        sa.Column("comment", sa.Text()),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assessed_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_web_case_assessment"),
        sa.ForeignKeyConstraint(["case_id"], ["icsr_case.id"], name="fk_web_case_assessment_case_id_icsr_case"),
    )
    op.create_index("ix_web_case_assessment_case_id", "web_case_assessment", ["case_id"])
    op.create_table(
        "web_study_run",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("plan_name", sa.String(80), nullable=False),
        sa.Column("study_id", sa.String(100), nullable=False),
        sa.Column("cdm_source", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_by", sa.String(200), nullable=False),
        sa.Column("sections", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_web_study_run"),
    )
    op.create_index("ix_web_study_run_study_id", "web_study_run", ["study_id"])
    op.create_table(
        "web_report_file",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("file_name", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_web_report_file"),
        sa.ForeignKeyConstraint(["run_id"], ["web_study_run.id"], name="fk_web_report_file_run_id_web_study_run"),
        sa.UniqueConstraint("run_id", "format", name="uq_web_report_file_run_id_format"),
    )
    op.create_index("ix_web_report_file_run_id", "web_report_file", ["run_id"])


def downgrade() -> None:
    op.drop_table("web_report_file")
    op.drop_table("web_study_run")
    op.drop_table("web_case_assessment")
    op.drop_table("web_plan_approval")
    op.drop_table("web_secret")
    op.drop_table("web_session")
    op.drop_table("web_user")
