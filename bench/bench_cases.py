"""Case-import benchmark: synthetic UPLIZNA ICSRs through validation, coding, assessment, storage and audit.

Prints cases per second for SQLite (file, WAL) and PostgreSQL (127.0.0.1:5432, a fresh database).
Targets (issue 3): SQLite >= 2,000 cases/s, PostgreSQL >= 1,000 cases/s, on 100,000 cases.

    .venv/bin/python bench/bench_cases.py [--cases 100000] [--batch 1000] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from riskplan.cases import CaseRow, CaseVersionRow, Icsr, batches, intake, intake_context, synthesise_cases
from riskplan.store import AuditEvent, make_engine, normalise_url, session_scope, upgrade

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def run(url: str, cases: Sequence[Icsr], batch: int) -> dict[str, float]:
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        intake_context(session, "uplizna", "bench")  # stores the plan version once, outside the timing
    batch_seconds: list[float] = []
    start = time.perf_counter()
    with session_scope(engine) as session:
        ctx = intake_context(session, "uplizna", "bench")
    for chunk in batches(cases, batch):
        t0 = time.perf_counter()
        with session_scope(engine) as session:
            intake(session, chunk, context=ctx, who="bench", reason="benchmark")
        batch_seconds.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - start
    with session_scope(engine) as session:
        stored = session.scalar(select(func.count()).select_from(CaseRow)) or 0
        versions = session.scalar(select(func.count()).select_from(CaseVersionRow)) or 0
        audit = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    engine.dispose()
    return {
        "seconds": elapsed,
        "cases_per_second": len(cases) / elapsed,
        "median_batch_seconds": statistics.median(batch_seconds),
        "stored": stored,
        "versions": versions,
        "audit_rows": audit,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()

    t0 = time.perf_counter()
    cases = synthesise_cases(args.cases, seed=args.seed)
    print(f"generated {len(cases):,} synthetic cases in {time.perf_counter() - t0:.1f} s")
    # The generated cases live for the whole run: keep the cyclic garbage collector from rescanning them
    # at every collection, as a long-lived import process holding its input would.
    gc.collect()
    gc.freeze()

    results: dict[str, dict[str, float]] = {}
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            results["SQLite"] = run(f"sqlite:///{Path(tmp) / 'bench.db'}", cases, args.batch)
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
                results["PostgreSQL"] = run(url, cases, args.batch)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    targets = {"SQLite": 2_000, "PostgreSQL": 1_000}
    for db, r in results.items():
        verdict = "meets" if r["cases_per_second"] >= targets[db] else "MISSES"
        print(
            f"{db:10s} {args.cases:,} cases in {r['seconds']:.1f} s = {r['cases_per_second']:,.0f} cases/s "
            f"(median batch of {args.batch}: {r['median_batch_seconds']:.3f} s); stored {r['stored']:,.0f} cases, "
            f"{r['versions']:,.0f} versions, {r['audit_rows']:,.0f} audit rows; {verdict} target {targets[db]:,}/s"
        )
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
