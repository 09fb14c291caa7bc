"""Where spontaneous reports come from: a small protocol and its implementations.

A source hands DuckDB a long table — one row per report-product-event — with the columns
``report_id``, ``product``, ``event`` and optionally strata columns (``strata``) and a ``period``
column (text that sorts in time order, e.g. ``2024Q1``) for time trends. Implementations:

- :class:`LongTableFile`: a CSV or Parquet file with user-named columns;
- :class:`FaersParquet`: a folder written by :func:`riskplan.signals.faers.import_faers`;
- :class:`SyntheticSource`: :func:`riskplan.signals.synth.synthesise_spontaneous`;
- :class:`CaseStoreSource`: riskplan's own case store (:mod:`riskplan.cases`), the latest valid version
  of each case (GVP Module IX.B.1: the MAH's own database is a source of signals).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import duckdb
import numpy as np
from numpy.typing import NDArray

from riskplan.errors import UserInputError
from riskplan.signals.drug_levels import DrugLevel, case_drugs_at_level, faers_product_sql
from riskplan.signals.synth import Injection, SyntheticReports, synthesise_spontaneous

if TYPE_CHECKING:
    from sqlalchemy import Engine


@runtime_checkable
class SpontaneousSource(Protocol):
    """Anything that can present spontaneous reports as a long table on a DuckDB connection."""

    @property
    def description(self) -> str: ...

    @property
    def strata(self) -> tuple[str, ...]:
        """Strata columns the relation carries (may be empty)."""
        ...

    @property
    def has_period(self) -> bool:
        """Whether the relation has a ``period`` column."""
        ...

    def to_relation(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
        """Columns report_id, product, event, then the strata columns (and ``period`` if any)."""
        ...


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class LongTableFile:
    """A CSV or Parquet long table; the columns are named by the user."""

    path: Path
    report_col: str = "report_id"
    product_col: str = "product"
    event_col: str = "event"
    strata_cols: tuple[str, ...] = ()
    period_col: str | None = None

    @property
    def description(self) -> str:
        return f"long table {self.path}"

    @property
    def strata(self) -> tuple[str, ...]:
        return self.strata_cols

    @property
    def has_period(self) -> bool:
        return self.period_col is not None

    def _reader(self) -> str:
        suffix = self.path.suffix.lower()
        if not self.path.is_file():
            raise UserInputError(f"{self.path}: no such file")
        if suffix == ".parquet":
            return f"read_parquet({_literal(str(self.path))})"
        if suffix in (".csv", ".tsv", ".txt"):
            return f"read_csv({_literal(str(self.path))}, header = true)"
        raise UserInputError(f"{self.path}: expected a .csv or .parquet file")

    def to_relation(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
        reader = self._reader()
        try:
            columns = con.sql(f"SELECT * FROM {reader} LIMIT 0").columns
        except duckdb.Error as exc:
            raise UserInputError(f"{self.path}: cannot be read: {str(exc).splitlines()[0]}") from None
        wanted = [
            ("--report-col", self.report_col),
            ("--product-col", self.product_col),
            ("--event-col", self.event_col),
            *(("--strata-col", s) for s in self.strata_cols),
        ]
        if self.period_col:
            wanted.append(("--period-col", self.period_col))
        for option, column in wanted:
            if column not in columns:
                raise UserInputError(
                    f"{self.path}: no column {column!r} (given by {option}); the columns are: {', '.join(columns)}"
                )
        for column in self.strata_cols:
            if column in ("report_id", "product", "event", "period"):
                raise UserInputError(f"{self.path}: a stratum column cannot be named {column!r}")
        select = [
            f"{_ident(self.report_col)} AS report_id",
            f"{_ident(self.product_col)}::VARCHAR AS product",
            f"{_ident(self.event_col)}::VARCHAR AS event",
            *(f"{_ident(s)} AS {_ident(s)}" for s in self.strata_cols),
        ]
        if self.period_col:
            select.append(f"{_ident(self.period_col)}::VARCHAR AS period")
        return con.sql(f"SELECT {', '.join(select)} FROM {reader}")


#: FAERS drug role codes: primary suspect, secondary suspect, concomitant, interacting.
FAERS_ROLES = ("PS", "SS", "C", "I")


def check_strata(requested: Sequence[str], allowed: Sequence[str], source: str) -> None:
    """Refuse strata a source cannot provide, naming the ones it can."""
    bad = [name for name in requested if name not in allowed]
    if bad:
        raise UserInputError(f"{source} strata can be {', '.join(allowed)}, not {', '.join(bad)}")


class _StratifiedSource:
    """What the report sources below share: the strata the user chose (``use_strata``) and a period."""

    use_strata: tuple[str, ...]

    @property
    def strata(self) -> tuple[str, ...]:
        return self.use_strata

    @property
    def has_period(self) -> bool:
        return True


@dataclass(frozen=True)
class FaersParquet(_StratifiedSource):
    """A folder of FAERS Parquet tables (``demo.parquet``, ``drug.parquet``, ``reac.parquet``).

    report_id is the FAERS primaryid (the latest version of each case); product is the normalised
    active ingredient (``prod_ai``, else the drug name); event is the reaction PT. Strata: sex,
    age_grp, year (of the FDA receipt date); period: the quarter of the file the case came from.
    ``roles``: which drug role codes count (default all four).
    """

    folder: Path
    roles: tuple[str, ...] = FAERS_ROLES
    use_strata: tuple[str, ...] = ()
    drug_level: DrugLevel | None = None  # see riskplan.signals.drug_levels

    @property
    def description(self) -> str:
        return f"FAERS tables in {self.folder}"

    def to_relation(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
        files = {name: self.folder / f"{name}.parquet" for name in ("demo", "drug", "reac")}
        missing = [str(p) for p in files.values() if not p.is_file()]
        if missing:
            raise UserInputError(
                f"{self.folder}: not a FAERS Parquet folder (missing {', '.join(missing)}); "
                "import the quarterly ASCII files with `riskplan signal import-faers`"
            )
        unknown = [r for r in self.roles if r not in FAERS_ROLES]
        if unknown:
            raise UserInputError(f"unknown FAERS role code(s) {', '.join(unknown)}: use {', '.join(FAERS_ROLES)}")
        check_strata(self.use_strata, ("age_grp", "sex", "year"), "FAERS")
        roles = ", ".join(_literal(r) for r in self.roles)
        strata = "".join(f", d.{s}" for s in self.use_strata)
        inner = f"""
            SELECT g.primaryid AS report_id, {faers_product_sql(self.drug_level)} AS product, r.pt AS event{strata},
                   d.quarter AS period
            FROM read_parquet({_literal(str(files["drug"]))}) g
            JOIN read_parquet({_literal(str(files["reac"]))}) r ON r.primaryid = g.primaryid
            JOIN (SELECT primaryid, sex, age_grp, quarter,
                         try_cast(substr(fda_dt, 1, 4) AS INTEGER) AS year
                  FROM read_parquet({_literal(str(files["demo"]))})) d ON d.primaryid = g.primaryid
            WHERE g.role_cod IN ({roles})"""
        if self.drug_level is None:
            return con.sql(f"{inner} AND g.product IS NOT NULL AND g.product <> ''")
        # a drug level may give one report the same product twice (two names of one ingredient): once only
        return con.sql(f"SELECT DISTINCT * FROM ({inner}) WHERE product IS NOT NULL AND product <> ''")


@dataclass
class SyntheticSource(_StratifiedSource):
    """Synthetic reports drawn on demand (kept in memory; ``reports`` has the ground truth)."""

    n_reports: int
    seed: int = 0
    injected: Sequence[Injection] | None = None
    use_strata: tuple[str, ...] = ()
    reports: SyntheticReports | None = field(default=None, repr=False)

    @property
    def description(self) -> str:
        return f"{self.n_reports} synthetic reports (seed {self.seed})"

    def to_relation(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
        if self.reports is None:
            self.reports = synthesise_spontaneous(self.n_reports, self.seed, self.injected)
        check_strata(self.use_strata, ("sex", "age_group", "year"), "synthetic")
        rel = self.reports.to_relation(con)
        strata = "".join(f", {s}" for s in self.use_strata)
        return rel.select(f"report_id, product, event{strata}, period")


#: Drug characterisations (E2B(R3) G.k.1) whose drugs count as the report's products.
CASE_STORE_ROLES = ("suspect", "interacting")
_CASE_STRATA = ("sex", "country", "year")


@dataclass(frozen=True)
class CaseStoreCounts:
    """What :class:`CaseStoreSource` read and what it left out (for the note beside the results)."""

    cases: int  # latest versions read (valid and invalid)
    invalid_cases: int  # left out: the latest version is not a valid ICSR
    cases_without_product: int  # valid, but no suspect or interacting drug with a substance or product name
    uncoded_reactions: int  # reactions of valid cases without a MedDRA PT, left out
    cases_with_uncoded: int
    reports: int  # cases that give at least one row
    rows: int  # report-product-event rows

    @property
    def note(self) -> str:
        parts = [f"{self.reports:,} of {self.cases:,} case(s) counted ({self.rows:,} report-product-event rows)"]
        if self.invalid_cases:
            parts.append(f"{self.invalid_cases:,} invalid case(s) left out")
        if self.cases_without_product:
            parts.append(f"{self.cases_without_product:,} case(s) without a suspect or interacting drug left out")
        if self.uncoded_reactions:
            parts.append(
                f"{self.uncoded_reactions:,} reaction(s) without a MedDRA PT in {self.cases_with_uncoded:,} "
                "case(s) left out (code them to count them)"
            )
        return "; ".join(parts)


def _columns(rows: Sequence[Any], names: dict[str, type[Any]]) -> dict[str, NDArray[Any]]:
    """Rows from the database as NumPy columns (``object`` for text and dates: DuckDB types them)."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return {name: np.array(col, dtype=kind) for (name, kind), col in zip(names.items(), columns, strict=True)}


