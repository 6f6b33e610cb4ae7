"""The sustained-shift rule against independent computations: statsmodels' autocorrelation,
SciPy's two-sample t interval, exact binomial tails and Monte Carlo moments of AR(1) series."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom, ttest_ind
from statsmodels.tsa.stattools import acf

from salesflow.workbench import shift
from salesflow.workbench.shift import compare, lag1_autocorrelation, needed_on_side

BEFORE = [10, 12, 9, 11, 10, 13, 8, 11, 9, 12, 10, 11]


def ar1(rng: np.random.Generator, n: int, phi: float, size: int) -> np.ndarray:
    """``size`` stationary AR(1) series of length n with unit marginal variance."""
    x = np.empty((size, n))
    x[:, 0] = rng.standard_normal(size)
    for t in range(1, n):
        x[:, t] = phi * x[:, t - 1] + np.sqrt(1 - phi**2) * rng.standard_normal(size)
    return x


def test_lag1_autocorrelation_is_statsmodels_acf():
    residuals = np.array([1.5, 0.5, 2.0, -1.0, -2.5, -0.5, 1.0, -1.0])  # sums to 0
    assert lag1_autocorrelation(residuals) == pytest.approx(acf(residuals, nlags=1)[1])
    # A gap between positions 3 and 5 drops the pair across it from the numerator.
    positions = np.array([0, 1, 2, 3, 5, 6, 7, 8])
    pairs = residuals[1:] * residuals[:-1]
    expected = (pairs.sum() - pairs[3]) / np.sum(residuals**2)
    assert lag1_autocorrelation(residuals, positions) == pytest.approx(expected)


def test_without_autocorrelation_the_interval_is_the_pooled_t_interval():
    after = [6, 8, 5, 7, 5, 8]  # alternating residuals: r1 < 0, so no correction applies
    result = compare(BEFORE, after)
    assert result.corrected == 0.0
    interval = ttest_ind(after, BEFORE, equal_var=True).confidence_interval(0.95)
    assert (result.ci_low, result.ci_high) == pytest.approx((interval.low, interval.high))
    assert result.effect == pytest.approx(np.mean(after) - np.mean(BEFORE))


def test_autocorrelation_widens_the_interval():
    drift = [10, 10.5, 11, 11.5, 12, 12.5, 12, 11.5, 11, 10.5, 10, 9.5]
    after = [9, 9.5, 10, 10.5, 11, 11.5]
    smooth, rough = compare(drift, after), compare(BEFORE, [6, 8, 5, 7, 5, 8])
    assert smooth.corrected > 0.5 and rough.corrected == 0
    naive = ttest_ind(after, drift).confidence_interval(0.95)
    assert smooth.ci_high - smooth.ci_low > 1.5 * (naive.high - naive.low)


@pytest.mark.parametrize("m", range(5, 13))
def test_the_sign_test_holds_its_level_without_autocorrelation(m):
    k = needed_on_side(m, 0.0)
    assert binom.sf(k - 1, m, 0.5) <= 0.05
    assert binom.sf(k - 2, m, 0.5) > 0.05  # and one fewer would not be significant


def test_autocorrelated_signs_need_more_on_one_side():
    assert [needed_on_side(m, 0.0) for m in (5, 8, 12)] == [5, 7, 10]
    assert [needed_on_side(m, 0.6) for m in (5, 8, 12)] == [6, 9, 12]  # 6 of 5: impossible


def test_sign_inflation_matches_simulated_ar1_signs():
    rng = np.random.default_rng(5)
    count = np.sum(ar1(rng, 8, 0.6, 40_000) > 0, axis=1)
    simulated = count.var() / (8 / 4)
    assert shift.sign_inflation(8, 0.6) == pytest.approx(simulated, rel=0.05)


def test_expected_r1_matches_simulation_and_is_inverted():
    rng = np.random.default_rng(7)
    n, nb, phi = 20, 14, 0.6
    x = ar1(rng, n, phi, 20_000)
    resid = np.concatenate(
        (
            x[:, :nb] - x[:, :nb].mean(1, keepdims=True),
            x[:, nb:] - x[:, nb:].mean(1, keepdims=True),
        ),
        axis=1,
    )
    ratio = np.mean(np.sum(resid[:, 1:] * resid[:, :-1], 1)) / np.mean(np.sum(resid**2, 1))
    pos = np.arange(n, dtype=float)
    demean = shift._demean_matrix(n, nb)
    lag = (np.eye(n, k=1) + np.eye(n, k=-1)) / 2
    expected = shift._expected_r1(phi, pos, demean, lag)
    assert expected == pytest.approx(ratio, abs=0.01)
    assert expected < phi - 0.2  # r1 is biased far below phi on 20 periods with two means
    assert shift._unbiased_rho(expected, pos, nb) == pytest.approx(phi, abs=1e-4)


def test_a_single_spike_is_significant_only_by_mean_and_never_sustained():
    result = compare(BEFORE, [10, 11, 40, 10, 11, 12])
    assert result.on_side < result.needed and result.direction is None


def test_a_step_without_noise_is_a_shift():
    result = compare([5.0] * 12, [3.0] * 6)
    assert (result.corrected, result.ci_low, result.ci_high) == (0.0, -2.0, -2.0)
    assert result.direction == "down"
