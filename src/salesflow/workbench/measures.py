"""A UDR binding or an improvement measure, computed from the workspace's sales data.

A binding names a catalog metric with one value per filter, parameters, a period, optionally a
season, and the bad direction (see :mod:`salesflow.appdb.bindings` for the stored shape).
Computing it gives the metric's series of **complete** periods only: a period counts once it ended
by the workspace's as-of moment (the data's latest timestamp by default, not today; see
:mod:`salesflow.metrics.asof`) and, for a cohort metric, once its cohort has matured — so neither
the month still running nor the deals that have not had time to win make a verdict.

A season (``Q4``, ``Nov-Dec``; :mod:`salesflow.metrics.seasons`) keeps only the periods in those
parts of the year, and the chart is drawn over them alone: Q4 is compared with other years' Q4s,
not with the rest of the year.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from salesflow.errors import ConfigError, SalesflowError
from salesflow.workbench.verdict import PLURAL, format_value

if TYPE_CHECKING:
    from salesflow.metrics.base import Metric
    from salesflow.metrics.charted import Charted
    from salesflow.metrics.results import Series
    from salesflow.workbench.verdict import Verdict
    from salesflow.workspace import Workspace

__all__ = [
    "Measured",
    "bad_when",
    "binding_from_options",
    "complete_periods",
    "compute",
    "describe",
    "parse_pairs",
    "parse_threshold",
    "season_label",
    "threshold_input",
    "unit_of",
]

UNIT_WORDS = {"opportunities": "deals"}  # a metric's unit as a sales leader says it


@dataclass(frozen=True)
class Measured:
    """The charted series of complete periods, and the incomplete periods left out."""

    charted: Charted
    dropped: list[str]
    as_of: datetime
    problem: str | None = None  # why no chart could be drawn (e.g. a baseline of one period)
    not_judged: str | None = None  # "March 2026 is still running and is not judged."
    shown: Series | None = None  # every period, the running and maturing ones too (to draw)

    @property
    def series(self) -> Series:
        return self.charted.series

    def stamp(self, verdict: Verdict) -> Verdict:
        """The verdict with what it was judged on: the periods left out, why, and the as-of
        moment; the sentence says which periods were not judged."""
        verdict.values["incomplete_periods_left_out"] = self.dropped
        verdict.values["as_of"] = self.as_of.isoformat()
        verdict.values["not_judged"] = self.not_judged
        if not self.not_judged:
            return verdict
        chart = verdict.chart
        if chart is not None and self.shown is not None:
            chart = replace(self.charted, series=self.shown).to_dict()  # unjudged drawn too
        sentence = verdict.sentence
        if self.not_judged not in sentence:
            sentence = f"{sentence} {self.not_judged}"
        return replace(verdict, sentence=sentence, chart=chart)


def parse_threshold(
    text: str | float | None, metric: Metric | None = None, *, what: str = "Threshold"
) -> float | None:
    """A threshold or target in the metric's unit; None stays None.

    Metrics in % are fractions: ``"30%"`` and ``0.3`` are both 0.30, and a bare number above 1
    is refused (``15`` would mean 1500 %). Other metrics take a plain number in their unit
    (``"7"`` days); a ``%`` on them is refused rather than silently divided by 100.
    """
    if text is None:
        return None
    value, percent = _number(text, what)
    if metric is None:
        return value / 100 if percent else value
    if metric.unit != "%":
        if percent:
            unit = UNIT_WORDS.get(metric.unit, metric.unit)
            raise ConfigError(
                f"{what} {text!r} for {metric.title} has a %, but {metric.title} is in {unit}",
                hint=f"Write the number of {unit}, like {value:g}",
            )
        return value
    if percent:
        return value / 100
    if abs(value) > 1:
        raise ConfigError(
            f"{what} {value:g} for {metric.title} would be {value * 100:,.0f} %",
            hint=f"Did you mean {value:g}% ({value / 100:g})? {metric.title} is measured as a "
            f"fraction: write {value:g}% or {value / 100:g}",
        )
    return value


def _number(text: str | float, what: str) -> tuple[float, bool]:
    """The finite number in ``text`` and whether it ended in ``%`` (``"1,500"`` is 1500)."""
    import math

    raw = str(text).strip().replace(",", "")
    percent = raw.endswith("%")
    try:
        value = float(raw.rstrip("%").strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ConfigError(
            f"{what} {text!r} is not a number",
            hint="Write it like 0.30, 30% (for a share) or 7 (in the metric's unit)",
        )
    return value, percent


def parse_pairs(pairs: Iterable[str], *, option: str) -> dict[str, str]:
    """``["stage=Proposal"]`` → ``{"stage": "Proposal"}``; a binding takes one value per name."""
    from salesflow.metrics.filters import parse_pairs as parse_many

    out: dict[str, str] = {}
    for key, values in parse_many(pairs, option=option).items():
        if len(values) > 1:
            raise ConfigError(
                f"{option} {key} is given {len(values)} times",
                hint=f"A measure takes one value per {option}; use a custom metric for 'either'",
            )
        out[key] = values[0]
    return out


def binding_from_options(
    *,
    metric: str,
    filters: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    period: str = "month",
    season: str | None = None,
    bad_if: str,
    threshold: str | float | None = None,
    settings: Any = None,
) -> dict[str, Any]:
    """The stored binding document; the metric must exist in the catalog."""
    from salesflow.metrics import get

    found = get(metric, settings)
    value = parse_threshold(threshold, found)
    return {
        "metric": metric,
        "filters": dict(filters or {}),
        "params": dict(params or {}),
        "period": period,
        "season": season_label(season, period),
        "bad_if": bad_if,
        "threshold": value,
        "mode": "threshold" if value is not None else "signal",
    }


def season_label(text: str | None, period: str = "month") -> str | None:
    """The season as stored (``"q4"`` → ``"Q4"``), checked against the period; None when absent."""
    from salesflow.metrics.seasons import parse_season

    season = parse_season(text)
    if season is None:
        return None
    season.check_period(period)
    return season.label


def describe(binding: Mapping[str, Any], settings: Any = None, *, with_period: bool = True) -> str:
    """The measure in words: ``Win rate (region = EMEA), per month``, or with a season
    ``Forecast bias, Q4 months only`` (``Forecast bias in Q4`` without the period)."""
    from salesflow.metrics import get

    try:
        title = get(binding["metric"], settings).title
    except SalesflowError:  # a custom metric removed from salesflow.toml still gets a name
        title = binding["metric"]
    named = {**binding.get("filters", {}), **binding.get("params", {})}
    where = f" ({', '.join(f'{k} = {v}' for k, v in named.items())})" if named else ""
    period, season = binding.get("period") or "month", binding.get("season")
    if season and with_period:
        return f"{title}{where}, {season} {PLURAL[period]} only"
    if season:
        return f"{title}{where} in {season}"
    per = f", per {period}" if with_period else ""
    return f"{title}{where}{per}"


def complete_periods(series: Series, as_of: date | datetime) -> tuple[Series, list[str]]:
    """Keep the complete periods — ended by ``as_of`` and, for a cohort metric, matured — and
    return the labels of the running and maturing ones left out."""
    from salesflow.metrics.asof import as_moment, period_end

    moment = as_moment(as_of)
    keep, dropped = [], []
    for point in series.points:
        done = point.status == "complete" and period_end(point.period, series.period) <= moment
        (keep if done else dropped).append(point)
    return replace(series, points=keep), [p.period.isoformat() for p in dropped]


def compute(
    workspace: Workspace,
    binding: Mapping[str, Any],
    *,
    as_of: date | datetime | None = None,
    baseline: tuple[date, date] | None = None,
) -> Measured:
    """The binding's metric per period, complete in-season periods only, on its behaviour chart."""
    from salesflow.metrics import series
    from salesflow.metrics.asof import as_moment, resolve_as_of
    from salesflow.metrics.charted import chart_series
    from salesflow.metrics.seasons import in_season, parse_season, seasonal

    # a given moment was checked where the user gave it (--as-of); the default is the data's end
    day = resolve_as_of(workspace.settings, workspace.data) if as_of is None else as_moment(as_of)
    season = parse_season(binding.get("season"))
    raw = series(
        workspace.data,
        workspace.settings,
        binding["metric"],
        period=binding.get("period") or "month",
        filters=binding.get("filters") or None,
        params=binding.get("params") or None,
        as_of=day,
    )
    shown = in_season(raw, season)
    complete, dropped = complete_periods(shown, day)
    words = shown.not_judged()
    try:
        charted = chart_series(complete, workspace.settings, baseline=baseline)
    except ConfigError as exc:
        if baseline is None:
            raise
        none = chart_series(complete, workspace.settings, chart="none")
        return Measured(seasonal(none, season), dropped, day, exc.message, words, shown)
    return Measured(seasonal(charted, season), dropped, day, not_judged=words, shown=shown)


