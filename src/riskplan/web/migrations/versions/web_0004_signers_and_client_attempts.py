"""web: a printed name for each account (electronic signatures) and failed logins per client address

Revision ID: web_0004
Revises: web_0003
Create Date: 2026-12-03

21 CFR 11.50(a)(1): a signature shows the signer's printed name, so accounts get ``full_name``
(accounts made before have none; ``riskplan user add --full-name`` sets it). ``web_client_attempt``
counts failed logins per client address against password spraying (21 CFR 11.300(d)).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "web_0004"
down_revision: str | Sequence[str] | None = "web_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("web_user") as batch:
        batch.add_column(sa.Column("full_name", sa.String(200)))
    op.create_table(
        "web_client_attempt",
        sa.Column("client", sa.String(100), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client", name="pk_web_client_attempt"),
    )


def downgrade() -> None:
    op.drop_table("web_client_attempt")
    with op.batch_alter_table("web_user") as batch:
        batch.drop_column("full_name")
