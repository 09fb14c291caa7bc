"""The case narrative as stored: drafted, edited by the processor, extended by follow-ups; every revision kept.

ICH E2B(R3) H.1 is the case narrative; ICH E2D(R1) 6.4 asks that it be updated as follow-up information
arrives. riskplan keeps one row per revision and language (``case_narrative``) and records each in the audit
trail (entity ``case``, the case's number), so an inspector sees who wrote which words and why:

- ``draft``: with no narrative yet, the draft from the latest case version; when the case has a newer
  version than the narrative covers, the narrative as it stands (edited or not) with a dated paragraph of the
  new facts appended (never rewritten); otherwise nothing changes.
- ``edit``: the processor's text replaces the current one, with a reason.

The ICSR versions themselves never change: the narrative lives beside them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from riskplan.cases.causality_e2b import with_recorded_causality
from riskplan.cases.model import Icsr
from riskplan.cases.narrative_draft import draft_narrative, follow_up_paragraph
from riskplan.cases.narrative_words import LANGUAGES
from riskplan.cases.store import ENTITY, case_number, resolve_case_id
from riskplan.cases.tables import CaseNarrativeRow, CaseRow, CaseVersionRow
from riskplan.errors import NotFoundError, UserInputError
from riskplan.plan import current_plan
from riskplan.store import record_change, utcnow

__all__ = [
    "MAX_NARRATIVE_CHARS",
    "NarrativeRevision",
    "case_icsr",
    "current_narrative",
    "draft_case_narratives",
    "edit_case_narrative",
    "narrative_at_version",
    "narrative_languages",
    "narrative_revisions",
    "with_stored_narratives",
]

DRAFTED, EDITED, FOLLOW_UP = "drafted", "edited", "follow-up"
#: E2B(R3) H.1 holds up to 100,000 characters (ICH IG v5.02, section 3.8).
MAX_NARRATIVE_CHARS: Final = 100_000


@dataclass(frozen=True)
class NarrativeRevision:
    case_number: str
    language: str
    revision: int
    case_version: int
    kind: str
    text: str
    recorded_at: dt.datetime
    recorded_by: str
    reason: str | None


def _revision(row: CaseNarrativeRow) -> NarrativeRevision:
    return NarrativeRevision(
        case_number(row.case_id),
        row.language,
        row.revision,
        row.case_version,
        row.kind,
        row.text,
        row.recorded_at,
        row.recorded_by,
        row.reason,
    )


def case_icsr(session: Session, case_id: int, version: int) -> Icsr:
    """Version ``version`` of the case, with the causality recorded per drug-reaction pair (G.k.9.i.2.r)."""
    text = session.scalar(
        select(CaseVersionRow.icsr_json).where(CaseVersionRow.case_id == case_id, CaseVersionRow.version == version)
    )
    if text is None:
        latest = session.scalar(select(CaseRow.latest_version).where(CaseRow.id == case_id))
        raise NotFoundError(f"case {case_number(case_id)} has no version {version} (versions 1 to {latest})")
    return with_recorded_causality(session, [(case_id, version, Icsr.model_validate_json(text))])[0]


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise UserInputError(f"--language {language!r}: narratives are kept in {', '.join(LANGUAGES)}")


def narrative_languages(session: Session, ref: str) -> tuple[str, ...]:
    """The languages the case's plan works in (its patient card's), English first, limited to those with
    narrative templates; English alone when the plan names none."""
    plan_name = session.scalar(select(CaseRow.plan_name).where(CaseRow.id == resolve_case_id(session, ref)))
    card = current_plan(session, plan_name or "").plan.patient_card if plan_name else None
    named = card.languages() if card is not None else []
    return ("en", *(lang for lang in LANGUAGES if lang != "en" and lang in named))


def _latest_row(session: Session, case_id: int, language: str) -> CaseNarrativeRow | None:
    return session.scalars(
        select(CaseNarrativeRow)
        .where(CaseNarrativeRow.case_id == case_id, CaseNarrativeRow.language == language)
        .order_by(CaseNarrativeRow.revision.desc())
        .limit(1)
    ).first()


def current_narrative(session: Session, ref: str, language: str = "en") -> NarrativeRevision | None:
    """The case's narrative as it stands in ``language`` (its highest revision), or None when there is none."""
    _check_language(language)
    row = _latest_row(session, resolve_case_id(session, ref), language)
    return None if row is None else _revision(row)


def _row_at_version(session: Session, case_id: int, version: int, language: str) -> CaseNarrativeRow | None:
    return session.scalars(
        select(CaseNarrativeRow)
        .where(
            CaseNarrativeRow.case_id == case_id,
            CaseNarrativeRow.language == language,
            CaseNarrativeRow.case_version <= version,
        )
        .order_by(CaseNarrativeRow.revision.desc())
        .limit(1)
    ).first()


def narrative_at_version(session: Session, case_id: int, version: int, language: str = "en") -> str | None:
    """The narrative as it stood for case version ``version``: its highest revision covering that version."""
    row = _row_at_version(session, case_id, version, language)
    return None if row is None else row.text


