"""MGPS: DuMouchel's Gamma-Poisson Shrinker (multi-item gamma Poisson shrinker), EBGM and EB05/EB95.

Method: DuMouchel W (1999), "Bayesian data mining in large frequency tables, with an application to the
FDA spontaneous reporting system", Am Stat 53(3):177-190; implemented step by step as openEBGM does
(Canida & Ihrie 2017, "openEBGM: An R implementation of the Gamma-Poisson Shrinker data mining model",
R Journal 9(2):499-519; package openEBGM 0.9.1):

1. counts and expected counts (``counts.count_pairs``, openEBGM ``processRaw``);
2. hyperparameters (:func:`fit_hyperparameters`, openEBGM ``exploreHypers``/``autoHyper``);
3. scores (:func:`mgps_scores`: openEBGM ``Qn``, ``ebgm``, ``quantBisect``).

Model. For each pair, N ~ Poisson(λ·E), and the relative reporting ratios λ are drawn from a mixture of
two gammas (shape α, rate β): ``π(λ) = P·g(λ; α1, β1) + (1 − P)·g(λ; α2, β2)``, θ = (α1, β1, α2, β2, P).
The marginal distribution of N is a mixture of two negative binomials,
``f_k(n) = Γ(α_k + n) / (Γ(α_k) n!) · (β_k/(β_k + E))^α_k · (E/(β_k + E))^n``.

Hyperparameters: maximum likelihood of that marginal likelihood over the observed pairs (N ≥ N*,
N* = 1), conditional on N ≥ N* (DuMouchel & Pregibon 2001; openEBGM ``negLL``, ``zeroes = FALSE``):
``−log L(θ) = −Σ_i w_i log(P f*_1(n_i) + (1 − P) f*_2(n_i))`` with ``f*_k(n) = f_k(n) / (1 − F_k(N* − 1))``.
Pairs with identical (N, E) are merged with a weight (exact: the likelihood is unchanged); with
``squash=True`` openEBGM's data squashing (``squashData``, DuMouchel et al. 2001) is applied as well, and
``squash=None`` applies it only above :data:`SQUASH_THRESHOLD` distinct (N, E) points.
Optimisation: BFGS (``scipy.optimize.minimize``) from several starting points (openEBGM's vignette
set by default), on log α, log β and logit P, with the analytic gradient, then Newton polishing with a
finite-difference Hessian of that gradient. As in ``autoHyper``, the estimate is the convergent,
in-bounds solution with the smallest −log L, and it is *consistent* when at least ``min_conv`` other
convergent solutions lie within (0.05, 0.05, 0.2, 0.2, 0.025) of it. Labels are made canonical:
component 1 is the one with the smaller prior weight (P ≤ ½). Large tables (more than ``max_points``
distinct (N, E)): the starting points are explored on a squashed copy (a few thousand superpoints),
and the best is refined on squashed copies 8 times finer each, then on all distinct points, by
quasi-Newton steps (the coarser copy's Hessian, updated by BFGS from the exact gradients) until the
predicted gain in log L is below 1e-8. The estimate is therefore the maximum of the unsquashed
likelihood, as for small tables; only the search is accelerated.

Posterior (DuMouchel 1999, eqs. 6-11): λ | N = n is a mixture of Gamma(α1 + n, β1 + E) and
Gamma(α2 + n, β2 + E) with weight ``Qn = P f_1(n) / (P f_1(n) + (1 − P) f_2(n))``;
``EBGM = exp(E[ln λ | N]) = exp(Qn (ψ(α1 + n) − ln(β1 + E)) + (1 − Qn)(ψ(α2 + n) − ln(β2 + E)))``;
EB05 and EB95 are the 5% and 95% quantiles of that mixture, solved for all pairs at once by safeguarded
Halley steps inside the bracket formed by the two components' own quantiles (|F − p| ≤ 1e-13, i.e.
~1e-12 relative in the quantile; openEBGM's ``quantBisect`` bisects to 0.005). For large tables (50,000
pairs or more) each N shared by many pairs is solved exactly on a grid of 4096 values of E (even in
ln E) and interpolated (cubic in ln E); the interpolation is checked against exact solutions halfway
between all nodes and, when it agrees to ``GRID_RTOL`` (5e-9), taken as the answer for that N
(measured error ≤ 2e-8 relative against per-pair solutions on 10 million synthetic reports);
otherwise it is the start of the Halley steps. Small tables (and every test against published
values) are solved per pair to ~1e-12.
"""

from __future__ import annotations

import itertools
import json
import math
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

from riskplan.errors import UserInputError
from riskplan.signals.counts import first_of_runs

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

#: Starting points of openEBGM's vignettes (alpha1, beta1, alpha2, beta2, P).
DEFAULT_STARTS: tuple[tuple[float, float, float, float, float], ...] = (
    (0.2, 0.1, 2.0, 4.0, 1 / 3),
    (0.1, 0.1, 10.0, 10.0, 0.2),
    (0.3, 0.5, 6.0, 6.0, 0.5),
    (0.5, 0.3, 12.0, 12.0, 0.8),
    (0.2, 0.2, 5.0, 5.0, 0.4),
)
#: Above this many distinct (N, E) points (N ≥ N*), ``detect``/``fit_hyperparameters(squash=None)`` fit
#: the prior on squashed data (:func:`squash_points`), as openEBGM recommends for large tables
#: (``squashData`` + ``autoHyper(squashed = TRUE)``; DuMouchel et al. 2012). caers (17,189 pairs) and
#: tables of up to a few million reports stay on the exact unsquashed likelihood.
SQUASH_THRESHOLD = 500_000
#: autoHyper's closeness tolerances for (alpha1, beta1, alpha2, beta2, P).
CLOSE_TOLERANCES = (0.05, 0.05, 0.2, 0.2, 0.025)


@dataclass(frozen=True)
class Hyperparameters:
    """θ = (α1, β1, α2, β2, P) of the two-gamma mixture prior (shape α, rate β)."""

    alpha1: float
    beta1: float
    alpha2: float
    beta2: float
    p: float

    def as_array(self) -> F64:
        return np.array([self.alpha1, self.beta1, self.alpha2, self.beta2, self.p], dtype=np.float64)

    @classmethod
    def from_array(cls, values: ArrayLike) -> Hyperparameters:
        a1, b1, a2, b2, p = (float(v) for v in np.asarray(values, dtype=np.float64))
        return cls(a1, b1, a2, b2, p)

    def canonical(self) -> Hyperparameters:
        """The same prior with component 1 the one of smaller weight (P ≤ ½)."""
        if self.p <= 0.5:
            return self
        return Hyperparameters(self.alpha2, self.beta2, self.alpha1, self.beta1, 1.0 - self.p)

    def validate(self, where: str = "hyperparameters") -> Hyperparameters:
        values = self.as_array()
        if not np.all(np.isfinite(values)) or np.any(values[:4] <= 0) or not 0 < self.p < 1:
            raise UserInputError(f"{where}: need alpha1, beta1, alpha2, beta2 > 0 and 0 < P < 1, got {self}")
        return self


