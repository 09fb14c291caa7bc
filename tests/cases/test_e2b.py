"""ICH E2B(R3) exchange as a case processor sees it: FDA example files in, valid files out, nothing lost,
hostile files refused, and the business rules a safety physician would recognise.

Needs the shared standards folder (``../shared/standards/e2b_r3``: the ICH schema set and FDA's
example instances); without it every test here is skipped with that reason.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from riskplan.cases.codes import (
    AGE_UNITS,
    DURATION_UNITS,
    ActionTaken,
    AgeGroup,
    DrugRole,
    NullFlavor,
    Outcome,
    Qualification,
    Recurrence,
    ReportType,
    SenderType,
    SeriousnessCriterion,
    Severity,
    Sex,
    StudyType,
    TermHighlighted,
    TestResultCode,
)
from riskplan.cases.e2b import (
    E2bError,
    RuleViolation,
    check_business_rules,
    export_icsrs,
    get_schema,
    import_e2b,
)
from riskplan.cases.model import (
    Attachment,
    CaseSummary,
    CauseOfDeath,
    Comparator,
    Death,
    DiagnosticTest,
    Dosage,
    Drug,
    DrugReactionAssessment,
    HeldDocument,
    Hl7Timestamp,
    Icsr,
    Indication,
    LiteratureReference,
    Measurement,
    MeddraTerm,
    MedicalHistoryEpisode,
    OtherCaseIdentifier,
    Parent,
    PastDrug,
    Patient,
    Period,
    PrimarySource,
    Quantity,
    Reaction,
    RelatednessAssessment,
    Sender,
    Study,
    StudyRegistration,
    Substance,
    TestResult,
    TimestampPrecision,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
E2B = SHARED / "standards" / "e2b_r3"
EXAMPLES = E2B / "examples"
SCHEMA = E2B / "schema" / "multicacheschemas" / "MCCI_IN200100UV01.xsd"
DATA = Path(__file__).resolve().parents[1] / "data" / "e2b"
HL7 = "{urn:hl7-org:v3}"
NS = {"h": "urn:hl7-org:v3"}

pytestmark = pytest.mark.skipif(
    not SCHEMA.is_file(), reason=f"{E2B} is absent: the ICH E2B(R3) schema set and FDA examples are needed"
)

CREATED = dt.datetime(2024, 4, 2, 10, 15, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def schema() -> xmlschema.XMLSchema:
    """The ICH schema set, compiled once for the whole run (the same cache import and export use)."""
    return get_schema(SCHEMA)


def export(icsrs: list[Icsr]) -> bytes:
    return export_icsrs(icsrs, batch_id="RP-BATCH-1", sender_id="RISKPLAN", receiver_id="EVHUMAN", created=CREATED)


def scenario(name: str) -> bytes:
    return (EXAMPLES / f"fda_FAERS2022Scenario{name}.xml").read_bytes()


def assert_valid(schema: xmlschema.XMLSchema, data: bytes) -> None:
    root = etree.fromstring(data)
    errors = [f"{error.path}: {error.reason}" for error in schema.iter_errors(root)]
    assert errors == []


# --------------------------------------------------------------------------------------------------
# The eight FDA example scenarios
# --------------------------------------------------------------------------------------------------

# Values read by hand from the XML: C.1.1, C.1.3, the first reaction's E.i.1.2 (or E.i.1.1a),
# its E.i.3.2 criteria and E.i.7, the suspect drugs' G.k.2.2, the patient's D.2.1, E.i.4 and C.1.4.
FDA_SCENARIOS: dict[str, dict[str, Any]] = {
    "1": {
        "received": "20220614101010-0500",
        "case": "US-APHARMA-8744554B",
        "type": ReportType.SPONTANEOUS,
        "reaction": "THROMBOSE VEINEUSE PROFONDE",
        "serious": [SeriousnessCriterion.DISABLING, SeriousnessCriterion.OTHER_MEDICALLY_IMPORTANT],
        "outcome": Outcome.NOT_RECOVERED,
        "suspects": ["Drug A", "Drug B"],
        "birth": "20010615",
        "onset": "20141010",
    },
    "2": {
        "received": "20220615",
        "case": "US-APHARMA-8744554B-UPDATE-TESTING222",
        "worldwide": "US-APHARMA-8744554B",  # a follow-up: new C.1.1, same C.1.8.1
        "type": ReportType.SPONTANEOUS,
        "reaction": "THROMBOSE VEINEUSE PROFONDE",
        "serious": [SeriousnessCriterion.DISABLING, SeriousnessCriterion.OTHER_MEDICALLY_IMPORTANT],
        "outcome": Outcome.NOT_RECOVERED,
        "suspects": ["Drug A", "Drug B"],
        "birth": "20010615",
        "onset": "20141010",
    },
    "3": {
        "received": "20220615",
        "case": "US-APHARMA-8744554B",
        "type": ReportType.STUDY,
        "reaction": "THROMBOSE VEINEUSE PROFONDE",
        "serious": [SeriousnessCriterion.DISABLING, SeriousnessCriterion.OTHER_MEDICALLY_IMPORTANT],
        "outcome": Outcome.NOT_RECOVERED,
        "suspects": ["MK-001", "Drug B"],
        "birth": "20010615",
        "onset": "20141010",
    },
    "4": {
        "received": "20220615",
        "case": "US-APHARMA-222222222",
        "type": ReportType.STUDY,
        "reaction": "THROMBOSE VEINEUSE PROFONDE",
        "serious": [SeriousnessCriterion.HOSPITALISATION, SeriousnessCriterion.OTHER_MEDICALLY_IMPORTANT],
        "outcome": Outcome.NOT_RECOVERED,
        "suspects": ["AA-001"],
        "birth": None,
        "onset": "20141010",
    },
    "5-1": {
        "received": "20220614101010-0500",
        "case": "US-APHARMA-234545656",
        "type": ReportType.STUDY,
        "reaction": "THROMBOSE VEINEUSE PROFONDE",
        "serious": [SeriousnessCriterion.DISABLING, SeriousnessCriterion.OTHER_MEDICALLY_IMPORTANT],
        "outcome": Outcome.NOT_RECOVERED,
        "suspects": ["TEST", "RLD"],
        "birth": "19800615",
        "onset": "20141010",
    },
    "6": {
        "received": "20220614101010-0500",
        "case": "US-APHARMA-8744554B",
        "type": ReportType.SPONTANEOUS,
        "reaction": "consciência alterada",
        "serious": [
            SeriousnessCriterion.RESULTS_IN_DEATH,
            SeriousnessCriterion.HOSPITALISATION,
            SeriousnessCriterion.OTHER_MEDICALLY_IMPORTANT,
        ],
        "outcome": Outcome.NOT_RECOVERED,
        "suspects": ["Drug A", "Drug B"],
        "birth": "20141001",
        "onset": "20090101",
    },
    "7": {
        "received": "20220614101010-0500",
        "case": "US-APHARMA-8744554B-UPDATET-TESTING",
        "worldwide": "US-APHARMA-8744554B",
        "type": ReportType.SPONTANEOUS,
        "reaction": "NO ADVERSE EVENT",
        "serious": [],
        "outcome": Outcome.UNKNOWN,
        "suspects": ["Drug A"],
        "birth": "20010615",
        "onset": "20141010",
    },
    "8": {
        "received": "20220614",
        "case": "US-APHARMA-8744554B",
        "type": ReportType.SPONTANEOUS,
        "reaction": "THROMBOSE VEINEUSE PROFONDE",
        "serious": [SeriousnessCriterion.DISABLING, SeriousnessCriterion.OTHER_MEDICALLY_IMPORTANT],
        "outcome": Outcome.NOT_RECOVERED,
        "suspects": ["MK-001", "Drug B"],
        "birth": "20010615",
        "onset": "20141010",
    },
}


@pytest.fixture(scope="module")
def imported() -> dict[str, Icsr]:
    cases: dict[str, Icsr] = {}
    for name in FDA_SCENARIOS:
        result = import_e2b(scenario(name))
        assert len(result.icsrs) == 1 and result.rejected == []
        cases[name] = result.icsrs[0]
    return cases


@pytest.mark.parametrize("name", list(FDA_SCENARIOS))
def test_fda_scenario_imports_with_the_values_in_the_file(name: str, imported: dict[str, Icsr]) -> None:
    expected = FDA_SCENARIOS[name]
    case = imported[name]
    assert case.sender_report_id == expected["case"]
    assert case.case_key == expected.get("worldwide", expected["case"])
    assert case.report_type is expected["type"]
    reaction = case.reactions[0]
    assert expected["reaction"] in (reaction.verbatim_term_english, reaction.verbatim_term)
    assert reaction.seriousness_criteria == expected["serious"]
    assert case.is_serious == bool(expected["serious"])
    assert reaction.outcome is expected["outcome"]
    assert [drug.name for drug in case.suspect_drugs] == expected["suspects"]
    birth = case.patient.birth_date
    assert (str(birth) if birth else None) == expected["birth"]
    assert str(reaction.start_date) == expected["onset"]
    assert reaction.start_date is not None and reaction.start_date.precision is TimestampPrecision.DAY
    assert str(case.first_received) == expected["received"]  # C.1.4, second or day precision as sent
    precision = TimestampPrecision.SECOND if len(expected["received"]) > 8 else TimestampPrecision.DAY
    assert case.first_received is not None and case.first_received.precision is precision


def test_scenario_1_keeps_meddra_dosage_and_causality(imported: dict[str, Icsr]) -> None:
    case = imported["1"]
    assert case.reactions[0].meddra == MeddraTerm(version="25.0", code="10027940")
    assert case.reactions[0].term_highlighted is TermHighlighted.HIGHLIGHTED_SERIOUS
    drug_a = case.drugs[0]
    assert drug_a.authorisation_number == "NDA012345" and drug_a.authorisation_country == "US"
    assert drug_a.dosages[0].timing_null_flavor is NullFlavor.ASKU  # <effectiveTime nullFlavor="ASKU"/>
    assert drug_a.dosages[0].route_text == "Oral" and drug_a.dosages[0].batch_lot == "UNKNOWN"
    assert drug_a.indications[0].text == "Embolism venous"
    assert drug_a.action_taken is ActionTaken.UNKNOWN
    dvt, colitis = (pair.assessments for pair in drug_a.reaction_assessments)  # G.k.9.i.2.r, per reaction
    assert [(a.source, a.method, a.result) for a in dvt] == [
        ("PHARMACEUTICAL COMPANY", "Global Introspection", "Not Suspected")
    ]
    assert [(a.source, a.result) for a in colitis] == [("PRIMARY SOURCE REPORTER", "Suspected")]
    assert case.drugs[2].role is DrugRole.CONCOMITANT
    source = case.primary_source
    assert source is not None and source.family_name == "Robertson" and source.qualification is Qualification.PHYSICIAN
    assert source.email == "alladdresses@site.com"
    assert [r.element for r in case.patient.regional] == ["FDA.D.11.r.1", "FDA.D.11.r.1", "FDA.D.12"]


def test_scenario_6_the_all_elements_file_keeps_everything(imported: dict[str, Icsr]) -> None:
    case = imported["6"]
    assert case.reactions[0].verbatim_language == "por"
    assert case.reactions[1].start_date_null_flavor is NullFlavor.NASK
    assert case.patient.age_group is None and case.patient.age_group_null_flavor is NullFlavor.NI
    assert case.patient.death is not None and str(case.patient.death.date) == "20090101"
    assert case.patient.death.autopsy_done is True
    assert [c.text for c in case.patient.death.reported_causes] == [
        "Progressive multifocal leukoencephalopathy",
        "Excessive Fibrosis",
    ]
    parent = case.patient.parent
    assert parent is not None and parent.sex is Sex.FEMALE and parent.age == Quantity(value=Decimal(33), unit="a")
    assert [str(d.start_date) for d in parent.past_drugs] == ["20090101151617-0500", "200901", "20090101", "2009"]
    assert parent.past_drugs[1].start_date is not None
    assert parent.past_drugs[1].start_date.precision is TimestampPrecision.MONTH
    tests = case.tests
    assert (
        str(tests[1].date) == "2009"
        and tests[1].date is not None
        and tests[1].date.precision is TimestampPrecision.YEAR
    )
    assert [t.result.comparator for t in tests[:5] if t.result] == [
        Comparator.EQ,
        Comparator.LT,
        Comparator.LE,
        Comparator.GT,
        Comparator.GE,
    ]
    assert tests[0].result_code is TestResultCode.NEGATIVE and tests[0].normal_high is not None
    dosage = case.drugs[0].dosages[0]
    assert dosage.period == Period(value=Decimal(10), unit="d") and dosage.duration == Quantity(
        value=Decimal(4), unit="wk"
    )
    assert dosage.parent_route_text == "Text to describe the route if needed"
    pair = case.drugs[0].reaction_assessments[0]
    assert pair.time_from_last_dose == Quantity(value=Decimal(10), unit="min")
    assert pair.recurrence is Recurrence.RECHALLENGE_DID_NOT_RECUR
    assert case.drugs[1].role is DrugRole.INTERACTING
    assert len(case.documents_held) == 2 and case.literature[0].attachment is not None
    assert case.literature[0].attachment.decoded().startswith(b"%PDF-1.5")
    assert case.other_case_ids_flag is True and case.other_case_ids[1].source == "European Medicines Agency"
    assert case.linked_reports == ("FR-PHARMA-3448976655", "FR-QPHARMA-12345678")
    assert {r.element for r in case.drugs[0].regional} >= {"FDA.G.k.12.r", "FDA.G.k.10a", "FDA.G.k.10.1"}
    assert case.study is not None and [r.country for r in case.study.registrations] == ["US", "FR"]
    assert case.case_summaries[0].language == "eng"


def test_fda_ind_numbers_are_kept_as_regional_study_data(imported: dict[str, Icsr]) -> None:
    study = imported["3"].study
    assert study is not None and study.study_type is StudyType.CLINICAL_TRIAL
    assert [(r.element, r.value) for r in study.regional] == [
        ("FDA.C.5.5a", "123456"),
        ("FDA.C.5.6.r", "222222"),
        ("FDA.C.5.6.r", "333333"),
    ]


def test_the_batch_header_is_reported(schema: xmlschema.XMLSchema) -> None:
    batch = import_e2b(scenario("6")).batch
    assert batch is not None
    assert (batch.batch_id, batch.sender_id, batch.receiver_id) == (
        "MegaInstance2020-01132020-a2dd-082002b30309d",
        "123456789",
        "ZZFDA",
    )


@pytest.mark.parametrize("name", list(FDA_SCENARIOS))
def test_fda_scenario_exports_valid_and_reimports_equal(
    name: str, imported: dict[str, Icsr], schema: xmlschema.XMLSchema
) -> None:
    data = export([imported[name]])
    assert_valid(schema, data)
    assert import_e2b(data).icsrs == [imported[name]]


def test_several_cases_travel_in_one_batch(imported: dict[str, Icsr], schema: xmlschema.XMLSchema) -> None:
    cases = [imported["1"], imported["4"], imported["7"]]
    data = export(cases)
    assert_valid(schema, data)
    root = etree.fromstring(data)
    assert len(root.findall(f"{HL7}PORR_IN049016UV")) == 3
    assert import_e2b(data).icsrs == cases


# --------------------------------------------------------------------------------------------------
# A hand-built serious case
# --------------------------------------------------------------------------------------------------


def pneumonia_case() -> Icsr:
    """A 67-year-old woman hospitalised with pneumonia 20 days after her second inebilizumab infusion."""
    pneumonia = Reaction(
        verbatim_term="Pneumonia requiring admission",
        verbatim_language="eng",
        meddra=MeddraTerm(version="26.1", code="10035664"),
        hospitalisation=True,
        start_date="20240321",
        outcome=Outcome.RECOVERING,
        country="GB",
    )
    infusion = "intravenous infusion"
    inebilizumab = Drug(
        role=DrugRole.SUSPECT,
        name="Uplizna 100 mg concentrate for solution for infusion",
        substances=[Substance(name="inebilizumab", strength=Quantity(value=Decimal(10), unit="mg/mL"))],
        authorisation_number="EU/1/22/1666/001",
        authorisation_country="GB",
        dosages=[
            Dosage(dose=Quantity(value=Decimal(300), unit="mg"), start_date="20240215", route_text=infusion),
            Dosage(dose=Quantity(value=Decimal(300), unit="mg"), start_date="20240301", route_text=infusion),
        ],
        indications=[Indication(text="Neuromyelitis optica spectrum disorder")],
        action_taken=ActionTaken.DOSE_NOT_CHANGED,
        reaction_assessments=[
            DrugReactionAssessment(
                reaction_id=pneumonia.id,
                time_from_last_dose=Quantity(value=Decimal(20), unit="d"),
                assessments=[
                    RelatednessAssessment(
                        source="Primary source reporter", method="Global introspection", result="Possible"
                    )
                ],
            )
        ],
    )
    azathioprine = Drug(role=DrugRole.CONCOMITANT, name="Azathioprine 50 mg tablets")
    return Icsr(
        sender_report_id="GB-RISKPLAN-2024-000123",
        worldwide_case_id="GB-RISKPLAN-2024-000123",
        created="20240402101500+0000",
        report_type=ReportType.SPONTANEOUS,
        first_received="20240325",
        most_recent_info="20240401",
        local_expedited=True,
        first_sender="2",
        primary_sources=[
            PrimarySource(
                title="Dr",
                given_name="Alison",
                family_name="Reed",
                qualification=Qualification.PHYSICIAN,
                country="GB",
                primary_for_regulatory_purposes=True,
            )
        ],
        sender=Sender(sender_type=SenderType.PHARMACEUTICAL_COMPANY, organisation="Riskplan Pharma Ltd", country="GB"),
        patient=Patient(
            name="MH",
            sex=Sex.FEMALE,
            age=Quantity(value=Decimal(67), unit="a"),
            age_group=AgeGroup.ELDERLY,
            medical_history_text="AQP4-IgG positive NMOSD since 2019",
        ),
        reactions=[pneumonia],
        drugs=[inebilizumab, azathioprine],
        narrative=(
            "A 67-year-old woman with NMOSD on azathioprine was admitted with community-acquired pneumonia "
            "20 days after her second inebilizumab infusion. She improved on antibiotics."
        ),
    )


def test_a_hand_built_serious_case_exports_valid(schema: xmlschema.XMLSchema) -> None:
    case = pneumonia_case()
    assert [v for v in check_business_rules(case) if v.severity is Severity.ERROR] == []
    data = export([case])
    assert_valid(schema, data)
    root = etree.fromstring(data)
    (reaction,) = root.xpath(".//h:observation[h:code/@code='29']", namespaces=NS)
    (hospitalised,) = reaction.xpath("h:outboundRelationship2/h:observation[h:code/@code='33']/h:value", namespaces=NS)
    assert hospitalised.get("value") == "true"
    (death,) = reaction.xpath("h:outboundRelationship2/h:observation[h:code/@code='34']/h:value", namespaces=NS)
    assert death.get("nullFlavor") == "NI"
    interval = root.find(".//h:outboundRelationship1[@typeCode='SAE']/h:pauseQuantity", NS)
    assert (interval.get("value"), interval.get("unit")) == ("20", "d")
    country = root.find(".//h:asLocatedEntity/h:location/h:code", NS)
    assert country.get("code") == "GB"
    assert import_e2b(data).icsrs == [case]


# --------------------------------------------------------------------------------------------------
# Property: any valid case exports valid and comes back equal
# --------------------------------------------------------------------------------------------------

_WORDS = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co")), min_size=1, max_size=30).filter(
    lambda s: bool(s.strip()) and s == s.strip()
)
_IDS = st.from_regex(r"[A-Z]{2}-[A-Z0-9]{2,8}-[0-9]{1,9}", fullmatch=True)
_COUNTRIES = st.sampled_from(["GB", "US", "FR", "DE", "JP", "EU"])
_MEDDRA = st.builds(MeddraTerm, version=st.just("26.1"), code=st.integers(10000000, 10099999).map(str))
_NUMBERS = st.decimals(min_value=0, max_value=999, places=1, allow_nan=False, allow_infinity=False)


@st.composite
def _days(draw: st.DrawFn, start: dt.date = dt.date(1990, 1, 1), end: dt.date = dt.date(2023, 12, 31)) -> dt.date:
    return start + dt.timedelta(days=draw(st.integers(0, (end - start).days)))


@st.composite
def _stamps(draw: st.DrawFn, day: dt.date | None = None) -> Hl7Timestamp:
    day = day or draw(_days())
    form = draw(st.sampled_from(["%Y", "%Y%m", "%Y%m%d", "%Y%m%d%H%M%S+0100"]))
    return Hl7Timestamp(day.strftime(form))


def _ages(unit: str) -> st.SearchStrategy[Quantity]:
    """A person's age in ``unit``: at most 150 years (older is refused, see e2b_rules.MAX_AGE_YEARS)."""
    most = {"a": 150, "10.a": 15}.get(unit, 999)
    return st.builds(Quantity, value=st.decimals(0, most, places=1, allow_nan=False), unit=st.just(unit))


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


