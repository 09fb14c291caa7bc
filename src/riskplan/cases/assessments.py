"""Medical assessments of cases by safety physicians: the WHO-UMC causality of a case version, with a comment.

An assessment concerns the version of the case that is latest when it is recorded; assessments are only
ever added, and each is recorded in the case's audit trail (action ``medically assessed``). Each is
signed by its author, a safety physician or the QPPV whose password was checked at the moment of
signing (21 CFR 11.200), meaning ``authorship``; the signature holds the SHA-256 of the assessment and
of the assessed case version as stored (21 CFR 11.70). The web application, the command line and the
other folders record and read them through these functions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from riskplan.cases.store import ENTITY, case_number
from riskplan.cases.tables import CaseAssessmentRow, CaseRow, CaseVersionRow
from riskplan.errors import NotFoundError, UserInputError
from riskplan.store import Signature, SignatureMeaning, Signer, record_change, require_role, sign, signatures, utcnow

SIGNED_RECORD = "case assessment"
ASSESSOR_ROLES = ("safety_physician", "qppv")

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
    signature: Signature | None = None
    signature_valid: bool | None = None  # whether the assessment and case version still match

    @property
    def signed(self) -> str:
        """The signature as shown (printed name, meaning, UTC time), or that there is none."""
        if self.signature is None:
            return "not electronically signed"
        return self.signature.manifestation + ("" if self.signature_valid else " — RECORD CHANGED SINCE SIGNING")


def _signed_content(session: Session, row: CaseAssessmentRow, worldwide_id: str) -> dict[str, object]:
    """What an assessment signs: the case, the assessed version and the SHA-256 of its stored ICSR,
    the causality and the comment."""
    icsr = session.scalar(
        select(CaseVersionRow.icsr_json).where(
            CaseVersionRow.case_id == row.case_id, CaseVersionRow.version == row.version
        )
    )
    return {
        "case": worldwide_id,
        "version": row.version,
        "icsr_sha256": None if icsr is None else hashlib.sha256(icsr.encode("utf-8")).hexdigest(),
        "causality": row.causality,
        "comment": row.comment,
    }


def _record_id(worldwide_id: str, row: CaseAssessmentRow) -> str:
    return f"{worldwide_id} #{row.id}"


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
    signer: Signer,
    at: dt.datetime | None = None,
) -> Assessment:
    """Record a medical assessment of the latest version of case ``case_id``, signed by ``signer``
    (verified at the moment of signing; a safety physician or the QPPV), and in its audit trail."""
    category = parse_causality(causality)
    require_role(signer, ASSESSOR_ROLES, "a medical assessment")
    who = signer.username
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
    session.flush()
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
    signature = sign(
        session,
        signer,
        SignatureMeaning.AUTHORSHIP,
        SIGNED_RECORD,
        _record_id(case.worldwide_id, row),
        _signed_content(session, row, case.worldwide_id),
        at=now,
    )
    return Assessment(row.version, row.causality, row.comment, now, who, signature, True)


def assessments(session: Session, case_id: int) -> list[Assessment]:
    """Every medical assessment of case ``case_id``, in the order they were recorded."""
    case = session.get(CaseRow, case_id)
    if case is None:
        return []
    rows = list(
        session.scalars(
            select(CaseAssessmentRow).where(CaseAssessmentRow.case_id == case_id).order_by(CaseAssessmentRow.id)
        )
    )
    signed = signatures(session, SIGNED_RECORD, [_record_id(case.worldwide_id, r) for r in rows])
    found: list[Assessment] = []
    for r in rows:
        signature = next(iter(signed.get(_record_id(case.worldwide_id, r), [])), None)
        valid = None if signature is None else signature.matches(_signed_content(session, r, case.worldwide_id))
        found.append(Assessment(r.version, r.causality, r.comment, r.assessed_at, r.assessed_by, signature, valid))
    return found
