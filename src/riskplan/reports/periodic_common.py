"""What the DSUR and the PADER share: the plan version a report uses and the Jinja2 environment.

A report names the plan version it used; regenerating a stored report uses that same stored version, so that
a later approval does not change an earlier report (same data lock point, same bytes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session

from riskplan.plan import RiskManagementPlan, current_plan, get_version


@dataclass(frozen=True)
class PlanChoice:
    plan: RiskManagementPlan
    version: int | None
    label: str


def choose_plan(session: Session, plan_name: str, version: int | None = None) -> PlanChoice:
    """The stored ``version`` when given (regeneration), else the plan in force (approved, latest, bundled)."""
    if version is not None:
        stored = get_version(session, plan_name, version)
        return PlanChoice(stored.plan, version, f"{plan_name} version {version}")
    found = current_plan(session, plan_name)
    if found.version is not None:  # the same words when regenerated from the stored version
        return PlanChoice(found.plan, found.version, f"{plan_name} version {found.version}")
    return PlanChoice(found.plan, found.version, found.describe())


_ENV = Environment(
    loader=PackageLoader("riskplan.reports", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render_template(name: str, **values: Any) -> str:
    """A template of ``reports/templates`` rendered with ``values`` (a pure function: same values, same text)."""
    return _ENV.get_template(name).render(**values)
