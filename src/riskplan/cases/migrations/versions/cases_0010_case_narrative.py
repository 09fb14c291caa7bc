"""cases: the case narrative (H.1), drafted, edited and extended by follow-ups, one row per revision

Revision ID: cases_0010
Revises: cases_0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cases_0010"
down_revision: str | Sequence[str] | None = "cases_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_narrative",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "case_id",
            sa.Integer(),
            sa.ForeignKey("icsr_case.id", name="fk_case_narrative_case_id_icsr_case"),
            nullable=False,
        ),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("case_version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.UniqueConstraint("case_id", "language", "revision", name="uq_case_narrative_case_id_language_revision"),
    )
    op.create_index("ix_case_narrative_case_id", "case_narrative", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_case_narrative_case_id", table_name="case_narrative")
    op.drop_table("case_narrative")
