"""Measures: any catalog metric, period, filters and breakdown, on a process behaviour chart with
its signals explained in words. The same computation as ``salesflow metric ID --json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from salesflow.web.charts import bar_figure, behaviour_figure
from salesflow.web.deps import AppState, Caller, state, viewer
from salesflow.web.forms import DIMENSIONS, clean, day, pairs, pairs_from_rows
from salesflow.web.render import render

router = APIRouter()

Period = Literal["week", "month", "quarter"]
Chart = Literal["auto", "xmr", "p", "u", "laney-p", "laney-u", "run", "none"]


@dataclass(frozen=True)
class MeasureQuery:
    """One question to the catalog, hashable so its answer can be cached."""

    metric: str = "win_rate"
    period: str = "month"
    by: str | None = None
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    params: tuple[tuple[str, str], ...] = ()
    chart: str = "auto"
    start: str | None = None
    end: str | None = None

    @property
    def filter_map(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self.filters}


def measure(st: AppState, q: MeasureQuery) -> dict[str, Any]:
    """The series on its chart (with ``verdict``), or the breakdown when ``by`` is given."""
    from salesflow.metrics import breakdown, get, series
    from salesflow.metrics.charted import chart_series

    settings = st.web.settings

    def compute(con: Any) -> dict[str, Any]:
        m = get(q.metric, settings)
        by = q.by
        if by is None and m.needs_filter and m.needs_filter not in q.filter_map:
            by = m.default_by
        window = {"start": day(q.start, "start"), "end": day(q.end, "end")}
        common = {"filters": q.filter_map, "params": dict(q.params), **window}
        if by:
            doc = breakdown(con, settings, q.metric, by=by, **common).to_dict()
            return clean({**doc, "title": m.title, "view": "breakdown"})
        s = series(con, settings, q.metric, period=q.period, **common)
        charted = chart_series(s, settings, chart=q.chart)
        doc = charted.to_dict()
        return clean({**doc, "title": m.title, "view": "series", "verdict": charted.verdict()})

    return st.data.cached(("measure", q), compute)


def catalog_entries(st: AppState) -> list[dict[str, Any]]:
    from salesflow.metrics import catalog

    return [m.describe() for m in catalog(st.web.settings)]


def _query(metric, period, by, filters, params, chart, start, end) -> MeasureQuery:
    f = pairs(filters)
    p = {k: v[-1] for k, v in pairs(params, "param").items()}
    return MeasureQuery(
        metric=metric.strip(),
        period=period,
        by=by or None,
        filters=tuple(sorted((k, tuple(v)) for k, v in f.items())),
        params=tuple(sorted(p.items())),
        chart=chart,
        start=start or None,
        end=end or None,
    )


Filters = Annotated[list[str] | None, Query(alias="filter", description="column=value; repeat it")]
Params = Annotated[
    list[str] | None, Query(alias="param", description="name=value metric parameter")
]


@router.get("/api/metrics", tags=["measures"], summary="The metric catalog")
def api_catalog(request: Request, _: Caller = Depends(viewer)) -> dict:
    """Every built-in and custom metric with its definition (as `salesflow metrics --json`)."""
    return {"metrics": clean(catalog_entries(state(request)))}


@router.get("/api/metrics/{metric_id}", tags=["measures"], summary="One metric on a chart")
def api_metric(
    request: Request,
    metric_id: str,
    period: Period = "month",
    by: Annotated[str | None, Query(max_length=100)] = None,
    filters: Filters = None,
    params: Params = None,
    chart: Chart = "auto",
    start: Annotated[str | None, Query(description="YYYY-MM-DD")] = None,
    end: Annotated[str | None, Query(description="YYYY-MM-DD")] = None,
    _: Caller = Depends(viewer),
) -> dict:
    """Points, limits, signals (each explained in words) and a verdict, as
    `salesflow metric ID --json`; with `by`, one value per group, each with its own
    analysis-of-means limits (`lower`, `upper`, `signal`) and the `comparison` in words."""
    q = _query(metric_id, period, by, filters, params, chart, start, end)
    return measure(state(request), q)


def _form_query(request: Request) -> MeasureQuery:
    """The page's form: metric, period, breakdown, two filter rows and the metric's parameters."""
    qp = request.query_params
    rows = pairs_from_rows(qp.getlist("fcol"), qp.getlist("fval"))
    params = [f"{k[2:]}={v}" for k, v in qp.multi_items() if k.startswith("p:") and v.strip()]
    period = qp.get("period", "month")
    if period not in ("week", "month", "quarter"):
        period = "month"
    return _query(
        qp.get("metric", "win_rate"),
        period,
        qp.get("by") or None,
        [*qp.getlist("filter"), *rows],
        params,
        "auto",
        qp.get("start"),
        qp.get("end"),
    )


def _context(st: AppState, q: MeasureQuery) -> dict[str, Any]:
    entries = catalog_entries(st)
    chosen = next((m for m in entries if m["id"] == q.metric), None)
    ctx: dict[str, Any] = {"q": q, "catalog": entries, "chosen": chosen, "dims": DIMENSIONS}
    ctx["filter_rows"] = [(k, v) for k, vs in q.filters for v in vs] + [("", "")]
    ctx["params"] = dict(q.params)
    from salesflow.errors import SalesflowError
    from salesflow.web.errors import error_document

    try:
        doc = measure(st, q)
    except SalesflowError as exc:
        ctx.update(doc=None, figure=None, problem=error_document(exc))
        return ctx
    title = f"{doc['title']} per {q.period}" if doc["view"] == "series" else doc["title"]
    if doc["view"] == "series":
        figure = behaviour_figure(doc, title)
    else:
        figure = bar_figure(doc, f"{doc['title']} by {doc['by']}")
    ctx.update(doc=doc, figure=figure, problem=None)
    return ctx


@router.get("/measures", response_class=HTMLResponse, include_in_schema=False)
def measures_page(request: Request, _: Caller = Depends(viewer)) -> HTMLResponse:
    ctx = _context(state(request), _form_query(request))
    return render(request, "measures.html", ctx, partial="_measure_panel.html")
