"""reports: generated periodic reports (PSUR / PBRER, DSUR, PADER) with their DLP, checksums and bytes

Revision ID: reports_0001
Revises:
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "reports_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("reports",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "periodic_report",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("region", sa.String(10), nullable=False),
        sa.Column("plan_name", sa.String(80), nullable=False),
        sa.Column("plan_version", sa.Integer()),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("data_lock_point", sa.Date(), nullable=False),
        sa.Column("parameters_json", sa.Text(), nullable=False),
        sa.Column("input_checksum", sa.String(64), nullable=False),
        sa.Column("audit_rows", sa.Integer(), nullable=False),
        sa.Column("audit_head", sa.String(64), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("html_sha256", sa.String(64), nullable=False),
        sa.Column("pdf", sa.LargeBinary()),
        sa.Column("pdf_sha256", sa.String(64)),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("generated_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_periodic_report"),
    )
    op.create_index("ix_periodic_report_kind", "periodic_report", ["kind"])
    op.create_index("ix_periodic_report_plan_name", "periodic_report", ["plan_name"])


def downgrade() -> None:
    op.drop_index("ix_periodic_report_plan_name", table_name="periodic_report")
    op.drop_index("ix_periodic_report_kind", table_name="periodic_report")
    op.drop_table("periodic_report")
