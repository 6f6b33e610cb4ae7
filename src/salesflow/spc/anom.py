"""Analysis of means: which groups (people, teams, segments) differ from the system they share.

Ranking reps always makes half of them "below average". Analysis of means draws limits around
the overall value, one pair per group, wide for a small group and narrow for a large one; a group
is named as different only when it falls outside its own limits. One family-wise ``alpha`` covers
all groups together: each group is judged at the Šidák level ``1 - (1 - alpha) ** (1 / k)``, so
with every group truly alike, the chance that any of the k is flagged is at most ``alpha``.

The limits are exact where the data allow it:

- **proportions** (won of closed): a group's successes, given the overall total, follow the
  hypergeometric distribution (Fisher's exact test of the group against the rest);
- **medians**: the group's median is an order statistic; its probability-integral transform is
  Beta-distributed, mapped back through the pooled values' quantiles;
- **ratios of sums** (requests per order, forecast error): the residual spread of the rows
  around their group's ratio, with t at the Šidák level (``ratios``);
- **means**: grand mean ± t · s_pooled · sqrt((N − n_i) / (N · n_i)) (Nelson's ANOM), with t
  at the Šidák level and N − k degrees of freedom.

``lower`` and ``upper`` are the most extreme values still inside: a group is ``above`` when its
value is greater than ``upper`` and ``below`` when less than ``lower``. Groups without data
(size 0) get NaN limits and no signal, and do not count in k.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from salesflow.errors import DataError

__all__ = ["ALPHA", "METHODS", "Comparison", "means", "medians", "proportions", "ratios", "sidak"]

ALPHA = 0.05
METHODS = ("proportion", "median", "mean", "ratio")


@dataclass(frozen=True)
class Comparison:
    """Per-group limits around the overall ``center``; ``signal`` is "above", "below" or None."""

    method: str
    alpha: float  # family-wise
    per_group_alpha: float  # the Šidák level each group is judged at
    center: float
    values: np.ndarray
    n: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    signal: tuple[str | None, ...]

    @property
    def outside(self) -> list[int]:
        """Indices of the groups outside their limits."""
        return [i for i, s in enumerate(self.signal) if s is not None]


def sidak(alpha: float, k: int) -> float:
    """The per-group level that keeps the chance of any false alarm among ``k`` at ``alpha``."""
    if not 0 < alpha < 1:
        raise DataError(f"alpha must be between 0 and 1, not {alpha}")
    return 1 - (1 - alpha) ** (1 / max(k, 1))


def _signals(values: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> tuple[str | None, ...]:
    out: list[str | None] = []
    for v, lo, hi in zip(values, lower, upper, strict=True):
        if np.isnan(v) or np.isnan(lo):
            out.append(None)
        else:
            out.append("above" if v > hi else "below" if v < lo else None)
    return tuple(out)


def _result(method: str, alpha: float, a: float, center: float, values, n, lower, upper):
    values, lower, upper = (np.asarray(x, dtype=float) for x in (values, lower, upper))
    signal = _signals(values, lower, upper)
    return Comparison(method, alpha, a, center, values, np.asarray(n), lower, upper, signal)


def _counts(name: str, values: Sequence[float]) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if np.any(arr < 0) or np.any(np.abs(arr - np.round(arr)) > 1e-9):
        raise DataError(f"{name} must be whole numbers of zero or more for exact limits")
    return np.round(arr).astype(np.int64)


def _discrete_limits(dist, q: float) -> tuple[float, float]:
    """The smallest count with P(X ≤ x) > q and the largest with P(X ≥ x) > q."""
    lo = dist.ppf(q)
    if dist.cdf(lo) <= q:
        lo += 1
    return float(lo), float(dist.isf(q))


def proportions(successes: Sequence[float], trials: Sequence[float], *, alpha: float = ALPHA):
    """Each group's share ``successes / trials`` against the overall share, exact limits."""
    from scipy.stats import hypergeom

    x, n = _counts("successes", successes), _counts("trials", trials)
    if np.any(x > n):
        raise DataError("a group has more successes than trials")
    total, hits, k = int(n.sum()), int(x.sum()), int(np.count_nonzero(n))
    a = sidak(alpha, k)
    lower, upper, values = (np.full(len(n), np.nan) for _ in range(3))
    for i, size in enumerate(n):
        if size == 0:
            continue
        lo, hi = _discrete_limits(hypergeom(total, hits, int(size)), a / 2)
        lower[i], upper[i], values[i] = lo / size, hi / size, x[i] / size
    center = hits / total if total else float("nan")
    return _result("proportion", alpha, a, center, values, n, lower, upper)


