"""``riskplan report ...`` (periodic reports) and the ``plan summary`` command function.

* ``riskplan report psur --from DATE --to DATE [--plan NAME] [--out DIR] [--cdm PATH] [--exposure FILE]``
  writes the PSUR / PBRER (ICH E2C(R2), GVP Module VII) as HTML, PDF and a metadata JSON.
* :func:`plan_summary` — ``riskplan plan summary [--plan NAME] [--version N] --out FILE.(html|pdf|txt)`` —
  renders the public RMP Part VI summary of a stored plan version (GVP Module V.C.3); the ``plan`` group
  registers it.
* :func:`study_run` — ``riskplan study run STUDY --cdm PATH`` — runs a whole study of the plan and writes
  its report (HTML, PDF) and results (JSON); the ``study`` group registers it (the report is written
  here, above ``studies``).

Bad input (dates, files, unknown plans or versions) exits with code 2 and a message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from riskplan.cli_support import console, current_user
from riskplan.errors import UserInputError
from riskplan.plan import RiskManagementPlan, current_plan, get_version, load_plan, plan_in_force
from riskplan.reports.periodic_cli import dsur, list_command, out_folder, pader, regenerate_command, schedule
from riskplan.reports.plan_summary import SummaryFormat, render_plan_summary
from riskplan.reports.psur import parse_date, write_psur
from riskplan.reports.stored import store_written_psur
from riskplan.reports.study_report import StudyReportFiles, write_study_report
from riskplan.settings import get_settings
from riskplan.store import database, session_scope, user_errors
from riskplan.studies import CdmOption, PlanOption, open_cdm, result_to_dict, run_plan_study

app = typer.Typer(
    help="Periodic reports: PSUR / PBRER (ICH E2C(R2)), DSUR (ICH E2F), PADER (21 CFR 314.80(c)(2)), their schedule.",
    no_args_is_help=True,
)


@app.callback()
def reports() -> None:
    """Periodic reports: the PSUR / PBRER (ICH E2C(R2), GVP Module VII)."""


app.command("dsur")(dsur)
app.command("pader")(pader)
app.command("schedule")(schedule)
app.command("list")(list_command)
app.command("regenerate")(regenerate_command)

_SUFFIXES = {
    ".txt": SummaryFormat.TXT,
    ".html": SummaryFormat.HTML,
    ".htm": SummaryFormat.HTML,
    ".pdf": SummaryFormat.PDF,
}


@app.command("psur")
@user_errors
def psur(
    from_: Annotated[str, typer.Option("--from", help="First day of the reporting interval (YYYY-MM-DD)")],
    to: Annotated[str, typer.Option("--to", help="Data lock point: last day of the interval (YYYY-MM-DD)")],
    plan: Annotated[str | None, typer.Option("--plan", "-p", help="Plan name (default: the configured plan)")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder for the report (default: <output dir>/psur)")
    ] = None,
    cdm: Annotated[
        str | None,
        typer.Option("--cdm", help="OMOP CDM (folder, DuckDB file or postgresql:// URL) for exposure and study rates"),
    ] = None,
    exposure: Annotated[
        Path | None,
        typer.Option("--exposure", help="Exposure CSV: period,patients,patient_years,source (instead of --cdm)"),
    ] = None,
    no_pdf: Annotated[bool, typer.Option("--no-pdf", help="Write the HTML and metadata only")] = False,
    meddra: Annotated[
        str | None,
        typer.Option("--meddra", help="Reproduce a report made with this MedDRA release (e.g. before an upgrade)"),
    ] = None,
) -> None:
    """Write the PSUR / PBRER for a reporting interval ending at the data lock point."""
    start = parse_date(from_, "--from")
    end = parse_date(to, "--to")
    if end < start:
        raise UserInputError(f"--to ({end}) is before --from ({start}): the data lock point ends the interval")
    if exposure is not None and not exposure.is_file():
        raise UserInputError(f"--exposure: {exposure}: no such file")
    settings = get_settings()
    name = plan or settings.default_plan
    out_dir = out_folder(out or settings.output_dir / "psur")
    who = current_user()
    engine = database()
    result = write_psur(
        engine, name, start, end, out_dir, cdm=cdm, exposure=exposure, pdf=not no_pdf, meddra_version=meddra
    )
    for path in result.paths:
        console.print(f"wrote {path}")
    console.print(f"input checksum (SHA-256): {result.checksum}")
    stored = store_written_psur(engine, result, name, start, end, cdm=cdm, exposure=exposure, who=who)
    console.print(
        f"stored report {stored.id} (riskplan report list, riskplan report regenerate {stored.id})", markup=False
    )


def _summary_plan(plan: str | None, version: int | None) -> tuple[str, RiskManagementPlan]:
    """The plan version to publish: the stored version given, else the current plan; a plan file as given."""
    ref = plan or get_settings().default_plan
    if Path(ref).suffix.lower() in (".yaml", ".yml", ".json"):
        if version is not None:
            raise UserInputError("--version applies to a stored plan, not to a plan file")
        return f"plan file {ref}", load_plan(ref)
    with session_scope(database()) as session:
        if version is not None:
            if version < 1:
                raise UserInputError(f"--version must be 1 or more, not {version}")
            stored = get_version(session, ref, version)
            return f"plan {ref} version {stored.version}", stored.plan
        found = current_plan(session, ref)
    return found.describe() if found.version is None else f"plan {found.describe()}", found.plan


@user_errors
def plan_summary(
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write: .txt, .html or .pdf")],
    plan: Annotated[str | None, typer.Option("--plan", "-p", help="Plan name (default: the configured plan)")] = None,
    version: Annotated[
        int | None, typer.Option("--version", help="Stored version (default: the approved, else the latest)")
    ] = None,
) -> None:
    """Render the public summary of the risk management plan (RMP Part VI) of a stored plan version."""
    kind = _SUFFIXES.get(out.suffix.lower())
    if kind is None:
        raise UserInputError(f"--out: {out.name}: the file must end in .txt, .html or .pdf")
    label, rmp = _summary_plan(plan, version)
    rendered = render_plan_summary(rmp, kind)
    out.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(rendered, bytes):
        out.write_bytes(rendered)
    else:
        out.write_text(rendered, encoding="utf-8")
    console.print(f"wrote {out}: RMP Part VI summary of {label}")


@dataclass(frozen=True)
class StudyRunWritten:
    """What ``riskplan study run`` wrote: the report files, the results (JSON) and the number of analyses."""

    report: StudyReportFiles
    results: Path
    sections: int


@user_errors
def study_run(
    study_id: Annotated[str, typer.Argument(help="Study id of the plan (one with an analysis design)")],
    cdm: CdmOption,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for the report and results (default: <output dir>/studies)")
    ] = None,
    plan: PlanOption = None,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also write the PDF report")] = True,
) -> StudyRunWritten:
    """Run a whole study of the plan in force and write its report (HTML, PDF) and results (JSON)."""
    in_force = plan_in_force(plan)
    rmp = in_force.plan
    if out is None:
        out = get_settings().output_dir / "studies"
    with open_cdm(cdm) as c:
        run = run_plan_study(c, rmp, study_id, plan_label=in_force.describe())
        files = write_study_report(run, out, pdf=pdf)
        results = out / f"{study_id}.json"
        results.write_text(
            json.dumps(
                {
                    "plan": run.plan,
                    "study": study_id,
                    "cdm": run.cdm_source,
                    "notes": list(run.cdm_notes),
                    "sections": [
                        {"kind": s.kind, "title": s.title, "result": _section_json(s.result)} for s in run.sections
                    ],
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
    console.print(f"{run.study.short_name}: {len(run.sections)} analyses", markup=False)
    for path in (files.html, files.pdf, results):
        if path is not None:
            console.print(f"wrote {path}", markup=False)
    return StudyRunWritten(files, results, len(run.sections))


def _section_json(result: Any) -> Any:
    if isinstance(result, tuple):
        return [result_to_dict(r) for r in result]
    return result_to_dict(result)
