"""plan: approvals of stored plan versions (moved here from web_plan_approval by web_0002)

Revision ID: plan_0002
Revises: plan_0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "plan_0002"
down_revision: str | Sequence[str] | None = "plan_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_approval",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("plan_name", sa.String(80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_plan_approval"),
        sa.UniqueConstraint("plan_name", "version", name="uq_plan_approval_plan_name_version"),
    )


def downgrade() -> None:
    op.drop_table("plan_approval")
