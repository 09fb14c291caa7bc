"""The case intake and follow-up forms: flat fields a case processor fills in, validated with
pydantic, mapped onto the E2B(R3) :class:`~riskplan.cases.model.Icsr`; every validation error is
shown next to the field it is about."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from riskplan.cases import DrugRole, Hl7Timestamp, Icsr, NullFlavor, Outcome, Qualification, ReportType, SenderType, Sex

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


class CaseForm(_Form):
    """A new case as the intake form has it."""

    worldwide_case_id: Annotated[str, Field(min_length=1, max_length=100)]
    sender_report_id: OptionalName = None
    report_type: ReportType = ReportType.SPONTANEOUS
    first_received: dt.date
    reporter_qualification: Qualification | None = None
    reporter_country: Annotated[str | None, Field(default=None, pattern=r"^[A-Za-z]{2}$")] = None
    patient_initials: Annotated[str | None, Field(default=None, max_length=60)] = None
    patient_age: Annotated[Decimal | None, Field(default=None, ge=0, le=150)] = None
    patient_sex: Sex | None = None
    reaction: Name
    reaction_start: dt.date | None = None
    reaction_outcome: Outcome | None = None
    seriousness: list[Seriousness] = Field(default_factory=list)
    product: Name
    substance: OptionalName = None
    dose_mg: Annotated[Decimal | None, Field(default=None, gt=0, le=100000)] = None
    therapy_start: dt.date | None = None
    reaction_language: Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")] = "eng"
    narrative: Annotated[str, Field(min_length=1, max_length=20000)]

    def to_icsr(self, *, created: dt.datetime, sender_organisation: str) -> Icsr:
        """The case as an ICSR, validated as a whole (errors are located from the Icsr down).

        ``created`` is C.1.2 (to the second, as E2B requires); the sender (C.3) is the marketing
        authorisation holder running riskplan.
        """
        dosage: dict[str, Any] = {}
        if self.dose_mg is not None:
            dosage["dose"] = {"value": self.dose_mg, "unit": "mg"}
        if self.therapy_start is not None:
            dosage["start_date"] = self.therapy_start
        reaction: dict[str, Any] = {
            "verbatim_term": self.reaction,
            "verbatim_language": self.reaction_language.lower(),
            "outcome": self.reaction_outcome or Outcome.UNKNOWN,
        }
        reaction.update({criterion: True for criterion in self.seriousness})
        if self.reaction_start is not None:
            reaction["start_date"] = self.reaction_start
        # what the reporter did not give is sent as "unknown" (the nullFlavor E2B(R3) allows there)
        patient: dict[str, Any] = {
            "name": self.patient_initials,
            "name_null_flavor": None if self.patient_initials else NullFlavor.UNK,
            "sex": self.patient_sex,
        }
        if self.patient_age is not None:
            patient["age"] = {"value": self.patient_age, "unit": "a"}
        return Icsr.model_validate(
            {
                "sender_report_id": self.sender_report_id or self.worldwide_case_id,
                "worldwide_case_id": self.worldwide_case_id,
                "report_type": self.report_type,
                "created": Hl7Timestamp.from_datetime(created),
                "first_received": self.first_received,
                "most_recent_info": self.first_received,
                "primary_sources": [
                    {
                        "qualification": self.reporter_qualification,
                        "qualification_null_flavor": None if self.reporter_qualification else NullFlavor.UNK,
                        "country": self.reporter_country.upper() if self.reporter_country else None,
                        "country_null_flavor": None if self.reporter_country else NullFlavor.UNK,
                        "primary_for_regulatory_purposes": True,
                    }
                ],
                "sender": {"sender_type": SenderType.PHARMACEUTICAL_COMPANY, "organisation": sender_organisation},
                "patient": patient,
                "reactions": [reaction],
                "drugs": [
                    {
                        "role": DrugRole.SUSPECT,
                        "name": self.product,
                        "substances": [{"name": self.substance}] if self.substance else [],
                        "dosages": [dosage] if dosage else [],
                    }
                ],
                "narrative": self.narrative,
            }
        )


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


# Where an Icsr error lands on the intake form: the longest matching location prefix wins.
_ICSR_FIELDS: tuple[tuple[tuple[str | int, ...], str], ...] = (
    (("worldwide_case_id",), "worldwide_case_id"),
    (("sender_report_id",), "sender_report_id"),
    (("first_received",), "first_received"),
    (("primary_sources", 0, "country"), "reporter_country"),
    (("primary_sources",), "reporter_qualification"),
    (("patient", "name"), "patient_initials"),
    (("patient", "age"), "patient_age"),
    (("patient",), "patient_sex"),
    (("reactions", 0, "start_date"), "reaction_start"),
    (("reactions", 0, "outcome"), "reaction_outcome"),
    (("reactions", 0, "verbatim_language"), "reaction_language"),
    (("reactions",), "reaction"),
    (("drugs", 0, "substances"), "substance"),
    (("drugs", 0, "dosages"), "dose_mg"),
    (("drugs",), "product"),
    (("narrative",), "narrative"),
    (("sender",), "form"),
)


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


def form_errors(exc: ValidationError, *, icsr: bool = False) -> dict[str, str]:
    """Field name → message for a form's (or, with ``icsr``, the mapped case's) validation errors."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = tuple(error["loc"])
        if icsr:
            field = next((name for prefix, name in _ICSR_FIELDS if loc[: len(prefix)] == prefix), "form")
        else:
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
