"""What one version of a case is for a destination, and which of its rules fires.

* Seriousness: E2B E.i.3.2 (ICH E2A), as the case processor recorded it.
* Expectedness: each reaction's MedDRA PT against the RSI of the destination's region (the EU SmPC 4.8
  for EudraVigilance, the US prescribing information for FDA), with the listedness function of
  ``cases``; a reaction that cannot be assessed (not coded, no RSI) counts as unexpected.
* Country of occurrence: E.i.9 of the first reaction that gives one, else the primary source's country
  (C.2.r.3), else the sender's (C.3.4.5); unknown counts as domestic (the stricter reading).
* Kind of report: literature when C.4.r is given, else from C.1.3 (spontaneous, study, other).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from riskplan.cases import (
    Icsr,
    Listedness,
    NullificationCode,
    ReactionFacts,
    RuleReaction,
    listedness,
    occurrence_country,
    report_source,
    rule_reactions,
)
from riskplan.plan import RiskManagementPlan
from riskplan.submissions.destinations import Destination, Occurrence, ReportKind, Rule, Source


@dataclass(frozen=True)
class ReactionView:
    pt_name: str | None
    verbatim: str
    serious: bool


@dataclass(frozen=True)
class VersionView:
    """One version of a case as the reporting rules see it."""

    case_id: int
    worldwide_id: str
    version_id: int
    version: int
    receipt: dt.date  # C.1.5, or C.1.4 for the first version; never after the day it was recorded
    valid: bool
    serious: bool
    country: str | None
    source: Source
    reactions: tuple[ReactionView, ...]
    nullified: bool
    significant: bool = True  # GVP VI.C.6.2.2.7; the first version is always significant


@dataclass(frozen=True)
class Decision:
    kind: ReportKind
    days: int | None
    rule: str  # rule id
    cites: str


def view_of(
    icsr: Icsr,
    *,
    case_id: int,
    version_id: int,
    version: int,
    receipt: dt.date,
    valid: bool,
    serious: bool,
    significant: bool = True,
) -> VersionView:
    return VersionView(
        case_id=case_id,
        worldwide_id=icsr.worldwide_case_id,
        version_id=version_id,
        version=version,
        receipt=receipt,
        valid=valid,
        serious=serious,
        country=occurrence_country(icsr),
        source=Source(report_source(icsr)),
        reactions=reactions_of(rule_reactions(icsr)),
        nullified=icsr.nullification is NullificationCode.NULLIFICATION,
        significant=significant,
    )


def reactions_of(reactions: tuple[RuleReaction, ...]) -> tuple[ReactionView, ...]:
    return tuple(ReactionView(pt, verbatim, serious) for pt, verbatim, serious in reactions)


def is_unexpected(view: VersionView, destination: Destination, plan: RiskManagementPlan) -> bool:
    """Some reaction (a serious one, for a serious case) is not listed in the destination's RSI."""
    judged = [r for r in view.reactions if r.serious] if view.serious else list(view.reactions)
    return any(
        listedness(ReactionFacts(r.verbatim, r.pt_name), plan, destination.rsi_region) is not Listedness.LISTED
        for r in judged
    )


NOT_AUTHORISED = "not-authorised"


def decide(view: VersionView, destination: Destination, plan: RiskManagementPlan) -> Decision:
    """The first of the destination's rules that holds for this version."""
    if not destination.authorised:
        return Decision(
            ReportKind.NOT_REPORTABLE, None, NOT_AUTHORISED, f"{destination.code}: the product is not authorised there"
        )
    occurrence = Occurrence.DOMESTIC if destination.is_domestic(view.country) else Occurrence.FOREIGN
    unexpected: bool | None = None
    for rule in destination.rules:
        when = rule.when
        if when.serious is not None and when.serious != view.serious:
            continue
        if when.occurrence is not None and when.occurrence is not occurrence:
            continue
        if when.sources and view.source not in when.sources:
            continue
        if when.unexpected is not None:
            if unexpected is None:
                unexpected = is_unexpected(view, destination, plan)
            if when.unexpected != unexpected:
                continue
        return _decision(rule)
    return Decision(ReportKind.NOT_REPORTABLE, None, "no-rule", f"{destination.code}: no rule applies to this case")


class Decisions:
    """:func:`decide` remembered for one run over many cases: the decision depends only on the destination, the
    plan and what the rules read of the version (seriousness, country, source, reactions), which most versions
    share with others; each combination is decided once, with the same result. Keep it for as long as the
    destinations and plans it saw are alive (they are told apart by identity)."""

    def __init__(self) -> None:
        self._memo: dict[tuple[object, ...], Decision] = {}

    def __call__(self, view: VersionView, destination: Destination, plan: RiskManagementPlan) -> Decision:
        key = (id(destination), id(plan), view.serious, view.country, view.source, view.reactions)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = decide(view, destination, plan)
        return found


Decide = Callable[[VersionView, Destination, RiskManagementPlan], Decision]


def _decision(rule: Rule) -> Decision:
    return Decision(rule.report, rule.days, rule.id, rule.cites)
