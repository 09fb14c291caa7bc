"""cases: each drug's product identifier and its version (E2B G.k.2.1.1b/a, e.g. a WHODrug MPID and release)

Revision ID: cases_0011
Revises: cases_0010
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cases_0011"
down_revision: str | Sequence[str] | None = "cases_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # ALTER TABLE ... ADD COLUMN in place on SQLite and PostgreSQL (nullable columns, no batch copy)
    op.add_column("icsr_drug", sa.Column("product_code", sa.String(60)))
    op.add_column("icsr_drug", sa.Column("product_code_version", sa.String(60)))


def downgrade() -> None:
    op.drop_column("icsr_drug", "product_code_version")
    op.drop_column("icsr_drug", "product_code")
