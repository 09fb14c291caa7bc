"""Additional risk-minimisation measures declared in the plan (GVP Module XVI): the pre-infusion checklist
and the patient card's key messages.

A plan declares its **infusion checks** — the rules checked against a patient's record before an infusion
— each with the SmPC section that justifies it. A check names one *rule kind* from a fixed registry
(implemented in :mod:`riskplan.minimisation.rules`) and gives that kind's typed ``parameters``; they are
validated when the plan loads, so an unknown rule kind or a bad parameter is a plan validation error
naming its field path, e.g. ``infusion_checks.3.dosing_schedule.parameters.dose_mg``.

The **patient card** block carries the card's key messages per language, each citing its source.

The small vocabularies a patient record shares with the checks (diagnosis status, screening tests,
premedication categories) live here, so that :mod:`riskplan.plan` does not depend on
:mod:`riskplan.minimisation`.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    StringConstraints,
    ValidationInfo,
    model_validator,
)

# The same constraints as riskplan.plan.model (which imports this module, so they cannot be imported here).
_Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)]
_NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
_Section = Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)*$")]
Icd10Prefix = Annotated[str, StringConstraints(pattern=r"^[A-Z](\d{1,2}(\.\d{1,2})?)?$")]
"""An ICD-10 code or the start of one: ``C`` (a chapter letter), ``A15``, ``B18.1``."""
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


# --- vocabularies shared with the patient record ----------------------------------------------------


class DiagnosisStatus(StrEnum):
    ACTIVE = "active"
    RESOLVED = "resolved"
    HISTORY = "history"


class ScreeningTest(StrEnum):
    """Infection screening before the first dose (SmPC 4.2): hepatitis B and C, latent tuberculosis."""

    HBSAG = "HBsAg"
    ANTI_HBC = "anti-HBc"
    ANTI_HCV = "anti-HCV"
    HCV_RNA = "HCV RNA"
    IGRA = "IGRA"
    TST = "TST"


class PremedicationCategory(StrEnum):
    CORTICOSTEROID = "corticosteroid"
    ANTIHISTAMINE = "antihistamine"
    ANTIPYRETIC = "antipyretic"


# --- rule kinds and their parameters -----------------------------------------------------------------


class RuleKind(StrEnum):
    """The fixed registry of rule kinds; each is implemented in :mod:`riskplan.minimisation.rules`."""

    CONTRAINDICATED_DIAGNOSIS = "contraindicated_diagnosis"
    SCREENING_BEFORE_FIRST_DOSE = "screening_before_first_dose"
    LAB_WITHIN_DAYS = "lab_within_days"
    NO_LIVE_VACCINE = "no_live_vaccine"
    PREMEDICATION_GIVEN = "premedication_given"
    OBSERVATION_AFTER_INFUSION = "observation_after_infusion"
    PREGNANCY_STATUS = "pregnancy_status"
    DOSING_SCHEDULE = "dosing_schedule"
    ACTIVE_INFECTION = "active_infection"


class CheckSeverity(StrEnum):
    """What a failed check means: ``block`` = do not infuse until resolved; ``warn`` = review first."""

    BLOCK = "block"
    WARN = "warn"


class CheckApplies(StrEnum):
    FIRST_DOSE = "first dose"
    EVERY_INFUSION = "every infusion"


def _unique(values: list[Any], what: str) -> None:
    if len(set(values)) != len(values):
        raise ValueError(f"{what} must not repeat")


class DiagnosisCondition(_Model):
    """A condition recognised in the record: a diagnosis matching ``icd10`` or ``terms`` (with one of
    ``also_terms`` when given) in one of ``statuses``, or a positive result of ``positive_screenings``."""

    label: _NonEmpty
    icd10: list[Icd10Prefix] = Field(default_factory=list, description="ICD-10 codes or code prefixes")
    terms: list[_NonEmpty] = Field(
        default_factory=list, description="Words or phrases in the diagnosis text (whole words, any case)"
    )
    also_terms: list[_NonEmpty] = Field(
        default_factory=list, description="When given, the text must also contain one of these"
    )
    statuses: list[DiagnosisStatus] = Field(default_factory=lambda: [DiagnosisStatus.ACTIVE], min_length=1)
    positive_screenings: list[ScreeningTest] = Field(
        default_factory=list, description="A positive result of one of these tests also counts"
    )
    untreated_only: bool = Field(
        default=False, description="A positive screening counts only when no treatment is documented"
    )

    @model_validator(mode="after")
    def _recognisable(self) -> DiagnosisCondition:
        if not (self.icd10 or self.terms or self.positive_screenings):
            raise ValueError("a condition needs icd10 codes, terms or positive_screenings")
        return self


class ContraindicatedDiagnosisParameters(_Model):
    conditions: list[DiagnosisCondition] = Field(min_length=1)


class PositiveResult(StrEnum):
    """What a positive screening result means for a screening check."""

    REPORT = "report"  # named in the message; another check (e.g. a contraindication) decides
    NEEDS_TREATMENT = "needs treatment"  # fails unless treatment is documented
    FAIL = "fail"


class ScreeningRequirement(_Model):
    label: _NonEmpty
    any_of: list[ScreeningTest] = Field(min_length=1)
    positive: PositiveResult = PositiveResult.REPORT


class ScreeningBeforeFirstDoseParameters(_Model):
    required: list[ScreeningRequirement] = Field(min_length=1)
    max_age_days: PositiveInt | None = Field(
        default=None, description="The result must be at most this old at the first dose (None: any age)"
    )


class LabRequirement(_Model):
    label: _NonEmpty
    any_of: list[_NonEmpty] = Field(min_length=1, description="Accepted test names (any case)")


class LabWithinDaysParameters(_Model):
    required: list[LabRequirement] = Field(min_length=1)
    days: PositiveInt = Field(description="A result counts when dated at most this many days before the dose")


class NoLiveVaccineParameters(_Model):
    min_days_before_first_dose: PositiveInt | None = Field(
        default=None, description="A live or live-attenuated vaccine must precede the first dose by this much"
    )
    during_treatment: bool = Field(default=False, description="Also fail on a live vaccine after the first dose")

    @model_validator(mode="after")
    def _checks_something(self) -> NoLiveVaccineParameters:
        if self.min_days_before_first_dose is None and not self.during_treatment:
            raise ValueError("set min_days_before_first_dose, during_treatment, or both")
        return self


class PremedicationGivenParameters(_Model):
    categories: list[PremedicationCategory] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> PremedicationGivenParameters:
        _unique(list(self.categories), "categories")
        return self


class ObservationAfterInfusionParameters(_Model):
    min_minutes: PositiveInt


class PregnancyStatusParameters(_Model):
    status_within_days: PositiveInt | None = Field(
        default=None, description="The pregnancy status (test) must be at most this old (None: any age)"
    )
    require_contraception: bool = True


class DosingScheduleParameters(_Model):
    """Loading doses ``loading_interval_days`` apart, then one dose every ``maintenance_interval_months``
    counted from the first infusion (the first maintenance dose) and then from the previous dose."""

    dose_mg: PositiveFloat
    loading_doses: PositiveInt = 2
    loading_interval_days: PositiveInt = 14
    loading_tolerance_days: NonNegativeInt = 3
    maintenance_interval_months: PositiveInt = 6
    maintenance_tolerance_days: NonNegativeInt = 14


class ActiveInfectionParameters(_Model):
    icd10: list[Icd10Prefix] = Field(default_factory=list)
    terms: list[_NonEmpty] = Field(default_factory=list)
    require_assessment: bool = Field(
        default=True, description="Warn when the infusion has no documented infection assessment"
    )

    @model_validator(mode="after")
    def _recognisable(self) -> ActiveInfectionParameters:
        if not (self.icd10 or self.terms):
            raise ValueError("give icd10 codes or terms that recognise an infection")
        return self


# --- checks ------------------------------------------------------------------------------------------


class _Check(_Model):
    id: _Identifier
    title: _NonEmpty
    concern_ids: list[_Identifier] = Field(min_length=1, description="The safety concerns the check serves")
    smpc_section: _Section = Field(description='The SmPC section that justifies the check, e.g. "4.3"')
    severity_if_failed: CheckSeverity
    applies: CheckApplies
    source: str | None = Field(default=None, description="The SmPC wording the check implements")


class ContraindicatedDiagnosisCheck(_Check):
    rule: Literal["contraindicated_diagnosis"]
    parameters: ContraindicatedDiagnosisParameters


class ScreeningBeforeFirstDoseCheck(_Check):
    rule: Literal["screening_before_first_dose"]
    parameters: ScreeningBeforeFirstDoseParameters


class LabWithinDaysCheck(_Check):
    rule: Literal["lab_within_days"]
    parameters: LabWithinDaysParameters


class NoLiveVaccineCheck(_Check):
    rule: Literal["no_live_vaccine"]
    parameters: NoLiveVaccineParameters


class PremedicationGivenCheck(_Check):
    rule: Literal["premedication_given"]
    parameters: PremedicationGivenParameters


class ObservationAfterInfusionCheck(_Check):
    rule: Literal["observation_after_infusion"]
    parameters: ObservationAfterInfusionParameters


class PregnancyStatusCheck(_Check):
    rule: Literal["pregnancy_status"]
    parameters: PregnancyStatusParameters


class DosingScheduleCheck(_Check):
    rule: Literal["dosing_schedule"]
    parameters: DosingScheduleParameters


class ActiveInfectionCheck(_Check):
    rule: Literal["active_infection"]
    parameters: ActiveInfectionParameters


InfusionCheck = Annotated[
    ContraindicatedDiagnosisCheck
    | ScreeningBeforeFirstDoseCheck
    | LabWithinDaysCheck
    | NoLiveVaccineCheck
    | PremedicationGivenCheck
    | ObservationAfterInfusionCheck
    | PregnancyStatusCheck
    | DosingScheduleCheck
    | ActiveInfectionCheck,
    Field(discriminator="rule"),
]
"""A check of the pre-infusion checklist; ``rule`` selects the kind and the type of ``parameters``."""


def _validate_checks(checks: list[InfusionCheck]) -> list[InfusionCheck]:
    """Check ids are unique. A check's ``concern_ids`` are not required to name the plan's current
    concerns, so that a plan version can retire a concern without invalidating its checklist; see
    :func:`unknown_concern_ids`."""
    seen: set[str] = set()
    for check in checks:
        if check.id in seen:
            raise ValueError(f"duplicate infusion check id {check.id!r}")
        seen.add(check.id)
    return checks


def unknown_concern_ids(checks: list[InfusionCheck], known: set[str]) -> dict[str, list[str]]:
    """For each check naming safety concerns not in ``known``, those concern ids."""
    out = {}
    for check in checks:
        unknown = [cid for cid in check.concern_ids if cid not in known]
        if unknown:
            out[check.id] = unknown
    return out


InfusionChecks = Annotated[list[InfusionCheck], AfterValidator(_validate_checks)]


# --- patient card ------------------------------------------------------------------------------------


class CardMessage(_Model):
    text: _NonEmpty
    source: _NonEmpty = Field(description="Where the message comes from, e.g. the package leaflet section 2")


class PatientCardContent(_Model):
    """The key messages of the patient card (an additional risk-minimisation measure), per language."""

    measure: _NonEmpty = Field(
        default="Patient card", description="The name of the additional measure this content belongs to"
    )
    concern_ids: list[_Identifier] = Field(min_length=1)
    source: str | None = None
    messages: dict[LanguageCode, list[CardMessage]] = Field(min_length=1)

    @model_validator(mode="after")
    def _messages_present(self) -> PatientCardContent:
        empty = [lang for lang, items in self.messages.items() if not items]
        if empty:
            raise ValueError(f"no messages for language(s) {', '.join(empty)}")
        return self

    def languages(self) -> list[str]:
        return sorted(self.messages)


def _validate_card(card: PatientCardContent, info: ValidationInfo) -> PatientCardContent:
    concerns = info.data.get("safety_concerns")
    if concerns is None:
        return card
    by_id = {c.id: c for c in concerns}
    wanted = card.measure.casefold()
    for cid in card.concern_ids:
        concern = by_id.get(cid)
        if concern is None:
            raise ValueError(f"patient card names unknown safety concern {cid!r}")
        if not any(m.name.casefold() == wanted for m in concern.additional_measures):
            raise ValueError(f"safety concern {cid!r} has no additional measure named {card.measure!r}")
    return card


PatientCard = Annotated[PatientCardContent, AfterValidator(_validate_card)]


def words_pattern(terms: list[str]) -> re.Pattern[str] | None:
    """A case-insensitive whole-word pattern matching any of ``terms`` (None when there are none)."""
    if not terms:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(t) for t in terms) + r")\b", re.IGNORECASE)
