"""store: hash chain over the audit trail, its head, and append-only triggers

Revision ID: store_0002
Revises: store_0001
Create Date: 2026-12-03

Adds ``prev_hash`` and ``row_hash`` to ``audit_event``, chains the rows already stored (in id order) so that
an upgraded database verifies, and creates ``audit_head`` (the chain's last id, hash and row count).
Triggers refuse UPDATE, DELETE and TRUNCATE of ``audit_event`` and deleting or moving back ``audit_head``
(21 CFR 11.10(e)): on PostgreSQL, and on SQLite as far as it has triggers (no TRUNCATE there).

The canonical serialisation is frozen here as it was at this revision (riskplan.store.audit_chain,
format ``riskplan-audit-v1``); this file imports no application module.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "store_0002"
down_revision: str | Sequence[str] | None = "store_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FORMAT = "riskplan-audit-v1"
_GENESIS = "0" * 64
_HASHED = (
    "id",
    "at",
    "who",
    "entity_type",
    "entity_id",
    "action",
    "field",
    "old_value",
    "new_value",
    "reason",
    "prev_hash",
)
_CHUNK = 5000
_REFUSED = "the audit trail is append-only (21 CFR 11.10(e))"

_events = sa.table(
    "audit_event",
    sa.column("id", sa.Integer()),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("who", sa.String()),
    sa.column("entity_type", sa.String()),
    sa.column("entity_id", sa.String()),
    sa.column("action", sa.String()),
    sa.column("field", sa.String()),
    sa.column("old_value", sa.Text()),
    sa.column("new_value", sa.Text()),
    sa.column("reason", sa.Text()),
    sa.column("prev_hash", sa.String()),
    sa.column("row_hash", sa.String()),
)

_PG_FUNCTIONS = f"""
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: {_REFUSED}', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE FUNCTION audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id <> OLD.id OR NEW.last_id < OLD.last_id OR NEW.row_count < OLD.row_count THEN
        RAISE EXCEPTION 'moving the audit head back refused: {_REFUSED}' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
"""
_PG_TRIGGERS = (
    "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
    "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head "
    "FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only()",
)
_SQLITE_TRIGGERS = (
    f"CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    f"BEGIN SELECT RAISE(ABORT, 'UPDATE on audit_event refused: {_REFUSED}'); END",
    f"CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    f"BEGIN SELECT RAISE(ABORT, 'DELETE on audit_event refused: {_REFUSED}'); END",
    f"CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
    f"BEGIN SELECT RAISE(ABORT, 'DELETE on audit_head refused: {_REFUSED}'); END",
    f"CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head "
    f"WHEN NEW.id <> OLD.id OR NEW.last_id < OLD.last_id OR NEW.row_count < OLD.row_count "
    f"BEGIN SELECT RAISE(ABORT, 'moving the audit head back refused: {_REFUSED}'); END",
)
_TRIGGER_NAMES = {
    "postgresql": (
        ("audit_event", "audit_event_append_only"),
        ("audit_event", "audit_event_no_truncate"),
        ("audit_head", "audit_head_no_delete"),
        ("audit_head", "audit_head_no_truncate"),
        ("audit_head", "audit_head_forward_only"),
    ),
    "sqlite": (
        ("audit_event", "audit_event_no_update"),
        ("audit_event", "audit_event_no_delete"),
        ("audit_head", "audit_head_no_delete"),
        ("audit_head", "audit_head_forward_only"),
    ),
}


def _canonical_time(at: dt.datetime) -> str:
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds") + "Z"


def _row_hash(row: Mapping[str, Any]) -> str:
    values: list[Any] = [_FORMAT]
    for column in _HASHED:
        value = row[column]
        values.append(_canonical_time(value) if column == "at" else value)
    return hashlib.sha256(json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode("utf-8")).hexdigest()


def _chain_stored_rows(connection: sa.Connection) -> tuple[int, int, str, dt.datetime | None]:
    """Hash every stored row in id order; (row count, last id, last hash, last time stamp)."""
    count, last_id, prev, last_at = 0, 0, _GENESIS, None
    columns = [_events.c[name] for name in _HASHED if name != "prev_hash"]
    while True:
        rows = connection.execute(
            sa.select(*columns).where(_events.c.id > last_id).order_by(_events.c.id).limit(_CHUNK)
        ).all()
        if not rows:
            return count, last_id, prev, last_at
        updates = []
        for row in rows:
            values = {**row._mapping, "prev_hash": prev}
            prev = _row_hash(values)
            updates.append({"b_id": row.id, "b_prev": values["prev_hash"], "b_hash": prev})
            last_id, last_at = row.id, row.at
        connection.execute(
            _events.update()
            .where(_events.c.id == sa.bindparam("b_id"))
            .values(prev_hash=sa.bindparam("b_prev"), row_hash=sa.bindparam("b_hash")),
            updates,
        )
        count += len(rows)


def upgrade() -> None:
    connection = op.get_bind()
    dialect = connection.dialect.name
    op.add_column("audit_event", sa.Column("prev_hash", sa.String(64), nullable=True))
    op.add_column("audit_event", sa.Column("row_hash", sa.String(64), nullable=True))
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
        sa.CheckConstraint("id = 1", name="ck_audit_head_single_row"),
    )
    count, last_id, last_hash, last_at = _chain_stored_rows(connection)
    op.bulk_insert(
        head, [{"id": 1, "row_count": count, "last_id": last_id, "last_hash": last_hash, "last_at": last_at}]
    )
    with op.batch_alter_table("audit_event") as batch:
        batch.alter_column("prev_hash", existing_type=sa.String(64), nullable=False)
        batch.alter_column("row_hash", existing_type=sa.String(64), nullable=False)
    if dialect == "postgresql":
        op.execute(_PG_FUNCTIONS)
        for statement in _PG_TRIGGERS:
            op.execute(statement)
    elif dialect == "sqlite":
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table, trigger in _TRIGGER_NAMES.get(dialect, ()):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + (f" ON {table}" if dialect == "postgresql" else ""))
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_refuse_change()")
        op.execute("DROP FUNCTION IF EXISTS audit_head_forward_only()")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_column("row_hash")
        batch.drop_column("prev_hash")
