"""Where study SQL runs: the engine seam between the analyses and the database holding the CDM.

Every analysis is written once, in DuckDB's SQL dialect, against the bare OMOP CDM table names
(``person``, ``drug_exposure``, ...) and the scratch tables it creates itself. An :class:`Engine`
runs that SQL where the data is:

* :class:`DuckDbEngine`: the embedded default (a folder of files or a DuckDB file, loaded into an
  in-memory DuckDB); the SQL runs as written.
* :class:`PostgresEngine`: inside PostgreSQL. The SQL is translated by SQLGlot (``read="duckdb"``,
  ``write="postgres"``); the CDM tables are read through normalising views in a scratch schema and
  intermediate tables are created there too, so only result rows come back to the client.

* :class:`riskplan.studies.spark_engine.SparkEngine`: in Spark SQL (``write="spark"``); the CDM is read
  through temporary views and intermediates are temporary views over their computed rows.

Scratch objects carry the engine's prefix and are dropped by :meth:`Engine.close`, also after a
failed or cancelled query (the connection runs in autocommit, so a failure leaves no open
transaction behind).
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any, Protocol

import duckdb
import sqlglot
from sqlglot import exp

from riskplan.studies.schema import CDM_TABLES

Rows = list[tuple[Any, ...]]


class Engine(Protocol):
    """What an analysis needs from a database: run SQL, get result rows, name and drop scratch tables."""

    dialect: str
    """The SQLGlot dialect the engine speaks (``duckdb``, ``postgres``, ``spark``)."""

    rows_fetched: int
    """Rows the client has fetched so far (the result rows of the analyses, nothing else)."""

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None: ...

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> tuple[tuple[str, ...], Rows]: ...

    def scratch_name(self, prefix: str) -> str: ...

    def scratch_tables(self) -> list[str]: ...

    def close(self) -> None: ...


_counter = itertools.count(1)


def _clean(prefix: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", prefix.casefold())[:40]


class _InDatabase(Protocol):
    """What :func:`scratch_name` and :func:`fetched` use of an in-database engine."""

    prefix: str
    rows_fetched: int
    _scratch: list[str]


def scratch_name(engine: _InDatabase, prefix: str) -> str:
    """A new scratch table name of ``engine``: its run prefix, ``prefix`` in lower case, a number."""
    name = f"{engine.prefix}{_clean(prefix)}_{next(_counter)}"
    engine._scratch.append(name)
    return name


def query_args(params: Sequence[Any] | dict[str, Any] | None) -> Any:
    """Query parameters as the drivers take them: a dict (named) or a list (positional), or None."""
    return params if isinstance(params, dict) else (list(params) if params else None)


def fetched(engine: _InDatabase, columns: Sequence[str], rows: Any) -> tuple[tuple[str, ...], Rows]:
    """A query's result as the analyses read it (numbers as :func:`_plain`), counted in ``rows_fetched``."""
    out = [tuple(_plain(v) for v in r) for r in rows]
    engine.rows_fetched += len(out)
    return tuple(columns), out


class DuckDbEngine:
    """The embedded engine: an in-memory DuckDB connection holding the CDM as views."""

    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.rows_fetched = 0
        self._scratch: list[str] = []

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self.con.execute(sql, list(params) if params else None)

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> tuple[tuple[str, ...], Rows]:
        args = params if isinstance(params, dict) else (list(params) if params else None)
        cur = self.con.execute(sql, args)
        cols = tuple(d[0] for d in cur.description or ())
        rows = [tuple(r) for r in cur.fetchall()]
        self.rows_fetched += len(rows)
        return cols, rows

    def scratch_name(self, prefix: str) -> str:
        name = f"{_clean(prefix)}_{next(_counter)}"
        self._scratch.append(name)
        return name

    def scratch_tables(self) -> list[str]:
        return list(self._scratch)

    def close(self) -> None:
        self.con.close()


