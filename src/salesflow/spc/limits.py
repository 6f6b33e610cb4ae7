"""Centre lines, sigma and limits for one phase of a chart, computed from the phase's basis.

Formulas (the ones the JSON must be reproducible from):

- XmR (Wheeler): centre = mean; mR = |x_i - x_{i-1}| for successive periods that both have a
  value; limits = centre ± 2.66·mR̄; moving-range upper limit = 3.268·mR̄; sigma = 2.66/3·mR̄.
- p: p̄ = Σ(p_i·n_i)/Σn_i; σ_i = sqrt(p̄(1-p̄)/n_i); limits p̄ ± 3σ_i clipped to [0, 1].
- u: ū = Σ(u_i·n_i)/Σn_i; σ_i = sqrt(ū/n_i); limits ū ± 3σ_i, the lower one clipped at 0.
- Laney p′/u′ (Laney 2002): z_i = (x_i - centre)/σ_i; σ_z = mean |z_i - z_{i-1}| / 1.128;
  σ_i′ = σ_i·σ_z; limits centre ± 3σ_i′, clipped as for p/u.
- run: centre = median; no limits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from salesflow.spc.model import ChartType, Phase

E2 = 2.66  # 3 / d2 for moving ranges of two points (d2 = 1.128), as Wheeler rounds it
D4 = 3.268  # upper range limit factor for moving ranges of two points
D2 = 1.128


@dataclass(frozen=True)
class PhaseLimits:
    """A phase and its per-point arrays (length ``end - start``)."""

    phase: Phase
    center: np.ndarray
    lcl: np.ndarray
    ucl: np.ndarray
    sigma: np.ndarray


def moving_ranges(values: np.ndarray) -> np.ndarray:
    """|x_i - x_{i-1}| per point; NaN for the first point and next to any gap."""
    mr = np.full(values.shape, np.nan)
    if values.size > 1:
        mr[1:] = np.abs(np.diff(values))
    return mr


def _insufficient(
    start: int, end: int, basis: tuple[int, int], count: int, why: str
) -> PhaseLimits:
    size = end - start
    nan = np.full(size, np.nan)
    phase = Phase(start, end, basis, count, None, message=why)
    return PhaseLimits(phase, nan, nan.copy(), nan.copy(), nan.copy())


def too_few_message(count: int, min_points: int, *, baseline: bool) -> str:
    """Why there are no limits, in words a sales leader reads."""
    where = "the baseline" if baseline else "this stretch"
    have = "only 1 period has" if count == 1 else f"only {count} periods have"
    return (
        f"Not enough data for limits: {have} data in {where}; at least {min_points} are needed. "
        "Wait for more periods or use a longer baseline."
    )


def phase_limits(
    kind: ChartType,
    values: np.ndarray,
    n: np.ndarray | None,
    start: int,
    end: int,
    basis: tuple[int, int],
    *,
    min_points: int,
    baseline: bool = False,
) -> PhaseLimits:
    """Limits for points ``[start, end)`` computed from the usable points in ``basis``."""
    b0, b1 = basis
    count = int(np.sum(~np.isnan(values[b0:b1])))
    if count < min_points:
        why = too_few_message(count, min_points, baseline=baseline)
        return _insufficient(start, end, basis, count, why)
    if kind == "xmr":
        return _xmr(values, start, end, basis, count)
    if kind == "run":
        center = float(np.nanmedian(values[b0:b1]))
        size = end - start
        nan = np.full(size, np.nan)
        phase = Phase(start, end, basis, count, center)
        return PhaseLimits(phase, np.full(size, center), nan, nan.copy(), nan.copy())
    assert n is not None
    return _attribute(kind, values, n, start, end, basis, count)


def _xmr(
    values: np.ndarray, start: int, end: int, basis: tuple[int, int], count: int
) -> PhaseLimits:
    b0, b1 = basis
    base = values[b0:b1]
    mr = moving_ranges(base)
    if np.all(np.isnan(mr)):
        why = "No two successive periods in the basis both have data, so no moving range exists"
        return _insufficient(start, end, basis, count, why)
    center = float(np.nanmean(base))
    mr_bar = float(np.nanmean(mr))
    lcl, ucl = center - E2 * mr_bar, center + E2 * mr_bar
    size = end - start
    phase = Phase(
        start, end, basis, count, center, lcl=lcl, ucl=ucl, mr_center=mr_bar, mr_ucl=D4 * mr_bar
    )
    return PhaseLimits(
        phase,
        np.full(size, center),
        np.full(size, lcl),
        np.full(size, ucl),
        np.full(size, E2 / 3 * mr_bar),
    )


def _attribute(
    kind: ChartType,
    values: np.ndarray,
    n: np.ndarray,
    start: int,
    end: int,
    basis: tuple[int, int],
    count: int,
) -> PhaseLimits:
    b0, b1 = basis
    base_ok = ~np.isnan(values[b0:b1])
    base_x, base_n = values[b0:b1][base_ok], n[b0:b1][base_ok]
    center = float(np.sum(base_x * base_n) / np.sum(base_n))
    proportion = kind in ("p", "laney-p")
    spread = center * (1 - center) if proportion else center
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.sqrt(spread / n[start:end])
    sigma[np.isnan(values[start:end])] = np.nan
    sigma_z = None
    if kind in ("laney-p", "laney-u"):
        sigma_z = laney_sigma_z(values[b0:b1], n[b0:b1], center, proportion=proportion)
        sigma = sigma * sigma_z
    lcl = np.maximum(center - 3 * sigma, 0.0)
    ucl = center + 3 * sigma
    if proportion:
        ucl = np.minimum(ucl, 1.0)
    size = end - start
    phase = Phase(start, end, basis, count, center, sigma_z=sigma_z)
    return PhaseLimits(phase, np.full(size, center), lcl, ucl, sigma)


def laney_sigma_z(values: np.ndarray, n: np.ndarray, center: float, *, proportion: bool) -> float:
    """Laney's σ_z: the average moving range of the z-scores divided by 1.128.

    1.0 (plain p/u limits) when the centre leaves no binomial/Poisson spread (p̄ of 0 or 1, ū of
    0) or when no two successive periods both have data.
    """
    spread = center * (1 - center) if proportion else center
    if spread <= 0:
        return 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (values - center) / np.sqrt(spread / n)
    mr = moving_ranges(z)
    if np.all(np.isnan(mr)):
        return 1.0
    return float(np.nanmean(mr) / D2)
