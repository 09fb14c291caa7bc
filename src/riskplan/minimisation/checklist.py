"""The pre-infusion checklist: the plan's infusion checks evaluated against a patient's record.

Each check gives ``pass``, ``warn`` or ``block`` with the SmPC section that justifies it. A failed check
takes the plan's ``severity_if_failed``; missing data is always a ``warn`` naming the missing item, never
a silent pass (a screening required before the first dose and not on record is a failed check, not
missing data: see :func:`riskplan.minimisation.rules.screening_before_first_dose`). Checks that apply
to the first dose only are listed as not applicable at later infusions.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from riskplan.errors import UserInputError
from riskplan.minimisation.record import PatientRecord
from riskplan.minimisation.rules import RULES, RuleContext, Verdict
from riskplan.plan import CheckApplies, CheckSeverity, CurrentPlan, InfusionCheck, RiskManagementPlan, RuleKind


class CheckStatus(StrEnum):
    PASS = "pass"
    WARN = "warn"
    BLOCK = "block"


EXIT_CODES: dict[CheckStatus, int] = {CheckStatus.PASS: 0, CheckStatus.WARN: 1, CheckStatus.BLOCK: 3}
"""Exit codes of ``riskplan check infusion`` (2 is bad input)."""

_ORDER = {CheckStatus.PASS: 0, CheckStatus.WARN: 1, CheckStatus.BLOCK: 2}


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)


class RuleResult(_Result):
    id: str
    title: str
    rule: str
    status: CheckStatus
    message: str
    smpc_section: str
    concern_ids: list[str]


class ChecklistResult(_Result):
    patient_id: str
    plan: str
    plan_version: int | None = None  # the stored version used; None for a plan file (21 CFR 11.10(e))
    plan_source: str = "given"  # "approved version", "latest stored version (not approved)", "bundled file", ...
    infusion_date: dt.date
    infusion_number: int
    first_dose: bool
    results: list[RuleResult]
    not_applicable: list[str]

    @property
    def status(self) -> CheckStatus:
        return max((r.status for r in self.results), key=_ORDER.__getitem__, default=CheckStatus.PASS)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def count(self, status: CheckStatus) -> int:
        return sum(1 for r in self.results if r.status is status)

    def plan_used(self) -> str:
        """Which plan version the checks came from, e.g. ``uplizna version 3, approved version``."""
        return describe_plan(self.plan, self.plan_version, self.plan_source)


def describe_plan(name: str, version: int | None, source: str) -> str:
    """How output names the plan used: ``uplizna version 3, approved version``, ``uplizna, bundled file
    (no version stored)`` or ``uplizna, file my-plan.yaml``."""
    if version is None:
        return f"{name}, {source}" + (" (no version stored)" if source == "bundled file" else "")
    return f"{name} version {version}, {source}"


def evaluate_check(check: InfusionCheck, ctx: RuleContext) -> RuleResult:
    finding = RULES[RuleKind(check.rule)](check.parameters, ctx)
    if finding.verdict is Verdict.PASS:
        status = CheckStatus.PASS
    elif finding.verdict is Verdict.MISSING or check.severity_if_failed is CheckSeverity.WARN:
        status = CheckStatus.WARN
    else:
        status = CheckStatus.BLOCK
    return RuleResult(
        id=check.id,
        title=check.title,
        rule=check.rule,
        status=status,
        message=finding.message,
        smpc_section=check.smpc_section,
        concern_ids=list(check.concern_ids),
    )


def evaluate_infusion(
    record: PatientRecord,
    plan: RiskManagementPlan | CurrentPlan,
    infusion_date: dt.date | None = None,
    *,
    plan_source: str = "given",
) -> ChecklistResult:
    """Evaluate the plan's infusion checks for the infusion on ``infusion_date`` (default: today).

    Pass the :class:`~riskplan.plan.CurrentPlan` from :func:`riskplan.plan.current_plan` so that the result
    names the stored plan version the checks came from; a plain plan is described by ``plan_source`` (which
    a CurrentPlan's origin replaces).
    """
    version: int | None = None
    if isinstance(plan, CurrentPlan):
        version, plan_source = plan.version, plan.origin
    rmp = plan.plan if isinstance(plan, CurrentPlan) else plan
    if not rmp.infusion_checks:
        raise UserInputError(f"plan {rmp.name!r} declares no infusion checks (infusion_checks)")
    when = infusion_date or dt.date.today()
    ctx = RuleContext.of(record, when)
    results: list[RuleResult] = []
    not_applicable: list[str] = []
    for check in rmp.infusion_checks:
        if check.applies is CheckApplies.FIRST_DOSE and not ctx.is_first_dose:
            not_applicable.append(check.id)
            continue
        results.append(evaluate_check(check, ctx))
    return ChecklistResult(
        patient_id=record.patient.id,
        plan=rmp.name,
        plan_version=version,
        plan_source=plan_source,
        infusion_date=when,
        infusion_number=ctx.infusion_number,
        first_dose=ctx.is_first_dose,
        results=results,
        not_applicable=not_applicable,
    )
