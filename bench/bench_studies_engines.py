"""Benchmark of the study engines: 30 incidence analyses on one synthetic CDM, run where the data is.

Writes (or reuses) the synthetic NMOSD population of ``--persons`` persons as Parquet
(``riskplan.studies.synthesise_omop``), loads it into PostgreSQL (a database of its own, schema
``cdm``; DuckDB writes each Parquet file as CSV, psycopg streams it with ``COPY ... FROM STDIN``,
then ``ANALYZE``; no indexes, as a CDM restored without its index script), and runs the 30 incidence
analyses (3 new-user cohorts x 10 outcomes, rates with exact CIs and strata) in a fresh child process
per engine:

* ``duckdb``: the Parquet folder loaded into an in-memory DuckDB (the embedded default);
* ``postgres``: inside PostgreSQL (``postgresql://...?schema=cdm``; SQL translated by SQLGlot,
  scratch tables in the database, only result rows come back);
* ``copy``: the copying path (``riskplan.studies.cdm.load_postgres``): every CDM row fetched from
  PostgreSQL into an in-memory DuckDB, then analysed there;
* ``spark``: the source string given with ``--spark-source`` (default ``spark+local://2?path=<folder>``)
  opened through ``open_cdm``, as the CLI does.

Per engine it prints wall and CPU seconds of the child (``time.process_time``), the child's peak
resident memory (``VmHWM``), that of its descendants (the JVM in Spark local mode), the rows the client
fetched, and for PostgreSQL the CPU seconds of the database backend serving the run (from
``/proc/<backend pid>/stat``; parallel query workers are not included). Then it checks that every
engine gives the same results as the first: persons, events and person-days exactly, person-years,
rates and CI limits within a relative 1e-9. Databases are dropped afterwards unless ``--keep``.

    PYTHONPATH=src .venv/bin/python bench/bench_studies_engines.py --persons 1000000
    ... --persons 2000000 --engine duckdb,postgres --data /tmp/cdm_2m   # keep / reuse the Parquet
    ... --persons 1000000 --engine duckdb,spark --data /tmp/cdm_1m   # spark+local://2?path=/tmp/cdm_1m

Figures (2026-12-04, 2 cores and 23 GB shared with other workers, so wall times are noisy and CPU
seconds are the steadier figure; PostgreSQL 15 at 127.0.0.1 with shared_buffers 128 MB, work_mem 4 MB;
Spark 4.3.0 local[2], driver memory 2 GB unless said). The concomitant-use users of a cohort
are now one scratch table per cohort (``incidence.concomitant_users``), not a ``drug_exposure`` scan
in each of the 30 analyses; at 100,000 persons that took the PostgreSQL incidence phase from 26.8 s to
8.1 s wall (backend CPU of the run 18.0 s to 8.8 s), results equal bit for bit.

    With that change (load average 1-7 during these runs; phases open / cohorts / outcomes / incidence):
    persons  engine     wall s  CPU s      peak MB  rows fetched  backend CPU s  phases, wall s
    1M       duckdb       19.0   18.0         2788           287              -  6.9 / 4.6 / 1.0 / 6.4
    1M       postgres    161.6    1.3          188           354          108.1  13.0 / 43.5 / 13.3 / 91.5
    1M       spark       655.3    2.9  231 + 2,625           294  JVM CPU 555.2  39.9 / 265 / 195 / 155
    1M       spark       239.8    2.7  230 + 6,869           294  JVM CPU 452.8  25.3 / 103 / 39.7 / 71.8
    2M       duckdb       53.2   44.2         5316           287              -  23.4 / 10.7 / 1.8 / 17.1
    2M       postgres    321.1    1.4          188           354          214.4  26.4 / 78.7 / 22.9 / 193
    2M       spark       375.3    2.7  231 + 6,869           294  JVM CPU 692.0  25.9 / 154 / 69.1 / 126

    (1M is 39.0 M CDM rows, 2M 78.0 M; "+ N" is the JVM's peak in Spark local mode. The first Spark 1M
    run had the default 2 GB driver and shared the cores with the 2M synthesis and PostgreSQL load (load
    average 4-7); the second 1M run and the 2M run had RISKPLAN_SPARK_DRIVER_MEMORY=6g at load average
    2-3: with the default 2 GB the 2M run failed with UNABLE_TO_ACQUIRE_MEMORY.)
    postgres and spark vs duckdb: identical at each size (counts exact, rates within 1e-9). Cohorts at 1M:
    inebilizumab 183,931, rituximab 275,901, azathioprine 243,881; at 2M 368,906, 551,026, 487,057.
    Other DuckDB runs: 19.5 s (CPU 16.6 s) at 1M; 35.1 s (CPU 36.7 s) and, alone on the machine,
    21.5 s (CPU 38.3 s) at 2M.
    Load into PostgreSQL: 1M 129 s (client CPU 28 s, backend 72 s); 2M 358 s (client 58 s, backend
    146 s; database 6.0 GB). Synthesis: 1M 23 s (CPU 17 s), 2M 85 s (CPU 38 s).

    Before that change, 1,000,000 persons (Parquet 222 MB, PostgreSQL database 3.0 GB), load average 13-14:

    synthesise Parquet 52 s (CPU 22 s); load into PostgreSQL 285 s (client CPU 24 s, backend 51 s)
    engine     wall s  CPU s  peak MB  rows fetched  backend CPU s  phases, wall s
    duckdb       80.2   21.3     2815           404              -  open 34.9 cohorts 10.2 outc. 1.6 inc. 33.3
    postgres    735.9    1.4      180           471          197.8  open 30.3 cohorts 121 outc. 28 inc. 556
    copy        526.2  274.5     6379  404 + 39.0 M              -  open 507 cohorts 4.4 outc. 0.5 inc. 14.6

    postgres and copy vs duckdb: identical (counts exact, rates within 1e-9)

    20,000 persons (0.78 M rows): duckdb 4.9 s (CPU 1.4 s, 290 MB); postgres 16.8 s (client CPU 0.8 s,
    180 MB, backend CPU 3.2 s); copy 26.1 s (CPU 5.7 s, 394 MB, 784,349 rows copied); all identical.
    Before ``SET enable_nestloop = off`` in PostgresEngine the postgres run took 727 s at 20,000 persons
    (cohorts 535 s: a 1-row estimate for an intermediate CTE made a window aggregate rescan per row).

    One series on a quieter and faster machine (2026-12-04, 2 cores, nothing else running; about three times
    faster per core than the machine of the figures above; RISKPLAN_SPARK_DRIVER_MEMORY=12g at every size):

    persons  engine     wall s  CPU s      peak MB  rows fetched  backend CPU s  phases, wall s
    1M       duckdb        5.8    9.6         2780           287              -  2.1 / 1.3 / 0.2 / 2.2
    1M       postgres     70.7    0.6          178           354           59.3  5.6 / 21.0 / 5.6 / 38.5
    1M       spark       133.7    1.5  221 + 11,167          294  JVM CPU 246.7  16.0 / 49.7 / 17.7 / 50.2
    2M       duckdb       13.4   23.3         5304           287              -  4.8 / 3.0 / 0.4 / 5.2
    2M       postgres    144.8    0.6          178           354          118.3  10.7 / 40.1 / 10.7 / 83.2
    2M       spark       229.2    1.6  221 + 13,235          294  JVM CPU 426.8  17.6 / 91.8 / 41.7 / 78.1
    4M       duckdb       31.4   59.5       10,370           287              -  17.4 / 5.6 / 0.7 / 7.6
    4M       postgres    317.6    0.8          191           354          256.6  24.3 / 85.2 / 23.0 / 185.2
    4M       spark       336.2    1.5  231 + 13,260          294  JVM CPU 612.5  20.3 / 134.5 / 61.5 / 119.7

    postgres and spark vs duckdb: identical at each size. 4M is 156.1 M CDM rows; cohorts 736,305,
    1,104,432 and 973,040. Synthesis 12.6 / 21.7 / 52.6 s; load into PostgreSQL 49.0 / 88.3 / 205.9 s
    (backend CPU 33.2 / 66.6 / 158.4 s).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ENGINES = ("duckdb", "postgres", "copy", "spark")
ADMIN_URL = os.environ.get("RISKPLAN_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
COMPARATORS = ("rituximab", "azathioprine")
CONCERNS = ("infusion-reaction", "neutropenia", "serious-infections", "pml", "malignancy")
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- measuring processes (Linux /proc) -------------------------------------------------------------


def proc_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a live process (its own, not its children's)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15 of stat(5))


def proc_peak_mb(pid: int | str = "self") -> float | None:
    """Peak resident memory (VmHWM) of a live process, MB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else None


