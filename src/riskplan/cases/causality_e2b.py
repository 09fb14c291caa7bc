"""The recorded causality of each drug-reaction pair, added to the ICSR that is exported (E2B(R3)
G.k.9.i.2.r: source, method and result of the assessment of relatedness of drug to reaction).

An export carries, for each pair of the exported version, the latest assessment by each method and source
recorded on that version or an earlier one (a pair is matched by the E2B ids of its drug and reaction,
G.k and E.i, which G.k.9.i.1 refers to). Relatedness assessments the ICSR already holds (as received)
are kept, and one that says the same is not written twice. Nothing here writes to the database.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from riskplan.cases.causality_scales import result_text
from riskplan.cases.model import Drug, DrugReactionAssessment, Icsr, RelatednessAssessment
from riskplan.cases.tables import CausalityRow

__all__ = ["with_recorded_causality"]


def with_recorded_causality(session: Session, versions: Iterable[tuple[int, int, Icsr]]) -> list[Icsr]:
    """Each (case id, version, ICSR) as its ICSR with the pairs' recorded causality in G.k.9.i.2.r."""
    items = list(versions)
    case_ids = sorted({case_id for case_id, _, _ in items})
    rows: dict[int, list[CausalityRow]] = {}
    for start in range(0, len(case_ids), 500):
        chunk = case_ids[start : start + 500]
        for row in session.scalars(
            select(CausalityRow).where(CausalityRow.case_id.in_(chunk)).order_by(CausalityRow.id)
        ):
            rows.setdefault(row.case_id, []).append(row)
    return [
        _merged(icsr, [r for r in rows.get(case_id, []) if r.version <= version]) for case_id, version, icsr in items
    ]


def _merged(icsr: Icsr, rows: list[CausalityRow]) -> Icsr:
    if not rows:
        return icsr
    latest: dict[tuple[str, str, str, str], CausalityRow] = {}
    for row in rows:  # in the order recorded: a later assessment by the same method and source replaces one
        latest[(row.drug_uid, row.reaction_uid, row.method, row.source)] = row
    reaction_ids = {r.id for r in icsr.reactions}
    drugs = [
        _drug(d, [r for r in latest.values() if r.drug_uid == d.id and r.reaction_uid in reaction_ids])
        for d in icsr.drugs
    ]
    return icsr.model_copy(update={"drugs": tuple(drugs)})


def _drug(drug: Drug, rows: list[CausalityRow]) -> Drug:
    if not rows or not drug.is_suspect:
        return drug
    pairs = list(drug.reaction_assessments)
    for row in rows:
        relatedness = RelatednessAssessment(
            source=row.source, method=row.method, result=result_text(row.method, row.result, row.naranjo_score)
        )
        at = next((i for i, p in enumerate(pairs) if p.reaction_id == row.reaction_uid), None)
        if at is None:
            pairs.append(DrugReactionAssessment(reaction_id=row.reaction_uid, assessments=(relatedness,)))
        elif relatedness not in pairs[at].assessments:
            pairs[at] = pairs[at].model_copy(update={"assessments": (*pairs[at].assessments, relatedness)})
    return drug.model_copy(update={"reaction_assessments": tuple(pairs)})
