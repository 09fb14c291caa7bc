"""``riskplan study run``: the studies folder's command, and the run kept in the database too.

``riskplan.reports`` runs the study and writes its report files (HTML, PDF, JSON) into ``--out``;
the reports folder sits below ``web/``, which owns the study-run tables, so the front end wraps that
command here and stores the run with :func:`riskplan.web.study_ops.record_run`: the web app's Studies
page lists every run, from the browser or from the command line, from one place (the database).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from riskplan.cli_support import console, current_user
from riskplan.reports import study_run_command
from riskplan.settings import get_settings
from riskplan.store import database, user_errors, utcnow, write_transaction
from riskplan.studies import CdmOption, PlanOption
from riskplan.web.study_ops import record_run


@user_errors
def study_run(
    study_id: Annotated[str, typer.Argument(help="Study id of the plan (one with an analysis design)")],
    cdm: CdmOption,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for the report and results (default: <output dir>/studies)")
    ] = None,
    plan: PlanOption = None,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also write the PDF report")] = True,
) -> None:
    """Run a whole study of the plan in force and write its report (HTML, PDF) and results (JSON); the run is
    kept in the database as well (the web app's Studies page lists it)."""
    who = current_user()
    started = utcnow()
    written = study_run_command(study_id, cdm, out, plan, pdf)
    finished = utcnow()
    files = {"html": written.report.html.read_bytes(), "json": written.results.read_bytes()}
    if written.report.pdf is not None:
        files["pdf"] = written.report.pdf.read_bytes()
    sections = written.sections
    plan_name = plan or get_settings().default_plan
    if Path(plan_name).suffix:  # a plan file, as plan_in_force reads it
        plan_name = Path(plan_name).stem
    info = write_transaction(
        database(),
        lambda s: record_run(
            s,
            plan_name=plan_name[:80],
            study_id=study_id,
            cdm_source=cdm,
            started=started,
            finished=finished,
            who=who,
            sections=sections,
            files=files,
        ),
        what="the study run",
    )
    console.print(f"stored as study run {info.id} (the web app's Studies page lists it)", markup=False)
