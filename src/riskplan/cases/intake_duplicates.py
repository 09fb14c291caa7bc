"""Duplicate candidates of a case about to be entered: stored cases that may report the same patient and event.

The scoring is :mod:`riskplan.cases.duplicates`' (vigiMatch-style weights with the reason for each);
here the stored cases worth scoring are found with the database instead of reading every case, by the
blocking keys of ``riskplan case duplicates`` (a reaction — MedDRA PT or the reporter's words — with its
onset date, or with the patient's sex and age band; the patient's sex, age and country), at most
:data:`POOL` of them, the likeliest first. Rarity weights (a rare PT or suspect drug says more) are counted
over the latest versions of all stored cases, as ``riskplan case duplicates`` weighs them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import and_, distinct, func, or_, select
from sqlalchemy.orm import Session

from riskplan.cases.duplicates import DEFAULT_THRESHOLD, PT_WEIGHT_CAP, SUSPECT_WEIGHT_CAP, WEIGHTS, score_pair
from riskplan.cases.extract import facts_from_icsr
from riskplan.cases.facts import CaseFacts, DrugFacts, ReactionFacts
from riskplan.cases.model import Icsr
from riskplan.cases.store import IS_LATEST_VERSION, case_number
from riskplan.cases.tables import CaseDrugRow, CaseReactionRow, CaseRow, CaseVersionRow

__all__ = ["IntakeCandidate", "duplicate_candidates"]

POOL: Final = 200  # stored cases scored at most (the likeliest, then the most recently received)


@dataclass(frozen=True)
class IntakeCandidate:
    case_number: str
    worldwide_id: str
    score: float
    reasons: tuple[str, ...]


def _pool(session: Session, new: CaseFacts) -> list[int]:
    """Ids of the stored latest versions worth scoring against ``new``, the likeliest first: sharing a
    reaction and its onset date, then a reaction and the patient's sex and age band, then the patient's
    sex, age (within a year) and country, then a reaction (the blocking keys of ``case duplicates``)."""
    terms = {r.pt_name.casefold() for r in new.reactions if r.pt_name}
    words = {r.verbatim.casefold() for r in new.reactions if r.verbatim}
    onsets = {r.onset for r in new.reactions if r.onset is not None}
    same_reaction = or_(func.lower(CaseReactionRow.pt_name).in_(terms), func.lower(CaseReactionRow.verbatim).in_(words))
    tiers: list[Any] = []
    if (terms or words) and onsets:
        tiers.append(
            CaseVersionRow.id.in_(
                select(CaseReactionRow.case_version_id).where(same_reaction, CaseReactionRow.onset.in_(onsets))
            )
        )
    patient = []
    if new.sex is not None:
        patient.append(CaseVersionRow.sex == new.sex)
    if new.age_years is not None:
        band = new.age_years // 5 * 5
        patient.append(CaseVersionRow.age_years.between(band, band + 5))
    if (terms or words) and patient:
        tiers.append(
            and_(*patient, CaseVersionRow.id.in_(select(CaseReactionRow.case_version_id).where(same_reaction)))
        )
    if new.sex and new.age_years is not None and new.reporter_country:
        tiers.append(
            and_(
                CaseVersionRow.sex == new.sex,
                CaseVersionRow.age_years.between(new.age_years - 1, new.age_years + 1),
                CaseVersionRow.country == new.reporter_country,
            )
        )
    if terms or words:
        tiers.append(CaseVersionRow.id.in_(select(CaseReactionRow.case_version_id).where(same_reaction)))
    found: dict[int, None] = {}
    for where in tiers:
        stmt = (
            select(CaseVersionRow.id)
            .join(CaseRow, IS_LATEST_VERSION)
            .where(where, CaseRow.worldwide_id != new.case_key)
            .order_by(CaseVersionRow.received.desc(), CaseVersionRow.id.desc())
            .limit(POOL - len(found))
        )
        found.update(dict.fromkeys(session.scalars(stmt)))
        if len(found) >= POOL:
            break
    return list(found)


def _suspect_names(facts: CaseFacts) -> set[str]:
    """The suspect drugs' substances, else product names, case-folded (what the scoring compares)."""
    return {
        name.casefold().strip()
        for drug in facts.suspect_drugs
        for name in (drug.substances or ((drug.product,) if drug.product else ()))
    }


