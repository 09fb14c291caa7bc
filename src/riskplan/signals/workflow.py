"""Signal management (GVP Module IX): from detection through validation, prioritisation and assessment to
a recommendation for action, with every step recorded.

States and the moves between them (GVP Module IX Rev 1, IX.B.2-IX.B.6)::

    detected ──► validated ──► prioritised ──► assessed ──► closed (with an outcome; QPPV only)
        │
        └──────► refuted (final: not a signal, closed as refuted)

- *detected* (IX.B.2): a disproportionality hit, a case series, a study, the literature, other sources;
- *validated* / *refuted* (IX.B.3, signal validation): whether the evidence justifies further analysis;
- *prioritised* (IX.B.4): the signal's impact on patients and public health has been weighed;
- *assessed* (IX.B.5): the evidence has been evaluated;
- *closed* (IX.B.6, recommendations for action): the outcome — a new safety concern, a changed safety
  concern, a change to the risk-minimisation measures, or no action. Outcomes that change the risk
  management plan (an RMP update, GVP Module V) take the changed plan and store it as a new
  plan version whose reason names the signal; the signal keeps that version number.

Every move records who made it, when, acting in which role, and why (a ``signal_transition`` row and the
audit trail, entity type ``signal``); moves not allowed from the current state are refused with the
allowed next states named; nothing is deleted (GVP IX.B.8: records of signal management). Only a user
acting as the QPPV closes a signal (the QPPV's oversight of the pharmacovigilance system, GVP Module I),
and the closing is electronically signed by the QPPV, whose password is checked at the moment of signing
(21 CFR 11.200; meaning ``review``); the signature holds the SHA-256 of the closing move (21 CFR 11.70).
:func:`signals_in_interval` gives the periodic-report view
(new, ongoing and closed signals of an interval: GVP Module VII.B.5.15/16, ICH E2C(R2) 3.15-3.16).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from riskplan.cases import PairCausality, causality_of_cases
from riskplan.errors import NotFoundError, UserInputError
from riskplan.plan import (
    CurrentPlan,
    PlanDiff,
    RiskManagementPlan,
    bundled_plan_names,
    current_plan,
    diff_plans,
    latest_version,
    load_plan_file,
    prepare_load,
    record_plan,
    store_load,
)
from riskplan.signals.disproportionality import DetectionResult
from riskplan.signals.tables import SignalCaseRow, SignalRow, SignalTransitionRow
from riskplan.signals.thresholds import DEFAULT_THRESHOLDS, threshold_sets
from riskplan.store import Signature, SignatureMeaning, Signer, record_change, require_role, sign, signatures, utcnow

ENTITY = "signal"
ID_PREFIX = "SIG"
QPPV_ROLE = "qppv"
SIGNED_RECORD = "signal closing"


class SignalState(StrEnum):
    """Where a signal stands in the signal management process (GVP IX.B.3-IX.B.6)."""

    DETECTED = "detected"
    VALIDATED = "validated"
    REFUTED = "refuted"
    PRIORITISED = "prioritised"
    ASSESSED = "assessed"
    CLOSED = "closed"


#: The allowed next states of each state; refuted and closed are final.
TRANSITIONS: dict[SignalState, tuple[SignalState, ...]] = {
    SignalState.DETECTED: (SignalState.VALIDATED, SignalState.REFUTED),
    SignalState.VALIDATED: (SignalState.PRIORITISED,),
    SignalState.PRIORITISED: (SignalState.ASSESSED,),
    SignalState.ASSESSED: (SignalState.CLOSED,),
    SignalState.REFUTED: (),
    SignalState.CLOSED: (),
}
FINAL_STATES = frozenset({SignalState.REFUTED, SignalState.CLOSED})
OPEN_STATES = tuple(s for s in SignalState if s not in FINAL_STATES)


class SignalSource(StrEnum):
    """Where a signal came from (GVP IX.B.1: sources of data and information; IX.B.2: detection)."""

    DISPROPORTIONALITY = "disproportionality"
    CASE_SERIES = "case series"
    STUDY = "study"
    LITERATURE = "literature"
    OTHER = "other"


class SignalOutcome(StrEnum):
    """The recommendation for action that closes a signal (GVP IX.B.6; RMP updates: GVP Module V)."""

    NEW_SAFETY_CONCERN = "new safety concern"
    CHANGED_SAFETY_CONCERN = "changed safety concern"
    RISK_MINIMISATION_CHANGE = "risk-minimisation change"
    NO_ACTION = "no action"

    @property
    def changes_plan(self) -> bool:
        return self is not SignalOutcome.NO_ACTION


_ALIASES = {
    "new concern": SignalOutcome.NEW_SAFETY_CONCERN,
    "changed concern": SignalOutcome.CHANGED_SAFETY_CONCERN,
    "rmm change": SignalOutcome.RISK_MINIMISATION_CHANGE,
    "rmm": SignalOutcome.RISK_MINIMISATION_CHANGE,
    "none": SignalOutcome.NO_ACTION,
    "disproportionality hit": SignalSource.DISPROPORTIONALITY,
    "prioritized": SignalState.PRIORITISED,
}


def _key(text: str) -> str:
    return " ".join(text.strip().casefold().replace("_", " ").replace("-", " ").split())


E = TypeVar("E", bound=StrEnum)


def _parse(kind: type[E], value: E | str, what: str) -> E:
    if isinstance(value, kind):
        return value
    wanted = _key(str(value))
    for member in kind:
        if _key(member.value) == wanted:
            return member
    alias = _ALIASES.get(wanted)
    if isinstance(alias, kind):
        return alias
    choices = ", ".join(repr(m.value) for m in kind)
    raise UserInputError(f"unknown {what} {str(value)!r}: choose from {choices}")


def parse_state(value: SignalState | str) -> SignalState:
    return _parse(SignalState, value, "signal state")


def parse_outcome(value: SignalOutcome | str) -> SignalOutcome:
    return _parse(SignalOutcome, value, "signal outcome")


def parse_source(value: SignalSource | str) -> SignalSource:
    return _parse(SignalSource, value, "signal source")


def _utc(value: dt.datetime) -> dt.datetime:
    """Timestamps as read back from SQLite have no time zone; riskplan stores UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


