"""The EU Risk Management Plan as data (GVP Module V and the EU RMP template, Rev. 2.0.1).

The shape follows the public "Summary of the risk management plan" (RMP Part VI):

* Part VI.I   the medicine: :class:`Product`
* Part VI.II.A the list of important risks and missing information: :class:`SafetyConcern` with its
  :class:`ConcernCategory`
* Part VI.II.B the summary of each important risk: evidence, risk factors, routine and additional
  risk-minimisation measures (GVP Module XVI)
* Part VI.II.C the post-authorisation development plan: :class:`PharmacovigilanceStudy`

Two blocks are not in the public summary but are needed to run the plan: the concern ``definition``
(what makes a case or a patient count toward a concern) and the plan's ``reference_safety_information``
(the expected adverse reactions used for listedness, GVP Module VII.B.5.6 / ICH E2C(R2) 3.4), nor the
pre-infusion checklist and the patient card's messages. A plan read from a summary names them in
``absent`` (:class:`PlanPart`) so that they are known to be unknown, not empty.

How riskplan runs the plan is the plan's data too, never code (:class:`PlanAnalysis`, not in the public
summary either): the product's ingredient concepts and dosing on OMOP CDM data, each study's design,
comparators and outcomes, and the concerns whose cases measure the effectiveness of risk minimisation. A
plan without it runs no study analysis and counts no outcome indicator; it is left out of the stored
content while unset, so that a plan stored before it existed keeps its content hash.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import IntEnum, StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    StringConstraints,
    field_validator,
    model_validator,
)

from riskplan.plan.checks import InfusionChecks, PatientCard

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
# SmPC / PL section numbers: "4.4", "5.1", "2" (the PL has numbered sections 1-6).
SectionNumber = Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)*$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class ConcernCategory(StrEnum):
    """The three kinds of safety concern of GVP Module V (V.A, V.B.8)."""

    IMPORTANT_IDENTIFIED_RISK = "important identified risk"
    IMPORTANT_POTENTIAL_RISK = "important potential risk"
    MISSING_INFORMATION = "missing information"

    @property
    def heading(self) -> str:
        """The label used in Part VI.II.B, e.g. ``Important identified risk``."""
        return self.value[0].upper() + self.value[1:]

    @property
    def list_heading(self) -> str:
        """The row label of Table II.A.1, e.g. ``Important identified risks``."""
        return self.heading if self is ConcernCategory.MISSING_INFORMATION else self.heading + "s"


class StudyDrug(_Model):
    """A substance as the plan's studies find it in an OMOP CDM: its ingredient concepts and how long a
    dose keeps a patient on treatment (riskplan's study design; not in the public summary)."""

    substance: NonEmpty = Field(description='As the plan writes it, e.g. "rituximab"')
    concept_ids: list[int] = Field(
        default_factory=list,
        description="OMOP ingredient concept ids (descendants included); empty: riskplan's vocabulary "
        "concept of the substance name",
    )
    dose_covers_days: PositiveInt | None = Field(
        default=None, description="Days each dose covers, e.g. 183 for an infusion every 6 months"
    )
    grace_days: NonNegativeInt = Field(default=30, description="Gaps up to this long between doses are bridged")


class Product(_Model):
    """Part VI.I: the medicine and what it is used for."""

    name: NonEmpty
    active_substance: NonEmpty
    indication: NonEmpty
    route: NonEmpty
    setting: str | None = Field(
        default=None, description="Where the medicine is given, e.g. an infusion centre or hospital"
    )
    marketing_authorisation_holder: str | None = None
    epar_url: str | None = None
    approvals: dict[str, dt.date] = Field(
        default_factory=dict,
        description=(
            "Date of the marketing authorisation (approval) per region, e.g. {US: 2020-06-11}: the US date "
            "starts the 21 CFR 314.80(c)(2) periodic reporting intervals"
        ),
    )
    international_birth_date: dt.date | None = Field(
        default=None,
        description=(
            "IBD: the date of the first marketing authorisation anywhere in the world (GVP VII.A, ICH E2C(R2) "
            "2.1); the EU PSUR cycle runs from it unless the EURD list sets a data lock point"
        ),
    )


class Recommendation(_Model):
    """A recommendation in the product information, e.g. for proper administration (SmPC 4.2)."""

    topic: NonEmpty = Field(description='What it is about, e.g. "proper administration"')
    smpc_sections: list[SectionNumber] = Field(default_factory=list)


class RoutineRiskMinimisation(_Model):
    """Routine risk-minimisation measures (GVP Module XVI.B.1): product information, pack, legal status."""

    smpc_sections: list[SectionNumber] = Field(default_factory=list)
    pl_sections: list[SectionNumber] = Field(default_factory=list)
    recommendations: list[Recommendation] = Field(default_factory=list)
    clinical_setting: str | None = None
    legal_status: str | None = None
    pack_size: str | None = None
    other: list[str] = Field(default_factory=list)


class AdditionalRiskMinimisation(_Model):
    """An additional risk-minimisation measure (GVP Module XVI.B.2), e.g. a patient card."""

    name: NonEmpty
    description: str | None = None
    content: list[str] = Field(default_factory=list, description="Key messages the tool carries")


class LabComparator(StrEnum):
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="


class LabCriterion(_Model):
    """A laboratory finding that makes a case or patient count toward a concern."""

    analyte: NonEmpty
    comparator: LabComparator
    value: float
    unit: NonEmpty
    source: NonEmpty = Field(description="Where the threshold comes from, e.g. CTCAE v5.0")

    def is_met(self, value: float) -> bool:
        match self.comparator:
            case LabComparator.LT:
                return value < self.value
            case LabComparator.LE:
                return value <= self.value
            case LabComparator.GT:
                return value > self.value
            case LabComparator.GE:
                return value >= self.value
        raise AssertionError(self.comparator)  # pragma: no cover


class PatientCharacteristic(StrEnum):
    AGE_OVER = "age over"
    EXPOSURE_IN_PREGNANCY = "exposure in pregnancy"
    EXPOSURE_DURING_LACTATION = "exposure during lactation"
    FOETAL_OR_NEONATAL_EXPOSURE = "foetal or neonatal exposure"
    CONCOMITANT_MEDICATION = "concomitant medication"


class PatientCriterion(_Model):
    """A patient characteristic that makes a case or patient count toward a concern."""

    characteristic: PatientCharacteristic
    age_years: float | None = Field(default=None, description="For 'age over': the age in years")
    substances: list[NonEmpty] = Field(
        default_factory=list, description="For 'concomitant medication': active substances"
    )
    source: NonEmpty

    @model_validator(mode="after")
    def _parameters_match_characteristic(self) -> PatientCriterion:
        if self.characteristic is PatientCharacteristic.AGE_OVER and self.age_years is None:
            raise ValueError("'age over' needs age_years")
        if self.characteristic is PatientCharacteristic.CONCOMITANT_MEDICATION and not self.substances:
            raise ValueError("'concomitant medication' needs at least one substance")
        return self


class SmqReference(_Model):
    """A Standardised MedDRA Query named in a concern definition, searched narrow or broad
    (MedDRA SMQ Introductory Guide: narrow for specificity, broad for sensitivity)."""

    name: NonEmpty = Field(description="The SMQ's name (or 8-digit code) as in smq_list.asc")
    scope: Literal["narrow", "broad"] = "narrow"


class ConcernDefinition(_Model):
    """What makes a case or a patient count toward a safety concern.

    Three groups of criteria: reaction terms (a reaction coded to one of ``meddra_pts``, under one of
    ``meddra_hlts`` / ``meddra_hlgts``, in one of ``meddra_smqs``, or in one of ``meddra_socs`` — for the
    SOCs only serious reactions when ``serious_only``), lab criteria (any met)
    and patient criteria (any holds). With ``combine: any`` a case counts when any group matches; with
    ``combine: all`` every group that has criteria must match (e.g. a blood disorder *in a foetus or
    newborn*).
    """

    meddra_pts: list[NonEmpty] = Field(default_factory=list)
    meddra_socs: list[NonEmpty] = Field(default_factory=list)
    # Needs a loaded MedDRA release (riskplan terms load-meddra): the PTs under these HLTs / HLGTs, and
    # the terms of these SMQs (ICH E2E; GVP Module V.B.8: concerns defined by SMQs where one exists).
    meddra_hlts: list[NonEmpty] = Field(default_factory=list)
    meddra_hlgts: list[NonEmpty] = Field(default_factory=list)
    meddra_smqs: list[SmqReference] = Field(default_factory=list)
    serious_only: bool = Field(default=False, description="Restricts the SOC criterion to serious reactions")
    combine: Literal["any", "all"] = "any"
    lab_criteria: list[LabCriterion] = Field(default_factory=list)
    patient_criteria: list[PatientCriterion] = Field(default_factory=list)
    source: str | None = Field(default=None, description="Citation for the definition as a whole")

    @property
    def is_empty(self) -> bool:
        return not (self.has_terms or self.lab_criteria or self.patient_criteria)

    @property
    def has_terms(self) -> bool:
        """Whether the definition names any MedDRA term (PT, HLT, HLGT, SOC or SMQ)."""
        return bool(self.meddra_pts or self.meddra_socs or self.meddra_hlts or self.meddra_hlgts or self.meddra_smqs)


class SafetyConcern(_Model):
    """A safety concern of the plan (GVP Module V.B.8; RMP Part VI.II.A and II.B)."""

    id: Identifier
    title: NonEmpty = Field(description="As in the summary of important risks (Part VI.II.B)")
    short_title: str | None = Field(
        default=None, description="As in the list of important risks (Part VI.II.A), where it differs"
    )
    category: ConcernCategory
    evidence: str | None = Field(default=None, description="Evidence for linking the risk to the medicine")
    risk_factors: str | None = Field(default=None, description="Risk factors and risk groups")
    routine_measures: RoutineRiskMinimisation = Field(default_factory=RoutineRiskMinimisation)
    additional_measures: list[AdditionalRiskMinimisation] = Field(default_factory=list)
    definition: ConcernDefinition = Field(default_factory=ConcernDefinition)

    @property
    def list_title(self) -> str:
        return self.short_title or self.title


class StudyCategory(IntEnum):
    """GVP Module V / RMP Part III categories of additional pharmacovigilance activities."""

    IMPOSED_CONDITION = 1  # imposed as a condition of the marketing authorisation
    SPECIFIC_OBLIGATION = 2  # specific obligation (conditional MA / exceptional circumstances)
    REQUIRED = 3  # required additional pharmacovigilance activity


class StudyStatus(StrEnum):
    PLANNED = "planned"
    ONGOING = "ongoing"
    COMPLETED = "completed"
    STOPPED = "stopped"


class Milestone(_Model):
    name: NonEmpty
    due: dt.date | None = None
    description: str | None = None


class StudyDesign(StrEnum):
    """The analyses riskplan runs for a study on an OMOP CDM (:mod:`riskplan.studies.plan_studies`)."""

    COMPARATIVE_REGISTRY = "comparative registry"  # new users vs each comparator: incidence, rate ratios; pregnancy
    PREGNANCY_REGISTRY = "pregnancy registry"  # pregnancy outcomes by exposure
    NEW_USER_COHORT = "new-user cohort"  # characteristics, drug utilisation, incidence with survival curves
    LONG_TERM_SAFETY = "long-term safety"  # since the first dose: laboratory safety, incidence


class StudyAnalysis(_Model):
    """How riskplan runs a study of the plan on OMOP CDM data (riskplan's design; not in the public summary)."""

    design: StudyDesign
    comparators: list[StudyDrug] = Field(default_factory=list, description="For a comparative design")
    characteristics_vs: str | None = Field(
        default=None,
        description="The comparator substance for baseline characteristics and Kaplan-Meier curves",
    )
    outcomes: list[Identifier] = Field(
        default_factory=list,
        description="Safety concerns whose incidence is estimated (empty: the study's safety concerns); one the "
        "plan no longer has is skipped, as infusion checks of a retired concern are",
    )

    @model_validator(mode="after")
    def _characteristics_vs_a_comparator(self) -> StudyAnalysis:
        names = [c.substance for c in self.comparators]
        _reject_duplicates(names, "comparator")
        if self.characteristics_vs is not None and self.characteristics_vs not in names:
            raise ValueError(f"characteristics_vs {self.characteristics_vs!r} is not one of the comparators")
        return self


class PharmacovigilanceStudy(_Model):
    """A study of the pharmacovigilance plan (RMP Part III; Part VI.II.C)."""

    id: Identifier
    short_name: NonEmpty = Field(description='Heading in the summary, e.g. "SPHERES Registry Study"')
    title: NonEmpty
    sponsor: str | None = None
    category: StudyCategory
    purpose: NonEmpty
    objectives: list[NonEmpty] = Field(default_factory=list)
    safety_concerns: list[Identifier] = Field(
        default_factory=list, description="Ids of the safety concerns the study addresses"
    )
    status: StudyStatus | None = None
    milestones: list[Milestone] = Field(default_factory=list)


class PlanAnalysis(_Model):
    """How riskplan runs the plan (riskplan's design, not in the public summary): its studies on OMOP CDM
    data and the outcome indicators of risk minimisation."""

    product: StudyDrug | None = Field(
        default=None,
        description="The product on OMOP CDM data (None: the active substance by name in riskplan's "
        "vocabulary, on treatment with a 30-day grace period)",
    )
    studies: dict[Identifier, StudyAnalysis] = Field(
        default_factory=dict, description="By study id: the studies riskplan can run"
    )
    comorbidities: dict[NonEmpty, list[int]] = Field(
        default_factory=dict,
        description="Conditions among the studies' baseline characteristics: label -> OMOP condition concept "
        "ids (descendants included); the CDM's most frequent conditions are shown besides",
    )
    effectiveness_indicators: list[Identifier] = Field(
        default_factory=list,
        description="Safety concerns whose cases by quarter are outcome indicators of the effectiveness of "
        "risk minimisation (GVP XVI.B.4); one the plan no longer has is skipped",
    )


class ExpectedReaction(_Model):
    """An adverse reaction listed in the reference safety information."""

    pt: NonEmpty = Field(description="MedDRA preferred term")
    soc: str | None = None
    frequency: Literal["very common", "common", "uncommon", "rare", "very rare", "not known"] | None = None


class ReferenceSafetyInformation(_Model):
    """The reference for listedness: the expected adverse reactions (ICH E2C(R2) 3.4; GVP VII.B.5.6)."""

    document: NonEmpty = Field(description='e.g. "SmPC section 4.8"')
    version: str | None = None
    expected_reactions: list[ExpectedReaction] = Field(default_factory=list)
    note: str | None = None

    def is_listed(self, pt: str) -> bool:
        wanted = pt.casefold()
        return any(r.pt.casefold() == wanted for r in self.expected_reactions)


class PlanPart(StrEnum):
    """The parts of a plan that a public RMP summary (Part VI) does not carry (see the module docstring).

    A plan read from a summary lists them in ``absent``: they are unknown, not empty, and
    ``riskplan plan load`` keeps them from the current version instead of emptying them.
    """

    CONCERN_DEFINITIONS = "concern definitions"
    REFERENCE_SAFETY_INFORMATION = "reference safety information"
    INFUSION_CHECKS = "infusion checks"
    PATIENT_CARD = "patient card"


class RoutinePharmacovigilance(_Model):
    """Routine pharmacovigilance activities (GVP Module V; RMP Part III.1)."""

    activities: list[NonEmpty] = Field(default_factory=list)
    psur_required: bool = True
    psur_interval_months: int | None = Field(
        default=None,
        ge=1,
        description="PSUR frequency of the EURD list (GVP VII.C.3.1); unset: the Art. 107c(2) default cycle",
    )
    eurd_data_lock_point: dt.date | None = Field(
        default=None,
        description="A data lock point of the EURD list entry (GVP VII.C.3.1); the PSUR cycle runs from it",
    )


class ClinicalTrial(_Model):
    """A clinical trial of the product, for the DSUR (ICH E2F 2.2, 3.5; E2B(R3) C.5 identifies a case's trial)."""

    id: Identifier
    title: NonEmpty
    phase: str | None = None
    status: str | None = Field(default=None, description='e.g. "ongoing", "completed"')
    registrations: list[NonEmpty] = Field(
        default_factory=list, description="Trial registration numbers (E2B C.5.1.r.1), e.g. NCT02200770"
    )
    sponsor_study_number: str | None = Field(default=None, description="E2B C.5.3 sponsor study number")
    arms: list[NonEmpty] = Field(
        default_factory=list,
        description="Treatment arms as a case's suspect drug names them (E2B G.k.2), e.g. inebilizumab, placebo",
    )
    blinded: bool = Field(default=False, description="Whether treatment allocation is masked (E2B G.k.2.5)")
    source: str | None = None


class ClinicalDevelopment(_Model):
    """The product's clinical development: what the DSUR covers (ICH E2F 2.1-2.3)."""

    development_international_birth_date: dt.date | None = Field(
        default=None,
        description="DIBD: the first authorisation of a clinical trial anywhere (ICH E2F 2.2); starts the DSUR year",
    )
    trials: list[ClinicalTrial] = Field(default_factory=list)
    source: str | None = None

    @field_validator("trials")
    @classmethod
    def _unique_trials(cls, trials: list[ClinicalTrial]) -> list[ClinicalTrial]:
        _reject_duplicates([t.id for t in trials], "clinical trial id")
        return trials


class RiskManagementPlan(_Model):
    """An EU risk management plan: the unit riskplan loads, versions and runs."""

    name: Identifier = Field(description="Short name used on the command line, e.g. uplizna")
    product: Product
    rmp_version: str | None = Field(default=None, description="The RMP's own version number")
    rmp_date: dt.date | None = None
    source: str | None = Field(default=None, description="The document this plan was taken from")
    absent: list[PlanPart] = Field(
        default_factory=list,
        description="Parts the source document does not carry: unknown, not empty (kept from the current "
        "version on load, unless the plan is loaded as it is)",
    )
    safety_concerns: list[SafetyConcern]
    studies: list[PharmacovigilanceStudy] = Field(default_factory=list)
    studies_conditions_of_authorisation: str | None = Field(
        default=None, description="Statement of Part VI.II.C.1 where there are no such studies"
    )
    reference_safety_information: ReferenceSafetyInformation | None = None
    regional_reference_safety_information: dict[str, ReferenceSafetyInformation] = Field(
        default_factory=dict,
        description=(
            "RSI per region where it differs from reference_safety_information (the EU SmPC 4.8, the default), "
            'e.g. {"US": the US prescribing information section 6}; keys are region codes such as US, UK, JP'
        ),
    )
    routine_pharmacovigilance: RoutinePharmacovigilance = Field(default_factory=RoutinePharmacovigilance)
    infusion_checks: InfusionChecks = Field(
        default_factory=list, description="The pre-infusion checklist (GVP XVI), see riskplan.plan.checks"
    )
    patient_card: PatientCard | None = Field(default=None, description="The patient card's key messages")
    analysis: PlanAnalysis | None = Field(default=None, description="How riskplan runs the plan (not in the summary)")
    clinical_development: ClinicalDevelopment | None = Field(
        default=None, description="Trials of the product in clinical development, for the DSUR (ICH E2F)"
    )

    @field_validator("safety_concerns")
    @classmethod
    def _concerns_present_and_unique(cls, concerns: list[SafetyConcern]) -> list[SafetyConcern]:
        if not concerns:
            raise ValueError("a plan needs at least one safety concern")
        _reject_duplicates([c.id for c in concerns], "safety concern id")
        return concerns

    @field_validator("absent")
    @classmethod
    def _absent_unique(cls, parts: list[PlanPart]) -> list[PlanPart]:
        _reject_duplicates([p.value for p in parts], "absent part")
        return parts

    @model_validator(mode="after")
    def _studies_reference_known_concerns(self) -> RiskManagementPlan:
        _reject_duplicates([s.id for s in self.studies], "study id")
        known = {c.id for c in self.safety_concerns}
        for study in self.studies:
            unknown = [cid for cid in study.safety_concerns if cid not in known]
            if unknown:
                raise ValueError(
                    f"study {study.id!r} names unknown safety concern(s) {', '.join(unknown)}; "
                    f"known: {', '.join(sorted(known))}"
                )
        if self.analysis is not None:
            ids = {s.id for s in self.studies}
            strays = [sid for sid in self.analysis.studies if sid not in ids]
            if strays:
                raise ValueError(
                    f"analysis.studies names study id(s) {', '.join(strays)} the plan does not have; "
                    f"its studies: {', '.join(sorted(ids)) or 'none'}"
                )
        return self

    def rsi_for(self, region: str | None = None) -> ReferenceSafetyInformation | None:
        """The RSI expectedness is judged against in ``region`` (ICH E2A II.C: per local label); the
        default RSI where the region has none of its own."""
        if region is not None:
            for key, rsi in self.regional_reference_safety_information.items():
                if key.casefold() == region.casefold():
                    return rsi
        return self.reference_safety_information

    def concern(self, concern_id: str) -> SafetyConcern:
        for c in self.safety_concerns:
            if c.id == concern_id:
                return c
        raise KeyError(concern_id)

    def concerns_in(self, category: ConcernCategory) -> list[SafetyConcern]:
        return [c for c in self.safety_concerns if c.category is category]


def _reject_duplicates(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"duplicate {what} {v!r}")
        seen.add(v)


def slugify(text: str, max_length: int = 60) -> str:
    """A stable identifier from a title: lower case, words joined by hyphens."""
    words = re.findall(r"[a-z0-9]+", text.casefold())
    slug = ""
    for w in words:
        candidate = f"{slug}-{w}" if slug else w
        if len(candidate) > max_length:
            break
        slug = candidate
    return slug or "item"