@st.composite
def _value_or_flavor(
    draw: st.DrawFn, strategy: st.SearchStrategy[Any], flavors: list[NullFlavor]
) -> tuple[Any, NullFlavor | None]:
    choice = draw(st.integers(0, 2))
    if choice == 0:
        return draw(strategy), None
    if choice == 1:
        return None, draw(st.sampled_from(flavors))
    return None, None


@st.composite
def _reactions(draw: st.DrawFn) -> Reaction:
    start = draw(_days())
    start_date, start_nf = draw(_value_or_flavor(_stamps(start), [NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK]))
    end = draw(_maybe(_stamps(start + dt.timedelta(days=draw(st.integers(1, 400))))))
    criteria = {name: draw(st.sampled_from([None, True])) for name in ("results_in_death", "hospitalisation")}
    return Reaction(
        verbatim_term=draw(_WORDS),
        verbatim_language="eng",
        verbatim_term_english=draw(_maybe(_WORDS)),
        meddra=draw(_maybe(_MEDDRA)),
        term_highlighted=draw(_maybe(st.sampled_from(TermHighlighted))),
        start_date=start_date,
        start_date_null_flavor=start_nf,
        end_date=end,
        duration=draw(_maybe(st.builds(Quantity, value=_NUMBERS, unit=st.sampled_from(sorted(DURATION_UNITS))))),
        outcome=draw(st.sampled_from(Outcome)),
        medical_confirmation=draw(_maybe(st.booleans())),
        country=draw(_maybe(_COUNTRIES)),
        **criteria,
    )


