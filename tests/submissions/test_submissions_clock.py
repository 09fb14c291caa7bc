"""Day 0 and follow-ups per destination (GVP VI.B.7, VI.C.6.2.2.7, VI.C.6.2.2.9), in the rules and the store."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from case_factory import make_icsr
from riskplan.cases.codes import NullificationCode, Qualification
from riskplan.cases.model import PrimarySource
from riskplan.cases.processing import CaseProcessor
from riskplan.cases.store import store_cases
from riskplan.errors import UserInputError
from riskplan.plan.catalogue import load_plan
from riskplan.plan.model import RiskManagementPlan
from riskplan.store.db import session_scope
from riskplan.submissions import (
    Destination,
    ReportKind,
    Source,
    VersionView,
    bundled_destinations,
    current_obligations,
    destinations_in_force,
    obligation_for,
)
from riskplan.submissions.rules import ReactionView
from riskplan.terms.coding import OpenTermList

D = dt.date
PLAN = load_plan("uplizna")
EU = bundled_destinations()["EU"]


def v(
    version: int,
    receipt: dt.date,
    *,
    serious: bool = True,
    country: str = "DE",
    significant: bool = True,
    nullified: bool = False,
    valid: bool = True,
) -> VersionView:
    return VersionView(
        case_id=1,
        worldwide_id="DE-1",
        version_id=version,
        version=version,
        receipt=receipt,
        valid=valid,
        serious=serious,
        country=country,
        source=Source.SPONTANEOUS,
        reactions=(ReactionView("Pneumonia", "pneumonia", serious),),
        nullified=nullified,
        significant=significant,
    )


def owed(views: list[VersionView], sent: set[int], destination: Destination = EU, plan: RiskManagementPlan = PLAN):
    return obligation_for(views, destination, plan, sent)


def test_follow_up_before_the_initial_report_was_sent_does_not_move_its_due_date() -> None:
    o = owed([v(1, D(2026, 11, 1)), v(2, D(2026, 11, 11))], set())
    assert o is not None
    assert (o.version, o.report, o.day_zero, o.due, o.rule) == (
        2,
        "initial",
        D(2026, 11, 1),
        D(2026, 11, 16),
        "eu-serious",
    )


def test_a_follow_up_making_the_case_serious_starts_fifteen_days_from_its_receipt() -> None:
    o = owed([v(1, D(2026, 11, 1), serious=False), v(2, D(2026, 11, 11))], set())
    assert o is not None and o.due == D(2026, 11, 26)


def test_only_significant_follow_up_after_a_submission_starts_a_new_clock() -> None:
    o = owed([v(1, D(2026, 11, 1)), v(2, D(2026, 11, 20))], {1})
    assert o is not None and (o.report, o.due) == ("follow-up", D(2026, 12, 5))
    assert owed([v(1, D(2026, 11, 1)), v(2, D(2026, 11, 20), significant=False)], {1}) is None
    assert owed([v(1, D(2026, 11, 1)), v(2, D(2026, 11, 20))], {2}) is None  # already sent


def test_downgrade_and_nullification_are_reported_as_such_per_destination() -> None:
    # serious non-EEA case reported to EudraVigilance, then found non-serious: not reportable there any more
    down = owed([v(1, D(2026, 11, 1), country="US"), v(2, D(2026, 11, 20), serious=False, country="US")], {1})
    assert down is not None
    assert (down.report, down.kind, down.due) == ("downgrade", ReportKind.EXPEDITED, D(2026, 12, 5))
    assert "VI.C.6.2.2.7" in down.cites
    # the same facts at a destination that never had the case: nothing to downgrade
    assert owed([v(1, D(2026, 11, 1), country="US"), v(2, D(2026, 11, 20), serious=False, country="US")], set()) is None
    gone = owed([v(1, D(2026, 11, 1)), v(2, D(2026, 11, 20), nullified=True)], {1})
    assert gone is not None and (gone.report, gone.due) == ("nullification", D(2026, 12, 5))
    assert owed([v(1, D(2026, 11, 1)), v(2, D(2026, 11, 20), nullified=True)], set()) is None


def test_an_invalid_case_owes_nothing_until_a_follow_up_makes_it_valid() -> None:
    assert owed([v(1, D(2026, 11, 1), valid=False)], set()) is None
    o = owed([v(1, D(2026, 11, 1), valid=False), v(2, D(2026, 11, 5))], set())
    assert o is not None and (o.day_zero, o.due) == (D(2026, 11, 5), D(2026, 11, 20))


@pytest.fixture(scope="module")
def processor() -> CaseProcessor:
    return CaseProcessor(PLAN, OpenTermList(PLAN))


def test_day_zero_is_the_first_receipt_by_anyone_and_a_future_date_never_moves_a_clock(
    engine: Engine, processor: CaseProcessor
) -> None:
    de = PrimarySource(country="DE", qualification=Qualification.PHYSICIAN)
    # the partner received it on 25 October (C.1.4); the company on 1 November (C.1.5)
    partner_first = make_icsr("DE-RPDEMO-2026-000010", first_received="20261025", received="20261101", reporter=de)
    # a mistyped receipt date two years ahead is refused at intake, so it can never move a clock
    future = make_icsr("DE-RPDEMO-2026-000011", received="20281101", reporter=de)
    recorded = dt.datetime(2026, 11, 3, 10, 0, tzinfo=dt.UTC)
    with session_scope(engine) as s, pytest.raises(UserInputError, match="20281101 is after today"):
        store_cases(s, [processor.assess(future)], plan_name="uplizna", plan_version=None, who="cp1", now=recorded)
    with session_scope(engine) as s:
        store_cases(
            s, [processor.assess(partner_first)], plan_name="uplizna", plan_version=None, who="cp1", now=recorded
        )
    with session_scope(engine) as s:
        eu = [d for d in destinations_in_force(s).values() if d.destination.code == "EU"]
        found = {o.worldwide_id: (o.day_zero, o.due) for o in current_obligations(s, eu, {})}
    assert found == {"DE-RPDEMO-2026-000010": (D(2026, 10, 25), D(2026, 11, 9))}


def test_a_nullified_version_in_the_store_owes_a_nullification_where_the_case_was_sent(
    engine: Engine, processor: CaseProcessor
) -> None:
    de = PrimarySource(country="DE", qualification=Qualification.PHYSICIAN)
    first = make_icsr("DE-RPDEMO-2026-000012", received="20261101", reporter=de)
    nullified = first.model_copy(
        update={"nullification": NullificationCode.NULLIFICATION, "nullification_reason": "duplicate of -000010"}
    )
    with session_scope(engine) as s:
        [o1] = store_cases(s, [processor.assess(first)], plan_name="uplizna", plan_version=None, who="cp1")
        store_cases(s, [processor.assess(nullified)], plan_name="uplizna", plan_version=None, who="cp1")
    with session_scope(engine) as s:
        eu = [d for d in destinations_in_force(s).values() if d.destination.code == "EU"]
        assert current_obligations(s, eu, {}) == []  # never sent: nothing to nullify
        [o] = current_obligations(s, eu, {(o1.case_id, "EU"): {1}})
    assert (o.version, o.report) == (2, "nullification")