# ---------------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """One move of a signal (the first one, from ``None`` to detected, records the signal)."""

    from_state: SignalState | None
    to_state: SignalState
    at: dt.datetime
    who: str
    role: str | None
    reason: str
    outcome: SignalOutcome | None = None
    plan_name: str | None = None
    plan_version: int | None = None


@dataclass(frozen=True)
class Signal:
    """A signal as recorded (GVP IX.B.8: the tracking of a signal through the process)."""

    id: str  # SIG-2026-0001
    number: int  # the database key
    title: str
    product: str | None
    event: str | None
    concern_id: str | None
    plan_name: str | None
    source: SignalSource
    description: str | None
    statistics: dict[str, Any] | None
    state: SignalState
    outcome: SignalOutcome | None
    outcome_concerns: tuple[str, ...]
    plan_version: int | None  # the plan version the outcome produced
    detected_on: dt.date
    detected_at: dt.datetime
    detected_by: str
    updated_at: dt.datetime
    updated_by: str
    closed_at: dt.datetime | None
    closed_by: str | None
    cases: tuple[str, ...]  # worldwide case ids (E2B C.1.8.1) of the linked cases
    closing_signature: Signature | None = None  # the QPPV's electronic signature of the closing
    closing_signature_valid: bool | None = None  # whether the closing move still matches it

    @property
    def signed(self) -> str:
        """The closing signature as shown (printed name, meaning, UTC time); empty when not closed."""
        if self.closing_signature is None:
            return "not electronically signed" if self.state is SignalState.CLOSED else ""
        changed = "" if self.closing_signature_valid else " — RECORD CHANGED SINCE SIGNING"
        return self.closing_signature.manifestation + changed

    @property
    def is_open(self) -> bool:
        return self.state not in FINAL_STATES

    @property
    def allowed_next(self) -> tuple[SignalState, ...]:
        return TRANSITIONS[self.state]

    @property
    def closed_on(self) -> dt.date | None:
        return None if self.closed_at is None else self.closed_at.date()

    @property
    def concern_ids(self) -> tuple[str, ...]:
        ids = ([self.concern_id] if self.concern_id else []) + list(self.outcome_concerns)
        return tuple(dict.fromkeys(ids))


def signal_to_dict(signal: Signal) -> dict[str, Any]:
    """A signal as plain JSON-ready data (for ``signal list --format json`` and the web)."""
    return {
        "id": signal.id,
        "title": signal.title,
        "product": signal.product,
        "event": signal.event,
        "concern_id": signal.concern_id,
        "concern_ids": list(signal.concern_ids),
        "plan_name": signal.plan_name,
        "source": signal.source.value,
        "description": signal.description,
        "state": signal.state.value,
        "allowed_next": [s.value for s in signal.allowed_next],
        "outcome": signal.outcome.value if signal.outcome else None,
        "plan_version": signal.plan_version,
        "detected_on": signal.detected_on.isoformat(),
        "detected_by": signal.detected_by,
        "updated_at": signal.updated_at.isoformat(),
        "updated_by": signal.updated_by,
        "closed_on": signal.closed_on.isoformat() if signal.closed_on else None,
        "closed_by": signal.closed_by,
        "closing_signature": signal.signed or None,
        "cases": list(signal.cases),
        "statistics": signal.statistics,
    }


