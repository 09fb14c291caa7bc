"""Benchmark of the study analyses on a synthetic OMOP CDM (default 1,000,000 persons).

Writes the synthetic NMOSD population as Parquet (``riskplan.studies.synth``), loads it into DuckDB,
builds 3 new-user cohorts (inebilizumab, rituximab, azathioprine) and computes the incidence of 10
outcomes in each (30 analyses: rates with exact CIs and strata). Prints seconds per phase and the peak
resident memory of the process (``resource.getrusage``). Target: analyses under 60 s and 8 GB.

    .venv/bin/python bench/bench_studies.py                 # 1,000,000 persons
    .venv/bin/python bench/bench_studies.py --persons 100000 --data /tmp/cdm_100k
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from riskplan.plan import load_plan
from riskplan.studies import (
    ConceptSet,
    OutcomeDefinition,
    build_new_user_cohort,
    drug_definition,
    incidence,
    open_cdm,
    outcome_events,
    outcome_from_concern,
    plan_concomitant,
    synthesise_omop,
)
from riskplan.studies import vocabulary as v


def peak_memory_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--data", type=Path, default=None, help="CDM folder to write (kept), or reuse if it exists")
    args = parser.parse_args()
    folder = args.data or Path(tempfile.mkdtemp(prefix="riskplan_bench_"))
    timings: dict[str, float] = {}

    start = time.perf_counter()
    if not (folder / "person.parquet").is_file():
        summary = synthesise_omop(args.persons, args.seed, folder)
        timings["synthesise"] = time.perf_counter() - start
        rows = ", ".join(f"{k} {n:,}" for k, n in summary.rows.items())
        print(f"synthesised {args.persons:,} persons in {timings['synthesise']:.1f} s: {rows}")
    else:
        print(f"reusing {folder}")

    t = time.perf_counter()
    cdm = open_cdm(folder)
    timings["load"] = time.perf_counter() - t
    print(f"loaded CDM into DuckDB in {timings['load']:.1f} s ({cdm.count('person'):,} persons)")

    plan = load_plan("uplizna")
    t = time.perf_counter()
    cohorts = [build_new_user_cohort(cdm, drug_definition(d)) for d in ("inebilizumab", "rituximab", "azathioprine")]
    timings["cohorts"] = time.perf_counter() - t
    print(f"built 3 cohorts in {timings['cohorts']:.1f} s: " + ", ".join(f"{c.name} {c.persons:,}" for c in cohorts))

    outcomes: list[OutcomeDefinition] = [
        outcome_from_concern(plan.concern(cid))
        for cid in ("infusion-reaction", "neutropenia", "serious-infections", "pml", "malignancy")
    ]
    for name, concept in (
        ("pneumonia", v.PNEUMONIA),
        ("sepsis", v.SEPSIS),
        ("herpes zoster", v.HERPES_ZOSTER),
        ("breast cancer", v.BREAST_CANCER),
        ("lymphoma", v.LYMPHOMA),
    ):
        outcomes.append(OutcomeDefinition(name, ConceptSet(name, (concept,))))
    t = time.perf_counter()
    events = [outcome_events(cdm, o) for o in outcomes]
    timings["outcome events"] = time.perf_counter() - t
    print(f"materialised {len(events)} outcomes in {timings['outcome events']:.1f} s")

    concomitant = plan_concomitant(plan)
    t = time.perf_counter()
    n = 0
    for cohort in cohorts:
        for ev in events:
            result = incidence(cdm, cohort, ev, concomitant=concomitant)
            row = result.overall()
            n += 1
            print(
                f"  {cohort.name:>13} {ev.definition.name[:40]:<40} events {row['events']:>7,} "
                f"PY {row['person_years']:>11,.0f} rate {row['rate_per_100py']:.3f} "
                f"({row['ci_lower']:.3f}-{row['ci_upper']:.3f})"
            )
    timings["incidence"] = time.perf_counter() - t
    analyses = timings["cohorts"] + timings["outcome events"] + timings["incidence"]
    print(f"{n} incidence analyses in {timings['incidence']:.1f} s; cohorts + outcomes + incidence {analyses:.1f} s")
    print(f"total {sum(timings.values()):.1f} s; peak memory {peak_memory_gb():.2f} GB")
    cdm.close()
    if args.data is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
