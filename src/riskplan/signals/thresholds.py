"""Named signal thresholds: which product-event pairs a disproportionality criterion flags.

- ``evans``: PRR ≥ 2 and χ² (Yates) ≥ 4 and N ≥ 3 — Evans SJW, Waller PC, Davis S (2001), "Use of
  proportional reporting ratios (PRRs) for signal generation from spontaneous adverse drug reaction
  reports", Pharmacoepidemiol Drug Saf 10:483-486.
- ``eb05``: EB05 ≥ 2 — Szarfman A, Machado SG, O'Neill RT (2002), "Use of screening algorithms and
  computer systems to efficiently signal higher-than-expected combinations of drugs and events in the
  US FDA's spontaneous reports database", Drug Saf 25(6):381-392.
- ``ic025``: IC025 > 0 — Norén GN, Bate A, Orre R, Edwards IR (2006), Stat Med 25:3740-3757; the
  WHO Uppsala Monitoring Centre criterion (Bate et al. 1998, Eur J Clin Pharmacol 54:315-321).
- ``ror025``: ROR025 > 1 (lower limit of the 95% CI above one) — van Puijenbroek EP, Bate A, Leufkens
  HGM, Lindquist M, Orre R, Egberts ACG (2002), "A comparison of measures of disproportionality for
  signal detection in spontaneous reporting systems for adverse drug reactions", Pharmacoepidemiol
  Drug Saf 11:3-10.

NaN (an undefined measure) never meets a threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from riskplan.errors import UserInputError

Measures = Mapping[str, NDArray[np.float64] | NDArray[np.int64]]
Mask = NDArray[np.bool_]


@dataclass(frozen=True)
class ThresholdSet:
    """A named signalling criterion over the per-pair measures."""

    name: str
    criterion: str
    reference: str
    rule: Callable[[Measures], Mask]

    def flags(self, measures: Measures) -> Mask:
        with np.errstate(invalid="ignore"):
            return np.asarray(self.rule(measures), dtype=bool)

    @property
    def column(self) -> str:
        return f"signal_{self.name}"


def _evans(m: Measures) -> Mask:
    return np.asarray((m["PRR"] >= 2) & (m["chi2"] >= 4) & (m["N"] >= 3), dtype=bool)


THRESHOLD_SETS: dict[str, ThresholdSet] = {
    t.name: t
    for t in (
        ThresholdSet(
            "evans",
            "PRR ≥ 2, χ² (Yates) ≥ 4, N ≥ 3",
            "Evans, Waller & Davis 2001, Pharmacoepidemiol Drug Saf 10:483-486",
            _evans,
        ),
        ThresholdSet(
            "eb05",
            "EB05 ≥ 2",
            "Szarfman, Machado & O'Neill 2002, Drug Saf 25:381-392",
            lambda m: np.asarray(m["EB05"] >= 2, dtype=bool),
        ),
        ThresholdSet(
            "ic025",
            "IC025 > 0",
            "Norén et al. 2006, Stat Med 25:3740-3757 (WHO-UMC)",
            lambda m: np.asarray(m["IC025"] > 0, dtype=bool),
        ),
        ThresholdSet(
            "ror025",
            "ROR025 > 1",
            "van Puijenbroek et al. 2002, Pharmacoepidemiol Drug Saf 11:3-10",
            lambda m: np.asarray(m["ROR025"] > 1, dtype=bool),
        ),
    )
}
DEFAULT_THRESHOLDS = ("evans", "eb05", "ic025", "ror025")


def threshold_sets(names: str | Sequence[str]) -> list[ThresholdSet]:
    """The sets named (comma-separated text or a sequence); unknown names are a user error."""
    items = [n.strip().lower() for n in (names.split(",") if isinstance(names, str) else names)]
    items = [n for n in items if n]
    unknown = [n for n in items if n not in THRESHOLD_SETS]
    if unknown:
        raise UserInputError(f"unknown threshold set(s) {', '.join(unknown)}; choose from {', '.join(THRESHOLD_SETS)}")
    return [THRESHOLD_SETS[n] for n in dict.fromkeys(items)]


def flag(measures: Measures, names: str | Sequence[str] = DEFAULT_THRESHOLDS) -> dict[str, Mask]:
    """A boolean array per chosen threshold set."""
    return {t.name: t.flags(measures) for t in threshold_sets(names)}


def flagged_pairs(measures: Measures, name: str) -> NDArray[np.int64]:
    """Indices of the pairs the named threshold set flags."""
    return np.flatnonzero(threshold_sets([name])[0].flags(measures)).astype(np.int64)
