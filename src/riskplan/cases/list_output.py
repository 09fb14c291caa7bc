"""How ``riskplan case list`` and ``riskplan case due`` print a page of cases: a table with one line per
case whose identifiers are never cut (the other columns give way, ending in "…"), CSV or JSON."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from rich import box
from rich.console import JustifyMethod
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from riskplan.cases.worklist import CaseLine, CasePage, CaseState


class ListFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


Column = tuple[str, Callable[[CaseLine], Any]]

LIST_COLUMNS: tuple[Column, ...] = (
    ("case", lambda c: c.case_number),
    ("worldwide_id", lambda c: c.worldwide_id),
    ("version", lambda c: c.version),
    ("received", lambda c: c.received.isoformat()),
    ("state", lambda c: c.state.value),
    ("valid", lambda c: c.valid),
    ("serious", lambda c: c.serious),
    ("due", lambda c: c.due.isoformat() if c.due else None),
    ("safety_concerns", lambda c: list(c.concerns)),
    ("reactions", lambda c: list(c.pts)),
    ("products", lambda c: list(c.products)),
    ("synthetic", lambda c: c.synthetic),
)

DUE_COLUMNS: tuple[Column, ...] = (
    ("case", lambda c: c.case_number),
    ("worldwide_id", lambda c: c.worldwide_id),
    ("version", lambda c: c.version),
    ("serious", lambda c: c.serious),
    ("day_zero", lambda c: c.day_zero.isoformat() if c.day_zero else None),
    ("due", lambda c: c.due.isoformat() if c.due else None),
    ("days_left", lambda c: c.days_left),
    ("overdue", lambda c: c.overdue),
    ("safety_concerns", lambda c: list(c.concerns)),
    ("reactions", lambda c: list(c.pts)),
    ("synthetic", lambda c: c.synthetic),
)


def page_json(page: CasePage, columns: Sequence[Column]) -> str:
    """A JSON list of the cases of the page, one object each (the columns as keys)."""
    return json.dumps([{name: get(line) for name, get in columns} for line in page.lines], indent=2)


def page_csv(page: CasePage, columns: Sequence[Column]) -> str:
    """CSV with a header row; lists joined by "; ", booleans as yes/no, nothing as an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([name for name, _ in columns])
    for line in page.lines:
        writer.writerow([_cell(get(line)) for _, get in columns])
    return buffer.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class _Col:
    """A table column: its header, its cells, and how it gives way on a narrow terminal."""

    header: str
    cells: list[str]
    keep: int  # 0: always shown (identifiers); otherwise dropped from the highest number up when space runs out
    flexible: bool = False  # takes the width left over, cut with "…"
    justify: JustifyMethod = "left"

    @property
    def natural(self) -> int:
        return max([len(self.header), *(len(Text.from_markup(c).plain) for c in self.cells)])


_GAP = 3  # a space of padding on each side and the column separator
_FLEX_MIN = 8


def _wide(title: str, columns: list[_Col]) -> Table:
    """Every column, every value whole on one line per case, however wide the terminal (the table is as
    wide as it needs: ``riskplan case list --wide | less -S``)."""
    needed = sum(c.natural + _GAP for c in columns)
    table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1), width=needed)
    for column in columns:
        table.add_column(column.header, width=column.natural, no_wrap=True, justify=column.justify)
    for i in range(len(columns[0].cells)):
        table.add_row(*(column.cells[i] for column in columns))
    return table


def _fit(title: str, columns: list[_Col], width: int) -> Table:
    """One line per case: identifiers whole, then the most useful columns that fit; the flexible ones take
    what is left and end in "…". Columns that do not fit at all are left out (``--wide`` or csv shows all)."""
    fixed = [c for c in columns if not c.flexible]
    chosen = {id(c) for c in fixed if c.keep == 0}
    used = sum(c.natural + _GAP for c in fixed if c.keep == 0)
    for column in sorted((c for c in fixed if c.keep), key=lambda c: c.keep):
        if used + column.natural + _GAP <= width:
            chosen.add(id(column))
            used += column.natural + _GAP
    flexible = [c for c in columns if c.flexible]
    share = (width - used) // len(flexible) - _GAP if flexible else 0
    if share >= _FLEX_MIN:
        chosen |= {id(c) for c in flexible}
    table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1))
    shown = [c for c in columns if id(c) in chosen]
    for column in shown:
        size = min(column.natural, share) if column.flexible else column.natural
        table.add_column(column.header, width=size, no_wrap=True, overflow="ellipsis", justify=column.justify)
    for i in range(len(columns[0].cells)):
        table.add_row(*(column.cells[i] for column in shown))
    return table


