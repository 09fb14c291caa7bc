"""Everything the PSUR shows, read and computed section by section (no rendering), with the SHA-256 checksum of
its inputs (see :mod:`riskplan.reports.psur`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from riskplan.cases import CausalitySummary, causality_by_product
from riskplan.plan import RiskManagementPlan, content_hash, current_plan, list_versions, plan_as_used
from riskplan.reports.psur_counts import CaseCounts, check_interval, count_cases
from riskplan.reports.psur_exposure import (
    NO_EXPOSURE,
    ConcernEvaluation,
    Exposure,
    StudyRate,
    cdm_exposure,
    cdm_study_rates,
    evaluate_concerns,
    exposure_from_rows,
    read_exposure_csv,
)
from riskplan.reports.psur_reporting import ReportingCompliance, collect_reporting_compliance
from riskplan.reports.psur_sections import (
    MinimisationSection,
    PlanChange,
    SignalRecord,
    collect_minimisation,
    collect_signals,
    plan_changes,
    psur_section,
    rsi_changes,
    signals_after_dlp,
)
from riskplan.store import audit_head


@dataclass(frozen=True)
class PsurData:
    """Everything the report shows, with the checksum of its inputs."""

    plan_name: str
    plan: RiskManagementPlan
    plan_version: int | None
    plan_sha256: str
    start: dt.date
    end: dt.date
    counts: CaseCounts
    exposure: Exposure
    study_rates: dict[str, StudyRate]
    study_notes: tuple[str, ...]
    evaluations: tuple[ConcernEvaluation, ...]
    signals_note: str
    signals: tuple[SignalRecord, ...]
    minimisation: MinimisationSection
    plan_changes: tuple[PlanChange, ...]
    rsi_changes: tuple[str, ...]
    rsi_baseline: bool
    parameters: dict[str, Any]
    reporting: ReportingCompliance = field(default_factory=ReportingCompliance)  # appendix 20.4
    checksum: str = field(default="")
    # (rows, head hash) of the audit trail when the report was generated: which state of the tamper-evident
    # trail (21 CFR 11.10(e)) the report was made from; not an input, so not in the checksum
    audit_trail: tuple[int, str] = field(default=(0, ""))

    plan_in_force: str = ""  # which plan version the report used and why (CurrentPlan.describe())
    signals_after_dlp: int = 0  # detected after the DLP: not in this period, said so (section 14, 15, 19)
    causality: CausalitySummary | None = None  # per-pair causality of the interval's cases (appendix 20.5)


def _canonical(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 9)
    return value


def report_checksum(
    parameters: Any, plan_name: str, plan_version: int | None, plan_sha256: str, **sections: Any
) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8) of a periodic report's inputs: its
    parameters, the plan version it used (name, version, content hash) and its counted ``sections``."""
    payload = {
        "parameters": parameters,
        "plan": {"name": plan_name, "version": plan_version, "content_sha256": plan_sha256},
        **sections,
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def input_checksum(data: PsurData) -> str:
    """SHA-256 of the canonical JSON of the counted rows, the plan version's content hash and the parameters."""
    return report_checksum(
        data.parameters,
        data.plan_name,
        data.plan_version,
        data.plan_sha256,
        counts=_canonical(data.counts),
        exposure=_canonical(data.exposure),
        study_rates=_canonical(data.study_rates),
        signals=_canonical(data.signals),
        minimisation=_canonical(data.minimisation),
        plan_changes=_canonical(data.plan_changes),
        reporting=_canonical(data.reporting),
        signals_after_dlp=data.signals_after_dlp,
        causality=None if data.causality is None else _canonical(data.causality.counts),
    )


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)  # SQLite gives naive UTC times


