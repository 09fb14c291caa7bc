"""Causality per suspect drug and reaction: ICH E2B(R3) G.k.9.i.2.r (source, method and result of the
assessment of relatedness of drug to reaction), by WHO-UMC or Naranjo (:mod:`riskplan.cases.causality_scales`).

A pair is one suspect or interacting drug (G.k.1 = 1 or 3) and one reaction (E.i) of the latest version
of a case, named by their numbers as ``riskplan case show`` lists them (drug 1, reaction 2). Each
assessment concerns the version that is latest when it is recorded; assessments are only ever added,
each in the case's audit trail (action ``causality assessed``) and signed by its author, a safety
physician or the QPPV whose password was checked at the moment of signing (21 CFR 11.200), meaning
``authorship``; the signature holds the SHA-256 of the assessment and of the assessed version as stored
(21 CFR 11.70), as for the case-level assessments of :mod:`riskplan.cases.assessments`.

Case-level assessments recorded before causality per pair were carried to their pair by revision
cases_0005 where the case has one suspect drug and one reaction; the others stay case level
(:func:`case_level_assessments` says which, and why).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from riskplan.cases.assessments import ASSESSOR_ROLES, Assessment, assessments
from riskplan.cases.assessments import SIGNED_RECORD as CASE_LEVEL_RECORD
from riskplan.cases.assessments import _record_id as _case_level_record_id
from riskplan.cases.assessments import _signed_content as _case_level_content
from riskplan.cases.causality_scales import (
    Method,
    NaranjoAnswer,
    naranjo_category,
    naranjo_score,
    parse_method,
    parse_naranjo_answers,
    parse_who_umc,
    result_text,
)
from riskplan.cases.model import Drug, Icsr, Reaction
from riskplan.cases.store import ENTITY, case_number
from riskplan.cases.tables import CaseAssessmentRow, CaseRow, CaseVersionRow, CausalityRow
from riskplan.errors import NotFoundError, UserInputError
from riskplan.store import Signature, SignatureMeaning, Signer, record_change, require_role, sign, signatures, utcnow

SIGNED_RECORD = "causality assessment"
DEFAULT_SOURCE = "Marketing authorisation holder"  # G.k.9.i.2.r.1 when the assessor gives none

__all__ = [
    "DEFAULT_SOURCE",
    "CaseLevelAssessment",
    "CausalityInputError",
    "CausalityRequest",
    "DrugReactionPair",
    "PairAssessment",
    "case_level_assessments",
    "causality_assessments",
    "check_request",
    "choose_pair",
    "drug_name",
    "record_causality",
    "suspect_pairs",
]


class CausalityInputError(UserInputError):
    """A refused causality request, located: ``field`` names the part of the request that is wrong
    (``drug``, ``reaction``, ``method``, ``result``, ``answers`` or ``source``), so the JSON API can say where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _located(field: str, exc: UserInputError) -> CausalityInputError:
    return CausalityInputError(field, str(exc))


@dataclass(frozen=True)
class DrugReactionPair:
    """One suspect or interacting drug against one reaction, by their numbers in the case (from 1)."""

    drug_seq: int
    drug_uid: str  # G.k id, which G.k.9.i refers to
    drug_name: str
    reaction_seq: int
    reaction_uid: str  # E.i id (G.k.9.i.1)
    reaction_term: str

    @property
    def label(self) -> str:
        return f"drug {self.drug_seq} ({self.drug_name}) × reaction {self.reaction_seq} ({self.reaction_term})"


def drug_name(drug: Drug) -> str:
    """G.k.2.2, else the substances (G.k.2.3.r), as a reviewer names the drug."""
    substances = [s.name for s in drug.substances if s.name]
    return drug.name or "; ".join(substances) or "unnamed drug"


def _reaction_term(reaction: Reaction) -> str:
    return reaction.label


def suspect_pairs(icsr: Icsr) -> list[DrugReactionPair]:
    """Every (suspect or interacting drug, reaction) pair of the ICSR, drug by drug."""
    return [
        DrugReactionPair(d_seq, d.id, drug_name(d), r_seq, r.id, _reaction_term(r))
        for d_seq, d in enumerate(icsr.drugs, start=1)
        if d.is_suspect
        for r_seq, r in enumerate(icsr.reactions, start=1)
    ]


