"""Compliance with expedited reporting for the PSUR/PBRER appendix: per destination, the expedited ICSRs of
the plan's cases due in the reporting interval, how many were accepted by the authority on time, how many
late, and the share on time (GVP VI.C.3 time frames; timeliness as GVP Module I and IV measure it).

Read from :mod:`riskplan.submissions` (its public API only). Counted as of the data lock point: open reports
are late by the days from their due date to the DLP, so the figures do not depend on the day of rendering.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from riskplan.submissions import compliance_counts


@dataclass(frozen=True)
class DestinationCompliance:
    destination: str
    due: int
    on_time: int
    late: int
    pending: int = 0  # sent, not yet acknowledged, not yet due at the DLP

    @property
    def share_on_time(self) -> float | None:
        decided = self.on_time + self.late
        return None if decided == 0 else self.on_time / decided


@dataclass(frozen=True)
class ReportingCompliance:
    rows: tuple[DestinationCompliance, ...] = ()
    late_with_reason: int = 0
    note: str = ""


def collect_reporting_compliance(session: Session, plan_name: str, start: dt.date, end: dt.date) -> ReportingCompliance:
    """The interval's expedited reporting of the cases of ``plan_name``, per destination, as of the DLP."""
    report = compliance_counts(session, start, end, end, plan_name=plan_name)
    totals: dict[str, list[int]] = {}
    for m in report.months:
        t = totals.setdefault(m.destination, [0, 0, 0, 0])
        t[0] += m.due
        t[1] += m.on_time
        t[2] += m.late
        t[3] += m.pending
    rows = tuple(DestinationCompliance(d, *t) for d, t in sorted(totals.items()))
    note = (
        "On time: accepted by the destination's acknowledgment (ICH E2B(R3) ACK) on or before the due date of "
        "its reporting rule; late: accepted after it, or not accepted by the data lock point; pending: sent but not "
        "yet acknowledged and not yet due at the DLP (neither on time nor late, outside the share). Details per month, "
        "with days late and the reasons recorded: riskplan submission compliance."
    )
    return ReportingCompliance(rows, report.late_with_reason, note)
