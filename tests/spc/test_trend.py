"""Trend-aware charts: the slope test's error rates (a small run of benchmarks/bench_trend.py), its
maths against statsmodels' GLS, and the regression XmR chart against a hand computation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import toeplitz

from salesflow.errors import ConfigError
from salesflow.spc import chart
from salesflow.spc.trend import MIN_POINTS, detect, fit


def ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    """Stationary AR(1) noise of unit variance."""
    x = np.empty(n)
    x[0] = rng.normal()
    for i in range(1, n):
        x[i] = phi * x[i - 1] + rng.normal() * np.sqrt(1 - phi**2)
    return x


def rate(rng: np.random.Generator, make, reps: int) -> float:
    return sum(detect(make(rng)) is not None for _ in range(reps)) / reps


QUARTER_END = np.tile([0.0, 0.0, 2.0], 8)  # +2 σ in the last month of each quarter


@pytest.mark.parametrize(
    ("case", "make", "bound"),
    [
        ("white noise, 24", lambda r: r.normal(size=24), 0.03),
        ("AR(1) 0.6, 24", lambda r: ar1(r, 24, 0.6), 0.09),
        ("AR(1) 0.3, 12", lambda r: ar1(r, 12, 0.3), 0.06),
        ("quarter-end season, 24", lambda r: r.normal(size=24) + QUARTER_END, 0.04),
    ],
)
def test_a_series_without_trend_is_rarely_called_trending(case, make, bound):
    # 400 series per case; the full benchmark (benchmarks/README.md) measures at most 1-2 % here.
    found = rate(np.random.default_rng(5), make, 400)
    assert found <= bound, f"{case}: {found:.1%} called trending"


@pytest.mark.parametrize(("phi", "bound"), [(0.0, 0.9), (0.6, 0.45)])
def test_a_real_trend_is_found(phi, bound):
    # 0.2 noise sd per period over 24 periods: a rise of 4.6 sd from the first to the last
    found = rate(np.random.default_rng(9), lambda r: ar1(r, 24, phi) + 0.2 * np.arange(24), 200)
    assert found >= bound


def test_no_claim_from_fewer_than_twelve_points():
    steep = np.arange(MIN_POINTS - 1, dtype=float) * 10
    assert fit(steep) is None and detect(steep) is None
    assert chart(steep, kind="xmr", trend="on").trend is None  # flat limits instead


def test_the_slope_is_generalised_least_squares_with_ar1_errors():
    """Prais-Winsten with all points kept is exact GLS: statsmodels with the same ρ agrees."""
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    y = ar1(rng, 30, 0.5) + 0.1 * np.arange(30)
    y[[7, 8, 20]] = np.nan  # gaps: ρ^k between points k periods apart
    found = fit(y)
    assert found is not None and found.rho > 0
    t = np.flatnonzero(~np.isnan(y))
    sigma = toeplitz(found.rho ** np.arange(30))[np.ix_(t, t)]
    gls = sm.GLS(y[t], sm.add_constant(t.astype(float)), sigma=sigma).fit()
    assert found.slope == pytest.approx(gls.params[1], rel=1e-9)
    # the p-value takes one more degree of freedom off for ρ
    se = gls.bse[1] * np.sqrt((t.size - 2) / (t.size - 3))
    from scipy.stats import t as student

    assert found.p_value == pytest.approx(2 * student.sf(abs(gls.params[1]) / se, t.size - 3))


GROWING = 100 + 3 * np.arange(30) + np.random.default_rng(3).normal(0, 5, 30)


def test_regression_xmr_centre_and_limits_follow_the_trend():
    flat = chart(GROWING, kind="xmr")
    follows = chart(GROWING, kind="xmr", trend="auto")
    assert flat.trend is None and len(flat.signals) >= 10  # a steady rise, called a dozen signals
    line = follows.trend
    assert line is not None and line.p_value < 0.01
    assert len(follows.signals) <= 1
    i = np.arange(30)
    centre = GROWING.mean() + line.slope * (i - i.mean())  # the line through the mean point
    residual = GROWING - centre
    half_width = 2.66 * np.mean(np.abs(np.diff(residual)))
    np.testing.assert_allclose(follows.center, centre)
    np.testing.assert_allclose(follows.ucl, centre + half_width)
    np.testing.assert_allclose(follows.lcl, centre - half_width)
    doc = follows.chart_dict()
    assert doc["trend"]["slope"] == pytest.approx(line.slope)
    assert doc["trend"]["fitted_start"] == pytest.approx(centre[0])
    assert doc["trend"]["fitted_end"] == pytest.approx(centre[-1])
    assert isinstance(doc["center"], list) and len(doc["ucl"]) == 30
    assert flat.chart_dict()["trend"] is None


def test_a_trend_from_the_baseline_is_extended_past_it():
    x = GROWING.copy()
    x[20:] -= 40  # a drop after the baseline: judged against the extended trend
    result = chart(x, kind="xmr", baseline=(0, 20), trend="auto")
    assert result.trend is not None and result.trend.last == 19
    i = np.arange(30)
    base = x[:20]
    centre = base.mean() + result.trend.slope * (i - 9.5)
    np.testing.assert_allclose(result.center, centre)
    assert {s.direction for s in result.find_signals(since=20)} == {"down"}


def test_trend_composes_with_a_seasonal_offset():
    season = np.tile([-4.0, -4.0, 8.0], 10)
    result = chart(GROWING + season, kind="xmr", offset=season, trend="auto")
    plain = chart(GROWING, kind="xmr", trend="auto")
    np.testing.assert_allclose(result.center, plain.center + season)
    assert result.trend.slope == pytest.approx(plain.trend.slope)
    assert "seasonal_offset" in result.chart_dict() and result.chart_dict()["trend"]


def test_auto_leaves_a_flat_series_on_flat_limits():
    x = np.random.default_rng(1).normal(50, 3, 30)
    result = chart(x, kind="xmr", trend="auto")
    assert result.trend is None
    assert result.chart_dict()["center"] == pytest.approx(x.mean())


def test_an_unknown_trend_option_is_refused():
    with pytest.raises(ConfigError, match="trend"):
        chart(GROWING, trend="yes")
