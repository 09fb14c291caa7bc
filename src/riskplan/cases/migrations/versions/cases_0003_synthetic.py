"""cases: mark synthetic cases (icsr_case.synthetic), recognising those stored before the mark

Synthetic cases (``riskplan synth cases``, ``riskplan demo``) must never be mistaken for real reports
(GVP VI.B.6.1 on data quality; an inspector must be able to tell them apart). Cases stored before this
revision are marked when both signs of :mod:`riskplan.cases.synth` are present: a worldwide case id
(C.1.8.1) like ``DE-RPDEMO-2026-000123`` and the fictional sender "Riskplan Demo Pharma" (C.3.2) in the
first version. Every other case is real.

Revision ID: cases_0003
Revises: cases_0002
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cases_0003"
down_revision: str | Sequence[str] | None = "cases_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SYNTHETIC_ID = "__-RPDEMO-____-%"  # cases.synth: "<country>-RPDEMO-<year>-<number>"
SYNTHETIC_SENDER = "%Riskplan Demo Pharma%"  # cases.synth_data.COMPANY, the sender organisation


def upgrade() -> None:
    op.add_column("icsr_case", sa.Column("synthetic", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_icsr_case_synthetic", "icsr_case", ["synthetic"])
    op.execute(
        sa.text(
            "UPDATE icsr_case SET synthetic = :yes WHERE worldwide_id LIKE :wid AND EXISTS ("
            "SELECT 1 FROM icsr_case_version v WHERE v.case_id = icsr_case.id AND v.version = 1 "
            "AND v.icsr_json LIKE :sender)"
        ).bindparams(yes=True, wid=SYNTHETIC_ID, sender=SYNTHETIC_SENDER)
    )


def downgrade() -> None:
    op.drop_index("ix_icsr_case_synthetic", "icsr_case")
    with op.batch_alter_table("icsr_case") as batch:
        batch.drop_column("synthetic")
