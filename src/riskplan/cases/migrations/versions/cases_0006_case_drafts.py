"""cases: drafts of cases entered on the web intake form (never counted as cases until submitted)

Revision ID: cases_0006
Revises: cases_0005
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cases_0006"
down_revision: str | Sequence[str] | None = "cases_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_draft",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("worldwide_id", sa.String(200)),
        sa.Column("summary", sa.Text()),
        sa.Column("values_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("icsr_case.id", name="fk_case_draft_case_id_icsr_case")),
    )
    op.create_index("ix_case_draft_status", "case_draft", ["status"])
    op.create_index("ix_case_draft_created_by", "case_draft", ["created_by"])


def downgrade() -> None:
    op.drop_index("ix_case_draft_created_by", table_name="case_draft")
    op.drop_index("ix_case_draft_status", table_name="case_draft")
    op.drop_table("case_draft")