@st.composite
def _dosages(draw: st.DrawFn) -> Dosage:
    return Dosage(
        dose=draw(_maybe(st.builds(Quantity, value=_NUMBERS, unit=st.sampled_from(["mg", "mL", "{DF}"])))),
        period=draw(_maybe(st.builds(Period, value=_maybe(_NUMBERS), unit=st.sampled_from(["d", "wk", "{cyclical}"])))),
        start_date=draw(_maybe(_stamps())),
        end_date_null_flavor=draw(_maybe(st.sampled_from([NullFlavor.ASKU, NullFlavor.NASK]))),
        duration=draw(_maybe(st.builds(Quantity, value=_NUMBERS, unit=st.just("d")))),
        batch_lot=draw(_maybe(_WORDS)),
        text=draw(_maybe(_WORDS)),
        route_text=draw(_maybe(_WORDS)),
        dose_form_text_null_flavor=draw(_maybe(st.just(NullFlavor.UNK))),
    )


@st.composite
def _drugs(draw: st.DrawFn, reactions: list[Reaction], role: DrugRole) -> Drug:
    assessed = draw(st.lists(st.sampled_from(reactions), unique_by=lambda r: r.id, max_size=2))
    order = {reaction.id: i for i, reaction in enumerate(reactions)}
    pairs = [
        DrugReactionAssessment(
            reaction_id=reaction.id,
            assessments=draw(
                st.lists(
                    st.builds(
                        RelatednessAssessment, source=_maybe(_WORDS), method=_maybe(_WORDS), result=_maybe(_WORDS)
                    ),
                    max_size=2,
                )
            ),
            time_from_start=draw(_maybe(st.builds(Quantity, value=_NUMBERS, unit=st.just("d")))),
            recurrence=draw(st.sampled_from(Recurrence)),
        )
        for reaction in sorted(assessed, key=lambda r: order[r.id])
    ]
    return Drug(
        role=role,
        name=draw(_WORDS),
        substances=draw(st.lists(st.builds(Substance, name=_WORDS), max_size=2)),
        obtained_country=draw(_maybe(_COUNTRIES)),
        dosages=draw(st.lists(_dosages(), max_size=2)),
        indications=draw(st.lists(st.builds(Indication, text=_WORDS, meddra=_maybe(_MEDDRA)), max_size=2)),
        action_taken=draw(_maybe(st.sampled_from(ActionTaken))),
        reaction_assessments=pairs,
        additional_info=draw(_maybe(_WORDS)),
    )


