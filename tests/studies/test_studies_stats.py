"""Exact CIs and SMDs against published table values and hand computation."""

from __future__ import annotations

import math

import pytest
from scipy.stats import beta, chi2

from riskplan.studies.stats import (
    clopper_pearson,
    poisson_exact_ci,
    rate_per,
    rate_ratio_exact,
    smd_binary,
    smd_continuous,
    standardised_ratio,
)


def test_exact_poisson_ci_matches_published_table() -> None:
    # Ulm 1990 / Garwood 1936 tables: 0 events -> (0, 3.689); 5 events -> (1.6235, 11.6683)
    assert poisson_exact_ci(0) == (0.0, pytest.approx(3.689, abs=5e-4))
    lo, hi = poisson_exact_ci(5)
    assert lo == pytest.approx(1.6235, abs=5e-4)
    assert hi == pytest.approx(11.6683, abs=5e-4)
    lo, hi = poisson_exact_ci(1)
    assert (lo, hi) == (pytest.approx(0.0253, abs=5e-4), pytest.approx(5.5716, abs=5e-4))


def test_rate_per_100_person_years() -> None:
    r = rate_per(5, 250.0)
    assert r.estimate == pytest.approx(2.0)
    assert r.lower == pytest.approx(1.6235 / 250 * 100, rel=1e-3)
    assert r.upper == pytest.approx(11.6683 / 250 * 100, rel=1e-3)
    assert rate_per(3, 0.0).estimate is None


def test_clopper_pearson_known_values() -> None:
    ci = clopper_pearson(0, 10)
    assert ci.estimate == 0.0 and ci.lower == 0.0
    assert ci.upper == pytest.approx(0.3085, abs=5e-5)
    ci = clopper_pearson(10, 10)
    assert ci.upper == 1.0 and ci.lower == pytest.approx(1 - 0.3085, abs=5e-5)
    ci = clopper_pearson(5, 10)
    assert (ci.lower, ci.upper) == (pytest.approx(0.1871, abs=5e-5), pytest.approx(0.8129, abs=5e-5))
    assert clopper_pearson(0, 0).estimate is None


def test_rate_ratio_conditional_binomial() -> None:
    a, t1, b, t0 = 10, 100.0, 5, 200.0
    rr = rate_ratio_exact(a, t1, b, t0)
    assert rr.estimate == pytest.approx((10 / 100) / (5 / 200))
    pl = beta.ppf(0.025, a, b + 1)
    pu = beta.ppf(0.975, a + 1, b)
    assert rr.lower == pytest.approx(pl / (1 - pl) * t0 / t1)
    assert rr.upper == pytest.approx(pu / (1 - pu) * t0 / t1)
    zero_comparator = rate_ratio_exact(3, 10.0, 0, 10.0)
    assert zero_comparator.estimate is None and math.isinf(zero_comparator.upper or 0.0)
    assert rate_ratio_exact(0, 10.0, 0, 10.0).lower is None


def test_standardised_incidence_ratio() -> None:
    sir = standardised_ratio(5, 2.5)
    assert sir.estimate == pytest.approx(2.0)
    assert sir.lower == pytest.approx(chi2.ppf(0.025, 10) / 2 / 2.5)
    assert sir.upper == pytest.approx(chi2.ppf(0.975, 12) / 2 / 2.5)


def test_smd_austin_2009_by_hand() -> None:
    # continuous: means 50 and 45, SDs 10 and 12 -> 5 / sqrt((100 + 144) / 2)
    assert smd_continuous(50, 10, 45, 12) == pytest.approx(5 / math.sqrt(122))
    # binary: 0.30 vs 0.20 -> 0.1 / sqrt((0.21 + 0.16) / 2)
    assert smd_binary(0.3, 0.2) == pytest.approx(0.1 / math.sqrt(0.185))
    assert smd_binary(0.0, 0.0) == 0.0
    assert smd_continuous(1.0, 0.0, 2.0, 0.0) is None