def collect_psur(
    session: Session,
    plan_name: str,
    start: dt.date,
    end: dt.date,
    *,
    cdm: str | Path | None = None,
    exposure: Path | None = None,
    meddra_version: str | None = None,
    regenerating: tuple[int | None, dt.datetime] | None = None,
) -> PsurData:
    """Read and compute everything the report shows (no rendering).

    The exposure table is read and the CDM opened first, so that bad input fails before the counting. A
    section that fails raises (:func:`~riskplan.reports.psur_sections.psur_section`): the report is never
    written with a section missing.

    ``regenerating``: (plan version, generation time) of a stored report made again: the plan version it used
    (not the one in force now) and the plan versions stored by then, so that the same bytes come out.
    """
    check_interval(start, end)
    if regenerating is None:
        in_force = current_plan(session, plan_name)  # the approved version, else the latest stored, else bundled
    else:
        in_force = plan_as_used(session, plan_name, *regenerating)
    plan, version = in_force.plan, in_force.version
    versions = list_versions(session, plan_name) if version is not None else []
    if regenerating is not None:  # the versions stored when the report was made, not those loaded since
        versions = [v for v in versions if _utc(v.loaded_at) <= _utc(regenerating[1])]
    exposure_data = NO_EXPOSURE
    exposure_sha = None
    if exposure is not None:
        rows = read_exposure_csv(Path(exposure))
        exposure_sha = hashlib.sha256(Path(exposure).read_bytes()).hexdigest()
        exposure_data = exposure_from_rows(rows, f"Exposure table supplied by the MAH ({Path(exposure).name}).")
    rates: dict[str, StudyRate] = {}
    study_notes: tuple[str, ...] = ()
    if cdm is not None:
        from riskplan.studies import open_cdm

        with open_cdm(cdm) as opened:
            if exposure is None:
                with psur_section("5.2 (patient exposure from the OMOP CDM)"):
                    exposure_data = cdm_exposure(opened, plan, start, end)
            with psur_section("16.3 (study incidence rates from the OMOP CDM)"):
                rates, study_notes = cdm_study_rates(opened, plan)
    with psur_section("6 (summary tabulations: counting the cases)"):
        counts = count_cases(session, plan, start, end, plan_name=plan_name, meddra_version=meddra_version)
    with psur_section("16.3 and 16.4 (evaluation of the safety concerns)"):
        evaluations = tuple(evaluate_concerns(plan, counts, exposure_data, rates))
    with psur_section("15 (signals)"):
        signals_note, signals = collect_signals(session, start, end)
        late_signals = signals_after_dlp(session, end)
    with psur_section("20.5 (causality of drug-reaction pairs)"):
        # ICH E2C(R2) 3.6 / GVP VII.B.5.6: causality per drug-reaction pair of the product, interval cases
        causality = causality_by_product(
            session, plan.product.active_substance, start, end, plan_name=plan_name, include_synthetic=True, at_dlp=True
        )
    with psur_section("16.5 (effectiveness of risk minimisation)"):
        minimisation = collect_minimisation(plan, start, end, counts, exposure_data)
    with psur_section("3 and 4 (plan and reference safety information changes)"):
        changes = tuple(plan_changes(versions, start, end))
        rsi = tuple(rsi_changes(versions, plan, start))
    with psur_section("20.4 (compliance with expedited reporting)"):
        reporting = collect_reporting_compliance(session, plan_name, start, end)
    data = PsurData(
        plan_name=plan_name,
        plan=plan,
        plan_version=version,
        plan_in_force=in_force.describe(),
        plan_sha256=content_hash(plan),
        start=start,
        end=end,
        counts=counts,
        exposure=exposure_data,
        study_rates=rates,
        study_notes=study_notes,
        evaluations=evaluations,
        signals_note=signals_note,
        signals=signals,
        minimisation=minimisation,
        plan_changes=changes,
        rsi_changes=rsi,
        rsi_baseline=any(v.loaded_at.date() <= start for v in versions),
        reporting=reporting,
        parameters={
            "plan": plan_name,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "cdm": None if cdm is None else Path(str(cdm)).name,
            "exposure_sha256": exposure_sha,
        },
        audit_trail=audit_head(session),
        signals_after_dlp=late_signals,
        causality=causality,
    )
    return dataclasses.replace(data, checksum=input_checksum(data))
