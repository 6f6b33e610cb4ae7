"""Plotly figures from salesflow's JSON documents: pure functions, no I/O, no workspace.

Every builder takes the same dictionaries the ``--json`` output holds (a metric series with its
chart, a breakdown, a process map, driver effects, request themes), so a notebook, the report and
the web app draw the same picture from the same numbers.

>>> doc = {"metric": "wins", "period": "month", "unit": "rows", "points": [
...     {"period": "2025-01-01", "value": 3, "n": 3}, {"period": "2025-02-01", "value": 5, "n": 5}],
...     "chart": None, "signals": []}
>>> len(control_chart(doc).data)
1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = [
    "COLORS",
    "activity_mix",
    "activity_mix_data",
    "breakdown_bars",
    "control_chart",
    "driver_effects",
    "pipeline_waterfall",
    "stage_times",
    "stream_map",
    "theme_bars",
    "unjudged",
]

COLORS = {
    "ink": "#1f2933",
    "muted": "#7b8794",
    "line": "#2f6fb0",
    "limit": "#c2410c",
    "centre": "#52606d",
    "signal": "#d64545",
    "good": "#2f855a",
    "band": "rgba(47, 111, 176, 0.08)",
    "target": "#2f855a",
    "threshold": "#b7791f",
}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"


def _layout(fig: go.Figure, *, title: str | None, unit: str, height: int = 320) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}} if title else None,
        template="plotly_white",
        font={"family": FONT, "color": COLORS["ink"], "size": 12},
        height=height,
        margin={"l": 56, "r": 16, "t": 48 if title else 16, "b": 40},
        legend={"orientation": "h", "y": -0.18, "x": 0},
        hovermode="x unified",
    )
    if unit == "%":
        fig.update_yaxes(tickformat=".0%")
    elif unit not in ("", "rows"):
        fig.update_yaxes(title_text=unit)
    return fig


def _per_point(value: Any, count: int) -> list[float | None]:
    """A limit given once (XmR, one phase) or per point (p, u, phases) as one value per point."""
    if value is None:
        return [None] * count
    if isinstance(value, list):
        return [None if v is None else float(v) for v in value]
    return [float(value)] * count


UNJUDGED_WORDS = {"running": "running", "maturing": "still maturing"}


def unjudged(points: Sequence[Mapping[str, Any]]) -> tuple[list[Any], dict[str, Any] | None]:
    """The values of the complete points (None elsewhere) for the judged line, and one plain
    Plotly trace drawing the running and maturing points hollow, grey and labelled, so nobody
    reads them as data. Shared by the web pages and the report."""
    judged = [p["value"] if p.get("status", "complete") == "complete" else None for p in points]
    rest = [p for p in points if p.get("status", "complete") != "complete"]
    if not rest:
        return judged, None
    trace = {
        "type": "scatter",
        "mode": "markers+text",
        "name": "not judged yet",
        "x": [p["period"] for p in rest],
        "y": [p["value"] for p in rest],
        "text": [UNJUDGED_WORDS.get(p["status"], p["status"]) for p in rest],
        "textposition": "top center",
        "textfont": {"color": COLORS["muted"], "size": 10},
        "marker": {"symbol": "circle-open", "size": 9, "color": COLORS["muted"],
                   "line": {"width": 2}},
        "hovertemplate": "%{y} (%{text}: not judged)<extra></extra>",
    }  # fmt: skip
    return judged, trace


def control_chart(
    doc: Mapping[str, Any],
    *,
    title: str | None = None,
    threshold: float | None = None,
    target: float | None = None,
    start: str | None = None,
    baseline: tuple[str, str] | None = None,
) -> go.Figure:
    """A process behaviour chart from a ``salesflow metric --json`` document.

    ``threshold`` (a UDR's line in the sand) and ``target`` (an improvement's goal) are drawn as
    dotted lines; ``start`` marks the day a change began and ``baseline`` shades the window the
    limits were computed from.
    """
    import plotly.graph_objects as go

    points = doc["points"]
    x = [p["period"] for p in points]
    y, others = unjudged(points)
    unit = doc.get("unit", "")
    fig = go.Figure()
    if baseline is not None:
        fig.add_vrect(x0=baseline[0], x1=baseline[1], fillcolor=COLORS["band"], line_width=0,
                      annotation_text="baseline", annotation_position="top left")  # fmt: skip
    fig.add_scatter(
        x=x, y=y, mode="lines+markers", name="value",
        line={"color": COLORS["line"], "width": 2}, marker={"size": 6},
        customdata=[p.get("n") for p in points],
        hovertemplate="%{y}<br>n=%{customdata}<extra></extra>",
    )  # fmt: skip
    if others is not None:
        fig.add_scatter(**{k: v for k, v in others.items() if k != "type"})
    chart = doc.get("chart") or {}
    if chart.get("status") == "ok":
        _limits(fig, x, chart)
    flagged = sorted({i for s in doc.get("signals", []) for i in s.get("points", [])})
    if flagged:
        fig.add_scatter(
            x=[x[i] for i in flagged], y=[y[i] for i in flagged], mode="markers", name="signal",
            marker={"size": 13, "color": COLORS["signal"], "symbol": "circle-open",
                    "line": {"width": 2}},
            hoverinfo="skip",
        )  # fmt: skip
    for value, name, color in ((threshold, "threshold", "threshold"), (target, "target", "target")):
        if value is not None and x:
            fig.add_scatter(x=[x[0], x[-1]], y=[value, value], mode="lines", name=name,
                            line={"color": COLORS[color], "dash": "dot", "width": 2})  # fmt: skip
    if start is not None:
        fig.add_vline(x=start, line={"color": COLORS["muted"], "dash": "dash", "width": 1})
        fig.add_annotation(x=start, y=1, yref="paper", text="change", showarrow=False,
                           xanchor="left", font={"color": COLORS["muted"]})  # fmt: skip
    return _layout(fig, title=title, unit=unit)


def limit_style(chart: Mapping[str, Any]) -> tuple[str, str]:
    """The centre line's name and the limits' line shape: steps from period to period, or
    straight lines along a trend the chart follows (regression XmR)."""
    return ("trend line", "linear") if chart.get("trend") else ("centre line", "hvh")


def _limits(fig: go.Figure, x: list[str], chart: Mapping[str, Any]) -> None:
    count = len(x)
    centre, shape = limit_style(chart)
    lines = (
        (centre, chart.get("center"), COLORS["centre"], "solid"),
        ("lower limit", chart.get("lcl"), COLORS["limit"], "dash"),
        ("upper limit", chart.get("ucl"), COLORS["limit"], "dash"),
    )
    for name, value, color, dash in lines:
        if value is None:
            continue
        fig.add_scatter(
            x=x, y=_per_point(value, count), mode="lines", name=name, hoverinfo="skip",
            line={"color": color, "dash": dash, "width": 1.3, "shape": shape},
        )  # fmt: skip


def breakdown_bars(doc: Mapping[str, Any], *, title: str | None = None) -> go.Figure:
    """A ``salesflow metric ID --by DIM --json`` document: each group on its own analysis-of-means
    limits (a dot in a grey band, red when outside), or plain bars when there are no limits."""
    import plotly.graph_objects as go

    from salesflow.metrics.charted import comparison_traces

    fig = go.Figure()
    for trace in comparison_traces(doc):
        fig.add_trace(trace)
    fig = _layout(fig, title=title, unit=doc.get("unit", ""))
    fig.update_layout(hovermode="closest", barmode="overlay")
    fig.update_layout(legend={"y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right"})
    fig.update_xaxes(automargin=True, tickangle=-40)
    return fig


CLASS_COLORS = {"value": "#2f855a", "necessary": "#9aa5b1", "waste": "#d64545"}
CLASS_NAMES = {"value": "value-adding", "necessary": "necessary", "waste": "waste"}


def activity_mix_data(
    doc: Mapping[str, Any], *, time: bool = False, title: str | None = None
) -> dict[str, Any]:
    """The share of effort by class on won and lost deals (per stage when the document has
    stages), as stacked bars in plain Plotly JSON (``{"data", "layout"}``) for any renderer."""
    groups = [(s["stage"], s) for s in doc.get("stages", [])] or [("", doc["outcomes"])]
    rows = [
        (f"{name} · {g}" if name else f"{g} deals", part[g])
        for name, part in groups
        for g in ("won", "lost")
        if part[g]["activities"]
    ]
    key = "time_share" if time else "share"
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": CLASS_NAMES[c],
            "y": [label for label, _ in rows],
            "x": [mix[c][key] for _, mix in rows],
            "customdata": [mix[c]["count"] for _, mix in rows],
            "marker": {"color": CLASS_COLORS[c]},
            "hovertemplate": f"%{{y}}: %{{x:.0%}} {CLASS_NAMES[c]}"
            "<br>%{customdata:,} activities<extra></extra>",
        }
        for c in CLASS_COLORS
    ]
    layout = {
        "barmode": "stack",
        "template": "plotly_white",
        "font": {"family": FONT, "color": COLORS["ink"], "size": 12},
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}}
        if title
        else None,
        "height": 120 + 26 * len(rows),
        "margin": {"l": 140, "r": 16, "t": 48 if title else 16, "b": 40},
        "legend": {"orientation": "h", "y": -0.12, "x": 0, "traceorder": "normal"},
        "xaxis": {"tickformat": ".0%", "range": [0, 1]},
        "yaxis": {"autorange": "reversed", "automargin": True},
        "hovermode": "closest",
    }
    return {"data": data, "layout": layout}


def activity_mix(
    doc: Mapping[str, Any], *, time: bool = False, title: str | None = None
) -> go.Figure:
    """:func:`activity_mix_data` as a Plotly figure (for notebooks and the report)."""
    import plotly.graph_objects as go

    return go.Figure(activity_mix_data(doc, time=time, title=title))


def stage_times(stages: Sequence[Mapping[str, Any]], *, title: str | None = None) -> go.Figure:
    """Median days in each stage of a process map, in value-stream order."""
    import plotly.graph_objects as go

    shown = [s for s in stages if s.get("median_hours") is not None]
    fig = go.Figure(
        go.Bar(
            x=[s["stage"] for s in shown],
            y=[s["median_hours"] / 24 for s in shown],
            customdata=[s["entries"] for s in shown],
            marker_color=COLORS["line"],
            hovertemplate="%{x}: %{y:.1f} days (median)<br>%{customdata} deals entered"
            "<extra></extra>",
        )
    )
    fig = _layout(fig, title=title, unit="days")
    fig.update_layout(hovermode="closest")
    return fig


def pipeline_waterfall(doc: Mapping[str, Any], *, title: str | None = None) -> go.Figure:
    """The pipeline waterfall of ``salesflow pipeline --json``: start, the moves, end."""
    import plotly.graph_objects as go

    from salesflow.analysis.pipeline import AMOUNT_SIGNS, LABELS

    keys = list(LABELS)
    measure = ["absolute", *["relative"] * (len(keys) - 2), "total"]  # the end is the sum
    amounts = [doc[k]["amount"] * AMOUNT_SIGNS.get(k, 1) for k in keys]
    fig = go.Figure(
        go.Waterfall(
            x=[LABELS[k] for k in keys],
            y=amounts,
            measure=measure,
            customdata=[doc[k]["count"] for k in keys],
            increasing={"marker": {"color": COLORS["good"]}},
            decreasing={"marker": {"color": COLORS["signal"]}},
            totals={"marker": {"color": COLORS["line"]}},
            connector={"line": {"color": COLORS["muted"], "width": 1}},
            hovertemplate="%{x}: %{y:,.2f}<br>%{customdata:,} deals<extra></extra>",
        )
    )
    fig = _layout(fig, title=title, unit="")
    fig.update_layout(hovermode="closest", showlegend=False)
    return fig


def driver_effects(effects: Sequence[Mapping[str, Any]], *, title: str | None = None) -> go.Figure:
    """Each variable's effect with its 95 % interval (a forest plot), strongest at the top."""
    import plotly.graph_objects as go

    rows = sorted(effects, key=lambda e: abs(e["effect"]))
    labels = [e["variable"] + (f" = {e['level']}" if e.get("level") else "") for e in rows]
    colors = [COLORS["signal"] if e["p_adj"] < 0.05 else COLORS["muted"] for e in rows]
    fig = go.Figure(
        go.Scatter(
            x=[e["effect"] for e in rows],
            y=labels,
            mode="markers",
            marker={"size": 10, "color": colors},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [e["ci_high"] - e["effect"] for e in rows],
                "arrayminus": [e["effect"] - e["ci_low"] for e in rows],
                "color": COLORS["muted"],
            },
            hovertemplate="%{y}: %{x:.1f}<extra></extra>",
        )
    )
    unit = rows[0]["unit"] if rows else ""
    fig.add_vline(x=0, line={"color": COLORS["ink"], "width": 1})
    fig = _layout(fig, title=title, unit="", height=max(240, 34 * len(rows) + 90))
    fig.update_xaxes(title_text=f"effect ({unit})")
    fig.update_layout(hovermode="closest", showlegend=False)
    return fig


