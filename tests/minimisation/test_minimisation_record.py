"""The patient record format: its shipped JSON schema is up to date, the example follows it, errors name fields."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from riskplan.errors import UserInputError
from riskplan.minimisation import demo_patient_record, load_patient_record, load_patient_records, patient_record_schema
from riskplan.minimisation.record import parse_patient_record, schema_text, shipped_schema_text

PATIENTS = Path(__file__).parent.parent / "data" / "patients"
DATA = resources.files("riskplan.minimisation") / "data"


def test_the_shipped_schema_is_generated_from_the_model_and_up_to_date() -> None:
    assert shipped_schema_text() == schema_text(), (
        "regenerate: python -c 'from riskplan.minimisation.record import schema_text; "
        'print(schema_text(), end="")\' > src/riskplan/minimisation/data/patient_record.schema.json'
    )


def test_the_example_and_the_test_patients_follow_the_schema() -> None:
    schema = patient_record_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for text in (DATA / "example_patient.json").read_text(encoding="utf-8"), (PATIENTS / "first_dose.json").read_text():
        assert list(validator.iter_errors(json.loads(text))) == []
    bad = json.loads((PATIENTS / "invalid_record.json").read_text())
    paths = {"/".join(str(p) for p in e.absolute_path) for e in validator.iter_errors(bad)}
    # a nullable list fails as a whole ("anyOf"): the path stops at "screenings"
    assert paths == {"patient/sex", "screenings", "infusions/0/date", "infusions/0/dose_mg"}


def test_the_demo_patient_is_a_woman_on_maintenance_treatment() -> None:
    record = demo_patient_record()
    assert record.patient.sex.value == "female" and record.patient.childbearing_potential is True
    assert [i.date.isoformat() for i in record.sorted_infusions()] == [
        "2024-02-05",
        "2024-02-19",
        "2024-08-05",
        "2025-02-05",
    ]
    assert record.start_date() is not None and record.start_date().isoformat() == "2024-02-05"
    assert record.prescriber is not None and record.patient_card_issued is not None


def test_a_record_that_violates_the_schema_names_each_field() -> None:
    with pytest.raises(UserInputError) as exc:
        load_patient_record(PATIENTS / "invalid_record.json")
    message = str(exc.value)
    assert "4 problem(s) with the patient record" in message
    for path in ("patient.sex", "screenings.0.result", "infusions.0.date", "infusions.0.dose_mg"):
        assert f"  - {path}: " in message


def test_unreadable_and_non_json_files_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="cannot read the patient record"):
        load_patient_record(tmp_path / "absent.json")
    with pytest.raises(UserInputError, match="not valid JSON"):
        parse_patient_record("{patient:", "x.json")
    with pytest.raises(UserInputError, match="expected a JSON object"):
        parse_patient_record("[]", "x.json")


def test_two_infusions_on_one_day_are_rejected() -> None:
    data = json.loads((PATIENTS / "first_dose.json").read_text())
    data["infusions"].append(data["infusions"][0])
    with pytest.raises(UserInputError, match="more than one infusion on 2025-03-03"):
        parse_patient_record(json.dumps(data), "x.json")


def test_a_folder_of_records_is_read_in_file_name_order(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="no patient records"):
        load_patient_records(tmp_path)
    (tmp_path / "b.json").write_text((PATIENTS / "first_dose.json").read_text())
    (tmp_path / "a.json").write_text((DATA / "example_patient.json").read_text(encoding="utf-8"))
    assert [r.patient.id for r in load_patient_records(tmp_path)] == ["NMO-0042", "NMO-0107"]