@lru_cache(maxsize=2048)
def translate(sql: str, dialect: str, cdm_names: tuple[tuple[str, str], ...] = ()) -> str:
    """``sql`` (DuckDB dialect) in ``dialect``, with bare CDM table names mapped to ``cdm_names``.

    Done by SQLGlot (``sqlglot.transpile`` with a rewrite of the parsed tree): unaliased subqueries in
    FROM get an alias (PostgreSQL before 16 requires one), and each bare CDM table name that is not a
    CTE of the statement is replaced by the qualified name the engine reads it from.
    """
    if dialect == "duckdb" and not cdm_names:
        return sql
    mapping = dict(cdm_names)
    out = []
    for tree in sqlglot.parse(sql, read="duckdb"):
        if tree is None:
            continue
        ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
        aliases = itertools.count(1)
        for node in list(tree.find_all(exp.Subquery)):
            if not node.alias and isinstance(node.parent, exp.From | exp.Join):
                node.set("alias", exp.TableAlias(this=exp.to_identifier(f"_q{next(aliases)}")))
        for table in list(tree.find_all(exp.Table)):
            name = table.name
            if table.args.get("db") or name not in mapping or name in ctes:
                continue
            schema, _, real = mapping[name].rpartition(".")
            qualified = exp.Table(
                this=exp.to_identifier(real, quoted=True), db=exp.to_identifier(schema, quoted=True) if schema else None
            )
            if table.alias:
                qualified.set("alias", table.args["alias"])
            else:
                qualified.set("alias", exp.TableAlias(this=exp.to_identifier(name)))
            table.replace(qualified)
        if dialect == "spark":
            # DuckDB's quantile_cont(x, q) (linear interpolation between the closest ranks) is Spark's
            # percentile(x, q); SQLGlot writes percentile_cont(x, q), which Spark 4 refuses (it takes
            # percentile_cont(q) WITHIN GROUP (ORDER BY x)).
            for pct in list(tree.find_all(exp.PercentileCont)):
                if pct.expression is not None and not isinstance(pct.parent, exp.WithinGroup):
                    pct.replace(exp.Anonymous(this="percentile", expressions=[pct.this, pct.expression]))
            # DuckDB divides DECIMAL literals (365.25) in floating point; Spark would keep DECIMAL with
            # 6 decimal places. Writing them as DOUBLE gives the same numbers on both.
            for literal in list(tree.find_all(exp.Literal)):
                if not literal.is_string and re.search(r"[.eE]", literal.this):
                    literal.replace(exp.cast(literal.copy(), exp.DataType.Type.DOUBLE))
        out.append(tree.sql(dialect=dialect))
    return ";\n".join(out)


