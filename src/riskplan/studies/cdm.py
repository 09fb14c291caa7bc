"""Reading patient-level data in the OMOP CDM v5.4 into DuckDB.

Sources, chosen by :func:`open_cdm` from what it is given:

* a folder with one file per table (``person.parquet`` or ``person.csv`` / ``person.csv.gz``,
  lower-case column names);
* a DuckDB database file (``.duckdb`` / ``.db``), tables in schema ``main`` or the one named;
* a PostgreSQL URL (``postgresql://user@host:port/db?schema=cdm``), analysed inside PostgreSQL
  (:func:`open_postgres`; :func:`load_postgres` copies it into DuckDB instead);
* a Spark URL (``spark+local://?path=/data/cdm``, ``spark://host:7077?database=cdm&prefix=omop_``),
  analysed in Spark SQL (:mod:`riskplan.studies.spark_engine`).

Every table is normalised to the standard columns and types of :mod:`riskplan.studies.schema`:
absent columns become NULL, extra columns are left out, and absent optional tables are created empty.
Two quirks of real data are handled and reported in :attr:`Cdm.notes`:

* rows of person-level tables (``observation_period`` first) for persons absent from ``person`` are
  ignored and counted (Eunomia has 2,649 such ``observation_period`` rows);
* without ``concept_ancestor`` no descendant expansion is done, and results say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from riskplan.errors import UserInputError
from riskplan.studies.engines import DuckDbEngine, Engine, PostgresEngine, cdm_view_sql
from riskplan.studies.results import ResultTable
from riskplan.studies.schema import (
    CDM_TABLES,
    PERSON_TABLES,
    REQUIRED_TABLES,
    create_empty_sql,
    create_view_sql,
    storage_table,
)

_FILE_SUFFIXES = (".parquet", ".csv", ".csv.gz", ".tsv")
_PG_CHUNK_ROWS = 50_000


@dataclass
class Cdm:
    """A CDM as analyses see it: the :class:`Engine` that runs their SQL, and what was found on opening.

    On DuckDB the CDM is loaded into memory; on PostgreSQL it stays in the database and only result
    rows come back (see :mod:`riskplan.studies.engines`). Analyses use :meth:`execute`, :meth:`rows`,
    :meth:`query`, :meth:`arrays` and :meth:`temp_name`, never a connection, so they run on both.
    """

    engine: Engine = field(repr=False)
    source: str
    tables_present: tuple[str, ...]
    tables_created_empty: tuple[str, ...]
    orphan_rows: dict[str, int]
    notes: list[str]

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection (DuckDB sources only): for inspecting the CDM by hand."""
        if isinstance(self.engine, DuckDbEngine):
            return self.engine.con
        raise UserInputError(f"{self.source}: runs inside {self.engine.dialect}; there is no DuckDB connection")

    @property
    def in_database(self) -> bool:
        """True when the analyses run where the data is (not on a copy in DuckDB)."""
        return not isinstance(self.engine, DuckDbEngine)

    @property
    def has_concept_ancestor(self) -> bool:
        """True when ``concept_ancestor`` came with the source and has rows."""
        return "concept_ancestor" in self.tables_present and self.count("concept_ancestor") > 0

    def execute(self, sql: str, params: list[Any] | None = None) -> None:
        """Run a statement (DuckDB dialect; translated for the engine)."""
        self.engine.execute(sql, params)

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """The result rows of a query (DuckDB dialect; translated for the engine)."""
        return self.engine.query(sql, params)[1]

    def arrays(self, sql: str) -> dict[str, np.ndarray[Any, Any]]:
        """A query's result as one NumPy array per column (as DuckDB's ``fetchnumpy``)."""
        if isinstance(self.engine, DuckDbEngine):
            result = self.engine.con.execute(sql).fetchnumpy()
            self.engine.rows_fetched += len(next(iter(result.values()), ()))
            return {k: np.asarray(v) for k, v in result.items()}
        cols, rows = self.engine.query(sql)
        values = list(zip(*rows, strict=True)) if rows else [() for _ in cols]
        out: dict[str, np.ndarray[Any, Any]] = {}
        for name, column in zip(cols, values, strict=True):
            kinds = {type(v) for v in column if v is not None}
            if kinds <= {int, float} and None not in column:
                out[name] = np.asarray(column, dtype=float if float in kinds else np.int64)
            else:
                out[name] = np.asarray(column, dtype=object)
        return out

    def count(self, table: str) -> int:
        """Rows of a table or subquery; a CDM table's count is asked of the engine once (analyses never
        change CDM tables), which spares an in-database engine a job per concept set."""
        if table in CDM_TABLES:
            counts: dict[str, int] = self.__dict__.setdefault("_cdm_counts", {})
            if table not in counts:
                counts[table] = int(self.scalar(f"SELECT count(*) FROM {table}"))
            return counts[table]
        return int(self.scalar(f"SELECT count(*) FROM {table}"))

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def query(self, name: str, sql: str, params: list[Any] | None = None) -> ResultTable:
        """Run SQL and keep the result and the SQL as a :class:`ResultTable`."""
        cols, rows = self.engine.query(sql, params)
        return ResultTable(name=name, columns=cols, rows=tuple(rows), sql=sql.strip())

    def temp_name(self, prefix: str) -> str:
        """A fresh scratch table name for an intermediate (inspectable) analysis table."""
        return self.engine.scratch_name(prefix)

    def summary(self) -> ResultTable:
        """Rows per CDM table and what happened on loading."""
        rows = []
        for table in CDM_TABLES:
            status = "present" if table in self.tables_present else "absent (created empty)"
            rows.append((table, self.count(table), status, self.orphan_rows.get(table, 0)))
        return ResultTable.from_records(
            "cdm_tables", ("table", "rows", "status", "rows_for_unknown_persons_ignored"), rows
        )

    def close(self) -> None:
        """Close the engine; in-database scratch tables are dropped."""
        self.engine.close()

    def __enter__(self) -> Cdm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_cdm(source: str | Path, schema: str | None = None) -> Cdm:
    """Open a CDM from a folder of Parquet/CSV files, a DuckDB file or a PostgreSQL URL.

    The source decides the engine: a folder or DuckDB file is loaded into DuckDB; a PostgreSQL URL
    (``postgresql://user@host/db?schema=cdm&scratch=results``) is analysed inside PostgreSQL; a Spark
    URL (``spark+local://?path=/data/cdm``, ``spark://host:7077?database=cdm&prefix=omop_``) in Spark.
    """
    text = str(source)
    if re.match(r"^postgres(ql)?(\+\w+)?://", text):
        return open_postgres(text, schema=schema)
    if re.match(r"^spark(\+local)?://", text):
        return open_spark(text)
    path = Path(text)
    if path.is_dir():
        return load_folder(path)
    if path.is_file():
        if path.suffix.lower() in (".duckdb", ".db", ".ddb"):
            return load_duckdb_file(path, schema=schema)
        raise UserInputError(
            f"{path}: not a CDM source; give a folder of Parquet/CSV files (one per table), "
            "a DuckDB file (.duckdb) or a postgresql:// URL"
        )
    raise UserInputError(f"{path}: no such folder or file (expected a CDM folder, DuckDB file or URL)")