def choose_pair(icsr: Icsr, ref: str, drug: int | None, reaction: int | None) -> DrugReactionPair:
    """The pair named by ``drug`` and ``reaction`` (numbers as ``case show`` lists them), or the only pair
    when neither is given; UserInputError naming the case's pairs (or drugs, or reactions) otherwise."""
    pairs = suspect_pairs(icsr)
    listed = "; ".join(p.label for p in pairs)
    if not pairs:
        raise CausalityInputError(
            "drug",
            f"{ref} has no suspect or interacting drug (G.k.1 = 1 or 3) with a reaction: there is no pair "
            "whose causality could be assessed",
        )
    if drug is None and reaction is None:
        if len(pairs) == 1:
            return pairs[0]
        raise CausalityInputError(
            "drug", f"{ref} has {len(pairs)} drug-reaction pairs: say which with --drug N --reaction M ({listed})"
        )
    if drug is not None and not 1 <= drug <= len(icsr.drugs):
        raise CausalityInputError(
            "drug", f"{ref} has no drug {drug}: its drugs are 1 to {len(icsr.drugs)} ({_drugs(icsr)})"
        )
    if reaction is not None and not 1 <= reaction <= len(icsr.reactions):
        raise CausalityInputError(
            "reaction",
            f"{ref} has no reaction {reaction}: its reactions are 1 to {len(icsr.reactions)} ({_reactions(icsr)})",
        )
    if drug is not None and not icsr.drugs[drug - 1].is_suspect:
        d = icsr.drugs[drug - 1]
        role = d.role.label if d.role is not None else "without a role"
        raise CausalityInputError(
            "drug",
            f"{ref} drug {drug} ({drug_name(d)}) is {role.lower()}: causality is assessed for suspect or "
            f"interacting drugs (G.k.1 = 1 or 3); the pairs are: {listed}",
        )
    matching = [
        p for p in pairs if (drug is None or p.drug_seq == drug) and (reaction is None or p.reaction_seq == reaction)
    ]
    if len(matching) != 1:
        missing = "reaction" if reaction is None else "drug"
        raise CausalityInputError(missing, f"{ref}: give both --drug and --reaction; the pairs are: {listed}")
    return matching[0]


def _drugs(icsr: Icsr) -> str:
    return "; ".join(
        f"{n} {drug_name(d)} ({d.role.label.lower() if d.role else 'no role'})"
        for n, d in enumerate(icsr.drugs, start=1)
    )


def _reactions(icsr: Icsr) -> str:
    return "; ".join(f"{n} {_reaction_term(r)}" for n, r in enumerate(icsr.reactions, start=1))


@dataclass(frozen=True)
class CausalityRequest:
    """An assessment as asked for, checked (:func:`check_request`) before any password is asked."""

    method: Method
    result: str  # WHO-UMC category, or the Naranjo category from the answers
    answers: tuple[NaranjoAnswer, ...] | None
    score: int | None
    source: str


def check_request(
    method: str | None, result: str | None, answers: str | list[str] | None, source: str | None
) -> CausalityRequest:
    """The method, result and Naranjo answers checked against each other; UserInputError saying what is
    wrong. Without a method, answers mean Naranjo and a result means WHO-UMC."""
    try:
        chosen = parse_method(method) if method else (Method.NARANJO if answers else Method.WHO_UMC)
    except UserInputError as exc:
        raise _located("method", exc) from None
    where = (source or DEFAULT_SOURCE).strip()
    if not where:
        raise CausalityInputError("source", "the source of assessment (G.k.9.i.2.r.1) is blank")
    if chosen is Method.WHO_UMC:
        if answers:
            raise CausalityInputError(
                "answers", "Naranjo answers were given with the WHO-UMC method: use --method naranjo"
            )
        if not result:
            raise CausalityInputError(
                "result",
                "no result: give the WHO-UMC category (certain, probable, possible, unlikely, conditional, "
                "unassessable)",
            )
        try:
            category = parse_who_umc(result).value
        except UserInputError as exc:
            raise _located("result", exc) from None
        return CausalityRequest(chosen, category, None, None, where)
    if not answers:
        raise CausalityInputError(
            "answers", "the Naranjo method needs the answers to its ten questions (--answers yes,no,dk,...)"
        )
    try:
        parsed = parse_naranjo_answers(answers)
    except UserInputError as exc:
        raise _located("answers", exc) from None
    score = naranjo_score(parsed)
    category = naranjo_category(score).value
    if result and result.strip().lower() != category:
        raise CausalityInputError(
            "result",
            f"the Naranjo answers score {score}, which is {category!r}, not {result!r}: leave the result out, "
            "it follows from the answers",
        )
    return CausalityRequest(chosen, category, parsed, score, where)


