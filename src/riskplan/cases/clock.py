"""The regulatory clock for individual case reports (GVP Module VI.B.7 and VI.C.3).

* Day 0 is the date the marketing authorisation holder first receives information meeting the four
  minimum criteria of a valid ICSR (GVP VI.B.7: "day zero"). A case received invalid starts its clock
  when a follow-up makes it valid.
* Serious valid ICSRs are due within 15 days of day 0, non-serious ones within 90 days (GVP VI.C.3,
  Article 107(3) of Directive 2001/83/EC).
* Significant follow-up information received after the case was submitted restarts the clock from its
  own receipt date (GVP VI.C.6.2.2.7); follow-up received before the initial report was submitted does
  not move its due date (it goes into that report). A follow-up that turns a non-serious case serious
  makes it due within 15 days of that receipt.
* A receipt date later than the day the version was recorded (a date in the future) counts as the day
  it was recorded: a mistyped date never moves a clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Fields whose change alone is not significant follow-up information (GVP VI.C.6.2.2.7: administrative
# details, reporter contact details, corrected dates of the report itself, references to other reports).
ADMINISTRATIVE_FIELDS = frozenset(
    {
        "created",
        "most_recent_info",
        "sender_report_id",
        "sender",
        "documents_held",
        "additional_documents",
        "other_case_ids",
        "other_case_ids_flag",
        "linked_reports",
        "local_expedited",
        "local_expedited_null_flavor",
        "first_sender",
        "primary_sources",
        "regional",
    }
)

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
    recorded: dt.date | None = None  # the day the version was stored
    significant: bool = True  # GVP VI.C.6.2.2.7: new medically relevant information

    @property
    def receipt(self) -> dt.date:
        """The receipt date a clock may use: never later than the day the version was recorded."""
        return self.received if self.recorded is None else min(self.received, self.recorded)


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


def is_significant(changed_paths: Iterable[str]) -> bool:
    """Whether changed fields (``reactions.0.outcome``...) are significant follow-up information
    (GVP VI.C.6.2.2.7: new medical information, e.g. a new reaction, seriousness, outcome, causality)."""
    return any(path.split(".")[0].split("[")[0] not in ADMINISTRATIVE_FIELDS for path in changed_paths)


def reporting_clock(versions: Sequence[VersionFacts]) -> ReportingClock:
    """The clock of a case from its versions in order (version 1 first)."""
    day_zero: dt.date | None = None
    start: VersionFacts | None = None
    ordered = sorted(versions, key=lambda x: x.version)
    for v in ordered:
        if not v.valid:
            continue
        if day_zero is None:
            day_zero = v.receipt
            start = v
        elif start is not None and _restarts_clock(start, v, ordered):
            start = v
    if start is None:
        return ReportingClock(None, None, False, None, False)
    latest = max(versions, key=lambda x: x.version)
    serious = latest.serious if latest.valid else start.serious
    days = SERIOUS_DAYS if serious else NON_SERIOUS_DAYS
    submitted = any(v.submitted for v in versions if v.version >= start.version)
    return ReportingClock(
        day_zero=day_zero,
        due=start.receipt + dt.timedelta(days=days),
        serious=serious,
        clock_version=start.version,
        submitted=submitted,
    )


def _restarts_clock(start: VersionFacts, follow_up: VersionFacts, versions: Sequence[VersionFacts]) -> bool:
    """Significant follow-up after a submission restarts the clock (GVP VI.C.6.2.2.7); an upgrade to
    serious always does (15 days from the receipt of what made it serious). Follow-up received before
    the running clock's report was submitted goes into that report and does not move its due date."""
    if follow_up.serious and not start.serious:
        return True
    sent_before = any(v.submitted for v in versions if start.version <= v.version < follow_up.version)
    return sent_before and follow_up.significant and follow_up.receipt > start.receipt
