"""cases: the fuzzy coding suggestions of an uncoded reaction as JSON (term, PT, score) for the case view

Revision ID: cases_0004
Revises: cases_0003
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cases_0004"
down_revision: str | Sequence[str] | None = "cases_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("icsr_reaction") as batch:
        batch.add_column(sa.Column("coding_suggestions", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("icsr_reaction") as batch:
        batch.drop_column("coding_suggestions")
