"""Result tables: the SQL-derived tables every analysis returns, ready to inspect, print or export.

Every analysis function returns a typed result object (a frozen dataclass) whose tables are
:class:`ResultTable` values: named columns, rows, and the SQL that produced them, so that an
epidemiologist can see exactly what was counted (the HADES habit of inspectable steps).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import duckdb


@dataclass(frozen=True)
class ResultTable:
    """A small table of results: column names, rows, and the SQL that derived it (if any)."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    sql: str | None = field(default=None, compare=False)

    @classmethod
    def from_query(
        cls,
        con: duckdb.DuckDBPyConnection,
        name: str,
        sql: str,
        params: Sequence[Any] | None = None,
    ) -> ResultTable:
        """Run ``sql`` on ``con`` and keep its result with the SQL text."""
        cur = con.execute(sql, list(params) if params else None)
        cols = tuple(d[0] for d in cur.description or ())
        return cls(name=name, columns=cols, rows=tuple(tuple(r) for r in cur.fetchall()), sql=sql.strip())

    @classmethod
    def from_records(cls, name: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> ResultTable:
        return cls(name=name, columns=tuple(columns), rows=tuple(tuple(r) for r in rows))

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> list[Any]:
        """The values of one column, in row order."""
        i = self.columns.index(name)
        return [r[i] for r in self.rows]

    def to_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows]

    def where(self, **equals: Any) -> list[dict[str, Any]]:
        """Rows (as dicts) whose columns equal the given values, e.g. ``t.where(stratum="all")``."""
        return [d for d in self.to_dicts() if all(d.get(k) == v for k, v in equals.items())]

    def one(self, **equals: Any) -> dict[str, Any]:
        """The single row matching ``equals``; raises ``LookupError`` when there is not exactly one."""
        found = self.where(**equals)
        if len(found) != 1:
            raise LookupError(f"{self.name}: {len(found)} rows match {equals}")
        return found[0]

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(self.columns)
        for r in self.rows:
            writer.writerow(["" if v is None else jsonable(v) for v in r])
        return buf.getvalue()

    def to_json_dict(self) -> dict[str, Any]:
        return {"name": self.name, "columns": list(self.columns), "rows": [[jsonable(v) for v in r] for r in self.rows]}


def jsonable(value: Any) -> Any:
    """A JSON-friendly form of a result value (dates as ISO text, NaN/inf as None, nested results)."""
    if isinstance(value, ResultTable):
        return value.to_json_dict()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return result_to_dict(value)
    if hasattr(value, "item") and callable(value.item):  # NumPy scalars
        return jsonable(value.item())
    return value


def result_to_dict(result: Any) -> dict[str, Any]:
    """Every field of a result dataclass, JSON-friendly; fields marked ``repr=False`` are left out."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(result):
        if not f.repr:
            continue
        out[f.name] = jsonable(getattr(result, f.name))
    return out


def result_tables(result: Any) -> dict[str, ResultTable]:
    """Every :class:`ResultTable` of a result, nested results included, keyed by table name."""
    found: dict[str, ResultTable] = {}

    def visit(value: Any) -> None:
        if isinstance(value, ResultTable):
            found.setdefault(value.name, value)
        elif isinstance(value, list | tuple):
            for v in value:
                visit(v)
        elif isinstance(value, dict):
            for v in value.values():
                visit(v)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):
                if f.repr:
                    visit(getattr(value, f.name))

    visit(result)
    return found


def fmt(value: Any) -> str:
    """A table cell: integers with thousands separators, floats to 3-4 significant digits, None as a dash."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        if math.isinf(value):
            return "∞"
        if value == 0:
            return "0"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 1:
            return f"{value:.2f}"
        return f"{value:.3g}" if abs(value) >= 0.001 else f"{value:.2e}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