def _to_signal(row: SignalRow, cases: Sequence[str]) -> Signal:
    return Signal(
        id=row.signal_id,
        number=row.id,
        title=row.title,
        product=row.product,
        event=row.event,
        concern_id=row.concern_id,
        plan_name=row.plan_name,
        source=SignalSource(row.source),
        description=row.description,
        statistics=json.loads(row.statistics_json) if row.statistics_json else None,
        state=SignalState(row.state),
        outcome=SignalOutcome(row.outcome) if row.outcome else None,
        outcome_concerns=tuple(json.loads(row.outcome_concerns)) if row.outcome_concerns else (),
        plan_version=row.plan_version,
        detected_on=row.detected_on,
        detected_at=_utc(row.detected_at),
        detected_by=row.detected_by,
        updated_at=_utc(row.updated_at),
        updated_by=row.updated_by,
        closed_at=None if row.closed_at is None else _utc(row.closed_at),
        closed_by=row.closed_by,
        cases=tuple(cases),
    )


def _case_ids(session: Session, signal_pks: Sequence[int]) -> dict[int, list[str]]:
    """The worldwide case ids (C.1.8.1) of each signal's cases, in the order they were linked."""
    from riskplan.cases import worldwide_ids

    out: dict[int, list[str]] = {}
    if not signal_pks:
        return out
    rows = session.execute(
        select(SignalCaseRow.signal_pk, SignalCaseRow.case_id)
        .where(SignalCaseRow.signal_pk.in_(list(signal_pks)))
        .order_by(SignalCaseRow.signal_pk, SignalCaseRow.id)
    ).all()
    names = worldwide_ids(session, (case_id for _, case_id in rows))
    for pk, case_id in rows:
        if case_id in names:  # signal_case.case_id references icsr_case.id: always found
            out.setdefault(pk, []).append(names[case_id])
    return out


def signal_causality(session: Session, signal_id: str | int) -> list[PairCausality]:
    """GVP IX.B.4-5: the causality of each drug-reaction pair in the signal's case series (of the signal's
    product when it names one), as assessed per pair by WHO-UMC or Naranjo, or as received."""
    row = _row(session, signal_id)
    case_ids = session.scalars(select(SignalCaseRow.case_id).where(SignalCaseRow.signal_pk == row.id))
    return causality_of_cases(session, list(case_ids), product=row.product)


def _row(session: Session, signal_id: str | int) -> SignalRow:
    """A signal by its id (``SIG-2026-0001``, any case) or its database number."""
    ref = str(signal_id).strip()
    row: SignalRow | None
    if ref.isdigit():
        row = session.get(SignalRow, int(ref))
    else:
        row = session.scalars(select(SignalRow).where(SignalRow.signal_id == ref.upper())).first()
    if row is None:
        raise NotFoundError(f"no signal {ref!r}: give an id like SIG-2026-0001 (see `riskplan signal list`)")
    return row


def _closing_content(signal_id: str, t: SignalTransitionRow) -> dict[str, object]:
    """What the closing signature signs: the signal and its closing move as stored."""
    return {
        "signal": signal_id,
        "from": t.from_state,
        "to": t.to_state,
        "who": t.who,
        "role": t.role,
        "reason": t.reason,
        "outcome": t.outcome,
        "plan_name": t.plan_name,
        "plan_version": t.plan_version,
    }


def _with_signatures(session: Session, found: list[Signal]) -> list[Signal]:
    """The closed signals among ``found`` with their closing signatures, each checked against the
    closing move as stored."""
    closed = [s for s in found if s.state is SignalState.CLOSED]
    if not closed:
        return found
    signed = signatures(session, SIGNED_RECORD, [s.id for s in closed])
    moves = {
        t.signal_pk: t
        for t in session.scalars(
            select(SignalTransitionRow)
            .where(
                SignalTransitionRow.signal_pk.in_([s.number for s in closed]),
                SignalTransitionRow.to_state == SignalState.CLOSED.value,
            )
            .order_by(SignalTransitionRow.id)
        )
    }
    out: list[Signal] = []
    for s in found:
        signature = next(iter(signed.get(s.id, [])), None)
        if signature is None:
            out.append(s)
            continue
        move = moves.get(s.number)
        valid = move is not None and signature.matches(_closing_content(s.id, move))
        out.append(dataclasses.replace(s, closing_signature=signature, closing_signature_valid=valid))
    return out


def get_signal(session: Session, signal_id: str | int) -> Signal:
    """A signal, with the closing signature checked against the closing move as stored."""
    row = _row(session, signal_id)
    return _with_signatures(session, [_to_signal(row, _case_ids(session, [row.id]).get(row.id, []))])[0]


