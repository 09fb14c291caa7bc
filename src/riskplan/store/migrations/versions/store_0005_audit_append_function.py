"""store: the audit trail's append at commit as one server-side function (PostgreSQL)

Revision ID: store_0005
Revises: store_0004
Create Date: 2026-12-03

``riskplan_audit_append`` locks the head of the chain, stamps the rows, chains them (the same canonical
serialisation and SHA-256 as :mod:`riskplan.store.audit_chain`, version ``riskplan-audit-v1``), inserts them
and moves the head, all in one statement; the application sends it and the COMMIT together (psycopg
pipeline), so the head is held only while the server runs them and never while the application waits
for a processor (21 CFR 11.10(e): the trail stays complete and chained; only the time it serialises
writers shrinks). This is a frozen copy: a later change of the function is a new revision.

JSON strings as PostgreSQL's ``to_json(text)`` writes them equal Python's ``json.dumps(ensure_ascii=False)``:
both escape ``"`` and ``\\``, write ``\\b \\f \\n \\r \\t`` short and other control characters below U+0020
as ``\\u00xx`` (lower-case hex), and keep every other character as it is.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "store_0005"
down_revision: str | Sequence[str] | None = "store_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FUNCTION = r"""
CREATE OR REPLACE FUNCTION riskplan_audit_append(
    p_who text[], p_entity_type text[], p_entity_id text[], p_action text[], p_field text[],
    p_old_value text[], p_new_value text[], p_reason text[], p_commit_without_flush boolean
) RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
    head record;
    stamp timestamptz;
    stamp_json text;
    prev text;
    n integer := coalesce(cardinality(p_who), 0);
    ids integer[] := '{}';
    prevs text[] := '{}';
    hashes text[] := '{}';
    i integer;
BEGIN
    IF n = 0 THEN
        RETURN 0;
    END IF;
    IF p_commit_without_flush THEN
        -- the caller waits for the WAL flush itself, after the head is free (wait_until_durable)
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
    SELECT row_count, last_id, last_hash, last_at INTO head FROM audit_head WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO audit_head (id, row_count, last_id, last_hash, last_at)
        VALUES (1, 0, 0, repeat('0', 64), NULL);
        SELECT row_count, last_id, last_hash, last_at INTO head FROM audit_head WHERE id = 1 FOR UPDATE;
    END IF;
    -- taken after the lock and never before the head's: time stamps follow commit order
    stamp := greatest(date_trunc('microseconds', clock_timestamp()), head.last_at);
    stamp_json := to_json(to_char(stamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text;
    prev := head.last_hash;
    FOR i IN 1..n LOOP
        ids[i] := head.last_id + i;
        prevs[i] := prev;
        prev := encode(sha256(convert_to(
            '["riskplan-audit-v1",' || ids[i]::text || ',' || stamp_json
            || ',' || coalesce(to_json(p_who[i])::text, 'null')
            || ',' || coalesce(to_json(p_entity_type[i])::text, 'null')
            || ',' || coalesce(to_json(p_entity_id[i])::text, 'null')
            || ',' || coalesce(to_json(p_action[i])::text, 'null')
            || ',' || coalesce(to_json(p_field[i])::text, 'null')
            || ',' || coalesce(to_json(p_old_value[i])::text, 'null')
            || ',' || coalesce(to_json(p_new_value[i])::text, 'null')
            || ',' || coalesce(to_json(p_reason[i])::text, 'null')
            || ',' || to_json(prev)::text || ']', 'UTF8')), 'hex');
        hashes[i] := prev;
    END LOOP;
    INSERT INTO audit_event (id, at, who, entity_type, entity_id, action, field, old_value, new_value, reason,
                             prev_hash, row_hash)
    SELECT r.id, stamp, r.who, r.entity_type, r.entity_id, r.action, r.field, r.old_value, r.new_value, r.reason,
           r.prev_hash, r.row_hash
    FROM unnest(ids, p_who, p_entity_type, p_entity_id, p_action, p_field, p_old_value, p_new_value, p_reason,
                prevs, hashes)
         AS r(id, who, entity_type, entity_id, action, field, old_value, new_value, reason, prev_hash, row_hash);
    UPDATE audit_head SET row_count = head.row_count + n, last_id = head.last_id + n, last_hash = prev,
                          last_at = stamp
    WHERE id = 1;
    RETURN n;
END
$fn$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION IF EXISTS riskplan_audit_append(text[], text[], text[], text[], text[], text[], text[], "
            "text[], boolean)"
        )
