"""The pre-infusion checklist, one rule at a time, on patients a neurologist would recognise.

Every patient starts from ``tests/data/patients/first_dose.json`` (a fully worked-up woman before her first
inebilizumab infusion on 2025-03-03, for whom every check passes) with one thing changed.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any, get_args

import pytest

from riskplan.minimisation import RULES, CheckStatus, PatientRecord, RuleResult, evaluate_infusion
from riskplan.plan.catalogue import load_plan
from riskplan.plan.checks import InfusionCheck, RuleKind
from riskplan.plan.model import RiskManagementPlan

PATIENTS = Path(__file__).parent.parent / "data" / "patients"
FIRST_DOSE = dt.date(2025, 3, 3)
PREMEDICATION = [
    {"drug": "methylprednisolone", "category": "corticosteroid", "dose": "125 mg IV"},
    {"drug": "cetirizine", "category": "antihistamine", "dose": "10 mg orally"},
    {"drug": "paracetamol", "category": "antipyretic", "dose": "1 g orally"},
]


@pytest.fixture(scope="module")
def plan() -> RiskManagementPlan:
    return load_plan("uplizna")


@pytest.fixture
def data() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PATIENTS / "first_dose.json").read_text(encoding="utf-8"))
    return loaded


def infusion(date: str, **extra: Any) -> dict[str, Any]:
    base = {
        "date": date,
        "dose_mg": 300,
        "observation_minutes_after": 60,
        "infection_assessed": True,
        "premedication": copy.deepcopy(PREMEDICATION),
    }
    return base | extra


def on_treatment(data: dict[str, Any], *dates: str) -> dict[str, Any]:
    """The patient with infusions on ``dates`` (the first dose on 2025-03-03 kept)."""
    data["infusions"] += [infusion(d) for d in dates]
    return data


def result(plan: RiskManagementPlan, data: dict[str, Any], check_id: str, date: dt.date = FIRST_DOSE) -> RuleResult:
    checklist = evaluate_infusion(PatientRecord.model_validate(data), plan, date)
    return next(r for r in checklist.results if r.id == check_id)


def test_the_worked_up_patient_passes_every_check_at_her_first_dose(
    plan: RiskManagementPlan, data: dict[str, Any]
) -> None:
    checklist = evaluate_infusion(PatientRecord.model_validate(data), plan, FIRST_DOSE)
    assert checklist.first_dose and checklist.infusion_number == 1
    assert [(r.id, r.status) for r in checklist.results if r.status is not CheckStatus.PASS] == []
    assert len(checklist.results) == len(plan.infusion_checks) == 18
    assert checklist.status is CheckStatus.PASS and checklist.exit_code == 0
    assert checklist.not_applicable == []


# --- contraindications (SmPC 4.3) --------------------------------------------------------------------


def test_hbsag_positive_patient_is_blocked_citing_4_3(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    data["screenings"][0]["result"] = "positive"
    r = result(plan, data, "ci-hepatitis-b")
    assert (r.status, r.smpc_section) == (CheckStatus.BLOCK, "4.3")
    assert "HBsAg positive on 2025-02-17" in r.message
    assert r.concern_ids == ["serious-infections"]


def test_chronic_hepatitis_b_diagnosis_is_blocked(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    data["diagnoses"].append({"code": "B18.1", "text": "Chronic viral hepatitis B", "status": "active"})
    r = result(plan, data, "ci-hepatitis-b")
    assert r.status is CheckStatus.BLOCK and "Chronic viral hepatitis B (B18.1)" in r.message


def test_hepatitis_b_pass_names_the_negative_hbsag(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    r = result(plan, data, "ci-hepatitis-b")
    assert r.status is CheckStatus.PASS and "HBsAg negative on 2025-02-17" in r.message


def test_untreated_positive_igra_is_untreated_latent_tuberculosis(
    plan: RiskManagementPlan, data: dict[str, Any]
) -> None:
    data["screenings"][3]["result"] = "positive"
    r = result(plan, data, "ci-tuberculosis")
    assert (r.status, r.smpc_section) == (CheckStatus.BLOCK, "4.3")
    assert "untreated latent tuberculosis: IGRA positive on 2025-02-17, no treatment documented" in r.message
    data["screenings"][3]["treatment"] = "isoniazid 300 mg daily for 9 months, started 2024-12-01"
    assert result(plan, data, "ci-tuberculosis").status is CheckStatus.PASS


def test_active_pulmonary_tuberculosis_is_blocked(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    data["diagnoses"].append({"code": "A15.0", "text": "Pulmonary tuberculosis, sputum positive", "status": "active"})
    assert result(plan, data, "ci-tuberculosis").status is CheckStatus.BLOCK


def test_a_past_pml_is_blocked_even_when_resolved(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    data["diagnoses"].append(
        {"text": "Progressive multifocal leukoencephalopathy", "status": "history", "onset": "2019-04-01"}
    )
    r = result(plan, data, "ci-pml")
    assert (r.status, r.smpc_section, r.concern_ids) == (CheckStatus.BLOCK, "4.3", ["pml"])


def test_active_lymphoma_is_blocked_but_a_cured_one_is_not(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    data["diagnoses"].append({"code": "C83.3", "text": "Diffuse large B-cell lymphoma", "status": "active"})
    r = result(plan, data, "ci-active-malignancy")
    assert (r.status, r.smpc_section) == (CheckStatus.BLOCK, "4.3")
    assert "Diffuse large B-cell lymphoma (C83.3), active" in r.message
    data["diagnoses"][-1] |= {"status": "resolved", "end": "2018-06-30"}
    assert result(plan, data, "ci-active-malignancy").status is CheckStatus.PASS


def test_anaphylaxis_to_inebilizumab_is_blocked_a_penicillin_allergy_is_not(
    plan: RiskManagementPlan, data: dict[str, Any]
) -> None:
    data["diagnoses"].append({"code": "T88.6", "text": "Penicillin allergy", "status": "active"})
    assert result(plan, data, "ci-hypersensitivity").status is CheckStatus.PASS
    data["diagnoses"].append({"text": "Anaphylactic reaction to inebilizumab", "status": "history"})
    r = result(plan, data, "ci-hypersensitivity")
    assert (r.status, r.smpc_section) == (CheckStatus.BLOCK, "4.3")


def test_severe_combined_immunodeficiency_is_blocked(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    data["diagnoses"].append({"code": "D81.9", "text": "Combined immunodeficiency", "status": "active"})
    assert result(plan, data, "ci-severely-immunocompromised").status is CheckStatus.BLOCK


def test_no_diagnosis_list_warns_and_names_it(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    del data["diagnoses"]
    r = result(plan, data, "ci-active-malignancy")
    assert r.status is CheckStatus.WARN and "diagnoses not recorded" in r.message and "active malignancy" in r.message


# --- before the first dose (SmPC 4.2, 4.4) -----------------------------------------------------------


def test_missing_anti_hbc_blocks_the_first_dose_and_names_it(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    del data["screenings"][1]
    r = result(plan, data, "hbv-screening")
    assert (r.status, r.smpc_section) == (CheckStatus.BLOCK, "4.4")  # SmPC 4.4: screen before starting
    assert "not on record before the first dose: anti-HBc" in r.message


def test_positive_hcv_antibody_without_treatment_is_blocked(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    data["screenings"][2]["result"] = "positive"
    r = result(plan, data, "hcv-screening")
    assert (r.status, r.smpc_section) == (CheckStatus.BLOCK, "4.2")
    assert "anti-HCV positive on 2025-02-17, no treatment documented" in r.message
    data["screenings"][2]["treatment"] = "sofosbuvir/velpatasvir started 2025-02-24"
    assert result(plan, data, "hcv-screening").status is CheckStatus.PASS


def test_no_tuberculosis_test_blocks_the_first_dose(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    del data["screenings"][3]
    r = result(plan, data, "tb-screening")
    assert (r.status, r.smpc_section) == (CheckStatus.BLOCK, "4.4")
    assert "IGRA or tuberculin skin test" in r.message


def test_a_tuberculin_skin_test_is_accepted_instead_of_an_igra(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    data["screenings"][3] = {"test": "TST", "result": "negative", "date": "2025-02-10"}
    r = result(plan, data, "tb-screening")
    assert r.status is CheckStatus.PASS and "TST negative on 2025-02-10" in r.message


def test_baseline_immunoglobulins_older_than_90_days_warn(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    data["labs"][0]["date"] = "2024-10-01"
    r = result(plan, data, "baseline-immunoglobulins-b-cells")
    assert (r.status, r.smpc_section) == (CheckStatus.WARN, "4.2")
    assert "IgG 10.4 g/L on 2024-10-01 (153 days old)" in r.message


def test_missing_b_cell_count_warns_and_names_it(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    data["labs"] = [lab for lab in data["labs"] if lab["test"] != "CD19+ B cells"]
    r = result(plan, data, "baseline-immunoglobulins-b-cells")
    assert r.status is CheckStatus.WARN and r.message == "no result on record: B-cell count"


def test_missing_differential_warns(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    data["labs"] = [lab for lab in data["labs"] if lab["test"] not in ("Neutrophils", "Lymphocytes")]
    r = result(plan, data, "baseline-blood-count")
    assert r.status is CheckStatus.WARN and "neutrophils, lymphocytes" in r.message
    assert r.concern_ids == ["neutropenia"]


def test_yellow_fever_vaccine_two_weeks_ago_blocks_the_first_dose_citing_4_4(
    plan: RiskManagementPlan, data: dict[str, Any]
) -> None:
    data["vaccinations"].append(
        {"vaccine": "Yellow fever vaccine (live attenuated)", "live": True, "date": "2025-02-17"}
    )
    r = result(plan, data, "live-vaccine-before-start")
    assert (r.status, r.smpc_section) == (CheckStatus.BLOCK, "4.4")
    assert "14 days before the first dose on 2025-03-03" in r.message
    assert "earliest first dose 2025-03-17" in r.message


def test_a_live_vaccine_five_weeks_before_passes(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    data["vaccinations"].append({"vaccine": "MMR vaccine", "live": True, "date": "2025-01-27"})
    assert result(plan, data, "live-vaccine-before-start").status is CheckStatus.PASS


def test_no_vaccination_history_warns(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    data["vaccinations"] = None
    r = result(plan, data, "live-vaccine-before-start")
    assert r.status is CheckStatus.WARN and "vaccination history not recorded" in r.message


# --- every infusion ----------------------------------------------------------------------------------


def test_a_live_vaccine_during_treatment_warns_citing_4_4(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    on_treatment(data, "2025-03-17", "2025-09-03")
    data["vaccinations"].append({"vaccine": "Varicella vaccine (live attenuated)", "live": True, "date": "2025-06-10"})
    r = result(plan, data, "no-live-vaccine-during-treatment", dt.date(2025, 9, 3))
    assert (r.status, r.smpc_section) == (CheckStatus.WARN, "4.4")
    assert "during treatment (first dose 2025-03-03)" in r.message


def test_active_pneumonia_blocks_the_infusion_citing_4_4(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    data["diagnoses"].append(
        {"code": "J18.9", "text": "Community-acquired pneumonia", "status": "active", "onset": "2025-02-28"}
    )
    r = result(plan, data, "active-infection")
    assert (r.status, r.smpc_section) == (CheckStatus.BLOCK, "4.4")
    assert "Community-acquired pneumonia (J18.9) since 2025-02-28" in r.message
    assert "delay the infusion" in r.message


def test_an_infection_that_resolved_before_the_infusion_passes(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    data["diagnoses"].append(
        {
            "code": "N39.0",
            "text": "Urinary tract infection",
            "status": "resolved",
            "onset": "2025-02-01",
            "end": "2025-02-08",
        }
    )
    assert result(plan, data, "active-infection").status is CheckStatus.PASS


def test_an_infection_resolved_after_the_infusion_date_was_active_then(
    plan: RiskManagementPlan, data: dict[str, Any]
) -> None:
    data["diagnoses"].append(
        {
            "code": "N39.0",
            "text": "Urinary tract infection",
            "status": "resolved",
            "onset": "2025-03-01",
            "end": "2025-03-09",
        }
    )
    assert result(plan, data, "active-infection").status is CheckStatus.BLOCK


def test_no_infection_assessment_warns(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    data["infusions"][0]["infection_assessed"] = None
    r = result(plan, data, "active-infection")
    assert (
        r.status is CheckStatus.WARN and "no infection assessment recorded for the infusion on 2025-03-03" in r.message
    )


def test_missing_premedication_record_warns_and_names_it(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    del data["infusions"][0]["premedication"]
    r = result(plan, data, "premedication")
    assert (r.status, r.smpc_section) == (CheckStatus.WARN, "4.4")
    assert "no premedication record for the infusion on 2025-03-03" in r.message
    assert "corticosteroid, antihistamine, antipyretic" in r.message


def test_premedication_without_an_antipyretic_blocks(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    data["infusions"][0]["premedication"] = data["infusions"][0]["premedication"][:2]
    r = result(plan, data, "premedication")
    assert r.status is CheckStatus.BLOCK and "premedication without antipyretic" in r.message
    assert r.concern_ids == ["infusion-reaction"]


def test_thirty_minutes_of_observation_warns_citing_4_2(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    data["infusions"][0]["observation_minutes_after"] = 30
    r = result(plan, data, "observation")
    assert (r.status, r.smpc_section) == (CheckStatus.WARN, "4.2")
    assert "observation 30 minutes after the infusion, at least 60 needed" in r.message
    data["infusions"][0]["observation_minutes_after"] = None
    assert "not planned or documented (at least 60 minutes)" in result(plan, data, "observation").message


def test_the_second_loading_dose_on_day_15_passes(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    on_treatment(data, "2025-03-17")
    r = result(plan, data, "dosing-schedule", dt.date(2025, 3, 17))
    assert r.status is CheckStatus.PASS and "loading dose 2 (day 15), due 2025-03-17: 300 mg" in r.message


def test_an_infusion_five_months_after_the_last_warns_citing_4_2(
    plan: RiskManagementPlan, data: dict[str, Any]
) -> None:
    on_treatment(data, "2025-03-17", "2025-09-03", "2026-02-03")
    r = result(plan, data, "dosing-schedule", dt.date(2026, 2, 3))
    assert (r.status, r.smpc_section) == (CheckStatus.WARN, "4.2")
    assert "maintenance dose, 6 months after the last dose on 2025-09-03, due 2026-03-03: 28 days early" in r.message


def test_the_first_maintenance_dose_is_due_six_months_after_the_first_infusion(
    plan: RiskManagementPlan, data: dict[str, Any]
) -> None:
    on_treatment(data, "2025-03-17", "2025-09-03")
    r = result(plan, data, "dosing-schedule", dt.date(2025, 9, 3))
    assert r.status is CheckStatus.PASS and "6 months after the first infusion, due 2025-09-03" in r.message


def test_a_600_mg_dose_warns(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    data["infusions"][0]["dose_mg"] = 600
    r = result(plan, data, "dosing-schedule")
    assert r.status is CheckStatus.WARN and "dose 600 mg, the schedule gives 300 mg" in r.message


def test_a_pregnant_woman_warns_citing_4_6(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    data["pregnancy"] = {"status": "pregnant", "test_date": "2025-02-28"}
    r = result(plan, data, "pregnancy-contraception")
    assert (r.status, r.smpc_section) == (CheckStatus.WARN, "4.6")
    assert r.message.startswith("pregnant on 2025-02-28")
    assert r.concern_ids == ["use-during-pregnancy-and-lactation", "blood-disorders"]


def test_pregnancy_check_asks_for_what_is_missing(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    data["contraception"] = None
    assert "contraception not recorded" in result(plan, data, "pregnancy-contraception").message
    data["contraception"] = {"method": None, "effective": False}
    assert "no effective contraception (none)" in result(plan, data, "pregnancy-contraception").message
    data["pregnancy"] = {"status": "not pregnant", "test_date": "2024-12-01"}
    assert "92 days old (at most 30)" in result(plan, data, "pregnancy-contraception").message
    data["patient"]["childbearing_potential"] = None
    assert result(plan, data, "pregnancy-contraception").message == "childbearing potential not recorded"


def test_pregnancy_check_does_not_apply_to_a_man(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    data["patient"] |= {"sex": "male", "childbearing_potential": None}
    data["pregnancy"] = data["contraception"] = None
    r = result(plan, data, "pregnancy-contraception")
    assert r.status is CheckStatus.PASS and "male patient" in r.message


# --- the checklist as a whole ------------------------------------------------------------------------


def test_first_dose_checks_are_not_applicable_at_later_infusions(
    plan: RiskManagementPlan, data: dict[str, Any]
) -> None:
    on_treatment(data, "2025-03-17")
    del data["screenings"]
    checklist = evaluate_infusion(PatientRecord.model_validate(data), plan, dt.date(2025, 3, 17))
    assert not checklist.first_dose and checklist.infusion_number == 2
    assert checklist.not_applicable == [
        "hbv-screening",
        "hcv-screening",
        "tb-screening",
        "baseline-immunoglobulins-b-cells",
        "baseline-blood-count",
        "live-vaccine-before-start",
    ]
    assert checklist.status is CheckStatus.PASS


def test_the_worst_check_sets_the_overall_status_and_exit_code(plan: RiskManagementPlan, data: dict[str, Any]) -> None:
    data["infusions"][0]["observation_minutes_after"] = 30
    warned = evaluate_infusion(PatientRecord.model_validate(data), plan, FIRST_DOSE)
    assert (warned.status, warned.exit_code, warned.count(CheckStatus.WARN)) == (CheckStatus.WARN, 1, 1)
    data["screenings"][0]["result"] = "positive"
    blocked = evaluate_infusion(PatientRecord.model_validate(data), plan, FIRST_DOSE)
    assert (blocked.status, blocked.exit_code) == (CheckStatus.BLOCK, 3)


def test_every_rule_kind_is_implemented_and_selectable() -> None:
    assert set(RULES) == set(RuleKind)
    [union, _] = get_args(InfusionCheck)
    literals = {get_args(cls.model_fields["rule"].annotation)[0] for cls in get_args(union)}
    assert literals == {k.value for k in RuleKind}


def test_every_uplizna_check_cites_an_smpc_section_and_known_concerns(plan: RiskManagementPlan) -> None:
    known = {c.id for c in plan.safety_concerns}
    assert {c.smpc_section for c in plan.infusion_checks} == {"4.2", "4.3", "4.4", "4.6"}
    for check in plan.infusion_checks:
        assert set(check.concern_ids) <= known, check.id
        assert check.source and check.source.startswith("SmPC"), check.id
    assert {RuleKind(c.rule) for c in plan.infusion_checks} == set(RuleKind)


def test_without_screening_results_the_contraindication_says_so_and_the_screening_blocks(
    plan: RiskManagementPlan, data: dict[str, Any]
) -> None:
    data["screenings"] = None
    hbv = result(plan, data, "ci-hepatitis-b")
    assert hbv.status is CheckStatus.PASS and hbv.message.endswith("; no HBsAg result on record")
    assert result(plan, data, "ci-tuberculosis").message.endswith("; no IGRA or TST result on record")
    screening = result(plan, data, "hbv-screening")
    assert screening.status is CheckStatus.BLOCK and "(screenings not recorded): HBsAg, anti-HBc" in screening.message
    assert result(plan, data, "tb-screening").status is CheckStatus.BLOCK