def unit_of(binding: Mapping[str, Any], settings: Any = None) -> str:
    """The unit of a binding's metric as a sales leader says it ("" when it is gone)."""
    from salesflow.metrics import get

    try:
        unit = get(binding["metric"], settings).unit
    except SalesflowError:  # a custom metric removed from salesflow.toml: the bare number
        unit = ""
    return UNIT_WORDS.get(unit, unit)


def bad_when(binding: Mapping[str, Any], settings: Any = None) -> str:
    """Which way is bad, the threshold in the metric's unit as its chart shows it:
    ``bad when below 40 %`` (stored as 0.4), or ``bad when a signal shows it going down``."""
    above = binding.get("bad_if") == "above"
    threshold = binding.get("threshold")
    if threshold is None:
        return f"bad when a signal shows it going {'up' if above else 'down'}"
    shown = format_value(threshold, unit_of(binding, settings))
    return f"bad when {'above' if above else 'below'} {shown}"


def threshold_input(binding: Mapping[str, Any], settings: Any = None) -> str:
    """The threshold as a manager types it back (``40%``, ``7``); "" when there is none."""
    threshold = binding.get("threshold")
    if threshold is None:
        return ""
    if unit_of(binding, settings) == "%":
        return f"{threshold * 100:g}%"
    return f"{threshold:g}"
