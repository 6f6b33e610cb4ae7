"""Plotly figures as plain data (``{"data", "layout"}``), drawn in the page by static/app.js.

Figures travel to the browser as JSON (``|tojson`` inside a ``<script type="application/json">``),
never as JavaScript built from strings, so a deal or request text cannot become code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from salesflow.settings import Settings

__all__ = ["bar_figure", "behaviour_figure", "pareto_figure", "waterfall_figure"]

BLUE, GREY, RED, AMBER = "#1f5fa8", "#6b7280", "#c2312c", "#b7791f"


def _layout(title: str, unit: str, **extra: Any) -> dict[str, Any]:
    layout = {
        "title": {"text": title, "font": {"size": 15}, "x": 0, "xanchor": "left"},
        "margin": {"l": 60, "r": 20, "t": 48, "b": 48},
        "hovermode": "x unified",
        "plot_bgcolor": "#ffffff",
        "paper_bgcolor": "#ffffff",
        "font": {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12},
        "legend": {"orientation": "h", "y": -0.18},
        "yaxis": {"title": {"text": unit}, "gridcolor": "#e5e7eb", "zeroline": False},
        "xaxis": {"gridcolor": "#f3f4f6"},
    }
    if unit == "%":
        layout["yaxis"]["tickformat"] = ".0%"
    layout.update(extra)
    return layout


def _limit(values: Any, count: int) -> list[float | None]:
    if values is None:
        return []
    if not isinstance(values, list):
        values = [values] * count
    return [None if v is None or v != v else float(v) for v in values]


def metric_title(metric_id: str, settings: Settings | None = None) -> str:
    """The metric's title from the registry (custom metrics too with ``settings``), else its id."""
    from salesflow.errors import SalesflowError
    from salesflow.metrics.registry import get

    try:
        return get(metric_id, settings).title
    except SalesflowError:
        return metric_id


def behaviour_figure(
    doc: dict[str, Any], title: str, *, series: str | None = None
) -> dict[str, Any]:
    """A process behaviour chart from a ``salesflow metric --json`` document.

    The legend names the series by ``series``, else the document's or the registry's title:
    a sales leader reads "Time in stage", not ``stage_time``.
    """
    from salesflow.api.figures import limit_style, unjudged

    x = [p["period"] for p in doc["points"]]
    y, others = unjudged(doc["points"])
    n = [p.get("n") for p in doc["points"]]
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": series or doc.get("title") or metric_title(doc["metric"]),
            "x": x,
            "y": y,
            "customdata": n,
            "line": {"color": BLUE, "width": 2},
            "marker": {"size": 6},
            "hovertemplate": "%{y}<br>n = %{customdata}<extra></extra>",
        }
    ]
    if others is not None:
        data.append(others)
    chart = doc.get("chart") or {}
    if chart.get("status") == "ok":
        centre, shape = limit_style(chart)
        for key, name, dash, color in (
            ("center", centre, "solid", GREY),
            ("ucl", "upper limit", "dash", RED),
            ("lcl", "lower limit", "dash", RED),
        ):
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": name,
                    "x": x,
                    "y": _limit(chart.get(key), len(x)),
                    "line": {"dash": dash, "color": color, "width": 1.5, "shape": shape},
                    "hoverinfo": "skip",
                }
            )
    hits = sorted({i for s in doc.get("signals", []) for i in s.get("points", [])})
    if hits:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "signal",
                "x": [x[i] for i in hits],
                "y": [y[i] for i in hits],
                "marker": {
                    "size": 13,
                    "color": AMBER,
                    "symbol": "circle-open",
                    "line": {"width": 2.5},
                },
                "hoverinfo": "skip",
            }
        )
    return {"data": data, "layout": _layout(title, doc.get("unit", ""))}


def pareto_figure(rows: list[dict[str, Any]], title: str, *, label: str = "requests") -> dict:
    """Bars largest first, with the cumulative share on a second axis."""
    names = [r["name"] for r in rows]
    data = [
        {"type": "bar", "name": label, "x": names, "y": [r["count"] for r in rows],
         "marker": {"color": BLUE}},
        {"type": "scatter", "mode": "lines+markers", "name": "cumulative share", "x": names,
         "y": [r["cumulative_share"] for r in rows], "yaxis": "y2",
         "line": {"color": AMBER}},
    ]  # fmt: skip
    layout = _layout(title, label, hovermode="closest")
    layout["yaxis2"] = {"overlaying": "y", "side": "right", "range": [0, 1.05],
                        "tickformat": ".0%", "showgrid": False, "automargin": True}  # fmt: skip
    layout["margin"]["r"] = 56  # room for the cumulative share's ticks on the right
    layout["xaxis"].update(automargin=True, tickangle=-30)
    return {"data": data, "layout": layout}


def bar_figure(doc: dict[str, Any], title: str) -> dict[str, Any]:
    """A breakdown (``salesflow metric ID --by DIM --json``): each group on its own
    analysis-of-means limits, or one bar per group when the metric is not compared."""
    from salesflow.metrics.charted import comparison_traces

    data = comparison_traces(doc)
    layout = _layout(title, doc.get("unit", ""), hovermode="closest", barmode="overlay")
    layout["showlegend"] = False  # the page says in words what the dot, band and line are
    layout["xaxis"].update(automargin=True, tickangle=-40)
    return {"data": data, "layout": layout}


def waterfall_figure(doc: dict[str, Any], title: str) -> dict[str, Any]:
    """The pipeline waterfall of a ``salesflow pipeline --json`` document: start, moves, end."""
    from salesflow.analysis.pipeline import AMOUNT_SIGNS, LABELS

    keys = list(LABELS)
    data = [
        {
            "type": "waterfall",
            "x": [LABELS[k] for k in keys],
            "y": [doc[k]["amount"] * AMOUNT_SIGNS.get(k, 1) for k in keys],
            "measure": ["absolute", *["relative"] * (len(keys) - 2), "total"],
            "customdata": [doc[k]["count"] for k in keys],
            "increasing": {"marker": {"color": "#2f855a"}},
            "decreasing": {"marker": {"color": RED}},
            "totals": {"marker": {"color": BLUE}},
            "connector": {"line": {"color": GREY, "width": 1}},
            "hovertemplate": "%{x}: %{y:,.2f}<br>%{customdata:,} deals<extra></extra>",
        }
    ]
    layout = _layout(title, "amount", hovermode="closest", showlegend=False)
    layout["xaxis"]["automargin"] = True
    return {"data": data, "layout": layout}
