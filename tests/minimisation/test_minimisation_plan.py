"""Infusion checks and the patient card declared in the plan: validated when the plan loads."""

from __future__ import annotations

import copy
from importlib import resources
from typing import Any

import pytest
import yaml

from riskplan.plan.catalogue import PlanValidationError, load_plan, plan_from_data
from riskplan.plan.checks import DosingScheduleCheck, unknown_concern_ids


@pytest.fixture(scope="module")
def uplizna_data() -> dict[str, Any]:
    text = (resources.files("riskplan.plan") / "plans" / "uplizna.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


@pytest.fixture
def data(uplizna_data: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(uplizna_data)


def _index(data: dict[str, Any], check_id: str) -> int:
    return next(i for i, c in enumerate(data["infusion_checks"]) if c["id"] == check_id)


def _error(data: dict[str, Any]) -> str:
    with pytest.raises(PlanValidationError) as exc:
        plan_from_data(data, "test plan")
    return str(exc.value)


def test_the_bundled_plan_declares_typed_checks() -> None:
    plan = load_plan("uplizna")
    schedule = next(c for c in plan.infusion_checks if c.id == "dosing-schedule")
    assert isinstance(schedule, DosingScheduleCheck)
    assert (schedule.parameters.dose_mg, schedule.parameters.maintenance_interval_months) == (300, 6)


def test_a_plan_without_checks_or_card_stays_valid(data: dict[str, Any]) -> None:
    del data["infusion_checks"], data["patient_card"]
    plan = plan_from_data(data, "test plan")
    assert plan.infusion_checks == [] and plan.patient_card is None


def test_a_bad_rule_parameter_is_a_validation_error_naming_its_path(data: dict[str, Any]) -> None:
    i = _index(data, "dosing-schedule")
    data["infusion_checks"][i]["parameters"]["dose_mg"] = "three hundred"
    message = _error(data)
    assert f"infusion_checks.{i}.dosing_schedule.parameters.dose_mg: Input should be a valid number" in message


def test_a_parameter_of_another_rule_kind_is_rejected(data: dict[str, Any]) -> None:
    i = _index(data, "premedication")
    data["infusion_checks"][i]["parameters"]["min_minutes"] = 60
    message = _error(data)
    assert f"infusion_checks.{i}.premedication_given.parameters.min_minutes: Extra inputs are not permitted" in message


def test_a_missing_parameter_is_named(data: dict[str, Any]) -> None:
    i = _index(data, "observation")
    data["infusion_checks"][i]["parameters"] = {}
    assert f"infusion_checks.{i}.observation_after_infusion.parameters.min_minutes: Field required" in _error(data)


def test_an_unknown_rule_kind_is_a_validation_error(data: dict[str, Any]) -> None:
    data["infusion_checks"][0]["rule"] = "liver_function_within_days"
    message = _error(data)
    assert "infusion_checks.0: Input tag 'liver_function_within_days' found using 'rule'" in message
    assert "'dosing_schedule'" in message


def test_inconsistent_parameters_are_rejected(data: dict[str, Any]) -> None:
    i = _index(data, "no-live-vaccine-during-treatment")
    data["infusion_checks"][i]["parameters"] = {"during_treatment": False}
    assert "set min_days_before_first_dose, during_treatment, or both" in _error(data)


def test_a_bad_severity_and_smpc_section_are_named(data: dict[str, Any]) -> None:
    data["infusion_checks"][0]["severity_if_failed"] = "stop"
    data["infusion_checks"][0]["smpc_section"] = "section 4.3"
    message = _error(data)
    assert "infusion_checks.0.contraindicated_diagnosis.severity_if_failed" in message
    assert "infusion_checks.0.contraindicated_diagnosis.smpc_section" in message


def test_duplicate_check_ids_are_rejected(data: dict[str, Any]) -> None:
    data["infusion_checks"].append(copy.deepcopy(data["infusion_checks"][0]))
    assert "duplicate infusion check id 'ci-hypersensitivity'" in _error(data)


def test_checks_naming_a_retired_concern_are_reported_not_rejected(data: dict[str, Any]) -> None:
    data["safety_concerns"] = [c for c in data["safety_concerns"] if c["id"] != "malignancy"]
    for study in data["studies"]:
        study["safety_concerns"] = [c for c in study["safety_concerns"] if c != "malignancy"]
    plan = plan_from_data(data, "test plan")
    known = {c.id for c in plan.safety_concerns}
    assert unknown_concern_ids(plan.infusion_checks, known) == {"ci-active-malignancy": ["malignancy"]}


def test_the_patient_card_must_belong_to_concerns_with_a_patient_card(data: dict[str, Any]) -> None:
    data["patient_card"]["concern_ids"].append("neutropenia")
    assert "safety concern 'neutropenia' has no additional measure named 'Patient card'" in _error(data)


def test_every_card_message_cites_its_source() -> None:
    card = load_plan("uplizna").patient_card
    assert card is not None and card.languages() == ["de", "en"]
    assert card.concern_ids == ["serious-infections", "pml"]
    assert len(card.messages["en"]) == len(card.messages["de"]) == 8
    assert all(m.source for msgs in card.messages.values() for m in msgs)
