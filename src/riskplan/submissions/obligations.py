"""What is owed to each destination for each case: the report, its due date and the rule that fired.

Day 0 (GVP VI.B.7) is the first receipt of the four minimum criteria by anyone in the company or a
partner: C.1.4 of the first valid version (the earliest receipt, a partner's included), or C.1.5 of the
follow-up that made the case valid. A receipt date after the day a version was recorded counts as that
day, so a date in the future never moves a clock.

* Initial report: due ``days`` after the receipt of the earliest version for which the rule in force for
  the latest version (or a stricter one) would already have fired. Follow-up received before the
  initial report was sent goes into it and does not move its due date; a follow-up that makes the case
  serious starts the 15 days from its own receipt (GVP VI.C.6.2.2.7).
* After a report was sent, only significant follow-up information starts a new clock; a follow-up that
  makes a reported case not reportable there is sent as a downgrade; a nullified case that was reported
  is sent as a nullification (GVP VI.C.6.2.2.9); administrative changes owe nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from riskplan.cases import (
    Icsr,
    ReportableVersion,
    case_number,
    is_significant,
    parse_rule_reactions,
    reportable_versions,
    version_documents,
)
from riskplan.plan import RiskManagementPlan, current_plan
from riskplan.store import field_changes
from riskplan.submissions.destination_versions import DestinationInForce
from riskplan.submissions.destinations import Destination, ReportKind, Source
from riskplan.submissions.periodic import CITES as PERIODIC_CITES
from riskplan.submissions.periodic import missing_approval, periodic_report
from riskplan.submissions.rules import (
    Decide,
    Decision,
    Decisions,
    ReactionView,
    VersionView,
    decide,
    reactions_of,
    view_of,
)

INITIAL = "initial"
FOLLOW_UP = "follow-up"
DOWNGRADE = "downgrade"
NULLIFICATION = "nullification"


@dataclass(frozen=True)
class Obligation:
    case_id: int
    worldwide_id: str
    version: int
    version_id: int
    destination: str
    destination_version: int | None
    kind: ReportKind
    report: str  # initial | follow-up | downgrade | nullification
    day_zero: dt.date | None
    due: dt.date | None
    rule: str
    cites: str
    periodic_report: str | None = None  # kind periodic: the report it belongs to, or why it cannot be placed

    @property
    def case_number(self) -> str:
        return case_number(self.case_id)


def obligation_for(
    views: Sequence[VersionView],
    destination: Destination,
    plan: RiskManagementPlan,
    sent: Collection[int],
    *,
    destination_version: int | None = None,
    decide: Decide = decide,
) -> Obligation | None:
    """What the case (its versions, oldest first) owes ``destination``, given the versions already sent there;
    None when nothing is owed (not valid, already sent, not reportable, or nothing significant since)."""
    valid = [v for v in views if v.valid]
    if not valid:
        return None  # no clock before the four minimum criteria are met (GVP VI.B.7)
    latest = valid[-1]
    last_sent = max(sent) if sent else None
    if last_sent is not None and last_sent >= latest.version:
        return None
    owed = _Owed(latest, destination, destination_version, valid[0].receipt)
    now = decide(latest, destination, plan)
    if last_sent is None:
        if latest.nullified:
            return None  # never reported here: nothing to nullify
        return _clock(valid, now, destination, plan, owed, INITIAL, decide)
    later = [v for v in valid if v.version > last_sent]
    if latest.nullified:
        due = later[0].receipt + dt.timedelta(days=destination.nullification_days)
        return owed(ReportKind.EXPEDITED, NULLIFICATION, due, "nullification", destination.follow_up_cites)
    significant = [v for v in later if v.significant]
    if not significant:
        return None  # GVP VI.C.6.2.2.7: non-significant follow-up starts no clock
    before = decide(next(v for v in valid if v.version == last_sent), destination, plan)
    if now.kind is ReportKind.NOT_REPORTABLE:
        if before.kind is ReportKind.NOT_REPORTABLE:
            return None
        due = significant[0].receipt + dt.timedelta(days=destination.downgrade_days)
        cites = f"{destination.follow_up_cites}; now: {now.cites}"
        return owed(ReportKind.EXPEDITED, DOWNGRADE, due, f"{now.rule} (downgrade)", cites)
    return _clock(significant, now, destination, plan, owed, FOLLOW_UP, decide)


@dataclass(frozen=True)
class _Owed:
    latest: VersionView
    destination: Destination
    destination_version: int | None
    day_zero: dt.date

    def __call__(self, kind: ReportKind, report: str, due: dt.date | None, rule: str, cites: str) -> Obligation:
        v = self.latest
        return Obligation(
            v.case_id,
            v.worldwide_id,
            v.version,
            v.version_id,
            self.destination.code,
            self.destination_version,
            kind,
            report,
            self.day_zero,
            due,
            rule,
            cites,
        )


def _clock(
    candidates: Sequence[VersionView],
    now: Decision,
    destination: Destination,
    plan: RiskManagementPlan,
    owed: _Owed,
    report: str,
    decide: Decide = decide,
) -> Obligation | None:
    """The clock runs from the earliest candidate version for which the rule in force now (or a stricter
    one) already fired: later information goes into the same report and does not move its due date."""
    if now.kind is ReportKind.NOT_REPORTABLE:
        return None
    if now.kind is ReportKind.PERIODIC or now.days is None:
        return owed(now.kind, report, None, now.rule, now.cites)
    start = candidates[-1]
    for v in candidates:
        d = decide(v, destination, plan)
        if d.kind is ReportKind.EXPEDITED and d.days is not None and d.days <= now.days:
            start = v
            break
    return owed(now.kind, report, start.receipt + dt.timedelta(days=now.days), now.rule, now.cites)


# --------------------------------------------------------------------------------------------------
# From the store
# --------------------------------------------------------------------------------------------------


def _receipt(v: ReportableVersion, first: bool) -> dt.date:
    dates = [v.received, v.recorded_at.date()]
    if first and v.first_received is not None:
        dates.append(v.first_received)  # C.1.4: the first receipt, by the company or a partner
    return min(dates)


def case_views(
    session: Session, case_ids: Collection[int] | None = None, *, significance_for: Collection[int] | None = None
) -> dict[int, tuple[str, list[VersionView]]]:
    """Each case's plan name and versions as the rules see them, from the facts stored beside each ICSR
    (:func:`riskplan.cases.rule_facts`). The significance of a follow-up (GVP VI.C.6.2.2.7) compares its ICSR
    with the one before: computed for the cases ``significance_for`` (default every case), the others' follow-ups
    count as significant without their ICSRs being read (pass the cases already reported somewhere: only
    those ask)."""
    grouped: dict[int, list[ReportableVersion]] = {}
    for v in reportable_versions(session, case_ids):
        grouped.setdefault(v.case_id, []).append(v)
    wanted = {
        v.version_id
        for case_id, versions in grouped.items()
        for v in versions
        if not v.has_rule_facts or (len(versions) > 1 and (significance_for is None or case_id in significance_for))
    }
    documents = version_documents(session, wanted) if wanted else {}
    reactions: dict[str, tuple[ReactionView, ...]] = {}  # many versions report alike: parsed once, shared
    return {
        case_id: (versions[0].plan_name, version_views(case_id, versions, documents, reactions))
        for case_id, versions in grouped.items()
    }


def version_views(
    case_id: int,
    versions: Sequence[ReportableVersion],
    documents: Mapping[int, str],
    reactions: dict[str, tuple[ReactionView, ...]],
) -> list[VersionView]:
    """The versions of one case (oldest first) as the rules see them; ``documents``: the ICSRs read (for the
    significance of follow-ups, and for versions without stored rule facts); ``reactions``: the stored reactions
    parsed so far (shared between cases)."""
    views: list[VersionView] = []
    previous: dict[str, object] | None = None
    for i, v in enumerate(versions):
        document = documents.get(v.version_id)
        data: dict[str, object] | None = None if document is None else json.loads(document)
        significant = (
            i == 0
            or previous is None
            or data is None
            or (is_significant(c.path for c in field_changes(previous, data)))
        )
        receipt = _receipt(v, i == 0)
        if v.has_rule_facts:
            assert v.rule_reactions is not None and v.report_source is not None and v.nullified is not None
            stored = reactions.get(v.rule_reactions)
            if stored is None:
                stored = reactions[v.rule_reactions] = reactions_of(parse_rule_reactions(v.rule_reactions))
            view = VersionView(
                case_id=case_id,
                worldwide_id=v.worldwide_id,  # C.1.8.1, the case's key: the same in every version
                version_id=v.version_id,
                version=v.version,
                receipt=receipt,
                valid=v.valid,
                serious=v.serious,
                country=v.occurrence_country,
                source=Source(v.report_source),
                reactions=stored,
                nullified=v.nullified,
                significant=significant,
            )
        else:  # written outside the store: the rules read its ICSR
            assert data is not None
            view = view_of(
                Icsr.model_validate(data),
                case_id=case_id,
                version_id=v.version_id,
                version=v.version,
                receipt=receipt,
                valid=v.valid,
                serious=v.serious,
                significant=significant,
            )
        views.append(view)
        previous = data
    return views


def with_periodic_report(
    o: Obligation, plan: RiskManagementPlan, plan_name: str, destination: Destination
) -> Obligation:
    """A periodic obligation with the periodic report it belongs to and that report's due date
    (21 CFR 314.80(c)(2)), from the plan's approval date in the destination's region."""
    if o.kind is not ReportKind.PERIODIC or o.day_zero is None:
        return o
    region = destination.rsi_region or destination.code
    approval = next((d for r, d in plan.product.approvals.items() if r.casefold() == region.casefold()), None)
    if approval is None:
        return replace(o, periodic_report=missing_approval(region, plan_name))
    report = periodic_report(region, approval, o.day_zero)
    return replace(o, due=report.due, periodic_report=report.label, cites=f"{o.cites}; {PERIODIC_CITES}")


def current_obligations(
    session: Session,
    destinations: Sequence[DestinationInForce],
    sent: Mapping[tuple[int, str], Collection[int]],
    *,
    case_ids: Collection[int] | None = None,
    due_between: tuple[dt.date, dt.date] | None = None,
) -> list[Obligation]:
    """Every report owed now (``due_between``: only those due in these days, both included), soonest due first
    (periodic ones, without a due date, last)."""
    plans: dict[str, RiskManagementPlan] = {}
    owed: list[Obligation] = []
    decisions = Decisions()  # many cases read alike to the rules: each combination is decided once
    # What a case owes a destination depends only on what the rules read of its versions (numbers, validity,
    # receipts, nullification, significance, and what decide reads), the plan, the destination and the last
    # version sent there; the case's identity is only copied into the result. Cases alike are decided once.
    owing: dict[tuple[object, ...], Obligation | None] = {}
    # the significance of follow-up information matters only where a version was already sent
    reported = {case_id for (case_id, _), versions in sent.items() if versions}
    for case_id, (plan_name, views) in case_views(session, case_ids, significance_for=reported).items():
        plan = plans.get(plan_name)
        if plan is None:
            plan = plans[plan_name] = current_plan(session, plan_name).plan
        alike = (plan_name, *(_what_counts(v) for v in views))
        latest: VersionView | None = None  # the latest valid version: the one that owes (looked up once)
        for d in destinations:
            case_sent = sent.get((case_id, d.destination.code), ())
            key = (alike, d.destination.code, d.version, max(case_sent) if case_sent else None)
            if key in owing:
                found = owing[key]
            else:
                found = obligation_for(
                    views, d.destination, plan, case_sent, destination_version=d.version, decide=decisions
                )
                found = owing[key] = (
                    None if found is None else with_periodic_report(found, plan, plan_name, d.destination)
                )
            if found is None:
                continue
            if due_between is not None and (found.due is None or not due_between[0] <= found.due <= due_between[1]):
                continue
            if found.case_id != case_id:
                if latest is None:
                    latest = next(v for v in reversed(views) if v.valid)
                found = _of_case(found, latest)
            owed.append(found)
    return sorted(owed, key=lambda o: (o.due is None, o.due or dt.date.max, o.case_id, o.destination))


def _what_counts(v: VersionView) -> tuple[object, ...]:
    """All of a version that :func:`obligation_for` reads, but the case's identity."""
    return (v.version, v.valid, v.receipt, v.nullified, v.significant, v.serious, v.country, v.source, v.reactions)


def _of_case(o: Obligation, latest: VersionView) -> Obligation:
    """The obligation ``o`` of a case alike, for the case whose latest valid version is ``latest``."""
    return Obligation(
        latest.case_id,
        latest.worldwide_id,
        o.version,
        latest.version_id,
        o.destination,
        o.destination_version,
        o.kind,
        o.report,
        o.day_zero,
        o.due,
        o.rule,
        o.cites,
        o.periodic_report,
    )