def _attachments() -> st.SearchStrategy[Attachment]:
    return st.builds(
        Attachment,
        media_type=st.sampled_from(["application/pdf", "text/plain"]),
        file_name=_maybe(st.from_regex(r"[a-z]{1,10}\.pdf", fullmatch=True)),
        content=st.binary(min_size=1, max_size=60).map(lambda b: base64.b64encode(b).decode("ascii")),
    )


def _past_drugs() -> st.SearchStrategy[PastDrug]:
    return st.builds(
        PastDrug,
        name=_WORDS,
        start_date=_maybe(_stamps()),
        end_date_null_flavor=_maybe(st.just(NullFlavor.ASKU)),
        indication=_maybe(_MEDDRA),
        reaction=_maybe(_MEDDRA),
    )


def _deaths() -> st.SearchStrategy[Death]:
    cause = st.builds(CauseOfDeath, term=_maybe(_MEDDRA), text=_WORDS)
    return st.builds(
        Death,
        date=_stamps(),
        reported_causes=st.lists(cause, max_size=2),
        autopsy_done=_maybe(st.booleans()),
        autopsy_causes=st.lists(cause, max_size=1),
    )


@st.composite
def _parent_child(draw: st.DrawFn) -> dict[str, Any]:
    """Half the time a foetal-exposure report: a gestation period and the mother's data (D.10)."""
    if not draw(st.booleans()):
        return {}
    mother = Parent(
        sex=Sex.FEMALE,
        age=Quantity(value=draw(st.decimals(min_value=14, max_value=55, places=0)), unit="a"),
        last_menstrual_period=draw(_maybe(_stamps())),
        medical_history=draw(st.lists(st.builds(MedicalHistoryEpisode, term=_MEDDRA), max_size=1)),
        medical_history_text=draw(_maybe(_WORDS)),
        past_drugs=draw(st.lists(_past_drugs(), max_size=1)),
    )
    return {"gestation_period": Quantity(value=draw(st.decimals(1, 40, places=0)), unit="wk"), "parent": mother}


