"""The study analyses on Apache Spark: the :class:`SparkEngine` and the Spark CDM sources (issue 17).

The analyses' SQL (DuckDB dialect) is translated by SQLGlot (``read="duckdb"``, ``write="spark"``) and
run by Spark SQL in the process's one Spark session (:func:`riskplan.store.spark_session`). The CDM is
read through normalising temporary views (standard columns and types, rows for persons absent from
``person`` left out); every intermediate table is a temporary view over its rows, computed once (a
local checkpoint). Both carry the engine's prefix (``rp_<8 hex>_``) and are dropped, their rows freed, by
:meth:`SparkEngine.close`, also after a failed query.
Only result rows come back to the client.

Sources (one form each):

* ``spark+local://?path=/data/cdm`` or ``spark://host:7077?path=s3a://bucket/cdm``: a folder with one
  Parquet file or folder per table (``person.parquet`` or ``person/``), or one Delta table per table
  (``person/_delta_log``; needs the Delta Lake package on the Spark classpath);
* ``spark+local://?database=cdm&prefix=omop_``: tables ``cdm.omop_person``, ... of Spark's catalog.

``spark+local://N`` runs local mode on N cores (all cores when N is left out).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import sqlglot
from sqlglot import exp

from riskplan.errors import UserInputError
from riskplan.store import spark_master, spark_session
from riskplan.studies.engines import Rows, fetched, query_args, scratch_name, translate
from riskplan.studies.schema import CDM_TABLES, PERSON_TABLES, REQUIRED_TABLES

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


class SparkEngine:
    """Runs the analyses in Spark SQL: CDM read through temporary views, intermediates cached there too."""

    dialect = "spark"

    def __init__(self, master: str) -> None:
        self.spark = spark_session(master)
        self.master = master
        self.prefix = f"rp_{uuid.uuid4().hex[:8]}_"
        self.rows_fetched = 0
        self.cdm_names: tuple[tuple[str, str], ...] = ()
        self._scratch: list[str] = []
        self._blocks: dict[str, Any] = {}  # scratch view -> the JVM RDD holding its rows
        self.closed = False

    def map_cdm(self, names: dict[str, str]) -> None:
        """Bare table name (a CDM table, or a scratch table after a DELETE) -> the view the SQL reads."""
        self.cdm_names = tuple(sorted(names.items()))

    def translate(self, sql: str) -> str:
        return translate(sql, self.dialect, self.cdm_names)

    def native(self, sql: str) -> Rows:
        """Run Spark SQL as written (no translation); the rows, if any."""
        df = self.spark.sql(sql)
        return fetched(self, df.columns, df.collect())[1]

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        """A statement: ``CREATE TABLE x AS query`` becomes temporary view ``x`` over the query's rows,
        computed once (:meth:`_materialise`); ``DELETE FROM x WHERE c`` computes ``x``'s remaining rows
        and points ``x`` at them (Spark's own DELETE needs a Delta or other v2 table)."""
        for tree in sqlglot.parse(sql, read="duckdb"):
            if tree is None:
                continue
            if isinstance(tree, exp.Create) and tree.kind == "TABLE" and tree.expression is not None:
                name = tree.this.name if isinstance(tree.this, exp.Table) else tree.this.this.name
                self._materialise(name, tree.expression.sql(dialect="duckdb"), params)
            elif isinstance(tree, exp.Delete):
                name = tree.this.name
                where = tree.args.get("where")
                kept = f"SELECT * FROM {name}"
                cond = where.this if where is not None else None
                if (
                    isinstance(cond, exp.In)
                    and cond.args.get("query") is not None
                    and isinstance(cond.this, exp.Column)
                ):
                    # ``c IN (subquery)``: the rows without a match, as an anti join (Spark plans a
                    # NOT COALESCE(c IN ...) filter as a nested loop over both sides)
                    sub = cond.args["query"]
                    sub = sub.this if isinstance(sub, exp.Subquery) else sub
                    key, sub_key = cond.this.name, sub.selects[0].alias_or_name
                    kept = (
                        f"SELECT _t.* FROM {name} _t LEFT ANTI JOIN (SELECT DISTINCT * FROM "
                        f"({sub.sql(dialect='duckdb')}) _s0) _s ON _t.{key} = _s.{sub_key}"
                    )
                elif cond is not None:
                    kept += f" WHERE NOT COALESCE(({cond.sql(dialect='duckdb')}), FALSE)"
                else:
                    kept += " WHERE FALSE"
                self._materialise(name, kept, params)
            else:
                self.spark.sql(self.translate(tree.sql(dialect="duckdb")), args=list(params) if params else None)

    def _materialise(self, name: str, query: str, params: Sequence[Any] | None) -> None:
        """Compute ``query`` now and make ``name`` a temporary view over its rows, kept by Spark's
        block manager (memory, spilling to disk) until :meth:`close`.

        The view holds the computed rows (a local checkpoint), not the query: a view over the query
        (``CACHE TABLE x AS ...``) keeps its SQL text, which Spark parses and analyses again, with every
        view it reads, in each later statement reading it. The analyses chain a few dozen intermediates,
        so each statement re-planned all before it (seconds of CPU each on a 3,000-person CDM).
        """
        if not name.startswith(self.prefix):
            raise ValueError(f"{name}: Spark scratch tables must be named by scratch_name()")
        df = self.spark.sql(self.translate(query), args=list(params) if params else None)
        rows = df.localCheckpoint(eager=True)
        blocks = rows._jdf.queryExecution().analyzed().rdd()  # the checkpointed RDD holding the rows
        blocks.setName(name)
        rows.createOrReplaceTempView(name)
        previous = self._blocks.pop(name, None)
        self._blocks[name] = blocks
        if previous is not None:  # a DELETE: the rows before it are no longer read
            previous.unpersist(False)

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> tuple[tuple[str, ...], Rows]:
        df = self.spark.sql(self.translate(sql), args=query_args(params))
        return fetched(self, df.columns, df.collect())

    def scratch_name(self, prefix: str) -> str:
        return scratch_name(self, prefix)

    def scratch_tables(self) -> list[str]:
        """This engine's temporary views now in the Spark session (asked of Spark's catalog)."""
        rows = self.spark.sql(f"SHOW VIEWS LIKE '{self.prefix}*'").collect()
        return sorted(str(r["viewName"]) for r in rows if r["isTemporary"])

    def close(self) -> None:
        """Uncache and drop every temporary view of this engine (the session itself stays up)."""
        if self.closed:
            return
        self.closed = True
        for name in {*self._scratch, *self.scratch_tables()}:
            self.spark.catalog.dropTempView(name)
        for blocks in self._blocks.values():
            blocks.unpersist(False)
        self._blocks.clear()


@dataclass(frozen=True)
class SparkSource:
    """Where a Spark CDM is: a master URL and either a folder (``path``) or ``database`` + ``prefix``."""

    master: str
    path: str | None
    database: str | None
    prefix: str

    @property
    def shown(self) -> str:
        where = f"path {self.path}" if self.path else f"tables {self.database}.{self.prefix}*"
        return f"spark {self.master} ({where}, in Spark)"


def parse_spark_source(url: str) -> SparkSource:
    """``spark+local://[N]?path=...``, ``spark://host:port?database=cdm&prefix=omop_`` and the like."""
    parts = urlsplit(url)
    master = spark_master(url.split("?", 1)[0])
    if parts.path not in ("", "/"):
        raise UserInputError(
            f"{url!r}: give the CDM folder as a parameter, e.g. spark+local://?path={parts.path}, "
            "or Spark catalog tables as ?database=cdm&prefix=omop_"
        )
    params = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(params) - {"path", "database", "prefix"})
    if unknown:
        raise UserInputError(
            f"{url!r}: unknown parameter(s) {', '.join(unknown)} (use path=, or database= and prefix=)"
        )
    path = params.get("path", [None])[-1]
    database = params.get("database", [None])[-1]
    prefix = params.get("prefix", [""])[-1] or ""
    if (path is None) == (database is None):
        raise UserInputError(
            f"{url!r}: say where the CDM is: ?path=<folder of Parquet/Delta tables> "
            "or ?database=<Spark database>&prefix=<table prefix>"
        )
    for what, name in (("database", database), ("prefix", prefix or None)):
        if name is not None and not _NAME.fullmatch(name):
            raise UserInputError(f"{what}={name!r}: not a Spark name (letters, digits, underscores)")
    return SparkSource(master=master, path=path, database=database, prefix=prefix)