def list_signals(
    session: Session,
    state: SignalState | str | None = None,
    *,
    plan_name: str | None = None,
    product: str | None = None,
) -> list[Signal]:
    """Signals in id order, optionally only those in ``state``, of ``plan_name`` or of ``product``."""
    stmt = select(SignalRow).order_by(SignalRow.id)
    if state is not None:
        stmt = stmt.where(SignalRow.state == parse_state(state).value)
    if plan_name is not None:
        stmt = stmt.where(SignalRow.plan_name == plan_name)
    if product is not None:
        stmt = stmt.where(SignalRow.product == product)
    rows = list(session.scalars(stmt))
    cases = _case_ids(session, [r.id for r in rows])
    return _with_signatures(session, [_to_signal(r, cases.get(r.id, [])) for r in rows])


def signal_history(session: Session, signal_id: str | int) -> list[Transition]:
    """Every move of the signal, oldest first (the first one records the signal as detected)."""
    row = _row(session, signal_id)
    rows = session.scalars(
        select(SignalTransitionRow).where(SignalTransitionRow.signal_pk == row.id).order_by(SignalTransitionRow.id)
    )
    return [_to_transition(t) for t in rows]


def _to_transition(t: SignalTransitionRow) -> Transition:
    return Transition(
        from_state=SignalState(t.from_state) if t.from_state else None,
        to_state=SignalState(t.to_state),
        at=_utc(t.at),
        who=t.who,
        role=t.role,
        reason=t.reason,
        outcome=SignalOutcome(t.outcome) if t.outcome else None,
        plan_name=t.plan_name,
        plan_version=t.plan_version,
    )


# ---------------------------------------------------------------------------------------------------
# Recording a signal
# ---------------------------------------------------------------------------------------------------


