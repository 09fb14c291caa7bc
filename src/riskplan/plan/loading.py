"""Storing a plan as a new version without losing what the plan file does not carry.

A public RMP summary (Part VI) holds no concern definitions, reference safety information (RSI), infusion
checks or patient card; a plan read from one (``riskplan plan parse``) names them in ``absent``. Loading
such a plan keeps those parts from the current plan (:func:`riskplan.plan.current_plan`: the latest
approved version, else the latest stored, else the bundled file) and says exactly what it kept:

* a concern in both keeps its definition; a concern new in the file has none, and the load says so; a
  concern of the current plan that the file does not have is removed (a real change), and the load says so;
* a part the file does give (not empty) is the file's, even if the file lists it as absent.

Loaded *as it is* (``as_is``), the file's absent parts stay empty. Either way, a load that would leave the
new version without something the current plan has (a concern's definition, the RSI, the infusion checks,
the patient card) is refused, nothing stored, unless the loss is accepted (``accept_loss``). The audit row
of the new version records what was carried over and any loss accepted (21 CFR 11.10(e): the record of a
change says what changed).

Every way of loading a plan file (the command line, the web application) calls :func:`load_plan_version`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from riskplan.errors import UserInputError
from riskplan.plan.catalogue import PlanValidationError, bundled_plan_names, plan_from_data
from riskplan.plan.checks import unknown_concern_ids
from riskplan.plan.current import CurrentPlan, current_plan
from riskplan.plan.model import PlanPart, RiskManagementPlan
from riskplan.plan.versions import PlanVersion, latest_version, record_plan

__all__ = ["PlanLoad", "PlanLossRefused", "PreparedLoad", "load_plan_version", "prepare_load", "store_load"]


class PlanLossRefused(UserInputError):
    """Loading would drop parts of the current plan that the file does not carry; nothing was stored."""

    def __init__(self, message: str, lost: list[str]) -> None:
        super().__init__(message)
        self.lost = lost


@dataclass(frozen=True)
class PlanLoad:
    """What a load stored and what it did with the parts the file does not carry."""

    version: PlanVersion
    created: bool
    base: str | None  # "version 1" or "the bundled plan file uplizna"; None when there is no current plan
    kept: list[str] = field(default_factory=list)  # e.g. "definitions of 9 concerns", "18 infusion checks"
    unknown: list[PlanPart] = field(default_factory=list)  # absent from the file, nothing to keep them from
    without_definition: list[str] = field(default_factory=list)  # concerns new in the file, no definition
    removed: list[str] = field(default_factory=list)  # concerns of the current plan the file does not have
    checks_for_unknown_concerns: dict[str, list[str]] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)  # accepted loss
    as_is: bool = False

    def lines(self) -> list[str]:
        """The load explained, one line per fact, for the person who loaded it."""
        name = self.version.plan_name
        head = "stored as version" if self.created else "unchanged, still version"
        out = [f"plan {name}: {head} {self.version.version}"]
        if self.kept:
            out.append(f"kept from {self.base}: {', '.join(self.kept)}")
        if self.unknown:
            parts = ", ".join(p.value for p in self.unknown)
            if self.as_is:
                out.append(f"stored as it is, without (absent from the file): {parts}")
            elif self.base:
                out.append(f"not in the file nor in {self.base}: {parts}")
            else:
                out.append(f"not in the file, and no current plan to keep them from: {parts}")
        for cid in self.without_definition:
            out.append(f"concern {cid} is new and has no definition: no case counts toward it until one is added")
        if self.removed:
            out.append(f"removed (in {self.base}, not in the file): concern(s) {', '.join(self.removed)}")
        for check, ids in self.checks_for_unknown_concerns.items():
            out.append(f"infusion check {check} serves concern(s) not in the plan: {', '.join(ids)}")
        if self.lost:
            out.append(f"loss accepted, not carried over from {self.base}: {', '.join(self.lost)}")
        return out


@dataclass(frozen=True)
class PreparedLoad:
    """A plan ready to store: the file's plan completed from the current plan, and what that involved."""

    original: RiskManagementPlan  # the plan as given
    plan: RiskManagementPlan  # what will be stored
    base: CurrentPlan | None
    base_label: str | None
    kept: list[str]
    carried: dict[str, Any]
    lost: list[str]
    as_is: bool


