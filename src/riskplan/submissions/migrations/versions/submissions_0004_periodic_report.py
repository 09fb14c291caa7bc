"""submissions: the US periodic report an ICSR of kind periodic belongs to (21 CFR 314.80(c)(2))

``periodic_report`` names the report (number, quarterly or annual, interval and due date), set when the
submission is generated; the submission's ``due`` is that report's due date, which compliance counts.

Revision ID: submissions_0004
Revises: submissions_0003
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "submissions_0004"
down_revision: str | Sequence[str] | None = "submissions_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submission") as batch:
        batch.add_column(sa.Column("periodic_report", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("submission") as batch:
        batch.drop_column("periodic_report")
