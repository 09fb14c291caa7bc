"""Causality per drug-reaction pair for readers outside ``cases/``: the PSUR (counts per product and
interval) and the signal review (the pairs of a signal's case series).

A pair is a suspect or interacting drug (G.k.1 = 1 or 3) of the product and one reaction of the latest
version of a case (for a periodic report, as of its data lock point: the latest version received on or
before it, so that a follow-up after the DLP does not change a regenerated report). Its causality is the
latest assessment recorded here by each method (WHO-UMC, Naranjo; signed, :mod:`riskplan.cases.causality`);
where none was recorded, what the ICSR carries as received (E2B(R3) G.k.9.i.2.r, read as WHO-UMC or Naranjo
where it is one of them); else "not assessed". Counts are of pairs, per method and category; a case with two
reactions to the product counts twice.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from riskplan.cases.causality import PairAssessment, causality_assessments, drug_name
from riskplan.cases.causality_scales import Method, read_result
from riskplan.cases.model import Drug, Icsr
from riskplan.cases.store import IS_LATEST_VERSION, case_number
from riskplan.cases.tables import CaseDrugRow, CaseRow, CaseVersionRow
from riskplan.errors import UserInputError

__all__ = ["NOT_ASSESSED", "CausalitySummary", "PairCausality", "causality_by_product", "causality_of_cases"]

NOT_ASSESSED: Final = "not assessed"
SUSPECT_ROLES: Final = ("suspect", "interacting")  # icsr_drug.characterisation (G.k.1 = 1 or 3)
Origin = Literal["recorded", "as received", "not assessed"]


@dataclass(frozen=True)
class PairCausality:
    """The causality of one drug-reaction pair of one case (one row per method that assessed it)."""

    case_number: str
    worldwide_id: str  # C.1.8.1
    version: int  # the version whose pairs these are (the latest, or the latest as of the DLP)
    drug_seq: int
    drug: str
    reaction_seq: int
    reaction: str
    method: str | None  # WHO-UMC, Naranjo, another received method's text; None: not assessed
    result: str  # the category (e.g. "probable"), or "not assessed"
    score: int | None  # Naranjo
    source: str | None  # G.k.9.i.2.r.1
    assessor: str | None  # who recorded it here (None: as received or not assessed)
    assessed_at: dt.datetime | None
    origin: Origin


@dataclass(frozen=True)
class CausalitySummary:
    """The pairs of a product's cases first received in ``start``..``end`` (inclusive), and their counts."""

    product: str
    start: dt.date
    end: dt.date
    cases: int
    pairs: list[PairCausality]
    # method → category → number of pairs; pairs no method assessed are under "not assessed" → "not assessed"
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def by_who_umc(self) -> dict[str, int]:
        """Pairs by WHO-UMC category, with the pairs not assessed by WHO-UMC as "not assessed"."""
        assessed = {(p.case_number, p.drug_seq, p.reaction_seq) for p in self.pairs if p.method == Method.WHO_UMC}
        every = {(p.case_number, p.drug_seq, p.reaction_seq) for p in self.pairs}
        found = dict(self.counts.get(Method.WHO_UMC.value, {}))
        if every - assessed:
            found[NOT_ASSESSED] = len(every - assessed)
        return found


def _matches(drug: Drug, needle: str | None) -> bool:
    if needle is None:
        return True
    names = [drug.name or "", *(s.name or "" for s in drug.substances)]
    return any(needle in n.lower() for n in names)


def _pairs_of(
    case_id: int, version: int, wid: str, icsr: Icsr, recorded: Sequence[PairAssessment], product: str | None
) -> list[PairCausality]:
    number = case_number(case_id)
    out: list[PairCausality] = []
    for d_seq, d in enumerate(icsr.drugs, start=1):
        if not d.is_suspect or not _matches(d, product):
            continue
        received = {p.reaction_id: p.assessments for p in d.reaction_assessments}
        for r_seq, r in enumerate(icsr.reactions, start=1):
            base = (number, wid, version, d_seq, drug_name(d), r_seq, r.label)
            latest: dict[str, PairAssessment] = {}
            for a in recorded:  # in the order recorded: the last by each method stands
                if (a.drug_uid, a.reaction_uid) == (d.id, r.id):
                    latest[a.method] = a
            rows = [
                PairCausality(
                    *base, a.method, a.result, a.naranjo_score, a.source, a.assessed_by, a.assessed_at, "recorded"
                )
                for a in latest.values()
            ]
            if not rows:
                for x in received.get(r.id, ()):
                    read = read_result(x.method, x.result)
                    method = read.method.value if read else x.method
                    result = read.result if read else (x.result or NOT_ASSESSED)
                    score = read.score if read else None
                    rows.append(PairCausality(*base, method, result, score, x.source, None, None, "as received"))
            if not rows:
                rows.append(PairCausality(*base, None, NOT_ASSESSED, None, None, None, None, "not assessed"))
            out += rows
    return out


