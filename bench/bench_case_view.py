"""Case-view benchmark: `riskplan case show` and the web case page for a big case (issue 13).

A case with 50 reactions (some not coded, with suggestions), 20 drugs (each with a dosage and a
relatedness assessment of every reaction it is suspected for), 10 tests and 3 versions is stored; then,
median of runs:

* view: building the view model from the database (:func:`riskplan.cases.case_view.case_view`);
* CLI: the whole `case show` command (view model + rich rendering to a 120-column terminal);
* JSON: `case show --format json`;
* web: GET /cases/RP0000001 through the FastAPI app (TestClient, logged in as a case processor).

    PYTHONPATH=src:tests .venv/bin/python bench/bench_case_view.py [--runs 7] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from riskplan.cases import (
    CaseView,
    Dosage,
    Drug,
    DrugReactionAssessment,
    DrugRole,
    Hl7Timestamp,
    Icsr,
    Outcome,
    Quantity,
    Reaction,
    RelatednessAssessment,
    Substance,
    case_view,
    intake,
    intake_context,
    print_case_view,
)
from riskplan.store import normalise_url, session_scope

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
VERBATIMS = ("pneumonia", "nasopharingitis", "headache", "neutropenia", "infusion related reaction", "pyrexia")


def big_case(reactions: int = 50, drugs: int = 20) -> Icsr:
    from case_factory import make_icsr, neutrophil_test

    rs = tuple(
        Reaction(
            verbatim_term=f"{VERBATIMS[i % len(VERBATIMS)]}" + ("" if i < len(VERBATIMS) else f" episode {i}"),
            verbatim_language="eng",
            hospitalisation=True if i % 5 == 0 else None,
            start_date=Hl7Timestamp(f"202610{1 + i % 28:02d}"),
            outcome=Outcome.RECOVERING,
        )
        for i in range(reactions)
    )
    ds = tuple(
        Drug(
            role=DrugRole.SUSPECT if k < 3 else DrugRole.CONCOMITANT,
            name=f"Product {k:02d}" if k else "UPLIZNA",
            substances=(Substance(name="inebilizumab" if k == 0 else f"substance {k:02d}"),),
            dosages=(
                Dosage(
                    dose=Quantity(value="300", unit="mg"),
                    start_date=Hl7Timestamp("20260301"),
                    route_text="intravenous",
                ),
            ),
            reaction_assessments=tuple(
                DrugReactionAssessment(
                    reaction_id=r.id,
                    assessments=(
                        RelatednessAssessment(source="Reporter", method="Global introspection", result="related"),
                    ),
                )
                for r in rs
            )
            if k < 3
            else (),
        )
        for k in range(drugs)
    )
    tests = tuple(neutrophil_test(f"{0.2 + t / 10:.1f}") for t in range(10))
    return make_icsr(
        "GB-BENCH-2026-000001",
        reactions=rs,
        drugs=ds,
        tests=tests,
        narrative="A long case. " * 200,
    )


def _median(work: Callable[[], Any], runs: int) -> float:
    work()  # warm up (templates compiled, imports done)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        work()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(url: str, runs: int, tmp: Path) -> dict[str, float]:
    from fastapi.testclient import TestClient
    from httpx import Response

    from web_fixtures import make_app, page_session

    w = make_app(url, tmp)
    icsr = big_case()
    with session_scope(w.engine) as session:
        ctx = intake_context(session, "uplizna", "bench")
        intake(session, [icsr], context=ctx, who="bench")
        for n, received in enumerate(("20261105", "20261109"), start=2):
            follow = icsr.model_copy(update={"most_recent_info": Hl7Timestamp(received), "narrative": f"follow-up {n}"})
            intake(session, [follow], context=ctx, who="bench", reason=f"follow-up {n}")

    def view() -> CaseView:
        with session_scope(w.engine) as session:
            return case_view(session, "RP0000001")

    def cli() -> str:
        out = io.StringIO()
        print_case_view(Console(file=out, width=120, force_terminal=False), view())
        return out.getvalue()

    def json_dump() -> str:
        return view().model_dump_json(indent=2)

    client: TestClient = w.client()
    page_session(client, "case_processor")

    def web() -> Response:
        r = client.get("/cases/RP0000001")
        assert r.status_code == 200, r.text[:500]
        return r

    result = {
        "view_ms": 1000 * _median(view, runs),
        "cli_ms": 1000 * _median(cli, runs),
        "json_ms": 1000 * _median(json_dump, runs),
        "web_ms": 1000 * _median(web, runs),
        "cli_lines": float(cli().count("\n")),
        "web_kib": len(web().content) / 1024,
    }
    w.engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = {"sqlite": run(f"sqlite:///{Path(tmp) / 'view.db'}", args.runs, Path(tmp))}
    if not args.skip_postgres:
        name = f"rp_bench_view_{uuid.uuid4().hex[:8]}"
        admin = create_engine(normalise_url(POSTGRES), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(normalise_url(POSTGRES)).set(database=name).render_as_string(hide_password=False)
            with tempfile.TemporaryDirectory() as tmp:
                results["postgresql"] = run(url, args.runs, Path(tmp))
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print("case with 50 reactions, 20 drugs, 10 tests, 3 versions; median of", args.runs, "runs")
    for db, r in results.items():
        print(
            f"{db:10s} view model {r['view_ms']:7.1f} ms   case show (CLI, 120 cols) {r['cli_ms']:7.1f} ms "
            f"({r['cli_lines']:.0f} lines)   --format json {r['json_ms']:6.1f} ms   "
            f"web page {r['web_ms']:7.1f} ms ({r['web_kib']:.0f} KiB)"
        )


if __name__ == "__main__":
    main()
