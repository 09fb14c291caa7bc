"""cases: the MedDRA release a case version's coding used (icsr_case_version.meddra_version), so that a
report of an earlier data lock point can be reproduced with the release it used after an upgrade

Revision ID: cases_0012
Revises: cases_0011
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cases_0012"
down_revision: str | Sequence[str] | None = "cases_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (nullable, no default): no table copy on SQLite, no rewrite on PostgreSQL.
    op.add_column("icsr_case_version", sa.Column("meddra_version", sa.String(20), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN in place (SQLite 3.35+): a batch copy would drop the table that reactions,
    # drugs and concerns refer to (see cases_0007)
    op.drop_column("icsr_case_version", "meddra_version")
