"""The same study analyses on DuckDB and in Apache Spark (local mode) give the same numbers (issue 17).

Eunomia GiBleed is written once to Parquet (one file per table, the column types DuckDB infers from
the CSVs) and read by Spark from there, through a path (``?path=``) and through catalog tables
(``?database=&prefix=``); the DuckDB side reads the CSV folder. Spark shares the test process's one
session (the ``spark`` fixture); in CI a missing PySpark, Java or data set fails instead of skipping.

The three whole-analysis comparisons are marked ``spark_full``: they are part of ``make test`` (about 35 s
together on 2 quiet cores, 2026-12-04, after the JVM has started) and ``make test-spark`` runs them alone.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from riskplan.cli import app
from riskplan.errors import UserInputError
from riskplan.studies.cdm import Cdm, open_cdm
from riskplan.studies.characteristics import baseline_characteristics
from riskplan.studies.cohorts import (
    Cohort,
    NewUserCohortDefinition,
    TarKind,
    TimeAtRisk,
    build_comparative_cohorts,
)
from riskplan.studies.concepts import ConceptSet
from riskplan.studies.incidence import incidence
from riskplan.studies.labs import lab_safety
from riskplan.studies.outcomes import outcome_from_concept_ids
from riskplan.studies.pregnancy import pregnancy_outcomes
from riskplan.studies.spark_engine import SparkEngine
from riskplan.studies.survival import time_to_first_event
from riskplan.studies.utilisation import drug_utilisation
from shared_data import missing_shared
from studies.test_studies_engines import EUNOMIA, LOADED, assert_same_tables

CELECOXIB = ConceptSet("celecoxib", (1118084,))
DICLOFENAC = ConceptSet("diclofenac", (1124300,))
GI_BLEED = outcome_from_concept_ids("GI bleed", (192671,))


@pytest.fixture(scope="module")
def parquet_cdm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eunomia as one Parquet file per table (written by DuckDB from the shared CSVs)."""
    if not (EUNOMIA / "person.csv").is_file():
        missing_shared(f"Eunomia GiBleed CSVs are absent at {EUNOMIA}")
    folder = tmp_path_factory.mktemp("eunomia_parquet")
    with duckdb.connect() as con:
        for table in LOADED:
            con.execute(
                f"COPY (SELECT * FROM read_csv('{EUNOMIA / (table + '.csv')}', header = true, sample_size = -1)) "
                f"TO '{folder / (table + '.parquet')}' (FORMAT parquet)"
            )
    return folder


@pytest.fixture(scope="module")
def engines(parquet_cdm: Path, spark: Any) -> Iterator[tuple[Cdm, Cdm]]:
    """The same CDM twice: read into DuckDB from the CSV folder, and in Spark from catalog tables
    ``cdm_<hex>.omop_<table>`` over the Parquet files (``?database=&prefix=``; the ``?path=`` form is
    opened by the scratch-view test)."""
    database = f"cdm_{uuid.uuid4().hex[:8]}"
    spark.sql(f"CREATE DATABASE {database}")
    try:
        for table in LOADED:
            spark.sql(
                f"CREATE TABLE {database}.omop_{table} USING parquet LOCATION '{parquet_cdm / (table + '.parquet')}'"
            )
        with open_cdm(EUNOMIA) as duck, open_cdm(f"spark+local://2?database={database}&prefix=omop_") as sp:
            yield duck, sp
    finally:
        spark.sql(f"DROP DATABASE IF EXISTS {database} CASCADE")


def _cohorts(cdm: Cdm, tar: TimeAtRisk) -> tuple[Cohort, Cohort]:
    return build_comparative_cohorts(
        cdm,
        NewUserCohortDefinition("celecoxib", CELECOXIB, 365, tar),
        NewUserCohortDefinition("diclofenac", DICLOFENAC, 365, tar),
    )


@pytest.fixture(scope="module")
def on_treatment(engines: tuple[Cdm, Cdm]) -> list[tuple[Cohort, Cohort]]:
    """Celecoxib vs diclofenac new users, on treatment with a 30-day grace period, on each engine
    (shared by the tests below: Spark statements are the file's cost)."""
    return [_cohorts(cdm, TimeAtRisk(TarKind.ON_TREATMENT, grace_days=30)) for cdm in engines]


