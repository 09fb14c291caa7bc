"""The MedDRA terms a safety concern's definition stands for in one release: its PTs, the PTs under its
HLTs and HLGTs, and the terms of its SMQs (narrow or broad), each with the reason it is in the set.

A definition names terms by name (or 8-digit code) so that a plan reads the same across releases;
:func:`expand_concern_terms` resolves them against a loaded release. Algorithmic SMQs searched broad
keep their algorithm, applied case by case (:func:`ConcernTerms.case_reasons`; MedDRA SMQ Introductory
Guide, "Algorithmic SMQs"): where the algorithm is not a boolean expression of categories riskplan can
evaluate, the broad term set is used and the reason says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from riskplan.plan import ConcernDefinition, RiskManagementPlan
from riskplan.terms.smq import SmqTerms, find_smq, meets_algorithm, smq_terms
from riskplan.terms.tables import MeddraHierarchy, MeddraHlgt, MeddraHlt, MeddraPt
from riskplan.terms.text import fold_term


@dataclass(frozen=True)
class ConcernTerms:
    """A concern definition's terms in MedDRA ``release``; codes map to the reason they are included."""

    release: str
    pts: Mapping[int, str]
    llts: Mapping[int, str]
    algorithmic: tuple[SmqTerms, ...] = ()
    unresolved: tuple[str, ...] = ()

    def reaction_reason(self, pt_code: int | None, llt_code: int | None) -> str | None:
        """Why a reaction coded to this PT / LLT counts (None when it does not), algorithms aside."""
        if pt_code is not None and pt_code in self.pts:
            return self.pts[pt_code]
        if llt_code is not None and llt_code in self.llts:
            return self.llts[llt_code]
        return None

    def case_reasons(self, coded: Sequence[tuple[int | None, int | None]]) -> list[str]:
        """The algorithmic SMQs a case meets, given its reactions' ``(pt_code, llt_code)``."""
        reasons = []
        for smq in self.algorithmic:
            assert smq.algorithm is not None
            hit = {smq.pts[p] for p, _ in coded if p is not None and p in smq.pts}
            hit |= {smq.llts[x] for _, x in coded if x is not None and x in smq.llts}
            if hit and meets_algorithm(smq.algorithm, frozenset(hit)):
                reasons.append(
                    f"{smq.name} (broad, algorithm {smq.algorithm!r} applied to the case: categories "
                    f"{', '.join(sorted(hit))}; MedDRA {self.release})"
                )
        return reasons

    @property
    def codes(self) -> frozenset[int]:
        """Every PT code in the set, algorithmic SMQs' broad terms included (for counting events)."""
        return frozenset(self.pts) | frozenset(p for s in self.algorithmic for p in s.pts)


def _pts_under(session: Session, release: str, column: object, codes: Iterable[int]) -> list[int]:
    wanted = sorted(set(codes))
    if not wanted:
        return []
    rows = session.scalars(
        select(MeddraHierarchy.pt_code)
        .where(MeddraHierarchy.release_version == release, column.in_(wanted))  # type: ignore[attr-defined]
        .distinct()
    )
    return sorted(int(c) for c in rows)


def _by_name(session: Session, release: str, model: type, level: str, names: Iterable[str]) -> dict[str, int | None]:
    code_col = getattr(model, f"{level}_code")
    folded_col = getattr(model, f"{level}_name_folded")
    out: dict[str, int | None] = {}
    for name in names:
        text = name.strip()
        stmt = select(code_col).where(model.release_version == release)  # type: ignore[attr-defined]
        if text.isascii() and text.isdigit():
            stmt = stmt.where(code_col == int(text))
        else:
            stmt = stmt.where(folded_col == fold_term(text))
        found = session.scalars(stmt).first()
        out[name] = int(found) if found is not None else None
    return out


def expand_concern_terms(session: Session, definition: ConcernDefinition, release: str) -> ConcernTerms:
    """The terms ``definition`` stands for in ``release`` (see the module docstring).

    SOCs are not expanded here: they keep their own rule (the reaction's primary SOC, serious reactions
    only when ``serious_only``) in the case-to-concern mapping.
    """
    pts: dict[int, str] = {}
    llts: dict[int, str] = {}
    algorithmic: list[SmqTerms] = []
    unresolved: list[str] = []
    for name, code in _by_name(session, release, MeddraPt, "pt", definition.meddra_pts).items():
        if code is None:
            unresolved.append(f"PT {name}")
        else:
            pts.setdefault(code, f"PT {name}")
    for level, model, names, column in (
        ("hlt", MeddraHlt, definition.meddra_hlts, MeddraHierarchy.hlt_code),
        ("hlgt", MeddraHlgt, definition.meddra_hlgts, MeddraHierarchy.hlgt_code),
    ):
        for name, code in _by_name(session, release, model, level, names).items():
            if code is None:
                unresolved.append(f"{level.upper()} {name}")
                continue
            for pt in _pts_under(session, release, column, [code]):
                pts.setdefault(pt, f"{level.upper()} {name}")
    for ref in definition.meddra_smqs:
        smq = find_smq(session, release, ref.name)
        if smq is None:
            unresolved.append(f"SMQ {ref.name}")
            continue
        terms = smq_terms(session, release, smq, ref.scope)
        if terms.algorithm is not None:
            algorithmic.append(terms)
            continue
        note = ""
        if ref.scope == "broad" and terms.algorithm_text != "N":
            note = f", algorithm {terms.algorithm_text!r} not applied: broad term set"
        for pt, _ in terms.pts.items():
            pts.setdefault(pt, f"{smq.smq_name} ({ref.scope}{note})")
        for llt, _ in terms.llts.items():
            llts.setdefault(llt, f"{smq.smq_name} ({ref.scope}{note})")
    return ConcernTerms(release, pts, llts, tuple(algorithmic), tuple(unresolved))


def expand_plan_terms(session: Session, plan: RiskManagementPlan, release: str) -> dict[str, ConcernTerms]:
    """:func:`expand_concern_terms` for each concern of ``plan`` whose definition names MedDRA terms."""
    return {
        c.id: expand_concern_terms(session, c.definition, release)
        for c in plan.safety_concerns
        if c.definition.has_terms
    }
