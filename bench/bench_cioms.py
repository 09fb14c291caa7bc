"""CIOMS I benchmark: PDF forms of many stored cases, read, drafted and drawn (reports.cioms_pdf; WeasyPrint
with ``--weasyprint``, the HTML route the direct writer replaced, for comparison on the same machine state).

Synthetic cases (``riskplan synth cases``) are stored through the normal intake into a temporary SQLite
database (not timed); then every case's CIOMS I form is made as ``riskplan case cioms`` makes it (case
version and recorded causality read, narrative drafted when none is stored, HTML rendered, PDF written), in
a process pool. Prints forms per second, the median wall and CPU time per form (and the CPU of the PDF
rendering alone), and the time 10,000 forms would take at that rate and on 2 otherwise idle cores (CPU time:
fair on a shared machine). Target: 10,000 forms in under 5 minutes on 2 cores.

    .venv/bin/python bench/bench_cioms.py [--forms 500] [--workers 2] [--db PATH] [--keep] [--weasyprint]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from sqlalchemy import select

from riskplan.cases import CaseRow, batches, intake, intake_context, synthesise_cases
from riskplan.reports import case_cioms_form, render_cioms_pdf
from riskplan.reports.cioms import render_cioms_pdf_html
from riskplan.store import make_engine, session_scope, upgrade

TARGET_FORMS = 10_000
TARGET_SECONDS = 300.0


def _store(url: str, count: int) -> list[str]:
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        ctx = intake_context(session, "uplizna", "bench")
        for batch in batches(synthesise_cases(count, seed=11), 500):
            intake(session, batch, context=ctx, who="bench", synthetic=True)
    with session_scope(engine) as session:
        ids = [f"RP{i:07d}" for i in session.scalars(select(CaseRow.id).order_by(CaseRow.id))]
    engine.dispose()
    return ids


def _render(args: tuple[str, list[str], str, bool]) -> list[tuple[float, float, float]]:
    """(wall, CPU, CPU of the PDF alone) seconds of each form made in this process."""
    url, refs, out, weasyprint = args
    render = render_cioms_pdf_html if weasyprint else render_cioms_pdf
    engine = make_engine(url)
    times = []
    for ref in refs:
        started, cpu = time.perf_counter(), time.process_time()
        with session_scope(engine) as session:
            form = case_cioms_form(session, ref)
        read = time.process_time()
        (Path(out) / f"{ref}.pdf").write_bytes(render(form))
        done = time.process_time()
        times.append((time.perf_counter() - started, done - cpu, done - read))
    engine.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--forms", type=int, default=500, help="number of cases / forms (default 500)")
    parser.add_argument("--workers", type=int, default=2, help="processes rendering forms (default 2)")
    parser.add_argument("--db", type=Path, help="SQLite file to use (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder with the PDFs")
    parser.add_argument("--weasyprint", action="store_true", help="render through WeasyPrint (HTML), for comparison")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench_cioms_"))
    db = args.db or folder / "bench.db"
    url = f"sqlite:///{db}"
    started = time.perf_counter()
    refs = _store(url, args.forms)
    print(f"stored {len(refs)} synthetic cases in {time.perf_counter() - started:.1f} s (setup, not timed)")
    chunks = [refs[i :: args.workers] for i in range(args.workers)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        measured = [
            t for times in pool.map(_render, [(url, c, str(folder), args.weasyprint) for c in chunks]) for t in times
        ]
    per_form = [wall for wall, _, _ in measured]
    cpu_form = [cpu for _, cpu, _ in measured]
    pdf_cpu = [pdf for _, _, pdf in measured]
    elapsed = time.perf_counter() - started
    rate = len(per_form) / elapsed
    projected = TARGET_FORMS / rate
    pdf_bytes = sum(p.stat().st_size for p in folder.glob("RP*.pdf"))
    how = "WeasyPrint (HTML)" if args.weasyprint else "drawn directly (pydyf)"
    print(f"renderer: {how}")
    print(f"{len(per_form)} CIOMS I forms in {elapsed:.1f} s with {args.workers} process(es): {rate:.1f} forms/s")
    mean_kib = pdf_bytes / max(len(per_form), 1) / 1024
    median_ms, max_ms = statistics.median(per_form) * 1000, max(per_form) * 1000
    print(f"per form (in one process): median {median_ms:.0f} ms, max {max_ms:.0f} ms; mean PDF {mean_kib:.0f} KiB")
    # CPU seconds do not depend on how busy the machine is: what 2 otherwise idle cores would take
    cpu_projected = TARGET_FORMS * statistics.median(cpu_form) / args.workers
    print(
        f"CPU per form: median {statistics.median(cpu_form) * 1000:.0f} ms (PDF rendering "
        f"{statistics.median(pdf_cpu) * 1000:.0f} ms, the rest reading the case and drafting box 7+13) -> "
        f"{TARGET_FORMS:,} forms on {args.workers} idle core(s): about {cpu_projected:.0f} s "
        f"({'within' if cpu_projected <= TARGET_SECONDS else 'OVER'} the {TARGET_SECONDS:.0f} s target)"
    )
    verdict = "within" if projected <= TARGET_SECONDS else "OVER"
    print(
        f"extrapolated: {TARGET_FORMS:,} forms in {projected:.0f} s at this rate "
        f"({verdict} the {TARGET_SECONDS:.0f} s target)"
    )
    if not args.keep:
        for path in folder.glob("*"):
            path.unlink()
        folder.rmdir()
    else:
        print(f"kept {folder}")


if __name__ == "__main__":
    main()
