"""Did a measure shift after a known date, or is the difference noise? A calibrated test.

A single point beyond frozen limits is not evidence that a change worked: sales series are
autocorrelated (a good month follows a good month) and seasonal, so limits computed from a
short baseline are crossed by chance far more often than the nominal 0.3 %. This module judges
the periods after a start date against the baseline periods before it with three requirements,
all of which must hold for a shift (their error rates are measured in
``benchmarks/bench_verdicts.py``):

1. **Enough periods after the start** (:data:`MIN_AFTER`, per granularity): weeks are noisier
   and more autocorrelated than months, so they need more.
2. **The 95 % interval of the effect excludes zero.** The effect is the difference of means
   (after minus baseline) in the measure's unit: the step of a regression with AR(1) errors.
   Its variance and the residual variance are computed exactly for this design under AR(1)
   correlation ρ^|i−j| between periods i and j (gaps count as time passing), and the t quantile
   uses the effective degrees of freedom n(1 − ρ)/(1 + ρ) − 2 (Bayley & Hammersley 1946;
   Zwiers & von Storch 1995). ρ comes from the lag-1 autocorrelation r₁ of the residuals around
   each part's own mean: r₁ is strongly biased down on 15–40 periods with two fitted means, so
   ρ is the value whose exact expected r₁ equals the observed one, with r₁ first moved 0.75 of
   its standard error √((1 − r₁²)/n) to the cautious side (an underestimated ρ makes the
   interval too narrow; on weekly AR(1) φ = 0.6 series this brings false alarms from 6 % without
   caution to 4 %, at the price of some power on autocorrelated series).
3. **The shift is sustained**: at least :func:`needed_on_side` of the periods after the start
   lie on the effect's side of the baseline median — a one-sided sign test at 5 % (Anhøj's
   run-chart reasoning: a process that did not change puts each point above or below its
   median with even odds), its variance inflated for the autocorrelation of the signs. One
   spike, or a short burst, never makes a shift.

:func:`compare_to_trend` is the same test against the straight line the baseline was already on,
extended over the periods after the start (the workbench uses it when the baseline slopes the way
of the shift :func:`compare` found: a trend that merely continues is not a shift).

Pure functions of two lists of numbers (NumPy and SciPy); the workbench feeds them the usable
points of a charted series.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = [
    "LEVEL",
    "MIN_AFTER",
    "SIGN_ALPHA",
    "Shift",
    "carry_over",
    "compare",
    "compare_to_trend",
    "lag1_autocorrelation",
    "needed_on_side",
    "sign_inflation",
]

LEVEL = 0.95  # confidence of the effect's interval
SIGN_ALPHA = 0.05  # one-sided level of the sign test that makes a shift "sustained"
MIN_AFTER = {"week": 8, "month": 5, "quarter": 5}  # periods after the start before judging
MAX_AUTOCORRELATION = 0.9  # beyond this the inflation explodes; cap it
STEP_WITHIN = 4  # carry_over() looks for a step within the last 4×``last`` periods
CAUTION = 0.75  # standard errors of r₁ added before its bias is removed (see compare())


def lag1_autocorrelation(residuals: np.ndarray, positions: np.ndarray | None = None) -> float:
    """r₁ = Σ eₜeₜ₋₁ / Σ eₜ² over successive periods, the estimator of
    ``statsmodels.tsa.stattools.acf`` (adjusted=False) on residuals that already have mean zero;
    pairs across a gap are left out. 0 when the residuals have no variation."""
    total = float(np.sum(residuals**2))
    if residuals.size < 3 or total == 0:
        return 0.0
    pairs = residuals[1:] * residuals[:-1]
    if positions is not None:
        pairs = pairs[np.diff(positions) == 1]
    return float(np.sum(pairs) / total)


def sign_inflation(m: int, rho: float) -> float:
    """Variance inflation of a count of m successive signs of an AR(1) series: the signs of two
    Gaussian values with correlation r agree with correlation (2/π)·arcsin(r) (Sheppard)."""
    lags = np.arange(1, m)
    sign_corr = 2 / np.pi * np.arcsin(rho**lags)
    return float(1 + 2 * np.sum((1 - lags / m) * sign_corr))


def needed_on_side(m: int, rho: float = 0.0, alpha: float = SIGN_ALPHA) -> int:
    """The fewest of ``m`` periods on one side of the baseline median that chance gives at most
    ``alpha`` of the time (one-sided sign test, normal approximation with continuity correction, the variance inflated
    by :func:`sign_inflation`); ``m + 1`` when even all ``m`` are not enough."""
    from scipy.stats import norm

    z = float(norm.ppf(1 - alpha))
    spread = math.sqrt(m * sign_inflation(m, rho))
    return min(math.ceil((m + 1 + z * spread) / 2 - 1e-9), m + 1)  # with continuity correction


@dataclass(frozen=True)
class Shift:
    """The comparison of the periods after a start with the baseline periods before it."""

    effect: float  # mean after − mean before, in the measure's unit
    ci_low: float
    ci_high: float
    autocorrelation: float  # lag-1 autocorrelation of the residuals, as estimated
    corrected: float  # the autocorrelation used: bias-corrected, between 0 and the cap
    n_before: int
    n_after: int
    on_side: int  # periods after the start on the effect's side of the baseline median
    needed: int  # how many a sustained shift needs

    @property
    def significant(self) -> bool:
        """The interval excludes zero."""
        return self.ci_low > 0 or self.ci_high < 0

    @property
    def sustained(self) -> bool:
        return self.on_side >= self.needed

    @property
    def direction(self) -> Literal["up", "down"] | None:
        """Up or down when the shift is both significant and sustained; None otherwise."""
        if not (self.significant and self.sustained):
            return None
        return "up" if self.effect > 0 else "down"


def _ar1_correlation(rho: float, pos: np.ndarray) -> np.ndarray:
    return rho ** np.abs(pos[:, None] - pos[None, :])


def _demean_matrix(n: int, nb: int) -> np.ndarray:
    """M = I − P: the residuals around each part's own mean are M·x (one part when nb = n)."""
    m = np.eye(n)
    m[:nb, :nb] -= 1 / nb
    if nb < n:
        m[nb:, nb:] -= 1 / (n - nb)
    return m


