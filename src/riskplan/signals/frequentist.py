"""Frequentist disproportionality measures on the 2×2 table of each product-event pair.

For a pair, with reports counted once each:

==================  ===========  ===============
\\                   event        not the event
==================  ===========  ===============
product             a = N        b = n_product − N
not the product     c            d
==================  ===========  ===============

where ``c = n_event − N`` and ``d = n_total − n_product − c``.

- **PRR**, proportional reporting ratio (Evans, Waller & Davis 2001, Pharmacoepidemiol Drug Saf
  10:483-486): ``PRR = (a/(a+b)) / (c/(c+d))``, 95% CI
  ``exp(ln PRR ± 1.96·sqrt(1/a − 1/(a+b) + 1/c − 1/(c+d)))``.
- **χ²**, Pearson's chi-squared with Yates' continuity correction, the statistic Evans et al. 2001 used
  for their signal criterion (χ² ≥ 4): ``n·max(0, |ad − bc| − n/2)² / ((a+b)(c+d)(a+c)(b+d))``.
- **ROR**, reporting odds ratio (van Puijenbroek et al. 2002, Pharmacoepidemiol Drug Saf
  11:3-10; Rothman, Lanes & Sacks 2004): ``ROR = ad/(bc)``, 95% CI
  ``exp(ln ROR ± 1.96·sqrt(1/a + 1/b + 1/c + 1/d))`` (Woolf).

Zero cells: **no continuity correction** is applied (unless ``continuity`` is given, which adds it to
every cell of the 2×2 table, Haldane-Anscombe style, for PRR, ROR and their CIs — never to χ²).
Arithmetic follows IEEE rules and is then tidied so that the meaning is plain:

- ``c = 0`` (the event is only reported with the product): PRR = +inf, PRR025/PRR975 = NaN;
- ``b = 0`` or ``c = 0``: ROR = +inf, ROR025/ROR975 = NaN;
- ``d = 0`` (with b, c > 0): ROR = 0, CI NaN;
- a denominator of χ² that is zero (every report has the product, or the event): χ² = NaN;
- the product in every report (``c + d = 0``): PRR = NaN.

NaN compares false with every threshold, so undefined measures never raise a flag.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

F64 = NDArray[np.float64]
Z95 = 1.959963984540054  # the 97.5% standard normal quantile ("1.96")


@dataclass(frozen=True)
class TwoByTwo:
    """The cells a, b, c, d of each pair's 2×2 table, as floats."""

    a: F64
    b: F64
    c: F64
    d: F64

    @property
    def n(self) -> F64:
        return self.a + self.b + self.c + self.d


def two_by_two(n: ArrayLike, n_product: ArrayLike, n_event: ArrayLike, n_total: ArrayLike) -> TwoByTwo:
    a = np.asarray(n, dtype=np.float64)
    b = np.asarray(n_product, dtype=np.float64) - a
    c = np.asarray(n_event, dtype=np.float64) - a
    d = np.asarray(n_total, dtype=np.float64) - a - b - c
    if np.any(b < 0) or np.any(c < 0) or np.any(d < 0):
        raise ValueError("inconsistent counts: N exceeds a margin, or the margins exceed the total")
    return TwoByTwo(a, b, c, d)


def _ratio_ci(value: F64, variance: F64, z: float) -> tuple[F64, F64]:
    """exp(ln value ± z·sqrt(variance)); NaN where the value or the variance is not finite."""
    log_ratio = np.log(value)
    half = np.sqrt(variance)
    half *= z
    lower = log_ratio - half
    np.exp(lower, out=lower)
    upper = log_ratio
    upper += half
    np.exp(upper, out=upper)
    undefined = ~np.isfinite(half)
    undefined |= ~np.isfinite(value) | (value == 0)
    lower[undefined] = np.nan
    upper[undefined] = np.nan
    return lower, upper


def _cells(t: TwoByTwo, continuity: float) -> tuple[F64, F64, F64, F64]:
    if continuity == 0:
        return t.a, t.b, t.c, t.d
    return t.a + continuity, t.b + continuity, t.c + continuity, t.d + continuity


def prr(t: TwoByTwo, *, z: float = Z95, continuity: float = 0.0) -> tuple[F64, F64, F64]:
    """PRR and its lower and upper 95% limits (Evans et al. 2001); see the module docstring."""
    a, b, c, d = _cells(t, continuity)
    with np.errstate(divide="ignore", invalid="ignore"):
        with_product = a + b
        without = c + d
        value = (a / with_product) / (c / without)
        variance = 1.0 / a
        variance -= 1.0 / with_product
        variance += 1.0 / c
        variance -= 1.0 / without
        lower, upper = _ratio_ci(value, variance, z)
    return value, lower, upper


def ror(t: TwoByTwo, *, z: float = Z95, continuity: float = 0.0) -> tuple[F64, F64, F64]:
    """ROR and its lower and upper 95% limits (van Puijenbroek et al. 2002); see the module docstring."""
    a, b, c, d = _cells(t, continuity)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (a * d) / (b * c)
        value[(b == 0) | (c == 0)] = np.inf
        variance = 1.0 / a
        variance += 1.0 / b
        variance += 1.0 / c
        variance += 1.0 / d
        lower, upper = _ratio_ci(value, variance, z)
    return value, lower, upper


def chi_squared_yates(t: TwoByTwo) -> F64:
    """Pearson's χ² with Yates' continuity correction (1 degree of freedom), as used by Evans et al. 2001.

    ``n · max(0, |ad − bc| − n/2)² / ((a+b)(c+d)(a+c)(b+d))``; NaN where a margin is zero.
    """
    a, b, c, d = t.a, t.b, t.c, t.d
    n = a + b + c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = np.maximum(0.0, np.abs(a * d - b * c) - n / 2.0)
        denominator = (a + b) * (c + d) * (a + c) * (b + d)
        return np.where(denominator > 0, n * diff * diff / denominator, np.nan)


def chi_squared_pearson(t: TwoByTwo) -> F64:
    """Pearson's χ² without continuity correction, ``n(ad − bc)² / ((a+b)(c+d)(a+c)(b+d))`` (for reference)."""
    a, b, c, d = t.a, t.b, t.c, t.d
    n = a + b + c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        denominator = (a + b) * (c + d) * (a + c) * (b + d)
        return np.where(denominator > 0, n * (a * d - b * c) ** 2 / denominator, np.nan)
