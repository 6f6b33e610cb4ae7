"""Trend, tested: does a series grow or shrink steadily, beyond what carry-over explains?

A steadily growing series (request volume as the customer base grows) has no stable mean, so
flat limits call its early periods low and its late ones high: a dozen "signals" that only say
the series grows. When the trend is real, the chart follows it instead (regression XmR: centre
line = the fitted trend, limits = trend ± 2.66 × the mean moving range around it) and judges
each period against what the trend leads to expect.

The test: the slope of a straight line on the period index, estimated by generalised least
squares with AR(1) errors (Prais–Winsten, one Cochrane–Orcutt iteration), because sales series
carry over from period to period and ordinary least squares then finds slopes in wandering
noise. The AR(1) coefficient is estimated from the residuals and corrected for its small-sample
bias (it is biased towards zero when a line is fitted: about −(2 + 4ρ)/n), and the slope's
t-statistic is compared with Student's t on n − 3 degrees of freedom.

Guards against false claims:

- no claim from fewer than :data:`MIN_POINTS` points;
- a strict :data:`ALPHA` (0.001, two-sided), so autocorrelated noise is rarely called a trend,
  and a recent step (the last few periods worse) is judged as a step, not absorbed into a line.

The false-trend rate (white noise, AR(1), seasonal series, short histories) and the detection
rate are measured by ``benchmarks/bench_trend.py`` (figures in ``benchmarks/README.md``).
Pure maths on NumPy arrays plus SciPy's t distribution.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ALPHA", "MAX_RHO", "MIN_POINTS", "Trend", "detect", "fit"]

ALPHA = 0.001  # two-sided, on the slope (0.01 cost UDR verdicts 6-12 points of detection)
MIN_POINTS = 12  # no trend claim from a shorter history
MAX_RHO = 0.95  # carry-over beyond this is a random walk, not noise around a line


@dataclass(frozen=True)
class Trend:
    """A straight line through the points ``[first, last]``: slope per period and its evidence.

    ``rho`` is the period-to-period carry-over (AR(1)) allowed for in ``p_value``. The line runs
    through the mean of the points used (``level`` at their mean index ``center_index``), as the
    regression chart's centre line does: ``level + slope · (i − center_index)``.
    """

    slope: float
    p_value: float
    rho: float
    level: float
    center_index: float
    first: int
    last: int
    n_points: int
    alpha: float = ALPHA

    @property
    def significant(self) -> bool:
        return self.p_value < self.alpha

    def fitted(self, index: np.ndarray | Sequence[int]) -> np.ndarray:
        """The line at the given point indices."""
        return self.level + self.slope * (np.asarray(index, dtype=float) - self.center_index)

    def deviation(self, size: int) -> np.ndarray:
        """The line minus its level, for every point ``0 .. size-1``: what the trend adds."""
        return self.slope * (np.arange(size, dtype=float) - self.center_index)

    def sentence(self, name: str, amount: str, period: str) -> str:
        """``Requests received is trending: growing by about 12 per week …`` (amount unsigned)."""
        way = "growing" if self.slope > 0 else "shrinking"
        return (
            f"{name} is trending: {way} by about {amount} per {period} over "
            f"{self.n_points} {period}s (p {_p(self.p_value)}, allowing for carry-over from one "
            f"{period} to the next), so the centre line and limits follow the trend and each "
            f"{period} is judged against it, not against a flat average."
        )

    def to_dict(self) -> dict[str, Any]:
        start, end = self.fitted([self.first, self.last])
        return {
            "slope": float(self.slope),
            "p_value": float(self.p_value),
            "rho": float(self.rho),
            "first": self.first,
            "last": self.last,
            "fitted_start": float(start),
            "fitted_end": float(end),
            "n_points": self.n_points,
            "method": "GLS with AR(1) errors (Prais-Winsten), slope per period",
        }


def fit(values: Sequence[float | None] | np.ndarray, *, alpha: float = ALPHA) -> Trend | None:
    """The trend line of the non-missing points and its p-value; None below MIN_POINTS points."""
    x = np.array([np.nan if v is None else v for v in values], dtype=float)
    idx = np.flatnonzero(np.isfinite(x))
    if idx.size < MIN_POINTS:
        return None
    y = x[idx]
    t = idx.astype(float)
    if np.ptp(y) == 0:
        return Trend(0.0, 1.0, 0.0, float(y[0]), float(t.mean()), int(idx[0]), int(idx[-1]),
                     int(idx.size), alpha)  # fmt: skip
    ols = _gls(y, t, 0.0)
    rho = _rho(y - ols[0] - ols[1] * t, idx)
    intercept, slope, se = _gls(y, t, rho)
    rho = _rho(y - intercept - slope * t, idx)  # one Cochrane–Orcutt iteration
    _, slope, se = _gls(y, t, rho)
    p = _p_value(slope, se, idx.size - 3)
    return Trend(float(slope), p, rho, float(y.mean()), float(t.mean()), int(idx[0]), int(idx[-1]),
                 int(idx.size), alpha)  # fmt: skip


def detect(values: Sequence[float | None] | np.ndarray, *, alpha: float = ALPHA) -> Trend | None:
    """The trend when the series has one beyond chance (p < ``alpha``), else None (no claim)."""
    found = fit(values, alpha=alpha)
    return found if found is not None and found.significant else None


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def _rho(residual: np.ndarray, idx: np.ndarray) -> float:
    """Lag-1 autocorrelation of the residuals (adjacent periods only), bias-corrected, ≥ 0."""
    adjacent = np.diff(idx) == 1
    den = float(np.sum(residual**2))
    if den == 0 or not adjacent.any():
        return 0.0
    raw = float(np.sum(residual[1:][adjacent] * residual[:-1][adjacent])) / den
    corrected = raw + (2 + 4 * max(raw, 0.0)) / residual.size
    return float(np.clip(corrected, 0.0, MAX_RHO))


def _gls(y: np.ndarray, t: np.ndarray, rho: float) -> tuple[float, float, float]:
    """Intercept, slope and the slope's standard error under AR(1) errors with ``rho``.

    Prais–Winsten: each point minus ρ^k times the previous one (k periods apart), scaled to unit
    innovation variance; the first point scaled by sqrt(1 − ρ²).
    """
    design = np.column_stack([np.ones_like(t), t])
    if rho > 0:
        gap = np.diff(t)
        lag = rho**gap
        scale = np.sqrt((1 - rho**2) / (1 - lag**2))
        y = np.concatenate([[y[0] * np.sqrt(1 - rho**2)], (y[1:] - lag * y[:-1]) * scale])
        first = design[:1] * np.sqrt(1 - rho**2)
        rest = (design[1:] - lag[:, None] * design[:-1]) * scale[:, None]
        design = np.vstack([first, rest])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    dof = max(y.size - 3, 1)
    s2 = float(resid @ resid) / dof
    cov = s2 * np.linalg.inv(design.T @ design)
    return float(coef[0]), float(coef[1]), float(np.sqrt(max(cov[1, 1], 0.0)))


def _p_value(slope: float, se: float, dof: int) -> float:
    from scipy.stats import t as student

    if se == 0:
        return 0.0 if slope != 0 else 1.0
    return float(2 * student.sf(abs(slope / se), max(dof, 1)))
