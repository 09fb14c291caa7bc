"""The synthetic NMOSD population: tables, schedule, rates and determinism."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from riskplan.errors import UserInputError
from riskplan.studies import vocabulary as v
from riskplan.studies.cdm import open_cdm
from riskplan.studies.synth import synthesise_omop


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    synthesise_omop(3000, 11, out)
    return out


def test_tables_and_local_concepts(synth: Path) -> None:
    with open_cdm(synth) as cdm:
        assert cdm.count("person") == 3000
        assert cdm.has_concept_ancestor and not cdm.orphan_rows
        local = cdm.con.execute(
            f"SELECT DISTINCT vocabulary_id FROM concept WHERE concept_id >= {v.LOCAL_CONCEPT_MIN}"
        ).fetchall()
        assert local == [(v.LOCAL_VOCABULARY,)]
        for table in ("drug_exposure", "condition_occurrence", "measurement", "observation", "death"):
            assert cdm.count(table) > 0, table
        female = cdm.scalar(f"SELECT avg(CAST(gender_concept_id = {v.FEMALE} AS DOUBLE)) FROM person")
        assert 0.8 < female < 0.9


def test_inebilizumab_schedule_and_premedication(synth: Path) -> None:
    con = duckdb.connect()
    product = v.product_of(v.INEBILIZUMAB)
    rows = con.execute(f"""
        WITH d AS (SELECT person_id, drug_exposure_start_date AS day,
                          row_number() OVER (PARTITION BY person_id ORDER BY drug_exposure_start_date) AS k,
                          min(drug_exposure_start_date) OVER (PARTITION BY person_id) AS first
                   FROM read_parquet('{synth}/drug_exposure.parquet') WHERE drug_concept_id = {product})
        SELECT k, median(day - first) FROM d WHERE k <= 4 GROUP BY k ORDER BY k""").fetchall()
    assert [r[1] for r in rows] == [0, 14, pytest.approx(183, abs=3), pytest.approx(366, abs=3)]
    share = con.execute(f"""
        SELECT avg(CAST(EXISTS (SELECT 1 FROM read_parquet('{synth}/drug_exposure.parquet') p
                                WHERE p.person_id = d.person_id
                                  AND p.drug_exposure_start_date = d.drug_exposure_start_date
                                  AND p.drug_concept_id = {v.product_of(v.METHYLPREDNISOLONE)}) AS DOUBLE))
        FROM read_parquet('{synth}/drug_exposure.parquet') d WHERE d.drug_concept_id = {product}""").fetchone()[0]  # type: ignore[index]
    assert 0.9 < share < 0.99


def test_same_seed_same_data(tmp_path: Path) -> None:
    a = synthesise_omop(200, 5, tmp_path / "a")
    b = synthesise_omop(200, 5, tmp_path / "b")
    assert a.rows == b.rows
    con = duckdb.connect()
    q = "SELECT sum(hash(COLUMNS(*))) FROM read_parquet('{}/measurement.parquet')"
    assert con.execute(q.format(tmp_path / "a")).fetchall() == con.execute(q.format(tmp_path / "b")).fetchall()
    with pytest.raises(UserInputError):
        synthesise_omop(0, 1, tmp_path / "c")
