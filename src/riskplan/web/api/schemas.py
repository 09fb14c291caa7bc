"""Request and response bodies of the JSON API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from riskplan.cases import Icsr
from riskplan.plan import RiskManagementPlan
from riskplan.signals import SignalOutcome, SignalState
from riskplan.web.case_ops import Causality


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- auth ------------------------------------------------------------------------------------------


class TokenRequest(In):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


class TokenResponse(Out):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the session ends at the latest (it ends sooner when idle)")
    idle_timeout: int = Field(description="Seconds of inactivity after which the token stops working")
    role: str


class Me(Out):
    username: str
    role: str
    permissions: list[str]


class Message(Out):
    detail: str


# -- plans -----------------------------------------------------------------------------------------


class PlanSummaryOut(Out):
    name: str
    bundled: bool
    latest_version: int | None
    approved_versions: list[int]


class PlanVersionOut(Out):
    plan_name: str
    version: int
    content_sha256: str
    loaded_at: dt.datetime
    loaded_by: str
    source: str | None
    reason: str | None
    approved_at: dt.datetime | None = None
    approved_by: str | None = None


class PlanOut(Out):
    name: str
    version: int | None = Field(description="Stored version shown; null for a bundled plan not yet stored")
    plan: RiskManagementPlan


class FieldChangeOut(Out):
    path: str
    old: Any
    new: Any


class ItemChangeOut(Out):
    kind: str
    id: str
    title: str
    change: str
    fields: list[FieldChangeOut]


class PlanDiffOut(Out):
    old: str
    new: str
    items: list[ItemChangeOut]
    plan_fields: list[FieldChangeOut]


SIGNING_PASSWORD = "Your own password, asked for again at the moment of signing (21 CFR 11.200)"


class ApproveIn(In):
    reason: str | None = Field(default=None, max_length=2000)
    password: str = Field(min_length=1, max_length=1000, description=SIGNING_PASSWORD)


class ApprovalOut(Out):
    plan_name: str
    version: int
    approved_at: dt.datetime
    approved_by: str
    reason: str | None
    signed: str = Field(description="The electronic signature: printed name (user), meaning, UTC time")


# -- cases -----------------------------------------------------------------------------------------


class ConcernOut(Out):
    id: str
    reasons: str


class LinkOut(Out):
    kind: str
    other: str
    reason: str | None


class ReactionOut(Out):
    seq: int
    verbatim: str
    pt_name: str | None
    soc_name: str | None
    coding_status: str
    serious: bool
    seriousness_criteria: str | None
    listedness: str
    onset: dt.date | None
    outcome: str | None


class CaseOut(Out):
    case_number: str
    worldwide_id: str
    plan_name: str
    version: int
    latest_version: int
    valid: bool
    invalid_reasons: list[str]
    serious: bool
    received: dt.date
    day_zero: dt.date | None
    due: dt.date | None
    recorded_at: dt.datetime
    recorded_by: str
    reason: str | None
    safety_concerns: list[ConcernOut]
    reactions: list[ReactionOut]
    synthetic: bool = Field(default=False, description="Made by riskplan synth or the demo: not a real report")
    links: list[LinkOut]
    icsr: Icsr


class IntakeOut(Out):
    case_number: str
    worldwide_id: str
    version: int
    status: Literal["created", "follow-up", "unchanged"]
    valid: bool
    invalid_reasons: list[str]
    serious: bool
    due: dt.date | None
    safety_concerns: list[str]


class StoredOut(Out):
    case_number: str
    worldwide_id: str
    version: int
    status: Literal["created", "follow-up", "unchanged"]


class ImportOut(Out):
    file_name: str
    imported: list[StoredOut]
    rejected: list[str]


class ExportIn(In):
    cases: list[str] | None = Field(
        default=None, max_length=1000, description="Case numbers or worldwide ids; default: every case due"
    )


class CaseListingOut(Out):
    case_number: str
    worldwide_id: str
    version: int
    received: dt.date
    valid: bool
    serious: bool
    due: dt.date | None
    safety_concerns: list[str]
    reactions: list[str]
    synthetic: bool = Field(default=False, description="Made by riskplan synth or the demo: not a real report")


class CaseVersionOut(Out):
    version: int
    recorded_at: dt.datetime
    recorded_by: str
    reason: str | None
    received: dt.date
    valid: bool
    serious: bool
    due: dt.date | None


class AuditEventOut(Out):
    at: dt.datetime
    who: str
    entity_type: str
    entity_id: str
    action: str
    field: str | None
    old_value: str | None
    new_value: str | None
    reason: str | None


class DueOut(Out):
    """A report owed to one destination (``riskplan submission due``)."""

    case_number: str
    worldwide_id: str
    version: int
    destination: str
    kind: str  # expedited | periodic
    report: str  # initial | follow-up | downgrade | nullification
    day_zero: dt.date | None
    due: dt.date | None
    days_left: int | None
    overdue: bool
    rule: str
    cites: str
    rejected: str | None = Field(description="The authority's error text when the last report was rejected")


# -- submissions -----------------------------------------------------------------------------------


class SubmissionOut(Out):
    id: int
    case_number: str
    worldwide_id: str
    version: int
    destination: str
    attempt: int
    kind: str
    report: str
    rule: str
    due: dt.date | None
    state: str
    batch: str
    message: str
    sent_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    ack: str | None = Field(description="ACK.B.r.6: AA / CA accepted; AE, AR, CR rejected")
    ack_text: str | None = Field(description="ACK.B.r.7: the authority's error text")
    late_reason: str | None


class ComplianceMonthOut(Out):
    destination: str
    month: str
    due: int
    on_time: int
    late: int
    pending: int = Field(default=0, description="Not yet acknowledged and not yet due: neither on time nor late")
    share_on_time: float | None


class LateReportOut(Out):
    case: str
    worldwide_id: str
    version: int
    destination: str
    due: dt.date
    accepted: dt.date | None
    days_late: int
    state: str
    reason: str | None


class DueSoonOut(Out):
    case: str
    version: int
    destination: str
    due: dt.date | None


class ComplianceOut(Out):
    start: dt.date = Field(serialization_alias="from")
    end: dt.date = Field(serialization_alias="to")
    as_of: dt.date
    months: list[ComplianceMonthOut]
    late: list[LateReportOut]
    due_next_7_days: list[DueSoonOut]


class AssessIn(In):
    causality: Causality
    comment: str | None = Field(default=None, max_length=5000)
    password: str = Field(min_length=1, max_length=1000, description=SIGNING_PASSWORD)


class AssessmentOut(Out):
    version: int
    causality: str
    comment: str | None
    assessed_at: dt.datetime
    assessed_by: str
    signed: str = Field(description="The electronic signature: printed name (user), meaning, UTC time")


class CausalityIn(In):
    """Causality of one suspect drug against one reaction (E2B(R3) G.k.9.i.2.r), as ``riskplan case assess
    --drug N --reaction M`` takes it."""

    drug: int | None = Field(default=None, ge=1, le=10_000, description="Drug number as the case lists it")
    reaction: int | None = Field(default=None, ge=1, le=10_000, description="Reaction number as the case lists it")
    method: str | None = Field(default=None, max_length=40, description="who-umc or naranjo")
    result: str | None = Field(
        default=None, max_length=60, description="WHO-UMC category; for Naranjo it follows from the answers"
    )
    answers: list[str] | None = Field(
        default=None, max_length=10, description="Naranjo: the ten answers (yes, no, dk) in question order"
    )
    source: str | None = Field(default=None, max_length=200, description="G.k.9.i.2.r.1 source of assessment")
    comment: str | None = Field(default=None, max_length=5000)
    password: str = Field(min_length=1, max_length=1000, description=SIGNING_PASSWORD)


class PairAssessmentOut(Out):
    id: int
    version: int = Field(description="The case version assessed")
    source: str
    method: str
    result: str
    result_text: str = Field(description="G.k.9.i.2.r.3 as written to E2B(R3)")
    naranjo_answers: list[str] | None
    naranjo_score: int | None
    comment: str | None
    assessed_at: dt.datetime
    assessed_by: str
    signed: str = Field(description="The electronic signature: printed name (user), meaning, UTC time")


class DrugReactionPairOut(Out):
    drug: int
    drug_name: str
    reaction: int
    reaction_term: str
    assessments: list[PairAssessmentOut]


class LinkIn(In):
    other: str = Field(min_length=1, max_length=200, description="Case number or worldwide id of the duplicate")
    reason: str = Field(min_length=1, max_length=2000)


# -- signals ---------------------------------------------------------------------------------------


class SignalOut(Out):
    id: str = Field(description="Signal id, e.g. SIG-2026-0001")
    title: str
    product: str | None
    event: str | None = Field(description="MedDRA PT")
    state: str
    allowed_next: list[str]
    plan_name: str | None
    concern_id: str | None
    source: str | None
    outcome: str | None
    plan_version: int | None = Field(description="The plan version the outcome produced")
    detected_on: dt.date | None
    updated_at: dt.datetime | None
    updated_by: str | None
    cases: list[str]
    signed: str | None = Field(default=None, description="The closing's electronic signature")


class SignalMoveOut(Out):
    from_state: str | None
    to_state: str
    at: dt.datetime
    who: str
    role: str | None
    reason: str
    outcome: str | None
    plan_version: int | None


class SignalDetailOut(SignalOut):
    history: list[SignalMoveOut]


class TransitionIn(In):
    to: SignalState
    reason: str = Field(min_length=1, max_length=2000, description="Why (recorded with the move)")
    outcome: SignalOutcome | None = Field(default=None, description="Only when closing (GVP IX.B.6)")
    plan: RiskManagementPlan | None = Field(
        default=None, description="The changed plan, when the outcome changes it (stored as a new plan version)"
    )
    password: str | None = Field(default=None, max_length=1000, description="When closing: " + SIGNING_PASSWORD)


class DisproportionalityOut(Out):
    source: str
    total: int
    columns: list[str]
    rows: list[dict[str, Any]]


# -- studies ---------------------------------------------------------------------------------------


class StudyOut(Out):
    id: str
    short_name: str
    title: str
    category: str
    safety_concerns: list[str]
    runnable: bool


class RunIn(In):
    cdm: str = Field(min_length=1, max_length=1000, description="CDM folder or DuckDB file under a CDM folder")
    plan: str | None = Field(default=None, max_length=80)
    pdf: bool = Field(default=False, description="Also make the PDF report (slower)")


class RunOut(Out):
    id: int
    plan_name: str
    study_id: str
    cdm_source: str
    started_at: dt.datetime
    finished_at: dt.datetime
    run_by: str
    sections: int
    formats: list[str]
