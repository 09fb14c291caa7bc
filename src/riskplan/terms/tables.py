"""Tables owned by ``terms/``: the MedDRA releases a user has loaded.

MedDRA is licensed and never shipped with riskplan; these tables hold the user's own release(s), one
set of rows per release version, read from the MedDRA ASCII distribution files (see
:mod:`riskplan.terms.meddra`). The five levels (SOC, HLGT, HLT, PT, LLT) each get a table; the
multi-axial hierarchy comes from ``mdhier.asc``: one row per PT -> HLT -> HLGT -> SOC path with the
primary SOC flag (MedDRA Introductory Guide, "Multi-axiality").

Every term table is keyed by ``(release_version, code)`` so several versions can live side by side;
releases are only ever added, never changed or overwritten. Names are also stored case-folded
(:func:`riskplan.terms.text.fold_term`) and indexed for case-insensitive look-up.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from riskplan.store import Base

# MedDRA names are at most 100 characters (MedDRA ASCII file specification); room for translations.
NAME_LENGTH = 200
VERSION_LENGTH = 20


class MeddraRelease(Base):
    """One loaded MedDRA release: where it came from, who loaded it, and checksums of its files."""

    __tablename__ = "meddra_release"

    version: Mapped[str] = mapped_column(String(VERSION_LENGTH), primary_key=True)
    language: Mapped[str | None] = mapped_column(String(40))
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    loaded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    source_dir: Mapped[str] = mapped_column(Text, nullable=False)
    encoding: Mapped[str] = mapped_column(String(20), nullable=False)
    checksums_json: Mapped[str] = mapped_column(Text, nullable=False)
    soc_count: Mapped[int] = mapped_column(Integer, nullable=False)
    hlgt_count: Mapped[int] = mapped_column(Integer, nullable=False)
    hlt_count: Mapped[int] = mapped_column(Integer, nullable=False)
    pt_count: Mapped[int] = mapped_column(Integer, nullable=False)
    llt_count: Mapped[int] = mapped_column(Integer, nullable=False)
    hierarchy_count: Mapped[int] = mapped_column(Integer, nullable=False)

    def __repr__(self) -> str:
        return f"MeddraRelease(version={self.version!r}, language={self.language!r})"


def _release_fk() -> ForeignKey:
    return ForeignKey("meddra_release.version")


class MeddraSoc(Base):
    """System Organ Class (soc.asc)."""

    __tablename__ = "meddra_soc"
    __table_args__ = (Index("ix_meddra_soc_name_folded", "release_version", "soc_name_folded"),)

    release_version: Mapped[str] = mapped_column(String(VERSION_LENGTH), _release_fk(), primary_key=True)
    soc_code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    soc_name: Mapped[str] = mapped_column(String(NAME_LENGTH), nullable=False)
    soc_name_folded: Mapped[str] = mapped_column(String(NAME_LENGTH), nullable=False)
    soc_abbrev: Mapped[str] = mapped_column(String(20), nullable=False)


class MeddraHlgt(Base):
    """High Level Group Term (hlgt.asc)."""

    __tablename__ = "meddra_hlgt"

    release_version: Mapped[str] = mapped_column(String(VERSION_LENGTH), _release_fk(), primary_key=True)
    hlgt_code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hlgt_name: Mapped[str] = mapped_column(String(NAME_LENGTH), nullable=False)
    hlgt_name_folded: Mapped[str] = mapped_column(String(NAME_LENGTH), nullable=False)


class MeddraHlt(Base):
    """High Level Term (hlt.asc)."""

    __tablename__ = "meddra_hlt"

    release_version: Mapped[str] = mapped_column(String(VERSION_LENGTH), _release_fk(), primary_key=True)
    hlt_code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hlt_name: Mapped[str] = mapped_column(String(NAME_LENGTH), nullable=False)
    hlt_name_folded: Mapped[str] = mapped_column(String(NAME_LENGTH), nullable=False)


class MeddraPt(Base):
    """Preferred Term (pt.asc) with its primary SOC (``pt_soc_code``)."""

    __tablename__ = "meddra_pt"
    __table_args__ = (
        ForeignKeyConstraint(
            ["release_version", "primary_soc_code"],
            ["meddra_soc.release_version", "meddra_soc.soc_code"],
            name="fk_meddra_pt_primary_soc_meddra_soc",
        ),
        Index("ix_meddra_pt_name_folded", "release_version", "pt_name_folded"),
    )

    release_version: Mapped[str] = mapped_column(String(VERSION_LENGTH), _release_fk(), primary_key=True)
    pt_code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    pt_name: Mapped[str] = mapped_column(String(NAME_LENGTH), nullable=False)
    pt_name_folded: Mapped[str] = mapped_column(String(NAME_LENGTH), nullable=False)
    primary_soc_code: Mapped[int] = mapped_column(Integer, nullable=False)


class MeddraLlt(Base):
    """Lowest Level Term (llt.asc); ``is_current`` is ``llt_currency == "Y"``."""

    __tablename__ = "meddra_llt"
    __table_args__ = (
        ForeignKeyConstraint(
            ["release_version", "pt_code"],
            ["meddra_pt.release_version", "meddra_pt.pt_code"],
            name="fk_meddra_llt_pt_meddra_pt",
        ),
        Index("ix_meddra_llt_name_folded", "release_version", "llt_name_folded"),
        Index("ix_meddra_llt_pt_code", "release_version", "pt_code"),
    )

    release_version: Mapped[str] = mapped_column(String(VERSION_LENGTH), primary_key=True)
    llt_code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    llt_name: Mapped[str] = mapped_column(String(NAME_LENGTH), nullable=False)
    llt_name_folded: Mapped[str] = mapped_column(String(NAME_LENGTH), nullable=False)
    pt_code: Mapped[int] = mapped_column(Integer, nullable=False)
    is_current: Mapped[bool] = mapped_column(Boolean, nullable=False)


class MeddraHierarchy(Base):
    """One path PT -> HLT -> HLGT -> SOC of ``mdhier.asc``; ``is_primary`` is ``primary_soc_fg == "Y"``."""

    __tablename__ = "meddra_hierarchy"
    __table_args__ = (
        ForeignKeyConstraint(
            ["release_version", "pt_code"],
            ["meddra_pt.release_version", "meddra_pt.pt_code"],
            name="fk_meddra_hierarchy_pt_meddra_pt",
        ),
        ForeignKeyConstraint(
            ["release_version", "hlt_code"],
            ["meddra_hlt.release_version", "meddra_hlt.hlt_code"],
            name="fk_meddra_hierarchy_hlt_meddra_hlt",
        ),
        ForeignKeyConstraint(
            ["release_version", "hlgt_code"],
            ["meddra_hlgt.release_version", "meddra_hlgt.hlgt_code"],
            name="fk_meddra_hierarchy_hlgt_meddra_hlgt",
        ),
        ForeignKeyConstraint(
            ["release_version", "soc_code"],
            ["meddra_soc.release_version", "meddra_soc.soc_code"],
            name="fk_meddra_hierarchy_soc_meddra_soc",
        ),
        Index("ix_meddra_hierarchy_soc_code", "release_version", "soc_code"),
    )

    release_version: Mapped[str] = mapped_column(String(VERSION_LENGTH), primary_key=True)
    pt_code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hlt_code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hlgt_code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    soc_code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    is_primary: Mapped[bool] = mapped_column(Boolean, nullable=False)


class MeddraSmq(Base):
    """A Standardised MedDRA Query (smq_list.asc): its level, status and, when algorithmic, its algorithm.

    ``algorithm`` is the release's ``smq_algorithm`` text (``"N"`` for a non-algorithmic SMQ), e.g.
    ``"A or (B and C)"`` over the categories of its broad terms (MedDRA SMQ Introductory Guide, 2.4).
    """

    __tablename__ = "meddra_smq"
    __table_args__ = (Index("ix_meddra_smq_name_folded", "release_version", "smq_name_folded"),)

    release_version: Mapped[str] = mapped_column(String(VERSION_LENGTH), _release_fk(), primary_key=True)
    smq_code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    smq_name: Mapped[str] = mapped_column(String(NAME_LENGTH), nullable=False)
    smq_name_folded: Mapped[str] = mapped_column(String(NAME_LENGTH), nullable=False)
    smq_level: Mapped[int] = mapped_column(Integer, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False)
    algorithm: Mapped[str] = mapped_column(String(400), nullable=False)


class MeddraSmqTerm(Base):
    """One row of smq_content.asc: a PT (level 4), an LLT (level 5) or a child SMQ (level 0) of an SMQ.

    ``scope`` is 2 narrow, 1 broad, 0 for a child SMQ; ``category`` is the algorithmic category (A, B, ...).
    """

    __tablename__ = "meddra_smq_term"
    __table_args__ = (
        ForeignKeyConstraint(
            ["release_version", "smq_code"],
            ["meddra_smq.release_version", "meddra_smq.smq_code"],
            name="fk_meddra_smq_term_smq_meddra_smq",
        ),
    )

    release_version: Mapped[str] = mapped_column(String(VERSION_LENGTH), primary_key=True)
    smq_code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    term_code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    term_level: Mapped[int] = mapped_column(Integer, nullable=False)
    scope: Mapped[int] = mapped_column(Integer, nullable=False)
    category: Mapped[str] = mapped_column(String(2), nullable=False)
    weight: Mapped[int] = mapped_column(Integer, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False)
    added_in: Mapped[str] = mapped_column(String(VERSION_LENGTH), nullable=False)
    modified_in: Mapped[str] = mapped_column(String(VERSION_LENGTH), nullable=False)
