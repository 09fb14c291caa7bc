"""Finding and loading plans: bundled plans by name, or plan files (YAML or JSON) by path."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from riskplan.errors import NotFoundError, UserInputError, validation_problems
from riskplan.plan.model import PlanPart, RiskManagementPlan

_PLAN_SUFFIXES = (".yaml", ".yml", ".json")


class PlanValidationError(UserInputError):
    """A plan file that violates the model; the message lists every field path and reason."""


def bundled_plan_names() -> list[str]:
    folder = resources.files("riskplan.plan") / "plans"
    return sorted(p.name.rsplit(".", 1)[0] for p in folder.iterdir() if p.name.endswith(".yaml"))


def format_validation_error(exc: ValidationError, where: str) -> str:
    return validation_problems(exc, where, "plan")


def plan_from_data(data: Any, where: str) -> RiskManagementPlan:
    if not isinstance(data, dict):
        raise PlanValidationError(f"{where}: expected a mapping of plan fields, found {type(data).__name__}")
    try:
        return RiskManagementPlan.model_validate(data)
    except ValidationError as exc:
        raise PlanValidationError(format_validation_error(exc, where)) from None


def load_plan_file(path: Path) -> RiskManagementPlan:
    """Load a plan from a YAML or JSON file."""
    if not path.is_file():
        raise NotFoundError(f"{path}: no such plan file")
    if path.suffix.lower() not in _PLAN_SUFFIXES:
        raise UserInputError(
            f"{path}: a plan file must be YAML or JSON ({', '.join(_PLAN_SUFFIXES)}); "
            "to read an RMP summary (.txt, .pdf) use `riskplan plan parse`"
        )
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise PlanValidationError(f"{path}: not valid {path.suffix.lstrip('.').upper()}: {exc}") from None
    return plan_from_data(data, str(path))


def load_plan(name_or_path: str) -> RiskManagementPlan:
    """A bundled plan by name (e.g. ``uplizna``) or a plan file by path."""
    candidate = Path(name_or_path)
    if candidate.suffix.lower() in _PLAN_SUFFIXES or candidate.is_file():
        return load_plan_file(candidate)
    names = bundled_plan_names()
    if name_or_path not in names:
        raise NotFoundError(
            f"unknown plan {name_or_path!r}: not a bundled plan ({', '.join(names)}) and not a plan file"
        )
    resource = resources.files("riskplan.plan") / "plans" / f"{name_or_path}.yaml"
    return plan_from_data(yaml.safe_load(resource.read_text(encoding="utf-8")), f"bundled plan {name_or_path}")


def plan_to_data(plan: RiskManagementPlan) -> dict[str, Any]:
    data = plan.model_dump(mode="json")
    if not plan.absent:
        del data["absent"]  # a plan with every part keeps the content hash it had before ``absent`` existed
    if plan.analysis is None:
        del data["analysis"]  # likewise a plan without riskplan's analysis block (it came later)
    # and without the periodic-report schedule and clinical development (issue 15): stored plans keep their hash
    if plan.clinical_development is None:
        del data["clinical_development"]
    if plan.product.international_birth_date is None:
        del data["product"]["international_birth_date"]
    if plan.routine_pharmacovigilance.eurd_data_lock_point is None:
        del data["routine_pharmacovigilance"]["eurd_data_lock_point"]
    return data


def plan_to_yaml(plan: RiskManagementPlan) -> str:
    """The plan as YAML; a part listed in ``absent`` and empty is left out rather than written as empty."""
    data = plan_to_data(plan)
    absent = set(plan.absent)
    if PlanPart.CONCERN_DEFINITIONS in absent:
        for concern, item in zip(plan.safety_concerns, data["safety_concerns"], strict=True):
            if concern.definition.is_empty and concern.definition.source is None:
                del item["definition"]
    if PlanPart.REFERENCE_SAFETY_INFORMATION in absent and plan.reference_safety_information is None:
        del data["reference_safety_information"]
    if PlanPart.INFUSION_CHECKS in absent and not plan.infusion_checks:
        del data["infusion_checks"]
    if PlanPart.PATIENT_CARD in absent and plan.patient_card is None:
        del data["patient_card"]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
