"""Case processing: coding, validity, seriousness, listedness and safety-concern mapping of one ICSR.

The steps, each a function of its own module, in the order a case processor works:

1. coding (:func:`code_reactions`): each reaction's verbatim to a MedDRA LLT/PT with the user's release,
   or to a PT of the plan's open term list where no release is loaded;
2. validity (:mod:`riskplan.cases.validity`): the four ICH minimum criteria;
3. seriousness per reaction (E2B E.i.3.2, ICH E2A) and listedness against the plan's reference safety
   information (:mod:`riskplan.cases.listedness`);
4. safety-concern mapping (:mod:`riskplan.cases.concerns`) by the plan's concern definitions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from riskplan.cases.concerns import ConcernMatch, match_concerns
from riskplan.cases.extract import facts_from_icsr
from riskplan.cases.facts import CaseFacts
from riskplan.cases.listedness import Listedness, listedness
from riskplan.cases.model import Icsr, MeddraTerm, Reaction
from riskplan.cases.validity import Validity, assess_validity
from riskplan.plan import RiskManagementPlan
from riskplan.terms import CodingResult, CodingStatus, ConcernTerms, Terminology, code_verbatim


@dataclass(frozen=True)
class AssessedReaction:
    reaction_id: str
    verbatim: str
    coding: CodingResult | None
    serious: bool
    seriousness_criteria: tuple[str, ...]
    listedness: Listedness
    onset: dt.date | None
    outcome: str | None


@dataclass(frozen=True)
class AssessedCase:
    icsr: Icsr  # as coded
    validity: Validity
    reactions: tuple[AssessedReaction, ...]
    concerns: tuple[ConcernMatch, ...]
    facts: CaseFacts

    @property
    def serious(self) -> bool:
        return any(r.serious for r in self.reactions)


@dataclass
class CaseProcessor:
    """Processes cases against one plan and one terminology; remembers each verbatim's coding."""

    plan: RiskManagementPlan
    terms: Terminology
    concern_terms: Mapping[str, ConcernTerms] | None = None
    _cache: dict[str, CodingResult] = field(default_factory=dict, repr=False)

    def code(self, verbatim: str) -> CodingResult:
        result = self._cache.get(verbatim)
        if result is None:
            result = code_verbatim(verbatim, self.terms)
            self._cache[verbatim] = result
        return result

    def assess(self, icsr: Icsr) -> AssessedCase:
        coded, results = code_reactions(icsr, self.code)
        validity = assess_validity(coded)
        facts = facts_from_icsr(coded, results)
        reactions = tuple(
            AssessedReaction(
                reaction_id=r.id,
                verbatim=rf.verbatim,
                coding=res,
                serious=r.is_serious,
                seriousness_criteria=rf.seriousness_criteria,
                listedness=listedness(rf, self.plan),
                onset=rf.onset,
                outcome=r.outcome.label if r.outcome is not None else None,
            )
            for r, rf, res in zip(coded.reactions, facts.reactions, results, strict=True)
        )
        concerns = tuple(match_concerns(facts, self.plan, self.concern_terms))
        return AssessedCase(coded, validity, reactions, concerns, facts)


def reaction_verbatim(reaction: Reaction) -> str | None:
    return reaction.verbatim_term_english or reaction.verbatim_term


HAND_CODED = "coded by hand"


def hand_coding(reaction: Reaction, verbatim: str, of_pt: CodingResult) -> CodingResult:
    """The coding a person chose for ``reaction`` (``coded_by_hand``), as a coding result; the SOC (and a
    missing PT code) come from ``of_pt``, the coding of the chosen PT's own name."""
    pt_code = int(reaction.pt_code) if reaction.pt_code else of_pt.pt_code
    return CodingResult(
        verbatim=verbatim,
        status=CodingStatus.CODED,
        terminology=of_pt.terminology,
        terminology_version=of_pt.terminology_version,
        llt_code=int(reaction.meddra.code) if reaction.meddra is not None else None,
        llt_name=reaction.llt_name,
        pt_code=pt_code,
        pt_name=reaction.pt_name,
        soc_code=of_pt.soc_code,
        soc_name=of_pt.soc_name,
        matched_term=reaction.llt_name or reaction.pt_name,
        source=HAND_CODED,
        note=HAND_CODED,
    )


def code_reactions(icsr: Icsr, code: Callable[[str], CodingResult]) -> tuple[Icsr, list[CodingResult | None]]:
    """``icsr`` with each reaction's PT (and, with MedDRA, its E.i.2.1 LLT where absent) filled in."""
    results: list[CodingResult | None] = []
    reactions = []
    for reaction in icsr.reactions:
        verbatim = reaction_verbatim(reaction)
        if reaction.coded_by_hand and reaction.pt_name:
            # MTS:PTC "use of medical judgement": a term chosen by a person is kept, never re-coded
            results.append(hand_coding(reaction, verbatim or reaction.pt_name, code(reaction.pt_name)))
            reactions.append(reaction)
            continue
        result: CodingResult | None = code(verbatim) if verbatim else None
        results.append(result)
        if result is None or not result.is_coded:
            reactions.append(reaction)
            continue
        update: dict[str, object] = {
            "pt_name": result.pt_name,
            "pt_code": f"{result.pt_code:08d}" if result.pt_code is not None else reaction.pt_code,
            "llt_name": result.llt_name,
        }
        if reaction.meddra is None and result.llt_code is not None and result.terminology_version:
            update["meddra"] = MeddraTerm(version=result.terminology_version, code=f"{result.llt_code:08d}")
        reactions.append(reaction.model_copy(update=update))
    return icsr.model_copy(update={"reactions": tuple(reactions)}), results
