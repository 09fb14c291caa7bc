"""WHODrug benchmark: load a generated B3 release of full size, then suggest products for reported names.

A WHODrug Global B3 release holds some hundreds of thousands of drug names; this writes an invented one in
riskplan's B3 layout (random names, never WHODrug content), loads it into a new SQLite database and times
the load and :func:`riskplan.terms.suggest_drugs` (the suggestions ``case code-drug --suggest`` shows): the
first call reads and prepares the release's names (kept for the process), the later ones reuse them;
target (issue 16 follow-up) under 200 ms median after the first. Wall and CPU seconds (the machine may be
shared).

    .venv/bin/python bench/bench_whodrug.py [--names 300000] [--runs 21]
"""

from __future__ import annotations

import argparse
import random
import statistics
import string
import tempfile
import time
from pathlib import Path

from riskplan.store import make_engine, session_scope, upgrade
from riskplan.terms import DrugSuggestion, load_whodrug, suggest_drugs


def write_release(folder: Path, names: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    records = names // 3  # three names per drug record: preferred name and two trade names
    dd, ing, dda, bna = [], [], [], []
    for record in range(1, records + 1):
        drecno = f"{record:06d}"
        base = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(6, 12)))
        for seq2, name in ((1, base), (2, base[:4] + "EX"), (3, f"{base[:5]}IX {rng.choice(['100 MG', 'FORTE', ''])}")):
            dd.append(f"{drecno}01{seq2:03d}0N26000010004201N261{name.strip()}")
        bna.append(f"{record:010d}{'':10}en{base.lower()}")
        ing.append(f"20260301{drecno}01001{record:010d}")
        dda.append(f"{drecno}010010M01AH01261Y")
    (folder / "DD.txt").write_text("\r\n".join(dd) + "\r\n")
    (folder / "ING.txt").write_text("\r\n".join(ing) + "\r\n")
    (folder / "BNA.txt").write_text("\r\n".join(bna) + "\r\n")
    (folder / "DDA.txt").write_text("\r\n".join(dda) + "\r\n")
    (folder / "INA.txt").write_text("M01AH015celecoxib\r\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_whodrug_") as tmp:
        folder = Path(tmp) / "b3"
        folder.mkdir()
        write_release(folder, args.names)
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        started = time.perf_counter()
        with session_scope(engine) as session:
            release = load_whodrug(session, folder, who="bench", version="BENCH-B3")
            loaded = release.product_count
        load_s = time.perf_counter() - started
        print(f"load: {loaded:,} drug names in {load_s:.1f} s ({loaded / load_s:,.0f} names/s)")
        timings, cpu = [], []
        first: list[DrugSuggestion] = []
        rng = random.Random(2)
        for run in range(args.runs):
            # a different reported name each time (the first as before), so nothing but the names is reused
            name = "ABCDEFX 100 mg tablets" if run == 0 else "".join(rng.choices(string.ascii_uppercase, k=8))
            started, started_cpu = time.perf_counter(), time.process_time()
            with session_scope(engine) as session:
                found = suggest_drugs(session, name)
            timings.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            first = found if run == 0 else first
        print(
            f"suggest: first call {timings[0]:.2f} s ({cpu[0]:.2f} s CPU, reads the names); later calls median "
            f"{statistics.median(timings[1:]) * 1000:.0f} ms ({statistics.median(cpu[1:]) * 1000:.0f} ms CPU) over "
            f"{args.runs - 1} runs; first call {len(first)} suggestions"
        )


if __name__ == "__main__":
    main()
