"""cases: causality per suspect drug and reaction (E2B(R3) G.k.9.i.2.r), case-level assessments carried over

Creates ``case_causality``. Each case-level assessment (``case_assessment``) of a case version with exactly
one suspect or interacting drug (G.k.1 = 1 or 3) and one reaction is carried to that pair as a WHO-UMC
assessment by the same person at the same time, pointing back to it (``case_assessment_id``; its
electronic signature stays that record's). Any other case-level assessment is left as it is: the case
view shows it as case level with a note. The case-level rows are never changed. The downgrade drops the
table (the case-level rows it was carried from are still there).

Revision ID: cases_0005
Revises: cases_0004
Create Date: 2026-12-03
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "cases_0005"
down_revision: str | Sequence[str] | None = "cases_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUSPECT_ROLES = ("1", "3")  # G.k.1: suspect, interacting
SOURCE = "Marketing authorisation holder"  # who assessed a carried case-level assessment (G.k.9.i.2.r.1)

ASSESSED_VERSIONS = (
    "SELECT a.id, a.case_id, a.version, a.causality, a.comment, a.assessed_at, a.assessed_by, v.icsr_json "
    "FROM case_assessment a JOIN icsr_case_version v ON v.case_id = a.case_id AND v.version = a.version "
    "ORDER BY a.id"
)


def _create() -> None:
    op.create_table(
        "case_causality",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("drug_seq", sa.Integer(), nullable=False),
        sa.Column("drug_uid", sa.String(200), nullable=False),
        sa.Column("drug_name", sa.Text(), nullable=False),
        sa.Column("reaction_seq", sa.Integer(), nullable=False),
        sa.Column("reaction_uid", sa.String(200), nullable=False),
        sa.Column("reaction_term", sa.Text(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("method", sa.String(30), nullable=False),
        sa.Column("result", sa.String(30), nullable=False),
        sa.Column("naranjo_answers", sa.String(60)),
        sa.Column("naranjo_score", sa.Integer()),
        sa.Column("comment", sa.Text()),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assessed_by", sa.String(200), nullable=False),
        sa.Column("case_assessment_id", sa.Integer()),
        sa.PrimaryKeyConstraint("id", name="pk_case_causality"),
        sa.ForeignKeyConstraint(["case_id"], ["icsr_case.id"], name="fk_case_causality_case_id_icsr_case"),
        sa.ForeignKeyConstraint(
            ["case_assessment_id"],
            ["case_assessment.id"],
            name="fk_case_causality_case_assessment_id_case_assessment",
        ),
    )
    op.create_index("ix_case_causality_case_id", "case_causality", ["case_id"])


def _drug_name(drug: dict[str, Any]) -> str:
    substances = [s.get("name") for s in drug.get("substances") or () if s.get("name")]
    return str(drug.get("name") or "; ".join(substances) or "unnamed drug")


def _reaction_term(reaction: dict[str, Any]) -> str:
    for key in ("pt_name", "llt_name", "verbatim_term_english", "verbatim_term"):
        if reaction.get(key):
            return str(reaction[key])
    return str(reaction.get("id") or "unnamed reaction")


def _one_pair(icsr: dict[str, Any]) -> dict[str, Any] | None:
    """The only (suspect drug, reaction) pair of an ICSR as JSON, or None when there are more or fewer."""
    drugs = [(n, d) for n, d in enumerate(icsr.get("drugs") or (), start=1) if d.get("role") in SUSPECT_ROLES]
    reactions = list(enumerate(icsr.get("reactions") or (), start=1))
    if len(drugs) != 1 or len(reactions) != 1:
        return None
    (drug_seq, drug), (reaction_seq, reaction) = drugs[0], reactions[0]
    return {
        "drug_seq": drug_seq,
        "drug_uid": str(drug.get("id") or ""),
        "drug_name": _drug_name(drug),
        "reaction_seq": reaction_seq,
        "reaction_uid": str(reaction.get("id") or ""),
        "reaction_term": _reaction_term(reaction),
    }


def upgrade() -> None:
    _create()
    bind = op.get_bind()
    table = sa.table(
        "case_causality",
        *(
            sa.column(name)
            for name in (
                "case_id",
                "version",
                "drug_seq",
                "drug_uid",
                "drug_name",
                "reaction_seq",
                "reaction_uid",
                "reaction_term",
                "source",
                "method",
                "result",
                "comment",
                "assessed_at",
                "assessed_by",
                "case_assessment_id",
            )
        ),
    )
    carried: list[dict[str, Any]] = []
    for row in bind.execute(sa.text(ASSESSED_VERSIONS)).mappings():
        pair = _one_pair(json.loads(row["icsr_json"]))
        if pair is None:
            continue  # several pairs (or none): which one was meant is unknown; it stays case level
        carried.append(
            {
                "case_id": row["case_id"],
                "version": row["version"],
                **pair,
                "source": SOURCE,
                "method": "WHO-UMC",
                "result": row["causality"],
                "comment": row["comment"],
                "assessed_at": row["assessed_at"],
                "assessed_by": row["assessed_by"],
                "case_assessment_id": row["id"],
            }
        )
    if carried:
        bind.execute(sa.insert(table), carried)


def downgrade() -> None:
    op.drop_table("case_causality")