def descendants(pid: int) -> list[int]:
    """Live descendant processes of ``pid`` (e.g. the JVM Spark local mode starts)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    out: list[int] = []
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


# --- loading the CDM into PostgreSQL -----------------------------------------------------------------


def pg_url(base: str, database: str) -> str:
    return re.sub(r"/[^/?]*(\?.*)?$", f"/{database}", base)


def load_into_postgres(folder: Path, admin_url: str) -> tuple[str, dict[str, Any]]:
    """A new database holding the Parquet CDM in schema ``cdm``: its URL and the load's figures."""
    import duckdb
    import psycopg
    from sqlglot import exp

    from riskplan.studies.schema import CDM_TABLES

    database = f"riskplan_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    url = pg_url(admin_url, database)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    rows: dict[str, int] = {}
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    scratch = Path(tempfile.mkdtemp(prefix="riskplan_bench_csv_"))
    try:
        with psycopg.connect(url, autocommit=True) as pg:
            backend = int(pg.info.backend_pid)
            pg.execute("CREATE SCHEMA cdm")
            for table in CDM_TABLES:
                parquet = folder / f"{table}.parquet"
                if not parquet.is_file():
                    continue
                relation = f"read_parquet('{parquet}')"
                described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
                columns = ", ".join(
                    f'"{name}" {exp.DataType.build(str(typ), dialect="duckdb").sql(dialect="postgres")}'
                    for name, typ, *_ in described
                )
                pg.execute(f'CREATE TABLE cdm."{table}" ({columns})')
                csv = scratch / f"{table}.csv"
                con.execute(f"COPY (SELECT * FROM {relation}) TO '{csv}' (FORMAT csv, HEADER false)")
                copy_sql = f'COPY cdm."{table}" FROM STDIN (FORMAT csv)'
                with pg.cursor() as cur, cur.copy(copy_sql) as copy, csv.open("rb") as handle:
                    while block := handle.read(1 << 20):
                        copy.write(block)
                csv.unlink()
                rows[table] = int(pg.execute(f'SELECT count(*) FROM cdm."{table}"').fetchone()[0])  # type: ignore[index]
            pg.execute("ANALYZE")
            backend_cpu = proc_cpu_seconds(backend)
    except BaseException:
        drop_database(admin_url, database)
        raise
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)
    figures = {
        "wall": time.perf_counter() - wall0,
        "cpu": time.process_time() - cpu0,
        "backend_cpu": backend_cpu,
        "rows": rows,
        "database": database,
    }
    return url, figures


