"""Tables owned by ``cases/``.

A case (``icsr_case``) is a stable identity with a pointer to its latest version; every version
(``icsr_case_version``) holds the full ICSR as received or amended and is never changed. The reaction,
drug and concern rows are projections of one version, kept for counting and tabulation. Links between
cases (confirmed duplicates), submissions and medical assessments are only ever added.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from riskplan.store import Base


class CaseRow(Base):
    __tablename__ = "icsr_case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    worldwide_id: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)  # C.1.8.1
    plan_name: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    latest_version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    # Made by riskplan synth / the demo, not a real report: never counted or sent as one (cases_0003).
    synthetic: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false(), index=True)
    # The user the case is assigned to (a web_user name, checked when assigned); None: nobody (cases_0007).
    assigned_to: Mapped[str | None] = mapped_column(String(100), index=True)


class CaseVersionRow(Base):
    __tablename__ = "icsr_case_version"
    __table_args__ = (UniqueConstraint("case_id", "version", name="uq_icsr_case_version_case_id_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("icsr_case.id"), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    icsr_json: Mapped[str] = mapped_column(Text, nullable=False)
    sender_report_id: Mapped[str | None] = mapped_column(String(200))  # C.1.1
    first_received: Mapped[dt.date | None] = mapped_column(Date)  # C.1.4
    received: Mapped[dt.date] = mapped_column(Date, nullable=False)  # C.1.5
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    valid: Mapped[bool] = mapped_column(Boolean, nullable=False)
    invalid_reasons: Mapped[str | None] = mapped_column(Text)
    serious: Mapped[bool] = mapped_column(Boolean, nullable=False)
    plan_version: Mapped[int | None] = mapped_column(Integer)
    day_zero: Mapped[dt.date | None] = mapped_column(Date)
    due: Mapped[dt.date | None] = mapped_column(Date)
    clock_version: Mapped[int | None] = mapped_column(Integer)
    age_years: Mapped[float | None] = mapped_column(Float)
    sex: Mapped[str | None] = mapped_column(String(10))
    country: Mapped[str | None] = mapped_column(String(10))
    # The MedDRA release the version's coding used (E.i.2.1a; None: open term list or nothing coded);
    # a report reproduces an earlier data lock point with the release it used (cases_0012).
    meddra_version: Mapped[str | None] = mapped_column(String(20))
    # What the reporting rules read of the ICSR (cases.rule_facts; cases_0013): None only for a version written
    # outside the store (the rules then read its ICSR).
    occurrence_country: Mapped[str | None] = mapped_column(String(10))  # E.i.9, else C.2.r.3, else C.3.4.5
    report_source: Mapped[str | None] = mapped_column(String(20))  # C.4.r literature, else from C.1.3
    nullified: Mapped[bool | None] = mapped_column(Boolean)  # C.1.11.1 = 1
    rule_reactions: Mapped[str | None] = mapped_column(Text)  # JSON [[PT, verbatim, serious], ...]


class CaseReactionRow(Base):
    __tablename__ = "icsr_reaction"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_version_id: Mapped[int] = mapped_column(ForeignKey("icsr_case_version.id"), nullable=False, index=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    verbatim: Mapped[str] = mapped_column(Text, nullable=False)
    llt_code: Mapped[str | None] = mapped_column(String(20))
    pt_code: Mapped[str | None] = mapped_column(String(20))
    pt_name: Mapped[str | None] = mapped_column(String(200), index=True)
    soc_name: Mapped[str | None] = mapped_column(String(200))
    coding_status: Mapped[str] = mapped_column(String(20), nullable=False)
    terminology: Mapped[str | None] = mapped_column(String(80))
    coding_note: Mapped[str | None] = mapped_column(Text)  # fuzzy suggestions for an uncoded verbatim
    coding_suggestions: Mapped[str | None] = mapped_column(Text)  # the same as JSON: [{term, pt_name, score}]
    serious: Mapped[bool] = mapped_column(Boolean, nullable=False)
    seriousness_criteria: Mapped[str | None] = mapped_column(String(200))
    listedness: Mapped[str] = mapped_column(String(20), nullable=False)
    onset: Mapped[dt.date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(40))


class CaseDrugRow(Base):
    __tablename__ = "icsr_drug"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_version_id: Mapped[int] = mapped_column(ForeignKey("icsr_case_version.id"), nullable=False, index=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    characterisation: Mapped[str] = mapped_column(String(20), nullable=False)
    product: Mapped[str | None] = mapped_column(String(300))
    substances: Mapped[str | None] = mapped_column(Text)  # "; "-joined, case as given
    # G.k.2.1.1b/a: the product identifier and its version (WHODrug MPID or drug code and release when coded)
    product_code: Mapped[str | None] = mapped_column(String(60))
    product_code_version: Mapped[str | None] = mapped_column(String(60))


class CaseConcernRow(Base):
    __tablename__ = "icsr_case_concern"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_version_id: Mapped[int] = mapped_column(ForeignKey("icsr_case_version.id"), nullable=False, index=True)
    concern_id: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    reasons: Mapped[str] = mapped_column(Text, nullable=False)


class CaseLinkRow(Base):
    """A confirmed relation between two cases (e.g. duplicates); both cases are kept."""

    __tablename__ = "icsr_case_link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("icsr_case.id"), nullable=False, index=True)
    other_case_id: Mapped[int] = mapped_column(ForeignKey("icsr_case.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    score: Mapped[float | None] = mapped_column(Float)
    linked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    linked_by: Mapped[str] = mapped_column(String(200), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)


class SubmissionRow(Base):
    """Retired, read-only: a version written to an E2B(R3) file by ``case export`` before submissions/.

    What each authority is owed and what was sent to it are now ``submissions/``' records; revision
    ``submissions_0003`` copied these rows there as manual submissions to EU. Nothing writes this table
    any more; it is kept so that no history is lost.
    """

    __tablename__ = "icsr_submission"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_version_id: Mapped[int] = mapped_column(ForeignKey("icsr_case_version.id"), nullable=False, index=True)
    batch_id: Mapped[str] = mapped_column(String(100), nullable=False)
    file_name: Mapped[str] = mapped_column(Text, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    submitted_by: Mapped[str] = mapped_column(String(200), nullable=False)


class CaseAssessmentRow(Base):
    """A safety physician's medical assessment of one version of a case (WHO-UMC causality, comment).

    ``assessed_by`` is the user name as given, not a reference to another folder's table.
    """

    __tablename__ = "case_assessment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("icsr_case.id"), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    causality: Mapped[str] = mapped_column(String(30), nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    assessed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    assessed_by: Mapped[str] = mapped_column(String(200), nullable=False)


class CaseDraftRow(Base):
    """A case being entered on the web intake form, saved before it is complete (cases_0006).

    A draft is never a case: it is not in the case list, the due lists, PSURs or signal data until it is
    submitted, when ``case_id`` points at the case it became. ``values_json`` is what the form held, as
    typed (the draft need not be valid). Drafts are only ever updated through
    :mod:`riskplan.cases.drafts`, which records every change in the audit trail.
    """

    __tablename__ = "case_draft"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False, index=True)  # open | submitted | discarded
    worldwide_id: Mapped[str | None] = mapped_column(String(200))  # C.1.8.1 as typed so far
    summary: Mapped[str | None] = mapped_column(Text)  # first reaction and suspect drug, for the list
    values_json: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_by: Mapped[str] = mapped_column(String(200), nullable=False)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("icsr_case.id"))


class CausalityRow(Base):
    """A causality assessment of one suspect or interacting drug against one reaction of a case version
    (ICH E2B(R3) G.k.9.i.2.r: source, method, result), by WHO-UMC or Naranjo; only ever added.

    The drug and reaction are kept by their E2B ids (G.k, E.i, which G.k.9.i.1 refers to), their numbers
    in the assessed version and their names as shown then. ``case_assessment_id`` is set on an assessment
    carried from a case-level one by revision cases_0005 (whose signature then stays that record's).
    """

    __tablename__ = "case_causality"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("icsr_case.id"), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    drug_seq: Mapped[int] = mapped_column(Integer, nullable=False)
    drug_uid: Mapped[str] = mapped_column(String(200), nullable=False)
    drug_name: Mapped[str] = mapped_column(Text, nullable=False)
    reaction_seq: Mapped[int] = mapped_column(Integer, nullable=False)
    reaction_uid: Mapped[str] = mapped_column(String(200), nullable=False)
    reaction_term: Mapped[str] = mapped_column(Text, nullable=False)
    source: Mapped[str] = mapped_column(String(200), nullable=False)  # G.k.9.i.2.r.1
    method: Mapped[str] = mapped_column(String(30), nullable=False)  # G.k.9.i.2.r.2
    result: Mapped[str] = mapped_column(String(30), nullable=False)  # G.k.9.i.2.r.3 (the category)
    naranjo_answers: Mapped[str | None] = mapped_column(String(60))  # ten of yes/no/dk, comma-separated
    naranjo_score: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    assessed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    assessed_by: Mapped[str] = mapped_column(String(200), nullable=False)
    case_assessment_id: Mapped[int | None] = mapped_column(ForeignKey("case_assessment.id"))


class CaseNarrativeRow(Base):
    """One revision of a case's narrative (ICH E2B(R3) H.1) in one language (cases_0010); only ever added.

    ``kind`` says how the revision came about: ``drafted`` from the structured data, ``edited`` by the
    processor (with the reason), or ``follow-up`` (the previous text with a dated paragraph appended for a
    newer case version). ``case_version`` is the case version the text covers. The current narrative is
    the highest revision; every revision is also in the audit trail (entity ``case``).
    """

    __tablename__ = "case_narrative"
    __table_args__ = (
        UniqueConstraint("case_id", "language", "revision", name="uq_case_narrative_case_id_language_revision"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("icsr_case.id"), nullable=False, index=True)
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    case_version: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # drafted | edited | follow-up
    text: Mapped[str] = mapped_column(Text, nullable=False)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
