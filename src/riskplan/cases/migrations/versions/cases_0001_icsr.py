"""cases: ICSRs, their versions, projections, links and submissions

Revision ID: cases_0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cases_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("cases",)
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "icsr_case",
        _id(),
        sa.Column("worldwide_id", sa.String(200), nullable=False),
        sa.Column("plan_name", sa.String(80), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_icsr_case"),
        sa.UniqueConstraint("worldwide_id", name="uq_icsr_case_worldwide_id"),
    )
    op.create_index("ix_icsr_case_plan_name", "icsr_case", ["plan_name"])
    op.create_table(
        "icsr_case_version",
        _id(),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("icsr_json", sa.Text(), nullable=False),
        sa.Column("sender_report_id", sa.String(200)),
        sa.Column("first_received", sa.Date()),
        sa.Column("received", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("invalid_reasons", sa.Text()),
        sa.Column("serious", sa.Boolean(), nullable=False),
        sa.Column("plan_version", sa.Integer()),
        sa.Column("day_zero", sa.Date()),
        sa.Column("due", sa.Date()),
        sa.Column("clock_version", sa.Integer()),
        sa.Column("age_years", sa.Float()),
        sa.Column("sex", sa.String(10)),
        sa.Column("country", sa.String(10)),
        sa.PrimaryKeyConstraint("id", name="pk_icsr_case_version"),
        sa.ForeignKeyConstraint(["case_id"], ["icsr_case.id"], name="fk_icsr_case_version_case_id_icsr_case"),
        sa.UniqueConstraint("case_id", "version", name="uq_icsr_case_version_case_id_version"),
    )
    op.create_index("ix_icsr_case_version_case_id", "icsr_case_version", ["case_id"])
    op.create_table(
        "icsr_reaction",
        _id(),
        sa.Column("case_version_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("verbatim", sa.Text(), nullable=False),
        sa.Column("llt_code", sa.String(20)),
        sa.Column("pt_code", sa.String(20)),
        sa.Column("pt_name", sa.String(200)),
        sa.Column("soc_name", sa.String(200)),
        sa.Column("coding_status", sa.String(20), nullable=False),
        sa.Column("terminology", sa.String(80)),
        sa.Column("coding_note", sa.Text()),
        sa.Column("serious", sa.Boolean(), nullable=False),
        sa.Column("seriousness_criteria", sa.String(200)),
        sa.Column("listedness", sa.String(20), nullable=False),
        sa.Column("onset", sa.Date()),
        sa.Column("outcome", sa.String(40)),
        sa.PrimaryKeyConstraint("id", name="pk_icsr_reaction"),
        sa.ForeignKeyConstraint(
            ["case_version_id"], ["icsr_case_version.id"], name="fk_icsr_reaction_case_version_id_icsr_case_version"
        ),
    )
    op.create_index("ix_icsr_reaction_case_version_id", "icsr_reaction", ["case_version_id"])
    op.create_index("ix_icsr_reaction_pt_name", "icsr_reaction", ["pt_name"])
    op.create_table(
        "icsr_drug",
        _id(),
        sa.Column("case_version_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("characterisation", sa.String(20), nullable=False),
        sa.Column("product", sa.String(300)),
        sa.Column("substances", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_icsr_drug"),
        sa.ForeignKeyConstraint(
            ["case_version_id"], ["icsr_case_version.id"], name="fk_icsr_drug_case_version_id_icsr_case_version"
        ),
    )
    op.create_index("ix_icsr_drug_case_version_id", "icsr_drug", ["case_version_id"])
    op.create_table(
        "icsr_case_concern",
        _id(),
        sa.Column("case_version_id", sa.Integer(), nullable=False),
        sa.Column("concern_id", sa.String(80), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_icsr_case_concern"),
        sa.ForeignKeyConstraint(
            ["case_version_id"],
            ["icsr_case_version.id"],
            name="fk_icsr_case_concern_case_version_id_icsr_case_version",
        ),
    )
    op.create_index("ix_icsr_case_concern_case_version_id", "icsr_case_concern", ["case_version_id"])
    op.create_index("ix_icsr_case_concern_concern_id", "icsr_case_concern", ["concern_id"])
    op.create_table(
        "icsr_case_link",
        _id(),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("other_case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("score", sa.Float()),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("linked_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_icsr_case_link"),
        sa.ForeignKeyConstraint(["case_id"], ["icsr_case.id"], name="fk_icsr_case_link_case_id_icsr_case"),
        sa.ForeignKeyConstraint(["other_case_id"], ["icsr_case.id"], name="fk_icsr_case_link_other_case_id_icsr_case"),
    )
    op.create_index("ix_icsr_case_link_case_id", "icsr_case_link", ["case_id"])
    op.create_index("ix_icsr_case_link_other_case_id", "icsr_case_link", ["other_case_id"])
    op.create_table(
        "icsr_submission",
        _id(),
        sa.Column("case_version_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(100), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_icsr_submission"),
        sa.ForeignKeyConstraint(
            ["case_version_id"], ["icsr_case_version.id"], name="fk_icsr_submission_case_version_id_icsr_case_version"
        ),
    )
    op.create_index("ix_icsr_submission_case_version_id", "icsr_submission", ["case_version_id"])


def downgrade() -> None:
    for table in (
        "icsr_submission",
        "icsr_case_link",
        "icsr_case_concern",
        "icsr_drug",
        "icsr_reaction",
        "icsr_case_version",
        "icsr_case",
    ):
        op.drop_table(table)
