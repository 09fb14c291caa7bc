"""Audit-trail benchmark: append N rows through the real chained path, then time ``riskplan audit verify``.

Rows are appended with :func:`riskplan.store.audit.insert_audit_rows` (the bulk path case intake uses), in
transactions of ``--batch`` rows; the verification walks the whole chain as the CLI does. Prints the append
rate and the median verification time (wall clock, and CPU of this process) of ``--runs`` runs, for SQLite
(file, WAL) and PostgreSQL (127.0.0.1:5432, a fresh database).

    .venv/bin/python bench/bench_audit.py [--rows 1000000] [--batch 10000] [--runs 3] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from riskplan.store import (
    audit_row,
    insert_audit_rows,
    make_engine,
    normalise_url,
    session_scope,
    upgrade,
    verify_chain,
)

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def _batch(start: int, size: int) -> list[dict[str, object]]:
    """Rows shaped like case intake's: a case created, its version, a reason."""
    return [
        audit_row(
            who="bench",
            entity_type="case",
            entity_id=f"GB-BENCH-{start + i:09d}",
            action="created",
            field="version",
            old=None,
            new=1,
            reason="initial report",
        )
        for i in range(size)
    ]


def run(url: str, rows: int, batch: int, runs: int) -> dict[str, float]:
    engine = make_engine(url)
    upgrade(engine)
    t0 = time.perf_counter()
    for start in range(0, rows, batch):
        with session_scope(engine) as session:
            insert_audit_rows(session, _batch(start, min(batch, rows - start)))
    append_seconds = time.perf_counter() - t0
    times: list[float] = []
    cpu: list[float] = []
    for _ in range(runs):
        t1, c1 = time.perf_counter(), time.process_time()
        with session_scope(engine) as session:
            check = verify_chain(session)
        times.append(time.perf_counter() - t1)
        cpu.append(time.process_time() - c1)
        assert check.intact and check.rows == rows, check
    engine.dispose()
    return {
        "append_seconds": append_seconds,
        "verify_median": statistics.median(times),
        "verify_min": min(times),
        "verify_cpu_median": statistics.median(cpu),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()

    results: dict[str, dict[str, float]] = {}
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            results["SQLite"] = run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.rows, args.batch, args.runs)
    if not args.skip_postgres:
        name = f"riskplan_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(normalise_url(POSTGRES), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:  # no server: say so and go on
            print(f"PostgreSQL skipped: {exc.__class__.__name__}: {exc}")
        else:
            url = make_url(normalise_url(POSTGRES)).set(database=name).render_as_string(hide_password=False)
            try:
                results["PostgreSQL"] = run(url, args.rows, args.batch, args.runs)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    for db, r in results.items():
        print(
            f"{db:10s} appended {args.rows:,} audit rows in {r['append_seconds']:.1f} s "
            f"({args.rows / r['append_seconds']:,.0f} rows/s); audit verify: median {r['verify_median']:.1f} s "
            f"of {args.runs} run(s) (fastest {r['verify_min']:.1f} s) = {args.rows / r['verify_median']:,.0f} rows/s; "
            f"CPU of this process: median {r['verify_cpu_median']:.1f} s"
        )


if __name__ == "__main__":
    main()
