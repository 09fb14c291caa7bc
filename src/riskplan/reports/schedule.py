"""Which periodic reports are due, from the plan's dates, and whether each was generated.

* **PSUR / PBRER, EU** (GVP VII.C.3): data lock points from the EURD list entry (``routine_pharmacovigilance.
  eurd_data_lock_point`` and ``psur_interval_months``) or, without one, from the international birth date
  with the frequency of Directive 2001/83/EC Art. 107c(2) (every 6 months for 2 years, yearly for the next 2
  years, then every 3 years); submission within 70 days of the DLP for reports covering up to 12 months,
  90 days for longer ones (GVP VII.C.3.3).
* **PADER, US** (21 CFR 314.80(c)(2)(i)): quarterly for 3 years from US approval, then yearly, as
  :func:`riskplan.submissions.periodic_reports_until` places them (due 30 and 60 days after).
* **DSUR** (ICH E2F 2.3, 2.5): yearly from the development international birth date, due 60 days after the DLP,
  for a plan that lists clinical trials.

A report is "generated" when a stored report of that kind and plan has the same period and DLP.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from riskplan.plan import RiskManagementPlan, current_plan
from riskplan.reports.stored import list_reports
from riskplan.submissions import periodic_reports_until


@dataclass(frozen=True)
class DueReport:
    kind: str  # psur | dsur | pader
    region: str
    start: dt.date
    data_lock_point: dt.date
    due: dt.date
    status: str  # generated | not generated | overdue (not generated, due date passed)
    report_id: int | None
    basis: str

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "region": self.region,
            "from": self.start.isoformat(),
            "data_lock_point": self.data_lock_point.isoformat(),
            "due": self.due.isoformat(),
            "status": self.status,
            "report_id": self.report_id,
            "basis": self.basis,
        }


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def eu_psur_periods(plan: RiskManagementPlan, until: dt.date) -> tuple[list[tuple[dt.date, dt.date, dt.date]], str]:
    """(start, DLP, due) of each EU PSUR whose period starts on or before ``until``, and the basis (or why none)."""
    routine = plan.routine_pharmacovigilance
    if not routine.psur_required:
        return [], "the plan requires no PSUR (routine_pharmacovigilance.psur_required: false)"
    anchor = routine.eurd_data_lock_point or plan.product.international_birth_date
    if anchor is None:
        return [], (
            "no EURD data lock point and no international birth date in the plan (product.international_birth_date): "
            "the EU PSUR cannot be placed"
        )
    if routine.psur_interval_months:
        basis = f"EURD list: every {routine.psur_interval_months} months from {anchor} (GVP VII.C.3.1)"
    else:
        basis = f"Directive 2001/83/EC Art. 107c(2) default cycle from the IBD {anchor} (no EURD frequency in the plan)"
    periods: list[tuple[dt.date, dt.date, dt.date]] = []
    start, elapsed = anchor, 0
    while start <= until:
        months = routine.psur_interval_months or (6 if elapsed < 24 else 12 if elapsed < 48 else 36)
        after = _add_months(anchor, elapsed + months)
        dlp = after - dt.timedelta(days=1)
        # GVP VII.C.3.3: within 70 days of the DLP (up to 12 months covered), 90 days (over 12 months)
        periods.append((start, dlp, dlp + dt.timedelta(days=70 if months <= 12 else 90)))
        start, elapsed = after, elapsed + months
    return periods, basis


def dsur_periods(plan: RiskManagementPlan, until: dt.date) -> tuple[list[tuple[dt.date, dt.date, dt.date]], str]:
    development = plan.clinical_development
    if development is None or not development.trials:
        return [], "no clinical trials in the plan: no DSUR"
    dibd = development.development_international_birth_date
    if dibd is None:
        return [], (
            "no development international birth date in the plan (clinical_development."
            "development_international_birth_date): the DSUR cannot be placed"
        )
    periods = []
    year = 0
    while _add_months(dibd, 12 * year) <= until:
        start = _add_months(dibd, 12 * year)
        dlp = _add_months(dibd, 12 * (year + 1)) - dt.timedelta(days=1)
        periods.append((start, dlp, dlp + dt.timedelta(days=60)))  # ICH E2F 2.5: within 60 days of the DLP
        year += 1
    return periods, f"ICH E2F: yearly from the DIBD {dibd}, due 60 days after the DLP"


def report_schedule(session: Session, plan_name: str, today: dt.date) -> tuple[list[DueReport], list[str]]:
    """Every periodic report of the plan up to the one in progress, soonest due first; notes on what is missing."""
    plan = current_plan(session, plan_name).plan
    generated = {(r.kind, r.period_start, r.data_lock_point): r.id for r in list_reports(session, plan_name=plan_name)}
    rows: list[DueReport] = []
    notes: list[str] = []

    def add(kind: str, region: str, periods: list[tuple[dt.date, dt.date, dt.date]], basis: str) -> None:
        if not periods:
            notes.append(f"{kind.upper()}: {basis}")
        for start, dlp, due in periods:
            found = generated.get((kind, start, dlp))
            status = "generated" if found is not None else "overdue" if due < today else "not generated"
            rows.append(DueReport(kind, region, start, dlp, due, status, found, basis))

    add("psur", "EU", *eu_psur_periods(plan, today))
    approval = next((d for r, d in plan.product.approvals.items() if r.casefold() == "us"), None)
    if approval is None:
        add("pader", "US", [], "no US approval date in the plan (product.approvals.US): the PADER cannot be placed")
    else:
        reports = periodic_reports_until("US", approval, today)
        add(
            "pader",
            "US",
            [(p.start, p.end, p.due) for p in reports],
            "21 CFR 314.80(c)(2)(i): quarterly for 3 years from US approval, then yearly",
        )
    add("dsur", "ICH", *dsur_periods(plan, today))
    rows.sort(key=lambda r: (r.due, r.kind))
    return rows, notes


def next_due(rows: list[DueReport], today: dt.date) -> DueReport | None:
    """The next report due from ``today`` on that is not generated (overdue ones are listed by the schedule)."""
    upcoming = [r for r in rows if r.status != "generated" and r.due >= today]
    return upcoming[0] if upcoming else None
