"""Web load benchmark: concurrent case processors entering and following up cases over the JSON API.

``riskplan serve`` runs in a child process against a fresh PostgreSQL database on 127.0.0.1; N clients
(default 50, one login each) enter new cases and send follow-ups of their own cases for a fixed time
(default 60 s), then stop by themselves. Afterwards every acknowledged write is checked in the
database: each acknowledged case stored exactly once, every acknowledged version present, versions
numbered without gaps, and the audit trail complete (one "created" row per case, one "new version" row
per later version, field-level "changed" rows for each follow-up) and one unbroken hash chain (audit verify).
Prints throughput and p50/p95 latency.

The clients log in first (one argon2id verification each, timed and printed apart); the write clock starts
when all are logged in. The CPU time the server, its database backends and the clients spent per
acknowledged write is printed too: on a shared machine throughput follows whatever share of the
processors the run gets, CPU per write does not.

    .venv/bin/python bench/bench_web_load.py [--clients 50] [--seconds 60] [--workers N] [--postgres URL] [--keep]

Figures, 2026-12-04, --clients 50 --seconds 45 --workers 2, this 2-core machine SHARED with other benchmarks
(load average 11-27 during the runs, so throughput and latency are inflated; CPU per write is the figure):

* before (main at b07bba4): 112.5 writes/s, p95 1083 ms intake / 1035 ms follow-up; CPU per acknowledged
  write: server 7.6-8.4 ms, database 2.6-2.9 ms, clients 0.3-0.4 ms (three runs).
* after (the context and permission dependencies async: two thread-pool hand-overs fewer per request; the
  cases API matched first; a pooled connection pinged only after 2 s idle instead of at every checkout; the
  intake's case row inserted straight through the driver): 117.0 writes/s at load average 11.4, p95
  1116 / 1196 ms; server 7.1 ms, database 2.4 ms, clients 0.4 ms. At 20 clients and one worker, A/B in
  alternation: server 6.8 / 7.5 ms before, 6.3 / 6.5 ms with the async dependencies.
* 2026-12-04, a quiet machine about three times faster per core, 5 runs each: with 20 threads per worker
  (the default then) 251-300 writes/s, p95 intake 285-404 ms (median 331 ms); with 6 threads per worker (the
  default now: fewer threads queue less for each process's interpreter lock) 293-365 writes/s (median 314),
  p95 intake 231-349 ms (median 268 ms), follow-up median 278 ms; server 3.6-4.5 ms, database 1.3-1.6 ms CPU per
  write. Target (issue 13) 200 writes/s with p95 < 300 ms: met at the median, 4 runs of 5; the fifth (p50 111,
  p95 349 ms) had the 50 connections split unevenly over the two workers (37 to 13 was seen with `ss`).
* Earlier, on the slower shared machine, the target was not met. Profile (py-spy --gil, write phase): each
  thread-pool hand-over (queue, thread wake-up, loop wake-up) costs about 5 % of the server's time and two
  remain (session check, endpoint); route matching about 7 %; the rest is spread over SQLAlchemy (~13 %),
  psycopg (~20 %), FastAPI's dependency solving and body validation, and riskplan's own checks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from riskplan.cases import CaseRow, CaseVersionRow
from riskplan.store import AuditEvent, make_engine, normalise_url, session_scope, upgrade, verify_chain
from riskplan.web import Auth, Role, WebSettings

POSTGRES = os.environ.get("RISKPLAN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "benchmark password 2026"
REQUEST_TIMEOUT = 30.0
#: Logins (one argon2id verification each) are made before the write clock starts and timed apart: a
#: burst of 50 logins costs 50 password hashes (by design) and says nothing about write throughput.
LOGIN_TIMEOUT = 300.0
STARTUP_TIMEOUT = 300.0


def case_body(wid: str, narrative: str, outcome: str = "2") -> dict[str, Any]:
    """A spontaneous UPLIZNA case with what E2B(R3) needs (as JSON for POST /api/cases)."""
    return {
        "sender_report_id": wid,
        "worldwide_case_id": wid,
        "report_type": "1",
        "created": "20261102120000",
        "first_received": "20261102",
        "most_recent_info": "20261102",
        "primary_sources": [{"country": "GB", "qualification": "1", "primary_for_regulatory_purposes": True}],
        "sender": {"sender_type": "1", "organisation": "Riskplan Bench Pharma"},
        "patient": {"name": "JD", "age": {"value": "67", "unit": "a"}, "sex": "2"},
        "reactions": [
            {
                "id": f"{wid}-r1",
                "verbatim_term": "pneumonia",
                "verbatim_language": "eng",
                "hospitalisation": True,
                "start_date": "20261020",
                "outcome": outcome,
            }
        ],
        "drugs": [
            {
                "id": f"{wid}-d1",
                "role": "1",
                "name": "UPLIZNA",
                "substances": [{"name": "inebilizumab"}],
                "dosages": [{"dose": {"value": "300", "unit": "mg"}, "start_date": "20260301"}],
            }
        ],
        "narrative": narrative,
    }


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    created: set[str] = field(default_factory=set)
    versions: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))


async def login(base: str, username: str) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=LOGIN_TIMEOUT) as http:
        r = await http.post("/api/auth/token", json={"username": username, "password": PASSWORD})
        r.raise_for_status()
        return str(r.json()["access_token"])


class KeepAlive:
    """One keep-alive HTTP/1.1 connection over asyncio streams, for the write loop.

    The clients run on the same two cores as the server: httpx spent about 1.4 ms of CPU per request, this
    a fraction of it. It sends a JSON POST and reads the status line, the headers and a Content-Length body
    (what uvicorn sends for these routes); anything else closes the connection and counts as an error.
    """

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.head = f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        try:
            return await asyncio.wait_for(self._post(path, body), REQUEST_TIMEOUT)
        except BaseException:
            self.close()
            raise

    async def _post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        request = f"POST {path} HTTP/1.1\r\n{self.head}Content-Length: {len(body)}\r\n\r\n".encode() + body
        self.writer.write(request)
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
        if "content-length" not in headers:
            raise ConnectionError(f"no Content-Length in the answer ({status})")
        content = await self.reader.readexactly(int(headers["content-length"]))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, content

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def client(
    n: int, base: str, token: str, until: float, results: Results, rng: random.Random, prefix: str
) -> None:
    address = httpx.URL(base)
    http = KeepAlive(address.host, address.port or 80, token)
    mine: list[str] = []
    i = 0
    try:
        while time.monotonic() < until:
            follow = bool(mine) and rng.random() < 0.5
            if follow:
                wid = rng.choice(mine)
                body = case_body(wid, f"follow-up {i} of client {n}", outcome=rng.choice("0123"))
                kind, url = "follow-up", f"/api/cases/{wid}/follow-ups"
            else:
                wid = f"BENCH-{prefix}{n:03d}-{i:06d}"
                body = case_body(wid, f"initial report {i} of client {n}")
                kind, url = "intake", "/api/cases"
            i += 1
            t0 = time.perf_counter()
            try:
                status, content = await http.post(url, json.dumps(body).encode())
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError) as exc:
                results.errors[f"{kind}: {type(exc).__name__}"] += 1
                continue
            results.latencies[kind].append(time.perf_counter() - t0)
            results.statuses[(kind, status)] += 1
            if status == 201:
                # the acknowledgement: checked against the database afterwards (verify)
                results.versions[wid].add(int(json.loads(content)["version"]))
                if kind == "intake":
                    results.created.add(wid)
                    mine.append(wid)
    finally:
        http.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, folder: Path, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "RISKPLAN_DATABASE_URL": url,
        "RISKPLAN_OUTPUT_DIR": str(folder / "out"),
        "RISKPLAN_CONFIG": str(folder / "none.toml"),
    }
    more = f", workers={workers}" if workers != 1 else ""
    code = f"from riskplan.web.cli import serve; serve(host='127.0.0.1', port={port}{more})"
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    # each worker imports and builds the app: over a minute on a loaded 2-core machine
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
        if proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit(f"the server did not start; see {folder / 'server.log'}")


def verify(url: str, results: Results) -> dict[str, int]:
    """Every acknowledged write is stored exactly once with its audit trail."""
    engine = make_engine(url)
    problems: list[str] = []
    with session_scope(engine) as s:
        cases = {
            wid: (cid, latest)
            for wid, cid, latest in s.execute(
                select(CaseRow.worldwide_id, CaseRow.id, CaseRow.latest_version).where(
                    CaseRow.worldwide_id.like("BENCH-%")
                )
            )
        }
        per_wid = dict(
            s.execute(
                select(CaseRow.worldwide_id, func.count())
                .where(CaseRow.worldwide_id.like("BENCH-%"))
                .group_by(CaseRow.worldwide_id)
            ).all()
        )
        versions: dict[int, list[int]] = defaultdict(list)
        for cid, version in s.execute(select(CaseVersionRow.case_id, CaseVersionRow.version)):
            versions[cid].append(version)
        audit: Counter[tuple[str, str]] = Counter()
        for entity, action in s.execute(
            select(AuditEvent.entity_id, AuditEvent.action).where(AuditEvent.entity_type == "case")
        ):
            audit[(entity, action)] += 1
        total_audit = s.scalar(select(func.count()).select_from(AuditEvent)) or 0
        chain = verify_chain(s)  # what `riskplan audit verify` checks: one unbroken hash chain
    if not chain.intact:
        problems.append(f"audit chain broken: {chain.broken}")
    elif chain.rows != total_audit:
        problems.append(f"audit chain covers {chain.rows} of {total_audit} rows")
    engine.dispose()
    for wid in results.created:
        if per_wid.get(wid) != 1:
            problems.append(f"{wid}: stored {per_wid.get(wid, 0)} times")
    acknowledged_versions = 0
    for wid, acked in results.versions.items():
        acknowledged_versions += len(acked)
        if wid not in cases:
            problems.append(f"{wid}: acknowledged but not stored")
            continue
        cid, latest = cases[wid]
        stored = sorted(versions[cid])
        if stored != list(range(1, latest + 1)):
            problems.append(f"{wid}: versions {stored} (latest {latest})")
        if not acked <= set(stored):
            problems.append(f"{wid}: acknowledged versions {sorted(acked - set(stored))} missing")
        if audit[(wid, "created")] != 1 or audit[(wid, "new version")] != len(stored) - 1:
            problems.append(f"{wid}: audit created={audit[(wid, 'created')]} new version={audit[(wid, 'new version')]}")
        if len(stored) > 1 and audit[(wid, "changed")] < len(stored) - 1:
            problems.append(f"{wid}: {audit[(wid, 'changed')]} field changes for {len(stored) - 1} follow-ups")
    if problems:
        print("PROBLEMS:", *problems[:20], sep="\n  ")
        raise SystemExit(f"{len(problems)} integrity problem(s)")
    return {
        "cases stored": len(cases),
        "versions stored": sum(len(versions[cid]) for cid, _ in cases.values()),
        "acknowledged versions": acknowledged_versions,
        "audit rows": total_audit,
    }


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process (all its threads), from /proc (0 when unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _process_tree(pid: int) -> list[int]:
    found = [pid]
    for child in Path(f"/proc/{pid}/task").glob("*/children"):
        for c in child.read_text().split():
            found += _process_tree(int(c))
    return found


def _backends(database: str) -> list[int]:
    """PostgreSQL backends serving ``database`` (their process title names it)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            title = cmdline.read_bytes().decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {database} " in title:
            pids.append(int(cmdline.parent.name))
    return pids


