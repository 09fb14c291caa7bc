"""Benchmark: the counting step of ``signal detect`` on DuckDB and on Apache Spark (local mode).

    PYTHONPATH=src .venv/bin/python bench/bench_signals_spark.py                    # 10 million reports
    PYTHONPATH=src .venv/bin/python bench/bench_signals_spark.py --reports 1000000 --cores 2

The synthetic long table (``synth spontaneous``: sex, age group, year) is written once as Parquet in
``--data`` and reused. Each engine runs in a child process of its own: the counts (N, margins, E
stratified by sex and age group) are timed, then the MGPS fit and scores (``detect_counted``) run on
them. For each: wall and CPU seconds of the counting (CPU of the Python driver; for Spark also the CPU
of the JVM, which in local mode is driver and executors at once), the Python process's peak RSS and,
for Spark, the JVM's peak RSS (VmHWM). Then the check: N, margins and codes equal, E equal bit for bit
(and its largest relative difference), EBGM and EB05 within 1e-9.

Figures (2026-12-04; 2 cores SHARED with up to 7 other workers, so wall times are far from what an idle
machine gives and the CPU seconds are the steadier figure; Spark local[2], driver memory 2g, 4 shuffle
partitions; strata sex x age group, 18 strata):

  10,000,000 reports (35,937,566 rows, 5,693,704 pairs), ``--reports 10000000 --cores 2``, load average
  13-20 (7-27 at the extremes) during the Spark run:
    DuckDB  counts: wall 145.2 s, CPU 44.4 s; fit + scores 34.9 s; Python peak RSS 2,978 MB
    Spark   start 52.2 s; counts: wall 1,030.7 s, CPU 9.5 s (Python driver) + 276.8 s (JVM);
            fit + scores 13.6 s; Python peak RSS 1,550 MB, JVM peak RSS 2,489 MB
    check:  codes, N and margins equal; E equal bit for bit; EBGM and EB05 max rel diff 0.0 (within 1e-9)

  1,000,000 reports (3,782,717 rows, 293,806 pairs), ``--reports 1000000 --cores 2``, load average 6-10:
    DuckDB  counts: wall 6.6 s, CPU 3.7 s; fit + scores 4.1 s; Python peak RSS 609 MB
    Spark   start 33.4 s; counts: wall 99.6 s, CPU 0.9 s (Python driver) + 64.2 s (JVM);
            fit + scores 5.0 s; Python peak RSS 386 MB, JVM peak RSS 1,849 MB
    check:  codes, N and margins equal; E equal bit for bit; EBGM and EB05 max rel diff 0.0
    Before the two-job counting (same day, load 13-16): Spark counts wall 398.5-406 s, CPU 2.6 s +
    94-104 s (JVM) in 28 Spark jobs that re-read and re-joined the rows (three distinct passes and
    three joins on report id), with two Python-worker stages building the code tables.

Of the JVM's CPU about 30 s is the JIT compiling Spark's code in a fresh JVM (C1/C2 compiler threads), a
fixed cost; the rest grows with the rows (~24 s per million reports here against DuckDB's ~4 s).
Spark local mode on 2 cores is slower than DuckDB on one machine (JVM CPU ~6x DuckDB's at 10M): its
point is report sets that do not fit one machine, counted on a cluster (``--counts-on spark://host:port``),
where only the names and the counts come back to the driver.

Nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import time
from pathlib import Path
from typing import Any

STRATA = ("sex", "age_group")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _generate(n_reports: int, path: str, queue: Any) -> None:
    from riskplan.signals import synthesise_spontaneous

    t0 = time.perf_counter()
    data = synthesise_spontaneous(n_reports, 0)
    data.write_parquet(Path(path))
    queue.put({"rows": data.n_rows, "seconds": time.perf_counter() - t0})


def _proc_stats(pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) and peak RSS (MB) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    hwm = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmHWM"))
    return cpu, int(hwm.split()[1]) / 1024


def _run(engine: str, path: str, cores: int, out: str, queue: Any) -> None:
    import duckdb
    import numpy as np

    from riskplan.signals import LongTableFile, count_pairs, count_pairs_spark, detect_counted, read_reports_spark

    figures: dict[str, float] = {}
    con = duckdb.connect()
    jvm = None
    if engine == "duckdb":
        con.execute(f"SET threads = {cores}")
        w0, c0 = time.perf_counter(), time.process_time()
        rel = LongTableFile(Path(path), strata_cols=STRATA).to_relation(con)
        counts = count_pairs(con, rel, STRATA, workers=cores)
    else:
        from riskplan.store import spark_session

        s0 = time.perf_counter()
        spark = spark_session(f"local[{cores}]")
        figures["spark_start_s"] = time.perf_counter() - s0
        jvm = spark.sparkContext._gateway.proc.pid  # type: ignore[attr-defined]
        jvm_cpu0, _ = _proc_stats(jvm)
        w0, c0 = time.perf_counter(), time.process_time()
        counts = count_pairs_spark(read_reports_spark(spark, Path(path), strata=STRATA), STRATA, con)
    figures["count_wall_s"] = time.perf_counter() - w0
    figures["count_cpu_driver_s"] = time.process_time() - c0
    figures["load_average_1min"] = os.getloadavg()[0]  # the machine may be shared: wall times depend on it
    if jvm is not None:
        jvm_cpu, jvm_peak = _proc_stats(jvm)
        figures["count_cpu_jvm_s"] = jvm_cpu - jvm_cpu0
        figures["jvm_peak_mb"] = jvm_peak
    w1 = time.perf_counter()
    result = detect_counted(counts, workers=cores)
    figures["fit_and_scores_wall_s"] = time.perf_counter() - w1
    figures["python_peak_mb"] = _peak_mb()
    figures["pairs"] = counts.n_pairs
    figures["reports"] = counts.n_total
    figures["strata"] = counts.n_strata
    np.savez(
        out,
        pc=counts.product_code,
        ec=counts.event_code,
        n=counts.n,
        n_product=counts.n_product,
        n_event=counts.n_event,
        expected=counts.expected,
        ebgm=result.measures["EBGM"],
        eb05=result.measures["EB05"],
    )
    queue.put(figures)


def _child(target: Any, *args: Any) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    figures: dict[str, Any] = queue.get()
    proc.join()
    return figures


def main() -> None:
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=10_000_000)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--data", type=Path, default=Path("/tmp/riskplan_bench_signals_spark"))
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    path = args.data / f"reports_{args.reports}.parquet"
    if not path.is_file():
        made = _child(_generate, args.reports, str(path))
        print(f"generated {path}: {made['rows']:,} rows in {made['seconds']:.1f} s")
    else:
        print(f"reusing {path}")
    results = {}
    for engine in ("duckdb", "spark"):
        out = str(args.data / f"counts_{engine}_{args.reports}.npz")
        results[engine] = _child(_run, engine, str(path), args.cores, out)
        print(engine, json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in results[engine].items()}))
    duck = np.load(args.data / f"counts_duckdb_{args.reports}.npz")
    spark = np.load(args.data / f"counts_spark_{args.reports}.npz")
    exact = all(np.array_equal(duck[k], spark[k]) for k in ("pc", "ec", "n", "n_product", "n_event"))
    e_bits = duck["expected"].tobytes() == spark["expected"].tobytes()
    e_rel = float(np.max(np.abs(spark["expected"] - duck["expected"]) / duck["expected"]))

    def rel(name: str) -> float:
        a, b = duck[name], spark[name]
        return float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-300)))

    print(
        f"codes, N and margins equal: {exact}; E equal bit for bit: {e_bits} (max rel diff {e_rel:.1e}); "
        f"EBGM max rel diff {rel('ebgm'):.1e}, EB05 {rel('eb05'):.1e}; within 1e-9: "
        f"{rel('ebgm') <= 1e-9 and rel('eb05') <= 1e-9}"
    )


if __name__ == "__main__":
    main()