def _weights(session: Session, names: set[str], column: object, floor: float, cap: float) -> dict[str, float]:
    """log2(cases / cases with the name) per name, between ``floor`` and ``cap`` (hit-miss rarity)."""
    total = session.scalar(select(func.count()).select_from(CaseRow)) or 0
    weights: dict[str, float] = {}
    for name in names:
        if column is CaseReactionRow.pt_name:
            where = func.lower(CaseReactionRow.pt_name) == name
            found = select(CaseReactionRow.case_version_id).where(where)
        else:
            where = or_(func.lower(CaseDrugRow.substances).contains(name), func.lower(CaseDrugRow.product) == name)
            found = select(CaseDrugRow.case_version_id).where(
                where, CaseDrugRow.characterisation.in_(("suspect", "interacting"))
            )
        count = session.scalar(
            select(func.count(distinct(CaseVersionRow.case_id)))
            .join(CaseRow, IS_LATEST_VERSION)
            .where(CaseVersionRow.id.in_(found))
        )
        n = (count or 0) + 1  # the new case has it too
        weights[name] = min(cap, max(floor, math.log2((total + 1) / n)))
    return weights


#: What the fields not kept beside the stored case (initials, birth date, qualification) add at most.
_UNPROJECTED_AT_MOST: Final = WEIGHTS["initials"][0] + WEIGHTS["birth_date"][0] + WEIGHTS["qualification"][0]


def _projected(session: Session, ids: list[int]) -> dict[int, CaseFacts]:
    """The facts of stored versions kept beside them (sex, age, country, dates, reactions, drugs), without
    reading their ICSRs: enough to rule most of them out."""
    facts: dict[int, CaseFacts] = {}
    reactions: dict[int, list[ReactionFacts]] = defaultdict(list)
    for vid, verbatim, pt, onset in session.execute(
        select(
            CaseReactionRow.case_version_id, CaseReactionRow.verbatim, CaseReactionRow.pt_name, CaseReactionRow.onset
        ).where(CaseReactionRow.case_version_id.in_(ids))
    ):
        reactions[vid].append(ReactionFacts(verbatim=verbatim, pt_name=pt, onset=onset))
    drugs: dict[int, list[DrugFacts]] = defaultdict(list)
    for vid, role, product, substances in session.execute(
        select(
            CaseDrugRow.case_version_id, CaseDrugRow.characterisation, CaseDrugRow.product, CaseDrugRow.substances
        ).where(CaseDrugRow.case_version_id.in_(ids))
    ):
        drugs[vid].append(DrugFacts(role, product, tuple(substances.split("; ")) if substances else ()))
    for vid, wid, sex, age, country, first_received in session.execute(
        select(
            CaseVersionRow.id,
            CaseRow.worldwide_id,
            CaseVersionRow.sex,
            CaseVersionRow.age_years,
            CaseVersionRow.country,
            CaseVersionRow.first_received,
        )
        .join(CaseRow, CaseRow.id == CaseVersionRow.case_id)
        .where(CaseVersionRow.id.in_(ids))
    ):
        facts[vid] = CaseFacts(
            case_key=wid,
            reactions=tuple(reactions[vid]),
            drugs=tuple(drugs[vid]),
            age_years=age,
            sex=sex,
            reporter_country=country,
            first_received=first_received,
        )
    return facts


def duplicate_candidates(
    session: Session, new: Icsr, *, threshold: float = DEFAULT_THRESHOLD, limit: int = 10
) -> list[IntakeCandidate]:
    """Stored cases scoring at least ``threshold`` against ``new`` (as coded), best first, with the reasons.

    Each stored case is first scored on the facts kept beside it; only those that could still reach the
    threshold with the rest (initials, birth date, qualification) are read whole and scored exactly.
    """
    facts = facts_from_icsr(new)
    ids = _pool(session, facts)
    if not ids:
        return []
    pts = _weights(session, set(facts.pt_names), CaseReactionRow.pt_name, 0.5, PT_WEIGHT_CAP)
    drugs = _weights(session, _suspect_names(facts), CaseDrugRow.substances, 0.0, SUSPECT_WEIGHT_CAP)
    projected = _projected(session, ids)
    likely = [
        v for v, f in projected.items() if score_pair(facts, f, pts, drugs)[0] + _UNPROJECTED_AT_MOST >= threshold
    ]
    if not likely:
        return []
    rows = session.execute(
        select(CaseVersionRow.case_id, CaseRow.worldwide_id, CaseVersionRow.icsr_json)
        .join(CaseRow, CaseRow.id == CaseVersionRow.case_id)
        .where(CaseVersionRow.id.in_(likely))
    ).all()
    found = []
    for case_id, worldwide_id, icsr_json in rows:
        score, reasons = score_pair(facts, facts_from_icsr(Icsr.model_validate_json(icsr_json)), pts, drugs)
        if score >= threshold:
            found.append(IntakeCandidate(case_number(case_id), worldwide_id, round(score, 2), tuple(reasons)))
    return sorted(found, key=lambda c: (-c.score, c.case_number))[:limit]
