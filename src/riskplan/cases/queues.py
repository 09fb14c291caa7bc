"""The case work queues ``cases/`` knows of: reactions to code and cases to assess medically.

* **to code**: reactions of the latest case versions that no MedDRA term was chosen for (MedDRA Term
  Selection: Points to Consider leaves them to a person), one row per reaction;
* **to assess**: valid cases (GVP VI.B.2) whose latest version has no medical assessment yet (a
  follow-up version needs one again, GVP VI.C.6.2.2.7), serious first, then by due date.

Both are filtered, counted and paged in SQL, optionally to the cases assigned to one user. The queues of
what is owed to authorities (to submit, returned with a negative ACK) are ``submissions/``' and the one
list of every queue is :mod:`riskplan.submissions.queues`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from riskplan.cases.hand_coding import UncodedReaction, count_uncoded, uncoded_reactions
from riskplan.cases.store import IS_LATEST_VERSION, case_number
from riskplan.cases.tables import CaseAssessmentRow, CaseReactionRow, CaseRow, CaseVersionRow

__all__ = [
    "CaseToAssess",
    "UncodedReaction",
    "assignees",
    "count_to_assess",
    "count_uncoded",
    "to_assess",
    "uncoded_reactions",
]


@dataclass(frozen=True)
class CaseToAssess:
    case_id: int
    worldwide_id: str
    version: int
    serious: bool
    due: dt.date | None
    received: dt.date
    pts: tuple[str, ...]
    assigned_to: str | None

    @property
    def case_number(self) -> str:
        return case_number(self.case_id)


def _to_assess(assignee: str | None) -> Any:  # a Select of the columns below
    v = CaseVersionRow
    assessed = exists().where(CaseAssessmentRow.case_id == v.case_id, CaseAssessmentRow.version == v.version)
    stmt = (
        select(v.id, v.case_id, CaseRow.worldwide_id, v.version, v.serious, v.due, v.received, CaseRow.assigned_to)
        .join(CaseRow, IS_LATEST_VERSION)
        .where(v.valid.is_(True), ~assessed)
    )
    return stmt if assignee is None else stmt.where(CaseRow.assigned_to == assignee)


def to_assess(session: Session, *, limit: int, offset: int = 0, assignee: str | None = None) -> list[CaseToAssess]:
    """The cases waiting for a medical assessment of their latest version: serious first, soonest due first."""
    v = CaseVersionRow
    order = (v.serious.desc(), v.due.is_(None), v.due, v.case_id)
    rows = session.execute(_to_assess(assignee).order_by(*order).limit(limit).offset(offset)).all()
    pts: dict[int, list[str]] = {}
    if rows:
        r = CaseReactionRow
        found = session.execute(
            select(r.case_version_id, r.pt_name, r.verbatim)
            .where(r.case_version_id.in_([row.id for row in rows]))
            .order_by(r.case_version_id, r.seq)
        )
        for version_id, pt, verbatim in found:
            pts.setdefault(version_id, []).append(pt or verbatim)
    return [
        CaseToAssess(
            row.case_id,
            row.worldwide_id,
            row.version,
            bool(row.serious),
            row.due,
            row.received,
            tuple(dict.fromkeys(pts.get(row.id, ()))),
            row.assigned_to,
        )
        for row in rows
    ]


def count_to_assess(session: Session, *, assignee: str | None = None) -> int:
    return int(session.scalar(select(func.count()).select_from(_to_assess(assignee).subquery())) or 0)


def assignees(session: Session, case_ids: list[int] | set[int]) -> dict[int, str]:
    """case id → the user it is assigned to, for the given cases that are assigned."""
    wanted = sorted(set(case_ids))
    found: dict[int, str] = {}
    for i in range(0, len(wanted), 500):
        stmt = select(CaseRow.id, CaseRow.assigned_to).where(
            CaseRow.id.in_(wanted[i : i + 500]), CaseRow.assigned_to.is_not(None)
        )
        found.update({cid: who for cid, who in session.execute(stmt) if who is not None})
    return found