def _quote_path(path: str) -> str:
    return "`" + path.replace("`", "``") + "`"


def _folder_tables(path: str) -> dict[str, str]:
    """CDM table -> the relation Spark reads it from, for a folder of Parquet files/folders or Delta tables."""
    if "://" in path and not path.startswith("file://"):
        # A remote file system (s3a://, hdfs://, abfss://): the layout is <path>/<table> Parquet folders.
        return {t: f"parquet.{_quote_path(path.rstrip('/') + '/' + t)}" for t in CDM_TABLES}
    folder = Path(path.removeprefix("file://"))
    if not folder.is_dir():
        raise UserInputError(f"path={path}: no such folder (expected one Parquet file or folder per CDM table)")
    found: dict[str, str] = {}
    entries = {p.name.lower(): p for p in folder.iterdir()}
    for table in CDM_TABLES:
        for name in (f"{table}.parquet", table):
            entry = entries.get(name)
            if entry is None:
                continue
            kind = "delta" if (entry / "_delta_log").is_dir() else "parquet"
            found[table] = f"{kind}.{_quote_path(str(entry.resolve()))}"
            break
    return found


def _catalog_tables(engine: SparkEngine, source: SparkSource) -> dict[str, str]:
    try:
        rows = engine.native(f"SHOW TABLES IN {source.database}")
    except Exception as exc:
        raise UserInputError(f"{source.shown}: cannot list the tables of database {source.database}: {exc}") from None
    names = {str(r[1]).casefold(): str(r[1]) for r in rows}
    prefix = source.prefix.casefold()
    return {t: f"{source.database}.{names[prefix + t]}" for t in CDM_TABLES if prefix + t in names}


