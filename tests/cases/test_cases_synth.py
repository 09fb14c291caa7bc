"""The synthetic UPLIZNA case generator: deterministic, valid, realistic in its shares, with ground truth."""

from __future__ import annotations

import datetime as dt
import gc
import random
from collections import Counter
from decimal import Decimal
from types import ModuleType

import pytest

from riskplan.cases.codes import AgeGroup, Qualification, ReportType, Sex
from riskplan.cases.model import Icsr
from riskplan.cases.synth import (
    INVALID_KINDS,
    SyntheticCaseSet,
    follow_up_of,
    synthesise_cases,
    synthesise_cases_with_truth,
)
from riskplan.cases.synth_data import MISSPELLINGS, PROFILES, Term
from riskplan.cases.validity import assess_validity
from riskplan.plan.catalogue import load_plan
from riskplan.terms.coding import OpenTermList
from riskplan.terms.text import fold_term
from shared_data import missing_shared

COUNT = 2000
START = dt.date(2025, 1, 1)
END = dt.date(2026, 11, 1)
IMMUNOSUPPRESSANTS = {"azathioprine", "mycophenolate mofetil", "prednisolone", "prednisone", "tacrolimus"}


@pytest.fixture(scope="module")
def synthetic() -> SyntheticCaseSet:
    return synthesise_cases_with_truth(COUNT, seed=42, start=START, end=END)


@pytest.fixture(scope="module")
def terms() -> OpenTermList:
    return OpenTermList(load_plan("uplizna"))


@pytest.fixture(scope="module")
def e2b() -> ModuleType:
    import riskplan.cases.e2b as module

    return module


def _by_id(cases: list[Icsr]) -> dict[str, Icsr]:
    return {case.worldwide_case_id: case for case in cases}


def _pts(case: Icsr, terms: OpenTermList) -> set[str]:
    pts = set()
    for reaction in case.reactions:
        verbatim = reaction.verbatim_term_english or reaction.verbatim_term or ""
        match = terms.lookup(fold_term(verbatim))
        if match is not None:
            pts.add(match.pt_name)
    return pts


# --------------------------------------------------------------------------------------------------
# Determinism and arguments
# --------------------------------------------------------------------------------------------------


def test_same_seed_gives_identical_cases_and_other_seeds_differ() -> None:
    first = [case.model_dump_json() for case in synthesise_cases(300, seed=7)]
    again = [case.model_dump_json() for case in synthesise_cases(300, seed=7)]
    other = [case.model_dump_json() for case in synthesise_cases(300, seed=8)]
    assert first == again
    assert first != other
    assert len(set(first) & set(other)) == 0


def test_synthesise_cases_returns_the_cases_of_the_truth_set() -> None:
    truth = synthesise_cases_with_truth(200, seed=3)
    assert [c.model_dump_json() for c in synthesise_cases(200, seed=3)] == [c.model_dump_json() for c in truth.cases]


def test_arguments_are_checked() -> None:
    assert synthesise_cases(0) == []
    with pytest.raises(ValueError, match="negative"):
        synthesise_cases(-1)
    with pytest.raises(ValueError, match="before start"):
        synthesise_cases(10, start=END, end=START)
    with pytest.raises(ValueError, match="invalid_kinds"):
        synthesise_cases(10, invalid_kinds=("nonsense",))
    with pytest.raises(ValueError, match=r"between 0 and 0\.5"):
        synthesise_cases(10, duplicate_share=0.9)


def test_the_garbage_collector_is_left_as_it_was() -> None:
    assert gc.isenabled()
    synthesise_cases(20, seed=1)
    assert gc.isenabled()
    gc.disable()
    try:
        synthesise_cases(20, seed=1)
        assert not gc.isenabled()
    finally:
        gc.enable()


# --------------------------------------------------------------------------------------------------
# Identification, dates, validity
# --------------------------------------------------------------------------------------------------


def test_counts_ids_and_dates(synthetic: SyntheticCaseSet) -> None:
    cases = synthetic.cases
    assert len(cases) == COUNT
    assert len({c.worldwide_case_id for c in cases}) == COUNT
    for case in cases:
        country, company, year, number = case.worldwide_case_id.split("-")
        assert (company, len(country), len(number)) == ("RPDEMO", 2, 6)
        assert case.sender_report_id == case.worldwide_case_id
        assert case.first_received is not None and case.most_recent_info is not None and case.created is not None
        received, latest = case.first_received.earliest_date(), case.most_recent_info.earliest_date()
        assert START <= received <= latest <= END
        assert int(year) == received.year
        assert case.created.earliest_date() > latest
        for reaction in case.reactions:
            assert reaction.start_date is not None and reaction.start_date.earliest_date() <= received
            assert reaction.end_date is None or reaction.end_date.latest_date() <= latest
    order = [c.first_received.earliest_date() for c in cases if c.first_received]
    assert order == sorted(order)


