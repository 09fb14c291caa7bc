"""Step 1 of disproportionality analysis: counts and expected counts (DuckDB and NumPy).

Input: a long table with one row per report-product-event (columns ``report_id``, ``product``,
``event`` and optional strata columns) as a DuckDB relation. For each (product, event) pair seen at
least once:

- ``N``: the number of distinct reports that mention both (a report counts once per pair even when a
  row repeats);
- ``n_product``, ``n_event``: the number of distinct reports that mention the product, the event;
- ``n_total``: the number of distinct reports in the table (with at least one product and event);
- ``E``: the expected count under independence, ``n_product · n_event / n_total``, or stratified
  ``E = Σ_s n_product,s · n_event,s / n_total,s`` over strata ``s`` (DuMouchel 1999, eq. 2; openEBGM
  ``processRaw`` with ``stratify = TRUE``: the stratum of a report is the combination of its strata
  columns; missing values form a stratum of their own; when a report carries several values, the
  smallest is used).

Rows with a missing report id, product or event are left out and counted in
``PairCounts.excluded_rows``. Products and events are coded 0..k-1 in name order, and pairs are in
(product, event) name order, like openEBGM's output. DuckDB reads and codes the rows; with integer
report ids NumPy counts the coded rows on several threads (:func:`count_pairs`), otherwise DuckDB
counts them in SQL. Both routes give the same numbers.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import duckdb
import numpy as np
from numpy.typing import NDArray

from riskplan.errors import UserInputError

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

REQUIRED_COLUMNS = ("report_id", "product", "event")
_counter = itertools.count()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class PairCounts:
    """Per-pair counts (arrays aligned by pair index) and the DuckDB tables they came from.

    ``tables`` names temporary tables on ``con``: ``products`` (code, name), ``events`` (code, name),
    ``triples`` (report_id, pc, ec: the distinct report-product-event rows) and ``reports``
    (report_id, stratum) when stratified.
    """

    con: duckdb.DuckDBPyConnection
    tables: dict[str, str]
    product_code: NDArray[np.int32]
    event_code: NDArray[np.int32]
    n: I64
    n_product: I64
    n_event: I64
    n_total: int
    excluded_rows: int
    strata: tuple[str, ...] = ()
    n_strata: int = 1
    expected: F64 = field(default_factory=lambda: np.empty(0))
    arrays: dict[str, NDArray[np.generic]] = field(default_factory=dict, repr=False)

    @property
    def n_pairs(self) -> int:
        return int(self.n.shape[0])

    def names(self, kind: str) -> list[str]:
        """All product (``kind='products'``) or event names, indexed by code."""
        rows = self.con.sql(f"SELECT name FROM {self.tables[kind]} ORDER BY code").fetchall()
        return [str(r[0]) for r in rows]

    def register_triples(self) -> None:
        """Make the ``triples`` table available in SQL (the packed route keeps it as NumPy keys)."""
        if "packed" not in self.arrays or "report_id" in self.arrays:  # SQL route, or registered already
            return
        packed = np.asarray(self.arrays["packed"], dtype=np.int64)
        r_min, pb, eb = (int(v) for v in self.arrays["layout"])
        self.arrays["report_id"] = (packed >> (pb + eb)) + r_min
        self.arrays["pc"] = ((packed >> eb) & ((1 << pb) - 1)).astype(np.int32)
        self.arrays["ec"] = (packed & ((1 << eb) - 1)).astype(np.int32)
        self.con.register(self.tables["triples"], {k: self.arrays[k] for k in ("report_id", "pc", "ec")})

    def drop(self) -> None:
        """Drop the temporary tables and views of this count (when many analyses share a connection)."""
        for key, name in self.tables.items():
            if key == "triples" and self.arrays:
                if "report_id" in self.arrays:
                    self.con.unregister(name)
                continue
            kind = "VIEW" if key == "src" else "TABLE"
            self.con.execute(f"DROP {kind} IF EXISTS {name}")
        self.arrays = {}
        with contextlib.suppress(duckdb.Error, KeyError):
            self.con.unregister(f"{self.tables['src']}_scores")

    def product_codes(self, names: Sequence[str]) -> dict[str, int]:
        """Codes of the given product names that occur in the data (exact match)."""
        wanted = {n for n in names}
        return {name: code for code, name in enumerate(self.names("products")) if name in wanted}


def _check_columns(rel: duckdb.DuckDBPyRelation, strata: Sequence[str]) -> None:
    columns = set(rel.columns)
    missing = [c for c in (*REQUIRED_COLUMNS, *strata) if c not in columns]
    if missing:
        raise UserInputError(
            f"the report table has no column(s) {', '.join(missing)} (it has: {', '.join(rel.columns)})"
        )


def count_pairs(
    con: duckdb.DuckDBPyConnection,
    rel: duckdb.DuckDBPyRelation,
    strata: Sequence[str] = (),
    method: str = "auto",
    workers: int | None = None,
) -> PairCounts:
    """Count N, n_product, n_event, n_total for every observed pair, and the expected counts E.

    ``rel`` must be a relation on ``con``. ``strata``: columns of ``rel`` to stratify E by (none:
    unstratified E). ``method``: ``"sql"`` (DISTINCT and GROUP BY in DuckDB only), ``"packed"``
    (integer report ids; see below) or ``"auto"`` (packed when possible). ``workers``: threads for
    the NumPy counting (default: the machine's cores, at most 8).

    Two exact routes give the same numbers. With integer report ids (the usual case) DuckDB codes
    products and events against their dictionaries and NumPy sorts the rows by report (a stable sort
    that is nearly free when the table is already grouped by report); duplicates and the report margins
    are then found inside each report's block of sorted keys, segment by segment in parallel threads,
    and one ``bincount`` of the distinct rows' pair codes gives N. Otherwise everything runs as SQL
    (DISTINCT and GROUP BY).
    """
    _check_columns(rel, strata)
    tag = f"_sig{next(_counter)}"
    src, products, events, triples = (f"{tag}_{n}" for n in ("src", "products", "events", "triples"))
    rel.create_view(src, replace=True)
    valid = "report_id IS NOT NULL AND product IS NOT NULL AND event IS NOT NULL"
    con.execute(
        f"CREATE TEMP TABLE {products} AS SELECT (row_number() OVER (ORDER BY name) - 1)::INTEGER AS code,"
        f" name FROM (SELECT DISTINCT product::VARCHAR AS name FROM {src} WHERE {valid})"
    )
    con.execute(
        f"CREATE TEMP TABLE {events} AS SELECT (row_number() OVER (ORDER BY name) - 1)::INTEGER AS code,"
        f" name FROM (SELECT DISTINCT event::VARCHAR AS name FROM {src} WHERE {valid})"
    )
    n_prod_codes = _scalar(con, f"SELECT count(*) FROM {products}")
    n_event_codes = _scalar(con, f"SELECT count(*) FROM {events}")
    tables = {"src": src, "products": products, "events": events, "triples": triples}
    encoded = (
        f"FROM {src} s JOIN {products} p ON s.product::VARCHAR = p.name"
        f" JOIN {events} e ON s.event::VARCHAR = e.name WHERE s.report_id IS NOT NULL"
    )
    report_type = str(dict(zip(rel.columns, rel.types, strict=True))["report_id"]).upper()
    fast = None
    if method not in ("auto", "sql", "packed"):
        raise ValueError(f"unknown counting method {method!r}")
    if method == "packed" and report_type not in _INTEGER_TYPES:
        raise UserInputError(f"packed counting needs integer report ids, not {report_type}")
    if method != "sql" and report_type in _INTEGER_TYPES:
        fast = _count_packed(
            con, encoded, src, n_prod_codes, n_event_codes, worker_count(workers), keep_rows=bool(strata)
        )
    keep: dict[str, NDArray[np.generic]] = {}
    if fast is not None:
        pc, ec, n, product_margin, event_margin, n_total, keep, excluded = fast
    else:
        con.execute(f"CREATE TEMP TABLE {triples} AS SELECT DISTINCT s.report_id, p.code AS pc, e.code AS ec {encoded}")
        excluded = _scalar(con, f"SELECT count(*) FILTER (WHERE NOT ({valid})) FROM {src}")
        pairs = con.sql(f"SELECT pc, ec, count(*)::BIGINT AS n FROM {triples} GROUP BY pc, ec").fetchnumpy()
        by_product = con.sql(
            f"SELECT pc, count(DISTINCT report_id)::BIGINT AS n FROM {triples} GROUP BY pc"
        ).fetchnumpy()
        by_event = con.sql(f"SELECT ec, count(DISTINCT report_id)::BIGINT AS n FROM {triples} GROUP BY ec").fetchnumpy()
        n_total = _scalar(con, f"SELECT count(DISTINCT report_id) FROM {triples}")
        product_margin = np.zeros(n_prod_codes, dtype=np.int64)
        product_margin[by_product["pc"]] = by_product["n"]
        event_margin = np.zeros(n_event_codes, dtype=np.int64)
        event_margin[by_event["ec"]] = by_event["n"]
        order = np.lexsort((pairs["ec"], pairs["pc"]))
        pc = np.asarray(pairs["pc"], dtype=np.int32)[order]
        ec = np.asarray(pairs["ec"], dtype=np.int32)[order]
        n = np.asarray(pairs["n"], dtype=np.int64)[order]
    counts = PairCounts(
        con=con,
        tables=tables,
        product_code=pc,
        event_code=ec,
        n=n,
        n_product=product_margin[pc],
        n_event=event_margin[ec],
        n_total=n_total,
        excluded_rows=excluded,
        strata=tuple(strata),
        arrays=keep,
    )
    counts.expected = expected_counts(counts)
    return counts


_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}


def _bits(count: int) -> int:
    return max(1, int(count - 1).bit_length())


#: Rows per segment of the packed keys processed at a time (a few MB of working memory per thread).
_SEGMENT_ROWS = 1 << 20


def worker_count(workers: int | None = None) -> int:
    """Threads for the NumPy steps: ``workers`` or the machine's cores (at most 8)."""
    if workers is not None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        return workers
    return max(1, min(8, os.cpu_count() or 1))


def _segments(keys: I64, report_shift: int) -> list[tuple[int, int]]:
    """Split sorted packed keys into runs of about ``_SEGMENT_ROWS`` rows that start and end at report
    boundaries."""
    size, rows = int(keys.shape[0]), _SEGMENT_ROWS
    cuts = [0]
    for nominal in range(rows, size, rows):
        report = int(keys[nominal]) >> report_shift
        cut = int(np.searchsorted(keys, report << report_shift, side="left"))
        if cut > cuts[-1]:
            cuts.append(cut)
    cuts.append(size)
    return list(itertools.pairwise(cuts))


@dataclass
class _SegmentCounts:
    by_product: I64
    by_event: I64
    reports: int
    duplicates: int
    block_sizes: I64


@dataclass(frozen=True)
class _PairBlocks:
    """Products in consecutive blocks of ``per_block`` codes, so that a block's product × event table
    (``per_block · n_events`` counters) stays small enough to count in cache; ``count`` blocks, and one
    more for the repeated rows, which are not counted."""

    per_block: int
    count: int
    n_events: int


#: Counters per block of the pair count (16 MB of int64).
_BLOCK_CELLS = 1 << 21


def _pair_blocks(n_products: int, n_events: int) -> _PairBlocks:
    per_block = max(1, _BLOCK_CELLS // max(1, n_events))
    return _PairBlocks(per_block, -(-n_products // per_block), n_events)


def _count_segment(
    keys: I64, lo: int, hi: int, layout: tuple[int, int], n_products: int, blocks: _PairBlocks
) -> _SegmentCounts:
    """Margins of the reports in ``keys[lo:hi]`` (whole reports); then the segment's rows are replaced
    by their pair codes within their product block, grouped by block (a stable radix sort of the block
    numbers), and the number of rows of each block is returned. A row whose key equals the previous one
    (a repeated report-product-event row) goes to the extra last block, which is not counted.
    """
    pb, eb = layout
    pair_bits = pb + eb
    k = keys[lo:hi]
    change = np.empty(k.shape[0], dtype=np.int64)
    change[0] = -1  # a segment starts with a new report
    np.bitwise_xor(k[1:], k[:-1], out=change[1:])
    unsigned = change.view(np.uint64)
    new_report_product = unsigned >= (1 << eb)
    by_product = np.bincount((k[new_report_product] >> eb) & ((1 << pb) - 1), minlength=n_products)
    reports = int(np.count_nonzero(unsigned >= (1 << pair_bits)))
    duplicates = int(k.shape[0] - np.count_nonzero(change))
    # Distinct (report, event): the keys re-packed as report | event, sorted within the segment (timsort:
    # the rows are in runs already, by report and within a report and product by event).
    report_event = k >> pair_bits
    report_event <<= eb
    report_event |= k & ((1 << eb) - 1)
    report_event.sort(kind="stable")
    first = first_of_runs(report_event)
    by_event = np.bincount(report_event[first] & ((1 << eb) - 1), minlength=blocks.n_events)
    del report_event, first
    # Pair codes within the product block, grouped by block, in place of the keys.
    product = (k >> eb) & ((1 << pb) - 1)
    block = product // blocks.per_block
    local = product - block * blocks.per_block
    local *= blocks.n_events
    local += k & ((1 << eb) - 1)
    if duplicates:
        block[change == 0] = blocks.count
    small = np.int16 if blocks.count < np.iinfo(np.int16).max else np.int32
    order = np.argsort(block.astype(small), kind="stable")
    k[:] = local[order]
    block_sizes = np.bincount(block, minlength=blocks.count + 1)
    return _SegmentCounts(by_product.astype(np.int64), by_event.astype(np.int64), reports, duplicates, block_sizes)


def _count_block(
    keys: I64, segments: Sequence[tuple[int, int]], starts: I64, sizes: I64, b: int, blocks: _PairBlocks
) -> tuple[I64, I64, I64]:
    """Product code, event code and N of the pairs of block ``b`` (in code order), from its rows in every
    segment (``starts[s]``/``sizes[s]``: where they begin within segment ``s``, and how many)."""
    rows = np.concatenate(
        [keys[lo + int(starts[s]) : lo + int(starts[s]) + int(sizes[s])] for s, (lo, _) in enumerate(segments)]
    )
    table = np.bincount(rows, minlength=blocks.per_block * blocks.n_events)
    del rows
    local = np.flatnonzero(table)
    n = table[local].astype(np.int64)
    product = local // blocks.n_events
    event = local - product * blocks.n_events
    product += b * blocks.per_block
    return product, event, n


def first_of_runs(sorted_keys: NDArray[np.generic]) -> NDArray[np.bool_]:
    """True at the first element of each run of equal values of a sorted array."""
    first = np.empty(sorted_keys.shape[0], dtype=bool)
    if sorted_keys.shape[0]:
        first[0] = True
        np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=first[1:])
    return first


def _count_packed(
    con: duckdb.DuckDBPyConnection,
    encoded: str,
    src: str,
    n_products: int,
    n_events: int,
    workers: int,
    keep_rows: bool,
) -> tuple[NDArray[np.int32], NDArray[np.int32], I64, I64, I64, int, dict[str, NDArray[np.generic]], int] | None:
    """Counts for integer report ids: each coded row packed in one int64 (report | product | event).

    DuckDB joins the dictionaries and packs the keys in one scan whose result goes straight to NumPy.
    The keys are sorted with NumPy's stable sort (timsort: close to linear, as the rows arrive nearly
    grouped by report from FAERS, the synthetic generator or a report-ordered file; any order is still
    correct), a part per thread, then merged. The sorted keys are then cut into segments of whole
    reports, counted by ``workers`` threads with a few MB of working memory each (NumPy releases the
    GIL): the first row of each (report, product) gives the product margins, the distinct (report,
    event) of the segment the event margins, and each distinct row its pair code, grouped by block of
    products; then each block's pair codes are counted with a ``bincount`` over that block's product ×
    event table, in parallel too. The pair codes overwrite the keys; with ``keep_rows`` the distinct
    rows are copied first (they are needed for stratified expected counts). None when the keys do not
    fit in 63 bits (then the SQL route is used).
    """
    bounds = con.execute(f"SELECT min(report_id)::BIGINT, max(report_id)::BIGINT FROM {src}").fetchall()[0]
    if bounds[0] is None:
        return None
    r_min, r_max = int(bounds[0]), int(bounds[1])
    eb, pb, rb = _bits(n_events), _bits(n_products), _bits(r_max - r_min + 1)
    if eb + pb + rb > 63:
        return None
    pair_bits = pb + eb
    keys = np.asarray(
        con.execute(
            f"SELECT ((s.report_id::BIGINT - {r_min}) << {pair_bits})"
            f" | (p.code::BIGINT << {eb}) | e.code::BIGINT AS k {encoded}"
        ).fetchnumpy()["k"],
        dtype=np.int64,
    )
    excluded = _scalar(con, f"SELECT count(*) FROM {src}") - int(keys.shape[0])
    if keys.shape[0] == 0:
        return None
    keep: dict[str, NDArray[np.generic]] = {"layout": np.array([r_min, pb, eb], dtype=np.int64)}
    blocks = _pair_blocks(n_products, n_events)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # Each thread sorts a part; the final stable sort then only merges the sorted parts (timsort).
        parts_of_keys = np.array_split(keys, workers)
        list(pool.map(lambda part: part.sort(kind="stable"), parts_of_keys))
        del parts_of_keys
        keys.sort(kind="stable")
        if keep_rows:  # the distinct rows, for stratified expected counts
            first = first_of_runs(keys)
            keep["packed"] = keys[first] if not bool(np.all(first)) else keys.copy()
            del first
        segments = _segments(keys, pair_bits)
        run = functools.partial(_count_segment, keys, layout=(pb, eb), n_products=n_products, blocks=blocks)
        parts = list(pool.map(run, *zip(*segments, strict=True)))
        by_product = np.sum([p.by_product for p in parts], axis=0)
        by_event = np.sum([p.by_event for p in parts], axis=0)
        n_total = sum(p.reports for p in parts)
        sizes = np.stack([p.block_sizes for p in parts])  # segment × block
        starts = np.cumsum(sizes, axis=1) - sizes
        del parts
        count = functools.partial(_count_block, keys, segments, blocks=blocks)
        pairs = list(pool.map(count, starts.T, sizes.T, range(blocks.count)))
    del keys, run, count
    pc_out = np.concatenate([p[0] for p in pairs])
    ec_out = np.concatenate([p[1] for p in pairs])
    n = np.concatenate([p[2] for p in pairs])
    return (
        pc_out.astype(np.int32),
        ec_out.astype(np.int32),
        n.astype(np.int64),
        by_product.astype(np.int64),
        by_event.astype(np.int64),
        n_total,
        keep,
        excluded,
    )


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = con.execute(sql).fetchall()
    row = rows[0] if rows else None
    return int(row[0]) if row is not None and row[0] is not None else 0


def expected_counts(counts: PairCounts) -> F64:
    """E per pair: ``n_product · n_event / n_total``, or stratified over ``counts.strata``.

    The stratified sum runs over the strata of each pair's product and event; per-stratum margins come
    from SQL, the sum from NumPy in chunks of pairs (a dense product × stratum and event × stratum
    matrix each).
    """
    if counts.n_total == 0:
        return np.zeros(0)
    if not counts.strata:
        return counts.n_product.astype(np.float64) * counts.n_event / float(counts.n_total)
    con, t = counts.con, counts.tables
    counts.register_triples()
    reports = t["src"] + "_reports"
    t["reports"] = reports
    cols = ", ".join(f"coalesce(min({_quote(s)})::VARCHAR, '(missing)') AS s{i}" for i, s in enumerate(counts.strata))
    keys = ", ".join(f"s{i}" for i in range(len(counts.strata)))
    con.execute(
        f"CREATE TEMP TABLE {reports} AS SELECT report_id, (dense_rank() OVER (ORDER BY {keys}) - 1)::INTEGER"
        f" AS stratum FROM (SELECT s.report_id, {cols} FROM {t['src']} s"
        f" SEMI JOIN (SELECT DISTINCT report_id FROM {t['triples']}) d ON s.report_id = d.report_id"
        f" GROUP BY s.report_id)"
    )
    n_strata = _scalar(con, f"SELECT coalesce(max(stratum) + 1, 0) FROM {reports}")
    counts.n_strata = n_strata
    stratum_size = np.zeros(n_strata, dtype=np.float64)
    sizes = con.sql(f"SELECT stratum, count(*)::BIGINT AS n FROM {reports} GROUP BY stratum").fetchnumpy()
    stratum_size[sizes["stratum"]] = sizes["n"]

    def margin(code: str, n_codes: int) -> F64:
        data = con.sql(
            f"SELECT {code} AS code, r.stratum, count(*)::BIGINT AS n FROM"
            f" (SELECT DISTINCT report_id, {code} FROM {t['triples']}) x JOIN {reports} r USING (report_id)"
            f" GROUP BY {code}, r.stratum"
        ).fetchnumpy()
        out = np.zeros((n_codes, n_strata), dtype=np.float64)
        out[data["code"], data["stratum"]] = data["n"]
        return out

    n_products = int(counts.n_product.shape[0] and counts.product_code.max() + 1)
    n_events = int(counts.n_event.shape[0] and counts.event_code.max() + 1)
    by_product = margin("pc", max(n_products, _scalar(con, f"SELECT count(*) FROM {t['products']}")))
    by_event = margin("ec", max(n_events, _scalar(con, f"SELECT count(*) FROM {t['events']}")))
    return stratified_expected(counts.product_code, counts.event_code, by_product, by_event, stratum_size)


def stratified_expected(
    product_code: NDArray[np.int32], event_code: NDArray[np.int32], by_product: F64, by_event: F64, stratum_size: F64
) -> F64:
    """``E = Σ_s n_product,s · n_event,s / n_total,s`` per pair (DuMouchel 1999, eq. 2).

    ``by_product``/``by_event``: reports per (code, stratum) (a product × stratum and an event × stratum
    matrix); ``stratum_size``: reports per stratum. Every counting engine ends here with the same
    matrices, so the sums (and their rounding) are the same. ``by_event`` is divided in place.
    """
    by_event /= np.where(stratum_size > 0, stratum_size, 1.0)
    n_pairs, n_strata = int(product_code.shape[0]), int(stratum_size.shape[0])
    expected = np.empty(n_pairs, dtype=np.float64)
    chunk = max(1, 4_000_000 // max(1, n_strata))
    for start in range(0, n_pairs, chunk):
        stop = min(n_pairs, start + chunk)
        expected[start:stop] = np.einsum(
            "ij,ij->i", by_product[product_code[start:stop]], by_event[event_code[start:stop]]
        )
    return expected
