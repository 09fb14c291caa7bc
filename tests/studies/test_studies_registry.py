"""The NMOSD registry export (tests/data/registry_export) mapped onto the CDM through the shipped YAML."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from riskplan.errors import UserInputError
from riskplan.studies import vocabulary as v
from riskplan.studies.cohorts import SIX_MONTHLY_INFUSION, NewUserCohortDefinition, build_new_user_cohort
from riskplan.studies.concepts import ConceptSet
from riskplan.studies.pregnancy import pregnancy_outcomes
from riskplan.studies.registry import load_registry_export, load_registry_mapping
from riskplan.studies.utilisation import drug_utilisation

EXPORT = Path(__file__).resolve().parents[1] / "data" / "registry_export"


def test_shipped_mapping_documents_every_form() -> None:
    mapping = load_registry_mapping()
    assert [f.name for f in mapping.forms] == [
        "patients",
        "treatments",
        "infusions",
        "adverse_events",
        "labs",
        "pregnancies",
    ]
    assert all(f.columns for f in mapping.forms)


def test_registry_export_loads_into_the_cdm() -> None:
    with load_registry_export(EXPORT) as cdm:
        assert cdm.count("person") == 6
        assert cdm.count("death") == 1
        assert cdm.has_concept_ancestor
        infusions = cdm.scalar(
            f"SELECT count(*) FROM drug_exposure WHERE drug_concept_id = {v.product_of(v.INEBILIZUMAB)}"
        )
        assert infusions == 6
        # non-serious events are not coded as targeted events; the serious pneumonia is a serious infection
        assert cdm.scalar("SELECT count(*) FROM condition_occurrence WHERE condition_concept_id = 0") == 2
        assert cdm.scalar(f"SELECT count(*) FROM condition_occurrence WHERE condition_concept_id = {v.PNEUMONIA}") == 1
        units = cdm.con.execute(
            "SELECT value_as_number, unit_source_value FROM measurement WHERE person_id = 6"
        ).fetchall()
        assert units == [(900.0, "cells/uL")]
        cohort = build_new_user_cohort(
            cdm, NewUserCohortDefinition("ineb", ConceptSet("i", (v.INEBILIZUMAB,)), time_at_risk=SIX_MONTHLY_INFUSION)
        )
        assert cohort.persons == 2
        premed = drug_utilisation(cdm, cohort).premedication.one(premedication="corticosteroid")
        assert (premed["doses"], premed["doses_with_premedication"]) == (6, 5)
        pregnancies = pregnancy_outcomes(cdm, ConceptSet("i", (v.INEBILIZUMAB,)))
        groups = {(r["exposure"], r["enrolment"]): r["pregnancies"] for r in pregnancies.pregnancies.to_dicts()}
        # patient 1: dose 2022-01-08 within 6 months of conception -> exposed, prospective;
        # patient 4: SAB enrolled after the outcome -> retrospective; last dose 2022-02-15 is too early
        assert groups[("exposed", "prospective")] == 1
        assert groups[("unexposed", "retrospective")] == 1


def test_unknown_code_and_missing_column_are_user_errors(tmp_path: Path) -> None:
    bad = tmp_path / "export"
    shutil.copytree(EXPORT, bad)
    (bad / "labs.csv").write_text("patient_id,sample_date,test,value,unit,lower_limit\n1,2021-01-05,HB,12,g/dL,11\n")
    with pytest.raises(UserInputError, match=r"column test: unknown code\(s\) 'HB'"):
        load_registry_export(bad)
    (bad / "labs.csv").write_text("patient_id,sample_date,test,value\n")
    with pytest.raises(UserInputError, match=r"missing column\(s\) unit, lower_limit"):
        load_registry_export(bad)
    (bad / "labs.csv").unlink()
    with pytest.raises(UserInputError, match="has no labs form"):
        load_registry_export(bad)
    (bad / "labs.csv").write_text("patient_id,sample_date,test,value,unit,lower_limit\n1,05/01/2021,ANC,1,x,1\n")
    with pytest.raises(UserInputError, match="form labs -> measurement"):
        load_registry_export(bad)


def test_bad_mapping_file_is_user_error(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "name: x\nversion: '1'\nforms:\n  - name: a\n    file: a.csv\n    columns: {c: d}\n"
        "    emit:\n      - table: person\n        fields: {person_id: {column: nope}}\n"
    )
    with pytest.raises(UserInputError, match="not declared"):
        load_registry_mapping(path)