def test_invalid_cases_miss_exactly_one_minimum_criterion(synthetic: SyntheticCaseSet) -> None:
    invalid = {c.worldwide_case_id: assess_validity(c) for c in synthetic.cases if not assess_validity(c).valid}
    assert set(invalid) == set(synthetic.invalid)
    assert len(invalid) == round(COUNT * 0.03)
    assert all(len(validity.missing) == 1 for validity in invalid.values())
    assert set(synthetic.invalid.values()) == set(INVALID_KINDS)


def test_invalid_kinds_can_be_restricted() -> None:
    truth = synthesise_cases_with_truth(400, seed=9, invalid_share=0.1, invalid_kinds=("reporter", "patient"))
    assert len(truth.invalid) == 40
    assert set(truth.invalid.values()) == {"reporter", "patient"}
    assert all(case.reactions for case in truth.cases)


def test_business_rules_pass_except_for_cases_without_a_reaction(synthetic: SyntheticCaseSet, e2b: ModuleType) -> None:
    errors: Counter[tuple[str | None, str]] = Counter()
    for case in synthetic.cases:
        for violation in e2b.check_business_rules(case, today=END + dt.timedelta(days=30)):
            if violation.severity is e2b.Severity.ERROR:
                errors[(synthetic.invalid.get(case.worldwide_case_id), violation.element)] += 1
    assert set(errors) <= {("reaction", "E.i")}


def test_seriousness_criteria_are_only_ever_true(synthetic: SyntheticCaseSet) -> None:
    fields = ("results_in_death", "life_threatening", "hospitalisation", "disabling", "congenital_anomaly",
              "other_medically_important")  # fmt: skip
    values = {getattr(r, name) for c in synthetic.cases for r in c.reactions for name in fields}
    assert values == {True, None}


# --------------------------------------------------------------------------------------------------
# Realistic shares
# --------------------------------------------------------------------------------------------------


def test_patients_are_mostly_women_of_working_age_with_some_elderly(synthetic: SyntheticCaseSet) -> None:
    cases = synthetic.cases
    female = sum(c.patient.sex is Sex.FEMALE for c in cases) / len(cases)
    assert 0.7 <= female <= 0.9
    ages = [float(c.patient.age.value) for c in cases if c.patient.age is not None and c.patient.age.unit == "a"]
    assert sum(20 <= a <= 70 for a in ages) / len(ages) >= 0.6
    assert 0.03 <= sum(a > 65 for a in ages) / len(ages) <= 0.15
    assert any(c.patient.age is None and c.patient.age_group in (AgeGroup.ADULT, AgeGroup.ELDERLY) for c in cases)


def test_seriousness_report_types_and_reporters(synthetic: SyntheticCaseSet) -> None:
    cases = synthetic.cases
    serious = sum(c.is_serious for c in cases) / len(cases)
    assert 0.08 <= serious <= 0.35
    assert any(any(r.results_in_death for r in c.reactions) for c in cases)
    spontaneous = sum(c.report_type is ReportType.SPONTANEOUS for c in cases) / len(cases)
    assert 0.7 <= spontaneous <= 0.95
    studies = {c.study.name for c in cases if c.study is not None and c.study.name}
    assert "CorEvitas SPHERES Registry for NMOSD" in studies
    assert all(
        c.study is not None and c.study.study_type is not None for c in cases if c.report_type is ReportType.STUDY
    )
    qualifications = Counter(s.qualification for c in cases for s in c.primary_sources)
    assert {Qualification.PHYSICIAN, Qualification.PHARMACIST, Qualification.CONSUMER} <= set(qualifications)
    assert qualifications[Qualification.OTHER_HEALTH_PROFESSIONAL] > 0
    countries = Counter(c.worldwide_case_id[:2] for c in cases)
    assert countries.most_common(1)[0][0] == "US"
    assert {"DE", "FR", "IT", "ES", "GB", "JP", "NL"} <= set(countries)
    assert all(c.sender is not None and c.sender.organisation == "Riskplan Demo Pharma" for c in cases)