def theme_bars(themes: Sequence[Mapping[str, Any]], *, title: str | None = None) -> go.Figure:
    """Requests per theme, largest first, with the cumulative share (a Pareto chart)."""
    import plotly.graph_objects as go

    rows = sorted(themes, key=lambda t: -t["count"])
    total = sum(t["count"] for t in rows) or 1
    running, cumulative = 0, []
    for t in rows:
        running += t["count"]
        cumulative.append(running / total)
    labels = [wrapped_label(t["label"]) for t in rows]
    fig = go.Figure()
    fig.add_bar(x=labels, y=[t["count"] for t in rows], name="requests",
                marker_color=COLORS["line"])  # fmt: skip
    fig.add_scatter(x=labels, y=cumulative, name="cumulative share",
                    yaxis="y2", mode="lines+markers", line={"color": COLORS["limit"]})  # fmt: skip
    fig = _layout(fig, title=title, unit="", height=360)
    fig.update_layout(
        yaxis2={"overlaying": "y", "side": "right", "tickformat": ".0%", "range": [0, 1.05],
                "automargin": True},
        hovermode="closest",
        legend={"y": -0.3},
    )  # fmt: skip
    fig.update_xaxes(tickangle=0, automargin=True)  # wrapped, upright labels are never cut
    return fig