def drop_database(admin_url: str, database: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


# --- one engine, in a child process ------------------------------------------------------------------


def run_analyses(engine: str, source: str) -> dict[str, Any]:
    """The 30 incidence analyses on ``source`` with ``engine``: results and figures (in the child)."""
    from riskplan.plan import StudyDrug, load_plan
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
    )
    from riskplan.studies import vocabulary as v
    from riskplan.studies.cdm import load_postgres
    from riskplan.studies.plan_studies import product_drug

    wall0, cpu0 = time.perf_counter(), time.process_time()
    phases: dict[str, float] = {}
    cdm = load_postgres(source) if engine == "copy" else open_cdm(source)
    phases["open"] = time.perf_counter() - wall0
    backend_pid = getattr(cdm.engine, "backend_pid", None)
    plan = load_plan("uplizna")
    studies = plan.analysis.studies.values() if plan.analysis else []
    given = {d.substance.casefold(): d for s in studies for d in s.comparators}
    drugs = [product_drug(plan)] + [given.get(name, StudyDrug(substance=name)) for name in COMPARATORS]
    t = time.perf_counter()
    cohorts = [build_new_user_cohort(cdm, drug_definition(d)) for d in drugs]
    phases["cohorts"] = time.perf_counter() - t
    outcomes: list[OutcomeDefinition] = [outcome_from_concern(plan.concern(cid)) for cid in CONCERNS]
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
    phases["outcomes"] = time.perf_counter() - t
    concomitant = plan_concomitant(plan)
    t = time.perf_counter()
    results: dict[str, list[list[Any]]] = {}
    for cohort in cohorts:
        for ev in events:
            result = incidence(cdm, cohort, ev, concomitant=concomitant)
            results[f"{cohort.name} | {ev.definition.name}"] = [list(r) for r in result.rates.rows]
    phases["incidence"] = time.perf_counter() - t
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    rows_fetched = cdm.engine.rows_fetched
    backend_cpu = proc_cpu_seconds(backend_pid) if backend_pid else None
    kids = descendants(os.getpid())
    copied = sum(cdm.count(t) for t in cdm.tables_present) if engine == "copy" else 0
    cdm.close()
    return {
        "engine": engine,
        "wall": wall,
        "cpu": cpu,
        "phases": phases,
        "peak_mb": proc_peak_mb(),
        "descendants_peak_mb": sum(proc_peak_mb(p) or 0.0 for p in kids),
        "descendants_cpu": sum(proc_cpu_seconds(p) or 0.0 for p in kids),
        "rows_fetched": rows_fetched,
        "rows_copied": copied,
        "backend_cpu": backend_cpu,
        "cohorts": {c.name: c.persons for c in cohorts},
        "results": results,
    }


