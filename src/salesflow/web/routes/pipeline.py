"""Pipeline: what happened to a quarter's (or month's) pipeline, as a waterfall, overall and per
owner (the same numbers as ``salesflow pipeline``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from salesflow.web.charts import waterfall_figure
from salesflow.web.deps import AppState, Caller, state, viewer
from salesflow.web.forms import clean
from salesflow.web.render import render

router = APIRouter()
HISTORY = "opportunity_history"


def latest_quarter(st: AppState) -> str | None:
    """The quarter of the latest change in the deal history (None: no history yet)."""

    def compute(con: Any) -> str | None:
        if HISTORY not in con.list_tables():
            return None
        last = con.table(HISTORY).changed_at.max().execute()
        if last is None or last != last:
            return None
        return f"{last.year}-Q{(last.month + 2) // 3}"

    return st.data.cached(("pipeline-latest",), compute)


def waterfall(st: AppState, period: str, by: str | None) -> dict[str, Any]:
    from salesflow.analysis.pipeline import pipeline_waterfall

    stages = st.web.settings.stages

    def compute(con: Any) -> dict[str, Any]:
        return clean(pipeline_waterfall(con, stages, period, by=by))

    return st.data.cached(("pipeline", period, by), compute)


@router.get("/api/pipeline", tags=["pipeline"], summary="The pipeline waterfall")
def api_pipeline(
    request: Request,
    period: Annotated[str, Query(description="A quarter (2025-Q3) or a month (2025-07)")],
    by: Annotated[str | None, Query(description="owner, or any deal column")] = None,
    _: Caller = Depends(viewer),
) -> dict:
    """Start, created, pulled in, pushed out, won, lost, amount changes and end, each with
    `count` and `amount` (as `salesflow pipeline --json`)."""
    return waterfall(state(request), period, by)


@router.get("/pipeline", response_class=HTMLResponse, include_in_schema=False)
def pipeline_page(
    request: Request,
    period: Annotated[str | None, Query()] = None,
    _: Caller = Depends(viewer),
) -> HTMLResponse:
    from salesflow.errors import SalesflowError
    from salesflow.web.errors import error_document

    st = state(request)
    ctx: dict[str, Any] = {"period": period or "", "doc": None, "problem": None}
    try:
        chosen = (period or "").strip() or latest_quarter(st)
        if chosen is None:
            return render(request, "pipeline.html", ctx, partial="_pipeline_panel.html")
        doc = waterfall(st, chosen, "owner")
        ctx.update(
            period=doc["period"],
            doc=doc,
            figure=waterfall_figure(doc, f"Pipeline {doc['period']}"),
        )
    except SalesflowError as exc:
        ctx["problem"] = error_document(exc)
    return render(request, "pipeline.html", ctx, partial="_pipeline_panel.html")