def with_stored_narratives(session: Session, versions: Sequence[tuple[int, int, Icsr]]) -> list[tuple[Icsr, str]]:
    """Each (case id, version, ICSR) with H.1 as it goes into an E2B(R3) file, and where H.1 came from.

    ICH E2B(R3) H.1 carries the case narrative in English (the sender's language for international
    exchange): the stored English narrative covering that version when one was written here (its highest
    revision, :func:`narrative_at_version`), else the narrative the case was received with, kept as it is.
    """
    out = []
    for case_id, version, icsr in versions:
        row = _row_at_version(session, case_id, version, "en")
        if row is None:
            said = "as received" if icsr.narrative else "none"
            out.append((icsr, f"H.1 {said}: no narrative written here for version {version}"))
        else:
            updated = icsr.model_copy(update={"narrative": row.text})
            out.append((updated, f"H.1 from the stored narrative (en) revision {row.revision} ({row.kind})"))
    return out


def narrative_revisions(session: Session, ref: str, language: str | None = None) -> list[NarrativeRevision]:
    """Every revision of the case's narrative, oldest first (of one language when given)."""
    stmt = select(CaseNarrativeRow).where(CaseNarrativeRow.case_id == resolve_case_id(session, ref))
    if language is not None:
        _check_language(language)
        stmt = stmt.where(CaseNarrativeRow.language == language)
    return [_revision(r) for r in session.scalars(stmt.order_by(CaseNarrativeRow.language, CaseNarrativeRow.revision))]


def _add(
    session: Session,
    case_id: int,
    language: str,
    *,
    case_version: int,
    kind: str,
    text: str,
    who: str,
    reason: str,
    old: str | None,
) -> NarrativeRevision:
    now = utcnow()
    revision = (
        session.scalar(
            select(func.max(CaseNarrativeRow.revision)).where(
                CaseNarrativeRow.case_id == case_id, CaseNarrativeRow.language == language
            )
        )
        or 0
    ) + 1
    row = CaseNarrativeRow(
        case_id=case_id,
        language=language,
        revision=revision,
        case_version=case_version,
        kind=kind,
        text=text,
        recorded_at=now,
        recorded_by=who,
        reason=reason,
    )
    session.add(row)
    session.flush()
    record_change(
        session,
        who=who,
        entity_type=ENTITY,
        entity_id=case_number(case_id),
        action=f"narrative {kind}",
        changes={f"narrative ({language}) revision {revision}": (old, text)},
        reason=reason,
        at=now,
    )
    return _revision(row)


def _locked_case(session: Session, ref: str) -> CaseRow:
    case_id = resolve_case_id(session, ref)
    return session.scalars(select(CaseRow).where(CaseRow.id == case_id).with_for_update()).one()


def draft_case_narratives(
    session: Session, ref: str, *, languages: tuple[str, ...], who: str
) -> list[NarrativeRevision]:
    """Draft (or extend with a follow-up paragraph) the case's narrative in each language; the revisions added.

    ICH E2D(R1) 6.4: a follow-up adds to the narrative; the processor's edited words stay as they are.
    """
    for language in languages:
        _check_language(language)
    case = _locked_case(session, ref)
    latest = case_icsr(session, case.id, case.latest_version)
    added = []
    for language in languages:
        row = _latest_row(session, case.id, language)
        if row is None:
            text = draft_narrative(latest, language)
            added.append(
                _add(
                    session,
                    case.id,
                    language,
                    case_version=case.latest_version,
                    kind=DRAFTED,
                    text=text,
                    who=who,
                    reason=f"drafted from the structured data of case version {case.latest_version}",
                    old=None,
                )
            )
        elif row.case_version < case.latest_version:
            previous = case_icsr(session, case.id, row.case_version)
            paragraph = follow_up_paragraph(previous, latest, case.latest_version, language)
            added.append(
                _add(
                    session,
                    case.id,
                    language,
                    case_version=case.latest_version,
                    kind=FOLLOW_UP,
                    text=f"{row.text}\n\n{paragraph}",
                    who=who,
                    reason=f"follow-up: case version {case.latest_version} appended to the narrative of version "
                    f"{row.case_version}",
                    old=row.text,
                )
            )
    return added


def edit_case_narrative(
    session: Session, ref: str, text: str, *, language: str, who: str, reason: str
) -> NarrativeRevision | None:
    """The processor's narrative replaces the current one (audited with ``reason``); None when nothing changed."""
    _check_language(language)
    if not reason.strip():
        raise UserInputError("--reason is blank: say why the narrative is edited (it goes in the audit trail)")
    body = text.replace("\r\n", "\n").strip()
    if not body:
        raise UserInputError("the narrative is empty: nothing stored (a narrative cannot be removed, only edited)")
    if len(body) > MAX_NARRATIVE_CHARS:
        raise UserInputError(
            f"the narrative has {len(body):,} characters; ICH E2B(R3) H.1 holds at most {MAX_NARRATIVE_CHARS:,}"
        )
    case = _locked_case(session, ref)
    row = _latest_row(session, case.id, language)
    if row is not None and row.text == body:
        return None
    return _add(
        session,
        case.id,
        language,
        case_version=row.case_version if row is not None else case.latest_version,
        kind=EDITED,
        text=body,
        who=who,
        reason=reason.strip(),
        old=None if row is None else row.text,
    )
