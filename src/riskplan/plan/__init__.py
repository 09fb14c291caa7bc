"""The plan (GVP Module V): model, bundled plans, parser, renderer, versions, approvals."""

from riskplan.plan.current import CurrentPlan, current_plan, plan_from_file

__all__ = ["CurrentPlan", "current_plan", "plan_from_file"]
