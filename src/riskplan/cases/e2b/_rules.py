"""E2B(R3) business rules beyond the schema: what a case must satisfy before it may be sent.

Sources: the ICH E2B(R3) Implementation Guide v5.02 (conformance of each data element, section 3)
and FDA's ICSR business-rule and rejection sheets (``shared/standards/e2b_r3/reference``). Error-level
findings block export; warnings are advice for the case processor.

The generic checks walk the whole case: every ``*_null_flavor`` against the nullFlavors its element
allows (``codes.ALLOWED_NULL_FLAVORS``), every free text against its maximum length
(``codes.MAX_LENGTHS``), every date against today. The element number of a field is the first word
of its description in :mod:`riskplan.cases.model`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Final

from pydantic import BaseModel

from riskplan.cases.codes import (
    AGE_UNITS,
    ALLOWED_NULL_FLAVORS,
    DURATION_UNITS,
    GESTATION_UNITS,
    INTERVAL_UNITS,
    MAX_LENGTHS,
    PARENT_AGE_UNITS,
    DrugRole,
    ReportType,
    SenderType,
    Severity,
)
from riskplan.cases.e2b._base import RuleViolation
from riskplan.cases.extract import age_in_years
from riskplan.cases.model import (
    NULL_FLAVOR_SUFFIX,
    Drug,
    Hl7Timestamp,
    Icsr,
    MeddraTerm,
    Quantity,
    Reaction,
    TimestampPrecision,
)
from riskplan.store import utcnow

__all__ = ["MAX_AGE_YEARS", "check_business_rules", "intake_refusals"]

#: No patient or parent is older than this (D.2.2a / D.10.2.2a converted to years with their unit).
MAX_AGE_YEARS: Final = 150

_ELEMENT_RE = re.compile(r"^((?:FDA\.)?[A-HN]\.[0-9A-Za-z.]*[0-9A-Za-z])")
_SERIOUSNESS_ELEMENTS = {
    "results_in_death": "E.i.3.2a",
    "life_threatening": "E.i.3.2b",
    "hospitalisation": "E.i.3.2c",
    "disabling": "E.i.3.2d",
    "congenital_anomaly": "E.i.3.2e",
    "other_medically_important": "E.i.3.2f",
}

Found = list[RuleViolation]


def check_business_rules(icsr: Icsr, *, today: dt.date | None = None) -> list[RuleViolation]:
    """Every E2B(R3) business-rule finding for ``icsr``, errors and warnings, in report order."""
    found: Found = []
    _generic(icsr, "", found, today or utcnow().date())
    _identification(icsr, found)
    _primary_sources(icsr, found)
    _sender_and_study(icsr, found)
    _patient(icsr, found)
    _ages(icsr, found)
    _reactions(icsr, found)
    _tests(icsr, found)
    _drugs(icsr, found)
    _narrative(icsr, found)
    _meddra_versions(icsr, found)
    return found


def intake_refusals(icsr: Icsr, *, today: dt.date) -> list[RuleViolation]:
    """What no stored case may carry, whatever its source (E2B import, case file, web form).

    Dates after ``today`` (C.1.2, C.1.4, C.1.5, E.i.4/E.i.5, G.k.4.r.4/5, D.2.1 and every other date:
    information cannot be received, nor an event happen, in the future) and ages that cannot be a
    person's (D.2.2a / D.10.2.2a negative, or more than :data:`MAX_AGE_YEARS` years in their unit).
    ``today`` is the date the reporting clocks count from (UTC; callers pass their clock's date).
    """
    found: Found = []
    for element, path, value in _dates(icsr, ""):
        if _in_future(value, today):
            _error(found, element, path, _future_message(value, today))
    _ages(icsr, found)
    return found


def _error(found: Found, element: str, path: str, message: str) -> None:
    found.append(RuleViolation(element, path, message, Severity.ERROR))


def _warn(found: Found, element: str, path: str, message: str) -> None:
    found.append(RuleViolation(element, path, message, Severity.WARNING))


# --------------------------------------------------------------------------------------------------
# Generic walk: nullFlavors, lengths, dates in the future
# --------------------------------------------------------------------------------------------------


def element_of(model: type[BaseModel], field: str, path: str = "") -> str | None:
    """The E2B element number a model field carries (D.7 / D.8 become D.10.7 / D.10.8 under a parent)."""
    info = model.model_fields.get(field)
    match = _ELEMENT_RE.match(info.description or "") if info else None
    if match is None:
        return None
    element = match.group(1)
    if ".parent." in f".{path}" and (element.startswith("D.7.") or element.startswith("D.8.")):
        element = "D.10." + element[2:]
    return element


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _generic(model: BaseModel, path: str, found: Found, today: dt.date) -> None:
    cls = type(model)
    for name in cls.model_fields:
        value = getattr(model, name)
        here = _join(path, name)
        element = element_of(cls, name, path) or "?"
        if isinstance(value, BaseModel):
            _generic(value, here, found, today)
        elif isinstance(value, tuple):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    _generic(item, f"{here}[{index}]", found, today)
                else:
                    _scalar(element, f"{here}[{index}]", item, found, today)
        elif name.endswith(NULL_FLAVOR_SUFFIX) and value is not None:
            allowed = ALLOWED_NULL_FLAVORS.get(element, frozenset())
            if value not in allowed:
                names = ", ".join(sorted(flavor.value for flavor in allowed)) or "none"
                _error(found, element, here, f"nullFlavor {value.value} is not allowed here (allowed: {names})")
        else:
            _scalar(element, here, value, found, today)


def _dates(model: BaseModel, path: str) -> Iterator[tuple[str, str, Hl7Timestamp]]:
    """Every date in ``model`` with its element number and path."""
    cls = type(model)
    for name in cls.model_fields:
        value = getattr(model, name)
        if value is None or isinstance(value, str | bool | int):  # most fields: nothing to walk (checked per request)
            continue
        here = _join(path, name)
        if isinstance(value, tuple):
            for index, item in enumerate(value):
                where = f"{here}[{index}]"
                if isinstance(item, BaseModel):
                    yield from _dates(item, where)
                elif isinstance(item, Hl7Timestamp):
                    yield element_of(cls, name, path) or "?", where, item
        elif isinstance(value, BaseModel):
            yield from _dates(value, here)
        elif isinstance(value, Hl7Timestamp):
            yield element_of(cls, name, path) or "?", here, value


def _utc_date(value: Hl7Timestamp) -> dt.date:
    """The first day ``value`` can mean; a time with a zone offset is moved to UTC first."""
    if not value.has_time_zone:
        return value.earliest_date()
    text = value.value
    cut = max(text.rfind("+"), text.rfind("-"))
    digits, zone = text[:cut].split(".")[0], text[cut:]
    local = dt.datetime.strptime(digits.ljust(14, "0"), "%Y%m%d%H%M%S")
    offset = dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
    return (local - offset if zone[0] == "+" else local + offset).date()


def _in_future(value: Hl7Timestamp, today: dt.date) -> bool:
    return _utc_date(value) > today


def _future_message(value: Hl7Timestamp, today: dt.date) -> str:
    return f"date {value} is after today ({today.isoformat()}, UTC)"


def _scalar(element: str, path: str, value: object, found: Found, today: dt.date) -> None:
    if isinstance(value, Hl7Timestamp) and _in_future(value, today):
        _error(found, element, path, _future_message(value, today))
    elif isinstance(value, str) and element in MAX_LENGTHS and len(value) > MAX_LENGTHS[element]:
        _error(found, element, path, f"{len(value)} characters, more than the {MAX_LENGTHS[element]} allowed")


# --------------------------------------------------------------------------------------------------
# C.1 identification, C.2 primary sources, C.3 sender, C.5 study
# --------------------------------------------------------------------------------------------------


def _required(found: Found, element: str, path: str, value: object, what: str) -> None:
    if value is None or value == "":
        _error(found, element, path, f"{what} is required")


_PRECISION_ORDER = list(TimestampPrecision)


def _precision(found: Found, element: str, path: str, value: Hl7Timestamp | None, least: TimestampPrecision) -> None:
    if value is not None and _PRECISION_ORDER.index(value.precision) < _PRECISION_ORDER.index(least):
        _error(found, element, path, f"{value} is not precise enough: at least the {least.value} is required")


def _identification(icsr: Icsr, found: Found) -> None:
    _required(found, "C.1.1", "sender_report_id", icsr.sender_report_id, "the sender's safety report unique identifier")
    _required(found, "C.1.2", "created", icsr.created, "the date of creation")
    _required(found, "C.1.3", "report_type", icsr.report_type, "the type of report")
    _required(found, "C.1.4", "first_received", icsr.first_received, "the date the report was first received")
    _required(found, "C.1.5", "most_recent_info", icsr.most_recent_info, "the date of most recent information")
    _required(found, "C.1.8.1", "worldwide_case_id", icsr.worldwide_case_id, "the worldwide unique case number")
    _precision(found, "C.1.2", "created", icsr.created, TimestampPrecision.SECOND)
    _precision(found, "C.1.4", "first_received", icsr.first_received, TimestampPrecision.DAY)
    _precision(found, "C.1.5", "most_recent_info", icsr.most_recent_info, TimestampPrecision.DAY)
    received, recent = icsr.first_received, icsr.most_recent_info
    if received and recent and recent.latest_date() < received.earliest_date():
        _error(
            found,
            "C.1.5",
            "most_recent_info",
            f"the most recent information ({recent}) is dated before the report was first received ({received}, C.1.4)",
        )
    if icsr.local_expedited is None and icsr.local_expedited_null_flavor is None:
        _warn(found, "C.1.7", "local_expedited", "say whether the case fulfils the local expedited criteria")
    if icsr.first_sender is None:
        _warn(found, "C.1.8.2", "first_sender", "the first sender of this case is required by ICH")
    if icsr.additional_documents and not icsr.documents_held:
        _error(found, "C.1.6.1.r.1", "documents_held", "additional documents are flagged, name at least one")
    if icsr.other_case_ids_flag is False:
        _error(found, "C.1.9.1", "other_case_ids_flag", "may only be true or absent (nullFlavor NI)")
    if icsr.other_case_ids_flag and not icsr.other_case_ids:
        _error(found, "C.1.9.1.r", "other_case_ids", "other case identifiers are flagged, give at least one")
    if icsr.other_case_ids and not icsr.other_case_ids_flag:
        _warn(found, "C.1.9.1", "other_case_ids_flag", "other case identifiers are listed; set C.1.9.1 to true")
    if icsr.nullification is not None and icsr.nullification_reason is None:
        _error(found, "C.1.11.2", "nullification_reason", "a nullification / amendment needs its reason")


def _primary_sources(icsr: Icsr, found: Found) -> None:
    if not icsr.primary_sources:
        _error(found, "C.2.r", "primary_sources", "at least one primary source (reporter) is required")
        return
    primary = [i for i, s in enumerate(icsr.primary_sources) if s.primary_for_regulatory_purposes]
    if len(primary) != 1:
        _error(
            found,
            "C.2.r.5",
            "primary_sources",
            f"exactly one primary source must be flagged for regulatory purposes ({len(primary)} are)",
        )
    for index in primary:
        source = icsr.primary_sources[index]
        path = f"primary_sources[{index}]"
        if source.qualification is None and source.qualification_null_flavor is None:
            _error(found, "C.2.r.4", f"{path}.qualification", "the primary source's qualification (or UNK) is required")
        if source.country is None and source.country_null_flavor is None:
            _error(found, "C.2.r.3", f"{path}.country", "the primary source's country is required")
    for index, source in enumerate(icsr.primary_sources):
        if source.country and not source.country.isupper():
            _warn(found, "C.2.r.3", f"primary_sources[{index}].country", "country codes are upper case (ISO 3166)")


def _sender_and_study(icsr: Icsr, found: Found) -> None:
    sender = icsr.sender
    if sender is None or sender.sender_type is None:
        _error(found, "C.3.1", "sender.sender_type", "the sender type is required")
    elif sender.sender_type is not SenderType.PATIENT_CONSUMER and sender.organisation is None:
        _error(found, "C.3.2", "sender.organisation", "the sender's organisation is required (sender is not a patient)")
    study_type = icsr.study.study_type if icsr.study else None
    if icsr.report_type is ReportType.STUDY and study_type is None:
        _error(found, "C.5.4", "study.study_type", "a report from a study needs the study type")


# --------------------------------------------------------------------------------------------------
# D patient
# --------------------------------------------------------------------------------------------------


def _unit(found: Found, element: str, path: str, quantity: Quantity | None, allowed: frozenset[str]) -> None:
    if quantity is not None and quantity.unit not in allowed:
        _error(found, element, path, f"unit {quantity.unit!r} is not in the code list ({', '.join(sorted(allowed))})")


def _patient(icsr: Icsr, found: Found) -> None:
    p = icsr.patient
    if p.name is None and p.name_null_flavor is None:
        _error(found, "D.1", "patient.name", "the patient's name or initials (or a nullFlavor) are required")
    _unit(found, "D.2.2b", "patient.age.unit", p.age, AGE_UNITS)
    _unit(found, "D.2.2.1b", "patient.gestation_period.unit", p.gestation_period, GESTATION_UNITS)
    if not p.medical_history and p.medical_history_text is None and p.medical_history_text_null_flavor is None:
        _warn(found, "D.7.2", "patient.medical_history_text", "give the medical history, or say it is unknown")
    if p.concomitant_therapies is False:
        _warn(found, "D.7.3", "patient.concomitant_therapies", "may only be true or absent")
    for index, episode in enumerate(p.medical_history):
        if episode.family_history is False:
            _warn(found, "D.7.1.r.6", f"patient.medical_history[{index}].family_history", "may only be true or absent")
        _not_before(
            found, "D.7.1.r.4", f"patient.medical_history[{index}].end_date", episode.start_date, episode.end_date
        )
    death = p.death
    if death and death.date and death.autopsy_done is None and death.autopsy_done_null_flavor is None:
        _warn(found, "D.9.3", "patient.death.autopsy_done", "say whether an autopsy was done")
    if p.parent is not None:
        if not icsr.is_parent_child_report:
            _error(
                found,
                "D.10",
                "patient.parent",
                "parent information belongs only in a parent-child / foetus report (no gestation period, "
                "foetus / neonate / infant age group, or drug taken by the father is recorded)",
            )
        if p.parent.sex is None and p.parent.sex_null_flavor is None:
            _error(found, "D.10.6", "patient.parent.sex", "the parent's sex is required with any parent information")
        _unit(found, "D.10.2.2b", "patient.parent.age.unit", p.parent.age, PARENT_AGE_UNITS)


def _ages(icsr: Icsr, found: Found) -> None:
    """D.2.2a (age at onset) and D.10.2.2a (parent's age): not negative, not beyond a human life."""
    ages = [("D.2.2a", "patient.age", icsr.patient.age)]
    if icsr.patient.parent is not None:
        ages.append(("D.10.2.2a", "patient.parent.age", icsr.patient.parent.age))
    for element, path, age in ages:
        if age is None:
            continue
        if age.value < 0:
            _error(found, element, path, f"the age {age.value} {age.unit} is negative")
            continue
        years = age_in_years(age)
        if years is not None and years > MAX_AGE_YEARS:
            _error(
                found,
                element,
                path,
                f"the age {age.value} {age.unit} is {years:g} years, more than the {MAX_AGE_YEARS} a person can be",
            )


def _not_before(found: Found, element: str, path: str, start: Hl7Timestamp | None, end: Hl7Timestamp | None) -> None:
    if start is not None and end is not None and end.latest_date() < start.earliest_date():
        _error(found, element, path, f"ends ({end}) before it starts ({start})")


# --------------------------------------------------------------------------------------------------
# E reactions, F tests
# --------------------------------------------------------------------------------------------------


def _reactions(icsr: Icsr, found: Found) -> None:
    if not icsr.reactions:
        _error(found, "E.i", "reactions", "at least one reaction / event is required")
    for index, reaction in enumerate(icsr.reactions):
        _reaction(reaction, f"reactions[{index}]", found)


def _reaction(r: Reaction, path: str, found: Found) -> None:
    if r.verbatim_term is None and r.meddra is None:
        _error(found, "E.i.1.1", path, "the reaction needs the reporter's words (E.i.1.1) or a MedDRA code (E.i.2.1)")
    elif r.meddra is None:
        _warn(found, "E.i.2.1", f"{path}.meddra", "the reaction is not coded in MedDRA yet")
    if r.verbatim_term is not None and r.verbatim_language is None:
        _error(found, "E.i.1.1b", f"{path}.verbatim_language", "the language of the reported term is required")
    for field, element in _SERIOUSNESS_ELEMENTS.items():
        if getattr(r, field) is False:
            _error(
                found,
                element,
                f"{path}.{field}",
                "a seriousness criterion is either met (true) or left out (nullFlavor NI); false is not allowed",
            )
    if r.outcome is None:
        _error(found, "E.i.7", f"{path}.outcome", "the outcome at the time of last observation is required")
    _not_before(found, "E.i.5", f"{path}.end_date", r.start_date, r.end_date)
    _unit(found, "E.i.6b", f"{path}.duration.unit", r.duration, DURATION_UNITS)
    if r.country and not r.country.isupper():
        _warn(found, "E.i.9", f"{path}.country", "country codes are upper case (ISO 3166)")


def _tests(icsr: Icsr, found: Found) -> None:
    for index, test in enumerate(icsr.tests):
        path = f"tests[{index}]"
        if test.name is None and test.meddra is None:
            _error(found, "F.r.2", path, "a test needs its name (F.r.2.1) or MedDRA code (F.r.2.2b)")
        if test.result_code is None and test.result is None and test.result_text is None:
            _warn(found, "F.r.3", path, "give a result: code (F.r.3.1), value (F.r.3.2) or text (F.r.3.4)")
        if test.date is None and test.date_null_flavor is None:
            _warn(found, "F.r.1", f"{path}.date", "the test date (or UNK) is expected")


# --------------------------------------------------------------------------------------------------
# G drugs, H narrative
# --------------------------------------------------------------------------------------------------


def _drugs(icsr: Icsr, found: Found) -> None:
    if not any(drug.role in (DrugRole.SUSPECT, DrugRole.INTERACTING) for drug in icsr.drugs):
        _error(found, "G.k.1", "drugs", "at least one drug must be suspect or interacting")
    for index, drug in enumerate(icsr.drugs):
        _drug(drug, f"drugs[{index}]", found)


def _drug(drug: Drug, path: str, found: Found) -> None:
    if drug.role is None:
        _error(found, "G.k.1", f"{path}.role", "the characterisation of the drug's role is required")
    if drug.name is None:
        _error(found, "G.k.2.2", f"{path}.name", "the medicinal product name as reported is required")
    if drug.authorisation_number is not None and drug.authorisation_country is None:
        _error(found, "G.k.3.2", f"{path}.authorisation_country", "the authorisation number needs its country")
    if drug.blinded is False:
        _warn(found, "G.k.2.5", f"{path}.blinded", "may only be true or absent")
    _unit(found, "G.k.6b", f"{path}.gestation_at_exposure.unit", drug.gestation_at_exposure, GESTATION_UNITS)
    for k, dosage in enumerate(drug.dosages):
        here = f"{path}.dosages[{k}]"
        _not_before(found, "G.k.4.r.5", f"{here}.end_date", dosage.start_date, dosage.end_date)
        _unit(found, "G.k.4.r.6b", f"{here}.duration.unit", dosage.duration, DURATION_UNITS)
        if dosage.period is not None and dosage.period.unit not in INTERVAL_UNITS:
            allowed = ", ".join(sorted(INTERVAL_UNITS))
            _error(found, "G.k.4.r.3", f"{here}.period.unit", f"unit {dosage.period.unit!r} is not in ({allowed})")
    for i, pair in enumerate(drug.reaction_assessments):
        here = f"{path}.reaction_assessments[{i}]"
        _unit(found, "G.k.9.i.3.1b", f"{here}.time_from_start.unit", pair.time_from_start, DURATION_UNITS)
        _unit(found, "G.k.9.i.3.2b", f"{here}.time_from_last_dose.unit", pair.time_from_last_dose, DURATION_UNITS)
        _negative(found, "G.k.9.i.3.1a", f"{here}.time_from_start", pair.time_from_start)


def _negative(found: Found, element: str, path: str, quantity: Quantity | None) -> None:
    if quantity is not None and quantity.value < Decimal(0):
        _warn(found, element, path, "a negative interval means the reaction began before the drug")


def _narrative(icsr: Icsr, found: Found) -> None:
    if icsr.narrative is None:
        _error(found, "H.1", "narrative", "the case narrative is required")
    for index, summary in enumerate(icsr.case_summaries):
        if summary.language is None:
            _error(found, "H.5.r.1b", f"case_summaries[{index}].language", "the summary's language is required")


def _meddra_terms(icsr: Icsr) -> Iterator[MeddraTerm]:
    def walk(model: BaseModel) -> Iterator[MeddraTerm]:
        if isinstance(model, MeddraTerm):
            yield model
            return
        for name in type(model).model_fields:
            value = getattr(model, name)
            items = value if isinstance(value, tuple) else (value,)
            for item in items:
                if isinstance(item, BaseModel):
                    yield from walk(item)

    yield from walk(icsr)


def _meddra_versions(icsr: Icsr, found: Found) -> None:
    versions = sorted({term.version for term in _meddra_terms(icsr)})
    if len(versions) > 1:
        _warn(found, "E.i.2.1a", "", f"one MedDRA version per case is expected; this one uses {', '.join(versions)}")