@dataclass(frozen=True)
class PairAssessment:
    """A recorded causality assessment of one pair, as shown and exported."""

    id: int
    version: int
    drug_seq: int
    drug_uid: str
    drug_name: str
    reaction_seq: int
    reaction_uid: str
    reaction_term: str
    source: str
    method: str
    result: str
    naranjo_answers: tuple[str, ...] | None
    naranjo_score: int | None
    comment: str | None
    assessed_at: dt.datetime
    assessed_by: str
    signature: Signature | None = None
    signature_valid: bool | None = None
    carried_from: int | None = None  # the case-level assessment it was carried from (cases_0005)

    @property
    def pair(self) -> DrugReactionPair:
        return DrugReactionPair(
            self.drug_seq, self.drug_uid, self.drug_name, self.reaction_seq, self.reaction_uid, self.reaction_term
        )

    @property
    def result_text(self) -> str:
        """G.k.9.i.2.r.3 as written to E2B(R3)."""
        return result_text(self.method, self.result, self.naranjo_score)

    @property
    def signed(self) -> str:
        if self.signature is None:
            return "not electronically signed"
        text = self.signature.manifestation + ("" if self.signature_valid else " — RECORD CHANGED SINCE SIGNING")
        return text + (f" (as case-level assessment #{self.carried_from})" if self.carried_from else "")


def _icsr_sha256(session: Session, case_id: int, version: int) -> str | None:
    icsr = session.scalar(
        select(CaseVersionRow.icsr_json).where(CaseVersionRow.case_id == case_id, CaseVersionRow.version == version)
    )
    return None if icsr is None else hashlib.sha256(icsr.encode("utf-8")).hexdigest()


def _signed_content(session: Session, row: CausalityRow, worldwide_id: str) -> dict[str, object]:
    """What a pair assessment signs: the case, the assessed version and its stored ICSR's SHA-256, the pair,
    source, method, result, the Naranjo answers and score, and the comment."""
    return {
        "case": worldwide_id,
        "version": row.version,
        "icsr_sha256": _icsr_sha256(session, row.case_id, row.version),
        "drug": [row.drug_seq, row.drug_uid, row.drug_name],
        "reaction": [row.reaction_seq, row.reaction_uid, row.reaction_term],
        "source": row.source,
        "method": row.method,
        "result": row.result,
        "naranjo_answers": row.naranjo_answers,
        "naranjo_score": row.naranjo_score,
        "comment": row.comment,
    }


def _record_id(worldwide_id: str, row: CausalityRow) -> str:
    return f"{worldwide_id} causality #{row.id}"


