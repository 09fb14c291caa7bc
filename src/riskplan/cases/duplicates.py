"""Duplicate detection: candidate pairs scored by probabilistic record linkage.

In the spirit of vigiMatch (Norén, Orre, Bate, Edwards 2007, Data Min Knowl Disc 14:305; Tregunno et
al. 2014, Drug Saf 37:249): each field contributes a log2 likelihood-ratio weight — positive when two
reports agree on it, negative when they disagree, nothing when either lacks it — and agreement on a
rare reaction term counts more than on a common one (weight log2 of the inverse relative frequency of
the PT in the case base, as in the hit-miss model). Pairs are blocked on keys two reports of one patient's
event are likely to share (reaction term with sex and age band, reaction term with onset date, birth
date, initials with sex), scored, and ranked with the reason for every weight. Shared suspect drugs
weigh by their rarity too, so in a single-product database the product itself adds nothing.

The weights are documented defaults, not fitted to a labelled set of duplicates; a pair above
:data:`DEFAULT_THRESHOLD` is a *candidate* for a case processor to confirm, never merged automatically.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

from riskplan.cases.facts import CaseFacts

DEFAULT_THRESHOLD = 12.0

# (agree, disagree) weights in bits.
WEIGHTS: dict[str, tuple[float, float]] = {
    "sex": (0.5, -6.0),
    "age": (2.0, -4.0),
    "initials": (3.0, -2.0),
    "birth_date": (7.0, -6.0),
    "country": (1.0, -3.0),
    "qualification": (0.5, -0.5),
    "onset": (4.0, -1.5),
    "received": (1.5, -0.5),
}
SUSPECT_WEIGHT_CAP = 4.0  # per shared suspect substance, by its rarity in the case base
SUSPECT_NONE_SHARED = -4.0
PT_WEIGHT_CAP = 6.0
PT_UNMATCHED = -0.5  # per reaction term in one report and not the other
AGE_TOLERANCE_YEARS = 1.0
ONSET_TOLERANCE_DAYS = 3
RECEIVED_WINDOW_DAYS = 30


@dataclass(frozen=True)
class DuplicateCandidate:
    case_a: str
    case_b: str
    score: float
    reasons: tuple[str, ...]


def _norm_substances(facts: CaseFacts) -> set[str]:
    """Active substances of the suspect drugs, or the product name where no substance is given."""
    names: set[str] = set()
    for drug in facts.suspect_drugs:
        for name in drug.substances or ((drug.product,) if drug.product else ()):
            names.add(name.casefold().strip())
    return names


def _rarity_weights(sets: Sequence[frozenset[str] | set[str]], cap: float, floor: float) -> dict[str, float]:
    """log2(number of cases / cases with the value), between ``floor`` and ``cap`` (hit-miss model)."""
    counts: Counter[str] = Counter()
    for values in sets:
        counts.update(values)
    total = max(len(sets), 1)
    return {v: min(cap, max(floor, math.log2(total / n))) for v, n in counts.items()}


def pt_weights(cases: Sequence[CaseFacts]) -> dict[str, float]:
    """Agreement on a rare PT says more than on a common one."""
    return _rarity_weights([c.pt_names for c in cases], PT_WEIGHT_CAP, 0.5)


def drug_weights(cases: Sequence[CaseFacts]) -> dict[str, float]:
    """A suspect drug shared by every case in a single-product database says nothing."""
    return _rarity_weights([_norm_substances(c) for c in cases], SUSPECT_WEIGHT_CAP, 0.0)


def score_pair(
    a: CaseFacts, b: CaseFacts, pt_weight: dict[str, float], drug_weight: dict[str, float] | None = None
) -> tuple[float, list[str]]:
    """The match score of two cases and the reason for each contribution."""
    score = 0.0
    reasons: list[str] = []

    def add(field: str, agree: bool | None, detail: str) -> None:
        nonlocal score
        if agree is None:
            return
        w = WEIGHTS[field][0 if agree else 1]
        score += w
        reasons.append(f"{'+' if w >= 0 else ''}{w:g} {field} {'agrees' if agree else 'differs'}: {detail}")

    if a.sex and b.sex:
        add("sex", a.sex == b.sex, f"{a.sex} / {b.sex}")
    if a.age_years is not None and b.age_years is not None:
        add("age", abs(a.age_years - b.age_years) <= AGE_TOLERANCE_YEARS, f"{a.age_years:g} / {b.age_years:g}")
    if a.patient_initials and b.patient_initials:
        ia, ib = a.patient_initials.upper().replace(".", ""), b.patient_initials.upper().replace(".", "")
        add("initials", ia == ib, f"{ia} / {ib}")
    if a.birth_date and b.birth_date:
        add("birth_date", a.birth_date == b.birth_date, f"{a.birth_date} / {b.birth_date}")
    if a.reporter_country and b.reporter_country:
        add("country", a.reporter_country == b.reporter_country, f"{a.reporter_country} / {b.reporter_country}")
    if a.reporter_qualification and b.reporter_qualification:
        add(
            "qualification",
            a.reporter_qualification == b.reporter_qualification,
            f"{a.reporter_qualification} / {b.reporter_qualification}",
        )
    onsets_a = {r.onset for r in a.reactions if r.onset}
    onsets_b = {r.onset for r in b.reactions if r.onset}
    if onsets_a and onsets_b:
        closest = min(abs((x - y).days) for x in onsets_a for y in onsets_b)
        add("onset", closest <= ONSET_TOLERANCE_DAYS, f"closest reaction onsets {closest} day(s) apart")
    if a.first_received and b.first_received:
        gap = abs((a.first_received - b.first_received).days)
        add("received", gap <= RECEIVED_WINDOW_DAYS, f"first received {gap} day(s) apart")

    shared_drugs = _norm_substances(a) & _norm_substances(b)
    if shared_drugs:
        w = sum((drug_weight or {}).get(d, 1.0) for d in shared_drugs)
        score += w
        reasons.append(f"+{w:.2f} suspect drug(s) shared: {', '.join(sorted(shared_drugs))}")
    elif _norm_substances(a) and _norm_substances(b):
        score += SUSPECT_NONE_SHARED
        reasons.append(f"{SUSPECT_NONE_SHARED:g} no suspect drug shared")

    shared_pts = a.pt_names & b.pt_names
    for pt in sorted(shared_pts):
        w = pt_weight.get(pt, 1.0)
        score += w
        reasons.append(f"+{w:.2f} reaction {pt} in both")
    unmatched = len(a.pt_names ^ b.pt_names)
    if unmatched:
        score += PT_UNMATCHED * unmatched
        reasons.append(f"{PT_UNMATCHED * unmatched:g} {unmatched} reaction term(s) in only one report")
    return score, reasons


def _age_band(facts: CaseFacts) -> str:
    return "?" if facts.age_years is None else str(int(facts.age_years // 5))


def _blocking_keys(c: CaseFacts) -> set[tuple[str, ...]]:
    """Keys two reports of one patient and event are likely to share; a pair must share one to be scored."""
    keys: set[tuple[str, ...]] = set()
    for pt in c.pt_names:
        keys.add(("pt-patient", pt, c.sex or "?", _age_band(c)))
    for r in c.reactions:
        if r.onset is not None:
            keys.add(("onset", (r.pt_name or r.verbatim).casefold(), r.onset.isoformat()))
    if c.birth_date:
        keys.add(("birth date", c.birth_date.isoformat()))
    if c.patient_initials:
        keys.add(("initials", c.patient_initials.upper().replace(".", ""), c.sex or "?"))
    return keys


def candidate_pairs(cases: Sequence[CaseFacts]) -> set[tuple[int, int]]:
    """Blocking: pairs sharing a reaction term and patient sex and age band, a reaction term and onset date,
    a birth date, or initials and sex."""
    blocks: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, c in enumerate(cases):
        for key in _blocking_keys(c):
            blocks[key].append(i)
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        pairs.update(combinations(sorted(set(members)), 2))
    return pairs


def find_duplicates(
    cases: Sequence[CaseFacts], *, threshold: float = DEFAULT_THRESHOLD, only: str | None = None
) -> list[DuplicateCandidate]:
    """Candidate duplicate pairs scoring at least ``threshold``, best first (optionally only with ``only``)."""
    weights = pt_weights(cases)
    drugs = drug_weights(cases)
    found = []
    for i, j in candidate_pairs(cases):
        a, b = cases[i], cases[j]
        if only is not None and only not in (a.case_key, b.case_key):
            continue
        score, reasons = score_pair(a, b, weights, drugs)
        if score >= threshold:
            found.append(DuplicateCandidate(a.case_key, b.case_key, round(score, 2), tuple(reasons)))
    return sorted(found, key=lambda d: (-d.score, d.case_a, d.case_b))
