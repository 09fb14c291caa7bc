"""Case processing and the case store, on SQLite and PostgreSQL: intake, follow-up, audit, clocks, counts."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, func, select

from case_factory import inebilizumab, make_icsr, neutrophil_test
from riskplan.cases.codes import NullFlavor, Outcome
from riskplan.cases.model import PrimarySource, Reaction
from riskplan.cases.processing import CaseProcessor
from riskplan.cases.store import (
    case_history,
    concern_counts,
    get_case,
    link_cases,
    list_cases,
    store_cases,
)
from riskplan.cases.tables import CaseRow, CaseVersionRow
from riskplan.errors import NotFoundError, UserInputError
from riskplan.plan.catalogue import load_plan
from riskplan.store.db import session_scope
from riskplan.terms.coding import OpenTermList


@pytest.fixture(scope="module")
def processor() -> CaseProcessor:
    plan = load_plan("uplizna")
    return CaseProcessor(plan, OpenTermList(plan))


def test_processing_codes_assesses_and_maps_a_serious_pneumonia(processor: CaseProcessor) -> None:
    assessed = processor.assess(make_icsr(tests=(neutrophil_test("0.9"),)))
    assert assessed.validity.valid
    [reaction] = assessed.reactions
    assert reaction.coding is not None and reaction.coding.pt_name == "Pneumonia"
    assert reaction.serious and reaction.seriousness_criteria == ("caused/prolonged hospitalisation",)
    assert reaction.listedness.value == "unlisted"
    assert assessed.icsr.reactions[0].pt_name == "Pneumonia"
    assert [m.concern_id for m in assessed.concerns] == [
        "neutropenia",
        "serious-infections",
        "safety-in-patients-65-years",
        "patients-concomitantly-receiving-other-immunosuppressive-agents",
    ]


def test_a_case_without_identifiable_reporter_is_stored_invalid_not_dropped(
    engine: Engine, processor: CaseProcessor
) -> None:
    icsr = make_icsr(
        "FR-RPDEMO-2026-000009",
        reporter=PrimarySource(given_name_null_flavor=NullFlavor.MSK, country_null_flavor=NullFlavor.UNK),
    )
    with session_scope(engine) as s:
        [outcome] = store_cases(s, [processor.assess(icsr)], plan_name="uplizna", plan_version=1, who="cp1")
    assert outcome.status == "created"
    with session_scope(engine) as s:
        stored = get_case(s, "FR-RPDEMO-2026-000009")
        events = case_history(s, outcome.case_number)
    assert not stored.valid
    assert stored.invalid_reasons == ("no identifiable reporter (C.2.r: name, address, qualification or country)",)
    assert stored.due is None  # no clock before the minimum criteria are met
    assert [e.action for e in events] == ["created", "stored invalid"]


def test_follow_up_creates_a_version_keeps_the_first_and_audits_each_change(
    engine: Engine, processor: CaseProcessor
) -> None:
    first = make_icsr(received="20261102")
    with session_scope(engine) as s:
        [created] = store_cases(s, [processor.assess(first)], plan_name="uplizna", plan_version=1, who="cp1")
    recovered = first.reactions[0].model_copy(update={"outcome": Outcome.RECOVERED})
    follow_up = first.model_copy(
        update={"most_recent_info": first.most_recent_info.__class__("20261110"), "reactions": (recovered,)}
    )
    with session_scope(engine) as s:
        [again] = store_cases(s, [processor.assess(first)], plan_name="uplizna", plan_version=1, who="cp1")
        [fu] = store_cases(
            s, [processor.assess(follow_up)], plan_name="uplizna", plan_version=1, who="cp2", reason="HCP follow-up"
        )
    assert (again.status, again.version) == ("unchanged", 1)
    assert (fu.status, fu.version, fu.case_id) == ("follow-up", 2, created.case_id)
    with session_scope(engine) as s:
        v1 = get_case(s, created.case_number, version=1)
        v2 = get_case(s, created.case_number)
        events = case_history(s, created.case_number)
        assert s.scalar(select(func.count()).select_from(CaseRow)) == 1
        assert s.scalar(select(func.count()).select_from(CaseVersionRow)) == 2
    assert v1.icsr.reactions[0].outcome is Outcome.RECOVERING  # the earlier version stays readable
    assert v2.icsr.reactions[0].outcome is Outcome.RECOVERED
    assert v2.latest_version == 2
    changed = {(e.field, e.old_value, e.new_value, e.who, e.reason) for e in events if e.action == "changed"}
    assert ("reactions.0.outcome", '"2"', '"1"', "cp2", "HCP follow-up") in changed
    assert ("most_recent_info", '"20261102"', '"20261110"', "cp2", "HCP follow-up") in changed
    # GVP VI.C.6.2.2.7: follow-up received before the initial report was sent goes into that report;
    # it does not move the 15-day due date (day 0 + 15), which the old clock moved to 25 November
    assert (v2.day_zero, v2.due) == (dt.date(2026, 11, 2), dt.date(2026, 11, 17))


def test_counts_per_safety_concern_use_latest_valid_versions(engine: Engine, processor: CaseProcessor) -> None:
    cases = [
        make_icsr("US-1", reactions=(Reaction(verbatim_term="infusion related reaction"),)),
        make_icsr("US-2", reactions=(Reaction(verbatim_term="shingles"),)),
        make_icsr("US-3", reactions=(Reaction(verbatim_term="PML", results_in_death=True),), drugs=(inebilizumab(),)),
    ]
    with session_scope(engine) as s:
        store_cases(s, [processor.assess(c) for c in cases], plan_name="uplizna", plan_version=1, who="cp1")
    with session_scope(engine) as s:
        counts = concern_counts(s, plan_name="uplizna")
        listing = list_cases(s)
    assert counts["infusion-reaction"] == 1
    # herpes zoster (viral reactivation) and the fatal PML (a serious reaction in SOC Infections and infestations)
    assert counts["serious-infections"] == 2
    assert counts["pml"] == 1
    assert counts["safety-in-patients-65-years"] == 3  # all three patients are 67
    assert counts["patients-concomitantly-receiving-other-immunosuppressive-agents"] == 2
    assert [c.worldwide_id for c in listing] == ["US-1", "US-2", "US-3"]
    assert listing[2].pts == ("Progressive multifocal leukoencephalopathy",)


def test_linking_duplicates_keeps_both_and_is_audited(engine: Engine, processor: CaseProcessor) -> None:
    with session_scope(engine) as s:
        a, b = store_cases(
            s,
            [processor.assess(make_icsr("IT-1")), processor.assess(make_icsr("IT-2"))],
            plan_name="uplizna",
            plan_version=1,
            who="cp1",
        )
    with session_scope(engine) as s:
        link_cases(s, "IT-1", b.case_number, kind="duplicate", who="sp1", reason="same patient, same PML", score=14.2)
    with session_scope(engine) as s:
        assert get_case(s, "IT-2").links == (("duplicate", "IT-1", "same patient, same PML"),)
        assert get_case(s, "IT-1").links == (("duplicate", "IT-2", "same patient, same PML"),)
        assert [e.action for e in case_history(s, "IT-2")][-1] == "linked as duplicate"
    with session_scope(engine) as s, pytest.raises(UserInputError, match="already linked"):
        link_cases(s, "IT-2", "IT-1", kind="duplicate", who="sp1", reason=None)
    with session_scope(engine) as s, pytest.raises(NotFoundError, match="no case 'XX-9'"):
        get_case(s, "XX-9")
    assert a.case_number.startswith("RP")
