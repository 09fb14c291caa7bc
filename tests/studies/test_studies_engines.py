"""The same study analyses on DuckDB and inside PostgreSQL give the same numbers (issue 17).

Eunomia GiBleed is loaded once into a PostgreSQL schema of its own (COPY, with the column types DuckDB
infers from the CSVs) and analysed there in the database; the DuckDB side reads the CSV folder.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from riskplan.errors import UserInputError
from riskplan.studies.cdm import Cdm, open_cdm
from riskplan.studies.characteristics import baseline_characteristics
from riskplan.studies.cohorts import (
    Cohort,
    NewUserCohortDefinition,
    TarKind,
    TimeAtRisk,
    build_comparative_cohorts,
    build_new_user_cohort,
)
from riskplan.studies.concepts import ConceptSet
from riskplan.studies.engines import PostgresEngine, translate
from riskplan.studies.incidence import incidence
from riskplan.studies.labs import lab_safety
from riskplan.studies.outcomes import outcome_from_concept_ids
from riskplan.studies.pregnancy import pregnancy_outcomes
from riskplan.studies.results import ResultTable, result_tables
from riskplan.studies.survival import time_to_first_event
from riskplan.studies.utilisation import drug_utilisation
from shared_data import missing_shared

EUNOMIA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "eunomia_gibleed"
PG = "postgresql://postgres@127.0.0.1:5432/test"
LOADED = (
    "person",
    "observation_period",
    "drug_exposure",
    "condition_occurrence",
    "observation",
    "measurement",
    "visit_occurrence",
    "concept",
    "concept_ancestor",
    "concept_synonym",
)
_PG_TYPES = {"BIGINT": "bigint", "INTEGER": "integer", "DOUBLE": "double precision", "DATE": "date"}
CELECOXIB = ConceptSet("celecoxib", (1118084,))
DICLOFENAC = ConceptSet("diclofenac", (1124300,))
GI_BLEED = outcome_from_concept_ids("GI bleed", (192671,))


@pytest.fixture(scope="module")
def pg_schema() -> Iterator[str]:
    """Eunomia in a PostgreSQL schema of this module's own, loaded once with COPY."""
    if not (EUNOMIA / "person.csv").is_file():
        missing_shared(f"Eunomia GiBleed CSVs are absent at {EUNOMIA}")
    try:
        admin = psycopg.connect(PG, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG}: {exc.__class__.__name__}")
    schema = f"eunomia_{uuid.uuid4().hex[:10]}"
    duck = duckdb.connect()
    try:
        admin.execute(f'CREATE SCHEMA "{schema}"')  # type: ignore[arg-type]
        for table in LOADED:
            path = EUNOMIA / f"{table}.csv"
            described = duck.execute(f"DESCRIBE SELECT * FROM read_csv('{path}', header = true, sample_size = -1)")
            cols = ", ".join(f'"{name}" {_PG_TYPES.get(str(typ), "text")}' for name, typ, *_ in described.fetchall())
            admin.execute(f'CREATE TABLE "{schema}"."{table}" ({cols})')  # type: ignore[arg-type]
            with (
                admin.cursor() as cur,
                cur.copy(f'COPY "{schema}"."{table}" FROM STDIN WITH (FORMAT csv, HEADER true)') as copy,  # type: ignore[arg-type]
            ):
                copy.write(path.read_bytes())
            admin.execute(f'ANALYZE "{schema}"."{table}"')  # type: ignore[arg-type]
        yield schema
    finally:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # type: ignore[arg-type]
        admin.close()
        duck.close()


@pytest.fixture(scope="module")
def engines(pg_schema: str) -> Iterator[tuple[Cdm, Cdm]]:
    """The same CDM twice: read into DuckDB from the CSV folder, and in PostgreSQL (in the database)."""
    with open_cdm(EUNOMIA) as duck, open_cdm(f"{PG}?schema={pg_schema}") as pg:
        yield duck, pg


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return (math.isnan(a) and math.isnan(b)) or math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, dt.datetime | dt.date) and isinstance(b, dt.datetime | dt.date):
        return str(a)[:10] == str(b)[:10]
    return bool(a == b)


def assert_same_tables(duck_result: Any, pg_result: Any) -> int:
    """Every result table of the two results: same columns, rows and values (floats within 1e-9)."""
    duck_tables, pg_tables = result_tables(duck_result), result_tables(pg_result)
    assert duck_tables.keys() == pg_tables.keys()
    for name, d in duck_tables.items():
        p = pg_tables[name]
        assert d.columns == p.columns, name
        assert len(d.rows) == len(p.rows), name
        for dr, pr in zip(d.rows, p.rows, strict=True):
            assert all(_same(x, y) for x, y in zip(dr, pr, strict=True)), (name, dr, pr)
    return len(duck_tables)


def _cohorts(cdm: Cdm, tar: TimeAtRisk) -> tuple[Cohort, Cohort]:
    return build_comparative_cohorts(
        cdm,
        NewUserCohortDefinition("celecoxib", CELECOXIB, 365, tar),
        NewUserCohortDefinition("diclofenac", DICLOFENAC, 365, tar),
    )


