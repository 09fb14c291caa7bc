"""Case-list benchmark: one page of `riskplan case list` / `case due` on a large case store.

Filters, sort and paging run in SQL; this prints the time of each query (best of the runs) on the database
given, e.g. after ``riskplan synth cases --count 10000``:

    .venv/bin/python bench/bench_case_lists.py sqlite:////tmp/cases.db [--runs 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from riskplan.cases import CaseFilters, CaseSort, CaseState, case_page
from riskplan.store import make_engine, session_scope

QUERIES: tuple[tuple[str, CaseFilters, CaseSort, int | None, int], ...] = (
    ("no filter, first page of 50", CaseFilters(), CaseSort.ID, 50, 0),
    ("--state overdue --serious", CaseFilters(states=(CaseState.OVERDUE,), serious=True), CaseSort.ID, 50, 0),
    (
        "--concern serious-infections --sort received",
        CaseFilters(concern="serious-infections"),
        CaseSort.RECEIVED,
        50,
        0,
    ),
    ("--due-within 7 --sort due", CaseFilters(due_within=7), CaseSort.DUE, 50, 0),
    ("--product uplizna --page 100", CaseFilters(product="uplizna"), CaseSort.ID, 50, 4950),
    ("case due, first page", CaseFilters(obligation_open=True), CaseSort.DUE, 50, 0),
    ("every case (--format csv)", CaseFilters(), CaseSort.ID, None, 0),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--as-of", default=dt.date.today().isoformat())
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    as_of = dt.date.fromisoformat(args.as_of)
    with session_scope(engine) as session:
        case_page(session, as_of=as_of, limit=1)  # connect and warm the cache
    for name, filters, sort, limit, offset in QUERIES:
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            with session_scope(engine) as session:
                page = case_page(session, filters, as_of=as_of, sort=sort, limit=limit, offset=offset)
            times.append(time.perf_counter() - start)
        print(f"{min(times) * 1000:8.1f} ms  {page.total:6d} match, {len(page.lines):6d} shown  {name}")


if __name__ == "__main__":
    main()
