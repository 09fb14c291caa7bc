"""cases: medical assessments of cases (moved here from web_case_assessment by web_0002)

Revision ID: cases_0002
Revises: cases_0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cases_0002"
down_revision: str | Sequence[str] | None = "cases_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_assessment",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("causality", sa.String(30), nullable=False),
        sa.Column("comment", sa.Text()),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assessed_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_assessment"),
        sa.ForeignKeyConstraint(["case_id"], ["icsr_case.id"], name="fk_case_assessment_case_id_icsr_case"),
    )
    op.create_index("ix_case_assessment_case_id", "case_assessment", ["case_id"])


def downgrade() -> None:
    op.drop_table("case_assessment")
