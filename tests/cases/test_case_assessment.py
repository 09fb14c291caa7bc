"""Assessment rules on cases a safety physician would recognise: concerns, listedness, clocks, duplicates."""

from __future__ import annotations

import datetime as dt

import pytest

from riskplan.cases.clock import ReportingClock, VersionFacts, is_significant, reporting_clock
from riskplan.cases.concerns import convert_count, match_concerns
from riskplan.cases.duplicates import find_duplicates
from riskplan.cases.facts import CaseFacts, DrugFacts, LabFacts, ReactionFacts
from riskplan.cases.listedness import Listedness, listedness
from riskplan.plan.catalogue import load_plan
from riskplan.plan.model import RiskManagementPlan

D = dt.date
INEBILIZUMAB = DrugFacts("suspect", "UPLIZNA", ("inebilizumab",), D(2026, 3, 1))


@pytest.fixture(scope="module")
def plan() -> RiskManagementPlan:
    return load_plan("uplizna")


def concerns(facts: CaseFacts, plan: RiskManagementPlan) -> dict[str, tuple[str, ...]]:
    return {m.concern_id: m.reasons for m in match_concerns(facts, plan)}


def case(**kw: object) -> CaseFacts:
    base: dict[str, object] = {"case_key": "GB-TEST-1", "drugs": (INEBILIZUMAB,)}
    base.update(kw)
    return CaseFacts(**base)  # type: ignore[arg-type]


def test_infusion_reaction_on_first_infusion(plan: RiskManagementPlan) -> None:
    facts = case(reactions=(ReactionFacts("IRR with flushing", "Infusion related reaction"),), age_years=41)
    assert concerns(facts, plan) == {"infusion-reaction": ("reaction PT Infusion related reaction",)}


def test_serious_pneumonia_counts_as_serious_infection_but_non_serious_does_not(plan: RiskManagementPlan) -> None:
    serious = ReactionFacts("pneumonia", "Pneumonia", soc_name="Infections and infestations", serious=True)
    mild = ReactionFacts("cold", "Nasopharyngitis", soc_name="Infections and infestations", serious=False)
    assert "serious-infections" in concerns(case(reactions=(serious,)), plan)
    assert concerns(case(reactions=(mild,)), plan) == {}


def test_herpes_zoster_counts_as_viral_reactivation_even_when_not_serious(plan: RiskManagementPlan) -> None:
    shingles = ReactionFacts("shingles", "Herpes zoster", soc_name="Infections and infestations", serious=False)
    assert concerns(case(reactions=(shingles,)), plan) == {"serious-infections": ("reaction PT Herpes zoster",)}


def test_neutropenia_by_lab_value_in_either_unit(plan: RiskManagementPlan) -> None:
    by_litre = case(labs=(LabFacts("Neutrophil count", 1.2, "10^9/L"),))
    by_microlitre = case(labs=(LabFacts("ANC", 900, "cells/uL"),))
    normal = case(labs=(LabFacts("Neutrophil count", 1500, "/mm3"),))  # exactly 1.5: not below
    assert list(concerns(by_litre, plan)) == ["neutropenia"]
    assert list(concerns(by_microlitre, plan)) == ["neutropenia"]
    assert concerns(normal, plan) == {}
    assert convert_count(1500, "/mm3", "10^9/L") == 1.5
    assert convert_count(3, "mg/dL", "10^9/L") is None


def test_missing_information_elderly_pregnant_and_concomitant_azathioprine(plan: RiskManagementPlan) -> None:
    azathioprine = DrugFacts("concomitant", "Imurel", ("azathioprine",))
    facts = case(
        age_years=67,
        pregnant=False,
        drugs=(INEBILIZUMAB, azathioprine),
        reactions=(ReactionFacts("UTI", "Urinary tract infection", soc_name="Infections and infestations"),),
    )
    found = concerns(facts, plan)
    assert found == {
        "safety-in-patients-65-years": ("age 67 years > 65",),
        "patients-concomitantly-receiving-other-immunosuppressive-agents": ("concomitant Imurel (azathioprine)",),
    }
    assert "safety-in-patients-65-years" not in concerns(case(age_years=65), plan)  # "> 65 years"
    assert "safety-in-patients-65-years" in concerns(case(age_group="elderly"), plan)
    # a suspect drug is not a concomitant one
    assert concerns(case(drugs=(INEBILIZUMAB, DrugFacts("suspect", None, ("azathioprine",)))), plan) == {}


