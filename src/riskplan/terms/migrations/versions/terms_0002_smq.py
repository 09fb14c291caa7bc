"""terms: Standardised MedDRA Queries of a loaded release (smq_list.asc, smq_content.asc)

Revision ID: terms_0002
Revises: terms_0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "terms_0002"
down_revision: str | Sequence[str] | None = "terms_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_VERSION = 20
_NAME = 200


def upgrade() -> None:
    op.create_table(
        "meddra_smq",
        sa.Column("release_version", sa.String(_VERSION), nullable=False),
        sa.Column("smq_code", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("smq_name", sa.String(_NAME), nullable=False),
        sa.Column("smq_name_folded", sa.String(_NAME), nullable=False),
        sa.Column("smq_level", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("algorithm", sa.String(400), nullable=False),
        sa.PrimaryKeyConstraint("release_version", "smq_code", name="pk_meddra_smq"),
        sa.ForeignKeyConstraint(
            ["release_version"], ["meddra_release.version"], name="fk_meddra_smq_release_version_meddra_release"
        ),
    )
    op.create_index("ix_meddra_smq_name_folded", "meddra_smq", ["release_version", "smq_name_folded"])
    op.create_table(
        "meddra_smq_term",
        sa.Column("release_version", sa.String(_VERSION), nullable=False),
        sa.Column("smq_code", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("term_code", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("term_level", sa.Integer(), nullable=False),
        sa.Column("scope", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(2), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("added_in", sa.String(_VERSION), nullable=False),
        sa.Column("modified_in", sa.String(_VERSION), nullable=False),
        sa.PrimaryKeyConstraint("release_version", "smq_code", "term_code", name="pk_meddra_smq_term"),
        sa.ForeignKeyConstraint(
            ["release_version", "smq_code"],
            ["meddra_smq.release_version", "meddra_smq.smq_code"],
            name="fk_meddra_smq_term_smq_meddra_smq",
        ),
    )


def downgrade() -> None:
    op.drop_table("meddra_smq_term")
    op.drop_index("ix_meddra_smq_name_folded", table_name="meddra_smq")
    op.drop_table("meddra_smq")