def prepare_load(
    session: Session,
    plan: RiskManagementPlan,
    *,
    source: str | None = None,
    as_is: bool = False,
    accept_loss: bool = False,
) -> PreparedLoad:
    """The plan that loading ``plan`` would store (see the module docstring), nothing stored yet; raises
    :class:`PlanLossRefused` when it would lose a part of the current plan and the loss is not accepted."""
    base = _base(session, plan.name)
    base_label = None if base is None else _label(base)
    merged, kept, carried = plan, list[str](), dict[str, Any]()
    if base is not None and not as_is:
        merged, kept, carried = _complete(plan, base.plan, base_label or "", source)
    lost = [] if base is None else _losses(base.plan, merged)
    if lost and not accept_loss:
        raise PlanLossRefused(_refusal(plan, source, base_label or "", lost, as_is), lost)
    return PreparedLoad(plan, merged, base, base_label, kept, carried, lost, as_is)


def store_load(
    session: Session, prepared: PreparedLoad, *, who: str, source: str | None = None, reason: str | None = None
) -> PlanLoad:
    """Store a prepared load as a new version (unless unchanged); its audit row says what was carried over."""
    merged, base, base_label = prepared.plan, prepared.base, prepared.base_label
    audit: dict[str, tuple[Any, Any]] = {}
    if prepared.carried:
        audit["carried over"] = (None, {"from": base_label, **prepared.carried})
    if prepared.lost:
        audit["loss accepted"] = ({"from": base_label, "parts": prepared.lost}, None)
    version, created = record_plan(session, merged, who=who, source=source, reason=reason, audit=audit)
    base_ids = set() if base is None else {c.id for c in base.plan.safety_concerns}
    known = {c.id for c in merged.safety_concerns}
    return PlanLoad(
        version=version,
        created=created,
        base=base_label,
        kept=prepared.kept,
        unknown=[p for p in prepared.original.absent if _is_empty(merged, p)],
        without_definition=[c.id for c in merged.safety_concerns if c.id not in base_ids and c.definition.is_empty],
        removed=[] if base is None else [c.id for c in base.plan.safety_concerns if c.id not in known],
        checks_for_unknown_concerns=unknown_concern_ids(merged.infusion_checks, known),
        lost=prepared.lost,
        as_is=prepared.as_is,
    )


def load_plan_version(
    session: Session,
    plan: RiskManagementPlan,
    *,
    who: str,
    source: str | None = None,
    reason: str | None = None,
    as_is: bool = False,
    accept_loss: bool = False,
) -> PlanLoad:
    """Store ``plan`` as a new version of its plan (see the module docstring); raises
    :class:`PlanLossRefused` when it would lose a part of the current plan and the loss is not accepted."""
    prepared = prepare_load(session, plan, source=source, as_is=as_is, accept_loss=accept_loss)
    return store_load(session, prepared, who=who, source=source, reason=reason)


def _base(session: Session, name: str) -> CurrentPlan | None:
    if latest_version(session, name) is None and name not in bundled_plan_names():
        return None
    return current_plan(session, name)


def _label(base: CurrentPlan) -> str:
    return f"the bundled plan file {base.plan.name}" if base.version is None else f"version {base.version}"


def _is_empty(plan: RiskManagementPlan, part: PlanPart) -> bool:
    match part:
        case PlanPart.CONCERN_DEFINITIONS:
            return all(c.definition.is_empty for c in plan.safety_concerns)
        case PlanPart.REFERENCE_SAFETY_INFORMATION:
            return plan.reference_safety_information is None
        case PlanPart.INFUSION_CHECKS:
            return not plan.infusion_checks
        case PlanPart.PATIENT_CARD:
            return plan.patient_card is None
    raise AssertionError(part)  # pragma: no cover