@dataclass
class CaseStoreSource(_StratifiedSource):
    """riskplan's case store as a spontaneous source (GVP Module IX.B.1-IX.B.2; one report = one case).

    One row per (case, product, event) over the **latest version of each case that is a valid ICSR**:

    - product: each active substance of a suspect or interacting drug (E2B G.k.1), or the product name
      when the drug has no substance; trimmed and lower-cased so that ``Inebilizumab`` and
      ``inebilizumab`` are one product (concomitant drugs are not counted);
    - event: the MedDRA PT of each coded reaction; reactions without a PT are left out and counted in
      :attr:`counts` (``.note``);
    - strata (optional): ``sex``, ``country`` (of the primary source) and ``year`` (of first receipt,
      C.1.4, else C.1.5); period: the quarter of first receipt (``2026Q1``).

    The rows are read with SQLAlchemy (three queries) and handed to DuckDB as NumPy columns; the
    cartesian product of each case's products and events is formed in DuckDB.
    """

    engine: Engine
    plan_name: str | None = None
    use_strata: tuple[str, ...] = ()
    drug_level: DrugLevel | None = None  # see riskplan.signals.drug_levels
    counts: CaseStoreCounts | None = field(default=None, init=False)
    drugs_left_out: int = field(default=0, init=False)

    @property
    def description(self) -> str:
        scope = f" of plan {self.plan_name}" if self.plan_name else ""
        return f"case store{scope} (latest valid versions)"

    @property
    def note(self) -> str:
        """What was counted and left out (empty before :meth:`to_relation`)."""
        if self.counts is None:
            return ""
        left_out = self.drugs_left_out
        extra = f"; {left_out:,} drug(s) not coded with a loaded WHODrug release left out" if left_out else ""
        return self.counts.note + extra

    def _fetch(self) -> tuple[dict[str, NDArray[Any]], ...]:
        from sqlalchemy import select

        from riskplan.cases import drugs_of_valid_versions, latest_versions, reactions_of_valid_versions

        versions = latest_versions(self.plan_name)
        drugs = drugs_of_valid_versions(versions, CASE_STORE_ROLES)
        reactions = reactions_of_valid_versions(versions)
        reports = select(
            versions.c.case_id, versions.c.valid, versions.c.sex, versions.c.country, versions.c.first_received
        )
        with self.engine.connect() as conn:
            report_rows = conn.execute(reports).all()
            drug_rows, self.drugs_left_out = case_drugs_at_level(
                self.engine, conn.execute(drugs).all(), self.drug_level
            )
            reaction_rows = conn.execute(reactions).all()
        i64, text = np.int64, object
        return (
            _columns(
                report_rows,
                {"case_id": i64, "valid": np.bool_, "sex": text, "country": text, "first_received": text},
            ),
            _columns(drug_rows, {"case_id": i64, "product": text, "substances": text}),
            _columns(reaction_rows, {"case_id": i64, "pt_name": text, "coding_status": text}),
        )

    def to_relation(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
        check_strata(self.use_strata, _CASE_STRATA, "case-store")
        reports, drugs, reactions = self._fetch()
        tag = f"_cases_{id(self):x}"
        con.register(f"{tag}_reports", reports)
        con.register(f"{tag}_drugs", drugs)
        con.register(f"{tag}_reactions", reactions)
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {tag}_products AS
            SELECT DISTINCT case_id, product FROM (
                SELECT case_id,
                       {"upper" if self.drug_level is DrugLevel.ATC else "lower"}(trim(unnest(string_split(
                           coalesce(nullif(trim(substances::VARCHAR), ''), product::VARCHAR), '; ')))) AS product
                FROM {tag}_drugs)
            WHERE product IS NOT NULL AND product <> ''
            """
        )
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {tag}_events AS
            SELECT case_id, trim(pt_name::VARCHAR) AS event,
                   coding_status::VARCHAR = 'coded' AND nullif(trim(pt_name::VARCHAR), '') IS NOT NULL AS coded
            FROM {tag}_reactions
            """
        )
        strata = {
            "sex": "r.sex::VARCHAR AS sex",
            "country": "r.country::VARCHAR AS country",
            "year": "year(r.first_received::DATE)::INTEGER AS year",
        }
        strata_sql = "".join(f", {strata[s]}" for s in self.use_strata)
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {tag}_rows AS
            SELECT r.case_id::BIGINT AS report_id, p.product, e.event{strata_sql},
                   year(r.first_received::DATE)::VARCHAR || 'Q' || quarter(r.first_received::DATE)::VARCHAR AS period
            FROM {tag}_reports r
            JOIN {tag}_products p ON p.case_id = r.case_id
            JOIN (SELECT DISTINCT case_id, event FROM {tag}_events WHERE coded) e ON e.case_id = r.case_id
            WHERE r.valid::BOOLEAN
            ORDER BY report_id, p.product, e.event
            """
        )
        summary = con.execute(
            f"""
            SELECT
                (SELECT count(*) FROM {tag}_reports),
                (SELECT count(*) FROM {tag}_reports WHERE NOT valid::BOOLEAN),
                (SELECT count(*) FROM {tag}_reports r WHERE valid::BOOLEAN
                    AND NOT EXISTS (SELECT 1 FROM {tag}_products p WHERE p.case_id = r.case_id)),
                (SELECT count(*) FROM {tag}_events WHERE NOT coded),
                (SELECT count(DISTINCT case_id) FROM {tag}_events WHERE NOT coded),
                (SELECT count(DISTINCT report_id) FROM {tag}_rows),
                (SELECT count(*) FROM {tag}_rows)
            """
        ).fetchall()
        self.counts = CaseStoreCounts(*(int(v) for v in summary[0]))
        for name in ("reports", "drugs", "reactions"):
            con.unregister(f"{tag}_{name}")
        return con.sql(f"SELECT * FROM {tag}_rows")
