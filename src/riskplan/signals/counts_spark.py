"""Step 1 of disproportionality analysis on Apache Spark: the counts of :mod:`.counts` for report sets
larger than one machine.

:func:`count_pairs_spark` takes the long table as a Spark DataFrame (read from a Parquet file or folder,
a CSV file, or any Spark table) and returns the same :class:`~riskplan.signals.counts.PairCounts` as
:func:`~riskplan.signals.counts.count_pairs` on DuckDB: products and events coded 0..k-1 in name order
(binary UTF-8 order, which is DuckDB's and Spark's order of strings and Python's order of ``str``), pairs
in (product, event) code order, the same ``excluded_rows`` (rows with a missing report id, product or
event), the same N, margins and n_total, and the same E.

Everything that grows with the reports runs in Spark: the distinct report-product-event rows, N per
pair, the product and event margins, each report's stratum and the per-stratum margins. What comes
back to the driver is small: the product and event names, one row per pair (product code, event code,
N), the margins (per product, per event, and per code and stratum when stratified) and the strata.

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
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    missing = [c for c in (*REQUIRED_COLUMNS, *strata) if c not in frame.columns]
    if missing:
        raise UserInputError(
            f"the report table has no column(s) {', '.join(missing)} (it has: {', '.join(frame.columns)})"
        )
    spark = frame.sparkSession
    con = con if con is not None else duckdb.connect()
    strata_cols = [F.col(f"`{s}`").alias(f"s{i}") for i, s in enumerate(strata)]
    src = frame.select(
        F.col("report_id"),
        F.col("product").cast("string").alias("product"),
        F.col("event").cast("string").alias("event"),
        *strata_cols,
    )
    valid = F.col("report_id").isNotNull() & F.col("product").isNotNull() & F.col("event").isNotNull()
    totals = src.agg(F.count(F.lit(1)).alias("rows"), F.count(F.when(valid, 1)).alias("valid")).first()
    assert totals is not None
    excluded = int(totals["rows"]) - int(totals["valid"])
    rows = src.where(valid)
    names = rows.select(F.lit(0).alias("kind"), F.col("product").alias("name")).union(
        rows.select(F.lit(1).alias("kind"), F.col("event").alias("name"))
    )
    collected = names.distinct().collect()
    product_names = sorted(str(r[1]) for r in collected if r[0] == 0)
    event_names = sorted(str(r[1]) for r in collected if r[0] == 1)
    del collected
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
        return counts
    triples = (
        rows.select("report_id", "product", "event")
        .join(F.broadcast(_codes(spark, product_names, "product", "pc")), "product")
        .join(F.broadcast(_codes(spark, event_names, "event", "ec")), "event")
        .select("report_id", "pc", "ec")
        .distinct()
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    cached = [triples]
    try:
        pairs = _int_columns(triples.groupBy("pc", "ec").count(), ("pc", "ec", "count"))
        order = np.lexsort((pairs["ec"], pairs["pc"]))
        pc = pairs["pc"][order].astype(np.int32)
        ec = pairs["ec"][order].astype(np.int32)
        # The margins in one job: distinct (report, product) per product, (report, event) per event,
        # and the distinct reports (kind 0, 1, 2).
        report_product = triples.select("report_id", F.col("pc").alias("code")).distinct()
        report_event = triples.select("report_id", F.col("ec").alias("code")).distinct()
        reports = triples.select("report_id").distinct()
        margins = _int_columns(
            report_product.select(F.lit(0).alias("kind"), "code")
            .union(report_event.select(F.lit(1).alias("kind"), "code"))
            .union(reports.select(F.lit(2).alias("kind"), F.lit(0).alias("code")))
            .groupBy("kind", "code")
            .count(),
            ("kind", "code", "count"),
        )
        product_margin = _by_code(margins, 0, len(product_names))
        event_margin = _by_code(margins, 1, len(event_names))
        counts.product_code, counts.event_code = pc, ec
        counts.n = pairs["count"][order]
        counts.n_product, counts.n_event = product_margin[pc], event_margin[ec]
        counts.n_total = int(_by_code(margins, 2, 1)[0])
        if not strata:
            counts.expected = counts.n_product.astype(np.float64) * counts.n_event / float(counts.n_total)
            return counts
        # The stratum of each report: the smallest value of each column over all its rows, as text.
        keys = [f"s{i}" for i in range(len(strata))]
        smallest = [F.coalesce(F.min(k).cast("string"), F.lit(MISSING_STRATUM)).alias(k) for k in keys]
        per_report = src.join(reports, "report_id", "left_semi").groupBy("report_id").agg(*smallest)
        per_report = per_report.persist(StorageLevel.MEMORY_AND_DISK)
        cached.append(per_report)
        combos = sorted(tuple(str(v) for v in r) for r in per_report.select(*keys).distinct().collect())
        numbered = spark.createDataFrame([(*c, i) for i, c in enumerate(combos)], [*keys, "stratum"])
        report_stratum = per_report.join(F.broadcast(numbered), keys).select("report_id", "stratum")
        n_strata = len(combos)
        counts.n_strata = n_strata
        # Reports per (product, stratum), (event, stratum) and per stratum, in one job.
        by_stratum = _int_columns(
            report_product.join(report_stratum, "report_id")
            .select(F.lit(0).alias("kind"), "code", "stratum")
            .union(report_event.join(report_stratum, "report_id").select(F.lit(1).alias("kind"), "code", "stratum"))
            .union(report_stratum.select(F.lit(2).alias("kind"), F.lit(0).alias("code"), "stratum"))
            .groupBy("kind", "code", "stratum")
            .count(),
            ("kind", "code", "stratum", "count"),
        )
        by_product = _by_code_and_stratum(by_stratum, 0, len(product_names), n_strata)
        by_event = _by_code_and_stratum(by_stratum, 1, len(event_names), n_strata)
        stratum_size = _by_code_and_stratum(by_stratum, 2, 1, n_strata)[0]
        counts.expected = stratified_expected(pc, ec, by_product, by_event, stratum_size)
        return counts
    finally:
        for frame_ in cached:
            frame_.unpersist()


def _dictionary(con: duckdb.DuckDBPyConnection, table: str, names: list[str]) -> None:
    """A DuckDB table (code, name) with the names in the given (sorted) order."""
    con.execute(f"CREATE TEMP TABLE {table} (code INTEGER, name VARCHAR)")
    if names:
        con.executemany(f"INSERT INTO {table} VALUES (?, ?)", list(enumerate(names)))


def _codes(spark: SparkSession, names: list[str], column: str, code: str) -> DataFrame:
    return spark.createDataFrame(list(zip(names, range(len(names)), strict=True)), f"{column} string, {code} int")


def _int_columns(frame: DataFrame, columns: Sequence[str]) -> dict[str, I64]:
    """The integer columns of a (small) Spark result as NumPy arrays."""
    collected: list[Any] = frame.select(*columns).collect()
    if not collected:
        return {c: np.zeros(0, dtype=np.int64) for c in columns}
    matrix = np.array([tuple(r) for r in collected], dtype=np.int64)
    return {c: matrix[:, i] for i, c in enumerate(columns)}


def _by_code(data: dict[str, I64], kind: int, size: int) -> I64:
    """The counts of one kind of a (kind, code, count) result, indexed by code."""
    chosen = data["kind"] == kind
    out = np.zeros(size, dtype=np.int64)
    out[data["code"][chosen]] = data["count"][chosen]
    return out


def _by_code_and_stratum(data: dict[str, I64], kind: int, size: int, n_strata: int) -> F64:
    """The counts of one kind of a (kind, code, stratum, count) result as a code × stratum matrix."""
    chosen = data["kind"] == kind
    out = np.zeros((size, n_strata), dtype=np.float64)
    out[data["code"][chosen], data["stratum"][chosen]] = data["count"][chosen]
    return out