def _complete(
    plan: RiskManagementPlan, base: RiskManagementPlan, base_label: str, source: str | None
) -> tuple[RiskManagementPlan, list[str], dict[str, Any]]:
    """``plan`` with each part it lists as absent (and leaves empty) taken from ``base``.

    Returns the completed plan, what was kept in words, and what was kept for the audit trail. A part
    taken from ``base`` is absent in the result only where it is absent in ``base``.
    """
    data = plan.model_dump(mode="json")
    # A part the file gives after all is the file's; definitions are taken concern by concern.
    absent = [p for p in plan.absent if p is PlanPart.CONCERN_DEFINITIONS or _is_empty(plan, p)]
    still_absent = [p for p in absent if p in base.absent]
    kept: list[str] = []
    carried: dict[str, Any] = {}
    for part in absent:
        if part is PlanPart.CONCERN_DEFINITIONS:
            before = {c.id: c.definition for c in base.safety_concerns}
            ids = []
            for concern, item in zip(plan.safety_concerns, data["safety_concerns"], strict=True):
                definition = before.get(concern.id)
                if concern.definition.is_empty and definition is not None and not definition.is_empty:
                    item["definition"] = definition.model_dump(mode="json")
                    ids.append(concern.id)
            if ids:
                kept.append(f"definitions of {len(ids)} concern{'s' if len(ids) != 1 else ''}")
                carried["concern definitions"] = ids
        elif part is PlanPart.REFERENCE_SAFETY_INFORMATION and base.reference_safety_information is not None:
            rsi = base.reference_safety_information
            data["reference_safety_information"] = rsi.model_dump(mode="json")
            kept.append(f"reference safety information ({len(rsi.expected_reactions)} terms)")
            carried["reference safety information"] = f"{rsi.document}, {len(rsi.expected_reactions)} terms"
        elif part is PlanPart.INFUSION_CHECKS and base.infusion_checks:
            data["infusion_checks"] = [c.model_dump(mode="json") for c in base.infusion_checks]
            kept.append(f"{len(base.infusion_checks)} infusion checks")
            carried["infusion checks"] = [c.id for c in base.infusion_checks]
        elif part is PlanPart.PATIENT_CARD and base.patient_card is not None:
            data["patient_card"] = base.patient_card.model_dump(mode="json")
            kept.append("patient card")
            carried["patient card"] = base.patient_card.languages()
    if plan.absent and plan.analysis is None and base.analysis is not None:
        # A plan read from a summary has no analysis block either (riskplan's design, not in the summary).
        data["analysis"] = base.analysis.model_dump(mode="json")
        kept.append("the analysis block (study designs, effectiveness indicators)")
        carried["analysis"] = sorted(base.analysis.studies)
    data["absent"] = [p.value for p in PlanPart if p in still_absent]
    where = source or f"plan {plan.name}"
    try:
        merged = plan_from_data(data, f"{where} with {', '.join(kept) or 'nothing'} kept from {base_label}")
    except PlanValidationError as exc:
        raise UserInputError(
            f"{exc}. Nothing stored: what {base_label} has does not fit the plan in the file; edit the file, "
            "or load it as it is"
        ) from None
    return merged, kept, carried


def _losses(base: RiskManagementPlan, new: RiskManagementPlan) -> list[str]:
    """What ``base`` has that ``new`` would not: definitions of concerns in both, RSI, checks, card."""
    lost: list[str] = []
    defined = {c.id for c in base.safety_concerns if not c.definition.is_empty}
    emptied = [c.id for c in new.safety_concerns if c.id in defined and c.definition.is_empty]
    if emptied:
        lost.append(f"definitions of {len(emptied)} concern{'s' if len(emptied) != 1 else ''} ({', '.join(emptied)})")
    if base.reference_safety_information is not None and new.reference_safety_information is None:
        lost.append(f"reference safety information ({len(base.reference_safety_information.expected_reactions)} terms)")
    if base.infusion_checks and not new.infusion_checks:
        lost.append(f"{len(base.infusion_checks)} infusion checks")
    if base.patient_card is not None and new.patient_card is None:
        lost.append("patient card")
    if base.analysis is not None and new.analysis is None:
        lost.append("the analysis block (study designs, effectiveness indicators)")
    return lost


def _refusal(plan: RiskManagementPlan, source: str | None, base_label: str, lost: list[str], as_is: bool) -> str:
    where = source or f"plan {plan.name}"
    why = (
        "loaded as it is, the file would replace them with nothing"
        if as_is
        else "the file does not have them and does not list them as absent"
    )
    return (
        f"{where}: the new version would lose what {base_label} has: {'; '.join(lost)} ({why}). "
        "Nothing stored. To store the file as it is all the same, accept the loss (--accept-loss)"
        + ("" if as_is else "; a summary parsed by an older riskplan: parse it again")
    )
