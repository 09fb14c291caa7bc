"""store: electronic signatures (21 CFR 11.50, 11.70)

Revision ID: store_0003
Revises: store_0002
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "store_0003"
down_revision: str | Sequence[str] | None = "store_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "electronic_signature",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("signer_username", sa.String(100), nullable=False),
        sa.Column("printed_name", sa.String(200), nullable=False),
        sa.Column("meaning", sa.String(20), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record_type", sa.String(50), nullable=False),
        sa.Column("record_id", sa.String(200), nullable=False),
        sa.Column("record_sha256", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_electronic_signature"),
    )
    op.create_index("ix_electronic_signature_record_type", "electronic_signature", ["record_type"])
    op.create_index("ix_electronic_signature_record_id", "electronic_signature", ["record_id"])


def downgrade() -> None:
    op.drop_table("electronic_signature")
