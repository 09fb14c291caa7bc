"""The work queues, one definition each, read by ``riskplan case queue`` and the web's "My work" page.

=========  ===================================================================================  ============
queue      holds                                                                                 defined by
=========  ===================================================================================  ============
code       reactions of latest case versions with no MedDRA term chosen (one row per reaction)  cases
assess     valid cases whose latest version has no medical assessment                           cases
submit     reports owed to a destination now, none of them rejected (GVP VI.C.3 due dates)      submissions
returned   reports owed again after the destination's negative ACK, with the ACK's error text   submissions
=========  ===================================================================================  ============

A report is owed (:func:`~riskplan.submissions.due_reports`) until a version at or after the one that
started its clock is handed to the gateway; a rejected one stays owed, so "returned" is the owed reports
whose last report to that destination was rejected (ACK.B.r.7 text shown), "submit" the others. Every
queue can be narrowed to the cases assigned to one user (:mod:`riskplan.cases.assignment`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from riskplan.cases import assignees, case_number, count_to_assess, count_uncoded, to_assess, uncoded_reactions
from riskplan.errors import UserInputError
from riskplan.submissions.overview import DueReport, due_reports

__all__ = ["Queue", "QueueItem", "QueuePage", "parse_queue", "queue_counts", "work_queue"]

MAX_PAGE = 1000


class Queue(StrEnum):
    CODE = "code"
    ASSESS = "assess"
    SUBMIT = "submit"
    RETURNED = "returned"

    @property
    def label(self) -> str:
        return {
            Queue.CODE: "To code",
            Queue.ASSESS: "To assess",
            Queue.SUBMIT: "To submit",
            Queue.RETURNED: "Returned (negative ACK)",
        }[self]


def parse_queue(text: str) -> Queue:
    try:
        return Queue(text.strip().lower())
    except ValueError:
        raise UserInputError(f"unknown queue {text!r}: the queues are {', '.join(q.value for q in Queue)}") from None


@dataclass(frozen=True)
class QueueItem:
    """One piece of work: a reaction to code, a case to assess, a report to send or to correct and resend."""

    queue: Queue
    case_id: int
    worldwide_id: str
    version: int
    assigned_to: str | None
    what: str  # the reaction's verbatim, the case's reactions, or the report (destination, kind)
    due: dt.date | None = None
    serious: bool | None = None
    destination: str | None = None
    detail: str | None = None  # coding suggestions, or the authority's error text (ACK.B.r.7)
    reaction: int | None = None  # the reaction's number (code queue)

    @property
    def case_number(self) -> str:
        return case_number(self.case_id)

    def days_left(self, today: dt.date) -> int | None:
        return None if self.due is None else (self.due - today).days

    def as_dict(self, today: dt.date) -> dict[str, object]:
        return {
            "queue": self.queue.value,
            "case": self.case_number,
            "worldwide_id": self.worldwide_id,
            "version": self.version,
            "reaction": self.reaction,
            "assigned_to": self.assigned_to,
            "what": self.what,
            "destination": self.destination,
            "due": self.due.isoformat() if self.due else None,
            "days_left": self.days_left(today),
            "serious": self.serious,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class QueuePage:
    queue: Queue
    items: tuple[QueueItem, ...]
    total: int
    offset: int
    limit: int

    @property
    def first(self) -> int:
        return self.offset + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.items)

    @property
    def has_next(self) -> bool:
        return self.last < self.total


def _owed(session: Session, queue: Queue, assignee: str | None) -> list[tuple[DueReport, str | None]]:
    reports = [r for r in due_reports(session) if (r.rejection is not None) == (queue is Queue.RETURNED)]
    who = assignees(session, {r.obligation.case_id for r in reports})
    rows = [(r, who.get(r.obligation.case_id)) for r in reports]
    return rows if assignee is None else [(r, w) for r, w in rows if w == assignee]


def _owed_item(queue: Queue, report: DueReport, who: str | None) -> QueueItem:
    o = report.obligation
    return QueueItem(
        queue,
        o.case_id,
        o.worldwide_id,
        o.version,
        who,
        f"{o.report} report ({o.rule})",
        due=o.due,
        destination=o.destination,
        detail=report.rejection,
    )


def _check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise UserInputError(f"--limit must be between 1 and {MAX_PAGE}, not {limit}")
    if offset < 0:
        raise UserInputError(f"--offset must be 0 or more, not {offset}")


def work_queue(
    session: Session, queue: Queue, *, assignee: str | None = None, limit: int = 50, offset: int = 0
) -> QueuePage:
    """One page of ``queue`` (of the cases assigned to ``assignee``, when given) and its size."""
    _check_page(limit, offset)
    items: list[QueueItem]
    if queue is Queue.CODE:
        total = count_uncoded(session, assignee=assignee)
        reactions = uncoded_reactions(session, limit, offset=offset, assignee=assignee)
        items = [
            QueueItem(
                queue,
                r.case_id,
                r.worldwide_id,
                r.version,
                r.assigned_to,
                r.verbatim,
                detail=", ".join(f"{t}{f' → {pt}' if pt != t else ''} ({score:.0f})" for t, pt, score in r.suggestions)
                or r.note,
                reaction=r.seq,
            )
            for r in reactions
        ]
    elif queue is Queue.ASSESS:
        total = count_to_assess(session, assignee=assignee)
        items = [
            QueueItem(
                queue,
                c.case_id,
                c.worldwide_id,
                c.version,
                c.assigned_to,
                ", ".join(c.pts) or "(no reaction)",
                due=c.due,
                serious=c.serious,
            )
            for c in to_assess(session, limit=limit, offset=offset, assignee=assignee)
        ]
    else:
        owed = _owed(session, queue, assignee)
        total = len(owed)
        items = [_owed_item(queue, r, w) for r, w in owed[offset : offset + limit]]
    return QueuePage(queue, tuple(items), total, offset, limit)


def queue_counts(
    session: Session, *, assignee: str | None = None, owed: list[DueReport] | None = None
) -> dict[Queue, int]:
    """How much work each queue holds (of the cases assigned to ``assignee``, when given); ``owed``: the
    reports owed now when the caller has them already (:func:`~riskplan.submissions.due_reports`)."""
    counts = {
        Queue.CODE: count_uncoded(session, assignee=assignee),
        Queue.ASSESS: count_to_assess(session, assignee=assignee),
    }
    if owed is None:
        owed = due_reports(session)
    who = assignees(session, {r.obligation.case_id for r in owed}) if assignee is not None else {}
    mine = [r for r in owed if assignee is None or who.get(r.obligation.case_id) == assignee]
    counts[Queue.SUBMIT] = sum(1 for r in mine if r.rejection is None)
    counts[Queue.RETURNED] = sum(1 for r in mine if r.rejection is not None)
    return counts
