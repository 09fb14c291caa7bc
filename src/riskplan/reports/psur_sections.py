"""PSUR sections fed by other folders: signals (ICH E2C(R2) 3.15-3.16.2, from :mod:`riskplan.signals.workflow`),
the effectiveness of risk minimisation (E2C(R2) 3.16.5, GVP XVI.B.4, from :mod:`riskplan.minimisation`), and
the plan's own history: actions taken and changes to the reference safety information (E2C(R2) 3.3, 3.4).

Each is called directly with its typed records. A failure inside a section is not turned into "not
available" text in a regulatory report: :func:`psur_section` raises :class:`PsurSectionError` naming the
section and the cause, and no report is written. What could not be assessed for lack of data (no concern
definition, no RSI) is stated in the report, from the data.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from riskplan.errors import StepFailedError, UserInputError
from riskplan.minimisation import OutcomeIndicator, outcome_concerns, quarterly_outcomes
from riskplan.plan import PlanPart, PlanVersion, RiskManagementPlan, diff_plans
from riskplan.reports.psur_counts import CaseCounts
from riskplan.reports.psur_exposure import Exposure, ci_text
from riskplan.reports.study_report import fmt
from riskplan.signals import SignalSummary, signals_in_interval
from riskplan.store import is_database_error

# --------------------------------------------------------------------------------------------------
# A section that fails stops the report
# --------------------------------------------------------------------------------------------------


class PsurSectionError(StepFailedError):
    """A section of the PSUR could not be computed from good input; the report is not written."""

    def __init__(self, section: str, cause: Exception) -> None:
        self.section = section
        self.cause = cause
        super().__init__(
            f"PSUR section {section} could not be computed ({cause.__class__.__name__}: {cause}); no report was written"
        )


@contextmanager
def psur_section(name: str) -> Iterator[None]:
    """Compute one section: a user's bad input stays a user error (exit 2) and a database fault stays one
    (its own message and exit code), each naming the section where it is not the database's; any other
    failure becomes a :class:`PsurSectionError` naming the section and the cause."""
    try:
        yield
    except UserInputError as exc:
        raise UserInputError(f"PSUR section {name}: {exc}") from exc
    except Exception as exc:
        if is_database_error(exc):
            raise
        raise PsurSectionError(name, exc) from exc


# --------------------------------------------------------------------------------------------------
# Signals (E2C(R2) 3.15 and Appendix C)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignalRecord:
    """A signal as the PBRER tabulates it (E2C(R2) 3.15 and Appendix C)."""

    id: str
    title: str
    state: str
    detected: dt.date
    closed: dt.date | None
    outcome: str | None
    concern_ids: tuple[str, ...]
    status_in_interval: str


def signal_record(signal: SignalSummary, start: dt.date, end: dt.date) -> SignalRecord:
    """New: detected in the interval; closed: closed in the interval; ongoing: detected before or in the
    interval and not closed by the DLP (E2C(R2) 3.15). A signal detected and closed in the interval is both
    new and closed."""
    status = []
    if start <= signal.detected <= end:
        status.append("new")
    if signal.closed is not None and start <= signal.closed <= end:
        status.append("closed")
    elif signal.closed is None or signal.closed > end:
        status.append("ongoing")
    return SignalRecord(
        id=signal.id,
        title=signal.title,
        state=signal.state,
        detected=signal.detected,
        closed=signal.closed,
        outcome=signal.outcome or None,
        concern_ids=signal.concern_ids,
        status_in_interval=", ".join(status) or "outside the interval",
    )


def collect_signals(session: Session, start: dt.date, end: dt.date) -> tuple[str, tuple[SignalRecord, ...]]:
    """Signals new, ongoing and closed in the interval, from riskplan's signal management records
    (:func:`riskplan.signals.workflow.signals_in_interval`), and the line that introduces them."""
    out = sorted(
        (signal_record(s, start, end) for s in signals_in_interval(session, start, end)),
        key=lambda s: (s.detected, s.id),
    )
    return f"{len(out)} signal(s) from riskplan's signal management records.", tuple(out)


def signals_after_dlp(session: Session, end: dt.date) -> int:
    """Signals detected after the data lock point ``end``: not in this report's period (E2C(R2) 3.14, late-
    breaking information), but counted so that the report does not read as if there were none."""
    return sum(1 for s in signals_in_interval(session, end + dt.timedelta(days=1), dt.date.max) if s.detected > end)


# --------------------------------------------------------------------------------------------------
# Effectiveness of risk minimisation (E2C(R2) 3.16.5, GVP XVI.B.4)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MinimisationSection:
    """The outcome indicators of section 16.5: whether they could be assessed, the note, and the rows."""

    available: bool
    note: str
    headers: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


def _quarter_of(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _quarter_exposure(exposure: Exposure) -> dict[str, float] | None:
    """Patient-years per calendar quarter from exposure rows labelled like ``2025-Q1``."""
    found: dict[str, float] = defaultdict(float)
    for row in exposure.rows:
        label = row.period.strip().upper()
        if len(label) == 7 and label[:4].isdigit() and label[4:6] == "-Q" and label[6] in "1234":
            found[label] += row.patient_years
    return dict(found) or None


def _rate(rate: float | None, lower: float | None, upper: float | None) -> str:
    return "–" if rate is None else ci_text((rate, lower, upper))


def _quarterly_indicator_rows(
    records: Sequence[OutcomeIndicator], plan: RiskManagementPlan, start: dt.date, end: dt.date
) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Each indicator's quarters of the interval, then its figures over the whole interval."""
    first, last = _quarter_of(start), _quarter_of(end)
    titles = {c.id: c.list_title for c in plan.safety_concerns}
    rows = []
    for rec in records:
        title = titles.get(rec.concern_id, rec.concern_id)
        for q in rec.quarters:
            if first <= q.quarter <= last:
                rows.append(
                    (
                        title,
                        q.quarter,
                        fmt(q.cases),
                        fmt(q.patient_years),
                        _rate(q.rate_per_100py, q.ci_lower, q.ci_upper),
                    )
                )
        rows.append(
            (
                title,
                "interval",
                fmt(rec.total_cases),
                fmt(rec.patient_years),
                _rate(rec.rate_per_100py, rec.ci_lower, rec.ci_upper),
            )
        )
    headers = ("Safety concern", "Quarter", "Cases", "Patient-years", "Rate per 100 PY (95% CI)")
    return headers, tuple(rows)


