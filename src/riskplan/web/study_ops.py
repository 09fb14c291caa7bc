"""Studies of the plan run from the web application, and their reports kept in the database.

A study reads an OMOP CDM from a folder or DuckDB file under one of the configured CDM folders
(``RISKPLAN_WEB_CDM_ROOTS``); the server never opens paths outside them. Each run stores its report
(HTML, optionally PDF) and results (JSON) as rows, so any server of the same database can serve them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from riskplan.errors import NotFoundError, UserInputError
from riskplan.plan import PharmacovigilanceStudy, current_plan
from riskplan.store import record_change
from riskplan.web.config import cdm_roots
from riskplan.web.context import WebContext
from riskplan.web.tables import WebReportFile, WebStudyRun

MEDIA_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf", "json": "application/json"}


@dataclass(frozen=True)
class StudyInfo:
    id: str
    short_name: str
    title: str
    category: str
    safety_concerns: tuple[str, ...]
    runnable: bool


@dataclass(frozen=True)
class RunInfo:
    id: int
    plan_name: str
    study_id: str
    cdm_source: str
    started_at: dt.datetime
    finished_at: dt.datetime
    run_by: str
    sections: int
    formats: tuple[str, ...]


def plan_studies(session: Session, plan_name: str) -> list[StudyInfo]:
    from riskplan.studies import runnable

    plan = current_plan(session, plan_name).plan
    return [_info(s, runnable(plan, s)) for s in plan.studies]


def _info(study: PharmacovigilanceStudy, runnable: bool) -> StudyInfo:
    return StudyInfo(
        study.id, study.short_name, study.title, str(study.category.value), tuple(study.safety_concerns), runnable
    )


def resolve_cdm(ctx: WebContext, given: str) -> Path:
    """The CDM folder or DuckDB file ``given`` names, which must lie under a configured CDM folder."""
    text = given.strip()
    if not text or "\x00" in text:
        raise UserInputError("give the CDM folder or DuckDB file to read")
    roots = cdm_roots(ctx.settings, ctx.web)
    candidate = Path(text)
    options = [candidate] if candidate.is_absolute() else [root / candidate for root in roots]
    for option in options:
        resolved = option.resolve()
        if any(resolved == root or resolved.is_relative_to(root) for root in roots) and resolved.exists():
            return resolved
    shown = ", ".join(str(r) for r in roots)
    raise UserInputError(f"{given!r}: no CDM folder or DuckDB file of that name under the CDM folders ({shown})")


def _section_json(result: Any) -> Any:
    from riskplan.studies import result_to_dict

    if isinstance(result, tuple):
        return [result_to_dict(r) for r in result]
    return result_to_dict(result)


def _pdf(html: str) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from weasyprint import HTML  # type: ignore[import-untyped]

        data = HTML(string=html).write_pdf()
    assert isinstance(data, bytes)
    return data


def run_study(
    ctx: WebContext, study_id: str, cdm: str, *, who: str, plan: str | None = None, pdf: bool = False
) -> RunInfo:
    """Run a study of the plan on a CDM and store its report and results."""
    from riskplan.reports import render_study_html
    from riskplan.studies import open_cdm, run_plan_study

    plan_name = plan or ctx.settings.default_plan
    in_force = ctx.read(lambda s: current_plan(s, plan_name))
    rmp = in_force.plan
    if study_id not in {s.id for s in rmp.studies}:
        raise NotFoundError(
            f"plan {plan_name} has no study {study_id!r}; its studies: {', '.join(s.id for s in rmp.studies)}"
        )
    source = resolve_cdm(ctx, cdm)
    started = ctx.now()
    with open_cdm(source) as c:
        run = run_plan_study(c, rmp, study_id, plan_label=in_force.describe())
        html = render_study_html(run, generated=started)
        results = {
            "plan": run.plan,
            "study": study_id,
            "cdm": run.cdm_source,
            "notes": list(run.cdm_notes),
            "sections": [{"kind": s.kind, "title": s.title, "result": _section_json(s.result)} for s in run.sections],
        }
    files = {"html": html.encode("utf-8"), "json": (json.dumps(results, indent=2) + "\n").encode("utf-8")}
    if pdf:
        files["pdf"] = _pdf(html)
    finished = ctx.now()

    def work(session: Session) -> RunInfo:
        return record_run(
            session,
            plan_name=plan_name,
            study_id=study_id,
            cdm_source=str(source),
            started=started,
            finished=finished,
            who=who,
            sections=len(run.sections),
            files=files,
        )

    return ctx.write(work)


def record_run(
    session: Session,
    *,
    plan_name: str,
    study_id: str,
    cdm_source: str,
    started: dt.datetime,
    finished: dt.datetime,
    who: str,
    sections: int,
    files: dict[str, bytes],
) -> RunInfo:
    """Keep a study run and its report files (``html``, ``pdf``, ``json``) in the database, audited: the one
    place the Studies page reads runs from, whoever ran them (the web app or ``riskplan study run``)."""
    row = WebStudyRun(
        plan_name=plan_name,
        study_id=study_id,
        cdm_source=cdm_source,
        started_at=started,
        finished_at=finished,
        run_by=who,
        sections=sections,
    )
    session.add(row)
    session.flush()
    for fmt, content in files.items():
        session.add(
            WebReportFile(
                run_id=row.id,
                format=fmt,
                media_type=MEDIA_TYPES[fmt],
                file_name=f"{study_id}-run{row.id}.{fmt}",
                sha256=hashlib.sha256(content).hexdigest(),
                content=content,
            )
        )
    record_change(
        session,
        who=who,
        entity_type="study run",
        entity_id=str(row.id),
        action="study run",
        changes={"study": (None, study_id), "cdm": (None, cdm_source)},
        at=finished,
    )
    return _run_info(row, tuple(files))


def _run_info(row: WebStudyRun, formats: tuple[str, ...]) -> RunInfo:
    return RunInfo(
        row.id,
        row.plan_name,
        row.study_id,
        row.cdm_source,
        row.started_at,
        row.finished_at,
        row.run_by,
        row.sections,
        formats,
    )


def list_runs(session: Session, study_id: str | None = None) -> list[RunInfo]:
    stmt = select(WebStudyRun).order_by(WebStudyRun.id.desc())
    if study_id is not None:
        stmt = stmt.where(WebStudyRun.study_id == study_id)
    runs = list(session.scalars(stmt))
    formats: dict[int, list[str]] = {}
    if runs:
        for run_id, fmt in session.execute(
            select(WebReportFile.run_id, WebReportFile.format).where(WebReportFile.run_id.in_([r.id for r in runs]))
        ):
            formats.setdefault(run_id, []).append(fmt)
    return [_run_info(r, tuple(sorted(formats.get(r.id, [])))) for r in runs]


def get_run(session: Session, run_id: int) -> RunInfo:
    row = session.get(WebStudyRun, run_id)
    if row is None:
        raise NotFoundError(f"no study run {run_id}")
    fmts = tuple(sorted(session.scalars(select(WebReportFile.format).where(WebReportFile.run_id == run_id))))
    return _run_info(row, fmts)


@dataclass(frozen=True)
class ReportFile:
    file_name: str
    media_type: str
    content: bytes


def report_file(session: Session, run_id: int, fmt: str) -> ReportFile:
    row = session.scalars(
        select(WebReportFile).where(WebReportFile.run_id == run_id, WebReportFile.format == fmt)
    ).first()
    if row is None:
        raise NotFoundError(f"study run {run_id} has no {fmt} report")
    return ReportFile(row.file_name, row.media_type, row.content)