def _footer(page: CasePage, what: str) -> str:
    if page.total == 0:
        return f"no {what}"
    if not page.lines:  # a page past the end
        limit = page.limit or page.total
        pages = -(-page.total // limit)
        return f"no {what} here: {page.total} {what} in all, on pages 1 to {pages} (--offset 0 to {page.total - 1})"
    shown = f"{page.first}-{page.last} of {page.total} {what}"
    if page.last < page.total and page.limit is not None:
        return f"{shown}; next page: --offset {page.last} (or --page {page.last // page.limit + 1})"
    return shown


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def list_table(page: CasePage, width: int, *, wide: bool = False) -> tuple[Table, str]:
    """The ``case list`` table for a terminal ``width`` wide, and the line under it (which cases of how many,
    how to see more). ``wide``: every column whole, as wide as it needs (:func:`_wide`)."""
    lines = page.lines
    columns = [
        _Col("case", [c.case_number for c in lines], 0),
        _Col("worldwide id", [_worldwide_id(c) for c in lines], 0),
        _Col("v", [str(c.version) for c in lines], 6, justify="right"),
        _Col("received", [c.received.isoformat() for c in lines], 4),
        _Col("state", ["[red]invalid[/]" if c.state is CaseState.INVALID else c.state.value for c in lines], 1),
        _Col("serious", ["yes" if c.serious else "" for c in lines], 3),
        _Col("due", [_date(c.due) for c in lines], 2),
        _Col("reactions (PT)", [escape(", ".join(c.pts)) for c in lines], 5, flexible=True),
        _Col("concerns", [escape(", ".join(c.concerns)) for c in lines], 5, flexible=True),
    ]
    if wide:
        columns.append(_Col("products", [escape("; ".join(c.products)) for c in lines], 7, flexible=True))
    synthetic = sum(c.synthetic for c in lines)
    title = f"Cases ({page.total}" + (f", {synthetic} SYNTHETIC: not real reports)" if synthetic else ")")
    return (_wide(title, columns) if wide else _fit(title, columns, width)), _footer(page, "cases")


def due_table(page: CasePage, as_of: str, overdue: int, width: int) -> tuple[Table, str]:
    """The ``case due`` table (``overdue`` of all the open cases are overdue) and the line under it."""
    lines = page.lines
    columns = [
        _Col("case", [c.case_number for c in lines], 0),
        _Col("worldwide id", [_worldwide_id(c) for c in lines], 0),
        _Col("v", [str(c.version) for c in lines], 6, justify="right"),
        _Col("clock", ["15-day" if c.serious else "90-day" for c in lines], 3),
        _Col("day 0", [_date(c.day_zero) for c in lines], 5),
        _Col("due", [_date(c.due) for c in lines], 1),
        _Col("days left", [str(c.days_left) if c.days_left is not None else "" for c in lines], 4, justify="right"),
        _Col("status", ["[red]OVERDUE[/]" if c.overdue else "due" for c in lines], 2),
        _Col("reactions (PT)", [escape(", ".join(c.pts)) for c in lines], 7, flexible=True),
    ]
    return _fit(f"Due as of {as_of}: {page.total} open, {overdue} overdue", columns, width), _footer(page, "open cases")


def _worldwide_id(line: CaseLine) -> str:
    """The worldwide id, marked when the case is synthetic (made by riskplan synth or the demo)."""
    return f"{line.worldwide_id} [bold]SYNTHETIC[/]" if line.synthetic else line.worldwide_id
