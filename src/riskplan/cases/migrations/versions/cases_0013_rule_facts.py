"""cases: what the reporting rules read of each case version, beside its ICSR (icsr_case_version
occurrence_country, report_source, nullified, rule_reactions; see riskplan.cases.rule_facts), so that deciding
what every case owes (PSUR/PBRER appendix 20.4) need not parse and validate every ICSR

The columns are added nullable (a plain ADD COLUMN: no table copy on SQLite, no rewrite on PostgreSQL) and
filled from each version's stored ICSR, in batches of versions by id, so that a store of a million versions
is never held in memory at once. The ICSRs themselves are not changed.

Revision ID: cases_0013
Revises: cases_0012
Create Date: 2026-12-04
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "cases_0013"
down_revision: str | Sequence[str] | None = "cases_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000

TYPES: dict[str, sa.types.TypeEngine[Any]] = {
    "occurrence_country": sa.String(10),
    "report_source": sa.String(20),
    "nullified": sa.Boolean(),
    "rule_reactions": sa.Text(),
}


def _backfill() -> None:
    # the ICSR model and the one definition of the facts: the same values as the store writes today
    from riskplan.cases.model import Icsr
    from riskplan.cases.rule_facts import rule_facts

    bind = op.get_bind()
    versions = sa.table(
        "icsr_case_version",
        sa.column("id", sa.Integer()),
        sa.column("icsr_json", sa.Text()),
        *(sa.column(name, kind) for name, kind in TYPES.items()),
    )
    update = (
        versions.update()
        .where(versions.c.id == sa.bindparam("version_id"))
        .values({name: sa.bindparam(f"new_{name}") for name in TYPES})
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(versions.c.id, versions.c.icsr_json)
            .where(versions.c.id > last)
            .order_by(versions.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        filled = [
            {"version_id": i, **{f"new_{k}": v for k, v in rule_facts(Icsr.model_validate(json.loads(doc))).items()}}
            for i, doc in rows
        ]
        bind.execute(update, filled)
        last = rows[-1][0]


def upgrade() -> None:
    for name, kind in TYPES.items():
        op.add_column("icsr_case_version", sa.Column(name, kind, nullable=True))
    _backfill()


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN in place (SQLite 3.35+): a batch copy would drop the table that reactions,
    # drugs and concerns refer to (see cases_0007)
    for name in reversed(TYPES):
        op.drop_column("icsr_case_version", name)
