"""Exact confidence intervals and standardised differences used by every study analysis.

* Exact Poisson CI for a count (Garwood 1936, chi-squared form; as tabulated by Ulm 1990).
* Exact CI for a rate ratio by the conditional binomial method (Rothman & Greenland, Modern
  Epidemiology, ch. 14; Breslow & Day 1987, vol. II, 2.4).
* Clopper–Pearson exact CI for a proportion (Clopper & Pearson 1934).
* Standardised mean difference for continuous and binary covariates (Austin 2009, Stat Med 28:3083).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import beta, chi2

PERSON_YEAR_DAYS = 365.25
"""Days in a person-year (Julian year), used to turn person-days into person-years."""


@dataclass(frozen=True)
class Interval:
    estimate: float | None
    lower: float | None
    upper: float | None


def poisson_exact_ci(events: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood 1936) confidence limits for the mean of a Poisson count ``events``.

    lower = chi2.ppf(alpha/2, 2k) / 2 (0 when k = 0); upper = chi2.ppf(1 - alpha/2, 2k + 2) / 2.
    E.g. 0 events: (0, 3.689); 5 events: (1.6235, 11.6683) (Ulm 1990, Am J Epidemiol 131:373).
    """
    if events < 0:
        raise ValueError("events must be >= 0")
    alpha = 1.0 - confidence
    lower = 0.0 if events == 0 else float(chi2.ppf(alpha / 2, 2 * events)) / 2
    upper = float(chi2.ppf(1 - alpha / 2, 2 * events + 2)) / 2
    return lower, upper


def rate_per(events: int, person_years: float, per: float = 100.0, confidence: float = 0.95) -> Interval:
    """Incidence rate per ``per`` person-years with its exact Poisson CI (Garwood 1936)."""
    if person_years <= 0:
        return Interval(None, None, None)
    lo, hi = poisson_exact_ci(events, confidence)
    scale = per / person_years
    return Interval(events * scale, lo * scale, hi * scale)


def clopper_pearson(successes: int, trials: int, confidence: float = 0.95) -> Interval:
    """Proportion with its exact Clopper–Pearson CI (Clopper & Pearson 1934), via the beta distribution.

    E.g. 0/10: (0, 0.3085).
    """
    if trials <= 0:
        return Interval(None, None, None)
    if not 0 <= successes <= trials:
        raise ValueError("successes must lie between 0 and trials")
    alpha = 1.0 - confidence
    lower = 0.0 if successes == 0 else float(beta.ppf(alpha / 2, successes, trials - successes + 1))
    upper = 1.0 if successes == trials else float(beta.ppf(1 - alpha / 2, successes + 1, trials - successes))
    return Interval(successes / trials, lower, upper)


def rate_ratio_exact(events_1: int, time_1: float, events_0: int, time_0: float, confidence: float = 0.95) -> Interval:
    """Rate ratio (group 1 / group 0) with the exact conditional binomial CI.

    Given n = a + b events, a ~ Binomial(n, p) with p = RR*T1 / (RR*T1 + T0). The Clopper–Pearson
    limits of p are turned into RR limits by RR = p / (1 - p) * T0 / T1 (Rothman & Greenland, ch. 14).
    """
    if time_1 <= 0 or time_0 <= 0:
        return Interval(None, None, None)
    n = events_1 + events_0
    estimate = None if events_0 == 0 else (events_1 / time_1) / (events_0 / time_0)
    if n == 0:
        return Interval(estimate, None, None)
    p = clopper_pearson(events_1, n, confidence)
    assert p.lower is not None and p.upper is not None
    ratio = time_0 / time_1
    lower = p.lower / (1 - p.lower) * ratio
    upper = math.inf if p.upper >= 1.0 else p.upper / (1 - p.upper) * ratio
    return Interval(estimate, lower, upper)


def standardised_ratio(observed: int, expected: float, confidence: float = 0.95) -> Interval:
    """Standardised incidence ratio observed/expected with the exact Poisson CI on the observed count."""
    if expected <= 0:
        return Interval(None, None, None)
    lo, hi = poisson_exact_ci(observed, confidence)
    return Interval(observed / expected, lo / expected, hi / expected)


def smd_continuous(mean_1: float, sd_1: float, mean_0: float, sd_0: float) -> float | None:
    """Austin 2009 SMD for a continuous covariate: (m1 - m0) / sqrt((s1^2 + s0^2) / 2)."""
    pooled = math.sqrt((sd_1**2 + sd_0**2) / 2)
    if pooled == 0:
        return 0.0 if mean_1 == mean_0 else None
    return (mean_1 - mean_0) / pooled


def smd_binary(p_1: float, p_0: float) -> float | None:
    """Austin 2009 SMD for a binary covariate: (p1 - p0) / sqrt((p1(1-p1) + p0(1-p0)) / 2)."""
    pooled = math.sqrt((p_1 * (1 - p_1) + p_0 * (1 - p_0)) / 2)
    if pooled == 0:
        return 0.0 if p_1 == p_0 else None
    return (p_1 - p_0) / pooled
