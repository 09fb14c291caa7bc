"""Backup and restore time of a database with N cases, on SQLite and PostgreSQL.

The cases are minimal rows made with one SQL statement per table (not through the case API, which
would take hours for a million): each case has one ``icsr_case`` row and one ``icsr_case_version``
row whose ``icsr_json`` is a 400-character placeholder (a real case's JSON is a few kB, so these
are lower bounds per case). No audit rows are written for them.

    python bench/bench_backup.py --cases 1000000 [--postgres postgresql://postgres@127.0.0.1:5432/test]

Prints: rows made and how long that took, backup time and size, restore time (into an empty database),
and that the counts match. The PostgreSQL databases ``bench_backup_src``/``bench_backup_dst`` are made and
dropped on the server given.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from riskplan.store.backup import backup, restore, table_counts
from riskplan.store.db import make_engine, normalise_url
from riskplan.store.migrate import upgrade

_JSON = '\'{"placeholder": "' + "x" * 380 + "\"}'"

_SQLITE_FILL = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) "
    "INSERT INTO icsr_case (id, worldwide_id, plan_name, latest_version, created_at, created_by, synthetic) "
    "SELECT i, 'BENCH-' || i, 'uplizna', 1, '2026-01-01 00:00:00', 'bench', 1 FROM n",
    "INSERT INTO icsr_case_version (id, case_id, version, icsr_json, received, recorded_at, recorded_by, valid, "
    f"serious) SELECT id, id, 1, {_JSON}, '2026-01-01', '2026-01-01 00:00:00', 'bench', 1, 0 FROM icsr_case",
)
_PG_FILL = (
    "INSERT INTO icsr_case (id, worldwide_id, plan_name, latest_version, created_at, created_by, synthetic) "
    "SELECT i, 'BENCH-' || i, 'uplizna', 1, '2026-01-01', 'bench', true FROM generate_series(1, :count) i",
    "INSERT INTO icsr_case_version (id, case_id, version, icsr_json, received, recorded_at, recorded_by, valid, "
    f"serious) SELECT id, id, 1, {_JSON}, '2026-01-01', '2026-01-01', 'bench', true, false FROM icsr_case",
    "SELECT setval(pg_get_serial_sequence('icsr_case', 'id'), :count)",
    "SELECT setval(pg_get_serial_sequence('icsr_case_version', 'id'), :count)",
)


def _fill(url: str, count: int, statements: tuple[str, ...]) -> float:
    engine = make_engine(url)
    upgrade(engine)
    start = time.perf_counter()
    with engine.begin() as conn:
        for sql in statements:
            conn.execute(text(sql), {"count": count} if ":count" in sql else {})
    engine.dispose()
    return time.perf_counter() - start


def _run(label: str, src: str, dst: str, out: Path, count: int, fill: tuple[str, ...]) -> None:
    made = _fill(src, count, fill)
    print(f"{label}: {count:,} cases made with SQL in {made:.1f} s")
    done = backup(src, out)
    print(f"{label}: backup {done.seconds:.1f} s, {done.size / 1e6:.0f} MB ({done.counts.describe()})")
    restored = restore(dst, out)
    print(f"{label}: restore (incl. migration check) {restored.seconds:.1f} s ({restored.counts.describe()})")
    engine = make_engine(dst)
    assert table_counts(engine).rows == done.counts.rows, "counts differ after restore"
    engine.dispose()
    print(f"{label}: every table's row count matches")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--postgres", default=None, help="admin URL of a PostgreSQL server (omit: SQLite only)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        _run(
            "SQLite",
            f"sqlite:///{folder / 'src.db'}",
            f"sqlite:///{folder / 'dst.db'}",
            folder / "sqlite.backup",
            args.cases,
            _SQLITE_FILL,
        )
        if args.postgres:
            admin_url = normalise_url(args.postgres)
            admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            names = ("bench_backup_src", "bench_backup_dst")
            with admin.connect() as conn:
                for name in names:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
            src, dst = (make_url(admin_url).set(database=n).render_as_string(hide_password=False) for n in names)
            try:
                _run("PostgreSQL", src, dst, folder / "pg.backup", args.cases, _PG_FILL)
            finally:
                with admin.connect() as conn:
                    for name in names:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