@st.composite
def valid_icsrs(draw: st.DrawFn) -> Icsr:
    """Random cases that meet every error-level business rule (bounded sizes)."""
    received = draw(_days())
    reactions = draw(st.lists(_reactions(), min_size=1, max_size=3))
    roles = [DrugRole.SUSPECT, *draw(st.lists(st.sampled_from(DrugRole), max_size=2))]
    drugs = [draw(_drugs(reactions, role)) for role in roles]
    sex, sex_nf = draw(_value_or_flavor(st.sampled_from(Sex), [NullFlavor.UNK, NullFlavor.MSK]))
    birth, birth_nf = draw(_value_or_flavor(_stamps(), [NullFlavor.MSK]))
    group, group_nf = draw(_value_or_flavor(st.sampled_from(AgeGroup), [NullFlavor.NI, NullFlavor.UNK]))
    name, name_nf = draw(_value_or_flavor(_WORDS, [NullFlavor.MSK, NullFlavor.UNK]))
    patient = Patient(
        name=name if name or name_nf else "XX",
        name_null_flavor=name_nf,
        sex=sex,
        sex_null_flavor=sex_nf,
        birth_date=birth,
        birth_date_null_flavor=birth_nf,
        age=draw(_maybe(st.sampled_from(sorted(AGE_UNITS)).flatmap(_ages))),
        age_group=group if group not in (AgeGroup.FOETUS, AgeGroup.NEONATE, AgeGroup.INFANT) else None,
        age_group_null_flavor=group_nf,
        weight_kg=draw(_maybe(_NUMBERS)),
        medical_history=draw(
            st.lists(st.builds(MedicalHistoryEpisode, term=_MEDDRA, continuing=_maybe(st.booleans())), max_size=2)
        ),
        medical_history_text=draw(_maybe(_WORDS)),
        past_drugs=draw(st.lists(_past_drugs(), max_size=2)),
        death=draw(_maybe(_deaths())),
        **draw(_parent_child()),
    )
    given, given_nf = draw(_value_or_flavor(_WORDS, [NullFlavor.MSK, NullFlavor.ASKU, NullFlavor.NASK]))
    reporter = PrimarySource(
        given_name=given,
        given_name_null_flavor=given_nf,
        family_name=draw(_maybe(_WORDS)),
        street=draw(_maybe(_WORDS)),
        telephone=draw(_maybe(st.from_regex(r"\+?[0-9 ]{6,15}[0-9]", fullmatch=True))),
        qualification=draw(st.sampled_from(Qualification)),
        country=draw(_COUNTRIES),
        primary_for_regulatory_purposes=True,
    )
    expedited, expedited_nf = draw(_value_or_flavor(st.booleans(), [NullFlavor.NI]))
    study_type = draw(st.sampled_from(StudyType))
    report_type = draw(st.sampled_from(ReportType))
    tests = draw(
        st.lists(
            st.builds(
                DiagnosticTest,
                name=_WORDS,
                date=_stamps(),
                result=_maybe(
                    st.builds(TestResult, comparator=st.sampled_from(Comparator), value=_NUMBERS, unit=st.just("g/L"))
                ),
                result_code=_maybe(st.sampled_from(TestResultCode)),
                normal_low=_maybe(st.builds(Measurement, value=_NUMBERS, unit=_maybe(st.just("g/L")))),
                comments=_maybe(_WORDS),
                more_information=_maybe(st.booleans()),
            ),
            max_size=2,
        )
    )
    other_ids = draw(st.lists(st.builds(OtherCaseIdentifier, source=_WORDS, case_id=_IDS), max_size=2))
    documents = draw(st.lists(st.builds(HeldDocument, title=_WORDS, attachment=_maybe(_attachments())), max_size=1))
    return Icsr(
        sender_report_id=draw(_IDS),
        worldwide_case_id=draw(_IDS),
        created=Hl7Timestamp((received + dt.timedelta(days=3)).strftime("%Y%m%d120000")),
        report_type=report_type,
        first_received=Hl7Timestamp(received.strftime("%Y%m%d")),
        most_recent_info=Hl7Timestamp((received + dt.timedelta(days=draw(st.integers(0, 30)))).strftime("%Y%m%d")),
        local_expedited=expedited,
        local_expedited_null_flavor=expedited_nf,
        first_sender=draw(st.sampled_from(["1", "2"])),
        linked_reports=draw(st.lists(_IDS, max_size=2)),
        primary_sources=[reporter],
        sender=Sender(sender_type=SenderType.PHARMACEUTICAL_COMPANY, organisation=draw(_WORDS)),
        study=Study(
            study_type=study_type,
            name=draw(_maybe(_WORDS)),
            registrations=[StudyRegistration(number_null_flavor=NullFlavor.ASKU, country=draw(_COUNTRIES))],
        )
        if report_type is ReportType.STUDY
        else None,
        patient=patient,
        reactions=reactions,
        tests=tests,
        drugs=drugs,
        narrative=draw(_WORDS),
        reporter_comments=draw(_maybe(_WORDS)),
        sender_comments=draw(_maybe(_WORDS)),
        sender_diagnoses=draw(st.lists(_MEDDRA, max_size=2)),
        case_summaries=draw(st.lists(st.builds(CaseSummary, text=_WORDS, language=st.just("fra")), max_size=1)),
        other_case_ids_flag=True if other_ids else None,
        other_case_ids=other_ids,
        additional_documents=bool(documents) or draw(st.sampled_from([None, False])),
        documents_held=documents,
        literature=draw(
            st.lists(st.builds(LiteratureReference, reference=_WORDS, attachment=_maybe(_attachments())), max_size=1)
        ),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=valid_icsrs())
