"""web: failed logins under names that are not active accounts (web_login_attempt)

Revision ID: web_0003
Revises: web_0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "web_0003"
down_revision: str | Sequence[str] | None = "web_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_login_attempt",
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username", name="pk_web_login_attempt"),
    )


def downgrade() -> None:
    op.drop_table("web_login_attempt")