def _counts(pairs: Iterable[PairCausality]) -> dict[str, dict[str, int]]:
    counted: dict[str, Counter[str]] = {}
    for p in pairs:
        counted.setdefault(p.method or NOT_ASSESSED, Counter())[p.result] += 1
    return {method: dict(sorted(c.items())) for method, c in counted.items()}


def _version_of_case(as_of: dt.date | None) -> ColumnElement[bool]:
    """The join of a case to its latest version, or (``as_of`` given) to its latest version received (C.1.5) on
    or before ``as_of``: the version a periodic report with that data lock point counts
    (:func:`riskplan.cases.versions_at_dlp`)."""
    if as_of is None:
        return IS_LATEST_VERSION
    known = (
        select(func.max(CaseVersionRow.version))
        .where(CaseVersionRow.case_id == CaseRow.id, CaseVersionRow.received <= as_of)
        .correlate(CaseRow)
        .scalar_subquery()
    )
    return and_(CaseRow.id == CaseVersionRow.case_id, CaseVersionRow.version == known)


def causality_of_cases(
    session: Session, case_ids: Iterable[int], *, product: str | None = None, as_of: dt.date | None = None
) -> list[PairCausality]:
    """The causality of every pair of the latest version of the given cases (``as_of`` a data lock point: of the
    version received on or before it) of the drugs whose name or substance contains ``product`` (any, when not
    given), case by case. Assessments recorded on a later version than the one read are left out."""
    ids = sorted(set(case_ids))
    needle = product.strip().lower() if product else None
    rows = session.execute(
        select(CaseRow.id, CaseRow.worldwide_id, CaseVersionRow.version, CaseVersionRow.icsr_json)
        .join(CaseVersionRow, _version_of_case(as_of))
        .where(CaseRow.id.in_(ids))
        .order_by(CaseRow.id)
    ).all()
    out: list[PairCausality] = []
    for case_id, wid, version, icsr_json in rows:
        recorded = [a for a in causality_assessments(session, case_id) if a.version <= version]
        out += _pairs_of(case_id, version, wid, Icsr.model_validate_json(icsr_json), recorded, needle)
    return out


def causality_by_product(
    session: Session,
    product: str,
    start: dt.date,
    end: dt.date,
    *,
    plan_name: str | None = None,
    include_synthetic: bool = False,
    at_dlp: bool = False,
) -> CausalitySummary:
    """Per-pair causality counts and per-case details for ``product`` (a product name or active substance,
    any case, matched within the name) in the valid cases (ICH E2D minimum criteria) first received
    (C.1.4, else C.1.5) from ``start`` to ``end`` inclusive; synthetic cases only when asked for.

    GVP VII.B.5.6 / ICH E2C(R2) 3.6: the PSUR's case summaries; counts are of drug-reaction pairs by method
    and category (see :class:`CausalitySummary`). ``at_dlp``: ``end`` is a data lock point: each case is read
    as its latest version received on or before it (the PSUR's appendix 20.5, like its tabulations), not as its
    latest version now."""
    needle = product.strip().lower()
    if not needle:
        raise UserInputError("no product given: name the product or active substance whose cases to count")
    if end < start:
        raise UserInputError(f"the period ends ({end}) before it starts ({start})")
    first = func.coalesce(CaseVersionRow.first_received, CaseVersionRow.received)
    pattern = f"%{needle}%"
    stmt = (
        select(CaseRow.id)
        .join(CaseVersionRow, _version_of_case(end if at_dlp else None))
        .join(CaseDrugRow, CaseDrugRow.case_version_id == CaseVersionRow.id)
        .where(
            CaseVersionRow.valid.is_(True),
            first >= start,
            first <= end,
            CaseDrugRow.characterisation.in_(SUSPECT_ROLES),
            or_(func.lower(CaseDrugRow.product).like(pattern), func.lower(CaseDrugRow.substances).like(pattern)),
        )
        .distinct()
    )
    if plan_name is not None:
        stmt = stmt.where(CaseRow.plan_name == plan_name)
    if not include_synthetic:
        stmt = stmt.where(CaseRow.synthetic.is_(False))
    case_ids = list(session.scalars(stmt))
    pairs = causality_of_cases(session, case_ids, product=needle, as_of=end if at_dlp else None)
    return CausalitySummary(product, start, end, len({p.case_number for p in pairs}), pairs, _counts(pairs))
