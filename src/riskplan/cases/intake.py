"""Intake: from ICSRs to stored, processed cases against the current version of a plan.

The plan is the current plan of that name (:func:`riskplan.plan.current_plan`: the latest approved
stored version, else the latest stored; the bundled plan is stored as version 1 the first time); coding
uses the user's loaded MedDRA release, or the plan's open term list where none is loaded.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from riskplan.cases.model import Icsr
from riskplan.cases.processing import CaseProcessor
from riskplan.cases.store import CaseRef, StoreOutcome, store_cases
from riskplan.cases.synth_data import COMPANY, COMPANY_CODE
from riskplan.errors import UserInputError
from riskplan.plan import RiskManagementPlan, current_plan, record_plan
from riskplan.store import write_transaction
from riskplan.terms import MeddraTerminology, OpenTermList, Terminology, current_release, expand_plan_terms


@dataclass(frozen=True)
class IntakeContext:
    plan: RiskManagementPlan
    plan_version: int
    processor: CaseProcessor


def plan_for_intake(session: Session, plan_name: str, who: str) -> tuple[RiskManagementPlan, int]:
    """The current plan of ``plan_name`` and its version; a bundled plan not yet stored is stored first
    (a case records the stored plan version it was assessed against)."""
    found = current_plan(session, plan_name)
    if found.version is not None:
        return found.plan, found.version
    stored, _ = record_plan(
        session, found.plan, who=who, source=f"bundled plan {plan_name}", reason="first case intake"
    )
    return stored.plan, stored.version


def terminology(session: Session, plan: RiskManagementPlan) -> Terminology:
    release = current_release(session)
    return MeddraTerminology(session, release) if release is not None else OpenTermList(plan)


def intake_context(session: Session, plan_name: str, who: str) -> IntakeContext:
    plan, version = plan_for_intake(session, plan_name, who)
    terms = terminology(session, plan)
    # the concerns' HLTs, HLGTs and SMQs in the release the case is coded with
    expanded = expand_plan_terms(session, plan, terms.version) if isinstance(terms, MeddraTerminology) else None
    return IntakeContext(plan, version, CaseProcessor(plan, terms, concern_terms=expanded))


def intake(
    session: Session,
    icsrs: Sequence[Icsr],
    *,
    context: IntakeContext,
    who: str,
    reason: str | None = None,
    now: dt.datetime | None = None,
    synthetic: bool = False,
    stored: Mapping[str, int | CaseRef] | None = None,
    only_new: bool = False,
) -> list[StoreOutcome]:
    """Process and store ``icsrs`` in the caller's transaction; ``now`` is the caller's clock (default: UTC
    now); ``synthetic`` ones are marked so and are refused in a database that holds real cases; ``stored``
    and ``only_new`` as for :func:`~riskplan.cases.store.store_cases` (the caller's reading of which cases are
    stored; cases that must be new, :class:`~riskplan.cases.store.CaseExists` otherwise)."""
    assessed = [context.processor.assess(i) for i in icsrs]
    return store_cases(
        session,
        assessed,
        plan_name=context.plan.name,
        plan_version=context.plan_version,
        who=who,
        reason=reason,
        now=now,
        synthetic=synthetic,
        stored=stored,
        only_new=only_new,
    )


_SYNTHETIC_ID = re.compile(rf"[A-Z]{{2}}-{COMPANY_CODE}-\d{{4}}-\d+")


def made_by_riskplan(icsr: Icsr) -> bool:
    """Whether ``icsr`` is one riskplan made up (``riskplan synth cases``, the demo): its worldwide id
    (C.1.8.1) reads ``<country>-RPDEMO-<year>-<number>`` and its sender (C.3.2) is the fictional company
    (the marks ``cases_0003`` recognises). Such a case is never a real report (GVP VI.B.6.1)."""
    sender = icsr.sender.organisation if icsr.sender is not None else None
    return sender == COMPANY and _SYNTHETIC_ID.fullmatch(icsr.case_key) is not None


def marked_synthetic(icsrs: Sequence[Icsr]) -> bool:
    """Whether received cases are ones riskplan made up (all of them), so that they stay synthetic when they
    come back, e.g. a batch exported with ``--allow-synthetic`` and imported into another database; a batch
    that mixes them with real cases is refused."""
    made = [made_by_riskplan(i) for i in icsrs]
    if any(made) and not all(made):
        example = next(i.case_key for i, m in zip(icsrs, made, strict=True) if m)
        raise UserInputError(
            f"{sum(made)} of {len(icsrs)} case(s), e.g. {example}, were made by riskplan (synthetic: worldwide "
            f"id <country>-{COMPANY_CODE}-<year>-<number>, sender {COMPANY}) and the others are real: "
            "synthetic and real cases are never stored together; nothing stored"
        )
    return bool(made) and all(made)


def intake_transaction(
    engine: Engine,
    icsrs: Sequence[Icsr],
    *,
    plan_name: str,
    who: str,
    reason: str | None = None,
    context: IntakeContext | None = None,
) -> tuple[IntakeContext, list[StoreOutcome]]:
    """Process and store ``icsrs`` in a transaction of their own, run again when a concurrent import of
    the same cases conflicted (:func:`~riskplan.store.retry.write_transaction`): stored whole or not at all.

    Returns the context used (pass it to the next call to reuse it) and what was stored.
    """

    def work(session: Session) -> tuple[IntakeContext, list[StoreOutcome]]:
        used = context or intake_context(session, plan_name, who)
        synthetic = marked_synthetic(icsrs)
        return used, intake(session, icsrs, context=used, who=who, reason=reason, synthetic=synthetic)

    return write_transaction(engine, work, what=f"{len(icsrs)} case(s)")


def batches(items: Sequence[Icsr], size: int) -> Iterator[Sequence[Icsr]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
