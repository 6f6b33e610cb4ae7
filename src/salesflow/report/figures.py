"""The report's figures: pure Plotly builders over the API's documents, sized for print.

Every function takes plain dictionaries (the ``--json`` documents) and returns a Plotly figure;
nothing here reads a workspace. The shared chart drawing lives in :mod:`salesflow.api.figures`.
"""

from __future__ import annotations

import textwrap
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
    "theme_chart",
    "udr_chart",
]

HEIGHT = 215  # a chart beside its words (UDRs, improvements): keeps its legend
SMALL = 195  # two charts per row: no legend, the report's key explains the lines
KEYED = {
    "value",
    "centre line",
    "lower limit",
    "upper limit",
    "signal",
    "not judged yet",
}  # in the key
TITLE_CHARS = 44  # what fits on one line of a half-page chart's title


def _sized(fig: go.Figure, height: int = SMALL, *, legend: bool = False) -> go.Figure:
    """Fit a chart to half an A4 page: compact margins, a title that wraps instead of being cut."""
    title = fig.layout.title.text
    lines = textwrap.wrap(title, TITLE_CHARS) if title else []
    fig.update_layout(
        height=height + 16 * max(len(lines) - 1, 0),
        autosize=True,
        showlegend=legend,
        font={"size": 11},
        margin={"l": 48, "r": 12, "t": 4 + 32 * len(lines), "b": 28},
        legend={"font": {"size": 10}, "y": -0.16},
    )
    if lines:
        fig.update_layout(title={"text": "<br>".join(lines), "font": {"size": 13}, "yref": "paper",
                                 "y": 1, "yanchor": "bottom", "pad": {"b": 6 + 16 * (len(lines) - 1)}})  # fmt: skip
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    fig.for_each_trace(lambda tr: tr.update(showlegend=False) if tr.name in KEYED else None)
    return fig


def udr_chart(udr: Mapping[str, Any]) -> go.Figure:
    """A UDR's measure on its behaviour chart, with the manager's threshold when there is one."""
    chart = udr["verdict"]["chart"]
    threshold = (udr.get("binding") or {}).get("threshold")
    chart = base.control_chart(chart, title=udr.get("measure"), threshold=threshold)
    return _sized(chart, HEIGHT, legend=True)


def improvement_chart(improvement: Mapping[str, Any]) -> go.Figure:
    """Before and after the change: baseline shaded, its limits held after it, target dotted."""
    return _sized(before_after(improvement), HEIGHT, legend=True)


def metric_chart(doc: Mapping[str, Any], title: str) -> go.Figure:
    """One metric per period on its chart (flow, quality and forecast sections)."""
    return _sized(base.control_chart(doc, title=title))


def comparison_chart(doc: Mapping[str, Any], title: str) -> go.Figure:
    """A ``--by`` breakdown: each group a dot in its own limits, red when outside."""
    return _sized(base.breakdown_bars(doc, title=title), SMALL)


def pipeline_chart(doc: Mapping[str, Any]) -> go.Figure:
    """The quarter's pipeline waterfall: start, what came in and went out, end."""
    fig = base.pipeline_waterfall(doc, title=f"Pipeline {doc['period']}")
    names = [textwrap.fill(str(x), 7).replace("\n", "<br>") for x in fig.data[0].x]
    fig.update_traces(x=names)
    fig.update_xaxes(tickangle=0, tickfont={"size": 8})
    return _sized(fig, SMALL - 10)


def theme_chart(themes: Sequence[Mapping[str, Any]]) -> go.Figure:
    """Uncategorised requests per theme, largest on top, each bar labelled with the cumulative
    share (a Pareto read downwards): horizontal, so theme names keep their whole words."""
    import plotly.graph_objects as go

    rows = sorted(themes, key=lambda t: -t["count"])
    total = sum(t["count"] for t in rows) or 1
    shares = [sum(t["count"] for t in rows[: i + 1]) / total for i in range(len(rows))]
    fig = go.Figure(
        go.Bar(
            y=[str(t["label"]) for t in rows],
            x=[t["count"] for t in rows],
            orientation="h",
            text=[f"{s:.0%} so far" for s in shares],
            textposition="auto",
            marker_color=base.COLORS["line"],
            hovertemplate="%{y}: %{x:,} requests (%{text})<extra></extra>",
        )
    )
    fig.update_layout(
        title={"text": "Uncategorised requests by theme", "x": 0},
        template="plotly_white",
        font={"family": base.FONT, "color": base.COLORS["ink"]},
    )
    fig.update_yaxes(autorange="reversed")
    return _sized(fig)


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
    return _sized(fig)