def _next_id(session: Session, year: int) -> str:
    prefix = f"{ID_PREFIX}-{year}-"
    taken = session.scalars(select(SignalRow.signal_id).where(SignalRow.signal_id.like(prefix + "%"))).all()
    numbers = [int(s[len(prefix) :]) for s in taken if s[len(prefix) :].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def _resolve_cases(session: Session, refs: Iterable[str]) -> list[tuple[int, str]]:
    from riskplan.cases import find_case

    out: dict[int, str] = {}
    for ref in refs:
        case = find_case(session, ref)
        out[case.case_id] = case.worldwide_id
    return list(out.items())


def new_signal(
    session: Session,
    *,
    title: str,
    who: str,
    product: str | None = None,
    event: str | None = None,
    concern_id: str | None = None,
    plan_name: str | None = None,
    source: SignalSource | str = SignalSource.OTHER,
    cases: Iterable[str] = (),
    statistics: Mapping[str, Any] | None = None,
    description: str | None = None,
    detected: dt.date | None = None,
    reason: str | None = None,
    at: dt.datetime | None = None,
    plan: RiskManagementPlan | None = None,
) -> Signal:
    """Record a detected signal (GVP IX.B.2) and return it.

    A signal is about an event (MedDRA PT) and/or a safety concern of a plan (``concern_id``, checked
    against ``plan``, else the current plan of ``plan_name``, :func:`riskplan.plan.current_plan`;
    ``plan_name`` defaults to ``plan.name``). ``cases``: case numbers
    (``RP0000042``) or worldwide case ids of the store. ``detected``: the date the signal was detected
    (default: today; not in the future). ``statistics``: the disproportionality row of a hit.
    """
    now = at or utcnow()
    title = title.strip()
    if not title:
        raise UserInputError("a signal needs a title")
    product = (product or "").strip() or None
    event = (event or "").strip() or None
    concern_id = (concern_id or "").strip() or None
    if event is None and concern_id is None:
        raise UserInputError("a signal is about an event (MedDRA PT) and/or a safety concern: give one of them")
    source = parse_source(source)
    if plan is not None:
        plan_name = plan_name or plan.name
    if concern_id is not None:
        if plan_name is None:
            raise UserInputError(f"safety concern {concern_id!r}: name the plan it belongs to")
        reference = plan if plan is not None and plan.name == plan_name else current_plan(session, plan_name).plan
        known = [c.id for c in reference.safety_concerns]
        if concern_id not in known:
            raise UserInputError(
                f"plan {plan_name!r} has no safety concern {concern_id!r}; its concerns are: {', '.join(known)}"
            )
    detected_on = detected or now.date()
    if detected_on > now.date():
        raise UserInputError(f"the detection date {detected_on} is in the future")
    linked = _resolve_cases(session, cases)
    signal_id = _next_id(session, detected_on.year)
    row = SignalRow(
        signal_id=signal_id,
        title=title,
        product=product,
        event=event,
        concern_id=concern_id,
        plan_name=plan_name,
        source=source.value,
        description=description,
        statistics_json=json.dumps(_json_safe(statistics), sort_keys=True) if statistics is not None else None,
        state=SignalState.DETECTED.value,
        detected_on=detected_on,
        detected_at=now,
        detected_by=who,
        updated_at=now,
        updated_by=who,
    )
    session.add(row)
    session.flush()
    why = reason or f"detected ({source.value})"
    session.add(
        SignalTransitionRow(
            signal_pk=row.id, from_state=None, to_state=SignalState.DETECTED.value, at=now, who=who, reason=why
        )
    )
    for case_id, _ in linked:
        session.add(SignalCaseRow(signal_pk=row.id, case_id=case_id, linked_at=now, linked_by=who))
    changes: dict[str, tuple[Any, Any]] = {
        "state": (None, SignalState.DETECTED.value),
        "title": (None, title),
        "source": (None, source.value),
        "detected_on": (None, detected_on.isoformat()),
    }
    for name, value in (("product", product), ("event", event), ("concern_id", concern_id), ("plan", plan_name)):
        if value is not None:
            changes[name] = (None, value)
    if linked:
        changes["cases"] = (None, [wid for _, wid in linked])
    if statistics is not None:
        changes["statistics"] = (None, _json_safe(statistics))
    record_change(
        session,
        who=who,
        entity_type=ENTITY,
        entity_id=signal_id,
        action="detected",
        changes=changes,
        reason=why,
        at=now,
    )
    session.flush()
    return get_signal(session, row.id)


def link_cases(session: Session, signal_id: str | int, refs: Iterable[str], *, who: str, reason: str) -> Signal:
    """Add cases of the store to a signal's case series (links are only ever added)."""
    row = _row(session, signal_id)
    now = utcnow()
    already = set(session.scalars(select(SignalCaseRow.case_id).where(SignalCaseRow.signal_pk == row.id)))
    added = [(cid, wid) for cid, wid in _resolve_cases(session, refs) if cid not in already]
    for case_id, _ in added:
        session.add(SignalCaseRow(signal_pk=row.id, case_id=case_id, linked_at=now, linked_by=who))
    if added:
        record_change(
            session,
            who=who,
            entity_type=ENTITY,
            entity_id=row.signal_id,
            action="cases linked",
            changes={"cases": (None, [wid for _, wid in added])},
            reason=reason,
            at=now,
        )
        row.updated_at, row.updated_by = now, who
    session.flush()
    return get_signal(session, row.id)


# ---------------------------------------------------------------------------------------------------
# Transitions
# ---------------------------------------------------------------------------------------------------


_MEASURE_FIELDS = ("routine_measures", "additional_measures")
_PLAN_MEASURE_FIELDS = ("patient_card", "infusion_checks")


def _plan_change_concerns(outcome: SignalOutcome, change: PlanDiff) -> list[str]:
    """The ids of the safety concerns the plan change touches in the way ``outcome`` says."""
    concerns = [i for i in change.items if i.kind == "safety concern"]
    if outcome is SignalOutcome.NEW_SAFETY_CONCERN:
        return [i.id for i in concerns if i.change == "added"]
    if outcome is SignalOutcome.CHANGED_SAFETY_CONCERN:
        return [i.id for i in concerns if i.change in ("changed", "removed")]
    return [
        i.id for i in concerns if i.change == "changed" and any(f.path.startswith(_MEASURE_FIELDS) for f in i.fields)
    ]


def _describe(change: PlanDiff) -> str:
    parts = [f"{i.kind} {i.id} {i.change}" for i in change.items]
    parts += [f"plan field {f.path} changed" for f in change.plan_fields]
    return "; ".join(parts) or "no differences"


def _apply_plan_outcome(
    session: Session,
    row: SignalRow,
    outcome: SignalOutcome,
    plan: RiskManagementPlan | Path,
    *,
    who: str,
    reason: str,
) -> tuple[str, int, list[str]]:
    """Store the changed plan as a new version named after the signal (an RMP update); checks the change fits."""
    changed = load_plan_file(plan) if isinstance(plan, Path) else plan
    if row.plan_name is not None and changed.name != row.plan_name:
        raise UserInputError(
            f"signal {row.signal_id} belongs to plan {row.plan_name!r}, but the plan given is {changed.name!r}"
        )
    if changed.name not in bundled_plan_names() and latest_version(session, changed.name) is None:
        raise UserInputError(
            f"plan {changed.name!r} has no stored version to change: store it first (`riskplan plan load`)"
        )
    # The change is judged against the plan in force (as `plan load` completes the file from it).
    in_force = current_plan(session, changed.name)
    if in_force.version is None:
        stored, _ = record_plan(
            session,
            in_force.plan,
            who=who,
            source=f"bundled plan {changed.name}",
            reason=f"baseline before signal {row.signal_id}",
        )
        in_force = CurrentPlan(stored.plan, "latest stored version (not approved)", stored.version)
    baseline = in_force
    # The same use case as `riskplan plan load`: parts the file lists as absent are kept, no silent loss.
    prepared = prepare_load(session, changed, source=f"signal {row.signal_id}")
    change = diff_plans(baseline.plan, prepared.plan)
    if change.is_empty:
        raise UserInputError(
            f"the plan given is the same as {changed.name} v{baseline.version}: "
            f"the outcome {outcome.value!r} needs the changed plan"
        )
    plan_wide_rmm = outcome is SignalOutcome.RISK_MINIMISATION_CHANGE and any(
        f.path.startswith(_PLAN_MEASURE_FIELDS) for f in change.plan_fields
    )
    touched = _plan_change_concerns(outcome, change)
    if not touched and not plan_wide_rmm:
        expected = {
            SignalOutcome.NEW_SAFETY_CONCERN: "a safety concern added",
            SignalOutcome.CHANGED_SAFETY_CONCERN: "a safety concern changed or removed",
            SignalOutcome.RISK_MINIMISATION_CHANGE: "a change to routine or additional risk-minimisation measures",
        }[outcome]
        raise UserInputError(
            f"the outcome {outcome.value!r} needs {expected}, but the plan given differs from "
            f"{changed.name} v{baseline.version} by: {_describe(change)}"
        )
    loaded = store_load(
        session,
        prepared,
        who=who,
        source=f"signal {row.signal_id}",
        reason=f"signal {row.signal_id}: {outcome.value} — {reason}",
    )
    return changed.name, loaded.version.version, touched


def closing_is_ready(session: Session, signal_id: str | int, *, role: str | None, outcome: str | None) -> bool:
    """Whether closing the signal now, acting as ``role`` with ``outcome``, passes the checks that come
    before the signature, so that a front end asks for the password only when it will be used (a move
    that is refused anyway is refused with its own message, without a signing attempt)."""
    signal = get_signal(session, signal_id)
    if SignalState.CLOSED not in signal.allowed_next or outcome is None or _key(role or "") != QPPV_ROLE:
        return False
    parse_outcome(outcome)
    return True


def transition(
    session: Session,
    signal_id: str | int,
    to_state: SignalState | str,
    *,
    who: str,
    role: str | None = None,
    reason: str,
    outcome: SignalOutcome | str | None = None,
    plan: RiskManagementPlan | Path | None = None,
    at: dt.datetime | None = None,
    signer: Signer | None = None,
) -> Signal:
    """Move a signal to ``to_state`` (GVP IX.B.3-IX.B.6) and return it.

    Closing needs ``signer``: the QPPV, verified at the moment of signing (21 CFR 11.200), who is then
    the one recorded as closing it.

    Refused (:class:`~riskplan.errors.UserInputError`, nothing stored) when the move is not allowed from
    the current state (the message names the allowed next states), when there is no reason, when closing
    without acting as the QPPV (``role="qppv"``) or without an ``outcome``, or when an outcome that
    changes the plan comes without the changed ``plan`` (a plan or a plan file) or with one whose
    difference from the plan in force (:func:`riskplan.plan.current_plan`) does not fit the outcome.
    ``at``: when the move was made (default now; not before the signal's last move, not in the future).
    """
    row = _row(session, signal_id)
    target = parse_state(to_state)
    current = SignalState(row.state)
    allowed = TRANSITIONS[current]
    if target not in allowed:
        if not allowed:
            raise UserInputError(
                f"signal {row.signal_id} is {current.value}, a final state: no further transitions are allowed "
                "(record a new signal if new information emerges)"
            )
        raise UserInputError(
            f"signal {row.signal_id} is {current.value}: it cannot move to {target.value}; "
            f"allowed next state(s): {', '.join(s.value for s in allowed)}"
        )
    reason = (reason or "").strip()
    if not reason:
        raise UserInputError(f"moving signal {row.signal_id} to {target.value} needs a reason")
    now = _utc(at) if at is not None else utcnow()
    last = session.scalar(select(func.max(SignalTransitionRow.at)).where(SignalTransitionRow.signal_pk == row.id))
    if last is not None and now < _utc(last):
        raise UserInputError(f"the move cannot be dated {now:%Y-%m-%d %H:%M}, before the signal's last move")
    if now > utcnow() + dt.timedelta(minutes=5):
        raise UserInputError(f"the move cannot be dated in the future ({now:%Y-%m-%d %H:%M})")
    chosen = parse_outcome(outcome) if outcome is not None else None
    role_key = _key(role) if role else None
    if target is SignalState.CLOSED:
        if role_key != QPPV_ROLE:
            raise UserInputError(
                f"only the QPPV closes a signal; {who} is acting as {role or 'no role'} (act as {QPPV_ROLE!r} to close)"
            )
        if chosen is None:
            raise UserInputError(
                f"closing signal {row.signal_id} needs an outcome: one of "
                + ", ".join(repr(o.value) for o in SignalOutcome)
            )
        if signer is None:
            raise UserInputError(
                f"closing signal {row.signal_id} is electronically signed by the QPPV (21 CFR 11.200): "
                "give the signer's user name and password"
            )
        require_role(signer, (QPPV_ROLE,), "the closing of a signal")
        who = signer.username
    elif chosen is not None:
        raise UserInputError(f"an outcome is recorded when a signal is closed, not when it is {target.value}")
    if plan is not None and (chosen is None or not chosen.changes_plan):
        raise UserInputError(
            "a plan is given only with an outcome that changes the plan "
            "(new safety concern, changed safety concern, risk-minimisation change)"
        )
    plan_name: str | None = row.plan_name
    plan_version: int | None = None
    touched: list[str] = []
    if chosen is not None and chosen.changes_plan:
        if plan is None:
            raise UserInputError(
                f"the outcome {chosen.value!r} changes the risk management plan: give the changed plan "
                f"(a plan file, e.g. `--plan {row.plan_name or 'plan'}-changed.yaml`)"
            )
        plan_name, plan_version, touched = _apply_plan_outcome(session, row, chosen, plan, who=who, reason=reason)

    changes: dict[str, tuple[Any, Any]] = {"state": (current.value, target.value)}
    if role:
        changes["acting_as"] = (None, role)
    if chosen is not None:
        changes["outcome"] = (None, chosen.value)
    if plan_version is not None:
        changes["plan_version"] = (None, f"{plan_name} v{plan_version}")
    row.state = target.value
    row.updated_at, row.updated_by = now, who
    if target in FINAL_STATES:
        row.closed_at, row.closed_by = now, who
    if chosen is not None:
        row.outcome = chosen.value
        row.outcome_concerns = json.dumps(touched) if touched else None
        if plan_version is not None:
            row.plan_version, row.plan_name = plan_version, plan_name
    move = SignalTransitionRow(
        signal_pk=row.id,
        from_state=current.value,
        to_state=target.value,
        at=now,
        who=who,
        role=role,
        reason=reason,
        outcome=chosen.value if chosen else None,
        plan_name=plan_name if plan_version is not None else None,
        plan_version=plan_version,
    )
    session.add(move)
    if target is SignalState.CLOSED and signer is not None:
        sign(
            session,
            signer,
            SignatureMeaning.REVIEW,
            SIGNED_RECORD,
            row.signal_id,
            _closing_content(row.signal_id, move),
            at=now,
        )
    record_change(
        session,
        who=who,
        entity_type=ENTITY,
        entity_id=row.signal_id,
        action=f"{current.value} → {target.value}",
        changes=changes,
        reason=reason,
        at=now,
    )
    session.flush()
    return get_signal(session, row.id)


# ---------------------------------------------------------------------------------------------------
# Periodic reports: signals of an interval
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignalSummary:
    """A signal as a periodic report tabulates it for an interval (ICH E2C(R2) 3.15, Appendix C).

    ``state``, ``closed`` and ``outcome`` are as of the end of the interval (a signal closed later is
    shown open). ``classification``: ``closed`` when closed (or refuted) within the interval, else
    ``new`` when detected within it, else ``ongoing`` (detected before the interval, open at its end).
    """

    id: str
    title: str
    state: str
    detected: dt.date
    closed: dt.date | None
    outcome: str | None
    concern_ids: tuple[str, ...]
    classification: str  # new | ongoing | closed
    product: str | None = None
    event: str | None = None
    source: str | None = None


def signals_in_interval(session: Session, start: dt.date, end: dt.date) -> list[SignalSummary]:
    """Signals new, ongoing or closed in the interval ``start``-``end`` (both days included).

    A signal belongs to the interval when it was detected on or before ``end`` and was not closed
    (or refuted) before ``start``. Dates are UTC days. Ordered by detection date, then id.
    """
    if end < start:
        raise UserInputError(f"the interval ends ({end}) before it starts ({start})")
    rows = list(session.scalars(select(SignalRow).where(SignalRow.detected_on <= end).order_by(SignalRow.detected_on)))
    moves: dict[int, list[SignalTransitionRow]] = {}
    if rows:
        for t in session.scalars(
            select(SignalTransitionRow)
            .where(SignalTransitionRow.signal_pk.in_([r.id for r in rows]))
            .order_by(SignalTransitionRow.id)
        ):
            moves.setdefault(t.signal_pk, []).append(t)
    out: list[SignalSummary] = []
    for row in rows:
        state = SignalState.DETECTED
        closed: dt.date | None = None
        outcome: str | None = None
        for t in moves.get(row.id, []):
            if t.from_state is None or _utc(t.at).date() > end:
                continue
            state = SignalState(t.to_state)
            if state in FINAL_STATES:
                closed = _utc(t.at).date()
                outcome = t.outcome or ("refuted" if state is SignalState.REFUTED else None)
        if closed is not None and closed < start:
            continue
        if closed is not None:
            classification = "closed"
        elif row.detected_on >= start:
            classification = "new"
        else:
            classification = "ongoing"
        concerns = [row.concern_id] if row.concern_id else []
        if outcome is not None and row.outcome_concerns:
            concerns += json.loads(row.outcome_concerns)
        out.append(
            SignalSummary(
                id=row.signal_id,
                title=row.title,
                state=state.value,
                detected=row.detected_on,
                closed=closed,
                outcome=outcome,
                concern_ids=tuple(dict.fromkeys(concerns)),
                classification=classification,
                product=row.product,
                event=row.event,
                source=row.source,
            )
        )
    out.sort(key=lambda s: (s.detected, s.id))
    return out


# ---------------------------------------------------------------------------------------------------
# From disproportionality to signals
# ---------------------------------------------------------------------------------------------------


def _json_safe(value: Any) -> Any:
    """JSON-safe copy: NaN → None, ±inf → "inf"/"-inf", NumPy scalars → Python numbers."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
    return value


def concern_for_event(plan: RiskManagementPlan, event: str) -> str | None:
    """The first safety concern (in plan order) whose definition lists the PT ``event`` (any case)."""
    wanted = event.strip().casefold()
    for concern in plan.safety_concerns:
        if any(pt.strip().casefold() == wanted for pt in concern.definition.meddra_pts):
            return concern.id
    return None


def signals_from_detection(
    session: Session,
    result: DetectionResult,
    thresholds: str | Sequence[str] = DEFAULT_THRESHOLDS,
    *,
    product: str,
    plan: RiskManagementPlan,
    who: str,
    source_description: str | None = None,
) -> list[Signal]:
    """Record a detected signal for each pair of ``product`` flagged by any of ``thresholds`` (GVP IX.B.2).

    Each signal is linked to the plan's safety concern whose definition PTs include the event (if any)
    and keeps the pair's disproportionality row as its statistics snapshot. Idempotent: a pair that
    already has an open signal for the product and event is skipped, and so is a pair whose signal was
    closed or refuted while it had as many reports as now (a closed signal comes back only with new
    reports). Returns the signals created, strongest EB05 first.
    """
    sets = threshold_sets(thresholds)
    codes = result.counts.product_codes([product])
    if product not in codes:
        raise UserInputError(f"no reports with the product {product!r} in the detection result")
    flags = {s.name: s.flags(result.measures) for s in sets}
    any_flag = np.logical_or.reduce(list(flags.values()))
    pairs = np.flatnonzero((result.counts.product_code == codes[product]) & any_flag)
    eb05 = np.nan_to_num(result.measures["EB05"][pairs], nan=-1.0)
    pairs = pairs[np.argsort(-eb05, kind="stable")]
    events = result.counts.names("events")
    previous: dict[str, list[SignalRow]] = {}
    for row in session.scalars(select(SignalRow).where(SignalRow.product == product).order_by(SignalRow.id)):
        if row.event is not None:
            previous.setdefault(row.event.casefold(), []).append(row)
    theta = result.theta
    created: list[Signal] = []
    for i in pairs:
        event = events[int(result.counts.event_code[i])]
        n = int(result.measures["N"][i])
        earlier = previous.get(event.casefold(), [])
        if any(SignalState(r.state) not in FINAL_STATES for r in earlier):
            continue
        if any(_snapshot_n(r) >= n for r in earlier):
            continue
        flagged_by = [name for name, mask in flags.items() if mask[i]]
        statistics: dict[str, Any] = {k: float(v[i]) for k, v in result.measures.items()}
        statistics.update(
            {
                "product": product,
                "event": event,
                "flagged_by": flagged_by,
                "thresholds": [s.name for s in sets],
                "n_product": int(result.counts.n_product[i]),
                "n_event": int(result.counts.n_event[i]),
                "n_total": int(result.counts.n_total),
                "mgps_prior": [theta.alpha1, theta.beta1, theta.alpha2, theta.beta2, theta.p],
                "source": source_description,
            }
        )
        concern = concern_for_event(plan, event)
        signal = new_signal(
            session,
            title=f"{event} with {product}",
            who=who,
            product=product,
            event=event,
            concern_id=concern,
            plan_name=plan.name,
            source=SignalSource.DISPROPORTIONALITY,
            statistics=statistics,
            plan=plan,
            reason=f"disproportionality: flagged by {', '.join(flagged_by)} (N = {n})",
        )
        created.append(signal)
    return created


def _snapshot_n(row: SignalRow) -> float:
    if not row.statistics_json:
        return math.inf  # a closed signal without statistics: do not reopen it automatically
    n = json.loads(row.statistics_json).get("N")
    return float(n) if isinstance(n, int | float) else math.inf
