"""Reading CDMs: Eunomia CSVs (published figures and quirks), a hand-made CSV folder, DuckDB files,
PostgreSQL, and clear errors for bad input."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import create_engine, text

from riskplan.errors import UserInputError
from riskplan.studies.cdm import Cdm, cdm_from_records, open_cdm, split_schema
from riskplan.studies.concepts import ConceptSet, expand_concept_set, parse_concept_ids
from shared_data import missing_shared

EUNOMIA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "eunomia_gibleed"
SMALL = Path(__file__).resolve().parents[1] / "data" / "cdm_small"
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="module")
def eunomia() -> Iterator[Cdm]:
    if not (EUNOMIA / "person.csv").is_file():
        missing_shared(f"Eunomia GiBleed CSVs are absent at {EUNOMIA} (the shared data folder is needed)")
    cdm = open_cdm(EUNOMIA)
    yield cdm
    cdm.close()


def test_eunomia_published_counts(eunomia: Cdm) -> None:
    assert eunomia.count("person") == 2694
    celecoxib = expand_concept_set(eunomia, ConceptSet("celecoxib", (1118084,)))
    assert celecoxib.descendants_included
    exposed = eunomia.scalar(
        "SELECT count(DISTINCT person_id) FROM drug_exposure "
        f"WHERE drug_concept_id IN (SELECT concept_id FROM {celecoxib.table})"
    )
    assert exposed == 1844
    bleed = expand_concept_set(eunomia, ConceptSet("gi bleed", (192671,)))
    cases = eunomia.scalar(
        "SELECT count(DISTINCT person_id) FROM condition_occurrence "
        f"WHERE condition_concept_id IN (SELECT concept_id FROM {bleed.table})"
    )
    assert cases == 479


def test_eunomia_quirks_are_reported(eunomia: Cdm) -> None:
    assert eunomia.orphan_rows == {"observation_period": 2649}
    assert eunomia.count("observation_period") == 5343 - 2649
    assert any("2,649" in n for n in eunomia.notes)
    assert "death" in eunomia.tables_created_empty
    assert [r[0] for r in eunomia.con.execute("DESCRIBE death").fetchall()][:2] == ["person_id", "death_date"]
    summary = eunomia.summary().one(table="observation_period")
    assert summary["rows_for_unknown_persons_ignored"] == 2649


def test_csv_folder_without_concept_ancestor() -> None:
    with open_cdm(SMALL) as cdm:
        assert cdm.count("person") == 5
        assert cdm.orphan_rows == {"observation_period": 1}
        assert not cdm.has_concept_ancestor
        assert any("without descendants" in n for n in cdm.notes)
        cs = expand_concept_set(cdm, ConceptSet("target", (1001, 424242)))
        assert not cs.descendants_included
        assert cs.concept_ids == (1001, 424242)
        assert cs.unknown == (424242,)
        assert cs.note and "descendants were not included" in cs.note


def test_duckdb_file_source(tmp_path: Path) -> None:
    db = tmp_path / "cdm.duckdb"
    con = duckdb.connect(str(db))
    for table in ("person", "observation_period", "drug_exposure"):
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv('{SMALL / (table + '.csv')}', header=true)")
    con.close()
    with open_cdm(db) as cdm:
        assert cdm.count("drug_exposure") == 5
        assert "condition_occurrence" in cdm.tables_created_empty
        assert cdm.count("condition_occurrence") == 0


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("/no/such/folder", "no such folder or file"),
        ("{tmp}/empty", "missing required CDM table(s) person, observation_period"),
        ("{tmp}/file.txt", "not a CDM source"),
    ],
)
def test_bad_sources_are_user_errors(tmp_path: Path, source: str, message: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(UserInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        open_cdm(source.format(tmp=tmp_path))


def test_wrong_column_type_is_user_error(tmp_path: Path) -> None:
    (tmp_path / "person.csv").write_text("person_id,year_of_birth\nabc,1950\n")
    (tmp_path / "observation_period.csv").write_text("person_id,observation_period_start_date\n1,2010-01-01\n")
    with pytest.raises(UserInputError, match="does not fit the OMOP CDM"):
        open_cdm(tmp_path)


def test_parse_concept_ids() -> None:
    assert parse_concept_ids("1118084, 1124300,1118084") == (1118084, 1124300)
    for bad in ("", "abc", "12;13", "1.5"):
        with pytest.raises(UserInputError, match="concept id"):
            parse_concept_ids(bad)


def test_cdm_from_records_rejects_unknown_table_and_column() -> None:
    with pytest.raises(UserInputError, match="not an OMOP CDM table"):
        cdm_from_records({"persons": []})
    with pytest.raises(UserInputError, match="no column"):
        cdm_from_records({"person": [{"person_id": 1, "age": 3}]})


def test_split_schema() -> None:
    assert split_schema("postgresql://u@h:5432/db?schema=cdm") == ("postgresql://u@h:5432/db", "cdm")
    assert split_schema("postgresql://u@h/db?sslmode=disable&schema=x") == ("postgresql://u@h/db?sslmode=disable", "x")
    assert split_schema("postgresql://u@h/db") == ("postgresql://u@h/db", None)


def _postgres_reason() -> str | None:
    try:
        engine = create_engine(
            PG_URL.replace("postgresql://", "postgresql+psycopg://"), connect_args={"connect_timeout": 3}
        )
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_URL}: {exc.__class__.__name__}"
    return None


@pytest.mark.postgres
def test_postgres_source_in_its_own_schema() -> None:
    reason = _postgres_reason()
    if reason:
        pytest.skip(reason)
    schema = f"cdm_t_{uuid.uuid4().hex[:10]}"
    engine = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            conn.execute(
                text(
                    f'CREATE TABLE "{schema}".person '
                    "(person_id bigint, gender_concept_id integer, year_of_birth integer)"
                )
            )
            conn.execute(
                text(
                    f'CREATE TABLE "{schema}".observation_period (observation_period_id bigint, person_id bigint, '
                    "observation_period_start_date date, observation_period_end_date date)"
                )
            )
            conn.execute(
                text(
                    f'CREATE TABLE "{schema}".drug_exposure (drug_exposure_id bigint, person_id bigint, '
                    "drug_concept_id integer, drug_exposure_start_date date, drug_exposure_end_date date, "
                    "quantity numeric(10,2))"
                )
            )
            conn.execute(text(f'INSERT INTO "{schema}".person VALUES (1, 8532, 1950), (2, 8507, 1980)'))
            conn.execute(
                text(
                    f"INSERT INTO \"{schema}\".observation_period VALUES (1, 1, '2010-01-01', '2012-12-31'), "
                    "(2, 2, '2010-01-01', '2012-12-31'), (3, 7, '2010-01-01', '2012-12-31')"
                )
            )
            conn.execute(
                text(
                    f"INSERT INTO \"{schema}\".drug_exposure VALUES (1, 1, 1001, '2011-05-01', '2011-05-30', 2.5), "
                    "(2, 2, 1001, '2011-06-01', NULL, NULL)"
                )
            )
        with open_cdm(f"{PG_URL}?schema={schema}") as cdm:
            assert cdm.count("person") == 2
            assert cdm.orphan_rows == {"observation_period": 1}
            assert cdm.in_database
            rows = cdm.rows(
                "SELECT person_id, drug_exposure_start_date, drug_exposure_end_date, quantity "
                "FROM drug_exposure ORDER BY 1"
            )
            assert str(rows[0][1]) == "2011-05-01" and rows[0][3] == 2.5
            assert rows[1][2] is None
            assert "concept" in cdm.tables_created_empty
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def test_postgres_unreachable_is_user_error() -> None:
    with pytest.raises(UserInputError, match="PostgreSQL"):
        open_cdm("postgresql://nobody@127.0.0.1:1/nothing?schema=cdm")
