"""How many reports are owed, per destination and due date, without one object per report (PSUR/PBRER appendix
20.4 over a million cases: hundreds of thousands of reports due in its interval).

The rules of :mod:`riskplan.submissions.obligations` decide, the same functions; only what they are given is
read grouped: a case with one version and no submission anywhere owes what its version's stored facts say
(:func:`riskplan.cases.rule_facts`), whoever it is, so such cases are counted per combination of those facts and
each combination is decided once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence

from sqlalchemy import Date, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from riskplan.cases import CaseRow, CaseVersionRow, ReportableVersion
from riskplan.plan import RiskManagementPlan, current_plan
from riskplan.submissions.destination_versions import DestinationInForce
from riskplan.submissions.obligations import obligation_for, version_views, with_periodic_report
from riskplan.submissions.rules import Decisions, ReactionView
from riskplan.submissions.sending import owed_now
from riskplan.submissions.tables import SubmissionRow


def owed_due_counts(
    session: Session,
    destinations: Sequence[DestinationInForce],
    due_between: tuple[dt.date, dt.date],
    *,
    plan_name: str | None = None,
) -> Counter[tuple[str, dt.date]]:
    """(destination, due date) → how many reports are owed now (no live submission covers them) and due in
    ``due_between`` (both included), over the cases of ``plan_name`` (default every case): the counts of
    ``owed_now(..., include_periodic=True, due_between=...)`` without one object per report.

    The same rules decide (:func:`obligation_for`). A case with one version and no submission anywhere owes what
    its version's stored facts say, whoever it is: such cases are read grouped by those facts (one row per
    combination, with the number of cases) and each combination is decided once; the others (follow-ups, cases
    sent or in progress somewhere, versions without stored rule facts) case by case, as :func:`owed_now`."""
    facts = (
        CaseVersionRow.report_source.is_not(None),
        CaseVersionRow.nullified.is_not(None),
        CaseVersionRow.rule_reactions.is_not(None),
    )
    alone = and_(CaseRow.latest_version == 1, ~exists().where(SubmissionRow.case_id == CaseRow.id))
    of_plan = () if plan_name is None else (CaseRow.plan_name == plan_name,)
    columns = (
        CaseRow.plan_name,
        CaseVersionRow.version,
        CaseVersionRow.received,
        CaseVersionRow.first_received,
        # the rules read only the day a version was recorded (its receipt is the earliest of the days it was
        # received and recorded): grouped by that day, not by the instant, which differs for every case
        func.date(CaseVersionRow.recorded_at, type_=Date),
        CaseVersionRow.valid,
        CaseVersionRow.serious,
        CaseVersionRow.occurrence_country,
        CaseVersionRow.report_source,
        CaseVersionRow.nullified,
        CaseVersionRow.rule_reactions,
    )
    session.flush()  # Core rows below, flushed first as the ORM's execute would
    connection = session.connection()
    groups = connection.execute(
        select(*columns, func.count())
        .join(CaseRow, CaseRow.id == CaseVersionRow.case_id)
        .where(alone, CaseVersionRow.version == 1, *facts, *of_plan)
        .group_by(*columns)
    )
    counts: Counter[tuple[str, dt.date]] = Counter()
    plans: dict[str, RiskManagementPlan] = {}
    decisions = Decisions()
    reactions: dict[str, tuple[ReactionView, ...]] = {}
    first, last = due_between
    for plan_of, version, received, first_received, recorded_on, *facts_read, n in groups:
        plan = plans.get(plan_of)
        if plan is None:
            plan = plans[plan_of] = current_plan(session, plan_of).plan
        # no case identity (the group stands for n cases); the rest in ReportableVersion's order, as selected
        recorded_at = dt.datetime.combine(recorded_on, dt.time())  # only its day is read (obligations._receipt)
        row = ReportableVersion(0, "", plan_of, 0, version, received, first_received, recorded_at, *facts_read)
        views = version_views(0, [row], {}, reactions)
        for d in destinations:
            found = obligation_for(views, d.destination, plan, (), destination_version=d.version, decide=decisions)
            if found is not None:
                found = with_periodic_report(found, plan, plan_of, d.destination)
                if found.due is not None and first <= found.due <= last:
                    counts[(found.destination, found.due)] += int(n)
    # every other case (not alone, or a version without stored facts); IN lists rather than EXISTS per case
    # (PostgreSQL plans one hashed subquery each, not a subquery per case)
    others = set(
        connection.scalars(
            select(CaseRow.id).where(
                *of_plan,
                or_(
                    CaseRow.latest_version != 1,
                    CaseRow.id.in_(select(SubmissionRow.case_id)),
                    CaseRow.id.in_(select(CaseVersionRow.case_id).where(or_(*(~f for f in facts)))),
                ),
            )
        )
    )
    if others:
        for o in owed_now(session, destinations, include_periodic=True, case_ids=others, due_between=due_between):
            if o.due is not None:
                counts[(o.destination, o.due)] += 1
    return counts
