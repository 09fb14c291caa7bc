"""Case files as people write them: ISO 8601 dates and words for coded fields; worked examples (`case example`)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from case_factory import make_icsr
from riskplan.cases.codes import ActionTaken, DrugRole, Outcome, Qualification, ReportType, Sex, StudyType
from riskplan.cases.e2b import export_icsrs, import_e2b
from riskplan.cases.e2b._rules import check_business_rules
from riskplan.cases.model import Dosage, Hl7Timestamp, Icsr, Patient, Reaction
from riskplan.cases.validity import assess_validity
from riskplan.cases.worked_examples import ExampleKind, example_case_text
from riskplan.cli import app

runner = CliRunner()
WIDE = {"COLUMNS": "250"}


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[│┃┏┓┗┛━─┡┩┼╇┳┻┣┫└┘┌┐├┤┬┴]", " ", text))


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2026", "2026"),
        ("2026-11", "202611"),
        ("2026-11-25", "20261125"),
        ("2026-11-25T14:30", "202611251430"),
        ("2026-11-25T14:30:05", "20261125143005"),
        ("2026-11-25T14:30:05+01:00", "20261125143005+0100"),
        ("2026-11-25T14:30:05Z", "20261125143005+0000"),
        ("20261125", "20261125"),  # HL7 still works
    ],
)
def test_iso_dates_of_any_precision_are_stored_as_hl7(given: str, stored: str) -> None:
    reaction = Reaction.model_validate({"verbatim_term": "rash", "start_date": given})
    assert str(reaction.start_date) == stored
    assert Hl7Timestamp(stored).precision == reaction.start_date.precision  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("2026-02-30", "'2026-02-30' is not a real calendar date"),
        ("25/11/2026", "give ISO 8601 (2026, 2026-11, 2026-11-25, 2026-11-25T14:30) or HL7"),
    ],
)
def test_a_wrong_date_says_which_formats_work(given: str, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        Reaction.model_validate({"verbatim_term": "rash", "start_date": given})


def test_words_for_coded_fields_any_case_and_codes_still_work() -> None:
    patient = Patient.model_validate({"sex": "FEMALE", "age_group": "adult"})
    assert patient.sex is Sex.FEMALE and Patient.model_validate({"sex": "2"}).sex is Sex.FEMALE
    assert Patient.model_validate({"sex": 1}).sex is Sex.MALE
    outcomes = {
        w: Reaction.model_validate({"outcome": w}).outcome for w in ("recovered", "Recovered/Resolved", "fatal")
    }
    assert outcomes == {"recovered": Outcome.RECOVERED, "Recovered/Resolved": Outcome.RECOVERED, "fatal": Outcome.FATAL}
    assert Reaction.model_validate({"outcome": "not recovered/not resolved/ongoing"}).outcome is Outcome.NOT_RECOVERED
    assert Reaction.model_validate({"outcome": "ongoing"}).outcome is Outcome.NOT_RECOVERED
    case = make_icsr().model_dump(mode="json")
    case["report_type"] = "Spontaneous"
    case["primary_sources"][0]["qualification"] = "pharmacist"
    case["drugs"][0]["role"] = "suspect"
    case["drugs"][0]["action_taken"] = "Drug withdrawn"
    case["study"] = {"study_type": "clinical trial"}
    icsr = Icsr.model_validate(case)
    assert icsr.report_type is ReportType.SPONTANEOUS and icsr.study is not None
    assert icsr.study.study_type is StudyType.CLINICAL_TRIAL
    assert icsr.primary_sources[0].qualification is Qualification.PHARMACIST
    assert icsr.drugs[0].role is DrugRole.SUSPECT and icsr.drugs[0].action_taken is ActionTaken.WITHDRAWN
    # stored (and exported) as the E2B codes
    assert json.loads(icsr.model_dump_json())["drugs"][0]["action_taken"] == "1"


def test_seriousness_and_route_in_words() -> None:
    reaction = Reaction.model_validate({"verbatim_term": "x", "seriousness": ["Hospitalization", "life-threatening"]})
    assert reaction.hospitalisation is True and reaction.life_threatening is True
    assert reaction.results_in_death is None  # not given: nullFlavor NI, as before
    assert Reaction.model_validate({"seriousness": "birth defect"}).congenital_anomaly is True
    dosage = Dosage.model_validate({"route": "intravenous", "parent_route": "transplacental"})
    assert dosage.route_text == "intravenous" and dosage.parent_route_text == "transplacental" and dosage.route is None


def test_a_wrong_word_lists_the_accepted_words() -> None:
    with pytest.raises(ValidationError) as caught:
        Patient.model_validate({"sex": "femal"})
    assert "'femal' is not a sex code or word: 1 = male, 2 = female (any case" in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        Reaction.model_validate({"outcome": "better"})
    assert "0 = unknown, 1 = recovered, 2 = recovering, 3 = not recovered, 4 = recovered with sequelae" in str(
        caught.value
    )
    with pytest.raises(
        ValidationError, match=re.escape("'hospital' is not an E.i.3.2 seriousness criterion; give any of")
    ):
        Reaction.model_validate({"seriousness": ["hospital"]})


def test_the_schema_lists_the_words_and_iso_dates() -> None:
    schema = json.dumps(Icsr.model_json_schema())
    assert '"enum": ["1", "2", "male", "female"]' in schema
    assert "2026-11-25T14:30" in schema and '"seriousness"' in schema


def test_a_case_in_words_round_trips_through_e2b_as_codes() -> None:
    icsr = Icsr.model_validate(json.loads(example_case_text(ExampleKind.SPONTANEOUS)))
    data = export_icsrs([icsr], batch_id="B1", sender_id="S", receiver_id="R", created=dt.datetime(2026, 11, 26))
    assert b'<administrativeGenderCode code="2"' in data
    again = import_e2b(data).icsrs[0]
    assert again.patient.sex is Sex.FEMALE and again.reactions[0].outcome is Outcome.RECOVERED
    assert str(again.reactions[0].start_date) == "202611201015" and again.reactions[0].hospitalisation is True
    assert again.drugs[0].dosages[0].route_text == "intravenous"


@pytest.mark.parametrize("kind", list(ExampleKind))
def test_each_worked_example_is_valid_and_complete_for_e2b(kind: ExampleKind) -> None:
    data: dict[str, Any] = json.loads(example_case_text(kind))
    icsr = Icsr.model_validate(data)
    assert assess_validity(icsr).valid  # GVP VI.B.2 minimum criteria
    errors = [v for v in check_business_rules(icsr) if v.severity.value == "error"]
    assert errors == []
    export_icsrs([icsr], batch_id="B1", sender_id="S", receiver_id="R", created=dt.datetime(2026, 11, 26))
    assert re.search(r'"(sex|outcome|role)": "[a-z]', example_case_text(kind))  # written in words
    assert re.search(r'"\d{4}-\d{2}-\d{2}"', example_case_text(kind))  # and ISO dates


@pytest.mark.parametrize("kind", list(ExampleKind))
def test_case_example_output_is_accepted_by_case_new(cli_env: Path, kind: ExampleKind) -> None:
    printed = runner.invoke(app, ["case", "example", "--kind", kind.value])
    assert printed.exit_code == 0, printed.output
    path = cli_env / f"{kind.value}.json"
    path.write_text(printed.output)
    result = runner.invoke(app, ["case", "new", str(path)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert ": created" in result.output and "valid (ICH E2D) yes" in _flat(result.output)


def test_pregnancy_example_counts_toward_the_pregnancy_concern(cli_env: Path) -> None:
    path = cli_env / "p.json"
    path.write_text(runner.invoke(app, ["case", "example", "--kind", "pregnancy"]).output)
    result = runner.invoke(app, ["case", "new", str(path)], env=WIDE)
    assert "exposure during pregnancy" in _flat(result.output)


def test_case_new_with_a_misspelt_word_says_what_and_where(cli_env: Path) -> None:
    data = json.loads(example_case_text(ExampleKind.SPONTANEOUS))
    data["patient"]["sex"] = "femal"
    data["reactions"][0]["start_date"] = "2026-11-31"
    path = cli_env / "bad.json"
    path.write_text(json.dumps(data))
    result = runner.invoke(app, ["case", "new", str(path)], env=WIDE)
    assert result.exit_code == 2
    out = _flat(result.output)
    assert "2 problem(s) with the case" in out
    assert "patient.sex: 'femal' is not a sex code or word: 1 = male, 2 = female" in out
    assert "reactions.0.start_date" in out and "'2026-11-31' is not a real calendar date" in out
    assert "Traceback" not in result.output