def run_child(engine: str, source: str) -> dict[str, Any]:
    """``run_analyses`` in a fresh Python process, so that its peak memory is its own."""
    proc = subprocess.run(
        [sys.executable, __file__, "--child", engine, "--source", source],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
        check=False,
    )
    line = next((ln for ln in reversed(proc.stdout.splitlines()) if ln.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        return {"engine": engine, "error": f"exit code {proc.returncode}"}
    figures: dict[str, Any] = json.loads(line[len("RESULT ") :])
    return figures


# --- comparing results -------------------------------------------------------------------------------

EXACT = (3, 4, 5)  # persons, events, person_days
CLOSE = (6, 7, 8, 9)  # person_years, rate, CI limits


def differences(reference: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """Where ``other`` differs from ``reference``: counts exactly, rates beyond a relative 1e-9."""
    out: list[str] = []
    if reference["cohorts"] != other["cohorts"]:
        out.append(f"cohort sizes {other['cohorts']} != {reference['cohorts']}")
    for key, ref_rows in reference["results"].items():
        rows = other["results"].get(key)
        if rows is None or len(rows) != len(ref_rows):
            out.append(f"{key}: {len(rows or [])} strata, expected {len(ref_rows)}")
            continue
        for ref, row in zip(ref_rows, rows, strict=True):
            if row[:3] != ref[:3] or any(int(row[i]) != int(ref[i]) for i in EXACT):
                out.append(f"{key} {ref[1]}={ref[2]}: counts {row[3:6]} != {ref[3:6]}")
            for i in CLOSE:
                a, b = row[i], ref[i]
                if (a is None) != (b is None) or (
                    a is not None and not math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
                ):
                    out.append(f"{key} {ref[1]}={ref[2]} column {i}: {a!r} != {b!r}")
    return out


# --- main --------------------------------------------------------------------------------------------


def parse_engines(text: str) -> list[str]:
    engines = [e.strip() for e in text.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        raise SystemExit(f"--engine: unknown {', '.join(unknown)} (choose from {', '.join(ENGINES)})")
    return engines


def fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--engine", default="duckdb,postgres,copy", help="comma-separated: " + "|".join(ENGINES))
    parser.add_argument("--data", type=Path, default=None, help="CDM Parquet folder to write (kept) or reuse")
    parser.add_argument("--postgres", default=ADMIN_URL, help="PostgreSQL URL allowed to create databases")
    parser.add_argument(
        "--spark-source", default=None, help="source for --engine spark (default spark+local://2?path=DATA)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database (and the Parquet)")
    parser.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(run_analyses(args.child, args.source)), flush=True)
        return

    from riskplan.studies import synthesise_omop

    engines = parse_engines(args.engine)
    folder = args.data or Path(tempfile.mkdtemp(prefix="riskplan_bench_"))
    if not (folder / "person.parquet").is_file():
        wall0, cpu0 = time.perf_counter(), time.process_time()
        summary = synthesise_omop(args.persons, args.seed, folder)
        rows = ", ".join(f"{k} {n:,}" for k, n in summary.rows.items())
        print(
            f"synthesised {args.persons:,} persons in {time.perf_counter() - wall0:.1f} s "
            f"(CPU {time.process_time() - cpu0:.1f} s): {rows}"
        )
    else:
        print(f"reusing {folder}")
    pg_source = None
    database = None
    runs: list[dict[str, Any]] = []
    try:
        if {"postgres", "copy"} & set(engines):
            url, load = load_into_postgres(folder, args.postgres)
            database = load["database"]
            pg_source = f"{url}?schema=cdm"
            total = sum(load["rows"].values())
            print(
                f"loaded {total:,} rows into PostgreSQL database {database} (schema cdm) in {load['wall']:.1f} s "
                f"(client CPU {load['cpu']:.1f} s, backend CPU {fmt(load['backend_cpu'])} s)"
            )
        for engine in engines:
            if engine in ("postgres", "copy"):
                source = str(pg_source)
            elif engine == "spark":
                source = args.spark_source or f"spark+local://2?path={folder.resolve()}"
            else:
                source = str(folder)
            print(f"running {engine} on {source.split('@')[-1]} ...", flush=True)
            runs.append(run_child(engine, source))
            print("  " + json.dumps({k: v for k, v in runs[-1].items() if k not in ("results", "cohorts")}), flush=True)
    finally:
        if database and not args.keep:
            drop_database(args.postgres, database)
        if args.data is None and not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    print(f"\n30 incidence analyses on {args.persons:,} persons (child process per engine)")
    header = (
        f"{'engine':<9}{'wall s':>8}{'CPU s':>8}{'peak MB':>9}{'+desc MB':>9}{'rows fetched':>14}"
        f"{'backend CPU s':>15}  phases (wall s)"
    )
    print(header)
    for run in runs:
        if "error" in run:
            print(f"{run['engine']:<9} failed ({run['error']})")
            continue
        phases = ", ".join(f"{k} {v:.1f}" for k, v in run["phases"].items())
        fetched = f"{run['rows_fetched']:,}" + (f" +{run['rows_copied']:,} copied" if run["rows_copied"] else "")
        print(
            f"{run['engine']:<9}{run['wall']:>8.1f}{run['cpu']:>8.1f}{run['peak_mb']:>9.0f}"
            f"{run['descendants_peak_mb']:>9.0f} {fetched:>13}{fmt(run['backend_cpu']):>15}  {phases}"
        )
    done = [r for r in runs if "error" not in r]
    if done:
        ref = done[0]
        print(f"cohorts: {', '.join(f'{k} {n:,}' for k, n in ref['cohorts'].items())}")
        for run in done[1:]:
            diffs = differences(ref, run)
            verdict = "identical" if not diffs else f"{len(diffs)} differences, e.g. {diffs[0]}"
            print(f"{run['engine']} vs {ref['engine']}: {verdict} (counts exact, rates within 1e-9)")
    if database and args.keep:
        print(f"kept database {database}: {pg_source}")


if __name__ == "__main__":
    main()