def wrapped_label(text: str, width: int = 10) -> str:
    """A category label broken into short lines, so bars keep their names whole."""
    import textwrap

    return "<br>".join(textwrap.wrap(str(text), width, break_long_words=False)) or str(text)


def _days(hours: float | None, day: float = 24.0) -> str:
    if hours is None:
        return "—"
    return f"{hours:.0f} h" if hours < 2 * day else f"{hours / day:.1f} d"


def _pct(share: float | None, digits: int = 0) -> str:
    return "—" if share is None else f"{share * 100:.{digits}f} %"


def _box_text(s: Mapping[str, Any], day: float = 24.0) -> str:
    """The figures of one stage, one per line, in a sales leader's words (a day: ``day`` hours,
    one day's business hours on the business clock)."""
    rate = s.get("throughput_per_week")
    lines = [
        f"<b>{s['stage']}</b>",
        f"<b>{s['wip']:,}</b> deal{'' if s['wip'] == 1 else 's'} here now",
        "left per week: " + ("—" if rate is None else f"{rate:,.1f}"),
        f"median {_days(s.get('time_median'), day)} · 85 % {_days(s.get('time_p85'), day)}",
        f"went back {_pct(s.get('rework_share'))} · lost {_pct(s.get('loss_share'))}",
    ]
    if "work_share" in s:
        work = s.get("work_share")
        lines.append(
            f"work {_pct(work, 1)} · waiting {_pct(None if work is None else 1 - work, 1)}"
        )
    return "<br>".join(lines)