def test_any_valid_case_exports_valid_and_round_trips(schema: xmlschema.XMLSchema, case: Icsr) -> None:
    errors = [v for v in check_business_rules(case) if v.severity is Severity.ERROR]
    assert errors == []
    data = export([case])
    assert_valid(schema, data)
    assert import_e2b(data).icsrs == [case]


# --------------------------------------------------------------------------------------------------
# Hostile and broken input: refused with a clear message, nothing returned
# --------------------------------------------------------------------------------------------------


def _refused(data: bytes, *fragments: str, **kwargs: Any) -> E2bError:
    with pytest.raises(E2bError) as caught:
        import_e2b(data, **kwargs)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message
    return caught.value


def test_a_billion_laughs_entity_bomb_is_refused_unexpanded() -> None:
    _refused((DATA / "billion_laughs.xml").read_bytes(), "DOCTYPE / ENTITY declaration")


def test_an_external_entity_is_never_read() -> None:
    error = _refused((DATA / "external_entity.xml").read_bytes(), "DOCTYPE / ENTITY declaration")
    assert "root:" not in str(error)  # nothing of /etc/passwd leaks into the message


def test_a_doctype_with_an_internal_subset_is_refused() -> None:
    _refused((DATA / "doctype_internal_subset.xml").read_bytes(), "DOCTYPE")


def test_a_doctype_hidden_in_utf16_is_refused() -> None:
    _refused((DATA / "external_entity.xml").read_text().replace("UTF-8", "UTF-16").encode("utf-16"), "DOCTYPE")


def test_an_oversize_file_is_refused_before_parsing() -> None:
    _refused(b"<a/>" + b" " * 2048, "2,052 bytes is more than the 1,024 allowed", max_bytes=1024)


@pytest.mark.parametrize("data", [b"%PDF-1.5 not xml", b"\x89PNG\r\n\x1a\n", b"<unclosed>", b"   "])
def test_non_xml_is_refused(data: bytes) -> None:
    _refused(data, "file refused")


def test_the_wrong_root_element_is_refused() -> None:
    _refused(b'<ClinicalDocument xmlns="urn:hl7-org:v3"/>', "root element is <ClinicalDocument>", "MCCI_IN200100UV01")
    _refused(b"<MCCI_IN200100UV01/>", "namespace none")


def test_a_schema_violation_names_the_element(imported: dict[str, Icsr]) -> None:
    root = etree.fromstring(export([imported["1"]]))
    status = root.find(".//h:investigationEvent/h:statusCode", NS)
    status.getparent().remove(status)
    error = _refused(etree.tostring(root), "does not conform to the ICH E2B(R3) schema")
    assert any(
        r.path == "/MCCI_IN200100UV01/PORR_IN049016UV/controlActProcess/subject/investigationEvent"
        and "statusCode" in r.reason
        for r in error.rejections
    )
    assert "/MCCI_IN200100UV01/PORR_IN049016UV/controlActProcess/subject/investigationEvent" in str(error)


