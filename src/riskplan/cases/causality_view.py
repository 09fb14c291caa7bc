"""The drug × reaction causality table of the case view (``riskplan case show``, the web case page).

One row per assessment of each suspect or interacting drug against each reaction of the version shown:
recorded here (signed, :mod:`riskplan.cases.causality`) or carried in the ICSR as received (E2B(R3)
G.k.9.i.2.r from the sender); a pair nobody has assessed yet has one row that says so. An assessment
recorded for a pair the version shown no longer has is listed with a note.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from riskplan.cases.causality import PairAssessment, causality_assessments, suspect_pairs
from riskplan.cases.causality_scales import read_result
from riskplan.cases.model import Icsr

__all__ = ["CausalityView", "causality_table"]

NOT_ASSESSED = "not assessed yet"


class CausalityView(BaseModel):
    """One assessment of one pair (or a pair not assessed yet: ``method`` None)."""

    model_config = ConfigDict(frozen=True)

    drug: str  # number and name
    reaction: str  # number and term
    source: str | None = None  # G.k.9.i.2.r.1
    method: str | None = None  # G.k.9.i.2.r.2
    result: str | None = None  # G.k.9.i.2.r.3 (the category)
    score: int | None = None  # Naranjo
    naranjo_answers: str | None = None
    assessor: str | None = None
    assessed_at: dt.datetime | None = None
    version: int | None = None  # the case version assessed
    signed: str | None = None
    comment: str | None = None
    note: str | None = None


def _recorded(a: PairAssessment, shown_version: int) -> CausalityView:
    notes = []
    if a.version != shown_version:
        notes.append(f"assessed on version {a.version}")
    if a.carried_from is not None:
        notes.append(f"carried from case-level assessment #{a.carried_from} (one suspect drug, one reaction)")
    return CausalityView(
        drug=f"{a.drug_seq} {a.drug_name}",
        reaction=f"{a.reaction_seq} {a.reaction_term}",
        source=a.source,
        method=a.method,
        result=a.result,
        score=a.naranjo_score,
        naranjo_answers=",".join(a.naranjo_answers) if a.naranjo_answers else None,
        assessor=a.assessed_by,
        assessed_at=a.assessed_at,
        version=a.version,
        signed=a.signed,
        comment=a.comment,
        note="; ".join(notes) or None,
    )


def causality_table(session: Session, case_id: int, version: int, icsr: Icsr) -> list[CausalityView]:
    """The rows of the table for version ``version`` (whose ICSR is ``icsr``) of case ``case_id``."""
    recorded = [a for a in causality_assessments(session, case_id) if a.version <= version]
    received = {(d.id, pair.reaction_id): pair.assessments for d in icsr.drugs for pair in d.reaction_assessments}
    rows: list[CausalityView] = []
    placed: set[int] = set()
    for p in suspect_pairs(icsr):
        drug, reaction = f"{p.drug_seq} {p.drug_name}", f"{p.reaction_seq} {p.reaction_term}"
        mine = [a for a in recorded if (a.drug_uid, a.reaction_uid) == (p.drug_uid, p.reaction_uid)]
        placed.update(a.id for a in mine)
        theirs = received.get((p.drug_uid, p.reaction_uid), ())
        for r in theirs:
            read = read_result(r.method, r.result)
            rows.append(
                CausalityView(
                    drug=drug,
                    reaction=reaction,
                    source=r.source,
                    method=r.method,
                    result=read.result if read else r.result,
                    score=read.score if read else None,
                    note="as received in the ICSR (G.k.9.i.2.r), not signed here",
                )
            )
        rows += [_recorded(a, version) for a in mine]
        if not mine and not theirs:
            rows.append(CausalityView(drug=drug, reaction=reaction, note=NOT_ASSESSED))
    for a in recorded:
        if a.id not in placed:
            row = _recorded(a, version)
            note = f"this pair is not in version {version}" + (f"; {row.note}" if row.note else "")
            rows.append(row.model_copy(update={"note": note}))
    return rows