def stream_map(doc: Mapping[str, Any], *, title: str | None = None) -> go.Figure:
    """The value-stream map of ``salesflow flow --json``: open stages left to right as boxes with
    their figures, forward arrows between them, rework arcs above labelled with their counts."""
    import plotly.graph_objects as go

    stages = [s for s in doc["stages"] if "wip" in s and (s["entries"] or s["wip"])]
    x = {s["stage"]: i for i, s in enumerate(stages)}
    day = float(doc.get("day_hours") or 24.0)  # a business day on the business clock
    width, height = 0.8, 1.0
    fig = go.Figure()
    for i, s in enumerate(stages):
        fig.add_shape(type="rect", x0=i, x1=i + width, y0=0, y1=height, fillcolor="#eef4fb",
                      line={"color": COLORS["line"], "width": 1.5})  # fmt: skip
        fig.add_annotation(x=i + width / 2, y=height / 2, text=_box_text(s, day), showarrow=False,
                           align="center", font={"size": 12})  # fmt: skip
        if i + 1 < len(stages):
            fig.add_annotation(x=i + 1, y=height / 2, ax=i + width, ay=height / 2, xref="x",
                               yref="y", axref="x", ayref="y", text="", showarrow=True,
                               arrowhead=2, arrowwidth=2, arrowcolor=COLORS["centre"])  # fmt: skip
    back = [e for e in doc["edges"] if e["rework"] and e["from"] in x and e["to"] in x]
    apex = height
    for e in back:
        a, b = x[e["from"]] + width / 2, x[e["to"]] + width / 2
        peak = height + 0.3 + 0.15 * abs(a - b)  # the control point: wider loops rise higher
        if a == b:  # a stage repeated: a small loop on its top
            a, b, peak = a + 0.1, a - 0.1, height + 0.3
        mid = (height + peak) / 2  # the top of the arc
        apex = max(apex, mid)
        fig.add_shape(type="path", path=f"M {a},{height} Q {(a + b) / 2},{peak} {b},{height}",
                      line={"color": COLORS["signal"], "width": 1.5, "dash": "dot"})  # fmt: skip
        fig.add_annotation(x=b, y=height, ax=b + (0.02 if b < a else -0.02), ay=height + 0.08,
                           xref="x", yref="y", axref="x", ayref="y", text="", showarrow=True,
                           arrowhead=2, arrowcolor=COLORS["signal"])  # fmt: skip
        fig.add_annotation(x=(a + b) / 2, y=mid, showarrow=False, bgcolor="#ffffff",
                           text=f"{e['count']:,} sent back",
                           font={"size": 11, "color": COLORS["signal"]})  # fmt: skip
    top = apex + 0.1
    fig.add_trace(go.Scatter(x=[], y=[], hoverinfo="skip", showlegend=False))
    fig = _layout(fig, title=title, unit="", height=int(190 * top) + (48 if title else 16))
    fig.update_xaxes(visible=False, range=[-0.05, len(stages) - 1 + width + 0.05])
    fig.update_yaxes(visible=False, range=[-0.05, top])
    fig.update_layout(margin={"l": 8, "r": 8, "t": 48 if title else 8, "b": 8}, hovermode=False)
    return fig