def test_event_frequencies_follow_the_label(synthetic: SyntheticCaseSet, terms: OpenTermList) -> None:
    counts = Counter(pt for c in synthetic.cases for pt in _pts(c, terms))
    share = {pt: n / COUNT for pt, n in counts.items()}
    # the commonest index events of the label lead, in roughly the label's order
    assert (
        share["Infusion related reaction"] > share["Arthralgia"] > share["Progressive multifocal leukoencephalopathy"]
    )
    assert share["Urinary tract infection"] > share["Back pain"]
    for pt in ("Infusion related reaction", "Urinary tract infection", "Nasopharyngitis", "Headache"):
        assert share[pt] >= 0.04, pt
    for pt in ("Pneumonia", "Herpes zoster", "Neutropenia", "Lymphopenia", "Cellulitis"):
        assert 0.002 <= share[pt] <= 0.08, pt
    assert share.get("Progressive multifocal leukoencephalopathy", 0.0) <= 0.003
    assert share.get("Hepatitis B reactivation", 0.0) <= 0.005


def test_verbatims_code_through_the_open_term_list(synthetic: SyntheticCaseSet, terms: OpenTermList) -> None:
    verbatims = [r.verbatim_term_english or r.verbatim_term or "" for c in synthetic.cases for r in c.reactions]
    uncoded = [v for v in verbatims if terms.lookup(fold_term(v)) is None]
    misspellings = {w for words in MISSPELLINGS.values() for w in words}
    assert uncoded, "a few misspellings are expected"
    assert set(uncoded) <= misspellings
    assert len(uncoded) / len(verbatims) < 0.03
    translated = [r for c in synthetic.cases for r in c.reactions if r.verbatim_term_english]
    assert translated and all(r.verbatim_language != "eng" for r in translated)


def test_every_profile_verbatim_codes_to_its_pt(terms: OpenTermList) -> None:
    seen: set[Term] = set()
    for profile in PROFILES:
        seen.update(profile.terms.items)
        seen.update(companion.term for companion in profile.companions)
    for term in seen:
        for verbatim in term.verbatims:
            match = terms.lookup(fold_term(verbatim))
            assert match is not None and match.pt_name == term.pt, (verbatim, term.pt)


def test_misspellings_do_not_code_but_suggest_the_intended_pt(terms: OpenTermList) -> None:
    for pt, words in MISSPELLINGS.items():
        for word in words:
            assert terms.lookup(fold_term(word)) is None, word
            assert pt in {s.pt_name for s in terms.suggest(fold_term(word))}, word


def test_special_populations_and_missing_information(synthetic: SyntheticCaseSet, terms: OpenTermList) -> None:
    cases = synthetic.cases
    pregnant = [c for c in cases if c.patient.last_menstrual_period is not None]
    assert pregnant and all(c.patient.sex is Sex.FEMALE for c in pregnant)
    assert all(18 <= float(c.patient.age.value) <= 45 for c in pregnant if c.patient.age is not None)
    assert any("Exposure during pregnancy" in _pts(c, terms) for c in pregnant)
    neonates = [c for c in cases if c.patient.age_group is AgeGroup.NEONATE]
    assert neonates
    for case in neonates:
        assert case.is_parent_child_report and case.patient.parent is not None
        assert "B-lymphocyte count decreased" in _pts(case, terms)
    lactation = {"Maternal exposure during breast feeding", "Exposure via breast milk"}
    assert any(_pts(c, terms) & lactation for c in cases)
    on_immunosuppressants = [
        c
        for c in cases
        if any(not d.is_suspect and {s.name for s in d.substances} & IMMUNOSUPPRESSANTS for d in c.drugs)
    ]
    assert 0.05 <= len(on_immunosuppressants) / len(cases) <= 0.4


def test_the_suspect_drug_follows_the_label_schedule(synthetic: SyntheticCaseSet) -> None:
    for case in synthetic.cases:
        suspect = case.suspect_drugs
        assert len(suspect) == 1
        drug = suspect[0]
        assert [s.name for s in drug.substances] == ["inebilizumab"]
        assert drug.indications and drug.action_taken is not None
        for dosage in drug.dosages:
            assert dosage.dose is not None and (dosage.dose.value, dosage.dose.unit) == (Decimal(300), "mg")
            if dosage.period is not None:
                assert (dosage.period.value, dosage.period.unit) == (Decimal(6), "mo")
            if dosage.start_date is not None and dosage.end_date is not None:
                assert dosage.start_date.earliest_date() <= dosage.end_date.latest_date()


def test_neutrophil_counts_come_in_both_unit_families_and_some_are_low(synthetic: SyntheticCaseSet) -> None:
    counts = [
        t
        for c in synthetic.cases
        for t in c.tests
        if t.name in ("Neutrophil count", "Absolute neutrophil count", "ANC")
    ]
    units = {t.result.unit for t in counts if t.result is not None}
    assert "/mm3" in units and units & {"10^9/L", "10*9/L"}
    low = [
        t for t in counts
        if t.result is not None and float(t.result.value) / (1000 if t.result.unit == "/mm3" else 1) < 1.5
    ]  # fmt: skip
    assert low and len(low) < len(counts)


