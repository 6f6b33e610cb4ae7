"""Forecast accuracy: error and bias per period and per owner, from the catalog's
``forecast_error`` and ``forecast_bias`` metrics (the same numbers as the CLI).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from salesflow.web.charts import bar_figure, behaviour_figure
from salesflow.web.deps import AppState, Caller, state, viewer
from salesflow.web.render import render
from salesflow.web.routes.measures import MeasureQuery, measure

router = APIRouter()

Category = Literal["commit", "best_case", "pipeline"]
Period = Literal["month", "quarter"]


def accuracy(st: AppState, category: str, period: str) -> dict[str, Any]:
    """Both metrics per period (charted) and per owner."""
    params = (("category", category),)
    doc: dict[str, Any] = {"category": category, "period": period}
    for metric in ("forecast_error", "forecast_bias"):
        doc[metric] = {
            "series": measure(st, MeasureQuery(metric=metric, period=period, params=params)),
            "by_owner": measure(st, MeasureQuery(metric=metric, by="owner", params=params)),
        }
    return doc


@router.get("/api/forecasts", tags=["forecasts"], summary="Forecast accuracy")
def api_forecasts(
    request: Request,
    category: Category = "commit",
    period: Period = "month",
    _: Caller = Depends(viewer),
) -> dict:
    """`forecast_error` and `forecast_bias` per period (with chart and signals) and per owner."""
    return accuracy(state(request), category, period)


@router.get("/forecasts", response_class=HTMLResponse, include_in_schema=False)
def forecasts_page(
    request: Request,
    category: Annotated[str, Query()] = "commit",
    period: Annotated[str, Query()] = "month",
    _: Caller = Depends(viewer),
) -> HTMLResponse:
    from salesflow.errors import SalesflowError
    from salesflow.web.errors import error_document

    category = category if category in ("commit", "best_case", "pipeline") else "commit"
    period = period if period in ("month", "quarter") else "month"
    ctx: dict[str, Any] = {"category": category, "period": period, "problem": None, "doc": None}
    try:
        doc = accuracy(state(request), category, period)
    except SalesflowError as exc:
        ctx["problem"] = error_document(exc)
        return render(request, "forecasts.html", ctx, partial="_forecast_panel.html")
    figures = {}
    for metric, label in (("forecast_error", "Forecast error"), ("forecast_bias", "Bias")):
        part = doc[metric]
        figures[metric] = {
            "series": behaviour_figure(part["series"], f"{label} per {period}"),
            "owner": bar_figure(part["by_owner"], f"{label} by owner"),
        }
    ctx.update(doc=doc, figures=figures)
    return render(request, "forecasts.html", ctx, partial="_forecast_panel.html")