def _raw_columns(con: duckdb.DuckDBPyConnection, relation_sql: str) -> dict[str, str]:
    """Lower-case column name -> the column name as the source spells it."""
    cur = con.execute(f"SELECT * FROM {relation_sql} LIMIT 0")
    return {d[0].casefold(): d[0] for d in cur.description or ()}


def _normalise_select(table: str, raw_cols: dict[str, str], relation_sql: str, all_columns: bool = True) -> str:
    """SELECT casting the source's columns to the standard types (absent ones as NULL if ``all_columns``)."""
    parts = []
    for col, typ in CDM_TABLES[table]:
        if col in raw_cols:
            parts.append(f'CAST("{raw_cols[col]}" AS {typ}) AS {col}')
        elif all_columns:
            parts.append(f"CAST(NULL AS {typ}) AS {col}")
    return f"SELECT {', '.join(parts)} FROM {relation_sql}"


def create_empty(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """An empty CDM table with every standard column (storage table and view)."""
    con.execute(create_empty_sql(table, storage_table(table)))
    con.execute(create_view_sql(table))


def _create_normalised(con: duckdb.DuckDBPyConnection, table: str, relation_sql: str, where: str) -> None:
    raw_cols = _raw_columns(con, relation_sql)
    if table in ("person", "observation_period") and "person_id" not in raw_cols:
        raise UserInputError(f"{where}: table {table} has no person_id column (columns: {', '.join(raw_cols)})")
    try:
        select = _normalise_select(table, raw_cols, relation_sql, all_columns=False)
        con.execute(f"CREATE OR REPLACE TABLE {storage_table(table)} AS {select}")
        con.execute(create_view_sql(table, set(raw_cols)))
    except duckdb.Error as exc:
        raise UserInputError(f"{where}: table {table} does not fit the OMOP CDM v5.4 column types: {exc}") from None


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _folder_relation(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".parquet"):
        return f"read_parquet({_sql_string(str(path))})"
    delim = "\\t" if name.endswith(".tsv") else ","
    return f"read_csv({_sql_string(str(path))}, header = true, sample_size = -1, delim = '{delim}')"


def load_folder(folder: Path) -> Cdm:
    """Load a folder with one Parquet or CSV file per CDM table (lower-case names)."""
    files = {p.name.lower(): p for p in folder.iterdir() if p.is_file()}
    con = duckdb.connect()
    present: list[str] = []
    for table in CDM_TABLES:
        found = next((files[table + s] for s in _FILE_SUFFIXES if table + s in files), None)
        if found is None:
            continue
        try:
            _create_normalised(con, table, _folder_relation(found), str(found))
        except duckdb.Error as exc:
            raise UserInputError(f"{found}: cannot be read as a CDM table: {exc}") from None
        present.append(table)
    return _finish(con, str(folder), present)


def load_duckdb_file(path: Path, schema: str | None = None) -> Cdm:
    """Load the CDM tables of a DuckDB database file (read only; copied into memory)."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {_sql_string(str(path))} AS src (READ_ONLY)")
    except duckdb.Error as exc:
        raise UserInputError(f"{path}: not a readable DuckDB database: {exc}") from None
    rows = con.execute(
        "SELECT table_schema, lower(table_name), table_name FROM information_schema.tables WHERE table_catalog = 'src'"
    ).fetchall()
    schemas = sorted({r[0] for r in rows if r[1] == "person"})
    chosen = schema or ("main" if "main" in schemas else (schemas[0] if schemas else "main"))
    available = {r[1]: r[2] for r in rows if r[0] == chosen}
    present: list[str] = []
    for table in CDM_TABLES:
        if table in available:
            _create_normalised(con, table, f'src."{chosen}"."{available[table]}"', f"{path} ({chosen})")
            present.append(table)
    con.execute("DETACH src")
    return _finish(con, f"{path} (schema {chosen})", present)


def split_schema(url: str) -> tuple[str, str | None]:
    """Take an optional ``schema=`` query parameter off a PostgreSQL URL."""
    return _take_param(url, "schema")


def load_postgres(url: str, schema: str | None = None) -> Cdm:
    """Copy CDM tables from PostgreSQL into DuckDB (rows in chunks, as NumPy arrays).

    The path before in-database analysis (:func:`open_postgres`), kept for comparison and for
    analyses that need every row on the client; memory grows with the CDM.
    """
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.exc import SQLAlchemyError

    from riskplan.store import normalise_url

    base_url, url_schema = split_schema(url)
    schema = schema or url_schema or "public"
    try:
        engine = create_engine(normalise_url(base_url), connect_args={"connect_timeout": 5})
    except Exception as exc:
        raise UserInputError(f"not a usable PostgreSQL URL: {exc}") from None
    con = duckdb.connect()
    present: list[str] = []
    try:
        with engine.connect() as conn:
            names = {n.lower(): n for n in inspect(conn).get_table_names(schema=schema)}
            for table in CDM_TABLES:
                if table not in names:
                    continue
                create_empty(con, table)
                result = conn.execution_options(stream_results=True).execute(
                    text(f'SELECT * FROM "{schema}"."{names[table]}"')
                )
                raw = {k.casefold(): k for k in result.keys()}  # noqa: SIM118 (a SQLAlchemy result, not a dict)
                order = list(result.keys())
                while chunk := result.fetchmany(_PG_CHUNK_ROWS):
                    _insert_chunk(con, table, order, raw, chunk)
                present.append(table)
    except SQLAlchemyError as exc:
        con.close()
        raise UserInputError(
            f"cannot read the CDM from PostgreSQL (schema {schema}): {exc.__class__.__name__}: {exc}"
        ) from None
    finally:
        engine.dispose()
    shown = base_url.split("@")[-1]
    return _finish(con, f"postgresql://…@{shown} (schema {schema})", present)


def _insert_chunk(
    con: duckdb.DuckDBPyConnection, table: str, order: list[str], raw: dict[str, str], chunk: Any
) -> None:
    columns = list(zip(*chunk, strict=True))
    pg_chunk = {name: np.array(values, dtype=object) for name, values in zip(order, columns, strict=True)}
    select = _normalise_select(table, raw, "pg_chunk")
    con.execute(f"INSERT INTO {storage_table(table)} {select}")
    del pg_chunk


def _finish(con: duckdb.DuckDBPyConnection, source: str, present: list[str]) -> Cdm:
    missing_required = [t for t in REQUIRED_TABLES if t not in present]
    if missing_required:
        con.close()
        raise UserInputError(
            f"{source}: missing required CDM table(s) {', '.join(missing_required)} "
            f"(found: {', '.join(present) or 'none'})"
        )
    created = []
    for table in CDM_TABLES:
        if table not in present:
            create_empty(con, table)
            created.append(table)
    orphans: dict[str, int] = {}
    for table in PERSON_TABLES:
        n = int(
            con.execute(
                f"SELECT count(*) FROM {table} t "
                "WHERE NOT EXISTS (SELECT 1 FROM person p WHERE p.person_id = t.person_id)"
            ).fetchone()[0]  # type: ignore[index]
        )
        if n:
            con.execute(
                f"DELETE FROM {storage_table(table)} t "
                "WHERE NOT EXISTS (SELECT 1 FROM person p WHERE p.person_id = t.person_id)"
            )
            orphans[table] = n
    return _described(DuckDbEngine(con), source, present, created, orphans)


def _described(engine: Engine, source: str, present: list[str], created: list[str], orphans: dict[str, int]) -> Cdm:
    """The :class:`Cdm` with the notes every source gets: ignored rows, tables created empty."""
    notes = [f"{t}: {n:,} rows for persons absent from person were ignored" for t, n in orphans.items()]
    optional_absent = [t for t in created if t not in ("concept_ancestor", "concept_synonym")]
    if optional_absent:
        notes.append(f"tables absent from the source, created empty: {', '.join(optional_absent)}")
    cdm = Cdm(
        engine=engine,
        source=source,
        tables_present=tuple(present),
        tables_created_empty=tuple(created),
        orphan_rows=orphans,
        notes=notes,
    )
    if not cdm.has_concept_ancestor:
        notes.append("concept_ancestor is absent or empty: concept sets are used as given, without descendants")
    return cdm


def _take_param(url: str, name: str) -> tuple[str, str | None]:
    """Take an optional ``name=`` query parameter off a URL."""
    match = re.search(rf"([?&]){name}=([^&]+)", url)
    if not match:
        return url, None
    cleaned = url[: match.start()] + (match.group(1) if match.group(1) == "?" else "") + url[match.end() :]
    cleaned = cleaned.replace("?&", "?").rstrip("?&")
    return cleaned, match.group(2)


def open_postgres(url: str, schema: str | None = None, scratch: str | None = None) -> Cdm:
    """Open a CDM in PostgreSQL for analysis inside the database (nothing is copied to the client).

    ``postgresql://user@host:port/db?schema=cdm&scratch=results``: the CDM tables are read from
    ``schema`` (default ``public``) through views that present them as standard CDM v5.4 tables
    (absent columns as typed NULLs, absent optional tables empty, rows for persons absent from
    ``person`` left out); the views and every intermediate table go to ``scratch`` (a schema of the
    run's own when not given) and are dropped when the CDM is closed.
    """
    import psycopg

    base, url_schema = split_schema(url)
    base, url_scratch = _take_param(base, "scratch")
    schema = schema or url_schema or "public"
    scratch = scratch or url_scratch
    for what, name in (("schema", schema), ("scratch", scratch)):
        if name is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
            raise UserInputError(f"{what}={name!r}: not a PostgreSQL schema name (letters, digits, underscores)")
    conninfo = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", base)
    shown = f"postgresql://…@{base.split('@')[-1]} (schema {schema}, in the database)"
    try:
        engine = PostgresEngine(conninfo, schema, scratch)
    except psycopg.Error as exc:
        raise UserInputError(f"cannot open the CDM in PostgreSQL (schema {schema}): {exc}".strip()) from None
    try:
        found: dict[str, tuple[str, dict[str, str]]] = {}
        for table_name, column_name in engine.native(
            "SELECT table_name, column_name FROM information_schema.columns "
            f"WHERE table_schema = '{schema}' ORDER BY table_name, ordinal_position"
        ):
            entry = found.setdefault(str(table_name).casefold(), (str(table_name), {}))
            entry[1][str(column_name).casefold()] = str(column_name)
        present = [t for t in CDM_TABLES if t in found]
        missing = [t for t in REQUIRED_TABLES if t not in present]
        if missing:
            raise UserInputError(
                f"{shown}: missing required CDM table(s) {', '.join(missing)} (found: {', '.join(present) or 'none'})"
            )
        for table in ("person", "observation_period"):
            if "person_id" not in found[table][1]:
                raise UserInputError(f"{shown}: table {table} has no person_id column")
        person_key = (found["person"][0], found["person"][1]["person_id"])
        orphans: dict[str, int] = {}
        for table in PERSON_TABLES:
            if table in found and "person_id" in found[table][1]:
                real, cols = found[table]
                n = int(
                    engine.native(
                        f'SELECT count(*) FROM "{schema}"."{real}" t WHERE NOT EXISTS (SELECT 1 FROM '
                        f'"{schema}"."{person_key[0]}" p WHERE p."{person_key[1]}" = t."{cols["person_id"]}")'
                    )[0][0]
                )
                if n:
                    orphans[table] = n
        for table in CDM_TABLES:
            real, cols = found.get(table, (None, {}))  # type: ignore[assignment]
            engine.native(cdm_view_sql(engine, table, real, cols, person_key if table in orphans else None))
        engine.map_cdm({t: f"{engine.scratch_schema}.{engine.prefix}{t}" for t in CDM_TABLES})
        created = [t for t in CDM_TABLES if t not in present]
        return _described(engine, shown, present, created, orphans)
    except psycopg.Error as exc:
        engine.close()
        raise UserInputError(f"{shown}: cannot read the CDM: {exc}".strip()) from None
    except BaseException:
        engine.close()
        raise


def cdm_from_records(tables: dict[str, list[dict[str, Any]]], source: str = "in-memory records") -> Cdm:
    """A CDM built from Python records, e.g. a handful of persons written in a test or a notebook.

    ``tables`` maps CDM table names to rows (dicts of standard column -> value; dates as ``date``
    objects or ``YYYY-MM-DD`` text). Tables not given are created empty, as for any source.
    """
    con = duckdb.connect()
    for table in CDM_TABLES:
        create_empty(con, table)
    for table, rows in tables.items():
        if table not in CDM_TABLES:
            con.close()
            raise UserInputError(f"{table!r} is not an OMOP CDM table riskplan reads ({', '.join(CDM_TABLES)})")
        known = {c for c, _ in CDM_TABLES[table]}
        for row in rows:
            unknown = sorted(set(row) - known)
            if unknown:
                con.close()
                raise UserInputError(f"{table} has no column(s) {', '.join(unknown)}")
            cols = list(row)
            con.execute(
                f"INSERT INTO {storage_table(table)} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                [row[c] for c in cols],
            )
    return _finish(con, source, [t for t in CDM_TABLES if t in tables])


def open_spark(url: str) -> Cdm:
    """Open a CDM for analysis in Spark SQL (nothing is copied to the client).

    ``spark+local://[N]?path=/data/cdm`` (a folder of Parquet or Delta tables, one per CDM table) or
    ``spark://host:7077?database=cdm&prefix=omop_`` (tables of Spark's catalog); see
    :mod:`riskplan.studies.spark_engine`. The normalising views and every intermediate are temporary
    views of the engine's own, dropped when the CDM is closed.
    """
    from riskplan.studies.spark_engine import SparkEngine, open_spark_views, parse_spark_source

    source = parse_spark_source(url)
    engine = SparkEngine(source.master)
    try:
        present, orphans = open_spark_views(engine, source)
        created = [t for t in CDM_TABLES if t not in present]
        return _described(engine, source.shown, present, created, orphans)
    except BaseException:
        engine.close()
        raise
