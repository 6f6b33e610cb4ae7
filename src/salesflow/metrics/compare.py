"""Comparing people and teams fairly: a breakdown's groups on analysis-of-means limits.

Every group gets its own limits around the overall value (:mod:`salesflow.spc.anom`), wide for a
small group and narrow for a large one. Groups inside are "within the system": their differences
are what groups of that size show by chance, and naming a best or worst among them would be
ranking noise. Only groups outside are named, with the size of their difference.

Which analysis fits follows from the metric's aggregation: shares of counted things (win rate)
→ exact proportion limits; medians (cycle time) → order-statistic limits; means → Šidák-adjusted
t limits; rates that are ratios of sums (requests per order, forecast error) → t limits from the
rows' own spread (requests cluster on some orders, so Poisson limits would be too narrow). Counts and sums are
not compared: groups of different size or time are not held to one rate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from salesflow.metrics.base import mean_agg, median_agg, ratio_agg
from salesflow.metrics.results import Group, group_column

if TYPE_CHECKING:
    from salesflow.metrics.base import Metric
    from salesflow.spc.anom import Comparison

__all__ = ["ALPHA", "NOT_COMPARED", "compare", "method_for", "sample_columns"]

ALPHA = 0.05
NOT_COMPARED = ("stage",)  # stages do different work: they are not held to one value
TITLES = {
    "proportion": "analysis of means for proportions (exact hypergeometric limits)",
    "median": "analysis of medians (exact order-statistic limits)",
    "mean": "analysis of means (Šidák-adjusted t limits)",
    "ratio": "analysis of means for a ratio (Šidák-adjusted t limits)",
}


def method_for(metric: Metric, by: str) -> tuple[str | None, str]:
    """The analysis that fits the metric, or None and why there is none."""
    if by in NOT_COMPARED:
        return None, f"Each {by} does different work, so they are not held to one value."
    if metric.aggregate is ratio_agg and metric.kind == "proportion":
        return "proportion", ""
    if metric.aggregate is median_agg:
        return "median", ""
    if metric.aggregate is mean_agg:
        return "mean", ""
    if metric.kind == "rate" and metric.aggregate in _ratio_aggregates():
        return "ratio", ""  # requests cluster on some orders: Poisson limits would be too narrow
    return None, (
        f"{metric.title} is a {metric.kind} that differs with each group's size and time, "
        "so groups are shown side by side without limits."
    )


def _ratio_aggregates() -> tuple[Any, ...]:
    from salesflow.metrics.base import rows_ratio_agg
    from salesflow.metrics.forecasting import forecast_agg

    return (ratio_agg, rows_ratio_agg, forecast_agg)


def sample_columns(metric: Metric, by: str) -> tuple[str, ...]:
    """What the comparison reads per unit row: ``_x`` for medians and means, ``_num`` and
    ``_den`` for ratios, nothing for proportions (the group's counts suffice)."""
    method = method_for(metric, by)[0]
    return {"median": ("_x",), "mean": ("_x",), "ratio": ("_num", "_den")}.get(method or "", ())


def compare(
    metric: Metric,
    by: str,
    groups: Sequence[Group],
    samples: Mapping[Any, Mapping[str, Sequence[float]]] | None = None,
    *,
    alpha: float = ALPHA,
) -> tuple[list[Group], dict[str, Any]]:
    """The groups with their limits and signals, and the comparison in words."""
    method, why = method_for(metric, by)
    if method == "proportion" and not _counted(groups):
        method, why = (
            None,
            f"{metric.title} is a weighted share, not a count of deals: no exact limits.",
        )
    if method is None or len(groups) < 2:
        reason = why or f"There is only one {by}: nothing to compare it with."
        return list(groups), {"method": None, "alpha": alpha, "sentence": reason}
    result = _analyse(method, groups, samples or {}, alpha)
    out = [
        replace(g, lower=_num(result.lower[i]), upper=_num(result.upper[i]),
                signal=result.signal[i])
        for i, g in enumerate(groups)
    ]  # fmt: skip
    return out, _document(metric, by, method, out, result)


def _counted(groups: Sequence[Group]) -> bool:
    """Whether every group's share is whole successes out of whole trials."""
    sides = [v or 0.0 for g in groups for v in (g.numerator, g.denominator)]
    return all(float(v).is_integer() and v >= 0 for v in sides)


def _num(value: float) -> float | None:
    return None if value != value else float(value)


def _analyse(
    method: str,
    groups: Sequence[Group],
    samples: Mapping[Any, Mapping[str, Sequence[float]]],
    alpha: float,
) -> Comparison:
    from salesflow.spc import anom

    if method == "proportion":
        num = [g.numerator or 0.0 for g in groups]
        den = [g.denominator or 0.0 for g in groups]
        return anom.proportions(num, den, alpha=alpha)
    values = [samples.get(g.key, {}) for g in groups]
    if method == "ratio":
        num = [v.get("_num", ()) for v in values]
        return anom.ratios(num, [v.get("_den", ()) for v in values], alpha=alpha)
    analyse = anom.medians if method == "median" else anom.means
    return analyse([v.get("_x", ()) for v in values], alpha=alpha)


def _document(
    metric: Metric, by: str, method: str, groups: list[Group], result: Comparison
) -> dict[str, Any]:
    unit, center, column = metric.unit, result.center, group_column(by, metric.extra)
    differences = [
        {
            column: g.key,
            "signal": g.signal,
            "difference": g.value - center,
            "sentence": _outside_sentence(metric, by, g, center),
        }
        for g in groups
        if g.signal is not None and g.value is not None
    ]
    inside = sum(1 for g in groups if g.signal is None and g.n)
    return {
        "method": method,
        "title": TITLES[method],
        "alpha": result.alpha,
        "per_group_alpha": result.per_group_alpha,
        "center": _num(center),
        "compared": int(sum(1 for g in groups if g.n)),
        "sentence": _inside_sentence(by, inside, len(differences), result.alpha),
        "differences": differences,
        "unit": unit,
    }


def _plural(by: str, count: int) -> str:
    return by if count == 1 else f"{by}s"  # owner, team, segment, source, region, product


def _inside_sentence(by: str, inside: int, outside: int, alpha: float) -> str:
    """The sentence for the groups inside their limits."""
    risk = f"{alpha:.0%} risk of a false alarm across all of them"
    if not outside:
        who = "Every owner is" if by == "owner" else f"Every {by} is"
        return (
            f"{who} within the system: the differences are what groups of these sizes show by "
            f"chance ({risk}). Ranking them would rank noise; improve the system instead."
        )
    if not inside:
        return f"Every {by} is outside its limits: they differ by more than chance ({risk})."
    rest = (
        "everyone else is"
        if by == "owner"
        else f"the other {_plural(by, inside)} " + ("is" if inside == 1 else "are")
    )
    return (
        f"{outside} {_plural(by, outside)} outside the limits; {rest} within the system ({risk})."
    )


def _outside_sentence(metric: Metric, by: str, g: Group, center: float) -> str:
    """A group outside its limits, with the size of its difference."""
    assert g.value is not None
    size = _difference(metric.unit, g.value - center, metric.kind)
    side = g.signal or ""
    if metric.kind == "duration":
        side = "longer" if side == "above" else "shorter"
    limits = f"{_fmt(g.lower, metric.unit)}–{_fmt(g.upper, metric.unit)}"
    return (
        f"{g.key}: {_fmt(g.value, metric.unit)}, {size} {side} the "
        f"{_fmt(center, metric.unit)} of all {by}s — outside the limits "
        f"({limits} for n = {g.n:,})."
    )


def _difference(unit: str, diff: float, kind: str) -> str:
    if unit == "%":
        return f"{abs(diff) * 100:.1f} points"
    if kind == "duration":
        return f"{abs(diff):,.1f} {unit}"
    return f"{abs(diff):,.2f} {unit}".rstrip()


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "%":
        return f"{value:.1%}"
    return f"{value:,.1f} {unit}".rstrip()
