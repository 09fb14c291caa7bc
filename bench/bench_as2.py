"""AS2 benchmark: N small E2B(R3) files to the local gateway over loopback.

Prints messages per second (median of the runs) for: sign + encrypt (build_message), the HTTP round trip
with a signed MDN checked (post + read_mdn; the gateway decrypts, verifies and signs), and ICH ACK
generation (schema check + MCCI_IN200101UV01), each measured on its own.

    .venv/bin/python bench/bench_as2.py [--files 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

import uvicorn

from riskplan.cases import export_icsrs, get_schema, synthesise_cases
from riskplan.submissions import (
    As2Partner,
    acknowledge,
    build_message,
    create_app,
    load_key_pair,
    message_key,
    post,
    prepare_gateway,
    read_mdn,
)


def small_files(count: int) -> list[bytes]:
    """One synthetic ICSR per file (a few kB each), schema-valid."""
    icsrs = synthesise_cases(min(count, 200), seed=7, duplicate_share=0, invalid_share=0)
    created = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    base = [
        export_icsrs([icsr], batch_id=f"bench-{i}", sender_id="RISKPLAN", receiver_id="EVHUMAN", created=created)
        for i, icsr in enumerate(icsrs)
    ]
    return [base[i % len(base)].replace(b'"bench-', f'"b{i}-'.encode(), 1) for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    files = small_files(args.files)
    print(f"{len(files)} files, median size {statistics.median(len(f) for f in files):,.0f} bytes")
    get_schema()
    with tempfile.TemporaryDirectory() as folder:
        gateway = prepare_gateway(Path(folder))
        gateway.ack_worker = False  # ACK generation is timed on its own below
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(create_app(gateway), host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        sender = load_key_pair(gateway.files.sender_key, gateway.files.sender_certificate)
        partner = As2Partner(gateway.as2_id, f"http://127.0.0.1:{port}/as2", gateway.own.certificate)
        rates: dict[str, list[float]] = {
            "sign+encrypt": [],
            "HTTP round trip with signed MDN": [],
            "ACK generation": [],
        }
        for _ in range(args.runs):
            start = time.perf_counter()
            messages = [
                build_message(f, filename=f"{i}.xml", own=sender, as2_from="RISKPLAN-SENDER", partner=partner)
                for i, f in enumerate(files)
            ]
            rates["sign+encrypt"].append(len(files) / (time.perf_counter() - start))
            start = time.perf_counter()
            for message in messages:
                headers, body, _ = post(message, partner.url)
                mdn = read_mdn(headers, body, partner.certificate)
                assert mdn.disposition == "processed" and mdn.received_mic == message.mic
            rates["HTTP round trip with signed MDN"].append(len(files) / (time.perf_counter() - start))
            start = time.perf_counter()
            for message in messages:
                gateway.acknowledge_received(message_key(message.message_id))
            rates["ACK generation"].append(len(files) / (time.perf_counter() - start))
            assert acknowledge(files[0], gateway_id="X").batch_code == "AA"
        server.should_exit = True
        thread.join(10)
    for name, values in rates.items():
        shown = ", ".join(f"{v:,.0f}" for v in values)
        print(f"{name:34s} {statistics.median(values):8,.0f} messages/s  (runs: {shown})")


if __name__ == "__main__":
    main()
