"""The facts of one ICSR a narrative may state, each read from one E2B(R3) field and formatted.

ICH E2D (R1) 6.4 and CIOMS VIII: a narrative summarises the case's own data. Nothing here is worked out
or assumed: a field that is absent gives no fact, and the templates state no sentence for it. Dates keep
their own precision (``2026``, ``2026-03``, ``2026-03-05``).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

from riskplan.cases.codes import AdditionalDrugInfo, DrugRole, ReportType, StudyType
from riskplan.cases.model import (
    DiagnosticTest,
    Dosage,
    Drug,
    Hl7Timestamp,
    Icsr,
    MeddraTerm,
    Quantity,
    Reaction,
)
from riskplan.cases.narrative_words import WORDS, unit_word

__all__ = ["REPORT_KINDS", "format_date", "narrative_facts", "report_kind"]

#: The narrative templates, one per kind of report (CIOMS VIII: the source shapes the opening).
REPORT_KINDS: Final = ("spontaneous", "study", "literature", "pregnancy")
#: Sources (G.k.9.i.2.r.1) that are the company's own assessment rather than the reporter's.
_COMPANY_SOURCES: Final = ("marketing authorisation holder", "company", "sponsor", "mah", "sender")
_REPORTER_SOURCES: Final = ("primary source", "reporter", "investigator", "physician", "health professional")


def format_date(ts: Hl7Timestamp | None) -> str | None:
    """An HL7 date at its own precision: ``2026``, ``2026-03``, ``2026-03-05``, ``2026-03-05 14:30``."""
    if ts is None:
        return None
    v = ts.value
    text = "-".join([v[:4]] + [v[i : i + 2] for i in range(4, min(len(v), 8), 2)])
    if len(v) >= 12:
        text += f" {v[8:10]}:{v[10:12]}"
    return text


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


def _quantity(q: Quantity | None, language: str) -> str | None:
    return None if q is None else f"{_number(q.value)} {unit_word(q.unit, language)}"


def _word(language: str, code_list: str, value: StrEnum | None) -> str | None:
    return None if value is None else WORDS[language][code_list][value.value]


def _term(term: MeddraTerm | None) -> str | None:
    return None if term is None else f"MedDRA {term.version} {term.code}"


def report_kind(icsr: Icsr) -> str:
    """Which narrative template fits: pregnancy (exposure in utero or via a parent), literature (C.4.r),
    study (C.1.3 = 2 or C.5), else spontaneous."""
    pregnancy = icsr.is_parent_child_report or icsr.patient.last_menstrual_period is not None
    if pregnancy or any(d.gestation_at_exposure is not None for d in icsr.drugs):
        return "pregnancy"
    if any(ref.reference for ref in icsr.literature):
        return "literature"
    if icsr.report_type is ReportType.STUDY or icsr.study is not None:
        return "study"
    return "spontaneous"


def _dosage(d: Dosage, language: str) -> dict[str, Any]:
    interval = None
    if d.period is not None:
        interval = (_number(d.period.value) + " " if d.period.value is not None else "") + unit_word(
            d.period.unit, language
        )
    return {
        "dose": None if d.dose is None else f"{_number(d.dose.value)} {d.dose.unit}",
        "interval": interval,
        "route": d.route_text or (d.route.code if d.route else None),
        "form": d.dose_form_text or (d.dose_form.code if d.dose_form else None),
        "start": format_date(d.start_date),
        "end": format_date(d.end_date),
        "duration": _quantity(d.duration, language),
        "batch": d.batch_lot,
        "text": d.text,
    }


def drug_label(drug: Drug) -> str | None:
    """The product as reported (G.k.2.2), else its substances (G.k.2.3.r.1)."""
    names = [s.name for s in drug.substances if s.name]
    if drug.name:
        return drug.name + (f" ({', '.join(names)})" if names else "")
    return ", ".join(names) or None


def _assessor(source: str | None, sender: str | None) -> str:
    low = (source or "").casefold()
    if any(word in low for word in _COMPANY_SOURCES) or (sender and low == sender.casefold()):
        return "company"
    if any(word in low for word in _REPORTER_SOURCES):
        return "reporter"
    return "other"


def _drug(drug: Drug, icsr: Icsr, language: str) -> dict[str, Any]:
    reactions = {r.id: r.label for r in icsr.reactions}
    pairs = []
    for pair in drug.reaction_assessments:
        pairs.append(
            {
                "reaction": reactions.get(pair.reaction_id),
                "assessments": [
                    {
                        "who": _assessor(a.source, icsr.sender.organisation if icsr.sender else None),
                        "source": a.source,
                        "method": a.method,
                        "result": a.result,
                    }
                    for a in pair.assessments
                    if a.result
                ],
                "time_from_start": _quantity(pair.time_from_start, language),
                "time_from_last_dose": _quantity(pair.time_from_last_dose, language),
                "recurrence": _word(language, "Recurrence", pair.recurrence),
            }
        )
    return {
        "name": drug_label(drug),
        "blinded": drug.blinded is True,
        "dosages": [_dosage(d, language) for d in drug.dosages],
        "cumulative_dose": None if drug.cumulative_dose is None else _quantity(drug.cumulative_dose, language),
        "gestation_at_exposure": _quantity(drug.gestation_at_exposure, language),
        "indications": [i.text or _term(i.meddra) for i in drug.indications if i.text or i.meddra],
        "action_taken": _word(language, "ActionTaken", drug.action_taken),
        "pairs": pairs,
        "taken_by_father": AdditionalDrugInfo.TAKEN_BY_FATHER in drug.additional_info_codes,
        "additional_info": drug.additional_info,
    }


def _reaction(r: Reaction, language: str) -> dict[str, Any]:
    verbatim = r.verbatim_term if r.verbatim_term and r.verbatim_term.casefold() != r.label.casefold() else None
    return {
        "term": r.label,
        "verbatim": verbatim,
        "start": format_date(r.start_date),
        "end": format_date(r.end_date),
        "duration": _quantity(r.duration, language),
        "criteria": [WORDS[language]["Seriousness"][c.value] for c in r.seriousness_criteria],
        "outcome": _word(language, "Outcome", r.outcome),
        "country": r.country,
    }


def _test(t: DiagnosticTest, language: str) -> dict[str, Any]:
    result = None
    if t.result is not None:
        comparator = "" if t.result.comparator.value == "=" else f"{t.result.comparator.value} "
        result = f"{comparator}{_number(t.result.value)}" + (f" {t.result.unit}" if t.result.unit else "")
    low = None if t.normal_low is None else _number(t.normal_low.value)
    high = None if t.normal_high is None else _number(t.normal_high.value)
    bound = t.normal_high or t.normal_low
    unit = bound.unit if bound is not None else None
    return {
        "name": t.name or _term(t.meddra),
        "date": format_date(t.date),
        "result": result,
        "result_code": _word(language, "TestResultCode", t.result_code),
        "result_text": t.result_text,
        "low": low,
        "high": high,
        "range_unit": unit,
        "comments": t.comments,
    }


def narrative_facts(icsr: Icsr, language: str) -> dict[str, Any]:
    """Every fact of ``icsr`` a narrative template may state, in ``language``'s words (absent: None/[])."""
    p = icsr.patient
    source = icsr.primary_source
    study = icsr.study
    death = None
    if p.death is not None:
        death = {
            "date": format_date(p.death.date),
            "causes": [c.text or _term(c.term) for c in p.death.reported_causes if c.text or c.term],
            "autopsy": p.death.autopsy_done,
            "autopsy_causes": [c.text or _term(c.term) for c in p.death.autopsy_causes if c.text or c.term],
        }
    study_type = study.study_type if study is not None else None
    return {
        "kind": report_kind(icsr),
        "received": format_date(icsr.first_received),
        "most_recent": format_date(icsr.most_recent_info),
        "qualification": _word(language, "Qualification", source.qualification) if source else None,
        "country": source.country if source else None,
        "literature": [ref.reference for ref in icsr.literature if ref.reference],
        "study": None
        if study is None
        else {
            "name": study.name,
            "number": study.sponsor_study_number,
            "registrations": [r.number for r in study.registrations if r.number],
            "clinical_trial": study_type is StudyType.CLINICAL_TRIAL,
        },
        "patient": {
            "initials": p.name,
            "age": _quantity(p.age, language),
            "sex": _word(language, "Sex", p.sex),
            "weight": None if p.weight_kg is None else _number(p.weight_kg),
            "height": None if p.height_cm is None else _number(p.height_cm),
            "lmp": format_date(p.last_menstrual_period),
            "gestation": _quantity(p.gestation_period, language),
            "history_text": p.medical_history_text,
            "history": [
                {
                    "term": _term(e.term),
                    "start": format_date(e.start_date),
                    "end": format_date(e.end_date),
                    "continuing": e.continuing,
                    "comments": e.comments,
                    "family": e.family_history is True,
                }
                for e in p.medical_history
            ],
            "past_drugs": [
                {
                    "name": d.name,
                    "start": format_date(d.start_date),
                    "end": format_date(d.end_date),
                    "reaction": _term(d.reaction),
                }
                for d in p.past_drugs
                if d.name
            ],
            "death": death,
            "parent": None
            if p.parent is None
            else {
                "age": _quantity(p.parent.age, language),
                "lmp": format_date(p.parent.last_menstrual_period),
                "history_text": p.parent.medical_history_text,
            },
        },
        "suspects": [_drug(d, icsr, language) for d in icsr.drugs if d.is_suspect and drug_label(d)],
        "concomitants": [
            _drug(d, icsr, language) for d in icsr.drugs if d.role is DrugRole.CONCOMITANT and drug_label(d)
        ],
        "reactions": [_reaction(r, language) for r in icsr.reactions],
        "tests": [_test(t, language) for t in icsr.tests if t.name or t.meddra],
        "reporter_comments": icsr.reporter_comments,
        "sender_comments": icsr.sender_comments,
    }
