"""store: electronic signatures are append-only, like the audit trail

Revision ID: store_0004
Revises: store_0003
Create Date: 2026-12-03

A signature once executed is never changed or removed (21 CFR 11.70: signatures linked to their records so
they cannot be excised, copied or transferred; 11.10(e)). Triggers refuse UPDATE, DELETE and TRUNCATE of
``electronic_signature``: on PostgreSQL with ``audit_refuse_change()`` (made by ``store_0002``), on SQLite
as far as it has triggers (no TRUNCATE there).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "store_0004"
down_revision: str | Sequence[str] | None = "store_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFUSED = "electronic signatures are never changed or removed (21 CFR 11.70)"

_PG_TRIGGERS = (
    "CREATE TRIGGER electronic_signature_append_only BEFORE UPDATE OR DELETE ON electronic_signature "
    "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER electronic_signature_no_truncate BEFORE TRUNCATE ON electronic_signature "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
)
_SQLITE_TRIGGERS = (
    f"CREATE TRIGGER electronic_signature_no_update BEFORE UPDATE ON electronic_signature "
    f"BEGIN SELECT RAISE(ABORT, 'UPDATE on electronic_signature refused: {_REFUSED}'); END",
    f"CREATE TRIGGER electronic_signature_no_delete BEFORE DELETE ON electronic_signature "
    f"BEGIN SELECT RAISE(ABORT, 'DELETE on electronic_signature refused: {_REFUSED}'); END",
)
_TRIGGER_NAMES = {
    "postgresql": ("electronic_signature_append_only", "electronic_signature_no_truncate"),
    "sqlite": ("electronic_signature_no_update", "electronic_signature_no_delete"),
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    statements = {"postgresql": _PG_TRIGGERS, "sqlite": _SQLITE_TRIGGERS}.get(dialect, ())
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for trigger in _TRIGGER_NAMES.get(dialect, ()):
        on_table = " ON electronic_signature" if dialect == "postgresql" else ""
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}{on_table}")