def _expected_r1(rho: float, pos: np.ndarray, demean: np.ndarray, lag: np.ndarray) -> float:
    """E[r₁] of the residuals of an AR(1) series with autocorrelation ``rho`` (ratio of the
    expectations of the two quadratic forms, exact for this design)."""
    cov = demean @ _ar1_correlation(rho, pos) @ demean
    return float(np.sum(lag * cov) / np.trace(cov))


def _unbiased_rho(r1: float, pos: np.ndarray, nb: int, demean: np.ndarray | None = None) -> float:
    """The autocorrelation whose expected residual r₁ equals the observed one (bisection), so the
    downward bias of r₁ on short series with two fitted means (or the fit ``demean`` leaves
    residuals of) is removed; in [0, cap]."""
    n = pos.size
    if demean is None:
        demean = _demean_matrix(n, nb)
    successive = (np.diff(pos) == 1).astype(float)
    lag = np.zeros((n, n))
    lag[np.arange(n - 1), np.arange(1, n)] = successive / 2
    lag = lag + lag.T  # e'·lag·e = Σ eₜeₜ₊₁ over successive periods
    low, high = 0.0, MAX_AUTOCORRELATION
    if _expected_r1(low, pos, demean, lag) >= r1:
        return low
    if _expected_r1(high, pos, demean, lag) <= r1:
        return high
    for _ in range(30):
        mid = (low + high) / 2
        low, high = (mid, high) if _expected_r1(mid, pos, demean, lag) < r1 else (low, mid)
    return (low + high) / 2