@dataclass(frozen=True)
class StartResult:
    """One optimisation run (a row of openEBGM's ``exploreHypers`` table)."""

    start: Hyperparameters
    estimate: Hyperparameters | None
    neg_log_likelihood: float
    converged: bool
    in_bounds: bool
    iterations: int
    gradient_max: float
    message: str


@dataclass(frozen=True)
class HyperparameterFit:
    """The chosen hyperparameters and how the fit went (openEBGM ``autoHyper`` output)."""

    estimate: Hyperparameters
    neg_log_likelihood: float
    consistent: bool
    num_close: int
    starts: tuple[StartResult, ...]
    n_pairs: int
    n_points: int
    n_star: int
    squashed: bool
    explored_on: int
    method: str = "BFGS on (log α, log β, logit P) + Newton polishing"
    notes: tuple[str, ...] = ()
    n_distinct: int = 0

    @property
    def description(self) -> str:
        """Which data the prior was fitted on, e.g. "squashed (DuMouchel 2012) on 123,456 bins"."""
        if self.squashed:
            return (
                f"squashed (DuMouchel 2012, openEBGM squashData) on {self.n_points:,} points "
                f"from {self.n_distinct:,} distinct (N, E) of {self.n_pairs:,} pairs"
            )
        return f"exact on {self.n_points:,} distinct (N, E) of {self.n_pairs:,} pairs"

    @property
    def converged(self) -> bool:
        return any(s.converged for s in self.starts)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["converged"] = self.converged
        data["reference"] = "DuMouchel 1999 (Am Stat 53:177); openEBGM autoHyper (Canida & Ihrie 2017)"
        return data

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2, default=_json_default) + "\n", encoding="utf-8")


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def read_hyperparameters(path: Path) -> Hyperparameters:
    """Hyperparameters from a JSON file: a fit written by :meth:`HyperparameterFit.write_json`, or
    ``{"alpha1": .., "beta1": .., "alpha2": .., "beta2": .., "p": ..}`` (``P`` also accepted)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserInputError(f"{path}: no such hyperparameter file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserInputError(f"{path}: not valid JSON: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("estimate"), dict):
        data = data["estimate"]
    if not isinstance(data, dict):
        raise UserInputError(f"{path}: expected an object with alpha1, beta1, alpha2, beta2, p")
    try:
        p_value = data["p"] if "p" in data else data["P"]
        theta = Hyperparameters(
            float(data["alpha1"]),
            float(data["beta1"]),
            float(data["alpha2"]),
            float(data["beta2"]),
            float(p_value),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UserInputError(f"{path}: missing or non-numeric hyperparameter {exc}") from None
    return theta.validate(str(path))


# --------------------------------------------------------------------------------------------------
# Points: merging identical (N, E) and openEBGM's data squashing


@dataclass(frozen=True)
class Points:
    """Weighted (N, E) points for the likelihood."""

    n: I64
    e: F64
    w: F64

    def __len__(self) -> int:
        return int(self.n.shape[0])


def distinct_points(n: ArrayLike, e: ArrayLike) -> tuple[Points, NDArray[np.intp]]:
    """Distinct (N, E) of all pairs, weighted by multiplicity, and each pair's index among them."""
    n_arr = np.asarray(n, dtype=np.int64)
    e_arr = np.asarray(e, dtype=np.float64)
    if n_arr.shape[0] == 0:
        return Points(n_arr, e_arr, np.zeros(0)), np.zeros(0, dtype=np.intp)
    order = _order_by_n_then_e(n_arr, e_arr)
    n_s, e_s = n_arr[order], e_arr[order]
    new = np.empty(n_s.shape[0], dtype=bool)
    new[0] = True
    new[1:] = (n_s[1:] != n_s[:-1]) | (e_s[1:] != e_s[:-1])
    starts = np.flatnonzero(new)
    weights = np.diff(np.append(starts, n_s.shape[0])).astype(np.float64)
    inverse = np.empty(n_arr.shape[0], dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    return Points(n_s[starts], e_s[starts], weights), inverse


def weighted_points(n: ArrayLike, e: ArrayLike, sorted_at_one: Callable[[], F64] | None = None) -> Points:
    """The points of :func:`distinct_points` without each pair's index, which is not needed to fit the
    prior: the pairs are grouped by N (a radix sort of N as 16-bit integers) and only the values of E
    are sorted within each N, which is several times faster than ordering the pairs on millions.

    ``sorted_at_one``: returns the E of the pairs with N = 1, sorted (usually most pairs), e.g. the
    ``result`` of a future, so that this sort can run on another thread meanwhile."""
    n_arr = np.asarray(n, dtype=np.int64)
    e_arr = np.asarray(e, dtype=np.float64)
    if sorted_at_one is not None:
        rest = n_arr != 1
        others = weighted_points(n_arr[rest], e_arr[rest])
        at_one = sorted_at_one()
        if at_one.shape[0] == 0:
            return others
        new = first_of_runs(at_one)
        starts = np.flatnonzero(new)
        weights = np.diff(np.append(starts, at_one.shape[0])).astype(np.float64)
        return Points(
            np.concatenate([np.ones(starts.shape[0], dtype=np.int64), others.n]),
            np.concatenate([at_one[starts], others.e]),
            np.concatenate([weights, others.w]),
        )
    if n_arr.shape[0] == 0:
        return Points(n_arr, e_arr, np.zeros(0))
    cap = int(np.iinfo(np.int16).max)
    order = np.argsort(np.minimum(n_arr, cap).astype(np.int16), kind="stable")
    n_s, e_s = n_arr[order], e_arr[order]
    del order
    big = int(np.count_nonzero(n_s >= cap))
    if big:
        tail = np.lexsort((e_s[-big:], n_s[-big:]))
        n_s[-big:], e_s[-big:] = n_s[-big:][tail], e_s[-big:][tail]
    bounds = np.flatnonzero(n_s[1:] != n_s[:-1]) + 1
    for lo, hi in itertools.pairwise([0, *bounds.tolist(), n_s.shape[0] - big]):
        if hi - lo > 1:
            e_s[lo:hi].sort()
    new = np.empty(n_s.shape[0], dtype=bool)
    new[0] = True
    new[1:] = (n_s[1:] != n_s[:-1]) | (e_s[1:] != e_s[:-1])
    starts = np.flatnonzero(new)
    weights = np.diff(np.append(starts, n_s.shape[0])).astype(np.float64)
    return Points(n_s[starts], e_s[starts], weights)


def _order_by_n_then_e(n_arr: I64, e_arr: F64) -> NDArray[np.intp]:
    """The order of (N, E), as ``np.lexsort((e, n))`` but faster on millions of pairs: a quicksort of E,
    then a stable (radix) sort of N as 16-bit integers, larger N in the last bucket re-sorted exactly."""
    by_e = np.argsort(e_arr)
    n_by_e = n_arr[by_e]
    cap = int(np.iinfo(np.int16).max)
    order = by_e[np.argsort(np.minimum(n_by_e, cap).astype(np.int16), kind="stable")]
    big = int(np.count_nonzero(n_by_e >= cap))
    if big:
        tail = order[-big:]
        order[-big:] = tail[np.lexsort((e_arr[tail], n_arr[tail]))]
    return np.asarray(order, dtype=np.intp)


def merge_points(n: ArrayLike, e: ArrayLike, n_star: int = 1) -> Points:
    """Distinct (N, E) among pairs with N ≥ ``n_star``, weighted by multiplicity (lossless)."""
    n_arr = np.asarray(n, dtype=np.int64)
    keep = n_arr >= n_star
    return weighted_points(n_arr[keep], np.asarray(e, dtype=np.float64)[keep])


def points_from_distinct(points: Points, n_star: int = 1) -> Points:
    """The distinct points with N ≥ ``n_star`` (all of them for N* = 1)."""
    keep = points.n >= n_star
    return points if bool(np.all(keep)) else Points(points.n[keep], points.e[keep], points.w[keep])


def squash_data(
    points: Points,
    count: int = 1,
    bin_size: int = 50,
    keep_bins: int = 2,
    min_bin: int = 50,
    min_pts: int = 500,
    keep_pts: int | None = None,
) -> Points:
    """openEBGM ``squashData``: bin the points with N = ``count`` by E into superpoints.

    Points with N = ``count`` are sorted by E; the ``keep_bins · bin_size`` largest (or ``keep_pts``, as
    in openEBGM 0.8 and later) stay as they are, the rest are grouped in consecutive bins of
    ``bin_size`` points (the last bin takes the remainder) whose E is the (weight-averaged) mean and
    whose weight is the total weight (openEBGM: the bin size, the same for unit weights). DuMouchel,
    Volinsky, Johnson, Cortes & Pregibon 1999; DuMouchel & Pregibon 2001. Fewer than ``min_pts`` points
    or ``min_bin`` bins at that count: returned unchanged.
    """
    at = points.n == count
    m = int(at.sum())
    num_squash = m - (keep_bins * bin_size if keep_pts is None else keep_pts)
    if m < min_pts or num_squash < bin_size or math.ceil(num_squash / bin_size) < min_bin:
        return points
    idx = np.flatnonzero(at)
    idx = idx[np.argsort(points.e[idx], kind="stable")]
    squash, keep = idx[:num_squash], idx[num_squash:]
    bins = np.arange(num_squash) // bin_size
    weight = np.bincount(bins, weights=points.w[squash])
    mean_e = np.bincount(bins, weights=points.e[squash] * points.w[squash]) / weight
    rest = np.flatnonzero(~at)
    n_out = np.concatenate([points.n[rest], np.full(weight.shape[0], count, dtype=np.int64), points.n[keep]])
    e_out = np.concatenate([points.e[rest], mean_e, points.e[keep]])
    w_out = np.concatenate([points.w[rest], weight, points.w[keep]])
    order = np.argsort(n_out, kind="stable")
    return Points(n_out[order], e_out[order], w_out[order])


def squash_merged(
    points: Points,
    count: int = 1,
    bin_size: int = 50,
    keep_bins: int = 2,
    min_bin: int = 50,
    min_pts: int = 500,
) -> Points:
    """openEBGM ``squashData`` on merged points (weights = numbers of pairs), without expanding them.

    Same superpoints as :func:`squash_data` on the pairs themselves (bins of ``bin_size`` pairs in order
    of E, the ``keep_bins · bin_size`` pairs of largest E kept), but computed from the distinct (N, E)
    points: a distinct point whose pairs straddle a bin boundary contributes its pairs to both bins
    (bin means from cumulative sums), and the kept pairs stay merged (which leaves the likelihood
    unchanged). Used for the large-table fit (:data:`SQUASH_THRESHOLD`).
    """
    idx = np.flatnonzero(points.n == count)
    if idx.shape[0] == 0:
        return points
    e_at = points.e[idx]
    if np.any(e_at[1:] < e_at[:-1]):
        idx = idx[np.argsort(e_at, kind="stable")]
        e_at = points.e[idx]
    w_at = points.w[idx]
    cum_w = np.cumsum(w_at)
    m = round(float(cum_w[-1]))
    num_squash = m - keep_bins * bin_size
    if m < min_pts or num_squash < bin_size or math.ceil(num_squash / bin_size) < min_bin:
        return points
    cum_we = np.cumsum(w_at * e_at)
    bounds = np.append(np.arange(bin_size, num_squash, bin_size, dtype=np.float64), float(num_squash))

    def partial_sum(j: F64) -> F64:  # Σ E over the first j pairs in order of E
        i = np.searchsorted(cum_w, j, side="right")
        prev_w = np.where(i > 0, cum_w[np.maximum(i - 1, 0)], 0.0)
        prev_we = np.where(i > 0, cum_we[np.maximum(i - 1, 0)], 0.0)
        return np.asarray(prev_we + (j - prev_w) * e_at[np.minimum(i, e_at.shape[0] - 1)], dtype=np.float64)

    weight = np.diff(bounds, prepend=0.0)
    mean_e = np.diff(partial_sum(bounds), prepend=0.0) / weight
    first_kept = int(np.searchsorted(cum_w, float(num_squash), side="right"))
    kept_w = w_at[first_kept:].copy()
    kept_w[0] = cum_w[first_kept] - num_squash
    rest = np.flatnonzero(points.n != count)
    n_out = np.concatenate([points.n[rest], np.full(weight.shape[0] + kept_w.shape[0], count, dtype=np.int64)])
    e_out = np.concatenate([points.e[rest], mean_e, e_at[first_kept:]])
    w_out = np.concatenate([points.w[rest], weight, kept_w])
    order = np.argsort(n_out, kind="stable")
    return Points(n_out[order], e_out[order], w_out[order])


#: Width in ln E of the cells in which :func:`squash_points` merges the points of each N ≥ 3 (0.5%).
LOG_E_CELL = 0.005


def squash_points(points: Points, log_e_cell: float | None = LOG_E_CELL) -> Points:
    """openEBGM's recommended squash (hyperparameter vignette): ``squashData(squashData(x), count = 2,
    bin_size = 10, keep_bins = 5)`` — N = 1 in bins of 50 pairs keeping the 100 of largest E, N = 2
    in bins of 10 keeping the 50 of largest E — and, as DuMouchel et al. (2012) squash every count,
    the points of each larger N merged within cells of ``log_e_cell`` in ln E (a superpoint at their
    weighted mean E). Fixed-count bins are not used for N ≥ 3: those levels are sparse, so bins of 10
    span wide ranges of E and biased θ by ~1% on synthetic data, against ~2e-5 for 0.5% cells
    (10 million reports: 3.24M distinct points → 0.22M). ``log_e_cell=None``: N ≥ 3 merged exactly."""
    out = squash_merged(squash_merged(points, count=1), count=2, bin_size=10, keep_bins=5)
    if log_e_cell is None:
        return out
    high = out.n >= 3
    if not bool(np.any(high)):
        return out
    n_h, e_h, w_h = out.n[high], out.e[high], out.w[high]
    order = np.lexsort((e_h, n_h))
    n_h, e_h, w_h = n_h[order], e_h[order], w_h[order]
    cell = np.floor(np.log(e_h) / log_e_cell).astype(np.int64)
    new = np.empty(n_h.shape[0], dtype=bool)
    new[0] = True
    new[1:] = (n_h[1:] != n_h[:-1]) | (cell[1:] != cell[:-1])
    group = np.cumsum(new) - 1
    weight = np.bincount(group, weights=w_h)
    mean_e = np.bincount(group, weights=w_h * e_h) / weight
    low = ~high
    return Points(
        np.concatenate([out.n[low], n_h[new]]),
        np.concatenate([out.e[low], mean_e]),
        np.concatenate([out.w[low], weight]),
    )


def squash_for_exploration(points: Points, max_points: int) -> Points:
    """Squash count levels 1, 2, ... (largest first) until there are at most about ``max_points`` points.

    Each level is squashed as :func:`squash_data` does (in order of E, bins of a level-specific size,
    the largest E kept) but all levels in one pass: the bin sizes are planned level by level from the
    point counts, then every bin is formed at once. Used only to explore starting points cheaply; the
    final estimate is refined on all points.
    """
    levels, sizes = np.unique(points.n, return_counts=True)
    size = len(points)
    plan: dict[int, tuple[int, int]] = {}  # count -> (bin size, points kept)
    for count, m in zip(levels[np.argsort(-sizes)].tolist(), sizes[np.argsort(-sizes)].tolist(), strict=True):
        excess = size - max_points
        if excess <= 0:
            break
        bin_size = max(2, math.ceil(m / max(50, m - excess)))
        keep = min(100, m // 10)
        if m < 2 * bin_size or m - keep < bin_size:
            continue
        plan[count] = (bin_size, keep)
        size += keep + math.ceil((m - keep) / bin_size) - m
    if not plan:
        return points
    order = np.lexsort((points.e, points.n))
    n_s, e_s, w_s = points.n[order], points.e[order], points.w[order]
    group = np.arange(n_s.shape[0])  # each point its own group, then the bins of the planned levels
    starts = np.searchsorted(n_s, list(plan), side="left")
    for (count, (bin_size, keep)), start in zip(plan.items(), starts.tolist(), strict=True):
        m = int(np.searchsorted(n_s, count, side="right")) - start
        binned = np.arange(m - keep)
        group[start : start + m - keep] = start + binned - binned % bin_size
    new = np.empty(n_s.shape[0], dtype=bool)
    new[0] = True
    np.not_equal(group[1:], group[:-1], out=new[1:])
    index = np.cumsum(new) - 1
    weight = np.asarray(np.bincount(index, weights=w_s), dtype=np.float64)
    members = np.bincount(index)
    mean_e = np.where(members == 1, e_s[new], np.bincount(index, weights=e_s * w_s) / weight)
    return Points(n_s[new], mean_e, weight)


# --------------------------------------------------------------------------------------------------
# The likelihood


class NegLogLikelihood:
    """−log L(θ) of the marginal mixture of negative binomials, conditional on N ≥ N* (openEBGM ``negLL``,
    or ``negLLsquash`` for weighted points), with its gradient in x = (ln α1, ln β1, ln α2, ln β2, logit P).

    The constant ``Σ w (n ln E − ln n!)`` is included, so values equal openEBGM's.
    """

    def __init__(self, points: Points, n_star: int = 1) -> None:
        if len(points) == 0:
            raise UserInputError(f"no product-event pairs with N ≥ {n_star} to estimate the hyperparameters from")
        if int(points.n.min()) < n_star:
            raise ValueError("points include counts below N*")
        self.n_star = n_star
        self.n = points.n.astype(np.float64)
        self.e = points.e
        self.w = points.w
        self.unique_n, self.inverse = np.unique(self.n, return_inverse=True)
        self.constant = float(np.sum(self.w * (self.n * np.log(self.e) - special.gammaln(self.n + 1.0))))
        self.evaluations = 0

    def _component(self, alpha: float, beta: float, want_grad: bool) -> tuple[F64, F64 | None, F64 | None]:
        """log f*_k per point and, optionally, d/dα and d/dβ of it (without the constant term)."""
        log_be = np.log(beta + self.e)
        log_q = math.log(beta) - log_be
        a_log_q = alpha * log_q
        if self.n_star == 1:
            log_trunc = np.log(-np.expm1(a_log_q))  # log(1 - q^alpha) = log P(N >= 1)
        else:
            log_trunc = np.log(special.betaincc(alpha, float(self.n_star), np.exp(log_q)))
        ll = (
            special.gammaln(alpha + self.unique_n)[self.inverse]
            - math.lgamma(alpha)
            + a_log_q
            - self.n * log_be
            - log_trunc
        )
        if not want_grad:
            return ll, None, None
        if self.n_star != 1:
            raise NotImplementedError
        q_a = np.exp(a_log_q)
        one_minus = -np.expm1(a_log_q)
        d_alpha = special.digamma(alpha + self.unique_n)[self.inverse] - special.digamma(alpha) + log_q / one_minus
        d_beta = (
            alpha / beta
            - (alpha + self.n) / (beta + self.e)
            + alpha * q_a * self.e / (beta * (beta + self.e) * one_minus)
        )
        return ll, d_alpha, d_beta

    @staticmethod
    def theta_of(x: F64) -> F64:
        return np.array([*np.exp(x[:4]), special.expit(x[4])])

    @staticmethod
    def x_of(theta: F64) -> F64:
        return np.array([*np.log(theta[:4]), special.logit(theta[4])])

    def _value_x(self, x: F64) -> float:
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            value = self.value(self.theta_of(np.clip(x, -30.0, 30.0)))
        return value if np.isfinite(value) else math.inf

    def value(self, theta: ArrayLike) -> float:
        """−log L at θ = (α1, β1, α2, β2, P)."""
        a1, b1, a2, b2, p = (float(v) for v in np.asarray(theta, dtype=np.float64))
        l1, _, _ = self._component(a1, b1, False)
        l2, _, _ = self._component(a2, b2, False)
        log_l = np.logaddexp(math.log(p) + l1, math.log1p(-p) + l2)
        return float(-np.sum(self.w * log_l) - self.constant)

    def __call__(self, x: F64) -> tuple[float, F64]:
        """−log L and its gradient in x (for ``scipy.optimize.minimize(jac=True)``).

        The gradient is analytic for N* = 1, by central differences otherwise.
        """
        self.evaluations += 1
        if self.n_star != 1:
            value = self._value_x(x)
            grad = np.array([(self._value_x(x + d) - self._value_x(x - d)) / 2e-6 for d in np.eye(5) * 1e-6])
            return value, grad
        with np.errstate(over="ignore", under="ignore"):
            a1, b1, a2, b2 = np.exp(np.clip(x[:4], -30.0, 30.0))
            p = float(special.expit(x[4]))
            p = min(max(p, 1e-300), 1.0 - 1e-16)
            l1, da1, db1 = self._component(a1, b1, True)
            l2, da2, db2 = self._component(a2, b2, True)
            assert da1 is not None and db1 is not None and da2 is not None and db2 is not None
            lp1 = math.log(p) + l1
            lp2 = math.log1p(-p) + l2
            log_l = np.logaddexp(lp1, lp2)
            r1 = np.exp(lp1 - log_l)
            r2 = 1.0 - r1
        w = self.w
        value = float(-np.sum(w * log_l) - self.constant)
        grad = -np.array(
            [
                a1 * np.sum(w * r1 * da1),
                b1 * np.sum(w * r1 * db1),
                a2 * np.sum(w * r2 * da2),
                b2 * np.sum(w * r2 * db2),
                np.sum(w * (r1 - p)),
            ]
        )
        if not np.isfinite(value):
            return math.inf, np.zeros(5)
        return value, grad


def _hessian(objective: NegLogLikelihood, x: F64, h: float = 1e-5) -> F64:
    """Central-difference Hessian of the analytic gradient (10 gradient evaluations), symmetrised."""
    hessian = np.empty((5, 5))
    for j in range(5):
        step = np.zeros(5)
        step[j] = h
        hessian[:, j] = (objective(x + step)[1] - objective(x - step)[1]) / (2 * h)
    return np.asarray((hessian + hessian.T) / 2, dtype=np.float64)


def _newton(
    objective: NegLogLikelihood, x: F64, hessian_of: NegLogLikelihood | None = None, steps: int = 25
) -> tuple[F64, float, F64, int]:
    """Newton steps with backtracking on −log L. With ``hessian_of`` (a squashed copy of the data) its
    Hessian is taken once, at the start, and then updated by BFGS from the full gradients (quasi-Newton
    from a good initial curvature); otherwise the Hessian of ``objective`` is recomputed at each step."""
    value, grad = objective(x)
    hessian = _hessian(hessian_of, x) if hessian_of is not None else None
    done = 0
    for done in range(1, steps + 1):
        if hessian_of is None:
            hessian = _hessian(objective, x)
        assert hessian is not None
        try:
            np.linalg.cholesky(hessian)
        except np.linalg.LinAlgError:
            break
        delta = -np.linalg.solve(hessian, grad)
        if 0.5 * abs(float(grad @ delta)) < 1e-8:  # within 1e-8 of the maximum log-likelihood
            break
        t = 1.0
        while t > 1e-6:
            new_value, new_grad = objective(x + t * delta)
            if new_value <= value + 1e-12 * abs(value):
                break
            t /= 2
        else:
            break
        step, change = t * delta, new_grad - grad
        x, value, grad = x + step, new_value, new_grad
        if np.max(np.abs(step)) < (1e-9 if hessian_of is not None else 1e-10) or (hessian_of is None and done >= 6):
            break
        curvature = float(change @ step)
        if hessian_of is not None and curvature > 0:  # BFGS update of the squashed data's Hessian
            hs = hessian @ step
            hessian = hessian + np.outer(change, change) / curvature - np.outer(hs, hs) / float(step @ hs)
    return x, value, grad, done


def _optimise(
    objective: NegLogLikelihood,
    start: F64,
    param_limit: float,
    polish: bool = True,
    hessian_of: NegLogLikelihood | None = None,
) -> tuple[F64 | None, float, bool, bool, int, float, str]:
    """BFGS from ``start`` then Newton polishing; with ``hessian_of`` only Newton steps using that
    copy's Hessian (the refinement of an estimate found on squashed points)."""
    x = NegLogLikelihood.x_of(start)
    iterations, message = 0, ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if hessian_of is None:
                res = optimize.minimize(
                    objective,
                    x,
                    jac=True,
                    method="BFGS",
                    options={"gtol": 1e-7 * max(1.0, float(objective.w.sum())), "maxiter": 3000},
                )
                x, value, grad = res.x, float(res.fun), res.jac
                iterations, message = int(res.nit), str(res.message)
                if polish and objective.n_star == 1 and np.all(np.isfinite(x)) and np.all(np.abs(x) < 25):
                    x, value, grad, _ = _newton(objective, x)
            else:
                x, value, grad, iterations = _newton(objective, x, hessian_of)
                message = "Newton steps with the Hessian of the squashed points"
    except (FloatingPointError, ValueError, np.linalg.LinAlgError) as exc:
        return None, math.inf, False, False, 0, math.inf, f"failed: {exc}"
    theta = NegLogLikelihood.theta_of(x)
    gmax = float(np.max(np.abs(grad))) if np.all(np.isfinite(grad)) else math.inf
    converged = bool(np.isfinite(value)) and gmax < 1e-4 * max(1.0, math.sqrt(float(objective.w.sum())))
    in_bounds = bool(np.all(theta[:4] > 0) and np.all(theta[:4] < param_limit) and 0 < theta[4] < 1)
    return theta, value, converged, in_bounds, iterations, gmax, message


def _close(a: Hyperparameters, b: Hyperparameters, tol: Sequence[float] = CLOSE_TOLERANCES) -> bool:
    return bool(np.all(np.abs(a.as_array() - b.as_array()) < np.asarray(tol)))


def fit_hyperparameters(
    n: ArrayLike,
    e: ArrayLike,
    *,
    starts: Sequence[Sequence[float]] = DEFAULT_STARTS,
    n_star: int = 1,
    squash: bool | None = False,
    max_points: int = 20_000,
    min_conv: int = 1,
    param_limit: float = 100.0,
    distinct: Points | None = None,
) -> HyperparameterFit:
    """Estimate θ by maximum likelihood from several starting points (openEBGM ``autoHyper``).

    ``n``, ``e``: N and E of every observed pair (pairs with N < ``n_star`` are left out). ``squash``:
    fit on openEBGM-squashed points (:func:`squash_points`; N ≥ 3 merged in ln-E cells only above
    :data:`SQUASH_THRESHOLD` distinct points); ``False`` (default): on all distinct (N, E)
    points, which is exact; ``None``: squash only when there are more than :data:`SQUASH_THRESHOLD`
    distinct points. When
    there are more than ``max_points`` distinct points, the starting points are explored on a squashed
    copy and only the best is then refined on all points (the estimate is still the full-data MLE).
    ``distinct``: the distinct (N, E) points of all pairs, if already computed (:func:`distinct_points`).
    """
    n_arr = np.asarray(n, dtype=np.int64)
    e_arr = np.asarray(e, dtype=np.float64)
    if n_arr.shape != e_arr.shape:
        raise ValueError("N and E differ in length")
    if len(starts) < 1:
        raise ValueError("need at least one starting point")
    notes: list[str] = []
    points = merge_points(n_arr, e_arr, n_star) if distinct is None else points_from_distinct(distinct, n_star)
    n_distinct = len(points)
    if squash is None:
        squash = n_distinct > SQUASH_THRESHOLD
        if squash:
            notes.append(f"squashed automatically: {n_distinct:,} distinct (N, E) > {SQUASH_THRESHOLD:,}")
    if squash:
        # Small tables: exactly openEBGM's squash (counts 1 and 2); large ones: N ≥ 3 in ln-E cells too.
        cell = LOG_E_CELL if n_distinct > SQUASH_THRESHOLD else None
        points = squash_points(points, log_e_cell=cell)
        notes.append(
            "fitted on squashed points (DuMouchel 2012; openEBGM squashData: count 1 in bins of 50 keeping "
            "the 100 largest E; count 2 in bins of 10 keeping the 50 largest; larger counts "
            + ("merged exactly)" if cell is None else f"merged within {cell:g} in ln E)")
        )
    full = NegLogLikelihood(points, n_star)
    explore_points = points if len(points) <= max_points else squash_for_exploration(points, max_points // 4)
    explore = full if explore_points is points else NegLogLikelihood(explore_points, n_star)
    if explore is not full:
        notes.append(
            f"starting points explored on {len(explore_points)} squashed points, "
            f"the best refined on all {len(points)} points"
        )

    results: list[StartResult] = []
    for start in starts:
        start_theta = Hyperparameters.from_array(start).validate("starting point").as_array()
        theta, value, converged, in_bounds, nit, gmax, message = _optimise(
            explore, start_theta, param_limit, polish=explore is full
        )
        estimate = Hyperparameters.from_array(theta).canonical() if theta is not None else None
        results.append(
            StartResult(
                Hyperparameters.from_array(start_theta), estimate, value, converged, in_bounds, nit, gmax, message
            )
        )
    candidates = [r for r in results if r.estimate is not None and r.converged and r.in_bounds]
    if not candidates:
        candidates = [r for r in results if r.estimate is not None and np.isfinite(r.neg_log_likelihood)]
        notes.append("no starting point converged inside the parameter space; the best is reported")
        if not candidates:
            raise UserInputError("the MGPS hyperparameter fit failed from every starting point")
    best = min(candidates, key=lambda r: r.neg_log_likelihood)
    assert best.estimate is not None
    num_close = sum(
        1 for r in candidates if r is not best and r.estimate is not None and _close(r.estimate, best.estimate)
    )
    estimate, value = best.estimate, best.neg_log_likelihood
    if explore is not full:
        current, curvature = estimate.as_array(), explore
        level = len(explore_points)
        while 8 * level < len(points) / 2:  # refine on ever finer squashes, 8 times larger each
            level *= 8
            finer = NegLogLikelihood(squash_for_exploration(points, level), n_star)
            theta_mid = _optimise(finer, current, param_limit, hessian_of=curvature)[0]
            if theta_mid is not None:
                current, curvature = theta_mid, finer
        theta, value, converged, in_bounds, nit, gmax, message = _optimise(
            full, current, param_limit, hessian_of=curvature
        )
        if theta is not None and not converged:  # fall back on BFGS over all points
            theta, value, converged, in_bounds, nit, gmax, message = _optimise(full, theta, param_limit)
        if theta is None:
            raise UserInputError(f"the MGPS hyperparameter refinement failed: {message}")
        estimate = Hyperparameters.from_array(theta).canonical()
        results.append(
            StartResult(
                best.estimate, estimate, value, converged, in_bounds, nit, gmax, "refinement on all points: " + message
            )
        )
        if not converged:
            notes.append("the refinement on all points did not meet the gradient tolerance")
    return HyperparameterFit(
        estimate=estimate,
        neg_log_likelihood=value,
        consistent=num_close >= min_conv,
        num_close=num_close,
        starts=tuple(results),
        n_pairs=int(n_arr.shape[0]),
        n_points=len(points),
        n_star=n_star,
        squashed=squash,
        explored_on=len(explore_points),
        n_distinct=n_distinct,
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------------------------------
# The posterior


ByN = tuple[F64, NDArray[np.intp]]

#: Largest N for which the distinct counts are found by a ``bincount`` instead of a sort.
_BINCOUNT_MAX_N = 1 << 26


def distinct_counts(n: F64) -> ByN:
    """The distinct N and each pair's index among them (a ``bincount`` for whole counts, else a sort)."""
    if n.shape[0] and float(n.min()) >= 0 and float(n.max()) < _BINCOUNT_MAX_N:
        whole = n.astype(np.int64)
        if np.array_equal(whole, n):
            present = np.bincount(whole) > 0
            slot = np.cumsum(present) - 1
            return np.flatnonzero(present).astype(np.float64), slot[whole].astype(np.intp)
    unique, inverse = np.unique(n, return_inverse=True)
    return np.asarray(unique, dtype=np.float64), inverse


def _per_n(func: Any, shape_offset: float, n: F64, by_n: ByN | None = None) -> F64:
    """func(shape_offset + n) computed once per distinct n."""
    unique, inverse = by_n if by_n is not None else distinct_counts(n)
    return np.asarray(func(shape_offset + unique)[inverse], dtype=np.float64)


def qn(theta: Hyperparameters, n: ArrayLike, e: ArrayLike, by_n: ByN | None = None) -> F64:
    """Qn, the posterior probability that λ came from the first component (DuMouchel 1999, eq. 6)."""
    n_arr = np.asarray(n, dtype=np.float64)
    e_arr = np.asarray(e, dtype=np.float64)
    by_n = by_n or distinct_counts(n_arr)

    def log_nb(alpha: float, beta: float) -> F64:
        log_be = np.log(beta + e_arr)
        value = (
            _per_n(special.gammaln, alpha, n_arr, by_n)
            - math.lgamma(alpha)
            + alpha * (math.log(beta) - log_be)
            + n_arr * (np.log(e_arr) - log_be)
        )
        return np.asarray(value, dtype=np.float64)

    diff = (
        math.log(theta.p) + log_nb(theta.alpha1, theta.beta1) - math.log1p(-theta.p) - log_nb(theta.alpha2, theta.beta2)
    )
    return np.asarray(special.expit(diff), dtype=np.float64)


def ebgm(
    theta: Hyperparameters, n: ArrayLike, e: ArrayLike, q: ArrayLike | None = None, by_n: ByN | None = None
) -> F64:
    """EBGM = exp(E[ln λ | N = n]) (DuMouchel 1999, eqs. 9-11)."""
    n_arr = np.asarray(n, dtype=np.float64)
    e_arr = np.asarray(e, dtype=np.float64)
    by_n = by_n or distinct_counts(n_arr)
    q_arr = qn(theta, n_arr, e_arr, by_n) if q is None else np.asarray(q, dtype=np.float64)
    m1 = _per_n(special.digamma, theta.alpha1, n_arr, by_n) - np.log(theta.beta1 + e_arr)
    m2 = _per_n(special.digamma, theta.alpha2, n_arr, by_n) - np.log(theta.beta2 + e_arr)
    return np.asarray(np.exp(q_arr * m1 + (1.0 - q_arr) * m2), dtype=np.float64)


_GRID_MIN_PAIRS = 50_000  # below this, every pair starts from the bracket's weighted geometric mean
_GRID_NODES = 4096
#: Largest relative error of the interpolated quantile, measured against exact solutions halfway
#: between all grid nodes of an N, for which the interpolation is taken as the answer for that N.
GRID_RTOL = 5e-9


@dataclass(frozen=True)
class QuantileGrid:
    """Exact posterior ``prob`` quantiles on a grid of E for the counts N shared by many pairs.

    ``row_of[i]``: the table row of the i-th distinct N (-1: not gridded); ``table``: ln x at
    ``_GRID_NODES`` values of E evenly spaced in ln E from ``log_e_lo`` by ``step``; ``good``: the rows
    whose interpolation met :data:`GRID_RTOL` (final answers; the others are starting values).
    """

    prob: float
    row_of: NDArray[np.int64]
    table: F64
    good: NDArray[np.bool_]
    log_e_lo: float
    step: float


def quantile_grid(
    theta: Hyperparameters, by_n: ByN, log_e_lo: float, log_e_hi: float, prob: float
) -> QuantileGrid | None:
    """The grid of :func:`posterior_quantile` for the N of ``by_n`` shared by at least ``2·_GRID_NODES``
    pairs, over ln E in [``log_e_lo``, ``log_e_hi``] (None: no such N, or a single E).

    For each such N the quantile is solved exactly at ``_GRID_NODES`` values of E evenly spaced in ln E,
    and ln x is interpolated in ln E (Catmull-Rom cubic). The quantile is also solved exactly halfway
    between the nodes (where the interpolation error of a cubic is largest); when the interpolation
    agrees with those solutions to ``GRID_RTOL`` (relative), the interpolated values of that N are final.
    """
    unique, inverse = by_n
    sizes = np.bincount(inverse, minlength=unique.shape[0])
    dense = np.flatnonzero(sizes >= 2 * _GRID_NODES)
    if dense.shape[0] == 0 or not log_e_hi > log_e_lo:
        return None
    h = (log_e_hi - log_e_lo) / (_GRID_NODES - 1)
    nodes = log_e_lo + h * np.arange(_GRID_NODES)
    grid_n = np.repeat(unique[dense], _GRID_NODES)
    grid_e = np.exp(np.tile(nodes, dense.shape[0]))
    exact = posterior_quantile(theta, grid_n, grid_e, prob, grid=False)
    table = np.log(exact).reshape(dense.shape[0], _GRID_NODES)
    # Check: exact solutions halfway between the nodes (the outer intervals use clamped stencils).
    mid_rows = np.repeat(np.arange(dense.shape[0]), _GRID_NODES - 1)
    mid_log_e = np.tile(nodes[:-1] + h / 2, dense.shape[0])
    mid_exact = posterior_quantile(theta, unique[dense][mid_rows], np.exp(mid_log_e), prob, grid=False)
    mid_interp = _catmull_rom(table, mid_rows, (mid_log_e - log_e_lo) / h)
    error = np.abs(np.expm1(mid_interp - np.log(mid_exact))).reshape(dense.shape[0], _GRID_NODES - 1)
    row_of = np.full(unique.shape[0], -1, dtype=np.int64)
    row_of[dense] = np.arange(dense.shape[0])
    return QuantileGrid(prob, row_of, table, np.max(error, axis=1) <= GRID_RTOL, log_e_lo, h)


def _grid_start(grid: QuantileGrid, inverse: NDArray[np.intp], log_e: F64, x: F64) -> NDArray[np.bool_]:
    """Interpolated quantiles, in place in ``x``, for the pairs whose N is gridded; returns the pairs
    whose interpolated value is final."""
    rows = grid.row_of[inverse]
    pick = np.flatnonzero(rows >= 0)
    solved = np.zeros(x.shape[0], dtype=bool)
    x[pick] = np.exp(_catmull_rom(grid.table, rows[pick], (log_e[pick] - grid.log_e_lo) / grid.step))
    solved[pick] = grid.good[rows[pick]]
    return solved


def _catmull_rom(table: F64, rows: NDArray[np.int64], u: F64) -> F64:
    """Catmull-Rom cubic through ``table[rows]`` (unit node spacing) at fractional positions ``u``."""
    width = table.shape[1]
    j = np.clip(np.floor(u).astype(np.int64), 1, width - 3)
    t = u - j
    flat = table.ravel()
    base = rows * width + j
    y0, y1, y2, y3 = flat.take(base - 1), flat.take(base), flat.take(base + 1), flat.take(base + 2)
    value = 0.5 * (
        2.0 * y1
        + (y2 - y0) * t
        + (2.0 * y0 - 5.0 * y1 + 4.0 * y2 - y3) * t * t
        + (3.0 * y1 - y0 - 3.0 * y2 + y3) * t * t * t
    )
    return np.asarray(value, dtype=np.float64)


def posterior_quantile(
    theta: Hyperparameters,
    n: ArrayLike,
    e: ArrayLike,
    prob: float,
    q: ArrayLike | None = None,
    rtol: float = 1e-10,
    max_iter: int = 100,
    by_n: ByN | None = None,
    grid: QuantileGrid | bool | None = None,
) -> F64:
    """The ``prob`` quantile of the posterior mixture of gammas for every pair (EB05: prob = 0.05).

    Solves ``F(x) = Qn·G(x; α1+n, β1+E) + (1−Qn)·G(x; α2+n, β2+E) = prob`` (G the gamma CDF). The two
    components' own quantiles bracket the root (the mixture CDF lies between the components' CDFs);
    Halley steps in u = ln x (F, dF/du = x f(x) and d²F/du² = Σ_k w_k x f_k(x)(s_k − r_k x)) are taken
    inside the bracket and replaced by bisection whenever they leave it. All pairs are iterated
    together as arrays; converged pairs (|F − prob| ≤ 1e-13 or relative step ≤ ``rtol``) drop out.
    ``grid``: a :class:`QuantileGrid` built on a larger table this is a part of (``by_n`` then indexes
    its distinct N), ``False`` for none, or None to build one here for 50,000 pairs or more.
    """
    if not 0 < prob < 1:
        raise ValueError("prob must lie strictly between 0 and 1")
    n_arr = np.asarray(n, dtype=np.float64)
    e_arr = np.asarray(e, dtype=np.float64)
    by_n = by_n or distinct_counts(n_arr)
    q_arr = qn(theta, n_arr, e_arr, by_n) if q is None else np.asarray(q, dtype=np.float64)
    if grid is None and n_arr.shape[0] >= _GRID_MIN_PAIRS:
        log_e = np.log(e_arr)
        grid = quantile_grid(theta, by_n, float(log_e.min()), float(log_e.max()), prob)
    if not isinstance(grid, QuantileGrid):
        return _solve_quantile(theta, n_arr, e_arr, prob, q_arr, by_n, None, rtol, max_iter)
    x = np.empty(n_arr.shape[0], dtype=np.float64)
    solved = _grid_start(grid, by_n[1], np.log(e_arr), x)
    todo = np.flatnonzero(~solved)
    if todo.shape[0]:
        part = (by_n[0], by_n[1][todo])
        gridded = grid.row_of[part[1]] >= 0
        start = np.where(gridded, x[todo], np.nan)
        x[todo] = _solve_quantile(theta, n_arr[todo], e_arr[todo], prob, q_arr[todo], part, start, rtol, max_iter)
    return x


def _solve_quantile(
    theta: Hyperparameters,
    n_arr: F64,
    e_arr: F64,
    prob: float,
    q_arr: F64,
    by_n: ByN,
    start: F64 | None,
    rtol: float,
    max_iter: int,
) -> F64:
    """Halley steps of :func:`posterior_quantile` for these pairs, from ``start`` where it is finite
    (an interpolated value), else from the bracket's weighted geometric mean."""
    shape1, shape2 = theta.alpha1 + n_arr, theta.alpha2 + n_arr
    rate1, rate2 = theta.beta1 + e_arr, theta.beta2 + e_arr
    # ln of each gamma density's constant, s ln r - ln Γ(s), computed once.
    c1 = shape1 * np.log(rate1) - _per_n(special.gammaln, theta.alpha1, n_arr, by_n)
    c2 = shape2 * np.log(rate2) - _per_n(special.gammaln, theta.alpha2, n_arr, by_n)
    x1 = _per_n(lambda v: special.gammaincinv(v, prob), theta.alpha1, n_arr, by_n) / rate1
    x2 = _per_n(lambda v: special.gammaincinv(v, prob), theta.alpha2, n_arr, by_n) / rate2
    lo, hi = np.minimum(x1, x2), np.maximum(x1, x2)
    x = np.exp(q_arr * np.log(x1) + (1.0 - q_arr) * np.log(x2))  # a start inside the bracket
    if start is not None:
        x = np.where(np.isfinite(start), start, x)
    x = np.clip(x, lo, hi)
    active = np.flatnonzero(hi - lo > rtol * hi)
    for _ in range(max_iter):
        if active.shape[0] == 0:
            break
        xa, qa = x[active], q_arr[active]
        s1, s2, r1, r2 = shape1[active], shape2[active], rate1[active], rate2[active]
        cdf = qa * special.gammainc(s1, r1 * xa) + (1.0 - qa) * special.gammainc(s2, r2 * xa) - prob
        log_x = np.log(xa)
        g1 = qa * np.exp(c1[active] + s1 * log_x - r1 * xa)  # w_1 x f_1(x)
        g2 = (1.0 - qa) * np.exp(c2[active] + s2 * log_x - r2 * xa)
        g = g1 + g2
        h = g1 * (s1 - r1 * xa) + g2 * (s2 - r2 * xa)
        la = np.where(cdf < 0, xa, lo[active])
        ha = np.where(cdf > 0, xa, hi[active])
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            step = 2.0 * cdf * g / (2.0 * g * g - cdf * h)
            step = np.where(np.isfinite(step), step, cdf / g)
            candidate = xa * np.exp(-step)
        outside = ~np.isfinite(candidate) | (candidate < la) | (candidate > ha)
        exact = np.abs(cdf) <= 1e-13
        new_x = np.where(exact, xa, np.where(outside, (la + ha) / 2.0, candidate))
        # Halley converges cubically: after a step below 1e-5 (relative) the error is ~1e-15.
        small_step = ~outside & (np.abs(step) <= 1e-5)
        done = exact | small_step | (np.abs(new_x - xa) <= rtol * new_x) | (ha - la <= rtol * ha)
        x[active], lo[active], hi[active] = new_x, la, ha
        active = active[~done]
    return x


@dataclass(frozen=True)
class MGPSScores:
    """Posterior scores per pair."""

    qn: F64
    ebgm: F64
    eb05: F64
    eb95: F64
    theta: Hyperparameters
    extra_quantiles: dict[float, F64] = field(default_factory=dict)


#: Pairs scored per task when scoring in parallel (a few MB of temporaries per thread).
SCORE_CHUNK = 1 << 18


def chunks(size: int, chunk: int | None = None) -> list[tuple[int, int]]:
    """[start, stop) slices of ``range(size)`` of at most ``chunk`` (default :data:`SCORE_CHUNK`) items."""
    chunk = chunk or SCORE_CHUNK
    return [(start, min(size, start + chunk)) for start in range(0, size, chunk)]


def _run(pool: Executor | None, tasks: Sequence[Callable[[], None]]) -> None:
    if pool is None:
        for task in tasks:
            task()
        return
    for future in [pool.submit(task) for task in tasks]:
        future.result()


def mgps_scores(
    theta: Hyperparameters,
    n: ArrayLike,
    e: ArrayLike,
    quantiles: Sequence[float] = (0.05, 0.95),
    *,
    pool: Executor | None = None,
    by_n: ByN | None = None,
) -> MGPSScores:
    """Qn, EBGM, EB05 and EB95 (and any other posterior quantiles) for every pair (openEBGM ``ebScores``).

    The pairs are scored in slices of :data:`SCORE_CHUNK`, on the threads of ``pool`` when given
    (NumPy and SciPy release the GIL); the quantile grids of large tables (:func:`quantile_grid`) are
    built once over all pairs, so the scores do not depend on the slicing or the number of threads.
    ``by_n``: the distinct N and each pair's index among them, if already known.
    """
    n_arr = np.asarray(n, dtype=np.float64)
    e_arr = np.asarray(e, dtype=np.float64)
    by_n = by_n or distinct_counts(n_arr)
    probs = sorted({0.05, 0.95, *quantiles})
    grids: dict[float, QuantileGrid | None] = dict.fromkeys(probs)
    if n_arr.shape[0] >= _GRID_MIN_PAIRS:
        log_e = np.log(e_arr)
        lo, hi = float(log_e.min()), float(log_e.max())
        del log_e

        def build(p: float) -> Callable[[], None]:
            def task() -> None:
                grids[p] = quantile_grid(theta, by_n, lo, hi, p)

            return task

        _run(pool, [build(p) for p in probs])
    q, gm = np.empty_like(n_arr), np.empty_like(n_arr)
    values = {p: np.empty_like(n_arr) for p in probs}

    def score(start: int, stop: int) -> Callable[[], None]:
        def task() -> None:
            part = (by_n[0], by_n[1][start:stop])
            n_part, e_part = n_arr[start:stop], e_arr[start:stop]
            q[start:stop] = qn(theta, n_part, e_part, part)
            gm[start:stop] = ebgm(theta, n_part, e_part, q[start:stop], part)
            for p in probs:
                values[p][start:stop] = posterior_quantile(
                    theta, n_part, e_part, p, q[start:stop], by_n=part, grid=grids[p] or False
                )

        return task

    _run(pool, [score(a, b) for a, b in chunks(n_arr.shape[0])])
    return MGPSScores(
        qn=q,
        ebgm=gm,
        eb05=values[0.05],
        eb95=values[0.95],
        theta=theta,
        extra_quantiles={p: v for p, v in values.items() if p not in (0.05, 0.95)},
    )
