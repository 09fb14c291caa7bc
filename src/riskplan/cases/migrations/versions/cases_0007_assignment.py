"""cases: the user a case is assigned to (icsr_case.assigned_to), for the work queues

Revision ID: cases_0007
Revises: cases_0006
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cases_0007"
down_revision: str | Sequence[str] | None = "cases_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("icsr_case") as batch:
        batch.add_column(sa.Column("assigned_to", sa.String(100)))
        batch.create_index("ix_icsr_case_assigned_to", ["assigned_to"])


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN in place (SQLite 3.35+): a batch copy of icsr_case would drop the table that
    # case versions, assessments and drafts refer to, which SQLite refuses while foreign keys are enforced
    op.drop_index("ix_icsr_case_assigned_to", "icsr_case")
    op.drop_column("icsr_case", "assigned_to")
