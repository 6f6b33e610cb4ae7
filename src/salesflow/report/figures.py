"""The report's figures: pure Plotly builders over the API's documents, sized for print.

Every function takes plain dictionaries (the ``--json`` documents) and returns a Plotly figure;
nothing here reads a workspace. The shared chart drawing lives in :mod:`salesflow.api.figures`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from salesflow.api import figures as base
from salesflow.api.results import before_after

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = [
    "comparison_chart",
    "improvement_chart",
    "metric_chart",
    "per_order_chart",
    "pipeline_chart",
    "stage_chart",
    "theme_chart",
    "udr_chart",
]

HEIGHT = 300


def _sized(fig: go.Figure, height: int = HEIGHT) -> go.Figure:
    fig.update_layout(height=height, autosize=True)
    return fig


def udr_chart(udr: Mapping[str, Any]) -> go.Figure:
    """A UDR's measure on its behaviour chart, with the manager's threshold when there is one."""
    chart = udr["verdict"]["chart"]
    threshold = (udr.get("binding") or {}).get("threshold")
    return _sized(base.control_chart(chart, title=udr.get("measure"), threshold=threshold))


def improvement_chart(improvement: Mapping[str, Any]) -> go.Figure:
    """Before and after the change: baseline shaded, its limits held after it, target dotted."""
    return _sized(before_after(improvement))


def metric_chart(doc: Mapping[str, Any], title: str) -> go.Figure:
    """One metric per period on its chart (flow, quality and forecast sections)."""
    return _sized(base.control_chart(doc, title=title))


def comparison_chart(doc: Mapping[str, Any], title: str) -> go.Figure:
    """A ``--by`` breakdown: each group a dot in its own limits, red when outside."""
    return _sized(base.breakdown_bars(doc, title=title), 280)


def stage_chart(stages: Sequence[Mapping[str, Any]]) -> go.Figure:
    """Median days deals spend in each stage."""
    return _sized(base.stage_times(stages, title="Median days in each stage"), 280)


def pipeline_chart(doc: Mapping[str, Any]) -> go.Figure:
    """The quarter's pipeline waterfall: start, what came in and went out, end."""
    return _sized(base.pipeline_waterfall(doc, title=f"Pipeline {doc['period']}"), 340)


def theme_chart(themes: Sequence[Mapping[str, Any]]) -> go.Figure:
    """Uncategorised requests per theme, with the cumulative share (Pareto)."""
    return _sized(base.theme_bars(themes, title="Uncategorised requests by theme"), 340)


def per_order_chart(rows: Sequence[Mapping[str, Any]], by: str) -> go.Figure:
    """Requests per won order for each group (segment or deal size)."""
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Bar(
            x=[str(r["name"]) for r in rows],
            y=[r["requests_per_won_order"] for r in rows],
            customdata=[[r["requests"], r["won"]] for r in rows],
            marker_color=base.COLORS["line"],
            hovertemplate="%{x}: %{y:.1f} requests per won order<br>%{customdata[0]} requests, "
            "%{customdata[1]} won orders<extra></extra>",
        )
    )
    fig.update_layout(
        title={"text": f"Requests per won order, by {by}", "x": 0, "font": {"size": 15}},
        template="plotly_white",
        font={"family": base.FONT, "color": base.COLORS["ink"], "size": 12},
        margin={"l": 56, "r": 16, "t": 48, "b": 40},
    )
    return _sized(fig, 280)