@pytest.mark.spark_full
def test_celecoxib_gi_bleed_incidence_is_identical_in_spark_and_only_result_rows_come_back(
    engines: tuple[Cdm, Cdm],
) -> None:
    duck, sp = engines
    assert sp.in_database and isinstance(sp.engine, SparkEngine) and sp.engine.dialect == "spark"
    with pytest.raises(UserInputError, match="no DuckDB connection"):
        _ = sp.con
    assert sp.orphan_rows == duck.orphan_rows == {"observation_period": 2649}
    assert sp.tables_present == duck.tables_present
    fetched_before = sp.engine.rows_fetched
    results = []
    for cdm in engines:
        t, c = _cohorts(cdm, TimeAtRisk(TarKind.SINCE_FIRST))
        results.append(((t, c), incidence(cdm, t, GI_BLEED, comparator=c)))
    fetched = sp.engine.rows_fetched - fetched_before
    (dt_, dc), d = results[0]
    (st, sc), s = results[1]
    assert (dt_.persons, dc.persons) == (st.persons, sc.persons)
    assert_same_tables(dt_.attrition, st.attrition)
    assert_same_tables(d, s)
    row = s.overall("celecoxib")
    assert (row["persons"], row["events"]) == (1800, 355)
    assert round(float(row["person_years"]), 2) == 30133.35
    assert s.rate_ratio is not None and d.rate_ratio is not None
    assert math.isclose(s.rate_ratio.ratio or 0, d.rate_ratio.ratio or 0, rel_tol=1e-9)
    # Only result rows came back: Eunomia has 67,707 drug exposures and 65,332 conditions.
    assert fetched < 200, fetched


@pytest.mark.spark_full
def test_on_treatment_cohorts_characteristics_and_survival_inputs_are_identical(
    engines: tuple[Cdm, Cdm], on_treatment: list[tuple[Cohort, Cohort]]
) -> None:
    out = []
    for cdm, (t, c) in zip(engines, on_treatment, strict=True):
        inc = incidence(cdm, t, GI_BLEED, comparator=c, concomitant=ConceptSet("nsaid", (1124300, 1118084)))
        chars = baseline_characteristics(cdm, t, c, top_conditions=5)
        surv = time_to_first_event(cdm, inc)
        out.append((t.attrition, c.attrition, inc, chars, surv))
    for d, s in zip(out[0], out[1], strict=True):
        assert assert_same_tables(d, s) >= 1
    assert out[1][3].max_abs_smd == pytest.approx(out[0][3].max_abs_smd, rel=1e-9)


@pytest.mark.spark_full
def test_utilisation_labs_and_pregnancy_are_identical(
    engines: tuple[Cdm, Cdm], on_treatment: list[tuple[Cohort, Cohort]]
) -> None:
    out = []
    for cdm, (cohort, _) in zip(engines, on_treatment, strict=True):
        out.append((drug_utilisation(cdm, cohort), lab_safety(cdm, cohort), pregnancy_outcomes(cdm, CELECOXIB)))
    for d, s in zip(out[0], out[1], strict=True):
        assert_same_tables(d, s)


def test_scratch_views_are_dropped_after_a_failed_query(parquet_cdm: Path, spark: Any) -> None:
    def ours(prefix: str) -> list[str]:
        return [t.name for t in spark.catalog.listTables() if t.isTemporary and t.name.startswith(prefix)]

    with (
        pytest.raises(Exception, match=r"UNRESOLVED_COLUMN|cannot be resolved"),
        open_cdm(f"spark+local://2?path={parquet_cdm}") as cdm,
    ):
        engine = cdm.engine
        assert isinstance(engine, SparkEngine)
        assert cdm.orphan_rows == {"observation_period": 2649}
        scratch = cdm.temp_name("first_persons")
        cdm.execute(f"CREATE TABLE {scratch} AS SELECT person_id FROM person ORDER BY person_id LIMIT 3")
        assert len(ours(engine.prefix)) > len(LOADED)  # the CDM views and the cached scratch table
        cdm.execute(f"CREATE TABLE {cdm.temp_name('broken')} AS SELECT no_such_column FROM {scratch}")
    assert ours(engine.prefix) == []
    assert not any(engine.prefix in str(e.name()) for e in spark.sparkContext._jsc.sc().getRDDStorageInfo())


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("spark+local://?path=/no/such/folder", "no such folder"),
        ("spark+local:///data/cdm", r"give the CDM folder as a parameter, e.g. spark\+local://\?path=/data/cdm"),
        ("spark+local://", "say where the CDM is"),
        ("spark+local://two?path=/x", "number of cores"),
        ("spark+local://?database=no_such_db_x1", "cannot list the tables"),
    ],
)
def test_a_wrong_spark_source_is_a_clear_error_exit_2(source: str, message: str, spark: Any, cli_env: Path) -> None:
    with pytest.raises(UserInputError, match=message):
        open_cdm(source)
    result = CliRunner().invoke(app, ["study", "incidence", "--cdm", source, "--target", "1", "--outcome", "2"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