def _cautious(r1: float, n: int) -> float:
    """r₁ moved :data:`CAUTION` of its standard error √((1 − r₁²)/n) towards more carry-over."""
    return r1 + CAUTION * math.sqrt(max(1 - r1**2, 0.0) / n)


def carry_over(
    values: Sequence[float], positions: Sequence[int] | None = None, *, last: int = 3
) -> tuple[float, float]:
    """How strongly a series carries over from one period to the next, allowing for a real
    change in its level: (r₁ of the residuals around the best-fitting level, the autocorrelation
    to allow for, estimated as in :func:`compare` — bias-corrected for that fit and pushed to the
    cautious side, in [0, cap]). The level is whichever leaves the smallest residual sum of
    squares of a straight line through time and one step with between ``last`` and
    ``STEP_WITHIN·last`` periods after it: without them a real recent shift or a steady growth
    would read as carry-over and hide itself; the step is kept to the recent periods so that on
    a long series it cannot soak up an old swing. (0, 0) for fewer than ``2·last`` values or no
    variation."""
    x = np.asarray(values, dtype=float)
    n = x.size
    if n < 2 * last or not np.any(x - x.mean()):
        return 0.0, 0.0
    pos = np.asarray(range(n) if positions is None else positions, dtype=float)
    fits = [_demean_matrix(n, k) for k in range(max(last, n - STEP_WITHIN * last), n - last + 1)]
    fits.append(_detrend_matrix(pos))
    demean = min(fits, key=lambda m: float(np.sum((m @ x) ** 2)))
    r1 = lag1_autocorrelation(demean @ x, pos)
    return r1, _unbiased_rho(_cautious(r1, n), pos, n, demean)


def _detrend_matrix(pos: np.ndarray) -> np.ndarray:
    """M = I − X(X'X)⁻¹X' for a straight line through time: the residuals around it are M·x."""
    design = np.column_stack((np.ones(pos.size), pos - pos.mean()))
    return np.eye(pos.size) - design @ np.linalg.pinv(design)


def compare(
    before: Sequence[float],
    after: Sequence[float],
    *,
    positions: tuple[Sequence[int], Sequence[int]] | None = None,
    level: float = LEVEL,
) -> Shift:
    """Test ``after`` against ``before`` (both in time order, gaps left out); ``positions`` are
    the periods' indices in the series, so that a gap counts as time passing."""

    b = np.asarray(before, dtype=float)
    a = np.asarray(after, dtype=float)
    if b.size < 2 or a.size < 1:
        raise ValueError("compare() needs at least 2 baseline periods and 1 period after")
    if positions is None:
        positions = (range(b.size), range(b.size, b.size + a.size))
    pos = np.concatenate([np.asarray(p, dtype=float) for p in positions])
    effect = float(a.mean() - b.mean())
    residuals = np.concatenate((b - b.mean(), a - a.mean()))
    n = residuals.size
    r1 = lag1_autocorrelation(residuals, pos)
    nb = b.size
    cautious = _cautious(r1, n)
    still = not np.any(residuals)  # no variation around either mean: nothing carries over
    rho = 0.0 if still else _unbiased_rho(cautious, pos, nb)
    corr = _ar1_correlation(rho, pos)
    within = corr[:nb, :nb].sum() / nb + corr[nb:, nb:].sum() / a.size
    sigma2 = float(np.sum(residuals**2)) / max(n - within, 1e-9)  # E[SS] = σ²(n − within)
    contrast = (
        corr[nb:, nb:].sum() / a.size**2
        + corr[:nb, :nb].sum() / nb**2
        - 2 * corr[:nb, nb:].sum() / (nb * a.size)
    )
    se = math.sqrt(sigma2 * contrast)
    df = max(n * (1 - rho) / (1 + rho) - 2, 2.0)
    return _shift(effect, se, df, level, r1, rho, nb, a - float(np.median(b)))