def _plain(value: Any) -> Any:
    """PostgreSQL's NUMERIC and Spark's DECIMAL results as Python numbers: whole values as int, others as float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)  # type: ignore[operator]
    return value


class PostgresEngine:
    """Runs the analyses inside PostgreSQL: CDM read through views, scratch tables in a named schema.

    ``scratch_schema`` is where intermediate tables and the CDM's normalising views go; when not given,
    a schema of the engine's own is created and dropped on :meth:`close`. Every scratch object is named
    with this engine's prefix (``rp_<8 hex>_``) so that several runs can share one results schema.
    """

    dialect = "postgres"

    def __init__(self, conninfo: str, cdm_schema: str, scratch_schema: str | None = None) -> None:
        import psycopg

        self.cdm_schema = cdm_schema
        self.prefix = f"rp_{uuid.uuid4().hex[:8]}_"
        self.own_schema = scratch_schema is None
        self.scratch_schema = scratch_schema or f"riskplan_scratch_{self.prefix[3:-1]}"
        self.rows_fetched = 0
        self.cdm_names: tuple[tuple[str, str], ...] = ()
        self._scratch: list[str] = []
        self.conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
        try:
            self.conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.scratch_schema}"')
            self.conn.execute(f'SET search_path TO "{self.scratch_schema}"')
            # Intermediate tables have no statistics, so the planner can estimate 1 row for a CTE of
            # thousands and rescan a window aggregate per row (quadratic: 224 s for a 5,000-person
            # cohort); the analyses join whole tables, for which hash and merge joins are right.
            self.conn.execute("SET enable_nestloop = off")
        except Exception:
            self.conn.close()
            raise

    @property
    def backend_pid(self) -> int:
        return int(self.conn.info.backend_pid)

    def native(self, sql: str) -> Rows:
        """Run PostgreSQL SQL as written (no translation); the rows, if any."""
        cur = self.conn.execute(sql)
        if cur.description is None:
            return []
        return fetched(self, [d.name for d in cur.description], cur.fetchall())[1]

    def map_cdm(self, names: dict[str, str]) -> None:
        """Bare CDM table name -> ``schema.relation`` the analyses' SQL reads it from."""
        self.cdm_names = tuple(sorted(names.items()))

    def translate(self, sql: str) -> str:
        return translate(sql, self.dialect, self.cdm_names)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self.conn.execute(self.translate(sql), list(params) if params else None)

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> tuple[tuple[str, ...], Rows]:
        cur = self.conn.execute(self.translate(sql), query_args(params))
        return fetched(self, [d.name for d in cur.description or ()], cur.fetchall())

    def scratch_name(self, prefix: str) -> str:
        return scratch_name(self, prefix)

    def scratch_tables(self) -> list[str]:
        """This engine's tables and views now in the scratch schema (asked of the database)."""
        cur = self.conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND table_name LIKE %s "
            "ORDER BY 1",
            (self.scratch_schema, self.prefix.replace("_", r"\_") + "%"),
        )
        return [str(r[0]) for r in cur.fetchall()]

    def close(self) -> None:
        """Drop every scratch object of this engine (the whole schema if it is the engine's own)."""
        if self.conn.closed:
            return
        try:
            if self.conn.info.transaction_status != 0:  # a cancelled statement: leave its transaction
                self.conn.rollback()
            if self.own_schema:
                self.conn.execute(f'DROP SCHEMA IF EXISTS "{self.scratch_schema}" CASCADE')
            else:
                for name in self.scratch_tables():
                    self.conn.execute(
                        f'DROP VIEW IF EXISTS "{self.scratch_schema}"."{name}" CASCADE'
                        if name in self._views()
                        else f'DROP TABLE IF EXISTS "{self.scratch_schema}"."{name}" CASCADE'
                    )
        finally:
            self.conn.close()

    def _views(self) -> set[str]:
        cur = self.conn.execute(
            "SELECT table_name FROM information_schema.views WHERE table_schema = %s", (self.scratch_schema,)
        )
        return {str(r[0]) for r in cur.fetchall()}


def cdm_view_sql(
    engine: PostgresEngine,
    table: str,
    source: str | None,
    columns: dict[str, str],
    person: tuple[str, str] | None = None,
) -> str:
    """A view presenting a source table (or nothing) as the standard CDM table, in PostgreSQL SQL.

    ``source`` is the table's name in the CDM schema (None: absent, the view is empty); ``columns`` maps
    standard column names to the source's spelling, absent columns become typed NULLs. With ``person``
    (the person table and its person_id column as spelled) rows for persons absent from ``person`` are
    left out, as on the DuckDB path.
    """
    parts = []
    for col, typ in CDM_TABLES[table]:
        pg_type = exp.DataType.build(typ, dialect="duckdb").sql(dialect="postgres")
        value = f't."{columns[col]}"' if source is not None and col in columns else "NULL"
        parts.append(f"CAST({value} AS {pg_type}) AS {col}")
    view = f'"{engine.scratch_schema}"."{engine.prefix}{table}"'
    if source is None:
        return f"CREATE VIEW {view} AS SELECT {', '.join(parts)} WHERE false"
    where = ""
    if person is not None:
        where = (
            f' WHERE EXISTS (SELECT 1 FROM "{engine.cdm_schema}"."{person[0]}" p '
            f'WHERE p."{person[1]}" = t."{columns["person_id"]}")'
        )
    return f'CREATE VIEW {view} AS SELECT {", ".join(parts)} FROM "{engine.cdm_schema}"."{source}" t{where}'
