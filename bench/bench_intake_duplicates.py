"""Duplicate candidates at web intake: how long the check takes before a case is stored, and whether it finds
the case again.

Stores ``--cases`` synthetic UPLIZNA cases in a temporary SQLite database, then enters ``--probes`` of them
again under a new worldwide case id and times :func:`riskplan.cases.intake_duplicates.duplicate_candidates`
(what the intake form runs when "Check and store case" is pressed). Prints the median and slowest check and
how many re-entered cases found their original among the candidates.

    .venv/bin/python bench/bench_intake_duplicates.py [--cases 5000] [--probes 50]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from riskplan.cases.intake import batches, intake, intake_context
from riskplan.cases.intake_duplicates import duplicate_candidates
from riskplan.cases.store import latest_icsrs
from riskplan.cases.synth import synthesise_cases
from riskplan.store.db import make_engine, session_scope
from riskplan.store.migrate import upgrade


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--probes", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'dups.db'}")
        upgrade(engine)
        started = time.perf_counter()
        with session_scope(engine) as session:
            ctx = intake_context(session, "uplizna", "bench")
        for chunk in batches(synthesise_cases(args.cases, seed=1), 1000):
            with session_scope(engine) as session:
                intake(session, chunk, context=ctx, who="bench", reason="benchmark", synthetic=True)
        print(f"{args.cases:,} cases stored in {time.perf_counter() - started:.1f} s")
        seconds: list[float] = []
        found = 0
        with session_scope(engine) as session:
            stored = latest_icsrs(session)
            step = max(1, len(stored) // args.probes)
            for _, _, icsr in stored[::step][: args.probes]:
                again = icsr.model_copy(update={"worldwide_case_id": icsr.worldwide_case_id + "-AGAIN"})
                t = time.perf_counter()
                candidates = duplicate_candidates(session, again)
                seconds.append(time.perf_counter() - t)
                found += any(c.worldwide_id == icsr.worldwide_case_id for c in candidates)
        engine.dispose()
    print(
        f"duplicate check at intake over {args.cases:,} cases: median {statistics.median(seconds) * 1000:.0f} ms, "
        f"slowest {max(seconds) * 1000:.0f} ms; the original found for {found} of {len(seconds)} re-entered cases"
    )


if __name__ == "__main__":
    main()
