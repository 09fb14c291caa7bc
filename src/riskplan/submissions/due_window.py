"""Which cases can owe a report falling due in a window of days, from the dates of their versions alone.

A compliance report (``riskplan submission compliance``) counts only the reports whose due date falls in its
period (or in the next 7 days); the PSUR/PBRER's appendix 20.4 counts them without listing them
(:mod:`riskplan.submissions.owed_counts`). Deciding what a case owes reads and validates
every version's ICSR; over a million cases that is most of the report's time. The due date of every report
is bounded by the receipts of the case's valid versions (see :mod:`riskplan.submissions.obligations`):

* expedited (initial, follow-up, downgrade, nullification): due = the receipt of one valid version + the
  days of a rule (GVP VI.C.3), of the downgrade or of the nullification (GVP VI.C.6.2.2.9); so some valid
  receipt lies in ``[first - most days, last - fewest days]``;
* periodic (21 CFR 314.80(c)(2)): due = the due date of the periodic report whose interval holds day 0
  (the first valid version's receipt); so day 0 lies in the interval of a periodic report due in the window.

A case with neither cannot owe anything due in the window and is left out before its ICSRs are read. The
receipts are computed exactly as the obligations compute them (C.1.5, C.1.4 for the first version, never
after the day recorded), so the filter only removes cases whose every obligation falls outside the window:
the compliance figures are the same as over every case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from riskplan.cases import CaseRow, CaseVersionRow
from riskplan.plan import RiskManagementPlan, current_plan
from riskplan.submissions.destination_versions import DestinationInForce
from riskplan.submissions.destinations import ReportKind
from riskplan.submissions.periodic import periodic_reports_until

_Range = tuple[dt.date, dt.date]


def _expedited_days(destinations: Sequence[DestinationInForce]) -> tuple[int, int] | None:
    """(fewest, most) days of any expedited clock of these destinations; None when none has one."""
    days: list[int] = []
    for d in destinations:
        if not d.destination.authorised:
            continue  # nothing is reportable there
        days += [r.days for r in d.destination.rules if r.report is ReportKind.EXPEDITED and r.days is not None]
        days += [d.destination.downgrade_days, d.destination.nullification_days]
    return (min(days), max(days)) if days else None


def _periodic_ranges(
    destinations: Sequence[DestinationInForce], plan: RiskManagementPlan, first: dt.date, last: dt.date
) -> list[_Range]:
    """The day-0 ranges whose US-style periodic report falls due in ``[first, last]``."""
    ranges: list[_Range] = []
    for d in destinations:
        destination = d.destination
        if not destination.authorised or not any(r.report is ReportKind.PERIODIC for r in destination.rules):
            continue
        region = destination.rsi_region or destination.code
        approval = next((day for r, day in plan.product.approvals.items() if r.casefold() == region.casefold()), None)
        if approval is None:
            continue  # the report cannot be placed: no due date (obligations.missing_approval)
        for report in periodic_reports_until(region, approval, last):
            if first <= report.due <= last:
                # a day 0 before approval counts in the first report (periodic.periodic_report)
                ranges.append((dt.date.min if report.number == 1 else report.start, report.end))
    return ranges


def cases_with_due_dates_between(
    session: Session,
    destinations: Sequence[DestinationInForce],
    first: dt.date,
    last: dt.date,
    *,
    case_ids: Collection[int] | None = None,
) -> set[int]:
    """The cases (of ``case_ids``, default every case) that may owe a report due in ``[first, last]``."""
    window = _expedited_days(destinations)
    expedited: _Range | None = None
    if window is not None:
        fewest, most = window
        expedited = (first - dt.timedelta(days=most), last - dt.timedelta(days=fewest))
    periodic: dict[str, list[_Range]] = {}
    session.flush()  # Core rows below (not the ORM's result machinery): flushed first, as its execute would
    rows = session.connection().execute(
        select(
            CaseVersionRow.case_id,
            CaseRow.plan_name,
            CaseVersionRow.received,
            CaseVersionRow.first_received,
            CaseVersionRow.recorded_at,
            CaseVersionRow.valid,
        )
        .join(CaseRow, CaseRow.id == CaseVersionRow.case_id)
        .order_by(CaseVersionRow.case_id, CaseVersionRow.version)
    )
    found: set[int] = set()
    current: int | None = None
    day_zero_seen = False
    for case_id, plan_name, received, first_received, recorded_at, valid in rows:
        if case_ids is not None and case_id not in case_ids:
            continue
        is_first = case_id != current
        if is_first:
            current, day_zero_seen = case_id, False
        if case_id in found or not valid:
            continue
        # the receipt as obligations._receipt computes it (C.1.5; C.1.4 for the first version; never after
        # the day the version was recorded, so a date in the future never moves a clock)
        dates = [received, recorded_at.date()]
        if is_first and first_received is not None:
            dates.append(first_received)
        receipt = min(dates)
        if expedited is not None and expedited[0] <= receipt <= expedited[1]:
            found.add(case_id)
            continue
        if not day_zero_seen:  # the first valid version: day 0 of the periodic report
            day_zero_seen = True
            if plan_name not in periodic:
                periodic[plan_name] = _periodic_ranges(destinations, current_plan(session, plan_name).plan, first, last)
            if any(lo <= receipt <= hi for lo, hi in periodic[plan_name]):
                found.add(case_id)
    return found
