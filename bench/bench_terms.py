"""MedDRA loading and coding benchmark on an invented release the size of a real one (80,000 LLTs).

Prints load seconds (SQLite) and the median time of a fuzzy suggestion over all LLT names.

    .venv/bin/python bench/bench_terms.py [--llts 80000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from riskplan.store import make_engine, session_scope, upgrade
from riskplan.terms import MeddraLlt, MeddraTerminology, code_verbatim, load_meddra, write_synthetic_release


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--llts", type=int, default=80_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "release"
        counts = write_synthetic_release(folder, n_llt=args.llts)
        engine = make_engine(f"sqlite:///{Path(tmp) / 'terms.db'}")
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
    print(f"release: {counts}")
    print(f"load into SQLite: {load_seconds:.1f} s; terminology in memory: {build_seconds:.2f} s")
    print(f"fuzzy suggestion over {len(terms):,} LLT names: median {statistics.median(timings) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