def collect_minimisation(
    plan: RiskManagementPlan, start: dt.date, end: dt.date, counts: CaseCounts, exposure: Exposure
) -> MinimisationSection:
    """Outcome indicators of risk-minimisation effectiveness (GVP XVI.B.4, E2C(R2) 3.16.5):
    :func:`riskplan.minimisation.quarterly_outcomes` over this report's own cases (as at the DLP, first
    received in the interval; counted by month in the database) for the plan's effectiveness indicators
    (:func:`riskplan.minimisation.outcome_concerns`; else the concerns with additional measures), with the
    quarterly exposure of an exposure table and the interval patient-years."""
    wanted = outcome_concerns(plan) or sorted(c.id for c in plan.safety_concerns if c.additional_measures)
    # a concern without a definition counts no case: its indicator cannot be assessed, not zero
    undefined = [c for c in wanted if plan.concern(c).definition.is_empty]
    wanted = [c for c in wanted if c not in undefined]
    if undefined and not wanted:
        return MinimisationSection(
            False,
            f"Not assessed: the safety concern(s) the indicators count ({', '.join(undefined)}) have no "
            "definition in the plan, so no case is counted toward them.",
        )
    pairs = (
        (dt.date.fromisoformat(f"{month}-01"), (cid,))
        for month, cid, n in counts.concern_months
        if cid in wanted
        for _ in range(n)
    )
    records = quarterly_outcomes(
        pairs,
        concern_ids=tuple(wanted),
        exposure_by_quarter=_quarter_exposure(exposure),
        total_patient_years=exposure.interval_patient_years,
    )
    source = (
        "computed by riskplan.minimisation.effectiveness.quarterly_outcomes over the cases of this report "
        "(as at the DLP, by quarter of first receipt in the interval)"
    )
    if undefined:
        source += f"; not assessed for {', '.join(undefined)} (no definition in the plan)"
    if not records:
        return MinimisationSection(
            True,
            "No outcome indicator: the plan names no effectiveness indicator and no safety concern has "
            "additional risk-minimisation measures.",
        )
    headers, rows = _quarterly_indicator_rows(records, plan, start, end)
    note = f"Outcome indicators for {len(records)} safety concern(s) by calendar quarter, {source}."
    return MinimisationSection(True, note, headers, rows)


