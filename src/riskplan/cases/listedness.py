"""Expectedness (listedness) of each reaction against the plan's reference safety information.

ICH E2A II.C / GVP Module VI.A.2.5 (expectedness against the SmPC) and ICH E2C(R2) 3.4 (listedness
against the reference safety information for periodic reports). A reaction is listed when its MedDRA
PT is among the RSI's expected reactions; a reaction that is not coded cannot be assessed.

:func:`pt_listedness` is the one definition: case intake (:func:`listedness`), the reporting rules and the
PSUR's summary tabulations all use it.
"""

from __future__ import annotations

from enum import StrEnum

from riskplan.cases.facts import ReactionFacts
from riskplan.plan import RiskManagementPlan


class Listedness(StrEnum):
    LISTED = "listed"
    UNLISTED = "unlisted"
    NOT_ASSESSABLE = "not assessable"  # not coded, or the plan has no RSI


def pt_listedness(pt_name: str | None, plan: RiskManagementPlan, region: str | None = None) -> Listedness:
    """Listedness of the MedDRA PT ``pt_name`` against the RSI of ``region`` (e.g. the US PI for FDA), by
    default the plan's RSI (EU SmPC); PT names compare case-folded (``str.casefold``, so "Straße" = "STRASSE")."""
    rsi = plan.rsi_for(region)
    if rsi is None or not pt_name:
        return Listedness.NOT_ASSESSABLE
    return Listedness.LISTED if rsi.is_listed(pt_name) else Listedness.UNLISTED


def listedness(reaction: ReactionFacts, plan: RiskManagementPlan, region: str | None = None) -> Listedness:
    """Listedness of a reaction (its coded PT) against the RSI of ``region``: :func:`pt_listedness`."""
    return pt_listedness(reaction.pt_name, plan, region)