def _columns(engine: SparkEngine, relation: str, shown: str, table: str) -> dict[str, str]:
    try:
        fields = engine.spark.sql(f"SELECT * FROM {relation} LIMIT 0").columns
    except Exception as exc:
        raise UserInputError(f"{shown}: table {table} cannot be read by Spark: {str(exc).splitlines()[0]}") from None
    return {c.casefold(): c for c in fields}


def open_spark_views(engine: SparkEngine, source: SparkSource) -> tuple[list[str], dict[str, int]]:
    """Create the normalising CDM views of ``source``: the tables present and the orphan rows left out."""
    relations = _folder_tables(source.path) if source.path else _catalog_tables(engine, source)
    present = [t for t in CDM_TABLES if t in relations]
    missing = [t for t in REQUIRED_TABLES if t not in present]
    if missing:
        raise UserInputError(
            f"{source.shown}: missing required CDM table(s) {', '.join(missing)} "
            f"(found: {', '.join(present) or 'none'})"
        )
    cols = {t: _columns(engine, relations[t], source.shown, t) for t in present}
    for table in REQUIRED_TABLES:
        if "person_id" not in cols[table]:
            raise UserInputError(f"{source.shown}: table {table} has no person_id column")
    person_tables = [t for t in PERSON_TABLES if t in present and "person_id" in cols[t]]
    counts = " UNION ALL ".join(
        f"SELECT '{t}' AS t, count(*) AS n FROM {relations[t]} x WHERE NOT EXISTS (SELECT 1 FROM "
        f"{relations['person']} p WHERE p.`{cols['person'][('person_id')]}` = x.`{cols[t]['person_id']}`)"
        for t in person_tables
    )
    orphans = {str(t): int(n) for t, n in engine.native(counts) if n}
    for table in CDM_TABLES:
        parts = []
        for col, typ in CDM_TABLES[table]:
            spark_type = exp.DataType.build(typ, dialect="duckdb").sql(dialect="spark")
            value = f"t.`{cols[table][col]}`" if table in cols and col in cols[table] else "NULL"
            parts.append(f"CAST({value} AS {spark_type}) AS {col}")
        view = f"{engine.prefix}{table}"
        if table not in relations:
            body = f"SELECT {', '.join(parts)} WHERE false"
        else:
            body = f"SELECT {', '.join(parts)} FROM {relations[table]} t"
            if table in orphans:
                body += (
                    f" WHERE EXISTS (SELECT 1 FROM {relations['person']} p "
                    f"WHERE p.`{cols['person']['person_id']}` = t.`{cols[table]['person_id']}`)"
                )
        # A view over the analysed plan (a DataFrame's), not over SQL text Spark would analyse again in
        # every statement reading it.
        engine.spark.sql(body).createOrReplaceTempView(view)
        if table in relations:
            # Kept in Spark's memory (spilling to its disks) once first read: the analyses read the
            # same few tables many times. Cluster memory, not the client's.
            engine.spark.sql(f"CACHE LAZY TABLE {view}")
    engine.map_cdm({t: f"{engine.prefix}{t}" for t in CDM_TABLES})
    return present, orphans
