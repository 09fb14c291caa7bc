"""web: plan approvals and case assessments move to their owners (plan_approval, case_assessment)

The rows of ``web_plan_approval`` and ``web_case_assessment`` are copied, ids included, into the tables
created by plan_0002 and cases_0002; then the two web tables are dropped. The downgrade does the reverse:
it recreates the web tables, copies the rows back and empties the new tables, so each record is held in
one place at every revision.

Revision ID: web_0002
Revises: web_0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "web_0002"
down_revision: str | Sequence[str] | None = "web_0001"
branch_labels: str | Sequence[str] | None = None
# the rows are copied into plan_approval (plan_0002) and case_assessment (cases_0002)
depends_on: str | Sequence[str] | None = ("plan_0002", "cases_0002")

# Constant SQL (no statement is built from strings): the same on SQLite and PostgreSQL.
APPROVALS_TO_PLAN = (
    "INSERT INTO plan_approval (id, plan_name, version, approved_at, approved_by, reason) "
    "SELECT id, plan_name, version, approved_at, approved_by, reason FROM web_plan_approval ORDER BY id"
)
ASSESSMENTS_TO_CASES = (
    "INSERT INTO case_assessment (id, case_id, version, causality, comment, assessed_at, assessed_by) "
    "SELECT id, case_id, version, causality, comment, assessed_at, assessed_by FROM web_case_assessment ORDER BY id"
)
APPROVALS_TO_WEB = (
    "INSERT INTO web_plan_approval (id, plan_name, version, approved_at, approved_by, reason) "
    "SELECT id, plan_name, version, approved_at, approved_by, reason FROM plan_approval ORDER BY id"
)
ASSESSMENTS_TO_WEB = (
    "INSERT INTO web_case_assessment (id, case_id, version, causality, comment, assessed_at, assessed_by) "
    "SELECT id, case_id, version, causality, comment, assessed_at, assessed_by FROM case_assessment ORDER BY id"
)
# PostgreSQL: rows were inserted with their ids, so the next generated id must follow the largest one copied.
PLAN_APPROVAL_SEQUENCE = (
    "SELECT setval(pg_get_serial_sequence('plan_approval', 'id'), "
    "COALESCE((SELECT MAX(id) FROM plan_approval), 0) + 1, false)"
)
CASE_ASSESSMENT_SEQUENCE = (
    "SELECT setval(pg_get_serial_sequence('case_assessment', 'id'), "
    "COALESCE((SELECT MAX(id) FROM case_assessment), 0) + 1, false)"
)
WEB_PLAN_APPROVAL_SEQUENCE = (
    "SELECT setval(pg_get_serial_sequence('web_plan_approval', 'id'), "
    "COALESCE((SELECT MAX(id) FROM web_plan_approval), 0) + 1, false)"
)
WEB_CASE_ASSESSMENT_SEQUENCE = (
    "SELECT setval(pg_get_serial_sequence('web_case_assessment', 'id'), "
    "COALESCE((SELECT MAX(id) FROM web_case_assessment), 0) + 1, false)"
)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.execute(sa.text(APPROVALS_TO_PLAN))
    op.execute(sa.text(ASSESSMENTS_TO_CASES))
    if _postgresql():
        op.execute(sa.text(PLAN_APPROVAL_SEQUENCE))
        op.execute(sa.text(CASE_ASSESSMENT_SEQUENCE))
    op.drop_table("web_case_assessment")
    op.drop_table("web_plan_approval")


def downgrade() -> None:
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
    op.execute(sa.text(APPROVALS_TO_WEB))
    op.execute(sa.text(ASSESSMENTS_TO_WEB))
    if _postgresql():
        op.execute(sa.text(WEB_PLAN_APPROVAL_SEQUENCE))
        op.execute(sa.text(WEB_CASE_ASSESSMENT_SEQUENCE))
    op.execute(sa.text("DELETE FROM case_assessment"))
    op.execute(sa.text("DELETE FROM plan_approval"))
