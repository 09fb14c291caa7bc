"""The plan (GVP Module V): model, bundled plans, parser, renderer, versions, approvals."""

from riskplan.plan.current import CurrentPlan, current_plan

__all__ = ["CurrentPlan", "current_plan"]