def test_pregnancy_exposure_and_breast_feeding(plan: RiskManagementPlan) -> None:
    assert list(concerns(case(pregnant=True), plan)) == ["use-during-pregnancy-and-lactation"]
    via_term = case(reactions=(ReactionFacts("exposed in 1st trimester", "Exposure during pregnancy"),))
    assert list(concerns(via_term, plan)) == ["use-during-pregnancy-and-lactation"]
    assert list(concerns(case(lactation_exposure=True), plan)) == ["use-during-pregnancy-and-lactation"]


def test_b_cell_depletion_counts_as_blood_disorder_only_in_a_foetus_or_newborn(plan: RiskManagementPlan) -> None:
    low_b = ReactionFacts("low B cells", "B-lymphocyte count decreased")
    neonate = case(parent_child=True, age_group="neonate", reactions=(low_b,))
    adult = case(age_years=40, reactions=(low_b,))
    assert concerns(neonate, plan) == {
        "blood-disorders": (
            "reaction PT B-lymphocyte count decreased",
            "parent-child report: foetal or neonatal exposure",
        )
    }
    assert "blood-disorders" not in concerns(adult, plan)


def test_malignancy_by_soc(plan: RiskManagementPlan) -> None:
    soc = "Neoplasms benign, malignant and unspecified (incl cysts and polyps)"
    facts = case(reactions=(ReactionFacts("breast ca", "Breast cancer", soc_name=soc, serious=True),))
    assert list(concerns(facts, plan)) == ["malignancy"]


def test_listedness_against_the_reference_safety_information(plan: RiskManagementPlan) -> None:
    assert listedness(ReactionFacts("UTI", "Urinary tract infection"), plan) is Listedness.LISTED
    assert listedness(ReactionFacts("PML", "Progressive multifocal leukoencephalopathy"), plan) is Listedness.UNLISTED
    assert listedness(ReactionFacts("felt odd"), plan) is Listedness.NOT_ASSESSABLE
    assert listedness(ReactionFacts("uti", "URINARY TRACT INFECTION"), plan) is Listedness.LISTED


# --- GVP VI.B.7 / VI.C.3 clocks -------------------------------------------------------------------------


def test_serious_case_is_due_fifteen_days_after_day_zero() -> None:
    clock = reporting_clock([VersionFacts(1, D(2026, 11, 2), valid=True, serious=True)])
    assert clock == ReportingClock(D(2026, 11, 2), D(2026, 11, 17), True, 1, False)
    assert clock.is_overdue(D(2026, 11, 18)) and not clock.is_overdue(D(2026, 11, 17))


def test_non_serious_case_is_due_in_ninety_days() -> None:
    clock = reporting_clock([VersionFacts(1, D(2026, 1, 10), valid=True, serious=False)])
    assert clock.due == D(2026, 4, 10)


def test_invalid_case_has_no_clock_until_a_follow_up_makes_it_valid() -> None:
    v1 = VersionFacts(1, D(2026, 5, 1), valid=False, serious=True)
    assert reporting_clock([v1]).due is None
    v2 = VersionFacts(2, D(2026, 5, 20), valid=True, serious=True)
    clock = reporting_clock([v1, v2])
    assert (clock.day_zero, clock.due) == (D(2026, 5, 20), D(2026, 6, 4))


def test_follow_up_upgrading_to_serious_restarts_a_fifteen_day_clock() -> None:
    v1 = VersionFacts(1, D(2026, 2, 1), valid=True, serious=False, submitted=True)
    v2 = VersionFacts(2, D(2026, 3, 1), valid=True, serious=True)
    clock = reporting_clock([v1, v2])
    assert (clock.day_zero, clock.due, clock.serious, clock.submitted) == (D(2026, 2, 1), D(2026, 3, 16), True, False)


def test_follow_up_before_the_initial_report_is_sent_does_not_move_its_due_date() -> None:
    # a serious case received on day 0 with follow-up on day 10, nothing sent yet: still due on day 15
    v1 = VersionFacts(1, D(2026, 11, 1), valid=True, serious=True)
    v2 = VersionFacts(2, D(2026, 11, 11), valid=True, serious=True)
    assert reporting_clock([v1, v2]).due == D(2026, 11, 16)