def _samples(samples: Sequence[Sequence[float]]) -> list[np.ndarray]:
    out = [np.asarray(s, dtype=float) for s in samples]
    out = [s[~np.isnan(s)] for s in out]
    return out


def medians(samples: Sequence[Sequence[float]], *, alpha: float = ALPHA):
    """Each group's median against the pooled median, with order-statistic limits: the group's
    median lies between its middle order statistics, whose quantile in the pooled distribution
    is Beta(k, n + 1 − k) when all groups share it."""
    from scipy.stats import beta

    groups = _samples(samples)
    n = np.array([len(s) for s in groups])
    pooled = np.concatenate(groups) if groups else np.array([])
    a = sidak(alpha, int(np.count_nonzero(n)))
    lower, upper, values = (np.full(len(n), np.nan) for _ in range(3))
    for i, s in enumerate(groups):
        size = len(s)
        if size == 0:
            continue
        k_lo, k_hi = (size + 1) // 2, size // 2 + 1
        p_lo = beta.ppf(a / 2, k_lo, size + 1 - k_lo)
        p_hi = beta.isf(a / 2, k_hi, size + 1 - k_hi)
        lower[i], upper[i] = np.quantile(pooled, [p_lo, p_hi])
        values[i] = float(np.median(s))
    center = float(np.median(pooled)) if pooled.size else float("nan")
    return _result("median", alpha, a, center, values, n, lower, upper)


def means(samples: Sequence[Sequence[float]], *, alpha: float = ALPHA):
    """Each group's mean against the grand mean (Nelson's ANOM with Šidák-adjusted t)."""
    from scipy.stats import t

    groups = _samples(samples)
    n = np.array([len(s) for s in groups])
    k, total = int(np.count_nonzero(n)), int(n.sum())
    a = sidak(alpha, k)
    lower, upper, values = (np.full(len(n), np.nan) for _ in range(3))
    center = float(np.concatenate(groups).mean()) if total else float("nan")
    if total - k < 1:
        return _result("mean", alpha, a, center, values, n, lower, upper)
    within = sum(float(((s - s.mean()) ** 2).sum()) for s in groups if len(s))
    spread = np.sqrt(within / (total - k))
    factor = t.isf(a / 2, total - k) * spread
    for i, s in enumerate(groups):
        if len(s):
            half = factor * np.sqrt((total - len(s)) / (total * len(s)))
            lower[i], upper[i], values[i] = center - half, center + half, s.mean()
    return _result("mean", alpha, a, center, values, n, lower, upper)


def ratios(
    numerators: Sequence[Sequence[float]],
    denominators: Sequence[Sequence[float]],
    *,
    alpha: float = ALPHA,
):
    """Each group's ratio of sums ``Σnum / Σden`` (requests per order, forecast error) against
    the overall ratio: analysis of means for a ratio estimator. Each row's residual from its
    group's ratio gives the pooled spread s (N − k degrees of freedom); the group's difference
    from the overall ratio has variance s²·(n_i·(1/D_i − 1/D)² + (N − n_i)/D²), which is Nelson's
    s²·(N − n_i)/(N·n_i) when every denominator is 1."""
    from scipy.stats import t

    nums = [np.asarray(x, dtype=float) for x in numerators]
    dens = [np.asarray(x, dtype=float) for x in denominators]
    n = np.array([len(x) for x in nums])
    d = np.array([x.sum() for x in dens])
    k, total, big_d = int(np.count_nonzero(d)), int(n.sum()), float(d.sum())
    a = sidak(alpha, k)
    lower, upper, values = (np.full(len(n), np.nan) for _ in range(3))
    center = sum(x.sum() for x in nums) / big_d if big_d else float("nan")
    if total - k < 1 or not big_d:
        return _result("ratio", alpha, a, center, values, n, lower, upper)
    own = [x.sum() / di if di else 0.0 for x, di in zip(nums, d, strict=True)]
    resid = sum(float(((x - r * y) ** 2).sum()) for x, y, r in zip(nums, dens, own, strict=True))
    spread = np.sqrt(resid / (total - k))
    factor = t.isf(a / 2, total - k) * spread
    for i in range(len(n)):
        if d[i] > 0:
            var = n[i] * (1 / d[i] - 1 / big_d) ** 2 + (total - n[i]) / big_d**2
            half = factor * np.sqrt(var)
            lower[i], upper[i], values[i] = center - half, center + half, own[i]
    return _result("ratio", alpha, a, center, values, n, lower, upper)
