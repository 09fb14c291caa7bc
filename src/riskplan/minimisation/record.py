"""The patient record the pre-infusion checklist reads: a documented JSON format.

One JSON object per patient (the JSON schema ships as ``data/patient_record.schema.json``; an example as
``data/example_patient.json``)::

    patient        id, birth date, sex, childbearing potential
    diagnoses      ICD-10 code and/or text, status active | resolved | history, onset and end dates
    labs           test, value, unit, date
    screenings     HBsAg, anti-HBc, anti-HCV, HCV RNA, IGRA, TST: result and date (+ treatment of a positive)
    vaccinations   vaccine, live or live-attenuated flag, date
    infusions      date, dose (mg), premedication (drug, category), observation minutes after,
                   infection assessment, checklist completed
    pregnancy      pregnant | not pregnant | unknown, test date
    contraception  method, effective, date documented
    treatment_start, prescriber, patient_card_issued

A list that is absent (``null``) means *not recorded*: the checklist warns and names it. An empty list
means *recorded, none* (no diagnoses, no vaccinations).

The record is read strictly (:mod:`riskplan.minimisation.strict_json`, then strict pydantic types): a
number written as a string or a boolean, NaN, Infinity, a repeated key, a number outside its plausible
range or a birth date in the future is refused with the field's path, never converted or ignored.
"""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from riskplan.errors import UserInputError
from riskplan.minimisation.strict_json import load_strict_json
from riskplan.plan import DiagnosisStatus, PremedicationCategory, ScreeningTest

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Icd10Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z]\d{2}(\.\d{1,2})?$")]

# Numbers are strict (21 CFR 11.10(h) input checks): a number written as a string ("12") or a boolean is
# refused, not converted, and each has a plausible range. JSON has no NaN or Infinity (strict_json).
LAB_VALUE_MAX = 1e7
"""Above any count or concentration the checklist reads, in any common unit (platelets ~10^6 cells/µL)."""
LabValue = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=LAB_VALUE_MAX)]
DoseMg = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=10_000)]
Minutes = Annotated[int, Field(strict=True, ge=0, le=24 * 60)]
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)


def _date_text(value: Any) -> Any:
    """A date in the record is a JSON string YYYY-MM-DD: not a number (pydantic would read a timestamp)."""
    if isinstance(value, dt.date | str):
        return value
    raise ValueError("a date is written as a string YYYY-MM-DD")


def _plausible_date(value: dt.date) -> dt.date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(f"{value.isoformat()} is not a plausible date ({EARLIEST_DATE.year} to {LATEST_DATE.year})")
    return value


RecordDate = Annotated[dt.date, BeforeValidator(_date_text), AfterValidator(_plausible_date)]

SCHEMA_RESOURCE = "patient_record.schema.json"
EXAMPLE_RESOURCE = "example_patient.json"
SCHEMA_ID = "https://riskplan.example/schemas/patient_record.schema.json"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class Patient(_Record):
    id: NonEmpty = Field(description="The treating centre's pseudonymous patient id")
    birth_date: RecordDate | None = None
    sex: Sex
    childbearing_potential: StrictBool | None = Field(
        default=None, description="For women: of childbearing potential (SmPC 4.6); null = not assessed"
    )

    @field_validator("birth_date")
    @classmethod
    def _born_already(cls, value: dt.date | None) -> dt.date | None:
        if value is not None and value > dt.date.today():
            raise ValueError(f"birth date {value.isoformat()} is in the future")
        return value


class Diagnosis(_Record):
    code: Icd10Code | None = Field(default=None, description="ICD-10 code, e.g. G36.0")
    text: NonEmpty
    status: DiagnosisStatus
    onset: RecordDate | None = None
    end: RecordDate | None = Field(default=None, description="When it resolved")

    def label(self) -> str:
        return f"{self.text} ({self.code})" if self.code else self.text


class LabResult(_Record):
    test: NonEmpty = Field(description="e.g. IgG, CD19+ B cells, neutrophils")
    value: LabValue
    unit: NonEmpty
    date: RecordDate


