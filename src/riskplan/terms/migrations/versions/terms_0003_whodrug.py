"""terms: loaded WHODrug Global releases (products by drug code or MPID, ingredients, ATC classes)

Revision ID: terms_0003
Revises: terms_0002
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "terms_0003"
down_revision: str | Sequence[str] | None = "terms_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_VERSION = 40


def _product_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["release_version", "product_id"],
        ["whodrug_product.release_version", "whodrug_product.product_id"],
        name=f"fk_{table}_product_whodrug_product",
    )


def upgrade() -> None:
    op.create_table(
        "whodrug_release",
        sa.Column("version", sa.String(_VERSION), nullable=False),
        sa.Column("file_format", sa.String(2), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.String(200), nullable=False),
        sa.Column("source_dir", sa.Text(), nullable=False),
        sa.Column("encoding", sa.String(20), nullable=False),
        sa.Column("checksums_json", sa.Text(), nullable=False),
        sa.Column("product_count", sa.Integer(), nullable=False),
        sa.Column("ingredient_count", sa.Integer(), nullable=False),
        sa.Column("atc_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_whodrug_release"),
    )
    op.create_table(
        "whodrug_product",
        sa.Column("release_version", sa.String(_VERSION), nullable=False),
        sa.Column("product_id", sa.String(20), nullable=False),
        sa.Column("drug_code", sa.String(11), nullable=False),
        sa.Column("mpid", sa.String(20)),
        sa.Column("drug_name", sa.String(1500), nullable=False),
        sa.Column("drug_name_folded", sa.String(1500), nullable=False),
        sa.Column("drug_name_normalised", sa.String(1500), nullable=False),
        sa.Column("name_specifier", sa.String(30)),
        sa.Column("is_preferred_name", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_version"], ["whodrug_release.version"], name="fk_whodrug_product_release_version_whodrug_release"
        ),
        sa.PrimaryKeyConstraint("release_version", "product_id", name="pk_whodrug_product"),
    )
    op.create_index("ix_whodrug_product_name_folded", "whodrug_product", ["release_version", "drug_name_folded"])
    op.create_index("ix_whodrug_product_drug_code", "whodrug_product", ["release_version", "drug_code"])
    op.create_table(
        "whodrug_ingredient",
        sa.Column("release_version", sa.String(_VERSION), nullable=False),
        sa.Column("product_id", sa.String(20), nullable=False),
        sa.Column("substance_id", sa.String(20), nullable=False),
        sa.Column("substance_name", sa.String(250), nullable=False),
        sa.Column("cas_number", sa.String(20)),
        _product_fk("whodrug_ingredient"),
        sa.PrimaryKeyConstraint("release_version", "product_id", "substance_id", name="pk_whodrug_ingredient"),
    )
    op.create_table(
        "whodrug_atc",
        sa.Column("release_version", sa.String(_VERSION), nullable=False),
        sa.Column("product_id", sa.String(20), nullable=False),
        sa.Column("atc_code", sa.String(7), nullable=False),
        sa.Column("atc_text", sa.String(200)),
        _product_fk("whodrug_atc"),
        sa.PrimaryKeyConstraint("release_version", "product_id", "atc_code", name="pk_whodrug_atc"),
    )


def downgrade() -> None:
    op.drop_table("whodrug_atc")
    op.drop_table("whodrug_ingredient")
    op.drop_index("ix_whodrug_product_drug_code", "whodrug_product")
    op.drop_index("ix_whodrug_product_name_folded", "whodrug_product")
    op.drop_table("whodrug_product")
    op.drop_table("whodrug_release")
