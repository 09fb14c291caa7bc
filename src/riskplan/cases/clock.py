"""The regulatory clock for individual case reports (GVP Module VI.B.7 and VI.C.3).

* Day 0 is the date the marketing authorisation holder first receives information meeting the four
  minimum criteria of a valid ICSR (GVP VI.B.7: "day zero"). A case received invalid starts its clock
  when a follow-up makes it valid.
* Serious valid ICSRs are due within 15 days of day 0, non-serious ones within 90 days (GVP VI.C.3,
  Article 107(3) of Directive 2001/83/EC).
* Significant follow-up information restarts the clock from its own receipt date (GVP VI.C.6.2.2.7);
  a follow-up that turns a non-serious case serious makes it due within 15 days of that receipt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

SERIOUS_DAYS = 15  # GVP VI.C.3: serious ICSRs within 15 days
NON_SERIOUS_DAYS = 90  # GVP VI.C.3: non-serious ICSRs within 90 days


@dataclass(frozen=True)
class VersionFacts:
    """What the clock needs to know of one version of a case."""

    version: int
    received: dt.date  # C.1.5: date of most recent information
    valid: bool
    serious: bool
    submitted: bool = False


@dataclass(frozen=True)
class ReportingClock:
    day_zero: dt.date | None
    due: dt.date | None
    serious: bool
    clock_version: int | None  # the version whose receipt started the running clock
    submitted: bool

    def days_left(self, today: dt.date) -> int | None:
        return None if self.due is None else (self.due - today).days

    def is_overdue(self, today: dt.date) -> bool:
        return self.due is not None and not self.submitted and today > self.due


def reporting_clock(versions: Sequence[VersionFacts]) -> ReportingClock:
    """The clock of a case from its versions in order (version 1 first)."""
    day_zero: dt.date | None = None
    start: VersionFacts | None = None
    for v in sorted(versions, key=lambda x: x.version):
        if not v.valid:
            continue
        if day_zero is None:
            day_zero = v.received
            start = v
        elif start is not None and _restarts_clock(start, v):
            start = v
    if start is None:
        return ReportingClock(None, None, False, None, False)
    latest = max(versions, key=lambda x: x.version)
    serious = latest.serious if latest.valid else start.serious
    days = SERIOUS_DAYS if serious else NON_SERIOUS_DAYS
    submitted = any(v.submitted for v in versions if v.version >= start.version)
    return ReportingClock(
        day_zero=day_zero,
        due=start.received + dt.timedelta(days=days),
        serious=serious,
        clock_version=start.version,
        submitted=submitted,
    )


def _restarts_clock(start: VersionFacts, follow_up: VersionFacts) -> bool:
    """Follow-up information restarts the clock (GVP VI.C.6.2.2.7); an upgrade to serious always does."""
    return follow_up.received > start.received or (follow_up.serious and not start.serious)
