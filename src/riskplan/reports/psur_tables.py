"""The summary tabulations of the PSUR as table views (ICH E2C(R2) 3.6 and Appendix B; PBRER sections 6.2 and
6.3): post-marketing reactions, serious and non-serious, by SOC and PT; serious adverse events from clinical
trials by treatment arm. PT rows count cases (a case reporting the PT twice counts once); SOC rows add their
PT rows, so they count reactions (case-PT pairs: a case with two PTs of the SOC counts twice), and say so."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from riskplan.reports.psur_counts import TRIAL_ARMS, TabulationRow, TrialRow
from riskplan.reports.study_report import fmt

NOT_ASSESSED: Final = "n/a"  # a tabulation cell that cannot be assessed (listedness without an RSI)
SOC_UNIT: Final = "all PTs: reactions"  # the PT cell of a SOC row: what its numbers count
PT_UNIT: Final = "cases"

Cell = tuple[str, bool, str]  # (text, numeric, css class)


@dataclass(frozen=True)
class TableView:
    caption: str
    groups: tuple[tuple[str, int], ...]  # header groups (label, colspan)
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


def cell(value: Any, css: str = "") -> Cell:
    numeric = value is None or (isinstance(value, int | float) and not isinstance(value, bool))
    return fmt(value), numeric, css


def _by_soc(rows: Iterable[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        out[r.soc].append(r)
    return out


def _post_marketing_numbers(rows: Sequence[TabulationRow]) -> list[int]:
    si = sum(r.interval for r in rows)
    sc = sum(r.cumulative for r in rows)
    ni = sum(r.nonserious_interval for r in rows)
    nc = sum(r.nonserious_cumulative for r in rows)
    return [si, sc, ni, nc, si + ni, sc + nc]


def _rsi(listedness: str) -> str:
    return {"listed": "listed", "unlisted": "unlisted"}.get(listedness, NOT_ASSESSED)


def post_marketing_view(rows: Sequence[TabulationRow], caption: str) -> TableView:
    """ICH E2C(R2) 3.6.2, Appendix B: reactions of one post-marketing source by SOC and PT, serious and
    non-serious, interval and cumulative; the PT's listedness against the RSI."""
    out: list[tuple[Cell, ...]] = []
    by_soc = _by_soc(rows)
    for soc in sorted(by_soc, key=str.casefold):
        items = by_soc[soc]
        out.append(
            (
                cell(soc, "soc"),
                cell(SOC_UNIT, "soc unit"),
                cell("", "soc"),
                *(cell(v, "soc") for v in _post_marketing_numbers(items)),
            )
        )
        for r in sorted(items, key=lambda x: x.pt.casefold()):
            out.append(
                (cell(""), cell(r.pt), cell(_rsi(r.listedness)), *(cell(v) for v in _post_marketing_numbers([r])))
            )
    out.append(
        (
            cell("Total", "total"),
            cell(SOC_UNIT, "total unit"),
            cell("", "total"),
            *(cell(v, "total") for v in _post_marketing_numbers(rows)),
        )
    )
    return TableView(
        caption,
        (("", 3), ("Serious", 2), ("Non-serious", 2), ("Total", 2)),
        (
            "System organ class",
            "Preferred term (PT rows: cases)",
            "RSI",
            "interval",
            "cumulative",
            "interval",
            "cumulative",
            "interval",
            "cumulative",
        ),
        tuple(out),
    )


def trial_view(rows: Sequence[TrialRow], caption: str) -> TableView:
    """ICH E2C(R2) 3.6.1, Appendix B: cumulative serious adverse events from clinical trials by SOC and PT,
    one column per treatment arm (an arm no case has is left out; blinded treatment as such)."""
    arms = [a for a in TRIAL_ARMS if any(r.arm == a for r in rows)]

    def numbers(items: Iterable[TrialRow]) -> list[int]:
        per = dict.fromkeys(arms, 0)
        for r in items:
            per[r.arm] += r.cumulative
        return [*per.values(), sum(per.values())]

    out: list[tuple[Cell, ...]] = []
    by_soc = _by_soc(rows)
    for soc in sorted(by_soc, key=str.casefold):
        items = by_soc[soc]
        out.append((cell(soc, "soc"), cell(SOC_UNIT, "soc unit"), *(cell(v, "soc") for v in numbers(items))))
        by_pt: dict[str, list[TrialRow]] = defaultdict(list)
        for r in items:
            by_pt[r.pt].append(r)
        for pt in sorted(by_pt, key=str.casefold):
            out.append((cell(""), cell(pt), *(cell(v) for v in numbers(by_pt[pt]))))
    out.append((cell("Total", "total"), cell(SOC_UNIT, "total unit"), *(cell(v, "total") for v in numbers(rows))))
    return TableView(
        caption,
        (("", 2), ("Cumulative to the DLP, by treatment arm", len(arms) + 1)),
        ("System organ class", "Preferred term (PT rows: cases)", *arms, "total"),
        tuple(out),
    )
