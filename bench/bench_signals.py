"""Benchmark of signal detection: synthetic reports at scale, and caers in and out of process.

    .venv/bin/python bench/bench_signals.py                     # 10 million synthetic reports + caers
    .venv/bin/python bench/bench_signals.py --reports 1000000
    .venv/bin/python bench/bench_signals.py --skip-synthetic    # caers only

Synthetic: the reports are drawn and written to Parquet in one child process; a second child reads
that file and times, in the same run, (a) a bare DuckDB ``GROUP BY product, event`` count of the same
pairs, (b) the full detection (counts, expected counts, MGPS fit, every score), (c) the bare count again;
the ratio is (b) over the mean of (a) and (c). Peak memory is the child's ``ru_maxrss``. Recall: the
share of injected associations flagged at EB05 ≥ 2 and by Evans' criteria, overall and by rate.

caers: the detection in-process (median of several runs after one warm-up) and the wall time of the
whole ``riskplan signal detect`` process (``python -m riskplan.signals.cli detect`` when the group is not
registered in the root command yet).

Figures are printed; nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CAERS = ROOT.parent / "shared" / "data" / "caers" / "caers.csv"


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024  # kB on Linux


def _generate(n_reports: int, seed: int, path: str, queue: Any) -> None:
    from riskplan.signals import synthesise_spontaneous

    t0 = time.perf_counter()
    data = synthesise_spontaneous(n_reports, seed)
    t1 = time.perf_counter()
    data.write_parquet(Path(path))
    t2 = time.perf_counter()
    queue.put(
        {
            "rows": data.n_rows,
            "products": len(data.products),
            "events": len(data.events),
            "draw_s": t1 - t0,
            "write_s": t2 - t1,
            "peak_gb": _peak_gb(),
        }
    )


def _bare_count(con: Any, path: str) -> float:
    t0 = time.perf_counter()
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE bare AS SELECT product, event, count(*) AS n "
        f"FROM read_parquet('{path}') GROUP BY product, event"
    )
    elapsed = time.perf_counter() - t0
    con.execute("DROP TABLE bare")
    return elapsed


def _detect(path: str, truth: str, out: str, queue: Any) -> None:
    import duckdb
    import numpy as np

    from riskplan.signals import LongTableFile, detect, read_truth

    con = duckdb.connect()
    before = _bare_count(con, path)
    t0 = time.perf_counter()
    result = detect(con, LongTableFile(Path(path)).to_relation(con))
    detect_s = time.perf_counter() - t0
    after = _bare_count(con, path)
    t1 = time.perf_counter()
    distinct = con.execute(
        f"SELECT count(*) FROM (SELECT product, event, count(DISTINCT report_id) "
        f"FROM read_parquet('{path}') GROUP BY product, event)"
    ).fetchall()
    distinct_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    result.write(Path(out))
    write_s = time.perf_counter() - t2
    flags = result.flags("eb05,evans,ic025")
    recall: dict[str, dict[str, list[int]]] = {name: {} for name in flags}
    for t in read_truth(Path(truth)):
        try:
            i = result.index(t.product, t.event)
            hit = {name: bool(f[i]) for name, f in flags.items()}
        except Exception:
            hit = dict.fromkeys(flags, False)
        for name in flags:
            cell = recall[name].setdefault(f"{t.relative_rate:g}", [0, 0])
            cell[0] += hit[name]
            cell[1] += 1
    fit = result.fit
    agreement = None
    if fit is not None:  # the other fit (squashed vs exact) on the same pairs, and its EB05 ≥ 2 flags
        from riskplan.signals import mgps

        t3 = time.perf_counter()
        points, inverse = mgps.distinct_points(result.counts.n, result.counts.expected)
        other = mgps.fit_hyperparameters(
            result.counts.n, result.counts.expected, squash=not fit.squashed, distinct=points
        )
        other_s = time.perf_counter() - t3
        other_eb05 = mgps.mgps_scores(other.estimate, points.n, points.e).eb05[inverse]
        mine, theirs = flags["eb05"], other_eb05 >= 2
        agreement = {
            "this_fit": fit.description,
            "other_fit": other.description,
            "other_theta": other.estimate.as_array().tolist(),
            "other_fit_s": other_s,
            "max_rel_theta_diff": float(np.max(np.abs(result.theta.as_array() / other.estimate.as_array() - 1.0))),
            "flagged_this_only": int(np.sum(mine & ~theirs)),
            "flagged_other_only": int(np.sum(theirs & ~mine)),
            "flagged_both": int(np.sum(mine & theirs)),
            "max_abs_eb05_diff": float(np.max(np.abs(result.measures["EB05"] - other_eb05))),
        }
    queue.put(
        {
            "pairs": result.n_pairs,
            "reports": result.counts.n_total,
            "detect_s": detect_s,
            "steps": result.timings,
            "bare_before_s": before,
            "bare_after_s": after,
            "bare_distinct_s": distinct_s,
            "distinct_pairs": distinct[0][0],
            "write_s": write_s,
            "peak_gb": _peak_gb(),
            "recall": recall,
            "theta": result.theta.as_array().tolist(),
            "fit": None
            if fit is None
            else {
                "converged": fit.converged,
                "consistent": fit.consistent,
                "points": fit.n_points,
                "explored_on": fit.explored_on,
                "squashed": fit.squashed,
                "description": fit.description,
            },
            "agreement": agreement,
            "eb05_flagged": int(np.sum(flags["eb05"])),
        }
    )


def _child(target: Any, *args: Any) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    out: dict[str, Any] = queue.get()
    proc.join()
    if proc.exitcode:
        raise SystemExit(f"child {target.__name__} failed with exit code {proc.exitcode}")
    return out


def synthetic(n_reports: int, seed: int, workdir: Path) -> None:
    path, out = workdir / "synth.parquet", workdir / "signals.parquet"
    truth = workdir / "synth.injected.csv"
    print(f"== {n_reports:,} synthetic reports (seed {seed}) ==")
    gen = _child(_generate, n_reports, seed, str(path))
    print(
        f"drawn in {gen['draw_s']:.1f} s, written in {gen['write_s']:.1f} s: {gen['rows']:,} rows, "
        f"{gen['products']:,} products, {gen['events']:,} events; peak {gen['peak_gb']:.2f} GB; "
        f"{path.stat().st_size / 1e6:.0f} MB"
    )
    r = _child(_detect, str(path), str(truth), str(out))
    bare = (r["bare_before_s"] + r["bare_after_s"]) / 2
    print(f"pairs: {r['pairs']:,} from {r['reports']:,} reports")
    print(
        f"bare DuckDB GROUP BY count(*): {r['bare_before_s']:.2f} s before, {r['bare_after_s']:.2f} s after "
        f"(mean {bare:.2f} s); with count(DISTINCT report_id): {r['bare_distinct_s']:.2f} s"
    )
    steps = ", ".join(f"{k} {v:.2f}" for k, v in r["steps"].items())
    print(f"full detection: {r['detect_s']:.2f} s ({steps})")
    print(
        f"ratio to the bare count(*): {r['detect_s'] / bare:.2f}; to the count(DISTINCT): "
        f"{r['detect_s'] / r['bare_distinct_s']:.2f}"
    )
    print(f"peak memory of the detection process: {r['peak_gb']:.2f} GB; writing {out.name}: {r['write_s']:.2f} s")
    print(f"MGPS fit: {r['fit']}; theta = {[round(v, 4) for v in r['theta']]}; EB05 ≥ 2: {r['eb05_flagged']:,}")
    a = r["agreement"]
    if a is not None:
        print(
            f"other fit ({a['other_fit']}, {a['other_fit_s']:.2f} s): theta = "
            f"{[round(v, 4) for v in a['other_theta']]}; largest relative θ difference {a['max_rel_theta_diff']:.2e}; "
            f"EB05 ≥ 2 by both {a['flagged_both']:,}, by this fit only {a['flagged_this_only']:,}, by the other "
            f"only {a['flagged_other_only']:,}; largest |ΔEB05| {a['max_abs_eb05_diff']:.2e}"
        )
    for name, cells in r["recall"].items():
        hits = sum(c[0] for c in cells.values())
        total = sum(c[1] for c in cells.values())
        by_rate = ", ".join(f"×{rate}: {c[0]}/{c[1]}" for rate, c in sorted(cells.items(), key=lambda x: float(x[0])))
        print(f"recall {name}: {hits}/{total} ({by_rate})")
    print(json.dumps({"synthetic": {"reports": n_reports, **r, "generation": gen}}, default=str))


def _caers_in_process(repeats: int, queue: Any) -> None:
    import duckdb

    from riskplan.signals import detect

    times = []
    for i in range(repeats + 1):
        con = duckdb.connect()
        t0 = time.perf_counter()
        rel = con.sql(f"SELECT id AS report_id, var1 AS product, var2 AS event FROM read_csv('{CAERS}')")
        result = detect(con, rel)
        elapsed = time.perf_counter() - t0
        con.close()
        if i:
            times.append(elapsed)
    queue.put({"times": times, "pairs": result.n_pairs, "steps": result.timings})


def caers(repeats: int, workdir: Path) -> None:
    print("== caers (openEBGM 0.9.1 data) ==")
    if not CAERS.is_file():
        print(f"skipped: {CAERS} is absent")
        return
    r = _child(_caers_in_process, repeats)
    steps = ", ".join(f"{k} {v:.3f}" for k, v in r["steps"].items())
    print(
        f"in-process detection, {r['pairs']:,} pairs: median {statistics.median(r['times']):.3f} s "
        f"(min {min(r['times']):.3f}, max {max(r['times']):.3f}; last run {steps})"
    )
    riskplan = Path(sys.executable).parent / "riskplan"
    probe = subprocess.run([str(riskplan), "signal", "detect", "--help"], capture_output=True, check=False)
    if riskplan.is_file() and probe.returncode == 0:
        command = [str(riskplan), "signal", "detect"]
    else:
        command = [sys.executable, "-m", "riskplan.signals.cli", "detect"]
    args = [
        "--reports",
        str(CAERS),
        "--report-col",
        "id",
        "--product-col",
        "var1",
        "--event-col",
        "var2",
        "--out",
        str(workdir / "caers.csv"),
    ]
    walls = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([*command, *args], check=True, capture_output=True)
        walls.append(time.perf_counter() - t0)
    print(
        f"process `{' '.join(Path(c).name if i == 0 else c for i, c in enumerate(command))}`: median "
        f"{statistics.median(walls):.2f} s (min {min(walls):.2f}, max {max(walls):.2f}) over {repeats} runs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=10_000_000, help="synthetic reports (default 10 million)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, help="keep the files here (default: a temporary folder)")
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument("--skip-caers", action="store_true")
    parser.add_argument("--repeats", type=int, default=5, help="caers runs")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_signals_"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        if not args.skip_caers:
            caers(args.repeats, workdir)
        if not args.skip_synthetic:
            synthetic(args.reports, args.seed, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
