"""The entry point: :func:`chart` turns a series into a :class:`ChartResult` with signals.

``auto`` picks the chart from the metric's kind and says why in one sentence: proportions with
subgroup sizes get a p-chart (Laney p′ when the periods vary far more than binomial variation
explains, as they do with large subgroups), rates per exposure get a u-chart (or Laney u′), and
everything else gets an XmR chart, which suits any one-value-per-period series.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np

from salesflow.errors import ConfigError, DataError
from salesflow.spc.limits import PhaseLimits, moving_ranges, phase_limits
from salesflow.spc.model import CHART_TYPES, ChartResult, ChartType, Signal
from salesflow.spc.phases import PhaseSpec, split_phases
from salesflow.spc.rules import DEFAULT_RULES, RULES, RUN_CHART_RULES, Segment, detect
from salesflow.spc.trend import Trend, fit

OVERDISPERSION_SIGMA_Z = 1.5  # σ_z above this: ordinary p/u limits are too narrow
ATTRIBUTE = {"p": "p", "u": "u", "laney-p": "p", "laney-u": "u"}


def chart(
    values: Sequence[float] | np.ndarray,
    *,
    n: Sequence[float] | np.ndarray | None = None,
    kind: str = "auto",
    metric_kind: str | None = None,
    baseline: tuple[int, int] | None = None,
    phase_starts: Sequence[int] = (),
    rules: Sequence[str] | None = None,
    min_points: int = 8,
    offset: Sequence[float] | np.ndarray | None = None,
    trend: str = "off",
) -> ChartResult:
    """Chart a series of one value per period.

    ``values`` are the plotted values (for p/u charts the proportion or rate of each period),
    ``n`` the subgroup size behind each (denominator or exposure). NaN values, or ``n`` of 0,
    are gaps: skipped for limits and rules, kept in every per-point list. ``baseline`` is a
    half-open index range like a slice; ``phase_starts`` are indices where new limits begin.
    ``rules`` default to Western Electric 1-4, or Anhøj's rules on a run chart. ``offset`` is a
    known seasonal pattern, one value per point (:mod:`salesflow.spc.seasonality`): it is taken
    out before limits and rules and put back into the centre line and limits, so each period is
    compared with what its season leads to expect. ``trend`` ("off", "auto" or "on") follows a
    straight-line trend fitted on phase 1's basis (:mod:`salesflow.spc.trend`): "auto" only when
    it is beyond chance, "on" always (with enough points). The trend is taken out like an offset
    (regression XmR: centre = the line, limits = line ± 2.66 × mean moving range around it), so
    each period is judged against what the trend leads to expect.
    """
    if min_points < 2:
        raise ConfigError(f"min_points must be at least 2, not {min_points}", where="min_points")
    x, size = _prepare(values, n)
    shift = _offset(offset, x)
    adjusted = x if shift is None else x - shift
    specs = split_phases(len(x), baseline, phase_starts)
    line = _trend(trend, adjusted, specs[0].basis)
    if line is not None:
        adjusted = adjusted - line.deviation(x.size)
    if kind == "auto":
        chart_type, reason = choose(adjusted, size, metric_kind, specs, min_points, observed=x)
    elif kind in CHART_TYPES:
        chart_type, reason = cast(ChartType, kind), f"{_TITLES[kind]}, as requested."
    else:
        raise ConfigError(
            f"Unknown chart type {kind!r}",
            where="chart kind",
            hint=f"Use one of: auto, {', '.join(CHART_TYPES)}",
        )
    _check_data(chart_type, x, size)
    rule_ids = resolve_rules(rules, chart_type)
    limits = [_limits(chart_type, adjusted, size, spec, min_points) for spec in specs]
    result = _assemble(chart_type, reason, adjusted, size, limits, rule_ids, min_points)
    if shift is None and line is None:
        return result
    return _restore(result, x, shift, line)


TREND_CHOICES = ("off", "auto", "on")


def _trend(mode: str, x: np.ndarray, basis: tuple[int, int]) -> Trend | None:
    """The trend line to follow, fitted on the basis points only; None for flat limits."""
    if mode not in TREND_CHOICES:
        raise ConfigError(
            f"Unknown trend option {mode!r}", where="trend", hint="Use off, auto or on"
        )
    if mode == "off":
        return None
    b0, b1 = basis
    masked = np.full(x.shape, np.nan)
    masked[b0:b1] = x[b0:b1]
    found = fit(masked)
    if found is None or (mode == "auto" and not found.significant):
        return None
    return found


def _offset(offset: Sequence[float] | np.ndarray | None, x: np.ndarray) -> np.ndarray | None:
    if offset is None:
        return None
    shift = np.array(offset, dtype=float).ravel()
    if shift.shape != x.shape or not np.all(np.isfinite(shift)):
        raise ConfigError(
            f"{x.size} values but {shift.size} seasonal offsets (or an offset is not a number)",
            where="chart input",
            hint="Give one finite offset per value",
        )
    return shift


def _restore(
    result: ChartResult, original: np.ndarray, seasonal: np.ndarray | None, line: Trend | None
) -> ChartResult:
    """The chart of the adjusted values, drawn back on the original scale."""
    from dataclasses import replace

    shift = np.zeros(original.shape) if seasonal is None else seasonal
    if line is not None:
        shift = shift + line.deviation(original.size)
    center, lcl, ucl = (a + shift for a in (result.center, result.lcl, result.ucl))
    if ATTRIBUTE.get(result.type) == "p":
        lcl, ucl = np.clip(lcl, 0.0, 1.0), np.clip(ucl, 0.0, 1.0)
    elif ATTRIBUTE.get(result.type) == "u":
        lcl = np.maximum(lcl, 0.0)
    return replace(
        result, values=original, center=center, lcl=lcl, ucl=ucl, offset=seasonal, trend=line
    )


_TITLES = {
    "xmr": "XmR chart (individual values and moving ranges)",
    "p": "p-chart",
    "u": "u-chart",
    "laney-p": "Laney p′ chart",
    "laney-u": "Laney u′ chart",
    "run": "Run chart (median centre line)",
}


def _prepare(
    values: Sequence[float] | np.ndarray, n: Sequence[float] | np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Float arrays with every gap (missing or infinite value, NaN or zero n) as NaN in values."""
    x = np.array(values, dtype=float).ravel()  # None becomes NaN
    x[~np.isfinite(x)] = np.nan  # a ratio over an empty period may arrive as inf
    if n is None:
        return x, None
    size = np.array(n, dtype=float).ravel()
    if size.shape != x.shape:
        raise ConfigError(
            f"{x.size} values but {size.size} subgroup sizes",
            where="chart input",
            hint="Give one subgroup size per value",
        )
    negative = np.flatnonzero(size < 0)
    if negative.size:
        i = int(negative[0])
        raise DataError(
            f"Subgroup size {size[i]:g} is negative",
            where=f"point {i + 1}",
            hint="Sizes are counts",
        )
    x[~(size > 0)] = np.nan
    return x, size