def record_causality(
    session: Session,
    case_id: int,
    pair: DrugReactionPair,
    request: CausalityRequest,
    comment: str | None,
    *,
    signer: Signer,
    at: dt.datetime | None = None,
) -> PairAssessment:
    """Record the causality of ``pair`` (of the latest version of case ``case_id``), signed by ``signer``
    (a safety physician or the QPPV) and in the case's audit trail."""
    require_role(signer, ASSESSOR_ROLES, "a causality assessment")
    case = session.get(CaseRow, case_id)
    if case is None:
        raise NotFoundError(f"no case {case_number(case_id)}")
    now = at or utcnow()
    row = CausalityRow(
        case_id=case.id,
        version=case.latest_version,
        drug_seq=pair.drug_seq,
        drug_uid=pair.drug_uid,
        drug_name=pair.drug_name,
        reaction_seq=pair.reaction_seq,
        reaction_uid=pair.reaction_uid,
        reaction_term=pair.reaction_term,
        source=request.source,
        method=request.method.value,
        result=request.result,
        naranjo_answers=",".join(request.answers) if request.answers else None,
        naranjo_score=request.score,
        comment=comment,
        assessed_at=now,
        assessed_by=signer.username,
    )
    session.add(row)
    session.flush()
    shown = f"{request.method.value}: {result_text(request.method, request.result, request.score)}"
    changes: dict[str, tuple[object, object]] = {f"causality {pair.label}": (None, shown)}
    if request.answers:
        changes["Naranjo answers"] = (None, row.naranjo_answers)
    if comment:
        changes["comment"] = (None, comment)
    # GVP VI.B.3 / E2B(R3) G.k.9.i.2.r: the assessment of one drug against one reaction, in the case's trail
    record_change(
        session,
        who=signer.username,
        entity_type=ENTITY,
        entity_id=case.worldwide_id,
        action="causality assessed",
        changes=changes,
        reason=f"assessment of version {case.latest_version}, source {request.source}",
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
    return _assessment(row, signature, True)


def _assessment(row: CausalityRow, signature: Signature | None, valid: bool | None) -> PairAssessment:
    return PairAssessment(
        id=row.id,
        version=row.version,
        drug_seq=row.drug_seq,
        drug_uid=row.drug_uid,
        drug_name=row.drug_name,
        reaction_seq=row.reaction_seq,
        reaction_uid=row.reaction_uid,
        reaction_term=row.reaction_term,
        source=row.source,
        method=row.method,
        result=row.result,
        naranjo_answers=tuple(row.naranjo_answers.split(",")) if row.naranjo_answers else None,
        naranjo_score=row.naranjo_score,
        comment=row.comment,
        # SQLite keeps no time zone: the stored time is UTC
        assessed_at=row.assessed_at if row.assessed_at.tzinfo else row.assessed_at.replace(tzinfo=dt.UTC),
        assessed_by=row.assessed_by,
        signature=signature,
        signature_valid=valid,
        carried_from=row.case_assessment_id,
    )


def causality_assessments(session: Session, case_id: int) -> list[PairAssessment]:
    """Every causality assessment of a pair of case ``case_id``, in the order they were recorded, each with
    its signature checked (a carried one: the signature of the case-level assessment it came from)."""
    case = session.get(CaseRow, case_id)
    if case is None:
        return []
    wid = case.worldwide_id
    rows = list(session.scalars(select(CausalityRow).where(CausalityRow.case_id == case_id).order_by(CausalityRow.id)))
    signed = signatures(session, SIGNED_RECORD, [_record_id(wid, r) for r in rows if r.case_assessment_id is None])
    carried_ids = [r.case_assessment_id for r in rows if r.case_assessment_id is not None]
    case_level = {
        r.id: r for r in session.scalars(select(CaseAssessmentRow).where(CaseAssessmentRow.id.in_(carried_ids)))
    }
    case_level_signed = signatures(
        session, CASE_LEVEL_RECORD, [_case_level_record_id(wid, r) for r in case_level.values()]
    )
    found: list[PairAssessment] = []
    for r in rows:
        if r.case_assessment_id is None:
            signature = next(iter(signed.get(_record_id(wid, r), [])), None)
            valid = None if signature is None else signature.matches(_signed_content(session, r, wid))
        else:
            origin = case_level[r.case_assessment_id]
            signature = next(iter(case_level_signed.get(_case_level_record_id(wid, origin), [])), None)
            same = (origin.causality, origin.comment, origin.version) == (r.result, r.comment, r.version)
            valid = None if signature is None else same and signature.matches(_case_level_content(session, origin, wid))
        found.append(_assessment(r, signature, valid))
    return found


@dataclass(frozen=True)
class CaseLevelAssessment:
    """A case-level assessment (before causality per pair) that could not be carried to one pair."""

    assessment: Assessment
    note: str


def case_level_assessments(session: Session, case_id: int) -> list[CaseLevelAssessment]:
    """The case's case-level assessments not carried to a pair, each with the note that says why."""
    carried = set(
        session.scalars(
            select(CausalityRow.case_assessment_id).where(
                CausalityRow.case_id == case_id, CausalityRow.case_assessment_id.is_not(None)
            )
        )
    )
    ids = list(
        session.scalars(
            select(CaseAssessmentRow.id).where(CaseAssessmentRow.case_id == case_id).order_by(CaseAssessmentRow.id)
        )
    )
    note = (
        "case level: it does not say which suspect drug and reaction it concerns (recorded before causality "
        "per pair on a version with several pairs or none, or through the case-level API), so it was not "
        "carried to a pair; assess each pair"
    )
    return [
        CaseLevelAssessment(a, note)
        for row_id, a in zip(ids, assessments(session, case_id), strict=True)
        if row_id not in carried
    ]
