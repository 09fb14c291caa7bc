"""Regulatory reporting end to end: N synthetic ICSRs stored by intake into a fresh SQLite database, routed
to three destinations (EU EudraVigilance, US FDA FAERS, UK MHRA), generated as E2B(R3) batches, sent over
AS2 to three local gateways on loopback (profiles eu, fda, ich), acknowledged (ICH ACK per batch, fetched
and recorded) and reconciled (nothing left owed; every report accepted; the compliance table).

The synthetic cases carry the FDA regional elements (``synthesise_cases(fda_regional=True)``), so the
US share passes the FDA pre-check and the FDA gateway's business rules. Batches are split at
``--max-bytes`` (one AS2 message per file, many ICSRs per message).

Prints the time and throughput of each step and the peak RSS of the process (the gateways run in it
too). The target (issue 12): 10,000 ICSRs, the whole run under 120 s on 2 cores, under 1 GB.

    .venv/bin/python bench/bench_submissions.py [--cases 10000] [--max-bytes 3000000]

Measured 2026-12-03 on the shared 2-core machine (load average 15-20, so wall time was ~4x CPU time):
10,000 ICSRs → 7,861 reports (EU 4,618, UK 1,973, US 1,270), 40 files of at most 10 MB, all accepted.
CPU seconds (all threads, gateways included): route 6.1, generate 43.6, send 34.9, ack 20.0,
reconcile 6.3 (route → reconcile 110.9 s of CPU; synthesis 5.6 and intake 8.2 more); peak RSS 957 MB.
Again on the idle machine (load average 0.4), same data: route 3.2 s, generate 34.0 s, send 39.8 s,
ack 9.7 s, reconcile 4.0 s: route → reconcile 90.8 s, whole run 101.3 s; peak RSS 971 MB.
Again on the shared machine (load average 16) with the EU rules and the derived FDA elements: 7,798 reports
sent and accepted, 63 clinical-trial SUSARs refused for EVHUMAN (EU.N2a.1) and still owed; CPU seconds:
route 5.4, generate 45.1, send 61.4, ack 12.6, reconcile 5.9 (route → reconcile 130.4 s of CPU, 528.8 s
wall); peak RSS 1,075 MB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import socket
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import uvicorn

from riskplan.cases import batches, get_schema, intake, intake_context, synthesise_cases
from riskplan.settings import GatewayConnection
from riskplan.store import make_engine, session_scope, upgrade
from riskplan.submissions import (
    As2Channel,
    Gateway,
    as2_channel,
    compliance,
    create_app,
    destination_in_force,
    fetch_and_record_ack,
    generate,
    list_submissions,
    owed_now,
    prepare_gateway,
    send_batch,
)

T = TypeVar("T")
DESTINATIONS = {"EU": "eu", "US": "fda", "UK": "ich"}  # destination → profile of its gateway
timings: list[tuple[str, float, int, str]] = []


def step(name: str, unit: str, work: Callable[[], T], count: Callable[[T], int]) -> T:
    start, cpu = time.perf_counter(), time.process_time()
    result = work()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    timings.append((name, seconds, count(result), unit))
    print(
        f"{name:10s} {seconds:7.1f} s  {count(result):7,d} {unit:9s} {count(result) / seconds:9,.0f} {unit}/s"
        f"   (CPU {cpu:6.1f} s, all threads)"
    )
    return result


def serve(gateway: Gateway) -> tuple[uvicorn.Server, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(gateway), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server, f"http://127.0.0.1:{port}/as2"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000)
    # the peak memory follows the size of one AS2 message (signed, encrypted, parsed and schema-validated by
    # the gateway in this process), not the number of reports: 2,500 cases, same CPU, 855 MB with 10 MB files
    # and 511 MB with 3 MB files (2026-12-03)
    parser.add_argument("--max-bytes", type=int, default=3_000_000, help="largest batch file (one AS2 message)")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="bench-submissions-"))
    engine = make_engine(f"sqlite:///{folder / 'riskplan.db'}")
    upgrade(engine)
    get_schema()
    now = dt.datetime.now(dt.UTC)
    cases = step(
        "synthesise",
        "ICSRs",
        lambda: synthesise_cases(
            args.cases,
            seed=args.seed,
            duplicate_share=0,
            invalid_share=0,
            end=now.date() - dt.timedelta(days=10),
            fda_regional=True,
        ),
        len,
    )

    def store() -> int:
        with session_scope(engine) as session:
            context = intake_context(session, "uplizna", "bench")
        for chunk in batches(cases, 1000):
            with session_scope(engine) as session:
                intake(session, chunk, context=context, who="bench", synthetic=True)
        return len(cases)

    step("intake", "ICSRs", store, int)
    cases.clear()  # the stored cases are read back from the database from here on
    gateways: dict[str, Gateway] = {}
    servers: list[uvicorn.Server] = []
    channels: dict[str, As2Channel] = {}
    for code, profile in DESTINATIONS.items():
        gateways[code] = prepare_gateway(folder / f"gateway-{code}", profile=profile)
        server, url = serve(gateways[code])
        servers.append(server)
        channels[code] = as2_channel(code, GatewayConnection(url=url, local_gateway=gateways[code].files.root))

    def route() -> list:  # type: ignore[type-arg]
        with session_scope(engine) as session:
            targets = [destination_in_force(session, code) for code in DESTINATIONS]
            return [targets, owed_now(session, targets)]

    targets, owed = step("route", "reports", route, lambda r: len(r[1]))
    print(f"           reports owed: {dict(Counter(o.destination for o in owed))}")

    # EU ICSR IG (EMA/51938/2013) Table 35 note 2 a): a clinical-trial SUSAR is not accepted by EVPM (EVHUMAN);
    # it stays owed with the rule's text (riskplan has no EVCTM destination), so it is counted, not sent
    susar_refusals: list[object] = []

    def generate_all() -> list[tuple[str, str, int]]:
        files: list[tuple[str, str, int]] = []
        with session_scope(engine) as session:
            for target in targets:
                made = generate(  # the bench's cases are synthetic: sent on purpose, batches marked SYNTHETIC
                    session,
                    target,
                    owed,
                    sender_id="RISKPLAN",
                    who="bench",
                    now=now,
                    max_bytes=args.max_bytes,
                    allow_synthetic=True,
                    receiver_ids={"UK": "MHRA-BENCH-LOCAL"},  # the MHRA's N.1.4 is a required setting (none shipped)
                )
                if made is not None:
                    other = [r for r in made.refused if not r.reasons[0].startswith("EU EU.N2a.1")]
                    assert not other, other[:3]
                    susar_refusals.extend(r.obligation for r in made.refused if r not in other)
                    files += [(target.destination.code, b, n) for b, n in made.files]
        return files

    files = step("generate", "reports", generate_all, lambda f: sum(n for _, _, n in f))
    print(f"           {len(files)} batch files (one AS2 message each)")
    print(f"           clinical-trial SUSARs refused for EVHUMAN (EU.N2a.1), still owed: {len(susar_refusals)}")
    by_code = {t.destination.code: t.destination for t in targets}

    def send_all() -> list[tuple[str, str]]:
        sent = []
        for code, batch_id, _ in files:
            outcome = send_batch(engine, batch_id, by_code[code], channels[code], who="bench", now=now)
            assert outcome.delivered, outcome
            sent.append((code, outcome.message_id))
        return sent

    sent = step("send", "reports", send_all, lambda _: sum(n for _, _, n in files))

    def ack_all() -> int:
        accepted = 0
        for code, message_id in sent:
            outcome = fetch_and_record_ack(engine, channels[code], message_id, who="bench", wait=300)
            assert outcome is not None and not outcome.rejected, outcome and outcome.rejected[:3]
            accepted += len(outcome.accepted)
        return accepted

    step("ack", "reports", ack_all, int)

    def reconcile() -> int:
        with session_scope(engine) as session:
            left = owed_now(session, targets)
            states = Counter(s.state for s in list_submissions(session))
            report = compliance(session, now.date() - dt.timedelta(days=800), now.date(), now.date(), left)
        assert len(left) == len(susar_refusals) and set(states) == {"accepted"}, (len(left), states)
        print(f"           states: {dict(states)}; compliance lines: {len(report.months)}")
        return sum(states.values())

    step("reconcile", "reports", reconcile, int)
    for server in servers:
        server.should_exit = True
    total = time.perf_counter() - started
    loop = sum(s for name, s, _, _ in timings if name in ("route", "generate", "send", "ack", "reconcile"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"route → reconcile: {loop:.1f} s; whole run (with synthesis and intake): {total:.1f} s")
    print(f"peak RSS {peak:,.0f} MB (the process, with the three gateways in it)")


if __name__ == "__main__":
    main()
