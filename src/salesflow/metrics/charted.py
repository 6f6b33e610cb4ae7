"""A metric's series on a process behaviour chart: the JSON document and the Plotly figure.

The chart maths live in :mod:`salesflow.spc`; this module picks the chart from the metric's kind,
turns baseline and phase dates into point indices, and joins points, limits and signals into the
``salesflow metric --json`` document.
"""

from __future__ import annotations

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

__all__ = ["CHART_CHOICES", "Charted", "chart_series", "write_breakdown_html", "write_html"]

CHART_CHOICES = ("auto", "xmr", "p", "u", "laney-p", "laney-u", "run", "none")


@dataclass(frozen=True)
class Charted:
    series: Series
    result: ChartResult | None

    @property
    def labels(self) -> list[str]:
        return [p.period.isoformat() for p in self.series.points]

    def to_dict(self) -> dict[str, Any]:
        """The series JSON: metric, period, unit, points, chart and signals. The chart is drawn
        over the complete points only; its per-point lists hold null for the others."""
        doc = self.series.to_dict()
        if self.result is None:
            doc.update(chart=None, signals=[])
        else:
            doc.update(self.result.to_dict(self.labels))
            _pad(doc["chart"], len(self.series.points))
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
        if not signals:
            return "No signals: the variation is routine; judge the system, not single periods."
        first = self.result.explain(signals[-1], self.labels)
        return f"{len(signals)} signal(s) of a real change; latest: {first}"


PER_POINT = ("center", "lcl", "ucl", "moving_range")


def _pad(chart: dict[str, Any], count: int) -> None:
    """Per-point lists as long as the points: null where a point is not judged."""
    for key in PER_POINT:
        value = chart.get(key)
        if isinstance(value, list) and len(value) < count:
            chart[key] = value + [None] * (count - len(value))


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
) -> Charted:
    """Chart a metric series; ``auto`` follows the metric's default chart, then its kind."""
    from salesflow.spc import chart as spc_chart

    if chart not in CHART_CHOICES:
        raise ConfigError(
            f"Unknown chart {chart!r}", hint=f"Use one of: {', '.join(CHART_CHOICES)}"
        )
    if chart == "none":
        return Charted(series, None)
    metric = get(series.metric, settings)
    kind = metric.chart if chart == "auto" else chart
    judged = replace(series, points=series.points[: series.judged])  # complete points only
    base, phases = _indices(judged, baseline, phase_from or [])
    values = [float("nan") if p.value is None else p.value for p in judged.points]
    sizes = None
    if series.kind in ("proportion", "rate"):
        sizes = [p.denominator if p.denominator is not None else p.n for p in judged.points]
    result = spc_chart(
        values,
        n=sizes,
        kind=kind,
        metric_kind=series.kind,
        baseline=base,
        phase_starts=phases,
        min_points=min_points,
    )
    if chart == "auto" and metric.chart_why:
        result = replace(result, reason=metric.chart_why)
    return Charted(series, result)


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
        for name, arr, dash in (
            ("centre", r.center, "solid"),
            ("lower limit", r.lcl, "dash"),
            ("upper limit", r.ucl, "dash"),
        ):
            fig.add_scatter(
                x=x,
                y=[None if v != v else float(v) for v in arr],
                mode="lines",
                name=name,
                line={"dash": dash, "shape": "hvh"},
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


def write_breakdown_html(result: Breakdown, path: Path, *, title: str | None = None) -> Path:
    """A bar per group, with its subgroup size on hover (plotly.js embedded, no CDN)."""
    import plotly.graph_objects as go

    keys = [str(g.key) for g in result.groups]
    fig = go.Figure(
        go.Bar(
            x=keys,
            y=[g.value for g in result.groups],
            customdata=[g.n for g in result.groups],
            hovertemplate="%{x}: %{y}<br>n=%{customdata}<extra></extra>",
        )
    )
    title = title or f"{result.metric} by {result.by}"
    return _write_html(fig, path, title=title, y=result.unit, x=result.by)


def _write_html(fig: Any, path: Path, *, title: str, y: str, x: str) -> Path:
    """One self-contained page (plotly.js embedded, so it opens offline)."""
    fig.update_layout(title=title, yaxis_title=y, xaxis_title=x, template="plotly_white")
    fig.write_html(str(path), include_plotlyjs=True, full_html=True)
    return path
