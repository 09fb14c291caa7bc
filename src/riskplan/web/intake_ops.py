"""What the complete-case intake form does to stored data: drafts saved, discarded and submitted, and a
checked case stored — after its duplicate candidates were shown — through the same intake as every case."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from riskplan.cases import (
    Draft,
    FormValues,
    Icsr,
    IntakeCandidate,
    StoreOutcome,
    case_number,
    discard_draft,
    duplicate_candidates,
    find_case_id,
    intake,
    mark_submitted,
    marked_synthetic,
    save_draft,
)
from riskplan.web.context import Conflict, WebContext
from riskplan.web.intake_form import summary


@dataclass(frozen=True)
class Stored:
    outcome: StoreOutcome
    draft: Draft | None


@dataclass(frozen=True)
class Candidates:
    """Stored cases that may be this one: shown before anything is stored."""

    found: list[IntakeCandidate]

    @property
    def numbers(self) -> str:
        return ",".join(c.case_number for c in self.found)


def save(ctx: WebContext, values: Mapping[str, str | list[str]], *, who: str, ref: str | None) -> Draft:
    wid = values.get("worldwide_case_id")
    return ctx.write(
        lambda s: save_draft(
            s,
            values,
            who=who,
            worldwide_id=wid if isinstance(wid, str) else None,
            summary=summary(values),
            ref=ref,
            now=ctx.now(),
        )
    )


def discard(ctx: WebContext, ref: str, *, who: str, reason: str | None) -> Draft:
    return ctx.write(lambda s: discard_draft(s, ref, who=who, reason=reason, now=ctx.now()))


def store(
    ctx: WebContext,
    icsr: Icsr,
    *,
    who: str,
    draft: str | None,
    values: FormValues,
    reviewed: Sequence[str] = (),
) -> Stored | Candidates:
    """Store ``icsr`` as a new case, unless stored cases that may be the same one were not yet reviewed.

    ``reviewed`` are the case numbers of the candidates the user saw and judged other cases; a candidate
    not among them is shown first (nothing stored). A draft ``draft`` is saved with the final ``values``
    and marked submitted in the same transaction, so a draft and its case never disagree.
    """

    def work(session: Session) -> Stored | Candidates:
        known = find_case_id(session, icsr.worldwide_case_id)
        if known is not None:
            raise Conflict(
                f"case {icsr.worldwide_case_id} is already stored as {case_number(known)}: "
                "record this information there as follow-up"
            )
        context = ctx.intake_contexts.get(session, ctx.settings.default_plan, who)
        coded = context.processor.assess(icsr).icsr
        found = duplicate_candidates(session, coded)
        unseen = [c for c in found if c.case_number not in reviewed]
        if unseen:
            return Candidates(found)
        reason = "entered on the intake form" + (f" from draft {draft}" if draft else "")
        if found:
            listed = ", ".join(f"{c.case_number} (score {c.score:g})" for c in found)
            reason += f"; duplicate candidates {listed} reviewed: judged other cases"
        [outcome] = intake(
            session,
            [icsr],
            context=context,
            who=who,
            reason=reason,
            now=ctx.now(),
            synthetic=marked_synthetic([icsr]),
        )
        submitted = None
        if draft is not None:
            wid = values.get("worldwide_case_id")
            save_draft(
                session,
                values,
                who=who,
                worldwide_id=wid if isinstance(wid, str) else None,
                summary=summary(values),
                ref=draft,
                now=ctx.now(),
            )
            submitted = mark_submitted(session, draft, outcome.case_id, who=who, now=ctx.now())
        return Stored(outcome, submitted)

    return ctx.write(work)
