"""The whole case as a reviewer reads it: one view model, rendered by ``riskplan case show`` (rich), by the
web case page (Jinja2) and printed as JSON (``--format json``).

Sections follow ICH E2B(R3): identification and reporters (C), patient with medical and drug history
(D), reactions with their coding and listedness (E), tests (F), drugs with dosage, action taken and
rechallenge (G), the narrative and comments (H); then what riskplan adds: validity (ICH E2D minimum
criteria), seriousness and the reporting clock (GVP VI.C.3), safety concerns, links, medical assessments,
versions and the audit trail. ``submission`` lists what E2B(R3) still needs before the case may be sent:
the error-level findings of the export's own business rules (:func:`riskplan.cases.e2b.check_business_rules`)
block export, the warnings are advice.

Every value is text as a person reads it (code lists by their E2B label, nullFlavors spelled out); the
view holds no database rows, so both renderers show the same thing.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from riskplan.cases.causality import case_level_assessments
from riskplan.cases.causality_view import CausalityView, causality_table
from riskplan.cases.codes import NullFlavor, Severity
from riskplan.cases.e2b import RuleViolation, check_business_rules
from riskplan.cases.hand_coding import parse_suggestions
from riskplan.cases.model import (
    DiagnosticTest,
    Dosage,
    Drug,
    Hl7Timestamp,
    Icsr,
    Measurement,
    MeddraTerm,
    Quantity,
    Reaction,
)
from riskplan.cases.reads import version_records
from riskplan.cases.store import case_history, get_case

__all__ = ["CaseView", "case_view"]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class Header(_View):
    case_number: str
    worldwide_id: str  # C.1.8.1
    sender_report_id: str  # C.1.1
    plan_name: str
    version: int
    latest_version: int
    report_type: str | None  # C.1.3
    created: str | None  # C.1.2
    first_received: str | None  # C.1.4
    most_recent_info: str | None  # C.1.5
    received: dt.date
    recorded_at: dt.datetime
    recorded_by: str
    reason: str | None
    valid: bool
    invalid_reasons: list[str]
    serious: bool
    day_zero: dt.date | None
    due: dt.date | None
    nullification: str | None  # C.1.11
    synthetic: bool = False  # made by riskplan synth or the demo: not a real report


class Reporter(_View):
    qualification: str | None  # C.2.r.4
    country: str | None  # C.2.r.3
    organisation: str | None  # C.2.r.2.1
    primary: bool  # C.2.r.5


class Patient(_View):
    initials: str | None  # D.1 (name or initials as sent; masked when the sender masked it)
    age: str | None  # D.2.2
    age_group: str | None  # D.2.3
    birth_date: str | None  # D.2.1
    sex: str | None  # D.5
    weight_kg: str | None  # D.3
    height_cm: str | None  # D.4
    last_menstrual_period: str | None  # D.6
    medical_history_text: str | None  # D.7.2
    concomitant_therapies: bool | None  # D.7.3
    death: str | None  # D.9


class HistoryEpisode(_View):
    term: str  # D.7.1.r.1 (MedDRA version and code)
    start: str | None
    end: str | None
    continuing: str | None
    comments: str | None
    family_history: bool


class PastDrug(_View):
    name: str | None
    start: str | None
    end: str | None
    indication: str | None
    reaction: str | None


class Suggestion(_View):
    term: str
    pt_name: str
    score: float


class ReactionView(_View):
    seq: int
    verbatim: str  # E.i.1.1a (E.i.1.2 translation where given)
    language: str | None  # E.i.1.1b
    llt: str | None  # E.i.2.1 LLT name, when known
    llt_code: str | None  # E.i.2.1b
    meddra_version: str | None  # E.i.2.1a
    pt: str | None
    pt_code: str | None
    soc: str | None
    coding_status: str
    coded_by_hand: bool
    terminology: str | None
    coding_note: str | None
    suggestions: list[Suggestion]
    serious: bool
    seriousness_criteria: list[str]  # E.i.3.2
    listedness: str
    start: str | None  # E.i.4
    end: str | None  # E.i.5
    duration: str | None  # E.i.6
    outcome: str | None  # E.i.7
    medically_confirmed: bool | None  # E.i.8
    country: str | None  # E.i.9


class DosageView(_View):
    dose: str | None  # G.k.4.r.1
    interval: str | None  # G.k.4.r.2/3
    route: str | None  # G.k.4.r.10
    form: str | None  # G.k.4.r.9
    start: str | None  # G.k.4.r.4
    end: str | None  # G.k.4.r.5
    duration: str | None  # G.k.4.r.6
    batch: str | None  # G.k.4.r.7
    text: str | None  # G.k.4.r.8


class RelatednessView(_View):
    reaction: str  # the reaction's number and label
    assessments: list[str]  # G.k.9.i.2.r: "source / method: result"
    time_from_start: str | None  # G.k.9.i.3.1
    time_from_last_dose: str | None  # G.k.9.i.3.2
    rechallenge: str | None  # G.k.9.i.4


class DrugView(_View):
    seq: int
    role: str | None  # G.k.1
    name: str | None  # G.k.2.2
    substances: list[str]  # G.k.2.3.r
    indications: list[str]  # G.k.7.r
    dosages: list[DosageView]
    cumulative_dose: str | None  # G.k.5
    action_taken: str | None  # G.k.8 (dechallenge: the drug withdrawn or reduced, with the reactions' outcome)
    relatedness: list[RelatednessView]
    additional_info: str | None  # G.k.11


class TestView(_View):
    __test__ = False  # not a pytest test class

    date: str | None  # F.r.1
    name: str  # F.r.2
    result: str | None  # F.r.3
    normal_range: str | None  # F.r.4 / F.r.5
    comments: str | None  # F.r.6


class Narrative(_View):
    narrative: str | None  # H.1
    reporter_comments: str | None  # H.2
    sender_diagnoses: list[str]  # H.3.r
    sender_comments: str | None  # H.4
    summaries: list[str]  # H.5.r


class Concern(_View):
    concern_id: str
    reasons: str


class Link(_View):
    kind: str
    other: str
    reason: str | None


class AssessmentView(_View):
    version: int
    causality: str
    comment: str | None
    assessed_by: str
    assessed_at: dt.datetime
    signed: str  # the electronic signature as shown (printed name, meaning, UTC time), or that there is none
    note: str | None = None  # why it is case level (not carried to one drug-reaction pair)


class VersionView(_View):
    version: int
    recorded_at: dt.datetime
    recorded_by: str
    reason: str | None
    received: dt.date
    valid: bool
    serious: bool
    due: dt.date | None


class AuditEntry(_View):
    at: dt.datetime
    who: str
    action: str
    field: str | None
    old: str | None
    new: str | None
    reason: str | None


class Finding(_View):
    element: str  # E2B data element, e.g. "C.3.1"
    path: str
    message: str


class Submission(_View):
    """What E2B(R3) export checks: ``missing`` (errors) block sending, ``advice`` (warnings) do not."""

    ready: bool
    missing: list[Finding]
    advice: list[Finding]


class CaseView(_View):
    header: Header
    reporters: list[Reporter]
    sender: str | None  # C.3
    study: str | None  # C.5
    patient: Patient
    medical_history: list[HistoryEpisode]
    past_drugs: list[PastDrug]
    reactions: list[ReactionView]
    drugs: list[DrugView]
    tests: list[TestView]
    narrative: Narrative
    concerns: list[Concern]
    links: list[Link]
    causality: list[CausalityView]  # per suspect drug and reaction (G.k.9.i.2.r)
    assessments: list[AssessmentView]  # case level, from before causality per pair
    versions: list[VersionView]
    audit: list[AuditEntry] | None  # None: not shown (the reader may not read the audit trail)
    submission: Submission

    @property
    def uncoded(self) -> list[ReactionView]:
        return [r for r in self.reactions if r.coding_status != "coded"]


# --------------------------------------------------------------------------------------------------
# Reading values as text
# --------------------------------------------------------------------------------------------------

_NULL_FLAVORS = {
    NullFlavor.NI: "no information",
    NullFlavor.UNK: "unknown",
    NullFlavor.MSK: "masked",
    NullFlavor.ASKU: "asked but unknown",
    NullFlavor.NASK: "not asked",
    NullFlavor.NA: "not applicable",
    NullFlavor.OTH: "other",
}
_UNITS = {"a": "years", "mo": "months", "wk": "weeks", "d": "days", "h": "hours", "min": "minutes", "10.a": "decades"}


def _nf(value: object, flavor: NullFlavor | None = None) -> str | None:
    if value is not None:
        return _text(value)
    if flavor is not None:
        return f"{_NULL_FLAVORS.get(flavor, flavor.value)} ({flavor.value})"
    return None


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else str(value)


def _text(value: object) -> str:
    label = getattr(value, "label", None)
    if isinstance(label, str):
        return label
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, Quantity):
        return f"{_number(value.value)} {_UNITS.get(value.unit, value.unit)}"
    if isinstance(value, Measurement):
        return _number(value.value) + (f" {value.unit}" if value.unit else "")
    if isinstance(value, MeddraTerm):
        return f"MedDRA {value.version} {value.code}"
    if isinstance(value, Hl7Timestamp):
        return _date(value)
    return str(value)


def _date(ts: Hl7Timestamp) -> str:
    """An HL7 date at its own precision: 2026, 2026-03, 2026-03-05, 2026-03-05 14:30."""
    v = ts.value
    parts = [v[:4]] + [v[i : i + 2] for i in range(4, min(len(v), 8), 2)]
    text = "-".join(parts)
    if len(v) >= 12 and v[8:10].isdigit():
        text += f" {v[8:10]}:{v[10:12]}"
    return text


def _opt(value: object) -> str | None:
    return None if value is None else _text(value)


# --------------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------------


def _patient(icsr: Icsr) -> Patient:
    p = icsr.patient
    death = None
    if p.death is not None:
        causes = [c.text or _text(c.term) for c in p.death.reported_causes if c.text or c.term]
        parts = [f"died {_nf(p.death.date, p.death.date_null_flavor) or 'date not given'}"]
        if causes:
            parts.append("reported cause: " + "; ".join(causes))
        if p.death.autopsy_done is not None:
            parts.append("autopsy done" if p.death.autopsy_done else "no autopsy")
        death = ", ".join(parts)
    return Patient(
        initials=_nf(p.name, p.name_null_flavor),
        age=_opt(p.age),
        age_group=_nf(p.age_group, p.age_group_null_flavor),
        birth_date=_nf(p.birth_date, p.birth_date_null_flavor),
        sex=_nf(p.sex, p.sex_null_flavor),
        weight_kg=_opt(p.weight_kg),
        height_cm=_opt(p.height_cm),
        last_menstrual_period=_nf(p.last_menstrual_period, p.last_menstrual_period_null_flavor),
        medical_history_text=_nf(p.medical_history_text, p.medical_history_text_null_flavor),
        concomitant_therapies=p.concomitant_therapies,
        death=death,
    )


def _reaction(seq: int, r: Reaction, row: dict[str, object]) -> ReactionView:
    verbatim = r.verbatim_term or r.verbatim_term_english or ""
    if r.verbatim_term and r.verbatim_term_english and r.verbatim_term_english != r.verbatim_term:
        verbatim = f"{r.verbatim_term} (in English: {r.verbatim_term_english})"
    stored = row.get("coding_suggestions")
    return ReactionView(
        seq=seq,
        verbatim=verbatim or str(row.get("verbatim") or ""),
        language=r.verbatim_language,
        llt=r.llt_name,
        llt_code=r.meddra.code if r.meddra else None,
        meddra_version=r.meddra.version if r.meddra else None,
        pt=_opt(row.get("pt_name")),
        pt_code=_opt(row.get("pt_code")) or r.pt_code,
        soc=_opt(row.get("soc_name")),
        coding_status=str(row.get("coding_status") or "not coded"),
        coded_by_hand=r.coded_by_hand,
        terminology=_opt(row.get("terminology")),
        coding_note=_opt(row.get("coding_note")),
        suggestions=[
            Suggestion(term=t, pt_name=p, score=s)
            for t, p, s in parse_suggestions(stored if isinstance(stored, str) else None)
        ],
        serious=bool(row.get("serious")),
        seriousness_criteria=[c.value for c in r.seriousness_criteria],
        listedness=str(row.get("listedness") or ""),
        start=_nf(r.start_date, r.start_date_null_flavor),
        end=_nf(r.end_date, r.end_date_null_flavor),
        duration=_opt(r.duration),
        outcome=_opt(r.outcome),
        medically_confirmed=r.medical_confirmation,
        country=r.country,
    )


def _dosage(d: Dosage) -> DosageView:
    interval = None
    if d.period is not None:
        unit = _UNITS.get(d.period.unit, d.period.unit)
        interval = f"every {_number(d.period.value)} {unit}" if d.period.value is not None else unit
    return DosageView(
        dose=_opt(d.dose),
        interval=interval,
        route=_nf(d.route_text, d.route_text_null_flavor) or (d.route.code if d.route else None),
        form=_nf(d.dose_form_text, d.dose_form_text_null_flavor) or (d.dose_form.code if d.dose_form else None),
        start=_nf(d.start_date, d.start_date_null_flavor),
        end=_nf(d.end_date, d.end_date_null_flavor),
        duration=_opt(d.duration),
        batch=d.batch_lot,
        text=d.text,
    )


def _drug(seq: int, d: Drug, icsr: Icsr) -> DrugView:
    numbers = {r.id: (i, r.label) for i, r in enumerate(icsr.reactions, start=1)}
    relatedness = []
    for pair in d.reaction_assessments:
        number, label = numbers.get(pair.reaction_id, (0, pair.reaction_id))
        relatedness.append(
            RelatednessView(
                reaction=f"{number} {label}" if number else label,
                assessments=[
                    " / ".join(x for x in (a.source, a.method) if x) + f": {a.result or '-'}" for a in pair.assessments
                ],
                time_from_start=_opt(pair.time_from_start),
                time_from_last_dose=_opt(pair.time_from_last_dose),
                rechallenge=_opt(pair.recurrence),
            )
        )
    return DrugView(
        seq=seq,
        role=_opt(d.role),
        name=d.name,
        substances=[
            (s.name or (s.term_id.code if s.term_id else "?")) + (f" {_text(s.strength)}" if s.strength else "")
            for s in d.substances
        ],
        indications=[i.text or _nf(None, i.text_null_flavor) or _text(i.meddra) for i in d.indications],
        dosages=[_dosage(x) for x in d.dosages],
        cumulative_dose=_opt(d.cumulative_dose),
        action_taken=_opt(d.action_taken),
        relatedness=relatedness,
        additional_info=d.additional_info,
    )


def _test(t: DiagnosticTest) -> TestView:
    result = None
    if t.result is not None:
        comparator = "" if t.result.comparator.value == "=" else f"{t.result.comparator.value} "
        result = f"{comparator}{_number(t.result.value)}" + (f" {t.result.unit}" if t.result.unit else "")
    result = " · ".join(x for x in (result, _opt(t.result_code), t.result_text) if x) or None
    low, high = _opt(t.normal_low), _opt(t.normal_high)
    normal = f"{low or ''} – {high or ''}" if low or high else None
    return TestView(
        date=_nf(t.date, t.date_null_flavor),
        name=t.name or (_text(t.meddra) if t.meddra else "?"),
        result=result,
        normal_range=normal,
        comments=t.comments,
    )


def _study(icsr: Icsr) -> str | None:
    s = icsr.study
    if s is None:
        return None
    parts = [s.name, s.sponsor_study_number, _opt(s.study_type)]
    parts += [r.number for r in s.registrations if r.number]
    return " · ".join(p for p in parts if p) or None


#: Audit values longer than this (a document's base64 content, a whole narrative) are shown by their start,
#: with the number of characters left out said plainly; `riskplan case history` and the API keep them whole.
AUDIT_VALUE_SHOWN = 300


def _audit_value(value: str | None) -> str | None:
    """An audit value as stored (JSON) made readable: a JSON string loses its quotes."""
    if value is None:
        return None
    try:
        loaded = json.loads(value)
    except ValueError:
        loaded = value
    text = loaded if isinstance(loaded, str) else value
    if len(text) > AUDIT_VALUE_SHOWN:
        return f"{text[:AUDIT_VALUE_SHOWN]} [… {len(text) - AUDIT_VALUE_SHOWN:,} more characters]"
    return text


def case_view(session: Session, ref: str, version: int | None = None, *, with_audit: bool = True) -> CaseView:
    """The case ``ref`` (riskplan number or worldwide case id), at ``version`` (default: latest), whole."""
    c = get_case(session, ref, version)
    i = c.icsr
    findings = check_business_rules(i)

    def finding(f: RuleViolation) -> Finding:
        return Finding(element=f.element, path=f.path, message=f.message)

    missing = [finding(f) for f in findings if f.severity is Severity.ERROR]
    advice = [finding(f) for f in findings if f.severity is not Severity.ERROR]
    sender = None
    if i.sender is not None:
        sender = " · ".join(x for x in (_opt(i.sender.sender_type), i.sender.organisation, i.sender.country) if x)
    return CaseView(
        header=Header(
            case_number=c.case_number,
            worldwide_id=c.worldwide_id,
            sender_report_id=i.sender_report_id,
            plan_name=c.plan_name,
            version=c.version,
            latest_version=c.latest_version,
            report_type=_opt(i.report_type),
            created=_opt(i.created),
            first_received=_opt(i.first_received),
            most_recent_info=_opt(i.most_recent_info),
            received=c.received,
            recorded_at=c.recorded_at,
            recorded_by=c.recorded_by,
            reason=c.reason,
            valid=c.valid,
            invalid_reasons=list(c.invalid_reasons),
            serious=c.serious,
            day_zero=c.day_zero,
            due=c.due,
            nullification=(f"{_text(i.nullification)}: {i.nullification_reason or ''}" if i.nullification else None),
            synthetic=c.synthetic,
        ),
        reporters=[
            Reporter(
                qualification=_nf(s.qualification, s.qualification_null_flavor),
                country=_nf(s.country, s.country_null_flavor),
                organisation=_nf(s.organisation, s.organisation_null_flavor),
                primary=s.primary_for_regulatory_purposes,
            )
            for s in i.primary_sources
        ],
        sender=sender or None,
        study=_study(i),
        patient=_patient(i),
        medical_history=[
            HistoryEpisode(
                term=_text(e.term),
                start=_nf(e.start_date, e.start_date_null_flavor),
                end=_nf(e.end_date, e.end_date_null_flavor),
                continuing=_nf(
                    None if e.continuing is None else ("yes" if e.continuing else "no"), e.continuing_null_flavor
                ),
                comments=e.comments,
                family_history=bool(e.family_history),
            )
            for e in i.patient.medical_history
        ],
        past_drugs=[
            PastDrug(
                name=_nf(d.name, d.name_null_flavor),
                start=_nf(d.start_date, d.start_date_null_flavor),
                end=_nf(d.end_date, d.end_date_null_flavor),
                indication=_opt(d.indication),
                reaction=_opt(d.reaction),
            )
            for d in i.patient.past_drugs
        ],
        reactions=[
            _reaction(n, r, c.reactions[n - 1] if n <= len(c.reactions) else {})
            for n, r in enumerate(i.reactions, start=1)
        ],
        drugs=[_drug(n, d, i) for n, d in enumerate(i.drugs, start=1)],
        tests=[_test(t) for t in i.tests],
        narrative=Narrative(
            narrative=i.narrative,
            reporter_comments=i.reporter_comments,
            sender_diagnoses=[_text(t) for t in i.sender_diagnoses],
            sender_comments=i.sender_comments,
            summaries=[s.text + (f" ({s.language})" if s.language else "") for s in i.case_summaries],
        ),
        concerns=[Concern(concern_id=k, reasons=v) for k, v in c.concerns],
        links=[Link(kind=k, other=o, reason=w) for k, o, w in c.links],
        causality=causality_table(session, c.case_id, c.version, i),
        assessments=[
            AssessmentView(
                version=a.version,
                causality=a.causality,
                comment=a.comment,
                assessed_by=a.assessed_by,
                assessed_at=a.assessed_at,
                signed=a.signed,
                note=level.note,
            )
            for level in case_level_assessments(session, c.case_id)
            for a in (level.assessment,)
        ],
        versions=[
            VersionView(
                version=v.version,
                recorded_at=v.recorded_at,
                recorded_by=v.recorded_by,
                reason=v.reason,
                received=v.received,
                valid=v.valid,
                serious=v.serious,
                due=v.due,
            )
            for v in version_records(session, c.case_id)
        ],
        audit=[
            AuditEntry(
                at=e.at,
                who=e.who,
                action=e.action,
                field=e.field,
                old=_audit_value(e.old_value),
                new=_audit_value(e.new_value),
                reason=e.reason,
            )
            for e in case_history(session, c.case_number)
        ]
        if with_audit
        else None,
        submission=Submission(ready=not missing, missing=missing, advice=advice),
    )
