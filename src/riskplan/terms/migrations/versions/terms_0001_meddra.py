"""terms: loaded MedDRA releases (SOC, HLGT, HLT, PT, LLT and the mdhier.asc hierarchy)

Revision ID: terms_0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

revision: str = "terms_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("terms",)
depends_on: str | Sequence[str] | None = None

_VERSION = 20
_NAME = 200


def _release_column(table: str, *, with_fk: bool) -> list[SchemaItem]:
    items: list[SchemaItem] = [sa.Column("release_version", sa.String(_VERSION), nullable=False)]
    if with_fk:
        items.append(
            sa.ForeignKeyConstraint(
                ["release_version"],
                ["meddra_release.version"],
                name=f"fk_{table}_release_version_meddra_release",
            )
        )
    return items


def upgrade() -> None:
    op.create_table(
        "meddra_release",
        sa.Column("version", sa.String(_VERSION), nullable=False),
        sa.Column("language", sa.String(40)),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.String(200), nullable=False),
        sa.Column("source_dir", sa.Text(), nullable=False),
        sa.Column("encoding", sa.String(20), nullable=False),
        sa.Column("checksums_json", sa.Text(), nullable=False),
        sa.Column("soc_count", sa.Integer(), nullable=False),
        sa.Column("hlgt_count", sa.Integer(), nullable=False),
        sa.Column("hlt_count", sa.Integer(), nullable=False),
        sa.Column("pt_count", sa.Integer(), nullable=False),
        sa.Column("llt_count", sa.Integer(), nullable=False),
        sa.Column("hierarchy_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_meddra_release"),
    )
    op.create_table(
        "meddra_soc",
        *_release_column("meddra_soc", with_fk=True),
        sa.Column("soc_code", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("soc_name", sa.String(_NAME), nullable=False),
        sa.Column("soc_name_folded", sa.String(_NAME), nullable=False),
        sa.Column("soc_abbrev", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("release_version", "soc_code", name="pk_meddra_soc"),
    )
    op.create_index("ix_meddra_soc_name_folded", "meddra_soc", ["release_version", "soc_name_folded"])
    for level in ("hlgt", "hlt"):
        op.create_table(
            f"meddra_{level}",
            *_release_column(f"meddra_{level}", with_fk=True),
            sa.Column(f"{level}_code", sa.Integer(), nullable=False, autoincrement=False),
            sa.Column(f"{level}_name", sa.String(_NAME), nullable=False),
            sa.Column(f"{level}_name_folded", sa.String(_NAME), nullable=False),
            sa.PrimaryKeyConstraint("release_version", f"{level}_code", name=f"pk_meddra_{level}"),
        )
    op.create_table(
        "meddra_pt",
        *_release_column("meddra_pt", with_fk=True),
        sa.Column("pt_code", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("pt_name", sa.String(_NAME), nullable=False),
        sa.Column("pt_name_folded", sa.String(_NAME), nullable=False),
        sa.Column("primary_soc_code", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("release_version", "pt_code", name="pk_meddra_pt"),
        sa.ForeignKeyConstraint(
            ["release_version", "primary_soc_code"],
            ["meddra_soc.release_version", "meddra_soc.soc_code"],
            name="fk_meddra_pt_primary_soc_meddra_soc",
        ),
    )
    op.create_index("ix_meddra_pt_name_folded", "meddra_pt", ["release_version", "pt_name_folded"])
    op.create_table(
        "meddra_llt",
        *_release_column("meddra_llt", with_fk=False),
        sa.Column("llt_code", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("llt_name", sa.String(_NAME), nullable=False),
        sa.Column("llt_name_folded", sa.String(_NAME), nullable=False),
        sa.Column("pt_code", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("release_version", "llt_code", name="pk_meddra_llt"),
        sa.ForeignKeyConstraint(
            ["release_version", "pt_code"],
            ["meddra_pt.release_version", "meddra_pt.pt_code"],
            name="fk_meddra_llt_pt_meddra_pt",
        ),
    )
    op.create_index("ix_meddra_llt_name_folded", "meddra_llt", ["release_version", "llt_name_folded"])
    op.create_index("ix_meddra_llt_pt_code", "meddra_llt", ["release_version", "pt_code"])
    op.create_table(
        "meddra_hierarchy",
        *_release_column("meddra_hierarchy", with_fk=False),
        sa.Column("pt_code", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("hlt_code", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("hlgt_code", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("soc_code", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "release_version", "pt_code", "hlt_code", "hlgt_code", "soc_code", name="pk_meddra_hierarchy"
        ),
        sa.ForeignKeyConstraint(
            ["release_version", "pt_code"],
            ["meddra_pt.release_version", "meddra_pt.pt_code"],
            name="fk_meddra_hierarchy_pt_meddra_pt",
        ),
        sa.ForeignKeyConstraint(
            ["release_version", "hlt_code"],
            ["meddra_hlt.release_version", "meddra_hlt.hlt_code"],
            name="fk_meddra_hierarchy_hlt_meddra_hlt",
        ),
        sa.ForeignKeyConstraint(
            ["release_version", "hlgt_code"],
            ["meddra_hlgt.release_version", "meddra_hlgt.hlgt_code"],
            name="fk_meddra_hierarchy_hlgt_meddra_hlgt",
        ),
        sa.ForeignKeyConstraint(
            ["release_version", "soc_code"],
            ["meddra_soc.release_version", "meddra_soc.soc_code"],
            name="fk_meddra_hierarchy_soc_meddra_soc",
        ),
    )
    op.create_index("ix_meddra_hierarchy_soc_code", "meddra_hierarchy", ["release_version", "soc_code"])


def downgrade() -> None:
    for table in (
        "meddra_hierarchy",
        "meddra_llt",
        "meddra_pt",
        "meddra_hlt",
        "meddra_hlgt",
        "meddra_soc",
        "meddra_release",
    ):
        op.drop_table(table)
