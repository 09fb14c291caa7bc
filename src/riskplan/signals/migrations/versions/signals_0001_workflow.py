"""signals: signal records, their workflow transitions and linked cases (GVP Module IX)

Revision ID: signals_0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "signals_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("signals",)
# signal_case refers to icsr_case
depends_on: str | Sequence[str] | None = ("cases_0001",)


def upgrade() -> None:
    op.create_table(
        "signal_record",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("signal_id", sa.String(20), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("product", sa.String(300)),
        sa.Column("event", sa.String(200)),
        sa.Column("concern_id", sa.String(80)),
        sa.Column("plan_name", sa.String(80)),
        sa.Column("source", sa.String(30), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("statistics_json", sa.Text()),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(40)),
        sa.Column("outcome_concerns", sa.Text()),
        sa.Column("plan_version", sa.Integer()),
        sa.Column("detected_on", sa.Date(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detected_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("closed_by", sa.String(200)),
        sa.PrimaryKeyConstraint("id", name="pk_signal_record"),
        sa.UniqueConstraint("signal_id", name="uq_signal_record_signal_id"),
    )
    op.create_index("ix_signal_record_product", "signal_record", ["product"])
    op.create_index("ix_signal_record_event", "signal_record", ["event"])
    op.create_index("ix_signal_record_plan_name", "signal_record", ["plan_name"])
    op.create_index("ix_signal_record_state", "signal_record", ["state"])
    op.create_table(
        "signal_transition",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("signal_pk", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(20)),
        sa.Column("to_state", sa.String(20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("who", sa.String(200), nullable=False),
        sa.Column("role", sa.String(30)),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(40)),
        sa.Column("plan_name", sa.String(80)),
        sa.Column("plan_version", sa.Integer()),
        sa.PrimaryKeyConstraint("id", name="pk_signal_transition"),
        sa.ForeignKeyConstraint(
            ["signal_pk"], ["signal_record.id"], name="fk_signal_transition_signal_pk_signal_record"
        ),
    )
    op.create_index("ix_signal_transition_signal_pk", "signal_transition", ["signal_pk"])
    op.create_table(
        "signal_case",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("signal_pk", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("linked_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_signal_case"),
        sa.ForeignKeyConstraint(["signal_pk"], ["signal_record.id"], name="fk_signal_case_signal_pk_signal_record"),
        sa.ForeignKeyConstraint(["case_id"], ["icsr_case.id"], name="fk_signal_case_case_id_icsr_case"),
        sa.UniqueConstraint("signal_pk", "case_id", name="uq_signal_case_signal_pk_case_id"),
    )
    op.create_index("ix_signal_case_signal_pk", "signal_case", ["signal_pk"])
    op.create_index("ix_signal_case_case_id", "signal_case", ["case_id"])


def downgrade() -> None:
    op.drop_table("signal_case")
    op.drop_table("signal_transition")
    op.drop_table("signal_record")