def _check_data(chart_type: ChartType, x: np.ndarray, size: np.ndarray | None) -> None:
    if chart_type not in ATTRIBUTE:
        return
    if size is None:
        raise ConfigError(
            f"A {_TITLES[chart_type]} needs the subgroup size (denominator) of every period",
            where="chart input",
            hint="Pass n=..., or use kind='xmr'",
        )
    low = 0.0
    high = 1.0 if ATTRIBUTE[chart_type] == "p" else np.inf
    bad = np.flatnonzero((x < low) | (x > high))
    if bad.size:
        i = int(bad[0])
        what = "proportion between 0 and 1" if high == 1.0 else "rate of 0 or more"
        raise DataError(
            f"Value {x[i]:g} is not a {what}",
            where=f"point {i + 1}",
            hint=f"A {_TITLES[chart_type]} plots {what}s; use kind='xmr' for other measures",
        )


def resolve_rules(rules: Sequence[str] | None, chart_type: ChartType) -> tuple[str, ...]:
    """The rule ids to run; run charts have no sigma, so they take only sigma-free rules."""
    if rules is None:
        return RUN_CHART_RULES if chart_type == "run" else DEFAULT_RULES
    ids = tuple(dict.fromkeys(rules))
    unknown = [r for r in ids if r not in RULES]
    if unknown:
        raise ConfigError(
            f"Unknown detection rule {unknown[0]!r}",
            where="rules",
            hint=f"Use any of: {', '.join(RULES)}",
        )
    if chart_type == "run":
        needs = [r for r in ids if RULES[r].needs_sigma]
        if needs:
            raise ConfigError(
                f"Rule {needs[0]!r} needs control limits, which a run chart does not have",
                where="rules",
                hint="Use we4, anhoej_runs or anhoej_crossings on a run chart",
            )
    return ids


def _limits(
    chart_type: ChartType,
    x: np.ndarray,
    size: np.ndarray | None,
    spec: PhaseSpec,
    min_points: int,
) -> PhaseLimits:
    return phase_limits(
        chart_type,
        x,
        size,
        spec.start,
        spec.end,
        spec.basis,
        min_points=min_points,
        baseline=spec.baseline,
    )


