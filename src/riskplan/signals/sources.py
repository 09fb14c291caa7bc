"""Where spontaneous reports come from: a small protocol and its implementations.

A source hands DuckDB a long table — one row per report-product-event — with the columns
``report_id``, ``product``, ``event`` and optionally strata columns (``strata``) and a ``period``
column (text that sorts in time order, e.g. ``2024Q1``) for time trends. Implementations:

- :class:`LongTableFile`: a CSV or Parquet file with user-named columns;
- :class:`FaersParquet`: a folder written by :func:`riskplan.signals.faers.import_faers`;
- :class:`SyntheticSource`: :func:`riskplan.signals.synth.synthesise_spontaneous`.

Our own case store will be another implementation of the same protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import duckdb

from riskplan.errors import UserInputError
from riskplan.signals.synth import Injection, SyntheticReports, synthesise_spontaneous


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


@dataclass(frozen=True)
class FaersParquet:
    """A folder of FAERS Parquet tables (``demo.parquet``, ``drug.parquet``, ``reac.parquet``).

    report_id is the FAERS primaryid (the latest version of each case); product is the normalised
    active ingredient (``prod_ai``, else the drug name); event is the reaction PT. Strata: sex,
    age_grp, year (of the FDA receipt date); period: the quarter of the file the case came from.
    ``roles``: which drug role codes count (default all four).
    """

    folder: Path
    roles: tuple[str, ...] = FAERS_ROLES
    use_strata: tuple[str, ...] = ()

    @property
    def description(self) -> str:
        return f"FAERS tables in {self.folder}"

    @property
    def strata(self) -> tuple[str, ...]:
        return self.use_strata

    @property
    def has_period(self) -> bool:
        return True

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
        allowed = {"sex", "age_grp", "year"}
        bad = [s for s in self.use_strata if s not in allowed]
        if bad:
            raise UserInputError(f"FAERS strata can be {', '.join(sorted(allowed))}, not {', '.join(bad)}")
        roles = ", ".join(_literal(r) for r in self.roles)
        strata = "".join(f", d.{s}" for s in self.use_strata)
        return con.sql(
            f"""
            SELECT g.primaryid AS report_id, g.product, r.pt AS event{strata}, d.quarter AS period
            FROM read_parquet({_literal(str(files["drug"]))}) g
            JOIN read_parquet({_literal(str(files["reac"]))}) r ON r.primaryid = g.primaryid
            JOIN (SELECT primaryid, sex, age_grp, quarter,
                         try_cast(substr(fda_dt, 1, 4) AS INTEGER) AS year
                  FROM read_parquet({_literal(str(files["demo"]))})) d ON d.primaryid = g.primaryid
            WHERE g.role_cod IN ({roles}) AND g.product IS NOT NULL AND g.product <> ''
            """
        )


@dataclass
class SyntheticSource:
    """Synthetic reports drawn on demand (kept in memory; ``reports`` has the ground truth)."""

    n_reports: int
    seed: int = 0
    injected: Sequence[Injection] | None = None
    use_strata: tuple[str, ...] = ()
    reports: SyntheticReports | None = field(default=None, repr=False)

    @property
    def description(self) -> str:
        return f"{self.n_reports} synthetic reports (seed {self.seed})"

    @property
    def strata(self) -> tuple[str, ...]:
        return self.use_strata

    @property
    def has_period(self) -> bool:
        return True

    def to_relation(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
        if self.reports is None:
            self.reports = synthesise_spontaneous(self.n_reports, self.seed, self.injected)
        bad = [s for s in self.use_strata if s not in ("sex", "age_group", "year")]
        if bad:
            raise UserInputError(f"synthetic strata can be sex, age_group, year, not {', '.join(bad)}")
        rel = self.reports.to_relation(con)
        strata = "".join(f", {s}" for s in self.use_strata)
        return rel.select(f"report_id, product, event{strata}, period")
