"""Step 1 of disproportionality analysis on Apache Spark: the counts of :mod:`.counts` for report sets
larger than one machine.

:func:`count_pairs_spark` takes the long table as a Spark DataFrame (read from a Parquet file or folder,
a CSV file, or any Spark table) and returns the same :class:`~riskplan.signals.counts.PairCounts` as
:func:`~riskplan.signals.counts.count_pairs` on DuckDB: products and events coded 0..k-1 in name order
(binary UTF-8 order, which is DuckDB's and Spark's order of strings and Python's order of ``str``), pairs
in (product, event) code order, the same ``excluded_rows`` (rows with a missing report id, product or
event), the same N, margins and n_total, and the same E.

Everything that grows with the reports runs in Spark, in two jobs that each read the rows once: (1)
the product and event names (coded in Spark, by its order of strings) and the excluded rows; (2) one
grouping of the rows by report (its set of coded pairs and its stratum), from which each report counts
once per pair (N), per product and per event with its stratum (the margins) and once (the stratum
sizes). What comes back to the driver is small: the names, and the counts as a few rows of integer
lists (one per kind of count, stratum and bucket of codes; unpickling lists is far cheaper than one
Python row per count). No Python UDF and no Python worker: a table made in Spark from a Python list
would start Python workers, so the codes are made from the data.

Stratified E (DuMouchel 1999, eq. 2; openEBGM ``processRaw(stratify = TRUE)``) follows the DuckDB rules
exactly: a report's stratum is the combination of the smallest value of each strata column over all its
rows (rows with a missing product or event included), cast to text, a missing value being the stratum
value ``(missing)``; strata are numbered in the text order of those combinations. The per-stratum
margins are integers counted by Spark, and E is then summed by the one NumPy function both engines use
(:func:`~riskplan.signals.counts.stratified_expected`), so E is equal bit for bit. (Numbers in strata
columns are cast to text by each engine; for integers and text, the usual strata, the texts are the
same. Types are read from Parquet as written; for CSV Spark infers them.)

The dictionaries of names are put in temporary tables of a DuckDB connection, as for the DuckDB route,
so that the scores can be written with the names (:meth:`DetectionResult.write`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
from numpy.typing import NDArray

from riskplan.errors import UserInputError
from riskplan.signals.counts import REQUIRED_COLUMNS, PairCounts, stratified_expected

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

#: The stratum value of a report whose strata column is missing on every row (as in :mod:`.counts`).
MISSING_STRATUM = "(missing)"
_counter = itertools.count()


def read_reports_spark(
    spark: SparkSession,
    path: Path,
    report_col: str = "report_id",
    product_col: str = "product",
    event_col: str = "event",
    strata: Sequence[str] = (),
) -> DataFrame:
    """The long table at ``path`` (a Parquet file, a folder of Parquet files, or a CSV file with a header)
    as a Spark DataFrame with the columns report_id, product, event and the strata columns."""
    from pyspark.errors import PySparkException
    from pyspark.sql import functions as F

    suffix = path.suffix.lower()
    if not path.exists():
        raise UserInputError(f"{path}: no such file or folder")
    try:
        if path.is_dir() or suffix == ".parquet":
            frame = spark.read.parquet(str(path))
        elif suffix in (".csv", ".tsv", ".txt"):
            frame = spark.read.csv(str(path), header=True, inferSchema=True, sep="\t" if suffix == ".tsv" else ",")
        else:
            raise UserInputError(f"{path}: expected a .parquet file, a folder of Parquet files or a .csv file")
    except PySparkException as exc:
        raise UserInputError(f"{path}: Spark cannot read it: {str(exc).splitlines()[0]}") from None
    wanted = [
        ("--report-col", report_col),
        ("--product-col", product_col),
        ("--event-col", event_col),
        *(("--strata-col", s) for s in strata),
    ]
    for option, column in wanted:
        if column not in frame.columns:
            raise UserInputError(
                f"{path}: no column {column!r} (given by {option}); the columns are: {', '.join(frame.columns)}"
            )
    for column in strata:
        if column in REQUIRED_COLUMNS:
            raise UserInputError(f"{path}: a stratum column cannot be named {column!r}")
    return frame.select(
        F.col(f"`{report_col}`").alias("report_id"),
        F.col(f"`{product_col}`").alias("product"),
        F.col(f"`{event_col}`").alias("event"),
        *(F.col(f"`{s}`").alias(s) for s in strata),
    )


def count_pairs_spark(
    frame: DataFrame, strata: Sequence[str] = (), con: duckdb.DuckDBPyConnection | None = None
) -> PairCounts:
    """N, n_product, n_event, n_total and E for every observed pair of the long table ``frame``, counted
    by Spark; the same numbers, codes and order as :func:`riskplan.signals.counts.count_pairs`.

    ``frame``: columns report_id, product, event and ``strata``. ``con``: the DuckDB connection that
    receives the name dictionaries (a new in-memory one by default).

    Two Spark jobs: the names (and the excluded rows), then everything else from one grouping of the
    rows by report (see :func:`_count_by_report`).
    """
    from pyspark.sql import functions as F

    missing = [c for c in (*REQUIRED_COLUMNS, *strata) if c not in frame.columns]
    if missing:
        raise UserInputError(
            f"the report table has no column(s) {', '.join(missing)} (it has: {', '.join(frame.columns)})"
        )
    con = con if con is not None else duckdb.connect()
    keys = [f"s{i}" for i in range(len(strata))]
    src = frame.select(
        F.col("report_id"),
        F.col("product").cast("string").alias("product"),
        F.col("event").cast("string").alias("event"),
        *(F.col(f"`{s}`").alias(k) for s, k in zip(strata, keys, strict=True)),
    )
    src = src.withColumn(
        "valid", F.col("report_id").isNotNull() & F.col("product").isNotNull() & F.col("event").isNotNull()
    )
    codes, cached, product_names, event_names, excluded = _names(src)
    tag = f"_sigspark{next(_counter)}"
    tables = {k: f"{tag}_{k}" for k in ("src", "products", "events", "triples")}
    _dictionary(con, tables["products"], product_names)
    _dictionary(con, tables["events"], event_names)
    counts = PairCounts(
        con=con,
        tables=tables,
        product_code=np.zeros(0, dtype=np.int32),
        event_code=np.zeros(0, dtype=np.int32),
        n=np.zeros(0, dtype=np.int64),
        n_product=np.zeros(0, dtype=np.int64),
        n_event=np.zeros(0, dtype=np.int64),
        n_total=0,
        excluded_rows=excluded,
        strata=tuple(strata),
        expected=np.zeros(0),
    )
    if not product_names:
        cached.unpersist()
        return counts
    n_products, n_events = len(product_names), len(event_names)
    try:
        by_kind = _count_by_report(src, keys, codes, n_events)
    finally:
        cached.unpersist()
    # Strata numbered in the text order of their combinations (every stratum has a kind-3 count).
    combos = sorted({combo for combo, _, _ in by_kind[3]})
    number = {combo: i for i, combo in enumerate(combos)}
    pair_code, n = _joined(by_kind[0])
    order = np.argsort(pair_code, kind="stable")
    pc = (pair_code[order] // n_events).astype(np.int32)
    ec = (pair_code[order] % n_events).astype(np.int32)
    by_product = _matrix(by_kind[1], number, n_products)
    by_event = _matrix(by_kind[2], number, n_events)
    stratum_size = _matrix(by_kind[3], number, 1)[0]
    counts.product_code, counts.event_code, counts.n = pc, ec, n[order]
    # A report has one stratum: the margins are the sums over strata, in integers.
    counts.n_product = by_product.sum(axis=1).astype(np.int64)[pc]
    counts.n_event = by_event.sum(axis=1).astype(np.int64)[ec]
    counts.n_total = int(stratum_size.sum())
    if not strata:
        counts.expected = counts.n_product.astype(np.float64) * counts.n_event / float(counts.n_total)
        return counts
    counts.n_strata = len(combos)
    counts.expected = stratified_expected(pc, ec, by_product, by_event, stratum_size)
    return counts


#: The counts come back to Python as lists in this many buckets per kind and stratum: a few rows of long
#: lists (fast to unpickle) rather than one Row per count, and no list larger than a bucket.
_BUCKETS = 64


def _names(src: DataFrame) -> tuple[DataFrame, DataFrame, list[str], list[str], int]:
    """The codes of the names of the valid rows as a small Spark table (kind 0 products, 1 events; name;
    code) made from a cached one (the second table, to unpersist after use), the product names and event
    names by code, and the number of excluded rows.

    Codes are numbered by Spark in its order of strings (binary UTF-8, Python's order of ``str``), and
    the names are read back by code, so that Spark's codes and the dictionaries agree. The table is made
    in Spark from the data: a table made from a Python list would start Python workers."""
    from pyspark import StorageLevel
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    def named(kind: int, column: str) -> Any:
        return F.struct(F.lit(kind).alias("kind"), F.when(F.col("valid"), F.col(column)).alias("name"))

    names = (
        src.select(F.explode(F.array(named(0, "product"), named(1, "event"))).alias("n"))
        .groupBy("n.kind", "n.name")
        .count()
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    excluded_rows = names.where(F.col("name").isNull()).select("kind", "count").collect()
    codes = names.where(F.col("name").isNotNull()).select(
        "kind", "name", (F.row_number().over(Window.partitionBy("kind").orderBy("name")) - 1).alias("code")
    )
    rows = codes.collect()
    products, events = [""] * sum(r[0] == 0 for r in rows), [""] * sum(r[0] == 1 for r in rows)
    for kind, name, code in rows:
        (products if kind == 0 else events)[int(code)] = str(name)
    excluded = sum(int(r[1]) for r in excluded_rows if r[0] == 0)
    return codes, names, products, events, excluded


def _count_by_report(
    src: DataFrame, keys: Sequence[str], codes: DataFrame, n_events: int
) -> dict[int, list[tuple[tuple[str, ...], I64, I64]]]:
    """The counts by kind, in one Spark job: per kind a list of (stratum combination, codes, counts).

    The rows are grouped once by report: its distinct pairs (coded ``pc * n_events + ec``; valid rows
    only), from which its distinct products and events, and its stratum (the smallest value of each
    strata column over all its rows, as text; reports with no valid row dropped). Each report then
    counts once per pair (kind 0, no stratum: N), per product (kind 1) and per event (kind 2) with its
    stratum, and once (kind 3, the stratum sizes).
    """
    from pyspark.sql import functions as F

    product_codes = codes.where(F.col("kind") == 0).select(F.col("name").alias("product"), F.col("code").alias("pc"))
    event_codes = codes.where(F.col("kind") == 1).select(F.col("name").alias("event"), F.col("code").alias("ec"))
    pair = F.col("pc").cast("long") * n_events + F.col("ec")
    per_report = (
        src.where(F.col("report_id").isNotNull())
        .join(F.broadcast(product_codes), "product", "left")
        .join(F.broadcast(event_codes), "event", "left")
        .groupBy("report_id")
        .agg(
            F.collect_set(F.when(F.col("valid"), pair)).alias("pairs"),
            *(F.coalesce(F.min(k).cast("string"), F.lit(MISSING_STRATUM)).alias(k) for k in keys),
        )
        .where(F.size("pairs") > 0)
    )

    def item(kind: int) -> Any:
        return lambda code: F.struct(F.lit(kind).alias("kind"), code.alias("code"))

    items = F.concat(
        F.transform("pairs", item(0)),
        # pc = (code - ec) / n_events exactly (a whole number far below 2**53), ec = code % n_events
        F.transform(
            F.array_distinct(F.transform("pairs", lambda c: ((c - c % n_events) / n_events).cast("long"))), item(1)
        ),
        F.transform(F.array_distinct(F.transform("pairs", lambda c: c % n_events)), item(2)),
        F.array(item(3)(F.lit(0).cast("long"))),
    )
    counted = (
        per_report.select(F.explode(items).alias("item"), *keys)
        .select("item.kind", "item.code", *(F.when(F.col("item.kind") != 0, F.col(k)).alias(k) for k in keys))
        .groupBy("kind", "code", *keys)
        .count()
    )
    rows = (
        counted.groupBy("kind", *keys, (F.col("code") % _BUCKETS).alias("bucket"))
        .agg(F.collect_list(F.struct("code", "count")).alias("items"))
        .select("kind", *keys, F.col("items.code").alias("codes"), F.col("items.count").alias("counts"))
        .collect()
    )
    by_kind: dict[int, list[tuple[tuple[str, ...], I64, I64]]] = {0: [], 1: [], 2: [], 3: []}
    for row in rows:
        combo = tuple(str(v) for v in row[1 : 1 + len(keys)])
        by_kind[int(row[0])].append(
            (combo, np.asarray(row["codes"], dtype=np.int64), np.asarray(row["counts"], dtype=np.int64))
        )
    return by_kind


def _joined(parts: list[tuple[tuple[str, ...], I64, I64]]) -> tuple[I64, I64]:
    """The codes and counts of all the parts, one after the other."""
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts])


def _matrix(parts: list[tuple[tuple[str, ...], I64, I64]], number: dict[tuple[str, ...], int], size: int) -> F64:
    """Counts per (code, stratum) as a code × stratum matrix of floats (whole numbers)."""
    out = np.zeros((size, len(number)), dtype=np.float64)
    for combo, codes, values in parts:
        out[codes, number[combo]] = values
    return out


def _dictionary(con: duckdb.DuckDBPyConnection, table: str, names: list[str]) -> None:
    """A DuckDB table (code, name) with the names in the given (sorted) order."""
    con.execute(f"CREATE TEMP TABLE {table} (code INTEGER, name VARCHAR)")
    if names:
        con.executemany(f"INSERT INTO {table} VALUES (?, ?)", list(enumerate(names)))
