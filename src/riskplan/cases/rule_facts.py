"""What the regulatory reporting rules read of a case version, kept beside its ICSR (``icsr_case_version``):
the occurrence country, the kind of report, nullification and each reaction's PT, English verbatim and
seriousness. Stored when the version is written (and by migration cases_0013 for versions written before), so
that deciding what every case owes (PSUR/PBRER appendix 20.4, ``riskplan submission compliance``) reads
these few columns instead of parsing and validating every ICSR.

* Country of occurrence: E.i.9 of the first reaction that gives one, else the primary source's country
  (C.2.r.3), else the sender's (C.3.4.5); None when none is given.
* Kind of report: literature when C.4.r is given, else from C.1.3 (spontaneous, study, other).
* Nullified: C.1.11.1 = 1 (nullification; an amendment is not one).
* Reactions: (E.i.2.1 PT name as coded, E.i.1.2 verbatim in English else E.i.1.1a, serious per E.i.3.2).
"""

from __future__ import annotations

import json
from typing import Any, Final

from riskplan.cases.model import Icsr, NullificationCode, ReportType

__all__ = [
    "RuleReaction",
    "occurrence_country",
    "parse_rule_reactions",
    "report_source",
    "rule_facts",
    "rule_reactions",
]

LITERATURE: Final = "literature"
SPONTANEOUS: Final = "spontaneous"
STUDY: Final = "study"
OTHER: Final = "other"

RuleReaction = tuple[str | None, str, bool]  # PT name, verbatim (English if given), serious


def occurrence_country(icsr: Icsr) -> str | None:
    for reaction in icsr.reactions:
        if reaction.country:
            return reaction.country
    source = icsr.primary_source
    if source is not None and source.country:
        return source.country
    return icsr.sender.country if icsr.sender is not None and icsr.sender.country else None


def report_source(icsr: Icsr) -> str:
    if icsr.literature:
        return LITERATURE
    if icsr.report_type is ReportType.SPONTANEOUS:
        return SPONTANEOUS
    if icsr.report_type is ReportType.STUDY:
        return STUDY
    return OTHER


def rule_reactions(icsr: Icsr) -> tuple[RuleReaction, ...]:
    return tuple((r.pt_name, r.verbatim_term_english or r.verbatim_term or "", r.is_serious) for r in icsr.reactions)


def _reactions_json(reactions: tuple[RuleReaction, ...]) -> str:
    return json.dumps([list(r) for r in reactions], ensure_ascii=False, separators=(",", ":"))


def parse_rule_reactions(text: str) -> tuple[RuleReaction, ...]:
    """The reactions as :func:`rule_facts` stored them."""
    return tuple((pt, str(verbatim), bool(serious)) for pt, verbatim, serious in json.loads(text))


def rule_facts(icsr: Icsr) -> dict[str, Any]:
    """The ``icsr_case_version`` columns the reporting rules read, for this ICSR."""
    return {
        "occurrence_country": occurrence_country(icsr),
        "report_source": report_source(icsr),
        "nullified": icsr.nullification is NullificationCode.NULLIFICATION,
        "rule_reactions": _reactions_json(rule_reactions(icsr)),
    }
