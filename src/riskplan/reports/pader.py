"""The US periodic adverse drug experience report (PADER; 21 CFR 314.80(c)(2), 600.80(c)(2) for biologics).

21 CFR 314.80(c)(2)(ii) asks for: (A) a narrative summary and analysis of the information in the report and
an analysis of the 15-day Alert reports submitted during the reporting interval; (B) the individual case
reports of adverse drug experiences not already submitted as 15-day reports (each as an ICSR); (C) a history
of actions taken since the last report because of adverse drug experiences.

* **Non-expedited ICSRs** (B): the cases of the plan whose version known at the data lock point (C.1.5 on or
  before it) the US destination's reporting rules (:func:`riskplan.submissions.decide`, the rules of
  ``submissions`` for the destination in force) place in the periodic report (domestic reports that are not
  15-day Alerts), first received (day 0) in the interval. The 15-day Alert cases of the interval are counted
  for (A).
* **History of actions** (C): plan versions stored and approved, and the signal workflow's moves (GVP IX /
  21 CFR 314.80(b)), in the interval.

The HTML is a pure function of the data (:class:`PaderData`): same data lock point and data, same bytes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy.orm import Session

from riskplan import __version__
from riskplan.cases import case_ids_of_plan, case_number, synthetic_worldwide_ids
from riskplan.errors import UserInputError
from riskplan.plan import RiskManagementPlan, approvals, content_hash, list_versions
from riskplan.reports.periodic_common import PlanChoice, choose_plan, render_template
from riskplan.reports.psur_counts import check_interval
from riskplan.reports.psur_data import report_checksum
from riskplan.signals import list_signals, signal_history
from riskplan.submissions import ReportKind, case_views, decide, destinations_in_force

US: Final = "US"


@dataclass(frozen=True)
class PaderCase:
    """One ICSR of the PADER: a non-expedited case of the interval (21 CFR 314.80(c)(2)(ii)(B))."""

    case: str
    worldwide_id: str
    version: int
    first_received: dt.date
    serious: bool
    pts: str
    rule: str
    synthetic: bool = False  # made by riskplan synth or the demo: not a real report, marked as such


@dataclass(frozen=True)
class _Found:
    case_id: int
    case: str
    worldwide_id: str
    version: int
    first_received: dt.date
    serious: bool
    pts: str
    rule: str


@dataclass(frozen=True)
class Action:
    """One action of the interval (21 CFR 314.80(c)(2)(ii)(C))."""

    day: dt.date
    what: str


@dataclass(frozen=True)
class PaderData:
    plan_name: str
    plan: RiskManagementPlan
    plan_version: int | None
    plan_label: str
    plan_sha256: str
    start: dt.date
    end: dt.date
    destination: str
    cases: tuple[PaderCase, ...]
    alerts: int  # 15-day Alert cases first received in the interval
    pt_counts: tuple[tuple[str, int], ...]  # PT -> cases of the report, most frequent first
    actions: tuple[Action, ...]
    parameters: dict[str, Any]
    audit_trail: tuple[int, str] = (0, "")
    checksum: str = field(default="")


def collect_pader(
    session: Session, plan_name: str, start: dt.date, end: dt.date, *, version: int | None = None
) -> PaderData:
    """Read everything the PADER shows (see the module docstring)."""
    check_interval(start, end)
    chosen: PlanChoice = choose_plan(session, plan_name, version)
    plan = chosen.plan
    in_force = destinations_in_force(session).get(US)
    if in_force is None:
        raise UserInputError("no US destination (FDA) in force: the PADER follows its reporting rules")
    destination = in_force.destination
    cases: list[_Found] = []
    alerts = 0
    for _case_id, (_plan, views) in sorted(case_views(session, case_ids_of_plan(session, plan_name)).items()):
        known = [v for v in views if v.valid and v.receipt <= end]
        if not known:
            continue
        first, latest = known[0], known[-1]
        if not start <= first.receipt <= end or latest.nullified:
            continue
        decision = decide(latest, destination, plan)
        if decision.kind is ReportKind.EXPEDITED:
            alerts += 1
        elif decision.kind is ReportKind.PERIODIC:
            pts = sorted({r.pt_name or r.verbatim for r in latest.reactions}, key=str.casefold)
            cases.append(
                _Found(
                    latest.case_id,
                    case_number(latest.case_id),
                    latest.worldwide_id,
                    latest.version,
                    first.receipt,
                    latest.serious,
                    "; ".join(pts),
                    decision.rule,
                )
            )
    made_up = set(synthetic_worldwide_ids(session, [c.case_id for c in cases]))
    listed = tuple(
        PaderCase(
            c.case, c.worldwide_id, c.version, c.first_received, c.serious, c.pts, c.rule, c.worldwide_id in made_up
        )
        for c in cases
    )
    counter: Counter[str] = Counter(pt for c in cases for pt in c.pts.split("; ") if pt)
    data = PaderData(
        plan_name=plan_name,
        plan=plan,
        plan_version=chosen.version,
        plan_label=chosen.label,
        plan_sha256=content_hash(plan),
        start=start,
        end=end,
        destination=f"{destination.code} ({destination.name}, {in_force.origin})",
        cases=listed,
        alerts=alerts,
        pt_counts=tuple(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0].casefold()))),
        actions=_actions(session, plan_name, start, end),
        parameters={"plan": plan_name, "from": start.isoformat(), "to": end.isoformat()},
    )
    return dataclasses.replace(data, checksum=_checksum(data))


def _actions(session: Session, plan_name: str, start: dt.date, end: dt.date) -> tuple[Action, ...]:
    """Plan versions stored and approved, and signal moves, in the interval, oldest first."""
    found: list[Action] = []
    for v in list_versions(session, plan_name):
        if start <= v.loaded_at.date() <= end:
            found.append(
                Action(v.loaded_at.date(), f"plan version {v.version} stored: {v.reason or 'no reason given'}")
            )
    for number, a in approvals(session, plan_name).items():
        if start <= a.approved_at.date() <= end:
            found.append(Action(a.approved_at.date(), f"plan version {number} approved by {a.approved_by}"))
    for signal in list_signals(session, plan_name=plan_name):
        for t in signal_history(session, signal.id):
            if start <= t.at.date() <= end:
                outcome = f", outcome {t.outcome.value}" if t.outcome else ""
                found.append(Action(t.at.date(), f"signal {signal.id} ({signal.title}): {t.to_state.value}{outcome}"))
    return tuple(sorted(found, key=lambda a: (a.day, a.what)))


def _checksum(data: PaderData) -> str:
    return report_checksum(
        data.parameters,
        data.plan_name,
        data.plan_version,
        data.plan_sha256,
        destination=data.destination,
        cases=[dataclasses.asdict(c) | {"first_received": c.first_received.isoformat()} for c in data.cases],
        alerts=data.alerts,
        actions=[[a.day.isoformat(), a.what] for a in data.actions],
    )


def render_pader_html(data: PaderData) -> str:
    """The PADER as one HTML document (21 CFR 314.80(c)(2)(ii) (A)-(C))."""
    return render_template(
        "pader/report.html.j2",
        d=data,
        version=__version__,
        style=render_template("periodic/style.css.j2", footer="PADER (21 CFR 314.80(c)(2))"),
        serious=sum(1 for c in data.cases if c.serious),
        synthetic=sum(1 for c in data.cases if c.synthetic),
    )