def _with_outcome(data: bytes, code: str, message: int = 0) -> bytes:
    root = etree.fromstring(data)
    porr = root.findall(f"{HL7}PORR_IN049016UV")[message]
    outcome = porr.xpath(".//h:observation[h:code/@code='27']/h:value", namespaces=NS)[0]
    outcome.set("code", code)
    changed: bytes = etree.tostring(root)
    return changed


def test_an_unknown_code_value_is_rejected_with_path_and_reason(imported: dict[str, Icsr]) -> None:
    data = _with_outcome(export([imported["1"]]), "7")
    error = _refused(data, "E.i.7 outcome: unknown code '7' (allowed: 0, 1, 2, 3, 4, 5)")
    (rejection,) = error.rejections
    assert rejection.message_index == 0 and rejection.case_id == "US-APHARMA-8744554B"
    # the first reaction's outcome: its 10th outboundRelationship2 (after E.i.1.2, E.i.3.1, E.i.3.2a-f, FDA.E.i.3.2h)
    assert rejection.path.endswith("/primaryRole/subjectOf2[8]/observation/outboundRelationship2[10]/observation/value")
    (element,) = etree.fromstring(data).xpath(
        rejection.path.replace("/", "/h:").replace("/h:/h:", "//h:"), namespaces=NS
    )
    assert element.get("code") == "7"


def test_one_bad_message_rejects_the_whole_batch(imported: dict[str, Icsr]) -> None:
    good, bad = pneumonia_case(), imported["1"]
    data = _with_outcome(export([good, bad]), "9", message=1)
    error = _refused(data, "1 of 2 message(s) rejected, so nothing was imported")
    assert [(r.message_index, r.case_id) for r in error.rejections] == [(1, "US-APHARMA-8744554B")]


def test_skip_invalid_returns_the_good_messages_and_reports_the_bad(imported: dict[str, Icsr]) -> None:
    good, bad = pneumonia_case(), imported["1"]
    result = import_e2b(_with_outcome(export([good, bad]), "9", message=1), skip_invalid=True)
    assert result.icsrs == [good]
    (rejection,) = result.rejected
    assert rejection.message_index == 1 and rejection.case_id == "US-APHARMA-8744554B"
    assert rejection.path.startswith("/MCCI_IN200100UV01/PORR_IN049016UV[2]/")
    assert "unknown code '9'" in rejection.reason


def test_a_value_and_a_null_flavor_in_the_file_are_rejected(imported: dict[str, Icsr]) -> None:
    root = etree.fromstring(export([imported["1"]]))
    root.find(".//h:player1/h:birthTime", NS).set("nullFlavor", "MSK")
    error = _refused(etree.tostring(root), "birth_date: give either a value or nullFlavor MSK")
    assert error.rejections[0].path.endswith("/primaryRole")


# --------------------------------------------------------------------------------------------------
# Business rules a safety physician would recognise
# --------------------------------------------------------------------------------------------------


def _findings(case: Icsr) -> list[tuple[str, str]]:
    return [(v.element, v.path) for v in check_business_rules(case) if v.severity is Severity.ERROR]


def _change(case: Icsr, **update: Any) -> Icsr:
    return Icsr.model_validate({**case.model_dump(), **update})


def _reaction(case: Icsr, **update: Any) -> Icsr:
    reaction = case.reactions[0].model_copy(update=update)
    return _change(case, reactions=[reaction.model_dump()])


RULE_CASES: dict[str, tuple[Callable[[Icsr], Icsr], str, str]] = {
    "most recent information before first receipt": (
        lambda c: _change(c, first_received="20240325", most_recent_info="20240320"),
        "C.1.5",
        "most_recent_info",
    ),
    "seriousness criterion set to false": (
        lambda c: _reaction(c, life_threatening=False),
        "E.i.3.2b",
        "reactions[0].life_threatening",
    ),
    "no suspect drug, only the concomitant azathioprine": (
        lambda c: _change(c, drugs=[c.drugs[1].model_dump()]),
        "G.k.1",
        "drugs",
    ),
    "no reaction at all": (lambda c: _change(c, reactions=[], drugs=[c.drugs[1].model_dump()]), "E.i", "reactions"),
    "reaction with neither reported words nor MedDRA code": (
        lambda c: _reaction(c, verbatim_term=None, verbatim_language=None, meddra=None),
        "E.i.1.1",
        "reactions[0]",
    ),
    "date of creation missing": (lambda c: _change(c, created=None), "C.1.2", "created"),
    "date of creation without the time": (lambda c: _change(c, created="20240402"), "C.1.2", "created"),
    "type of report missing": (lambda c: _change(c, report_type=None), "C.1.3", "report_type"),
    "date first received missing": (lambda c: _change(c, first_received=None), "C.1.4", "first_received"),
    "date of most recent information missing": (
        lambda c: _change(c, most_recent_info=None),
        "C.1.5",
        "most_recent_info",
    ),
    "reporter's qualification missing": (
        lambda c: _change(c, primary_sources=[{"country": "GB", "primary_for_regulatory_purposes": True}]),
        "C.2.r.4",
        "primary_sources[0].qualification",
    ),
    "no reporter": (lambda c: _change(c, primary_sources=[]), "C.2.r", "primary_sources"),
    "onset in the future": (lambda c: _reaction(c, start_date="20990101"), "E.i.4", "reactions[0].start_date"),
    "sex null-flavoured NI, which D.5 does not allow": (
        lambda c: _change(c, patient={**c.patient.model_dump(), "sex": None, "sex_null_flavor": "NI"}),
        "D.5",
        "patient.sex_null_flavor",
    ),
    "age in 'years', not the UCUM code": (
        lambda c: _change(c, patient={**c.patient.model_dump(), "age": {"value": 67, "unit": "years"}}),
        "D.2.2b",
        "patient.age.unit",
    ),
    "parent information on an adult's own report": (
        lambda c: _change(c, patient={**c.patient.model_dump(), "parent": {"sex": "2"}}),
        "D.10",
        "patient.parent",
    ),
    "outcome missing": (lambda c: _reaction(c, outcome=None), "E.i.7", "reactions[0].outcome"),
    "reaction ends before it starts": (lambda c: _reaction(c, end_date="20240301"), "E.i.5", "reactions[0].end_date"),
    "narrative missing": (lambda c: _change(c, narrative=None), "H.1", "narrative"),
    "patient initials too long": (
        lambda c: _change(c, patient={**c.patient.model_dump(), "name": "M" * 61}),
        "D.1",
        "patient.name",
    ),
    "reported term without its language": (
        lambda c: _reaction(c, verbatim_language=None),
        "E.i.1.1b",
        "reactions[0].verbatim_language",
    ),
    "report from a study without the study type": (
        lambda c: _change(c, report_type="2"),
        "C.5.4",
        "study.study_type",
    ),
}