# --------------------------------------------------------------------------------------------------
# Plan versions: actions taken and RSI changes (E2C(R2) 3.3, 3.4)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanChange:
    version: int
    loaded: dt.date
    loaded_by: str
    reason: str
    changes: tuple[str, ...]


def plan_changes(versions: Sequence[PlanVersion], start: dt.date, end: dt.date) -> list[PlanChange]:
    """The plan versions stored in the interval, each with what changed from the one before."""
    out = []
    befores: list[PlanVersion | None] = [None, *versions][: len(versions)]
    for before, after in zip(befores, versions, strict=True):
        loaded = after.loaded_at.date()
        if not start <= loaded <= end:
            continue
        lines: list[str] = []
        if before is None:
            lines.append("first version of the plan stored")
        else:
            d = diff_plans(before.plan, after.plan)
            lines += [f"{i.kind} {i.change}: {i.title}" for i in d.items]
            lines += [f"{f.path} changed" for f in d.plan_fields]
        out.append(
            PlanChange(after.version, loaded, after.loaded_by, after.reason or "", tuple(lines) or ("no change",))
        )
    return out


def no_listedness_reason(plan: RiskManagementPlan, plan_label: str) -> str:
    """Why listedness cannot be assessed against ``plan`` (for a plan where
    :func:`~riskplan.reports.psur_counts.listedness_assessable` is False)."""
    if plan.reference_safety_information is not None:
        return f"the reference safety information of plan {plan_label} lists no expected reaction"
    why = f"plan {plan_label} has no reference safety information"
    if PlanPart.REFERENCE_SAFETY_INFORMATION in plan.absent:
        why += " (its source document, e.g. a public RMP summary, does not carry one)"
    return why


def rsi_changes(versions: Sequence[PlanVersion], plan: RiskManagementPlan, start: dt.date) -> list[str]:
    """Expected reactions added or removed since the plan version in effect at the start of the interval."""
    earlier = [v for v in versions if v.loaded_at.date() <= start]
    if not earlier:
        return []
    old = earlier[-1].plan.reference_safety_information
    new = plan.reference_safety_information
    if old is not None and new is None:  # the whole RSI is gone, not each of its reactions
        return [
            f"the plan version in effect at the start of the interval (version {earlier[-1].version}) had "
            f"reference safety information ({old.document}, {len(old.expected_reactions)} expected reactions); "
            "the version this report uses has none"
        ]
    old_pts = {r.pt for r in old.expected_reactions} if old else set()
    new_pts = {r.pt for r in new.expected_reactions} if new else set()
    lines = [f"added to the RSI: {pt}" for pt in sorted(new_pts - old_pts)]
    lines += [f"removed from the RSI: {pt}" for pt in sorted(old_pts - new_pts)]
    if old and new and (old.document, old.version) != (new.document, new.version):
        lines.append(
            f"RSI document changed from {old.document} {old.version or ''} to {new.document} {new.version or ''}"
        )
    return lines
