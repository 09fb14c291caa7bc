"""Coding a reaction by hand: a case processor chooses the LLT or PT for a verbatim the coder left open.

MedDRA Term Selection: Points to Consider leaves a verbatim that is no LLT's name to "medical judgement":
riskplan never codes it automatically, it offers fuzzy suggestions (:mod:`riskplan.terms.coding`). The
person's choice is stored the way a safety database audits recoding on the case: as a new version of the
case with the same content and that reaction coded (``coded_by_hand``), so the version history shows the
case before and after, and the audit trail records who coded which reaction from which term to which,
when and why (21 CFR 11.10(e)). The reporting clock is not restarted: the date of most recent information
(C.1.5) is unchanged, so this is no new information (GVP VI.C.6.2.2.7).

The term is looked up in the loaded MedDRA release, or, where none is loaded, in the open term list
(the plan's PT names and the bundled lay-term list).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from riskplan.cases.intake import intake, intake_context
from riskplan.cases.model import MeddraTerm
from riskplan.cases.processing import reaction_verbatim
from riskplan.cases.reads import lock_case
from riskplan.cases.store import ENTITY, IS_LATEST_VERSION, StoreOutcome, case_number, get_case, resolve_case_id
from riskplan.cases.tables import CaseReactionRow, CaseRow, CaseVersionRow
from riskplan.errors import UserInputError
from riskplan.store import audit_row, insert_audit_rows, utcnow
from riskplan.terms import Suggestion, TermMatch, fold_term

__all__ = ["CodingNotFound", "HandCoded", "UncodedReaction", "code_by_hand", "count_uncoded", "uncoded_reactions"]


class CodingNotFound(UserInputError):
    """The term is no LLT / PT of the terminology in use; carries the near matches to offer."""

    def __init__(self, message: str, suggestions: list[Suggestion]) -> None:
        super().__init__(message)
        self.suggestions = suggestions


@dataclass(frozen=True)
class HandCoded:
    outcome: StoreOutcome
    seq: int
    verbatim: str
    old: str  # "not coded" or the PT it had
    llt_name: str | None
    pt_name: str
    soc_name: str | None
    terminology: str


def _describe(match: TermMatch, level: str) -> str:
    term = match.llt_name or match.matched_term
    if level == "llt" and fold_term(term) != fold_term(match.pt_name):
        return f"{'LLT ' if match.llt_name else ''}{term} → PT {match.pt_name}"
    return f"PT {match.pt_name}"


def code_by_hand(
    session: Session,
    ref: str,
    seq: int,
    *,
    term: str,
    level: str,
    who: str,
    reason: str | None = None,
) -> HandCoded:
    """Code reaction ``seq`` (1-based, as ``case show`` numbers them) of the latest version of case ``ref``
    to ``term``, an LLT (``level="llt"``) or a PT (``level="pt"``); a new case version, audited.

    UserInputError when the reaction does not exist; :class:`CodingNotFound` (with suggestions) when the
    term is not an LLT / PT of the terminology in use. Nothing is stored then.
    """
    if level not in ("llt", "pt"):
        raise UserInputError(f"level must be llt or pt, not {level!r}")
    # one change of a case at a time: a concurrent coding or follow-up waits here (row lock on PostgreSQL)
    lock_case(session, resolve_case_id(session, ref))
    case = get_case(session, ref)
    reactions = case.icsr.reactions
    if not 1 <= seq <= len(reactions):
        raise UserInputError(
            f"case {case.case_number} has no reaction {seq}: its reactions are numbered 1 to {len(reactions)} "
            f"(see `riskplan case show {case.case_number}`)"
        )
    context = intake_context(session, case.plan_name, who)
    terms = context.processor.terms
    folded = fold_term(term)
    match = terms.lookup(folded) if folded else None
    what = "LLT" if level == "llt" else "PT"
    if match is None or (level == "pt" and fold_term(match.pt_name) != folded):
        suggestions = terms.suggest(folded) if folded else []
        where = f"{terms.name} {terms.version or ''}".strip()
        hint = f"; a PT for it: {match.pt_name!r} (use --pt)" if match is not None else ""
        raise CodingNotFound(
            f"{term!r} is not {'an' if level == 'llt' else 'a'} {what} in the {where}{hint}", suggestions
        )
    reaction = reactions[seq - 1]
    update: dict[str, object] = {
        "pt_name": match.pt_name,
        "llt_name": match.llt_name if level == "llt" else None,
        "pt_code": f"{match.pt_code:08d}" if match.pt_code is not None else None,
        "coded_by_hand": True,
    }
    if match.llt_code is not None and terms.version:
        # E.i.2.1a/b: the MedDRA version and LLT code the case is sent with
        update["meddra"] = MeddraTerm(version=terms.version, code=f"{match.llt_code:08d}")
    coded = reaction.model_copy(update=update)
    old_row = case.reactions[seq - 1]
    old = (
        f"PT {old_row['pt_name']}"
        if old_row["coding_status"] == "coded" and old_row["pt_name"]
        else str(old_row["coding_status"])
    )
    icsr = case.icsr.model_copy(update={"reactions": (*reactions[: seq - 1], coded, *reactions[seq:])})
    why = reason or "coded by hand"
    [outcome] = intake(session, [icsr], context=context, who=who, reason=f"reaction {seq} coded by hand: {why}")
    verbatim = reaction_verbatim(reaction) or ""
    if outcome.status != "unchanged":
        insert_audit_rows(
            session,
            [
                audit_row(
                    who=who,
                    entity_type=ENTITY,
                    entity_id=case.worldwide_id,
                    action="coded by hand",
                    at=utcnow(),
                    field=f"reaction {seq} ({verbatim})",
                    old=old,
                    new=f"{_describe(match, level)} ({terms.name} {terms.version or ''})".strip(),
                    reason=why,
                )
            ],
        )
    llt_name = match.llt_name if level == "llt" else None
    return HandCoded(outcome, seq, verbatim, old, llt_name, match.pt_name, match.soc_name, terms.name)


@dataclass(frozen=True)
class UncodedReaction:
    """A reaction of the latest version of a case that no term was chosen for yet."""

    case_number: str
    worldwide_id: str
    version: int
    seq: int
    verbatim: str
    note: str | None
    suggestions: tuple[tuple[str, str, float], ...]  # (term, PT, score)
    assigned_to: str | None = None
    case_id: int = 0


def _uncoded(assignee: str | None) -> Select[Any]:
    r = CaseReactionRow
    stmt = (
        select(CaseRow.id, CaseRow.worldwide_id, CaseVersionRow.version, r.seq, r.verbatim, r.coding_note)
        .add_columns(r.coding_suggestions, CaseRow.assigned_to)
        .join(CaseVersionRow, IS_LATEST_VERSION)
        .join(r, r.case_version_id == CaseVersionRow.id)
        .where(r.coding_status != "coded")
    )
    return stmt if assignee is None else stmt.where(CaseRow.assigned_to == assignee)


def uncoded_reactions(
    session: Session, limit: int = 500, *, offset: int = 0, assignee: str | None = None
) -> list[UncodedReaction]:
    """The reactions not coded in the latest version of every case (of the cases assigned to ``assignee``),
    case by case: the coding queue, ``limit`` of them from ``offset``."""
    r = CaseReactionRow
    rows = session.execute(_uncoded(assignee).order_by(CaseRow.id, r.seq).limit(limit).offset(offset)).all()
    return [
        UncodedReaction(case_number(cid), wid, version, seq, verbatim, note, parse_suggestions(stored), who, cid)
        for cid, wid, version, seq, verbatim, note, stored, who in rows
    ]


def count_uncoded(session: Session, *, assignee: str | None = None) -> int:
    """How many reactions the coding queue holds (of the cases assigned to ``assignee``)."""
    return int(session.scalar(select(func.count()).select_from(_uncoded(assignee).subquery())) or 0)


def parse_suggestions(stored: str | None) -> tuple[tuple[str, str, float], ...]:
    """The stored JSON suggestions of a reaction as (term, PT, score), best first."""
    if not stored:
        return ()
    return tuple((str(s["term"]), str(s["pt_name"]), float(s["score"])) for s in json.loads(stored))