def test_significant_follow_up_after_a_submission_starts_a_new_clock_and_administrative_does_not() -> None:
    v1 = VersionFacts(1, D(2026, 11, 1), valid=True, serious=True, submitted=True)
    v2 = VersionFacts(2, D(2026, 11, 11), valid=True, serious=True)
    assert reporting_clock([v1, v2]).due == D(2026, 11, 26)
    minor = VersionFacts(2, D(2026, 11, 11), valid=True, serious=True, significant=False)
    assert reporting_clock([v1, minor]).due == D(2026, 11, 16)
    assert is_significant(["reactions.0.outcome"]) and not is_significant(["most_recent_info", "sender.given_name"])


def test_a_received_date_in_the_future_never_moves_a_clock() -> None:
    # recorded on 1 November with a mistyped receipt date of 1 December: due 15 days after 1 November
    v1 = VersionFacts(1, D(2026, 12, 1), valid=True, serious=True, recorded=D(2026, 11, 1))
    assert reporting_clock([v1]).due == D(2026, 11, 16)
    sent = VersionFacts(1, D(2026, 11, 1), valid=True, serious=True, submitted=True)
    future = VersionFacts(2, D(2027, 3, 1), valid=True, serious=True, recorded=D(2026, 11, 5))
    assert reporting_clock([sent, future]).due == D(2026, 11, 20)


# --- duplicates -----------------------------------------------------------------------------------------


def _report(key: str, **kw: object) -> CaseFacts:
    base: dict[str, object] = {
        "case_key": key,
        "drugs": (INEBILIZUMAB,),
        "sex": "female",
        "age_years": 52,
        "patient_initials": "JD",
        "reporter_country": "DE",
        "reporter_qualification": "physician",
        "first_received": D(2026, 6, 3),
        "reactions": (
            ReactionFacts("PML", "Progressive multifocal leukoencephalopathy", onset=D(2026, 5, 28)),
            ReactionFacts("confusion", "Confusional state", onset=D(2026, 5, 27)),
        ),
    }
    base.update(kw)
    return CaseFacts(**base)  # type: ignore[arg-type]


def test_the_same_pml_case_from_physician_and_literature_is_found_with_reasons() -> None:
    background = [
        _report(
            f"BG-{i}",
            patient_initials=None,
            age_years=30 + i,
            sex="male" if i % 2 else "female",
            reactions=(ReactionFacts("IRR", "Infusion related reaction", onset=D(2026, 1, i + 1)),),
        )
        for i in range(20)
    ]
    original = _report("DE-HCP-001")
    literature = _report(
        "DE-LIT-077", reporter_qualification="other health professional", first_received=D(2026, 6, 20)
    )
    other_patient = _report(
        "FR-HCP-002",
        sex="male",
        age_years=71,
        patient_initials="PM",
        reporter_country="FR",
        first_received=D(2026, 9, 1),
        reactions=(ReactionFacts("PML", "Progressive multifocal leukoencephalopathy", onset=D(2026, 8, 20)),),
    )
    found = find_duplicates([*background, original, literature, other_patient])
    assert [(d.case_a, d.case_b) for d in found] == [("DE-HCP-001", "DE-LIT-077")]
    reasons = " | ".join(found[0].reasons)
    assert "sex agrees" in reasons and "initials agrees" in reasons
    assert "reaction progressive multifocal leukoencephalopathy in both" in reasons
    assert "qualification differs" in reasons


def test_different_patients_with_a_common_reaction_are_not_candidates() -> None:
    a = _report("A", reactions=(ReactionFacts("IRR", "Infusion related reaction"),))
    b = _report(
        "B",
        sex="male",
        age_years=30,
        patient_initials="KL",
        reactions=(ReactionFacts("IRR", "Infusion related reaction"),),
    )
    assert find_duplicates([a, b]) == []


def test_duplicate_detection_on_synthetic_cases_with_known_duplicates() -> None:
    """Recall and precision against the generator's ground truth (measured: 2,000 cases, seed 11)."""
    from riskplan.cases.processing import CaseProcessor
    from riskplan.cases.synth import synthesise_cases_with_truth
    from riskplan.terms.coding import OpenTermList

    plan = load_plan("uplizna")
    processor = CaseProcessor(plan, OpenTermList(plan))
    synthetic = synthesise_cases_with_truth(2000, seed=11, duplicate_share=0.03)
    facts = [processor.assess(c).facts for c in synthetic.cases]
    truth = {frozenset(p) for p in synthetic.duplicate_pairs}
    found = {frozenset((d.case_a, d.case_b)) for d in find_duplicates(facts)}
    recall = len(found & truth) / len(truth)
    precision = len(found & truth) / len(found)
    assert recall >= 0.9, recall
    assert precision >= 0.5, precision
