"""Medical assessments of cases by safety physicians: the WHO-UMC causality of a case version, with a comment.

An assessment concerns the version of the case that is latest when it is recorded; assessments are only
ever added, and each is recorded in the case's audit trail (action ``medically assessed``). The web
application, the command line and the other folders record and read them through these functions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from riskplan.cases.store import ENTITY, case_number
from riskplan.cases.tables import CaseAssessmentRow, CaseRow
from riskplan.errors import NotFoundError, UserInputError
from riskplan.store.audit import record_change, utcnow

__all__ = ["Assessment", "Causality", "assessments", "parse_causality", "record_assessment"]


class Causality(StrEnum):
    """WHO-UMC causality categories."""

    CERTAIN = "certain"
    PROBABLE = "probable"
    POSSIBLE = "possible"
    UNLIKELY = "unlikely"
    CONDITIONAL = "conditional"
    UNASSESSABLE = "unassessable"


@dataclass(frozen=True)
class Assessment:
    version: int
    causality: str
    comment: str | None
    assessed_at: dt.datetime
    assessed_by: str


def parse_causality(value: str | Causality) -> Causality:
    """``value`` as a WHO-UMC causality category; UserInputError naming the categories when it is none."""
    try:
        return Causality(value)
    except ValueError:
        choices = ", ".join(repr(c.value) for c in Causality)
        raise UserInputError(f"unknown causality {value!r}: choose from {choices}") from None


def record_assessment(
    session: Session,
    case_id: int,
    causality: Causality | str,
    comment: str | None,
    *,
    who: str,
    at: dt.datetime | None = None,
) -> Assessment:
    """Record a medical assessment of the latest version of case ``case_id`` (and in its audit trail)."""
    category = parse_causality(causality)
    case = session.get(CaseRow, case_id)
    if case is None:
        raise NotFoundError(f"no case {case_number(case_id)}")
    now = at or utcnow()
    row = CaseAssessmentRow(
        case_id=case.id,
        version=case.latest_version,
        causality=category.value,
        comment=comment,
        assessed_at=now,
        assessed_by=who,
    )
    session.add(row)
    record_change(
        session,
        who=who,
        entity_type=ENTITY,
        entity_id=case.worldwide_id,
        action="medically assessed",
        changes={"causality": (None, category.value), "comment": (None, comment)},
        reason=f"assessment of version {case.latest_version}",
        at=now,
    )
    return Assessment(row.version, row.causality, row.comment, now, who)


def assessments(session: Session, case_id: int) -> list[Assessment]:
    """Every medical assessment of case ``case_id``, in the order they were recorded."""
    rows = session.scalars(
        select(CaseAssessmentRow).where(CaseAssessmentRow.case_id == case_id).order_by(CaseAssessmentRow.id)
    )
    return [Assessment(r.version, r.causality, r.comment, r.assessed_at, r.assessed_by) for r in rows]