@dataclass
class CpuUse:
    """CPU seconds spent during the write phase by the server, the database backends and these clients:
    unlike throughput, this does not depend on what else runs on a shared machine."""

    server: float = 0.0
    database: float = 0.0
    clients: float = 0.0
    #: database connections opened while writing: a backend that exits takes its CPU time with it, so
    #: connection churn (a pool smaller than the requests in flight) hides database CPU as well as costing it
    sessions: int = 0


_admin_url = [POSTGRES]


def _sessions(database: str) -> int:
    """Connections ever opened to ``database`` (pg_stat_database.sessions, PostgreSQL 14+; 0 when unknown)."""
    try:
        with psycopg.connect(_admin_url[0], autocommit=True) as conn:
            row = conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s", [database]).fetchone()
    except psycopg.Error:
        return 0
    return int(row[0]) if row and row[0] is not None else 0


def _cpu_snapshot(server_pid: int, database: str) -> dict[str, dict[int, float]]:
    return {
        "server": {p: _cpu_seconds(p) for p in _process_tree(server_pid)},
        "database": {p: _cpu_seconds(p) for p in _backends(database)},
    }


async def drive(
    base: str, users: list[str], clients: int, seconds: float, seed: int, prefix: str, watch: tuple[int, str]
) -> tuple[Results, float, float, CpuUse]:
    """(results, seconds of writing, seconds the logins took before it, CPU used while writing)."""
    results = Results()
    t0 = time.monotonic()
    tokens = await asyncio.gather(*(login(base, users[n % len(users)]) for n in range(clients)))
    start = time.monotonic()
    before, client_before, sessions_before = _cpu_snapshot(*watch), time.process_time(), _sessions(watch[1])
    until = start + seconds
    tasks = [client(n, base, tokens[n], until, results, random.Random(seed + n), prefix) for n in range(clients)]
    # bounded: every request has a timeout, and the whole run a hard deadline
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=seconds + REQUEST_TIMEOUT + 60)
    after = _cpu_snapshot(*watch)
    used = CpuUse(
        *(sum(v - before[k].get(p, 0.0) for p, v in after[k].items()) for k in ("server", "database")),
        time.process_time() - client_before,
        _sessions(watch[1]) - sessions_before,
    )
    return results, time.monotonic() - start, start - t0, used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--postgres", default=POSTGRES, help="admin URL; a fresh database is made and dropped")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--workers", type=int, default=1, help="server processes (riskplan serve --workers)")
    args = parser.parse_args()

    _admin_url[0] = args.postgres
    admin = create_engine(normalise_url(args.postgres), isolation_level="AUTOCOMMIT")
    name = f"riskplan_bench_web_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_url(args.postgres)).set(database=name).render_as_string(hide_password=False)
    proc = None
    try:
        engine = make_engine(url)
        upgrade(engine)
        auth = Auth(engine, WebSettings())
        users = [f"bench-{i:02d}" for i in range(min(args.clients, 10))]
        with session_scope(engine) as s:
            for user in users:
                auth.add_user(s, user, Role.CASE_PROCESSOR, PASSWORD, who="bench")
        engine.dispose()
        with tempfile.TemporaryDirectory(prefix="bench_web_") as tmp:
            proc, base = start_server(url, Path(tmp), args.workers)
            # the plan is stored with the first case; do it once before the timing
            watch = (proc.pid, name)
            warm = asyncio.run(drive(base, users, 1, 0.5, args.seed, "W", watch))[0]
            results, elapsed, logins, cpu = asyncio.run(
                drive(base, users, args.clients, args.seconds, args.seed + 1000, "L", watch)
            )
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
            proc = None
        merged = Results()
        for r in (warm, results):
            merged.created |= r.created
            for wid, v in r.versions.items():
                merged.versions[wid] |= v
        checked = verify(url, merged)
        ok = sum(n for (kind, status), n in results.statuses.items() if status == 201)
        print(
            f"web load: {args.clients} clients, {args.workers} server worker(s), {elapsed:.1f} s, "
            f"PostgreSQL {make_url(url).database}"
        )
        print(f"  logins before the clock: {args.clients} in {logins:.1f} s; load average {os.getloadavg()}")
        print(f"  acknowledged writes: {ok} ({ok / elapsed:.1f}/s)")
        for kind in ("intake", "follow-up"):
            lat = results.latencies.get(kind, [])
            print(
                f"  {kind:9}: {len(lat):6d} requests, p50 {percentile(lat, 0.5) * 1000:7.1f} ms, "
                f"p95 {percentile(lat, 0.95) * 1000:7.1f} ms, mean {statistics.fmean(lat) * 1000 if lat else 0:7.1f} ms"
            )
        print(f"  statuses: {dict(sorted(results.statuses.items()))}")
        per = 1000 / max(ok, 1)
        print(
            f"  CPU per acknowledged write: server {cpu.server * per:.1f} ms, database {cpu.database * per:.1f} ms, "
            f"clients {cpu.clients * per:.1f} ms (server {cpu.server / elapsed:.2f} cores while writing)"
        )
        if cpu.sessions:
            print(
                f"  database connections opened while writing: {cpu.sessions} (their backends' CPU is not counted: "
                "a pool still filling up, or churn: keep RISKPLAN_WEB_THREADS at most RISKPLAN_WEB_DB_POOL_SIZE)"
            )
        if results.errors:
            print(f"  transport errors: {dict(results.errors)}")
        print(
            "  integrity: every acknowledged case stored once, every acknowledged version present, audit complete "
            "and one unbroken hash chain (audit verify)"
        )
        for key, value in checked.items():
            print(f"    {key}: {value}")
    finally:
        if proc is not None:
            proc.kill()
            proc.wait(10)
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
