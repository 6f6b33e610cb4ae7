"""Analysis of means: no rep is flagged when all reps are alike; a truly different one is; the
limits equal an independent SciPy computation from their definitions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from salesflow.errors import DataError
from salesflow.spc import anom

RUNS = 200
REPS = 12


def _team(seed: int, rate: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Closed deals per rep (5 to 120: new and seasoned reps) and wins at one true rate."""
    rng = np.random.default_rng(seed)
    closed = rng.integers(5, 121, REPS)
    return rng.binomial(closed, rate), closed


def test_alike_reps_are_all_within_the_system_in_95_percent_of_runs():
    flagged = sum(bool(anom.proportions(*_team(seed)).outside) for seed in range(RUNS))
    assert flagged <= 0.05 * RUNS, f"{flagged} of {RUNS} runs flagged a rep who is like the rest"


def test_a_rep_with_a_truly_different_rate_is_flagged():
    caught = 0
    for seed in range(50):
        wins, closed = _team(seed)
        rng = np.random.default_rng(10_000 + seed)
        closed[0] = 100
        wins[0] = rng.binomial(100, 0.6)  # twice the team's 30 %
        result = anom.proportions(wins, closed)
        caught += result.signal[0] == "above"
    assert caught >= 48


def _by_definition(total: int, hits: int, size: int, q: float) -> tuple[int, int]:
    """The extreme counts still inside, by scanning the hypergeometric pmf."""
    support = np.arange(0, size + 1)
    cdf = stats.hypergeom.cdf(support, total, hits, size)
    sf_at = stats.hypergeom.sf(support - 1, total, hits, size)  # P(X >= x)
    return int(support[cdf > q][0]), int(support[sf_at > q][-1])


def test_proportion_limits_equal_the_hypergeometric_tails():
    wins, closed = np.array([2, 40, 12, 0, 9]), np.array([20, 90, 30, 4, 9])
    result = anom.proportions(wins, closed)
    q = (1 - (1 - 0.05) ** (1 / 5)) / 2
    assert result.per_group_alpha / 2 == pytest.approx(q)
    assert result.center == pytest.approx(63 / 153)
    for i in range(5):
        lo, hi = _by_definition(153, 63, closed[i], q)
        assert result.lower[i] * closed[i] == pytest.approx(lo)
        assert result.upper[i] * closed[i] == pytest.approx(hi)
        below = stats.hypergeom.cdf(wins[i], 153, 63, closed[i]) <= q
        above = stats.hypergeom.sf(wins[i] - 1, 153, 63, closed[i]) <= q
        assert result.signal[i] == ("below" if below else "above" if above else None)
    assert result.signal[0] == "below" and result.signal[4] == "above"  # 10 % and 100 % vs 41 %


def test_small_groups_get_wider_limits():
    result = anom.proportions([2, 20, 200], [5, 50, 500])
    widths = result.upper - result.lower
    assert widths[0] > widths[1] > widths[2]


def test_median_limits_are_order_statistic_quantiles():
    rng = np.random.default_rng(7)
    groups = [rng.lognormal(3, 0.8, n) for n in (1, 6, 25, 80)]
    result = anom.medians(groups)
    pooled = np.concatenate(groups)
    q = result.per_group_alpha / 2
    for i, g in enumerate(groups):
        n = len(g)
        # the k-th order statistic is below the pooled p-quantile with probability
        # P(Binomial(n, p) >= k): solve for the p that makes it q (lower) and 1 - q (upper)
        k_lo, k_hi = (n + 1) // 2, n // 2 + 1
        p_lo = _solve(lambda p, k=k_lo, n=n: stats.binom.sf(k - 1, n, p) - q)
        p_hi = _solve(lambda p, k=k_hi, n=n: stats.binom.sf(k - 1, n, p) - (1 - q))
        assert result.lower[i] == pytest.approx(np.quantile(pooled, p_lo), rel=1e-6)
        assert result.upper[i] == pytest.approx(np.quantile(pooled, p_hi), rel=1e-6)
        assert result.values[i] == pytest.approx(np.median(g))
    assert result.signal == (None, None, None, None)


def _solve(f) -> float:
    from scipy.optimize import brentq

    return brentq(f, 1e-12, 1 - 1e-12, xtol=1e-14)


def test_a_slow_rep_is_flagged_by_median():
    rng = np.random.default_rng(3)
    groups = [rng.lognormal(3, 0.6, 60) for _ in range(8)] + [rng.lognormal(3.8, 0.6, 60)]
    result = anom.medians(groups)
    assert result.signal[-1] == "above" and result.outside == [8]


def test_mean_limits_are_nelsons_anom_with_sidak_t():
    rng = np.random.default_rng(11)
    groups = [rng.normal(10, 2, n) for n in (4, 15, 40)]
    result = anom.means(groups)
    allv = np.concatenate(groups)
    big_n, k = len(allv), 3
    sp = np.sqrt(sum(((g - g.mean()) ** 2).sum() for g in groups) / (big_n - k))
    h = stats.t.ppf(1 - (1 - 0.95 ** (1 / k)) / 2, big_n - k)
    for i, g in enumerate(groups):
        half = h * sp * np.sqrt((big_n - len(g)) / (big_n * len(g)))
        assert result.lower[i] == pytest.approx(allv.mean() - half)
        assert result.upper[i] == pytest.approx(allv.mean() + half)


def test_ratio_limits_reduce_to_nelsons_anom_with_unit_denominators():
    rng = np.random.default_rng(5)
    nums = [rng.poisson(3, n).astype(float) for n in (10, 30, 50)]
    ratio = anom.ratios(nums, [np.ones(len(x)) for x in nums])
    means = anom.means(nums)
    np.testing.assert_allclose(ratio.values, means.values)
    # residual spread about each group's own ratio = the within-group spread of the means
    np.testing.assert_allclose(ratio.lower, means.lower)
    np.testing.assert_allclose(ratio.upper, means.upper)


def test_ratio_of_sums_matches_a_direct_variance():
    nums = [np.array([1.0, 4.0, 2.0]), np.array([10.0, 0.0, 7.0, 3.0]), np.array([5.0, 5.0])]
    dens = [np.array([2.0, 3.0, 1.0]), np.array([4.0, 1.0, 5.0, 2.0]), np.array([3.0, 2.0])]
    result = anom.ratios(nums, dens)
    big_d, total = sum(d.sum() for d in dens), 9
    r = sum(x.sum() for x in nums) / big_d
    s2 = sum(((x - x.sum() / d.sum() * d) ** 2).sum() for x, d in zip(nums, dens, strict=True))
    s2 /= total - 3
    t = stats.t.isf(result.per_group_alpha / 2, total - 3)
    for i, (x, d) in enumerate(zip(nums, dens, strict=True)):
        # R_i - R = Σ_i e (1/D_i - 1/D) - Σ_rest e / D, each residual with variance s²
        var = s2 * (len(x) * (1 / d.sum() - 1 / big_d) ** 2 + (total - len(x)) / big_d**2)
        assert result.center == pytest.approx(r)
        assert result.upper[i] - r == pytest.approx(t * np.sqrt(var))


def test_empty_groups_get_no_limits_and_do_not_count():
    result = anom.proportions([3, 0, 5], [10, 0, 12])
    assert np.isnan(result.lower[1]) and result.signal[1] is None
    assert result.per_group_alpha == pytest.approx(1 - 0.95**0.5)


def test_impossible_counts_are_refused():
    with pytest.raises(DataError):
        anom.proportions([5], [3])
    with pytest.raises(DataError):
        anom.proportions([1.5], [3])