def choose(
    x: np.ndarray,
    size: np.ndarray | None,
    metric_kind: str | None,
    specs: list[PhaseSpec],
    min_points: int,
    *,
    observed: np.ndarray | None = None,
) -> tuple[ChartType, str]:
    """The chart for a metric kind, and the sentence that says why.

    ``x`` is what the limits will be computed from (seasonally adjusted, when a pattern is known);
    ``observed`` the values as measured, checked against the chart's range.
    """
    family = {"proportion": "p", "rate": "u"}.get(metric_kind or "")
    if family and size is None:
        return "xmr", (f"A {metric_kind} without subgroup sizes: XmR chart, which needs no sizes.")
    if not family or size is None:
        what = f"A {metric_kind} measure" if metric_kind else "No metric kind given"
        return "xmr", f"{what}: XmR chart, which fits any series of one value per period."
    plain: ChartType = "p" if family == "p" else "u"
    _check_data(plain, x if observed is None else observed, size)
    noun = "proportion with a subgroup size" if family == "p" else "rate with an exposure"
    basic = "binomial" if family == "p" else "Poisson"
    sigma_z, outside, total = _dispersion(plain, x, size, specs, min_points)
    if sigma_z is None:
        return plain, f"A {noun} per period: {_TITLES[plain]}."
    if sigma_z > OVERDISPERSION_SIGMA_Z or outside > total / 2:
        laney: ChartType = "laney-p" if family == "p" else "laney-u"
        return laney, (
            f"A {noun} per period, but the periods vary {sigma_z:.1f} times more than "
            f"{basic} variation alone explains (σz = {sigma_z:.2f}; {outside} of {total} points "
            f"outside ordinary {plain} limits), as is usual with large subgroups: {_TITLES[laney]}."
        )
    return plain, (
        f"A {noun} per period: {_TITLES[plain]}, whose limits widen for small periods and narrow "
        f"for large ones ({basic} variation explains the spread, σz = {sigma_z:.2f})."
    )


def _dispersion(
    plain: ChartType,
    x: np.ndarray,
    size: np.ndarray,
    specs: list[PhaseSpec],
    min_points: int,
) -> tuple[float | None, int, int]:
    """Largest σ_z over phases with limits, and points outside ordinary limits / usable points."""
    from salesflow.spc.limits import laney_sigma_z

    worst: float | None = None
    outside = total = 0
    for spec in specs:
        lim = _limits(plain, x, size, spec, min_points)
        if not lim.phase.sufficient:
            continue
        b0, b1 = spec.basis
        sz = laney_sigma_z(x[b0:b1], size[b0:b1], lim.phase.center or 0.0, proportion=plain == "p")
        worst = sz if worst is None else max(worst, sz)
        seg = x[spec.start : spec.end]
        ok = ~np.isnan(seg)
        outside += int(np.sum((seg[ok] > lim.ucl[ok]) | (seg[ok] < lim.lcl[ok])))
        total += int(ok.sum())
    return worst, outside, total


def _assemble(
    chart_type: ChartType,
    reason: str,
    x: np.ndarray,
    size: np.ndarray | None,
    limits: list[PhaseLimits],
    rule_ids: tuple[str, ...],
    min_points: int,
) -> ChartResult:
    arrays = {k: np.full(x.shape, np.nan) for k in ("center", "lcl", "ucl", "sigma")}
    signals: list[Signal] = []
    for lim in limits:
        a, b = lim.phase.start, lim.phase.end
        for key, arr in arrays.items():
            arr[a:b] = getattr(lim, key)
        if lim.phase.sufficient:
            signals.extend(detect(_segment(x, arrays, a, b), rule_ids))
    mr = None
    if chart_type == "xmr":
        mr = moving_ranges(x)
        mr[[lim.phase.start for lim in limits if lim.phase.start < x.size]] = np.nan
    messages = [lim.phase.message for lim in limits if lim.phase.message]
    signals.sort(key=lambda s: (s.index, rule_ids.index(s.rule), s.direction or ""))
    return ChartResult(
        type=chart_type,
        reason=reason,
        values=x,
        n=size,
        phases=tuple(lim.phase for lim in limits),
        signals=tuple(signals),
        min_points=min_points,
        rules=rule_ids,
        moving_range=mr,
        message=" ".join(dict.fromkeys(messages)) or None,
        **arrays,
    )


def _segment(x: np.ndarray, arrays: dict[str, np.ndarray], a: int, b: int) -> Segment:
    ok = ~np.isnan(x[a:b])
    idx = np.arange(a, b)[ok]
    return Segment(
        index=idx,
        value=x[idx],
        center=arrays["center"][idx],
        sigma=arrays["sigma"][idx],
        lcl=arrays["lcl"][idx],
        ucl=arrays["ucl"][idx],
    )
