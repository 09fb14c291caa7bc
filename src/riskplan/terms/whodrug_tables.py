"""Tables owned by ``terms/`` for the user's WHODrug Global releases (see :mod:`riskplan.terms.whodrug`).

WHODrug is licensed by the Uppsala Monitoring Centre and never shipped with riskplan. One release is one
row of ``whodrug_release``; its products (B3: one per drug code; C3: one per Medicinal Product ID), their
active ingredients and ATC classes hang off it, keyed by ``(release_version, product_id)`` so several
releases live side by side. Releases are only ever added.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from riskplan.store import Base

WHODRUG_VERSION_LENGTH = 40
# B3 DD.txt drug names are up to 1500 characters; BNA/SUN substance names 250 (UMC, March 2022 release)
DRUG_NAME_LENGTH = 1500
SUBSTANCE_NAME_LENGTH = 250


class WhodrugRelease(Base):
    """One loaded WHODrug Global release: its format (B3 or C3), who loaded it, checksums of its files."""

    __tablename__ = "whodrug_release"

    version: Mapped[str] = mapped_column(String(WHODRUG_VERSION_LENGTH), primary_key=True)
    file_format: Mapped[str] = mapped_column(String(2), nullable=False)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    loaded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    source_dir: Mapped[str] = mapped_column(Text, nullable=False)
    encoding: Mapped[str] = mapped_column(String(20), nullable=False)
    checksums_json: Mapped[str] = mapped_column(Text, nullable=False)
    product_count: Mapped[int] = mapped_column(Integer, nullable=False)
    ingredient_count: Mapped[int] = mapped_column(Integer, nullable=False)
    atc_count: Mapped[int] = mapped_column(Integer, nullable=False)


class WhodrugProduct(Base):
    """A drug name: B3 drug code (drug record number + seq 1 + seq 2) or C3 Medicinal Product ID."""

    __tablename__ = "whodrug_product"
    __table_args__ = (
        Index("ix_whodrug_product_name_folded", "release_version", "drug_name_folded"),
        Index("ix_whodrug_product_drug_code", "release_version", "drug_code"),
    )

    release_version: Mapped[str] = mapped_column(
        String(WHODRUG_VERSION_LENGTH), ForeignKey("whodrug_release.version"), primary_key=True
    )
    product_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    drug_code: Mapped[str] = mapped_column(String(11), nullable=False)
    mpid: Mapped[str | None] = mapped_column(String(20))
    drug_name: Mapped[str] = mapped_column(String(DRUG_NAME_LENGTH), nullable=False)
    drug_name_folded: Mapped[str] = mapped_column(String(DRUG_NAME_LENGTH), nullable=False)
    # riskplan.terms.drug_names.normalise_drug_name of the name, computed once at load for suggestions
    drug_name_normalised: Mapped[str] = mapped_column(String(DRUG_NAME_LENGTH), nullable=False)
    name_specifier: Mapped[str | None] = mapped_column(String(30))  # C3: form and strength, e.g. "200 mg capsule"
    is_preferred_name: Mapped[bool] = mapped_column(nullable=False)


def _product_fk(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["release_version", "product_id"],
        ["whodrug_product.release_version", "whodrug_product.product_id"],
        name=f"fk_{table}_product_whodrug_product",
    )


class WhodrugIngredient(Base):
    """An active ingredient of a product (B3 ING.txt + BNA.txt; C3 ING.txt + SUN.txt)."""

    __tablename__ = "whodrug_ingredient"
    __table_args__ = (_product_fk("whodrug_ingredient"),)

    release_version: Mapped[str] = mapped_column(String(WHODRUG_VERSION_LENGTH), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    substance_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    substance_name: Mapped[str] = mapped_column(String(SUBSTANCE_NAME_LENGTH), nullable=False)
    cas_number: Mapped[str | None] = mapped_column(String(20))


class WhodrugAtc(Base):
    """An ATC class of a product (B3 DDA.txt; C3 ThG.txt), with its text (INA.txt)."""

    __tablename__ = "whodrug_atc"
    __table_args__ = (_product_fk("whodrug_atc"),)

    release_version: Mapped[str] = mapped_column(String(WHODRUG_VERSION_LENGTH), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    atc_code: Mapped[str] = mapped_column(String(7), primary_key=True)
    atc_text: Mapped[str | None] = mapped_column(String(200))
