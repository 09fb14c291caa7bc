"""Stored periodic reports: generate a PSUR / PBRER, DSUR or PADER, keep it, list it, regenerate it.

Each generated report is stored (table ``periodic_report``, :mod:`~riskplan.reports.tables`) through the audited
transaction with its data lock point, parameters, input checksum, the audit trail's head at generation, the
HTML and PDF and their SHA-256, who generated it and when (GVP VII.C.4; 21 CFR 11.10(b), (e)).
:func:`regenerate` makes the report again from the stored parameters, the stored plan version (DSUR, PADER)
and the stored audit head (printed on the cover), and compares the SHA-256: the same data lock point gives the
same bytes when nothing known at the DLP has changed (cases received after the DLP are not counted).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from riskplan.errors import NotFoundError, UserInputError
from riskplan.reports.dsur import render_dsur_html
from riskplan.reports.dsur_data import collect_dsur
from riskplan.reports.pader import collect_pader, render_pader_html
from riskplan.reports.plan_summary import html_to_pdf
from riskplan.reports.psur_counts import check_interval
from riskplan.reports.psur_data import collect_psur
from riskplan.reports.psur_render import render_psur_html
from riskplan.reports.tables import PeriodicReportRow
from riskplan.store import audit_head, audited_transaction, record_change, session_scope, utcnow

KINDS: Final = {"psur": "EU", "dsur": "ICH", "pader": "US"}
TITLES: Final = {"psur": "PSUR / PBRER (ICH E2C(R2))", "dsur": "DSUR (ICH E2F)", "pader": "PADER (21 CFR 314.80(c)(2))"}


@dataclass(frozen=True)
class StoredReport:
    """A stored report without its bytes."""

    id: int
    kind: str
    region: str
    plan_name: str
    plan_version: int | None
    period_start: dt.date
    data_lock_point: dt.date
    parameters: dict[str, Any]
    input_checksum: str
    audit_rows: int
    audit_head: str
    html_sha256: str
    pdf_sha256: str | None
    generated_at: dt.datetime
    generated_by: str

    @property
    def stem(self) -> str:
        return f"{self.kind}_{self.plan_name}_{self.period_start}_{self.data_lock_point}"

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        for key in ("period_start", "data_lock_point", "generated_at"):
            d[key] = d[key].isoformat()
        return d


@dataclass(frozen=True)
class _Made:
    html: str
    checksum: str
    plan_version: int | None
    audit_trail: tuple[int, str]


def _make(
    session: Session,
    kind: str,
    plan_name: str,
    start: dt.date,
    end: dt.date,
    parameters: dict[str, Any],
    *,
    plan_version: int | None = None,
    audit_trail: tuple[int, str] | None = None,
    generated_at: dt.datetime | None = None,
) -> _Made:
    """Collect and render one report; ``audit_trail`` given (regeneration): the cover shows that one;
    ``generated_at`` given (regeneration of a PSUR): the stored ``plan_version`` as it stood then."""
    if kind == "psur":
        cdm, exposure = parameters.get("cdm_path"), parameters.get("exposure_path")
        psur = collect_psur(
            session,
            plan_name,
            start,
            end,
            cdm=cdm,
            exposure=Path(exposure) if exposure else None,
            regenerating=None if generated_at is None else (plan_version, generated_at),
        )
        if audit_trail is not None:
            psur = dataclasses.replace(psur, audit_trail=audit_trail)
        return _Made(render_psur_html(psur), psur.checksum, psur.plan_version, psur.audit_trail)
    if kind == "dsur":
        dsur = collect_dsur(session, plan_name, start, end, version=plan_version)
        dsur = dataclasses.replace(dsur, audit_trail=audit_trail or audit_head(session))
        return _Made(render_dsur_html(dsur), dsur.checksum, dsur.plan_version, dsur.audit_trail)
    if kind == "pader":
        pader = collect_pader(session, plan_name, start, end, version=plan_version)
        pader = dataclasses.replace(pader, audit_trail=audit_trail or audit_head(session))
        return _Made(render_pader_html(pader), pader.checksum, pader.plan_version, pader.audit_trail)
    raise UserInputError(f"unknown report kind {kind!r}; one of {', '.join(KINDS)}")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def generate_report(
    engine: Engine,
    kind: str,
    plan_name: str,
    start: dt.date,
    end: dt.date,
    *,
    who: str,
    pdf: bool = True,
    parameters: dict[str, Any] | None = None,
) -> StoredReport:
    """Make the report and store it (one audited transaction); nothing is stored when a section fails."""
    check_interval(start, end)
    params = dict(parameters or {})
    with session_scope(engine) as session:
        made = _make(session, kind, plan_name, start, end, params)
    pdf_bytes = html_to_pdf(made.html) if pdf else None
    return store_generated(
        engine,
        kind,
        plan_name,
        start,
        end,
        html=made.html,
        pdf=pdf_bytes,
        checksum=made.checksum,
        plan_version=made.plan_version,
        audit_trail=made.audit_trail,
        parameters=params,
        who=who,
    )


def store_generated(
    engine: Engine,
    kind: str,
    plan_name: str,
    start: dt.date,
    end: dt.date,
    *,
    html: str,
    pdf: bytes | None,
    checksum: str,
    plan_version: int | None,
    audit_trail: tuple[int, str],
    parameters: dict[str, Any],
    who: str,
) -> StoredReport:
    """Store a report already made (e.g. by ``riskplan report psur``) in one audited transaction."""
    html_bytes = html.encode("utf-8")
    row = PeriodicReportRow(
        kind=kind,
        region=KINDS[kind],
        plan_name=plan_name,
        plan_version=plan_version,
        period_start=start,
        data_lock_point=end,
        parameters_json=json.dumps(parameters | {"pdf": pdf is not None}, sort_keys=True),
        input_checksum=checksum,
        audit_rows=audit_trail[0],
        audit_head=audit_trail[1],
        html=html,
        html_sha256=_sha(html_bytes),
        pdf=pdf,
        pdf_sha256=_sha(pdf) if pdf is not None else None,
        generated_at=utcnow(),
        generated_by=who,
    )
    with audited_transaction(engine) as session:
        session.add(row)
        session.flush()
        record_change(
            session,
            who=who,
            entity_type="periodic_report",
            entity_id=str(row.id),
            action="generate",
            changes={
                "kind": (None, kind),
                "data_lock_point": (None, end.isoformat()),
                "input_checksum": (None, checksum),
                "html_sha256": (None, row.html_sha256),
                "pdf_sha256": (None, row.pdf_sha256),
            },
            reason=f"{TITLES[kind]} {start} to {end}",
        )
        stored = _to_report(row)
    return stored


def _to_report(row: PeriodicReportRow) -> StoredReport:
    generated = row.generated_at if row.generated_at.tzinfo else row.generated_at.replace(tzinfo=dt.UTC)
    return StoredReport(
        row.id,
        row.kind,
        row.region,
        row.plan_name,
        row.plan_version,
        row.period_start,
        row.data_lock_point,
        json.loads(row.parameters_json),
        row.input_checksum,
        row.audit_rows,
        row.audit_head,
        row.html_sha256,
        row.pdf_sha256,
        generated,
        row.generated_by,
    )


def list_reports(session: Session, *, kind: str | None = None, plan_name: str | None = None) -> list[StoredReport]:
    """Stored reports, newest first (without their bytes)."""
    stmt = select(PeriodicReportRow).order_by(PeriodicReportRow.id.desc())
    if kind is not None:
        stmt = stmt.where(PeriodicReportRow.kind == kind)
    if plan_name is not None:
        stmt = stmt.where(PeriodicReportRow.plan_name == plan_name)
    stmt = stmt.options(*_without_bytes())
    return [_to_report(r) for r in session.scalars(stmt)]


def _without_bytes() -> Any:
    from sqlalchemy.orm import defer

    return (defer(PeriodicReportRow.html), defer(PeriodicReportRow.pdf))


def _row(session: Session, report_id: int) -> PeriodicReportRow:
    row = session.get(PeriodicReportRow, report_id)
    if row is None:
        known = session.scalars(select(PeriodicReportRow.id).order_by(PeriodicReportRow.id)).all()
        raise NotFoundError(
            f"no stored periodic report {report_id}; stored: {', '.join(map(str, known)) or 'none'} "
            "(see riskplan report list)"
        )
    return row


def get_report(session: Session, report_id: int) -> StoredReport:
    return _to_report(_row(session, report_id))


def report_bytes(session: Session, report_id: int, fmt: str) -> bytes:
    """The stored ``html`` or ``pdf`` of a report (a user error when the PDF was not made)."""
    row = _row(session, report_id)
    if fmt == "html":
        return row.html.encode("utf-8")
    if fmt == "pdf" and row.pdf is not None:
        return bytes(row.pdf)
    raise UserInputError(f"report {report_id} has no {fmt} (formats: html{', pdf' if row.pdf is not None else ''})")


@dataclass(frozen=True)
class Regenerated:
    report: StoredReport
    html_sha256: str
    pdf_sha256: str | None
    input_checksum: str

    @property
    def identical(self) -> bool:
        return (
            self.html_sha256 == self.report.html_sha256
            and self.pdf_sha256 == self.report.pdf_sha256
            and self.input_checksum == self.report.input_checksum
        )


def regenerate(engine: Engine, report_id: int, *, out: Path | None = None) -> Regenerated:
    """Make stored report ``report_id`` again from its DLP and parameters; optionally write the files to ``out``."""
    with session_scope(engine) as session:
        stored = get_report(session, report_id)
        params = {k: v for k, v in stored.parameters.items() if k != "pdf"}
        made = _make(
            session,
            stored.kind,
            stored.plan_name,
            stored.period_start,
            stored.data_lock_point,
            params,
            plan_version=stored.plan_version,  # the version the report used, not the one in force now
            audit_trail=(stored.audit_rows, stored.audit_head),
            generated_at=stored.generated_at,
        )
    html_bytes = made.html.encode("utf-8")
    pdf_bytes = html_to_pdf(made.html) if stored.parameters.get("pdf", True) else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{stored.stem}.html").write_bytes(html_bytes)
        if pdf_bytes is not None:
            (out / f"{stored.stem}.pdf").write_bytes(pdf_bytes)
    return Regenerated(stored, _sha(html_bytes), _sha(pdf_bytes) if pdf_bytes is not None else None, made.checksum)


def store_written_psur(
    engine: Engine,
    result: Any,
    plan_name: str,
    start: dt.date,
    end: dt.date,
    *,
    cdm: str | Path | None,
    exposure: Path | None,
    who: str,
) -> StoredReport:
    """Store the PSUR ``write_psur`` wrote (its HTML, PDF and metadata JSON: checksum, audit head, plan version)."""
    meta = json.loads(Path(result.metadata).read_text(encoding="utf-8"))
    return store_generated(
        engine,
        "psur",
        plan_name,
        start,
        end,
        html=Path(result.html).read_text(encoding="utf-8"),
        pdf=Path(result.pdf).read_bytes() if result.pdf is not None else None,
        checksum=str(meta["checksum_sha256"]),
        plan_version=meta["plan"]["version"],
        audit_trail=(int(meta["audit_trail"]["rows"]), str(meta["audit_trail"]["head_sha256"])),
        parameters={
            "cdm_path": None if cdm is None else str(cdm),
            "exposure_path": None if exposure is None else str(Path(exposure).resolve()),
        },
        who=who,
    )
