"""submissions: AS2 transmission of a batch, provably (RFC 4130): sending recorded before the post,
attempts and the last failure, the MIC and the signed MDN kept as the receipt

``sending_at`` is committed with the AS2 Message-ID (``transmission_id``) before the HTTP post, so a
process killed between the post and the record of the MDN finds the Message-ID on restart and resends
the same file under it (the gateway answers a duplicate with its first MDN: RFC 4130 §9.5).

Revision ID: submissions_0002
Revises: submissions_0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "submissions_0002"
down_revision: str | Sequence[str] | None = "submissions_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submission_batch") as batch:
        batch.add_column(sa.Column("sending_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("send_attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("send_error", sa.Text()))
        batch.add_column(sa.Column("mic", sa.String(200)))
        batch.add_column(sa.Column("mdn", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("submission_batch") as batch:
        for column in ("mdn", "mic", "send_error", "send_attempts", "sending_at"):
            batch.drop_column(column)
