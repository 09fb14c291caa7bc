"""Expectedness (listedness) of each reaction against the plan's reference safety information.

ICH E2A II.C / GVP Module VI.A.2.5 (expectedness against the SmPC) and ICH E2C(R2) 3.4 (listedness
against the reference safety information for periodic reports). A reaction is listed when its MedDRA
PT is among the RSI's expected reactions; a reaction that is not coded cannot be assessed.
"""

from __future__ import annotations

from enum import StrEnum

from riskplan.cases.facts import ReactionFacts
from riskplan.plan import RiskManagementPlan


class Listedness(StrEnum):
    LISTED = "listed"
    UNLISTED = "unlisted"
    NOT_ASSESSABLE = "not assessable"  # not coded, or the plan has no RSI


def listedness(reaction: ReactionFacts, plan: RiskManagementPlan, region: str | None = None) -> Listedness:
    """Listedness against the RSI of ``region`` (e.g. the US PI for FDA), by default the plan's RSI (EU SmPC)."""
    rsi = plan.rsi_for(region)
    if rsi is None or not reaction.pt_name:
        return Listedness.NOT_ASSESSABLE
    return Listedness.LISTED if rsi.is_listed(reaction.pt_name) else Listedness.UNLISTED
