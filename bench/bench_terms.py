"""MedDRA benchmark on invented releases the size of a real one (80,000 LLTs, 26,000 PTs, 220 SMQs).

1. Loading a full-size release (hierarchy and SMQs) into SQLite; target (issue 16) under 30 s. Then the
   terminology in memory and the median time of a fuzzy suggestion over all LLT names.
2. A MedDRA version upgrade on PostgreSQL (127.0.0.1:5432, a fresh database): release 99.0 and its next
   revision 99.1 (1 in 100 LLTs made non-current, 1 in 200 PTs moved, 22 SMQs changed) loaded, ``--cases``
   synthetic cases coded with 99.0 (their verbatims are LLT names of the release; the plan has a concern
   defined by a changed SMQ), then ``terms upgrade --to 99.1`` preview and apply timed. Target (issue 16):
   preview and apply over 1M stored cases under 2 minutes. The machine is shared: run at a reduced scale
   and the 1M figure is extrapolated linearly (preview: stored reaction rows; apply: affected cases).

``--compare-per-case`` also times the same recoding one case at a time (the path the batched one replaced),
rolled back. Wall seconds and CPU seconds (this process; the PostgreSQL server process where /proc shows it)
are printed: the machine may be shared.

    .venv/bin/python bench/bench_terms.py [--llts 80000] [--cases 50000] [--skip-postgres] [--compare-per-case]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from riskplan.cases import apply_upgrade, batches, intake, intake_context, preview_upgrade, synthesise_cases
from riskplan.plan import ConcernCategory, ConcernDefinition, SafetyConcern, SmqReference, current_plan, record_plan
from riskplan.store import audited_transaction, make_engine, normalise_url, session_scope, upgrade
from riskplan.terms import (
    MeddraLlt,
    MeddraTerminology,
    code_verbatim,
    load_meddra,
    release_changes,
    write_synthetic_release,
)

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
TARGET_LOAD_SECONDS = 30
TARGET_UPGRADE_SECONDS_AT_1M = 120


def bench_load(tmp: Path, folder: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp / 'terms.db'}")
    upgrade(engine)
    started = time.perf_counter()
    with session_scope(engine) as session:
        load_meddra(session, folder, who="bench")
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    with session_scope(engine) as session:
        terms = MeddraTerminology(session)
        name = session.scalars(select(MeddraLlt.llt_name).where(MeddraLlt.is_current).limit(1)).one()
    build_seconds = time.perf_counter() - started
    misspelt = name[0] + name[2] + name[1] + name[3:]
    timings = []
    for _ in range(21):
        t0 = time.perf_counter()
        code_verbatim(misspelt, terms)
        timings.append(time.perf_counter() - t0)
    engine.dispose()
    verdict = "meets" if load_seconds < TARGET_LOAD_SECONDS else "MISSES"
    print(f"load into SQLite (hierarchy and SMQs): {load_seconds:.1f} s ({verdict} target {TARGET_LOAD_SECONDS} s)")
    print(f"terminology in memory: {build_seconds:.2f} s")
    print(f"fuzzy suggestion over {len(terms):,} LLT names: median {statistics.median(timings) * 1000:.0f} ms")


def _server_cpu(pid: int) -> float | None:
    """CPU seconds (user and system) of a PostgreSQL server process on this machine, where readable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_upgrade(url: str, old: Path, new: Path, n_cases: int, *, compare_per_case: bool = False) -> None:
    engine = make_engine(url)
    upgrade(engine)
    t0 = time.perf_counter()
    with session_scope(engine) as session:
        load_meddra(session, old, who="bench")
    print(f"PostgreSQL: load 99.0 {time.perf_counter() - t0:.1f} s")
    with session_scope(engine) as session:
        names = list(session.scalars(select(MeddraLlt.llt_name).where(MeddraLlt.release_version == "99.0")))
        plan = current_plan(session, "uplizna").plan
        concern = SafetyConcern(
            id="bench-smq",
            title="Benchmark concern defined by an SMQ that changes in 99.1",
            category=ConcernCategory.IMPORTANT_POTENTIAL_RISK,
            definition=ConcernDefinition(meddra_smqs=[SmqReference(name="Smq 3 (SMQ)", scope="broad")]),
        )
        plan = plan.model_copy(update={"safety_concerns": [*plan.safety_concerns, concern]})
        record_plan(session, plan, who="bench", source="bench_terms.py", reason="benchmark")
    rng = random.Random(3)
    cases = []
    for icsr in synthesise_cases(n_cases, seed=1):
        reactions = tuple(r.model_copy(update={"verbatim_term": rng.choice(names)}) for r in icsr.reactions)
        cases.append(icsr.model_copy(update={"reactions": reactions}))
    t0 = time.perf_counter()
    with session_scope(engine) as session:
        ctx = intake_context(session, "uplizna", "bench")
    for chunk in batches(cases, 1_000):
        with session_scope(engine) as session:
            intake(session, chunk, context=ctx, who="bench", reason="benchmark")
    print(f"PostgreSQL: {n_cases:,} cases coded with 99.0 stored in {time.perf_counter() - t0:.1f} s (setup)")
    with session_scope(engine) as session:
        load_meddra(session, new, who="bench")
        reactions = session.execute(text("select count(*) from icsr_reaction")).scalar_one()

    # fixed costs, whatever the number of cases: comparing the two releases, the new release in memory
    t0, c0 = time.perf_counter(), time.process_time()
    with session_scope(engine) as session:
        release_changes(session, "99.0", "99.1")
    compare_seconds, compare_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"fixed costs: comparing the releases {compare_seconds:.1f} s ({compare_cpu:.1f} s CPU in this process), "
        "the new release in memory below"
    )
    t0, c0 = time.perf_counter(), time.process_time()
    with session_scope(engine) as session:
        MeddraTerminology(session, "99.1")
    terms_seconds, terms_cpu = time.perf_counter() - t0, time.process_time() - c0

    if compare_per_case:
        # the same recoding one case at a time (intake's follow-up path), rolled back: the batched path's speed-up
        t0, c0 = time.perf_counter(), time.process_time()
        with session_scope(engine) as session:
            done = apply_upgrade(session, "99.1", who="bench", reason="benchmark", batched=False)
            session.rollback()
        print(
            f"apply one case at a time (rolled back, for comparison): {time.perf_counter() - t0:.1f} s, "
            f"{time.process_time() - c0:.1f} s CPU in this process, preview included, for {done.new_versions:,} "
            "new case versions"
        )
    t0, c0 = time.perf_counter(), time.process_time()
    with audited_transaction(engine) as session:
        backend = int(session.execute(text("select pg_backend_pid()")).scalar_one())
        s0 = _server_cpu(backend)
        preview = preview_upgrade(session, "99.1")
        s1 = _server_cpu(backend)
        preview_seconds, preview_cpu = time.perf_counter() - t0, time.process_time() - c0
        t1, c1 = time.perf_counter(), time.process_time()
        applied = apply_upgrade(session, "99.1", who="bench", reason="benchmark", preview=preview)
        apply_in_transaction = time.perf_counter() - t1
        s2 = _server_cpu(backend)  # the audit rows are appended at commit: their server time is not counted
    # with the commit and the audit rows appended at commit
    apply_seconds, apply_cpu = time.perf_counter() - t1, time.process_time() - c1
    engine.dispose()
    [changes] = preview.changes
    print(
        f"preview: {preview_seconds:.1f} s, {preview_cpu:.1f} s CPU in this process (of which comparing the "
        f"releases {compare_seconds:.1f} s); "
        f"{len(changes.llts):,} LLTs changed, {len(changes.pts):,} PTs moved, {len(changes.smqs):,} SMQs changed, "
        f"{sum(len(c) for c in preview.concerns.values())} concern(s) changed, "
        f"{preview.affected_count:,} of {n_cases:,} case versions affected"
    )
    print(
        f"apply: {apply_seconds:.1f} s, {apply_cpu:.1f} s CPU in this process ({apply_in_transaction:.1f} s "
        f"before the commit; of which the release in memory {terms_seconds:.1f} s, {terms_cpu:.1f} s CPU) for "
        f"{applied.new_versions:,} new case versions (stored in batches, set-based)"
    )
    if s0 is not None and s1 is not None and s2 is not None:
        print(f"PostgreSQL server process CPU: preview {s1 - s0:.1f} s, apply before the commit {s2 - s1:.1f} s")
        cpu_per_case = (apply_cpu - terms_cpu + (s2 - s1)) / max(applied.new_versions, 1)
        print(
            f"CPU per new case version (this process and the server, the release in memory left out): "
            f"{cpu_per_case * 1000:.1f} ms; at 1M cases ({applied.new_versions * 1_000_000 // n_cases:,} new "
            f"versions, linear): {cpu_per_case * applied.new_versions * 1_000_000 / n_cases:.0f} CPU s"
        )
    scale = 1_000_000 / n_cases
    preview_1m = compare_seconds + (preview_seconds - compare_seconds) * scale
    apply_1m = terms_seconds + (apply_seconds - terms_seconds) * scale
    at_1m = preview_1m + apply_1m
    verdict = "meets" if at_1m < TARGET_UPGRADE_SECONDS_AT_1M else "MISSES"
    print(
        f"extrapolated to 1M cases ({reactions:,} reaction rows x {scale:.0f}; fixed costs once): preview "
        f"{preview_1m:.0f} s + apply {apply_1m:.0f} s = {at_1m:.0f} s ({verdict} target "
        f"{TARGET_UPGRADE_SECONDS_AT_1M} s; linear extrapolation from a reduced scale on a shared machine)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--llts", type=int, default=80_000)
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--compare-per-case", action="store_true", help="also time the one-case-at-a-time path")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        counts = write_synthetic_release(tmp / "99.0", n_llt=args.llts)
        write_synthetic_release(tmp / "99.1", n_llt=args.llts, revision=1)
        print(f"release: {counts}")
        bench_load(tmp, tmp / "99.0")
        if args.skip_postgres:
            return
        name = f"riskplan_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(normalise_url(POSTGRES), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:  # no server: say so
            print(f"PostgreSQL skipped: {exc.__class__.__name__}: {exc}")
            return
        url = make_url(normalise_url(POSTGRES)).set(database=name).render_as_string(hide_password=False)
        try:
            bench_upgrade(url, tmp / "99.0", tmp / "99.1", args.cases, compare_per_case=args.compare_per_case)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
