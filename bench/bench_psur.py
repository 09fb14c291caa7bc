"""PSUR benchmark: the PBRER (HTML and PDF) with all its tabulations over a case store of 1 million cases, on
SQLite or PostgreSQL (``--postgres``: a database of its own on 127.0.0.1, dropped afterwards).

The cases are generated fast by bulk-inserting the stored rows directly with SQLAlchemy Core (case,
version, reaction and concern rows, 5% with a follow-up version, 3% invalid; clinical trial cases with a
suspect drug row: UPLIZNA, placebo, or blinded), not through intake: the report reads only these rows. Every
reaction is tabulated (6.3: serious and non-serious by post-marketing source; 6.2: serious trial events by
treatment arm). Not covered: the causality appendix (20.5) reads each interval case's ICSR in Python
(``riskplan.cases.causality_by_product``); the bench's drug rows do not name the active substance, so it
finds no pair here. The ICSR JSON of each version is the compact part the report reads (C.1.1,
C.1.3, C.1.4, C.1.5, C.5); ``--json-bytes N`` pads it with a narrative to N bytes to time realistic
documents (the synthetic ICSRs of ``riskplan synth cases`` are about 7 KB).

The report runs in a fresh process so that its peak memory (VmHWM) is its own. Target: under 60 s.

    .venv/bin/python bench/bench_psur.py [--cases 1000000] [--json-bytes 0] [--db PATH | --postgres [--pg-name N]]
        [--keep]

Measured 2026-12-03 on PostgreSQL, 2-core machine once quiet (load average 2): 100k cases, same data, same
report (identical HTML and checksum): before 29.4 s (20.7 s CPU in the report process; collect 22.0 s), after
reading only the cases that can fall due in the interval for appendix 20.4: 15.4 s (11.8 s CPU; collect 7.9 s,
html 0.7 s, pdf 6.8 s). 10k cases: 7.5 s (collect 0.6 s, html 0.6 s, pdf 6.2 s): the PDF (about 270 KB, its
HTML 240-260 KB) does not grow with the cases.

Measured 2026-12-04 on PostgreSQL 15, the 2 cores SHARED with other helpers (load average 11-17 throughout, so wall
times are 3-10x the CPU; compare the CPU figures). The collect step is where the cases count: sections 6.2 and 6.3
were already GROUP BY in SQL (0.4 s CPU at 100k, the rest PostgreSQL time); appendix 20.4 (compliance) decides in
Python what each case that can fall due in the interval owes (about 37% of the cases: JSON read, ICSR validated,
four destinations' rules) and was 90% of the collect CPU. Changes: the owing cases' versions and the sent
submissions read in one statement (ids as one array; 500-id chunks each scanned the table at 1M), each combination
of destination and what the rules read of a version decided once, ANALYZE after the bulk load. Same input checksum
and HTML SHA-256 before and after at 10k (af54b346..., d432f8c5...) and 100k (e5293861..., 11b9db91...). 100k:
collect 41.1 s -> 18.3 s wall, 7.0 s -> 5.2 s CPU; total 135.8 s -> 54.3 s wall (20.6 s -> 17.1 s CPU; the before
run without ANALYZE). 1M (1,050,305 versions, 1,627,568 reactions): 415.6 s wall, 74.8 s CPU in the report process
(collect 362.7 s wall / 59.4 s CPU, html 6.0 s / 1.2 s, pdf 46.9 s / 14.3 s); peak RSS 1,246 MiB; input checksum
bd1cc156..., HTML SHA-256 670bc071..., both the same as the code before on the same database (after ANALYZE): 620.2
s wall, 95.2 s CPU (collect 555.4 s / 80.8 s CPU). Before ANALYZE the code before did not finish in 10 minutes
(each 500-id chunk a parallel scan of the versions and a sort of every case, 2.4 s). The target (under 60 s) is NOT
met: even the report's CPU alone is 75 s, about 50 s of it (estimated from the 100k breakdown) appendix 20.4 (370k
ICSRs validated and decided); meeting it needs the fields the reporting rules read (occurrence country, literature,
report type, nullification) stored per version so that 20.4 can be counted in SQL.

Measured 2026-12-04 after cases_0013, same conditions (2 cores SHARED, load average 6-12; compare CPU). What the
reporting rules read of each version (occurrence country, kind of report, nullification, each reaction's PT,
verbatim and seriousness) is stored beside its ICSR (riskplan.cases.rule_facts; the migration backfills it from
the ICSRs: on the 1M database 288.6 s wall / 56.9 s CPU, peak RSS 126 MiB, then VACUUM ANALYZE 11 s), so 20.4 reads
no ICSR (only the follow-ups of cases already reported, for their significance); cases that read alike to the rules
(same versions, receipts, rule inputs, last version sent) are decided once per destination, and only the reports
due in the compliance window are kept. Same input checksum and HTML SHA-256 as the code before on the same
databases: 10k (no PDF) a4fd1b54... / ccd3360b..., 1.6-1.7 s CPU before and after; 100k (no PDF) 6400699a... /
c46a15f1..., report CPU 6.9 s -> 4.5 s (collect 5.8 s -> 3.5 s). 1M (pbrer_1m above, migrated): 148.7 s wall,
46.1 s CPU in the report process (collect 97.4 s / 33.6 s CPU, html 1.7 s / 0.7 s, pdf 49.6 s / 11.7 s); peak RSS
982 MiB; checksum bd1cc156..., HTML 670bc071..., identical. With the columns but before deciding alike cases once:
353.4 s wall, 61.4 s CPU (collect 47.4 s CPU). Last run (Core rows for the 20.4 reads, latest version looked up
once; tests running beside it, load 12): 231.0 s wall, 43.7 s CPU (collect 196.8 s / 32.9 s CPU, html 4.8 s /
0.9 s, pdf 29.5 s / 9.9 s), peak RSS 937 MiB, same checksum and HTML (was 74.8 s CPU, 1,246 MiB). The target
(under 60 s wall) is still NOT met on this shared machine; the report's own CPU is 44-46 s, of which the PDF is
10-12 s and 20.4 still most of the collect (the per-case Python that remains: reading each owing case's versions,
the due-window scan of every version, the compliance count over the 729k reports due in the window, all late here
since the bench sends nothing).

Quiet machine, 2026-12-04 02:17 (load average 2.6, nothing else running), the same 1M database (`--pg-name
pbrer_1m`): 67.2 s wall, 48.6 s CPU in the report process (collect 55.3 s wall / 37.0 s CPU, html 0.7 s, pdf
11.1 s); peak RSS 937 MiB; checksum bd1cc156..., HTML SHA-256 670bc071... (identical). Target < 60 s: NOT met
by 7.2 s. Next: appendix 20.4 as counts per destination and month in SQL (it still builds one object per
report due in the window: 729k here, all late because the bench sends nothing).

Measured 2026-12-04 after appendix 20.4 became counts (``riskplan.submissions.compliance_counts``), the 2 cores
SHARED (load average 10-19 throughout: wall times inflated, compare the CPU). 20.4 no longer lists the reports: the
cases with one version and no submission anywhere (95% here) are read as one GROUP BY over what the rules read of
their version (7,456 rows at 1M, with the number of cases each), each row decided once by the same rules
(``obligation_for``) and its count added to its destination and due date; the others (follow-ups, cases sent or in
progress somewhere, versions without stored rule facts: 50,305 at 1M) go through ``owed_now`` case by case as
before. No Obligation, LateReport or per-case VersionView for the grouped cases, no read of every version for the
due window. New 1M database (``--pg-name pbrer_1m_psur20``, 1,050,305 versions), before -> after on it: 246.6 s ->
301.7 s wall (load), 74.0 s -> 34.7 s CPU in the report process (collect 190.4 s / 51.6 s CPU -> 136.5 s / 10.7 s
CPU; html 1.5-1.6 s CPU; pdf 20.9 s -> 22.5 s CPU, unchanged code: the load inflates CPU too), peak RSS 938 MiB ->
406 MiB; PostgreSQL backends (user+sys, polled from /proc, parallel workers may be missed) about 19-23 s in both.
Input checksum 9baf01b6... and HTML SHA-256 0799539b... identical before and after (this database, not pbrer_1m
above). 100k (no PDF): 6400699a... / 57e8e802..., identical; report CPU 6.8 s -> 3.5 s (collect 5.2 s -> 1.9 s).
10k (no PDF): a4fd1b54... / 10e4640c..., identical; 2.5 s -> 2.3 s CPU (collect 0.9 s -> 0.7 s). On the quiet
machine the collect CPU was 37.0 s of 67.2 s wall: expect about 30 s less (to be measured quietly). The PDF
(about 11 s quiet) is about half WeasyPrint's automatic table layout (min/max content widths of every cell of
the four 144-row tabulations): ``table-layout: fixed`` would cut it but changes the layout, so not done.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, Table, func, select

from riskplan.cases import (
    CaseConcernRow,
    CaseDrugRow,
    CaseReactionRow,
    CaseRow,
    CaseVersionRow,
    Icsr,
    intake_context,
    rule_facts,
)
from riskplan.plan import load_plan
from riskplan.store import make_engine, session_scope, upgrade

START = dt.date(2025, 1, 1)
DAYS = 730  # cases first received over two years
INTERVAL = (dt.date(2026, 1, 1), dt.date(2026, 6, 30))
CHUNK = 100_000
CONCERNS = (
    "infusion-reaction",
    "neutropenia",
    "serious-infections",
    "pml",
    "malignancy",
    "blood-disorders",
    "safety-in-patients-65-years",
    "use-during-pregnancy-and-lactation",
    "patients-concomitantly-receiving-other-immunosuppressive-agents",
)
CONCERN_SHARE = (0.12, 0.03, 0.10, 0.001, 0.01, 0.002, 0.08, 0.02, 0.25)


def _terms() -> list[tuple[str, str]]:
    text = (resources.files("riskplan.terms") / "data" / "open_terms.csv").read_text(encoding="utf-8")
    return sorted({(r["pt_name"], r["soc_name"]) for r in csv.DictReader(text.splitlines())})


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _icsr_json(
    wid: str, report_type: str, study_type: str | None, first: str, latest: str, pad: int, blinded: bool = False
) -> str:
    doc: dict[str, Any] = {
        "sender_report_id": wid,
        "report_type": report_type,
        "first_received": first.replace("-", ""),
        "most_recent_info": latest.replace("-", ""),
        "worldwide_case_id": wid,
        "study": None if study_type is None else {"study_type": study_type},
    }
    if blinded:
        doc["drugs"] = [{"role": "1", "name": "UPLIZNA", "blinded": True}]
    text = json.dumps(doc, separators=(",", ":"))
    if pad > len(text):
        doc["narrative"] = "x" * (pad - len(text) - 14)
        text = json.dumps(doc, separators=(",", ":"))
    return text


def generate(engine: Engine, cases: int, pad: int, seed: int = 1) -> dict[str, int]:
    """Bulk-insert ``cases`` cases with their versions, reactions and concern links."""
    rng = np.random.default_rng(seed)
    terms = _terms()
    soc_of = dict(terms)
    pts = [pt for pt, _ in terms]
    with session_scope(engine) as session:
        intake_context(session, "uplizna", "bench")  # stores the plan version
    rsi = load_plan("uplizna").reference_safety_information
    listed = {e.pt.casefold() for e in rsi.expected_reactions} if rsi else set()
    now = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    totals = {"cases": 0, "versions": 0, "reactions": 0, "concern_links": 0, "drugs": 0}
    version_id = 0
    facts: dict[tuple[str, str | None, bool], dict[str, Any]] = {}  # stored as intake stores them (rule_facts)
    for first_id in range(1, cases + 1, CHUNK):
        n = min(CHUNK, cases - first_id + 1)
        ids = np.arange(first_id, first_id + n)
        first_day = rng.integers(0, DAYS, n)
        follow = rng.random(n) < 0.05
        follow_day = first_day + rng.integers(5, 400, n)
        valid = rng.random(n) >= 0.03
        serious = rng.random(n) < 0.15
        kind = rng.choice(4, n, p=(0.80, 0.12, 0.06, 0.02))  # spontaneous, solicited, clinical trial, n/a
        n_reactions = rng.choice((1, 2, 3), n, p=(0.55, 0.35, 0.10))
        pt_index = rng.integers(0, len(pts), (n, 3))
        linked = rng.random((n, len(CONCERNS))) < np.array(CONCERN_SHARE)
        arm = rng.choice(3, n, p=(0.6, 0.2, 0.2))  # trial cases: UPLIZNA, placebo, blinded
        case_rows = []
        drug_rows = []
        version_rows = []
        reaction_rows = []
        concern_rows = []
        for i in range(n):
            cid = int(ids[i])
            wid = f"XX-BENCH-{cid:08d}"
            versions = 2 if follow[i] else 1
            case_rows.append(
                {
                    "id": cid,
                    "worldwide_id": wid,
                    "plan_name": "uplizna",
                    "latest_version": versions,
                    "created_at": now,
                    "created_by": "bench",
                }
            )
            first = (START + dt.timedelta(days=int(first_day[i]))).isoformat()
            report_type, study_type = (("1", None), ("2", "3"), ("2", "1"), ("4", None))[int(kind[i])]
            for version in range(1, versions + 1):
                version_id += 1
                latest = first if version == 1 else (START + dt.timedelta(days=int(follow_day[i]))).isoformat()
                blinded = kind[i] == 2 and arm[i] == 2
                doc = _icsr_json(wid, report_type, study_type, first, latest, pad, blinded=blinded)
                key = (report_type, study_type, blinded)
                if key not in facts:  # what the reporting rules read depends only on these here
                    facts[key] = rule_facts(Icsr.model_validate(json.loads(doc)))
                version_rows.append(
                    {
                        **facts[key],
                        "id": version_id,
                        "case_id": cid,
                        "version": version,
                        "icsr_json": doc,
                        "sender_report_id": wid,
                        "first_received": dt.date.fromisoformat(first),
                        "received": dt.date.fromisoformat(latest),
                        "recorded_at": now,
                        "recorded_by": "bench",
                        "valid": bool(valid[i]),
                        "serious": bool(serious[i]),
                    }
                )
                for seq in range(1, int(n_reactions[i]) + 1):
                    pt = pts[int(pt_index[i, seq - 1])]
                    reaction_rows.append(
                        {
                            "case_version_id": version_id,
                            "seq": seq,
                            "verbatim": pt.lower(),
                            "pt_name": pt,
                            "soc_name": soc_of[pt],
                            "coding_status": "coded",
                            "terminology": "open term list (bench)",
                            "serious": bool(serious[i]) and seq == 1,
                            "listedness": "listed" if pt.casefold() in listed else "unlisted",
                        }
                    )
                if kind[i] == 2:  # clinical trial: the suspect drug of its arm
                    drug_rows.append(
                        {
                            "case_version_id": version_id,
                            "seq": 1,
                            "characterisation": "suspect",
                            "product": "Placebo" if arm[i] == 1 else "UPLIZNA",
                        }
                    )
                for k, concern in enumerate(CONCERNS):
                    if linked[i, k]:
                        concern_rows.append({"case_version_id": version_id, "concern_id": concern, "reasons": "bench"})
        with session_scope(engine) as session:
            connection = session.connection()
            connection.execute(_table(CaseRow).insert(), case_rows)
            connection.execute(_table(CaseVersionRow).insert(), version_rows)
            connection.execute(_table(CaseReactionRow).insert(), reaction_rows)
            if concern_rows:
                connection.execute(_table(CaseConcernRow).insert(), concern_rows)
            if drug_rows:
                connection.execute(_table(CaseDrugRow).insert(), drug_rows)
        totals["cases"] += len(case_rows)
        totals["versions"] += len(version_rows)
        totals["reactions"] += len(reaction_rows)
        totals["concern_links"] += len(concern_rows)
        totals["drugs"] += len(drug_rows)
        print(f"  generated {totals['cases']:,} cases", flush=True)
    return totals


def report(url: str, out: Path, pdf: bool) -> None:
    """Run in a fresh process: the PSUR, then one JSON line with seconds and peak memory."""
    from riskplan.reports import peak_rss_mib, write_psur

    engine = make_engine(url)
    started, cpu = time.perf_counter(), time.process_time()
    result = write_psur(engine, "uplizna", INTERVAL[0], INTERVAL[1], out, pdf=pdf)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    meta = json.loads(result.metadata.read_text(encoding="utf-8"))
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu,
                "peak_rss_mib": peak_rss_mib(),
                "timings": meta["timings"],
                "checksum": result.checksum,
                "html_sha256": hashlib.sha256(result.html.read_bytes()).hexdigest(),
                "html_bytes": result.html.stat().st_size,
                "pdf_bytes": result.pdf.stat().st_size if result.pdf else 0,
            }
        )
    )


PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _create_postgres(name: str) -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def _drop_postgres(name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--json-bytes", type=int, default=0, help="pad each ICSR JSON to this many bytes")
    parser.add_argument("--db", type=Path, help="SQLite file to use (reused when it already holds cases)")
    parser.add_argument("--postgres", action="store_true", help="a PostgreSQL database of its own on 127.0.0.1")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (and the PostgreSQL database)")
    parser.add_argument("--pg-name", help="the PostgreSQL database to use (reused when it already holds cases)")
    parser.add_argument("--no-pdf", action="store_true")
    parser.add_argument("--report-only", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.report_only:
        report(args.report_only, args.out, pdf=not args.no_pdf)
        return

    folder = Path(tempfile.mkdtemp(prefix="bench_psur_"))
    db = args.db or folder / "psur.db"
    url = f"sqlite:///{db}"
    pg_name = args.pg_name or f"bench_psur_{os.getpid()}"
    if args.postgres:
        url = _create_postgres(pg_name)
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        stored = session.scalar(select(func.count()).select_from(CaseRow)) or 0
    if stored == 0:
        print(f"generating {args.cases:,} cases into {url.rsplit('@', 1)[-1]} ...", flush=True)
        t0 = time.perf_counter()
        totals = generate(engine, args.cases, args.json_bytes)
        print(f"generated {totals} in {time.perf_counter() - t0:.1f} s", flush=True)
        if args.postgres:
            # planner statistics, as a store filled by intake over time has them (autovacuum may not have
            # come by yet after a bulk load: without them one read of 500 cases scanned the whole table)
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
    else:
        print(f"reusing {url.rsplit('@', 1)[-1]} with {stored:,} cases", flush=True)
    engine.dispose()

    command = [sys.executable, __file__, "--report-only", url, "--out", str(folder / "out")]
    if args.no_pdf:
        command.append("--no-pdf")
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    if args.postgres and not args.keep:
        _drop_postgres(pg_name)
    if run.returncode != 0:
        print(run.stdout, run.stderr, sep="\n")
        raise SystemExit(run.returncode)
    result = json.loads(run.stdout.strip().splitlines()[-1])
    timings = {k: result["timings"].get(f"{k}_seconds", 0.0) for k in ("collect", "html", "pdf")}
    cpu = {k: result["timings"].get(f"{k}_cpu_seconds", 0.0) for k in ("collect", "html", "pdf")}
    print(
        f"PSUR {INTERVAL[0]} to {INTERVAL[1]} over {args.cases:,} cases: {result['seconds']:.1f} s "
        f"({result['cpu_seconds']:.1f} s CPU in the report process) "
        f"(collect {timings['collect']:.1f} s, html {timings['html']:.1f} s, pdf {timings['pdf']:.1f} s; "
        f"CPU: collect {cpu['collect']:.1f} s, html {cpu['html']:.1f} s, pdf {cpu['pdf']:.1f} s); "
        f"peak RSS {result['peak_rss_mib']:.0f} MiB; "
        f"HTML {result['html_bytes']:,} bytes, PDF {result['pdf_bytes']:,} bytes"
    )
    print(f"input checksum {result['checksum']}; HTML SHA-256 {result['html_sha256']}")
    print(f"target < 60 s: {'met' if result['seconds'] < 60 else 'NOT met'}")
    if not args.keep and args.db is None:
        for path in sorted(folder.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        folder.rmdir()
    else:
        print(f"kept {folder}")


if __name__ == "__main__":
    main()