@pytest.mark.parametrize("story", list(RULE_CASES))
def test_business_rule_finds_the_problem(story: str) -> None:
    mutate, element, path = RULE_CASES[story]
    case = mutate(pneumonia_case())
    assert (element, path) in _findings(case), story


def test_the_clean_case_breaks_no_rule() -> None:
    findings = check_business_rules(pneumonia_case())
    assert [str(v) for v in findings if v.severity is Severity.ERROR] == []


def test_parent_information_is_accepted_in_a_foetal_exposure_report() -> None:
    case = pneumonia_case()
    foetus = {**case.patient.model_dump(), "gestation_period": {"value": 20, "unit": "wk"}, "parent": {"sex": "2"}}
    assert not [f for f in _findings(_change(case, patient=foetus)) if f[0].startswith("D.10")]


def test_export_refuses_a_case_that_breaks_a_rule_and_says_why() -> None:
    case = _change(pneumonia_case(), first_received="20240325", most_recent_info="20240320")
    with pytest.raises(E2bError) as caught:
        export([case])
    assert "export refused" in str(caught.value)
    assert "C.1.5" in str(caught.value) and "GB-RISKPLAN-2024-000123" in str(caught.value)
    assert all(isinstance(v, RuleViolation) for v in caught.value.violations)


def test_warnings_do_not_block_export(schema: xmlschema.XMLSchema) -> None:
    case = _change(pneumonia_case(), local_expedited=None)
    assert ("C.1.7", Severity.WARNING) in [(v.element, v.severity) for v in check_business_rules(case)]
    assert_valid(schema, export([case]))


# --------------------------------------------------------------------------------------------------
# E2B(R2) ichicsr files (best effort)
# --------------------------------------------------------------------------------------------------


def test_an_r2_report_maps_to_the_r3_model() -> None:
    result = import_e2b((DATA / "r2_minimal.xml").read_bytes())
    assert result.batch is not None and result.batch.batch_id == "R2-BATCH-0007"
    (case,) = result.icsrs
    assert case.sender_report_id == "GB-OLDPHARMA-2019-0042" and case.report_type is ReportType.SPONTANEOUS
    (reaction,) = case.reactions
    assert reaction.verbatim_term == "chest infection"
    assert reaction.meddra == MeddraTerm(version="21.1", code="10008481")  # B.2.i.1 LLT -> E.i.2.1
    assert reaction.pt_code == "10035664"  # B.2.i.2 PT -> riskplan's coding field
    assert reaction.seriousness_criteria == [SeriousnessCriterion.HOSPITALISATION]  # A.1.5.2 copied
    assert str(reaction.start_date) == "201903" and reaction.start_date is not None
    assert reaction.start_date.precision is TimestampPrecision.MONTH
    assert reaction.outcome is Outcome.RECOVERING and reaction.term_highlighted is TermHighlighted.HIGHLIGHTED_SERIOUS
    assert case.patient.age == Quantity(value=Decimal(71), unit="a") and case.patient.sex is Sex.FEMALE
    assert case.patient.medical_history_text == "Type 2 diabetes\nAppendicectomy as a child"
    oldmab = case.suspect_drugs[0]
    assert oldmab.dosages[0].dose == Quantity(value=Decimal(100), unit="mg")
    assert oldmab.dosages[0].period == Period(value=Decimal(2), unit="wk")
    assert oldmab.action_taken is ActionTaken.WITHDRAWN
    assert oldmab.reaction_assessments[0].reaction_id == reaction.id
    assert oldmab.reaction_assessments[0].assessments[0].result == "Probable"
    assert import_e2b((DATA / "r2_minimal.xml").read_bytes()).icsrs == [case]  # stable ids


def test_an_r2_report_completed_to_r3_rules_exports_valid(schema: xmlschema.XMLSchema) -> None:
    (case,) = import_e2b((DATA / "r2_minimal.xml").read_bytes()).icsrs
    missing = {v.element for v in check_business_rules(case) if v.severity is Severity.ERROR}
    assert missing == {"C.1.2", "E.i.1.1b"}  # R3 wants the creation time and the reported term's language
    completed = _change(case, created="20190416093000")
    completed = _reaction(completed, verbatim_language="eng")
    data = export([completed])
    assert_valid(schema, data)
    assert import_e2b(data).icsrs == [_reaction(completed, pt_code=None)]  # PT coding is riskplan's, not sent


def test_an_r2_report_with_an_unknown_code_is_rejected() -> None:
    data = (DATA / "r2_minimal.xml").read_bytes().replace(b"<reactionoutcome>2<", b"<reactionoutcome>9<")
    error = _refused(data, "reactionoutcome: unknown code '9'")
    assert error.rejections[0].path == "/ichicsr/safetyreport/patient/reaction/reactionoutcome"


def test_an_r2_file_with_its_dtd_line_is_refused() -> None:
    data = (
        (DATA / "r2_minimal.xml")
        .read_bytes()
        .replace(
            b"<ichicsr ", b'<!DOCTYPE ichicsr SYSTEM "http://www.accessdata.fda.gov/xml/icsr-xml-v2.1.dtd">\n<ichicsr '
        )
    )
    _refused(data, "DOCTYPE")