def test_celecoxib_gi_bleed_incidence_is_identical_in_postgresql_and_only_result_rows_come_back(
    engines: tuple[Cdm, Cdm],
) -> None:
    duck, pg = engines
    assert pg.in_database and isinstance(pg.engine, PostgresEngine) and not duck.in_database
    with pytest.raises(UserInputError, match="no DuckDB connection"):
        _ = pg.con
    assert pg.orphan_rows == duck.orphan_rows == {"observation_period": 2649}
    fetched_before = pg.engine.rows_fetched
    results = []
    for cdm in engines:
        t, c = _cohorts(cdm, TimeAtRisk(TarKind.SINCE_FIRST))
        results.append(((t, c), incidence(cdm, t, GI_BLEED, comparator=c)))
    fetched = pg.engine.rows_fetched - fetched_before
    (dt_, dc), d = results[0]
    (pt_, pc), p = results[1]
    assert (dt_.persons, dc.persons) == (pt_.persons, pc.persons)
    assert_same_tables(dt_.attrition, pt_.attrition)
    assert_same_tables(d, p)
    row = p.overall("celecoxib")
    assert (row["persons"], row["events"]) == (1800, 355)
    assert round(float(row["person_years"]), 2) == 30133.35
    assert p.rate_ratio is not None and d.rate_ratio is not None
    assert math.isclose(p.rate_ratio.ratio or 0, d.rate_ratio.ratio or 0, rel_tol=1e-9)
    # Only result rows crossed the wire: Eunomia has 67,707 drug exposures and 65,332 conditions.
    assert fetched < 200, fetched


def test_on_treatment_cohorts_characteristics_and_survival_inputs_are_identical(engines: tuple[Cdm, Cdm]) -> None:
    out = []
    for cdm in engines:
        t, c = _cohorts(cdm, TimeAtRisk(TarKind.ON_TREATMENT, grace_days=30))
        inc = incidence(cdm, t, GI_BLEED, comparator=c, concomitant=ConceptSet("nsaid", (1124300, 1118084)))
        chars = baseline_characteristics(cdm, t, c, top_conditions=5)
        surv = time_to_first_event(cdm, inc)
        out.append((t.attrition, inc, chars, surv))
    for d, p in zip(out[0], out[1], strict=True):
        assert assert_same_tables(d, p) >= 1
    assert out[1][2].max_abs_smd == pytest.approx(out[0][2].max_abs_smd, rel=1e-9)


def test_utilisation_labs_and_pregnancy_are_identical(engines: tuple[Cdm, Cdm]) -> None:
    out = []
    for cdm in engines:
        cohort = build_new_user_cohort(cdm, NewUserCohortDefinition("celecoxib", CELECOXIB, 365))
        out.append((drug_utilisation(cdm, cohort), lab_safety(cdm, cohort), pregnancy_outcomes(cdm, CELECOXIB)))
    for d, p in zip(out[0], out[1], strict=True):
        assert_same_tables(d, p)


def _leftovers(schema: str, prefix: str) -> list[str]:
    with psycopg.connect(PG, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND table_name LIKE %s",
            (schema, prefix + "%"),
        ).fetchall()
        return [r[0] for r in rows]


def test_scratch_tables_are_dropped_after_a_failure_and_after_a_cancelled_query(pg_schema: str) -> None:
    # A run's own scratch schema disappears when the analysis raises.
    with pytest.raises(RuntimeError), open_cdm(f"{PG}?schema={pg_schema}") as cdm:
        engine = cdm.engine
        assert isinstance(engine, PostgresEngine)
        build_new_user_cohort(cdm, NewUserCohortDefinition("celecoxib", CELECOXIB))
        assert engine.scratch_tables()
        raise RuntimeError("analysis failed half way")
    with psycopg.connect(PG, autocommit=True) as conn:
        assert conn.execute(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s", (engine.scratch_schema,)
        ).fetchone() == (0,)
    # In a results schema the user names, a query killed midway leaves none of the run's tables behind.
    results = f"results_{uuid.uuid4().hex[:8]}"
    try:
        with open_cdm(f"{PG}?schema={pg_schema}&scratch={results}") as cdm:
            engine = cdm.engine
            assert isinstance(engine, PostgresEngine) and engine.scratch_schema == results
            build_new_user_cohort(cdm, NewUserCohortDefinition("celecoxib", CELECOXIB))
            assert len(_leftovers(results, engine.prefix)) > 5
            killer = threading.Timer(
                0.5,
                lambda: psycopg.connect(PG, autocommit=True).execute(
                    "SELECT pg_cancel_backend(%s)", (engine.backend_pid,)
                ),
            )
            killer.start()
            with pytest.raises(psycopg.errors.QueryCanceled):
                cdm.execute(f"CREATE TABLE {cdm.temp_name('slow')} AS SELECT 1 AS x FROM pg_sleep(20) AS s")
            killer.join()
        assert _leftovers(results, engine.prefix) == []
    finally:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{results}" CASCADE')  # type: ignore[arg-type]


def test_bad_schema_names_and_missing_tables_are_user_errors(pg_schema: str) -> None:
    with pytest.raises(UserInputError, match="not a PostgreSQL schema name"):
        open_cdm(f"{PG}?schema=cdm;drop")
    with pytest.raises(UserInputError, match="missing required CDM table"):
        open_cdm(f"{PG}?schema=no_such_schema_{uuid.uuid4().hex[:6]}")


def test_translation_is_sqlglot_from_duckdb_sql() -> None:
    sql = "SELECT date_diff('day', a, b) + 1 AS d FROM (SELECT * FROM person) QUALIFY row_number() OVER () = 1"
    out = translate(sql, "postgres", (("person", "s.v_person"),))
    assert 'FROM "s"."v_person" AS person' in out and "AS _q1" in out and "QUALIFY" not in out
    assert ResultTable.from_records("x", ("a",), [(1,)]).rows == ((1,),)
