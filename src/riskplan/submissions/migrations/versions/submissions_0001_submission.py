"""submissions: destination versions, batches, submissions per case version and destination, ACKs

Revision ID: submissions_0001
Revises:
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "submissions_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("submissions",)
depends_on: str | Sequence[str] | None = ("cases_0001",)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "submission_destination_version",
        _id(),
        sa.Column("code", sa.String(30), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("content_json", sa.Text(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.String(200), nullable=False),
        sa.Column("source", sa.Text()),
        sa.Column("reason", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_submission_destination_version"),
        sa.UniqueConstraint("code", "version", name="uq_submission_destination_version_code_version"),
    )
    op.create_index("ix_submission_destination_version_code", "submission_destination_version", ["code"])
    op.create_table(
        "submission_batch",
        _id(),
        sa.Column("batch_id", sa.String(100), nullable=False),
        sa.Column("destination", sa.String(30), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(30)),
        sa.Column("transmission_id", sa.String(300)),
        sa.Column("mdn_status", sa.String(40)),
        sa.Column("location", sa.Text()),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("ack_code", sa.String(10)),
        sa.Column("ack_text", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_submission_batch"),
        sa.UniqueConstraint("batch_id", name="uq_submission_batch_batch_id"),
        sa.UniqueConstraint("transmission_id", name="uq_submission_batch_transmission_id"),
    )
    op.create_index("ix_submission_batch_destination", "submission_batch", ["destination"])
    op.create_table(
        "submission",
        _id(),
        sa.Column("case_version_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("worldwide_id", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("destination", sa.String(30), nullable=False),
        sa.Column("destination_version", sa.Integer()),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("report", sa.String(20), nullable=False),
        sa.Column("rule", sa.String(80), nullable=False),
        sa.Column("day_zero", sa.Date()),
        sa.Column("due", sa.Date()),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("batch_id", sa.String(100), nullable=False),
        sa.Column("message_id", sa.String(100), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
        sa.Column("ack_code", sa.String(10)),
        sa.Column("ack_text", sa.Text()),
        sa.Column("late_reason", sa.Text()),
        sa.Column("resubmission_of", sa.Integer()),
        sa.PrimaryKeyConstraint("id", name="pk_submission"),
        sa.ForeignKeyConstraint(
            ["case_version_id"], ["icsr_case_version.id"], name="fk_submission_case_version_id_icsr_case_version"
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["submission_batch.batch_id"], name="fk_submission_batch_id_submission_batch"
        ),
        sa.UniqueConstraint(
            "case_version_id", "destination", "attempt", name="uq_submission_case_version_id_destination_attempt"
        ),
        sa.UniqueConstraint("message_id", name="uq_submission_message_id"),
    )
    for column in ("case_version_id", "case_id", "worldwide_id", "destination", "state", "batch_id"):
        op.create_index(f"ix_submission_{column}", "submission", [column])
    op.create_table(
        "submission_ack",
        _id(),
        sa.Column("ack_batch_id", sa.String(100), nullable=False),
        sa.Column("batch_id", sa.String(100), nullable=False),
        sa.Column("code", sa.String(10), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_submission_ack"),
        sa.UniqueConstraint("ack_batch_id", name="uq_submission_ack_ack_batch_id"),
    )
    op.create_index("ix_submission_ack_batch_id", "submission_ack", ["batch_id"])


def downgrade() -> None:
    op.drop_table("submission_ack")
    op.drop_table("submission")
    op.drop_table("submission_batch")
    op.drop_table("submission_destination_version")
