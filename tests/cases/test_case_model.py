"""The ICSR model: E2B(R3) dates, nullFlavors and what a safety physician asks of a case."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pydantic import ValidationError

from riskplan.cases.codes import (
    AdditionalDrugInfo,
    AgeGroup,
    DrugRole,
    NullFlavor,
    Outcome,
    Qualification,
    ReportType,
    SeriousnessCriterion,
    Sex,
)
from riskplan.cases.model import (
    Dosage,
    Drug,
    DrugReactionAssessment,
    Hl7Timestamp,
    Icsr,
    Parent,
    PartialDate,
    Patient,
    PrimarySource,
    Quantity,
    Reaction,
    RegionalElement,
    RelatednessAssessment,
    TimestampPrecision,
)


def _case(**extra: object) -> Icsr:
    return Icsr(sender_report_id="GB-RP-1", worldwide_case_id="GB-RP-1", **extra)


# -- HL7 dates of variable precision ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "precision", "earliest", "latest"),
    [
        ("2019", TimestampPrecision.YEAR, dt.date(2019, 1, 1), dt.date(2019, 12, 31)),
        ("201902", TimestampPrecision.MONTH, dt.date(2019, 2, 1), dt.date(2019, 2, 28)),
        ("202402", TimestampPrecision.MONTH, dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        ("201912", TimestampPrecision.MONTH, dt.date(2019, 12, 1), dt.date(2019, 12, 31)),
        ("20190315", TimestampPrecision.DAY, dt.date(2019, 3, 15), dt.date(2019, 3, 15)),
        ("2019031514", TimestampPrecision.HOUR, dt.date(2019, 3, 15), dt.date(2019, 3, 15)),
        ("20190315143000+0100", TimestampPrecision.SECOND, dt.date(2019, 3, 15), dt.date(2019, 3, 15)),
        ("20190315143000.125", TimestampPrecision.SECOND, dt.date(2019, 3, 15), dt.date(2019, 3, 15)),
    ],
)
def test_a_partial_date_keeps_its_precision(
    text: str, precision: TimestampPrecision, earliest: dt.date, latest: dt.date
) -> None:
    stamp = PartialDate(text)
    assert str(stamp) == text
    assert stamp.precision is precision
    assert stamp.earliest_date() == earliest
    assert stamp.latest_date() == latest


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("2019-03-15", "not an HL7 date"),
        ("20190230", "not a real calendar date"),
        ("201913", "not a real calendar date"),
        ("20190315+0100", "needs at least the hour"),
        ("20190315.5", "fractions of a second"),
        ("201903151430.5", "fractions of a second"),
        ("19", "not an HL7 date"),
    ],
)
def test_impossible_dates_are_refused(text: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        Hl7Timestamp(text)


def test_a_year_only_birth_date_survives_json() -> None:
    patient = Patient(birth_date="1957")
    again = Patient.model_validate_json(patient.model_dump_json())
    assert again.birth_date == Hl7Timestamp("1957")
    assert str(again.birth_date) == "1957"
    assert '"birth_date":"1957"' in patient.model_dump_json()


def test_dates_and_datetimes_become_timestamps() -> None:
    assert str(Hl7Timestamp.from_date(dt.date(2024, 3, 5))) == "20240305"
    aware = dt.datetime(2024, 3, 5, 9, 30, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert str(Hl7Timestamp.from_datetime(aware)) == "20240305093000-0500"
    assert Reaction(start_date=dt.date(2024, 3, 5)).start_date == Hl7Timestamp("20240305")


# -- nullFlavor ------------------------------------------------------------------------------------


def test_a_value_and_a_null_flavor_together_are_refused() -> None:
    with pytest.raises(ValidationError, match="birth_date: give either a value or nullFlavor MSK"):
        Patient(birth_date="1957", birth_date_null_flavor=NullFlavor.MSK)


def test_a_null_flavor_alone_is_kept() -> None:
    reporter = PrimarySource(given_name_null_flavor=NullFlavor.MSK, country="GB")
    assert reporter.given_name is None
    assert reporter.given_name_null_flavor is NullFlavor.MSK


def test_dosage_timing_is_either_given_or_null_flavoured() -> None:
    with pytest.raises(ValidationError, match="timing_null_flavor"):
        Dosage(start_date="20240301", timing_null_flavor=NullFlavor.ASKU)
    assert Dosage(timing_null_flavor=NullFlavor.ASKU).timing_null_flavor is NullFlavor.ASKU


# -- frozen, closed, clean text ----------------------------------------------------------------------


def test_models_are_frozen_and_closed() -> None:
    reaction = Reaction(verbatim_term="rash")
    with pytest.raises(ValidationError):
        reaction.verbatim_term = "itch"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Reaction(verbatim_term="rash", severity="bad")  # type: ignore[call-arg]


def test_text_is_trimmed_and_must_be_carriable_by_xml() -> None:
    assert Reaction(verbatim_term="  rash \n").verbatim_term == "rash"
    with pytest.raises(ValidationError, match="empty or blank"):
        Reaction(verbatim_term="   ")
    with pytest.raises(ValidationError, match="U\\+0007"):
        Reaction(verbatim_term="rash\x07")


def test_code_lists_carry_e2b_codes() -> None:
    assert ReportType("1") is ReportType.SPONTANEOUS
    assert ReportType.SPONTANEOUS.label == "Spontaneous report"
    assert [o.value for o in Outcome] == ["0", "1", "2", "3", "4", "5"]
    assert Outcome.FATAL.label == "fatal"
    assert Qualification("5").label == "Consumer or other non health professional"
    assert DrugRole("4") is DrugRole.DRUG_NOT_ADMINISTERED
    with pytest.raises(ValidationError):
        Reaction(outcome="7")


def test_a_regional_element_must_be_one_hl7_element() -> None:
    xml = '<subjectOf2 xmlns="urn:hl7-org:v3" typeCode="SBJ"/>'
    assert RegionalElement(element="FDA.D.12", xml=xml).xml == xml
    with pytest.raises(ValidationError, match="not well-formed"):
        RegionalElement(element="FDA.D.12", xml="<a>")
    with pytest.raises(ValidationError, match="HL7 v3"):
        RegionalElement(element="FDA.D.12", xml="<a/>")


# -- what the rest of riskplan asks ----------------------------------------------------------------


def test_seriousness_reads_like_a_safety_physician_says_it() -> None:
    pneumonia = Reaction(verbatim_term="pneumonia", hospitalisation=True, other_medically_important=True)
    rash = Reaction(verbatim_term="rash")
    assert pneumonia.is_serious
    assert pneumonia.seriousness_criteria == [
        SeriousnessCriterion.HOSPITALISATION,
        SeriousnessCriterion.OTHER_MEDICALLY_IMPORTANT,
    ]
    assert pneumonia.seriousness_criteria[0] == "caused/prolonged hospitalisation"
    assert not rash.is_serious and rash.seriousness_criteria == []
    assert _case(reactions=[rash, pneumonia]).is_serious
    assert not _case(reactions=[rash]).is_serious


def test_suspect_drugs_are_the_suspect_and_interacting_ones() -> None:
    drugs = [
        Drug(role=DrugRole.CONCOMITANT, name="azathioprine"),
        Drug(role=DrugRole.SUSPECT, name="Uplizna"),
        Drug(role=DrugRole.INTERACTING, name="rituximab"),
        Drug(role=DrugRole.DRUG_NOT_ADMINISTERED, name="placebo"),
    ]
    assert [drug.name for drug in _case(drugs=drugs).suspect_drugs] == ["Uplizna", "rituximab"]


def test_the_case_key_is_the_worldwide_case_number() -> None:
    case = Icsr(sender_report_id="GB-RP-2024-7", worldwide_case_id="FR-ANSM-0042")
    assert case.case_key == "FR-ANSM-0042"


def test_a_case_needs_its_identifiers() -> None:
    with pytest.raises(ValidationError, match="worldwide_case_id"):
        Icsr(sender_report_id="GB-RP-1")  # type: ignore[call-arg]


def test_the_matrix_must_point_at_the_case_reactions() -> None:
    pneumonia = Reaction(verbatim_term="pneumonia")
    assessed = DrugReactionAssessment(reaction_id=pneumonia.id, assessments=[RelatednessAssessment(result="related")])
    _case(reactions=[pneumonia], drugs=[Drug(role=DrugRole.SUSPECT, reaction_assessments=[assessed])])
    orphan = DrugReactionAssessment(reaction_id="0b6f1a0e-0000-4000-8000-000000000000", recurrence="4")
    with pytest.raises(ValidationError, match="not among the case's reactions"):
        _case(reactions=[pneumonia], drugs=[Drug(role=DrugRole.SUSPECT, reaction_assessments=[orphan])])
    with pytest.raises(ValidationError, match="own id"):
        _case(reactions=[pneumonia, pneumonia])


def test_an_empty_drug_reaction_assessment_is_refused() -> None:
    with pytest.raises(ValidationError, match="needs a relatedness assessment"):
        DrugReactionAssessment(reaction_id="0b6f1a0e-0000-4000-8000-000000000000")


@pytest.mark.parametrize(
    ("patient", "drugs", "parent_child"),
    [
        (Patient(age=Quantity(value=Decimal(67), unit="a")), [], False),
        (Patient(gestation_period=Quantity(value=Decimal(20), unit="wk")), [], True),
        (Patient(age_group=AgeGroup.NEONATE), [], True),
        (Patient(), [Drug(gestation_at_exposure=Quantity(value=Decimal(8), unit="wk"))], True),
        (Patient(), [Drug(additional_info_codes=[AdditionalDrugInfo.TAKEN_BY_FATHER])], True),
    ],
)
def test_parent_child_reports_are_recognised(patient: Patient, drugs: list[Drug], parent_child: bool) -> None:
    assert _case(patient=patient, drugs=drugs).is_parent_child_report is parent_child


def test_coding_fields_are_riskplan_only() -> None:
    coded = Reaction(
        verbatim_term="chest infection", pt_code="10035664", pt_name="Pneumonia", llt_name="Chest infection"
    )
    assert coded.label == "Pneumonia"
    assert "not E2B" in (Reaction.model_fields["pt_code"].description or "")


def test_parent_information_is_its_own_block() -> None:
    parent = Parent(sex=Sex.FEMALE, age=Quantity(value=Decimal(31), unit="a"))
    assert _case(patient=Patient(parent=parent)).patient.parent == parent


def test_every_field_cites_its_e2b_element() -> None:
    import re

    from pydantic import BaseModel

    import riskplan.cases.model as model

    pattern = re.compile(r"^((FDA\.)?[C-H](\.\S+)?\s|riskplan \(not E2B\))")
    for name in model.__all__:
        cls = getattr(model, name)
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)) or cls is model.E2bModel:
            continue
        if cls in (model.MeddraTerm, model.CodedValue, model.Quantity, model.Measurement, model.Attachment):
            continue  # value types, used under many elements
        if cls is model.RegionalElement or cls is model.TestResult or cls is model.Period:
            continue
        for field, info in cls.model_fields.items():
            assert pattern.match(info.description or ""), f"{name}.{field}: {info.description!r}"