# --------------------------------------------------------------------------------------------------
# Duplicates
# --------------------------------------------------------------------------------------------------


def test_duplicate_pairs_describe_the_same_patient_and_event(synthetic: SyntheticCaseSet, terms: OpenTermList) -> None:
    by_id = _by_id(synthetic.cases)
    assert len(synthetic.duplicate_pairs) == round(COUNT * 0.02)
    for original_id, second_id in synthetic.duplicate_pairs:
        original, second = by_id[original_id], by_id[second_id]
        assert original_id not in synthetic.invalid and second_id not in synthetic.invalid
        assert original.patient.sex == second.patient.sex
        assert original.patient.name == second.patient.name
        if original.patient.age is not None and second.patient.age is not None:
            assert abs(original.patient.age.value - second.patient.age.value) <= 1
        shared_verbatim = {r.verbatim_term for r in original.reactions} & {r.verbatim_term for r in second.reactions}
        assert _pts(original, terms) & _pts(second, terms) or shared_verbatim
        assert original.worldwide_case_id[:2] == second.worldwide_case_id[:2]
        assert original.first_received is not None and second.first_received is not None
        gap = (second.first_received.earliest_date() - original.first_received.earliest_date()).days
        assert 0 <= gap <= 21
        assert original.primary_source is not None and second.primary_source is not None
        assert original.primary_source.qualification != second.primary_source.qualification


# --------------------------------------------------------------------------------------------------
# Follow-up versions
# --------------------------------------------------------------------------------------------------


def test_follow_up_keeps_the_identity_and_brings_news(synthetic: SyntheticCaseSet) -> None:
    rng = random.Random(5)
    changed: Counter[str] = Counter()
    for case in synthetic.cases[::20]:
        assert case.most_recent_info is not None
        received = case.most_recent_info.earliest_date() + dt.timedelta(days=rng.randint(1, 30))
        follow_up = follow_up_of(case, rng, received)
        assert follow_up.worldwide_case_id == case.worldwide_case_id
        assert follow_up.sender_report_id == case.sender_report_id
        assert follow_up.first_received == case.first_received
        assert follow_up.most_recent_info is not None and follow_up.most_recent_info.earliest_date() == received
        assert follow_up.created is not None and follow_up.created.earliest_date() > received
        assert follow_up.narrative and "Follow-up information received" in follow_up.narrative
        changed["outcome"] += any(
            a.outcome != b.outcome for a, b in zip(case.reactions, follow_up.reactions, strict=False)
        )
        changed["serious"] += follow_up.is_serious and not case.is_serious
        changed["tests"] += len(follow_up.tests) > len(case.tests)
    assert all(changed[kind] > 0 for kind in ("outcome", "serious", "tests")), changed


def test_follow_up_completes_an_invalid_case(synthetic: SyntheticCaseSet) -> None:
    by_id = _by_id(synthetic.cases)
    rng = random.Random(1)
    for kind in INVALID_KINDS:
        wid = next(w for w, k in synthetic.invalid.items() if k == kind)
        case = by_id[wid]
        assert case.most_recent_info is not None
        follow_up = follow_up_of(case, rng, case.most_recent_info.earliest_date() + dt.timedelta(days=3))
        assert not assess_validity(case).valid
        assert assess_validity(follow_up).valid, kind


def test_follow_up_cannot_predate_the_first_receipt(synthetic: SyntheticCaseSet) -> None:
    with pytest.raises(ValueError, match="before the case was first received"):
        follow_up_of(synthetic.cases[0], random.Random(0), START - dt.timedelta(days=1))


# --------------------------------------------------------------------------------------------------
# E2B(R3) export
# --------------------------------------------------------------------------------------------------


def test_a_sample_exports_as_schema_valid_e2b(synthetic: SyntheticCaseSet, e2b: ModuleType) -> None:
    if not e2b.schema_path().is_file():
        missing_shared(f"the ICH E2B(R3) schema set is not at {e2b.schema_path()}")
    exportable = [c for c in synthetic.cases if synthetic.invalid.get(c.worldwide_case_id) != "reaction"]
    sample = random.Random(0).sample(exportable, 50)
    data = e2b.export_icsrs(
        sample, batch_id="SYNTH-1", sender_id="RPDEMO", receiver_id="EVHUMAN", created=dt.datetime(2026, 11, 20, 9)
    )
    assert data.count(b"<PORR_IN049016UV") == 50