class ScreeningResult(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    INDETERMINATE = "indeterminate"


class Screening(_Record):
    test: ScreeningTest
    result: ScreeningResult
    date: RecordDate
    treatment: str | None = Field(default=None, description="For a positive result: the treatment started or completed")


class Vaccination(_Record):
    vaccine: NonEmpty
    live: StrictBool = Field(description="A live or live-attenuated vaccine")
    date: RecordDate


class Premedication(_Record):
    drug: NonEmpty
    category: PremedicationCategory
    dose: str | None = None
    minutes_before: Minutes | None = None


class Infusion(_Record):
    """An infusion given or about to be given (its premedication and planned observation recorded)."""

    date: RecordDate
    dose_mg: DoseMg | None = None
    premedication: list[Premedication] | None = Field(default=None, description="null = not recorded")
    observation_minutes_after: Minutes | None = Field(
        default=None, description="Observation after the end of the infusion: planned, then documented"
    )
    infection_assessed: StrictBool | None = Field(
        default=None, description="Assessed for an active infection before this infusion"
    )
    checklist_completed: StrictBool = Field(default=False, description="The pre-infusion checklist was completed")

    def premedication_categories(self) -> set[PremedicationCategory]:
        return {p.category for p in self.premedication or ()}


class PregnancyStatus(StrEnum):
    PREGNANT = "pregnant"
    NOT_PREGNANT = "not pregnant"
    UNKNOWN = "unknown"


class Pregnancy(_Record):
    status: PregnancyStatus
    test_date: RecordDate | None = Field(default=None, description="Date of the pregnancy test or assessment")


class Contraception(_Record):
    method: str | None = Field(default=None, description="null = none")
    effective: StrictBool
    date: RecordDate | None = Field(default=None, description="When it was documented")


class Prescriber(_Record):
    name: NonEmpty
    institution: str | None = None
    phone: str | None = None
    email: str | None = None


class PatientRecord(_Record):
    """A patient's record as the pre-infusion checklist, the patient card and the indicators read it."""

    patient: Patient
    diagnoses: list[Diagnosis] | None = None
    labs: list[LabResult] | None = None
    screenings: list[Screening] | None = None
    vaccinations: list[Vaccination] | None = None
    infusions: list[Infusion] = Field(default_factory=list)
    pregnancy: Pregnancy | None = None
    contraception: Contraception | None = None
    treatment_start: RecordDate | None = Field(default=None, description="Defaults to the first infusion")
    prescriber: Prescriber | None = None
    patient_card_issued: RecordDate | None = None

    @model_validator(mode="after")
    def _one_infusion_a_day(self) -> PatientRecord:
        dates = [i.date for i in self.infusions]
        repeated = sorted({d for d in dates if dates.count(d) > 1})
        if repeated:
            raise ValueError(f"more than one infusion on {', '.join(d.isoformat() for d in repeated)}")
        return self

    def sorted_infusions(self) -> list[Infusion]:
        return sorted(self.infusions, key=lambda i: i.date)

    def first_infusion(self) -> Infusion | None:
        ordered = self.sorted_infusions()
        return ordered[0] if ordered else None

    def start_date(self) -> dt.date | None:
        first = self.first_infusion()
        return self.treatment_start or (first.date if first else None)


def patient_record_schema() -> dict[str, Any]:
    """The JSON schema of :class:`PatientRecord` (JSON Schema 2020-12), as shipped in the package."""
    schema = PatientRecord.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "riskplan patient record",
        "description": (PatientRecord.__doc__ or "").strip()
        + " A list that is null or absent means 'not recorded'; an empty list means 'recorded, none'.",
    }


def schema_text() -> str:
    return json.dumps(patient_record_schema(), indent=2, ensure_ascii=False) + "\n"


def shipped_schema_text() -> str:
    return (resources.files("riskplan.minimisation") / "data" / SCHEMA_RESOURCE).read_text(encoding="utf-8")


_SHOW_INPUT = ("type", "parsing", "finite", "greater", "less", "enum", "literal")


def format_record_errors(exc: ValidationError, where: str) -> str:
    """Each problem as the user reads it: the field path, why, and the value found where it helps."""
    lines = [f"{where}: {exc.error_count()} problem(s) with the patient record:"]
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"]) or "(top level)"
        found = err.get("input")
        shown = ""
        if any(k in err["type"] for k in _SHOW_INPUT) and (found is None or isinstance(found, str | int | float)):
            shown = f" (found {_short(json.dumps(found, ensure_ascii=False))})"
        lines.append(f"  - {path}: {err['msg'].removeprefix('Value error, ')}{shown}")
    return "\n".join(lines)


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:30] + "…"


def parse_patient_record(text: str, where: str) -> PatientRecord:
    """Parse a patient record: strict JSON read once (:mod:`strict_json`), then the model with strict
    numbers and booleans; every problem is a :class:`UserInputError` naming the field and why."""
    data = load_strict_json(text, where)
    if not isinstance(data, dict):
        raise UserInputError(f"{where}: expected a JSON object (a patient record), found {_json_type(data)}")
    try:
        return PatientRecord.model_validate(data)
    except ValidationError as exc:
        raise UserInputError(format_record_errors(exc, where)) from None


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return "a number"


def load_patient_record(path: Path) -> PatientRecord:
    """Read a patient record from a JSON file; a bad file is a :class:`UserInputError` naming each field."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"{path}: cannot read the patient record: {exc}") from None
    return parse_patient_record(text, str(path))


def demo_patient_record() -> PatientRecord:
    """A realistic demo patient: a woman with AQP4-IgG-positive NMOSD on inebilizumab (the shipped example)."""
    text = (resources.files("riskplan.minimisation") / "data" / EXAMPLE_RESOURCE).read_text(encoding="utf-8")
    return parse_patient_record(text, f"riskplan.minimisation/data/{EXAMPLE_RESOURCE}")


def load_patient_records(folder: Path) -> list[PatientRecord]:
    """Every ``*.json`` patient record in ``folder``, in file-name order."""
    if not folder.is_dir():
        raise UserInputError(f"{folder}: not a folder of patient records (*.json)")
    files = sorted(folder.glob("*.json"))
    if not files:
        raise UserInputError(f"{folder}: no patient records (*.json) in the folder")
    return [load_patient_record(f) for f in files]
