"""The follow-up form (and the seriousness labels the intake form shares): flat fields a case processor
fills in, validated with pydantic, applied to the E2B(R3) :class:`~riskplan.cases.model.Icsr`; every
validation error is shown next to the field it is about."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from riskplan.cases import Hl7Timestamp, Icsr, Outcome

Seriousness = Literal[
    "results_in_death",
    "life_threatening",
    "hospitalisation",
    "disabling",
    "congenital_anomaly",
    "other_medically_important",
]
SERIOUSNESS_LABELS: dict[str, str] = {
    "results_in_death": "Results in death",
    "life_threatening": "Life threatening",
    "hospitalisation": "Caused / prolonged hospitalisation",
    "disabling": "Disabling / incapacitating",
    "congenital_anomaly": "Congenital anomaly / birth defect",
    "other_medically_important": "Other medically important condition",
}
Name = Annotated[str, Field(min_length=1, max_length=200)]
OptionalName = Annotated[str | None, Field(default=None, max_length=200)]


class _Form(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _blank_is_none(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return {k: (None if isinstance(v, str) and not v.strip() else v) for k, v in data.items()}
        return data


class FollowUpForm(_Form):
    """Follow-up information: when it arrived, each reaction's outcome now, and the narrative."""

    most_recent_info: dt.date
    narrative: Annotated[str | None, Field(default=None, max_length=20000)] = None
    outcomes: list[Outcome | None] = Field(default_factory=list)
    reason: Annotated[str | None, Field(default=None, max_length=2000)] = None

    def apply(self, icsr: Icsr) -> Icsr:
        reactions = tuple(
            r.model_copy(update={"outcome": self.outcomes[i]}) if i < len(self.outcomes) else r
            for i, r in enumerate(icsr.reactions)
        )
        updated = icsr.model_copy(
            update={
                "most_recent_info": Hl7Timestamp.from_date(self.most_recent_info),
                "narrative": self.narrative,
                "reactions": reactions,
            }
        )
        return Icsr.model_validate(updated.model_dump())


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    if error.get("input", "") is None:
        return "This field is required."
    if kind in ("missing", "string_too_short") or (kind == "value_error" and "empty" in error["msg"]):
        return "This field is required."
    if kind.startswith("date"):
        return "Enter a date (YYYY-MM-DD)."
    if kind.startswith("decimal") or kind in ("greater_than", "greater_than_equal", "less_than_equal"):
        ctx = error.get("ctx") or {}
        bound = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in ctx.items())
        return f"Enter a number{' (' + bound + ')' if bound else ''}."
    if kind == "enum" or kind == "literal_error":
        return "Choose one of the options."
    if kind == "string_pattern_mismatch":
        return "Use the two-letter country code (e.g. GB)."
    if kind == "string_too_long":
        return f"Too long: at most {(error.get('ctx') or {}).get('max_length')} characters."
    message = error["msg"]
    return message.removeprefix("Value error, ")


def form_errors(exc: ValidationError) -> dict[str, str]:
    """Field name → message for a form's validation errors."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = tuple(error["loc"])
        field = str(loc[0]) if loc else "form"
        errors.setdefault(field, _message(error))
    return errors


def form_values(items: Sequence[tuple[str, str]], lists: Sequence[str] = ("seriousness", "outcomes")) -> dict[str, Any]:
    """Submitted form fields as a dict; the fields in ``lists`` as lists of all their values."""
    values: dict[str, Any] = {}
    for key, value in items:
        if key in lists:
            values.setdefault(key, []).append(value or None)
        else:
            values[key] = value
    return values


def form_date(text: str, field: str, errors: dict[str, str]) -> dt.date | None:
    """A date field of a form (YYYY-MM-DD), or None with the field's message added to ``errors``."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        errors[field] = f"{text!r} is not a date: give YYYY-MM-DD, e.g. 2025-06-30" if text.strip() else "required"
        return None
