"""Which US periodic report a non-expedited ICSR belongs to, and when that report is due.

21 CFR 314.80(c)(2)(i) (600.80(c)(2)(i) for biologics): postmarketing periodic reports are submitted
quarterly for 3 years from the date of US approval, then annually; a quarterly report within 30 days of
the close of the quarter, an annual report within 60 days of the anniversary date of approval. The
individual case reports of the interval (21 CFR 314.80(c)(2)(ii)) are owed by that due date. A case
belongs to the interval holding its day 0. The approval date is the plan's product data
(``product.approvals`` per region); without one the report cannot be placed, and riskplan says so.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
from dataclasses import dataclass
from typing import Final

CITES: Final = (
    "21 CFR 314.80(c)(2)(i): quarterly for 3 years from US approval (due 30 days after the quarter), "
    "then annually (due 60 days after the anniversary)"
)


@dataclass(frozen=True)
class PeriodicReport:
    region: str
    number: int  # 1, 2, ... from approval
    quarterly: bool
    start: dt.date
    end: dt.date  # last day of the interval
    due: dt.date

    @property
    def label(self) -> str:
        kind = "quarterly" if self.quarterly else "annual"
        return f"{self.region} periodic report {self.number} ({kind}, {self.start} to {self.end}, due {self.due})"


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@functools.lru_cache(maxsize=8192)  # one per (region, approval, day 0): cases share their days
def periodic_report(region: str, approval: dt.date, day_zero: dt.date) -> PeriodicReport:
    """The periodic report whose interval holds ``day_zero`` (a day 0 before approval counts in the first)."""
    day = max(day_zero, approval)
    for quarter in range(12):  # 3 years of quarters
        start, after = _add_months(approval, 3 * quarter), _add_months(approval, 3 * (quarter + 1))
        if day < after:
            end = after - dt.timedelta(days=1)
            return PeriodicReport(region, quarter + 1, True, start, end, end + dt.timedelta(days=30))
    year = 3
    while _add_months(approval, 12 * (year + 1)) <= day:
        year += 1
    start, anniversary = _add_months(approval, 12 * year), _add_months(approval, 12 * (year + 1))
    return PeriodicReport(
        region, 12 + year - 2, False, start, anniversary - dt.timedelta(days=1), anniversary + dt.timedelta(days=60)
    )


def missing_approval(region: str, plan_name: str) -> str:
    return (
        f"no {region} approval date in plan {plan_name!r} (product.approvals.{region}): the periodic report "
        "(21 CFR 314.80(c)(2)) and its due date cannot be placed"
    )


def periodic_reports_until(region: str, approval: dt.date, until: dt.date) -> list[PeriodicReport]:
    """Every periodic report from approval whose interval starts on or before ``until`` (21 CFR 314.80(c)(2)(i)):
    the past ones and the one in progress, for the schedule of periodic reports."""
    found: list[PeriodicReport] = []
    day = approval
    while day <= until:
        report = periodic_report(region, approval, day)
        found.append(report)
        day = report.end + dt.timedelta(days=1)
    return found
