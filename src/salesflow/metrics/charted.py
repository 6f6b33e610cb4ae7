"""A metric's series on a process behaviour chart: the JSON document and the Plotly figure.

The chart maths live in :mod:`salesflow.spc`; this module picks the chart from the metric's kind,
turns baseline and phase dates into point indices, and joins points, limits and signals into the
``salesflow metric --json`` document.

Before charting it looks at the history: a ramp-up at the start of the log
(:mod:`salesflow.spc.rampup`) is drawn but left out of default limits, and a seasonal pattern of
the judged points (:mod:`salesflow.spc.seasonality`) is named and allowed for in the limits, and so
is a steady trend beyond chance (:mod:`salesflow.spc.trend`): the centre line and limits follow it
(regression XmR) instead of calling every late period of a growing series a signal. Only complete
points are judged (a point whose ``status`` says otherwise is drawn only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from salesflow.errors import ConfigError
from salesflow.metrics.registry import get

if TYPE_CHECKING:
    from pathlib import Path

    from salesflow.metrics.results import Breakdown, Series
    from salesflow.settings import Settings
    from salesflow.spc import ChartResult
    from salesflow.spc.seasonality import Seasonality

__all__ = [
    "CHART_CHOICES",
    "Charted",
    "RampUp",
    "chart_series",
    "comparison_traces",
    "group_names",
    "write_breakdown_html",
    "write_html",
]

CHART_CHOICES = ("auto", "xmr", "p", "u", "laney-p", "laney-u", "run", "none")
TREND_CHOICES = ("auto", "on", "off")


@dataclass(frozen=True)
class RampUp:
    """The first periods of the log, while the CRM was being adopted: drawn, never judged."""

    until: date  # the first period after the ramp-up starts here
    periods: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"until": self.until.isoformat(), "periods": self.periods, "reason": self.reason}


@dataclass(frozen=True)
class Charted:
    """A series on its chart, with the seasonal pattern and the ramp-up it found (None if none).

    ``seasonality`` carries its ``sentence`` ("Win rate is higher in the last month of each
    quarter: …"); both sentences are also appended to the chart's reason, where charts are
    explained.
    """

    series: Series
    result: ChartResult | None
    seasonality: Seasonality | None = None
    ramp_up: RampUp | None = None
    seasonality_sentence: str | None = None

    @property
    def labels(self) -> list[str]:
        return [p.period.isoformat() for p in self.series.points]

    def to_dict(self) -> dict[str, Any]:
        """The series JSON: metric, period, unit, points (each with its ``status``), chart,
        signals and seasonality; limits and signals come from the complete points only."""
        doc = self.series.to_dict()
        if self.result is None:
            doc.update(chart=None, signals=[])
        else:
            doc.update(self.result.to_dict(self.labels))
            doc["chart"]["ramp_up"] = self.ramp_up.to_dict() if self.ramp_up else None
        doc["seasonality"] = None
        if self.seasonality is not None:
            doc["seasonality"] = {
                **self.seasonality.to_dict(),
                "sentence": self.seasonality_sentence,
            }
        return doc

    def verdict(self) -> str:
        """One line a sales leader can read: is there a signal, or only routine variation?"""
        words = self._verdict()
        unjudged = self.series.not_judged()
        return f"{words} {unjudged}" if unjudged else words

    def _verdict(self) -> str:
        if self.result is None:
            return "No chart requested."
        if self.result.status != "ok":
            return self.result.message or "Not enough periods for limits yet."
        signals = self.result.signals
        trending = self._trending()
        if not signals:
            routine = (
                "the variation around it is routine" if trending else "the variation is routine"
            )
            return f"{trending}No signals: {routine}; judge the system, not single periods."
        first = self.result.explain(signals[-1], self.labels)
        return f"{trending}{len(signals)} signal(s) of a real change; latest: {first}"

    def _trending(self) -> str:
        """``Trending: growing by about 12 per week; judged around the trend. `` or nothing."""
        line = self.result.trend if self.result is not None else None
        if line is None:
            return ""
        way = "growing" if line.slope > 0 else "shrinking"
        amount = _rate(line.slope, self.series.unit)
        return (
            f"Trending: {way} by about {amount} per {self.series.period}; judged around the trend. "
        )


def _index_from(series: Series, day: date) -> int:
    """Index of the first point on or after ``day``."""
    for i, p in enumerate(series.points):
        if p.period >= day:
            return i
    return len(series.points)


def _indices(series: Series, baseline: tuple[date, date] | None, phase_from: list[date]):
    base = None
    if baseline is not None:
        start, end = baseline
        if end < start:
            raise ConfigError(
                f"--baseline {start}:{end} ends before it starts", hint="Write START:END"
            )
        base = (_index_from(series, start), sum(1 for p in series.points if p.period <= end))
        if base[1] - base[0] < 2:
            raise ConfigError(
                f"--baseline {start}:{end} holds {max(base[1] - base[0], 0)} period(s)",
                hint="Choose a window with several periods of data",
            )
    phases = sorted({_index_from(series, d) for d in phase_from} - {0, len(series.points)})
    return base, phases


def chart_series(
    series: Series,
    settings: Settings | None = None,
    *,
    chart: str = "auto",
    baseline: tuple[date, date] | None = None,
    phase_from: list[date] | None = None,
    min_points: int = 8,
    trend: str = "auto",
) -> Charted:
    """Chart a metric series; ``auto`` follows the metric's default chart, then its kind.

    ``trend``: "auto" follows a trend that is beyond chance, "on" always, "off" never (flat limits).
    """
    from salesflow.spc import chart as spc_chart

    if chart not in CHART_CHOICES:
        raise ConfigError(
            f"Unknown chart {chart!r}", hint=f"Use one of: {', '.join(CHART_CHOICES)}"
        )
    if trend not in TREND_CHOICES:
        raise ConfigError(f"Unknown trend option {trend!r}", hint="Use one of: auto, on, off")
    if chart == "none":
        return Charted(series, None)
    metric = get(series.metric, settings)
    kind = metric.chart if chart == "auto" else chart
    base, phases = _indices(series, baseline, phase_from or [])
    sizes = None
    if series.kind in ("proportion", "rate"):
        sizes = [p.denominator if p.denominator is not None else p.n for p in series.points]
    ramp = _ramp_up(series, explicit=baseline is not None)
    judged = _judged(series, ramp.periods if ramp and baseline is None else 0)
    values = [p.value if ok and p.value is not None else float("nan")
              for p, ok in zip(series.points, judged, strict=True)]  # fmt: skip
    pattern = _seasonality(series, values)
    offset = None
    if pattern is not None:
        offset = [pattern.offset(p.period, series.period) for p in series.points]
    result = spc_chart(
        values,
        n=sizes,
        kind=kind,
        metric_kind=series.kind,
        baseline=base,
        phase_starts=phases,
        min_points=min_points,
        offset=offset,
        trend=trend,
    )
    if chart == "auto" and metric.chart_why:
        result = replace(result, reason=metric.chart_why)
    sentence = (
        pattern.sentence(metric.title, _amount(pattern.effect, series.unit)) if pattern else None
    )
    line = result.trend
    trending = (
        line.sentence(metric.title, _rate(line.slope, series.unit), series.period)
        if line is not None
        else None
    )
    more = [text for text in (sentence, trending, ramp.reason if ramp else None) if text]
    if more:
        result = replace(result, reason=" ".join([result.reason, *more]))
    return Charted(series, result, pattern, ramp, sentence)


def _judged(series: Series, ramp: int) -> list[bool]:
    """Which points may enter limits, rules and the seasonal test: complete ones after a ramp-up.

    A point that says it is not complete (``status`` "running" or "maturing") is drawn only.
    """
    return [
        i >= ramp and getattr(p, "status", "complete") == "complete"
        for i, p in enumerate(series.points)
    ]


def _ramp_up(series: Series, *, explicit: bool) -> RampUp | None:
    """The leading periods with far fewer records than the rest (see :mod:`salesflow.spc.rampup`)."""
    from salesflow.spc.rampup import FRACTION, ramp_up

    points = series.points
    count = ramp_up([p.denominator if p.denominator is not None else p.n for p in points])
    if count == 0:
        return None
    plural = "period" if count == 1 else f"{count} periods"
    left = (
        "judged like the rest, as the baseline was chosen by hand"
        if explicit
        else ("left out of the limits")
    )
    reason = (
        f"Ramp-up: the first {plural} (to {points[count - 1].period.isoformat()}) hold fewer than "
        f"{FRACTION:.0%} of the records of a usual period, as while a CRM is being adopted; "
        f"they are drawn but {left}."
    )
    return RampUp(points[count].period, count, reason)


def _seasonality(series: Series, values: list[float]) -> Seasonality | None:
    """The seasonal pattern of the judged points, or None (see :mod:`salesflow.spc.seasonality`)."""
    from salesflow.spc.seasonality import detect

    return detect(values, [p.period for p in series.points], series.period)


def _amount(effect: float, unit: str) -> str:
    """``+0.28 (+28 percentage points)`` for a share, ``-3.1 days`` otherwise."""
    if unit == "%":
        return f"{effect:+.2f} ({effect * 100:+.0f} percentage points)"
    text = f"{effect:+,.0f}" if abs(effect) >= 100 else f"{effect:+.3g}"
    return f"{text} {unit}".strip() if unit not in ("rows", "") else text


def _rate(slope: float, unit: str) -> str:
    """How much a trend adds per period, unsigned: ``2.67 requests``, ``1.5 percentage points``."""
    if unit == "%":
        return f"{abs(slope) * 100:.2g} percentage points"
    return _amount(abs(slope), unit).lstrip("+")


def write_html(charted: Charted, path: Path, *, title: str | None = None) -> Path:
    """An interactive chart with plotly.js embedded from the installed package (no CDN)."""
    import plotly.graph_objects as go

    s, r = charted.series, charted.result
    x = [p.period for p in s.points]
    fig = go.Figure()
    judged = s.judged
    fig.add_scatter(
        x=x[:judged],
        y=s.values[:judged],
        mode="lines+markers",
        name=s.metric,
        customdata=s.sizes[:judged],
        hovertemplate="%{x}: %{y}<br>n=%{customdata}<extra></extra>",
    )
    if judged < len(x):  # running and maturing periods: hollow, grey, labelled, never judged
        fig.add_scatter(
            x=x[judged:],
            y=s.values[judged:],
            mode="markers+text",
            name="not judged yet",
            text=[p.status for p in s.points[judged:]],
            textposition="top center",
            marker={"symbol": "circle-open", "size": 9, "color": "#7b8794"},
        )
    if r is not None and r.status == "ok":
        centre, shape = ("trend", "linear") if r.trend is not None else ("centre", "hvh")
        for name, arr, dash in (
            (centre, r.center, "solid"),
            ("lower limit", r.lcl, "dash"),
            ("upper limit", r.ucl, "dash"),
        ):
            fig.add_scatter(
                x=x,
                y=[None if v != v else float(v) for v in arr],
                mode="lines",
                name=name,
                line={"dash": dash, "shape": shape},
            )
        hits = sorted({i for sig in r.signals for i in sig.points})
        fig.add_scatter(
            x=[x[i] for i in hits],
            y=[s.values[i] for i in hits],
            mode="markers",
            name="signal",
            marker={"size": 12, "color": "red", "symbol": "circle-open"},
        )
    title = title or f"{s.metric} per {s.period}: {charted.verdict()}"
    return _write_html(fig, path, title=title, y=s.unit, x=s.period)


LINE, CENTRE, SIGNAL = "#2f6fb0", "#52606d", "#d64545"


def group_names(doc: Mapping[str, Any]) -> list[str]:
    """The groups' names, read from the document's ``column`` (``owner``, ``team``…)."""
    column = doc["column"]
    return [str(g[column]) for g in doc["groups"]]


def comparison_traces(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Plain Plotly traces of a breakdown: with analysis-of-means limits, each group's limits as
    a grey band, the overall value as a line and each group as a dot (red when outside); without
    limits, plain bars. Shared by the notebook, the report and the web app."""
    groups, x = doc["groups"], group_names(doc)
    comparison = doc.get("comparison") or {}
    if comparison.get("method") is None:
        return [{"type": "bar", "x": x, "y": [g["value"] for g in groups], "name": doc.get("unit"),
                 "customdata": [g.get("n") for g in groups], "marker": {"color": LINE},
                 "hovertemplate": "%{x}: %{y}<br>n = %{customdata}<extra></extra>"}]  # fmt: skip
    low = [g["lower"] for g in groups]
    band = [None if lo is None else g["upper"] - lo for g, lo in zip(groups, low, strict=True)]
    centre = comparison["center"]
    colors = [SIGNAL if g["signal"] else LINE for g in groups]
    return [
        {"type": "bar", "x": x, "y": band, "base": low, "name": "within the system (limits)",
         "marker": {"color": "rgba(123, 135, 148, 0.22)"}, "width": 0.55, "hoverinfo": "skip"},
        {"type": "scatter", "mode": "lines", "x": x, "y": [centre] * len(x), "name": "everyone",
         "line": {"color": CENTRE, "width": 1.3, "shape": "hvh"}, "hoverinfo": "skip"},
        {"type": "scatter", "mode": "markers", "x": x, "y": [g["value"] for g in groups],
         "name": doc.get("column", "group"), "customdata": [g.get("n") for g in groups],
         "marker": {"color": colors, "size": 10, "line": {"color": "#ffffff", "width": 1}},
         "hovertemplate": "%{x}: %{y}<br>n = %{customdata}<extra></extra>"},
    ]  # fmt: skip


def write_breakdown_html(result: Breakdown, path: Path, *, title: str | None = None) -> Path:
    """Each group on its analysis-of-means limits (a dot in a grey band, red when outside), or
    bars when the metric is not compared; plotly.js embedded, no CDN."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for trace in comparison_traces(result.to_dict()):
        fig.add_trace(trace)
    fig.update_layout(barmode="overlay")
    title = title or f"{result.metric} by {result.by}"
    return _write_html(fig, path, title=title, y=result.unit, x=result.by)


def _write_html(fig: Any, path: Path, *, title: str, y: str, x: str) -> Path:
    """One self-contained page (plotly.js embedded, so it opens offline)."""
    fig.update_layout(title=title, yaxis_title=y, xaxis_title=x, template="plotly_white")
    fig.write_html(str(path), include_plotlyjs=True, full_html=True)
    return path