def compare_to_trend(
    before: Sequence[float],
    after: Sequence[float],
    *,
    positions: tuple[Sequence[int], Sequence[int]] | None = None,
    level: float = LEVEL,
) -> Shift:
    """Like :func:`compare`, but against the straight line the baseline was already on.

    For a baseline that follows a tested trend (:mod:`salesflow.spc.trend`): continuing a trend
    moves the mean after the start away from the baseline mean although nothing changed. The
    effect is the mean of the periods after the start minus the baseline's least-squares line
    extrapolated to them — a linear contrast of the values, whose variance is computed exactly
    under AR(1) correlation ρ^|i−j| (the line's own error grows with the distance it is carried
    forward). ρ is estimated as in :func:`compare` from the residuals around the baseline's line
    and around the mean of the periods after it (de-biased for that fit, on the cautious side);
    the t quantile uses n(1 − ρ)/(1 + ρ) − 3 degrees of freedom (one more fitted parameter).
    "Sustained" counts the periods after the start on the effect's side of the line moved by the
    median of the baseline's residuals; the sign test is :func:`needed_on_side`'s.
    """

    b = np.asarray(before, dtype=float)
    a = np.asarray(after, dtype=float)
    if b.size < 3 or a.size < 1:
        raise ValueError("compare_to_trend() needs at least 3 baseline periods and 1 after")
    if positions is None:
        positions = (range(b.size), range(b.size, b.size + a.size))
    tb = np.asarray(positions[0], dtype=float)
    ta = np.asarray(positions[1], dtype=float)
    pos = np.concatenate((tb, ta))
    nb, na = b.size, a.size
    n = nb + na
    x = np.concatenate((b, a))
    centre = tb.mean()
    stt = float(np.sum((tb - centre) ** 2))
    slope = float(np.sum((tb - centre) * (b - b.mean())) / stt)
    resid_b = b - (b.mean() + slope * (tb - centre))
    resid_a = a - (b.mean() + slope * (ta - centre))
    effect = float(resid_a.mean())
    # the effect as a contrast c·x: after mean minus the baseline line over the after
    contrast = np.concatenate(
        (-(1 / nb) - (ta.mean() - centre) * (tb - centre) / stt, np.full(na, 1 / na))
    )
    demean = np.zeros((n, n))
    demean[:nb, :nb] = _detrend_matrix(tb)
    demean[nb:, nb:] = np.eye(na) - 1 / na
    residuals = demean @ x
    r1 = lag1_autocorrelation(residuals, pos)
    still = not np.any(np.abs(residuals) > 1e-12 * max(1.0, float(np.abs(x).max())))
    rho = 0.0 if still else _unbiased_rho(_cautious(r1, n), pos, nb, demean)
    corr = _ar1_correlation(rho, pos)
    expected_ss = float(np.trace(demean @ corr))  # E[SS] = σ² tr(M R M) = σ² tr(M R)
    sigma2 = float(np.sum(residuals**2)) / max(expected_ss, 1e-9)
    se = math.sqrt(max(sigma2 * float(contrast @ corr @ contrast), 0.0))
    df = max(n * (1 - rho) / (1 + rho) - 3, 2.0)
    return _shift(effect, se, df, level, r1, rho, nb, resid_a - float(np.median(resid_b)))


def _shift(
    effect: float,
    se: float,
    df: float,
    level: float,
    r1: float,
    rho: float,
    n_before: int,
    after_vs_median: np.ndarray,
) -> Shift:
    """The interval from ``se`` and ``df``, and how many periods after the start lie on the
    effect's side of the baseline's median (``after_vs_median``: each one minus that median)."""
    from scipy.stats import t as student_t

    half = float(student_t.ppf(0.5 + level / 2, df)) * se
    side = np.sign(after_vs_median) * (1 if effect >= 0 else -1)
    n_after = int(after_vs_median.size)
    return Shift(
        effect=effect,
        ci_low=effect - half,
        ci_high=effect + half,
        autocorrelation=r1,
        corrected=rho,
        n_before=int(n_before),
        n_after=n_after,
        on_side=int(np.sum(side > 0)),
        needed=needed_on_side(n_after, rho),
    )
