"""Which activities add value, on the Value stream page: the share of effort that is
value-adding, necessary or waste on won and lost deals, per stage, and which activity types go
with winning (as ``salesflow activities --by stage``). Loaded after the page, so the map shows
at once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from salesflow.web.deps import AppState, Caller, state, viewer
from salesflow.web.forms import clean, pairs, pairs_from_rows
from salesflow.web.render import render

router = APIRouter()


def activity_mix(st: AppState, filters: dict[str, list[str]]) -> dict[str, Any] | None:
    """The ``salesflow activities --by stage --json`` document, or None with no activities."""
    from salesflow.analysis.activity_value import activity_value

    settings = st.web.settings
    key = ("activities", tuple(sorted((k, tuple(v)) for k, v in filters.items())))

    def compute(con: Any) -> dict[str, Any] | None:
        if "activities" not in con.list_tables() or not int(
            con.table("activities").count().execute()
        ):
            return None
        return clean(activity_value(con, settings, by="stage", filters=filters))

    return st.data.cached(key, compute)


@router.get("/api/activities", tags=["value stream"], summary="Which activities add value")
def api_activities(
    request: Request,
    filters: Annotated[
        list[str] | None, Query(alias="filter", description="column=value; repeat it")
    ] = None,
    _: Caller = Depends(viewer),
) -> dict:
    """The share of effort by class (value-adding, necessary, waste) on won and lost deals, per
    stage, and the activity types' effects on winning (as `salesflow activities --by stage
    --json`); `null` fields where the workspace has no activities."""
    return activity_mix(state(request), pairs(filters)) or {"outcomes": None, "stages": []}


@router.get("/value-stream/activities", response_class=HTMLResponse, include_in_schema=False)
def activity_panel(request: Request, _: Caller = Depends(viewer)) -> HTMLResponse:
    from salesflow.api.figures import activity_mix_data
    from salesflow.errors import SalesflowError
    from salesflow.web.errors import error_document

    qp = request.query_params
    items = [*qp.getlist("filter"), *pairs_from_rows(qp.getlist("fcol"), qp.getlist("fval"))]
    time = qp.get("measure") == "time"
    ctx: dict[str, Any] = {"mix": None, "problem": None, "time": time, "figure": None}
    try:
        ctx["mix"] = doc = activity_mix(state(request), pairs(items))
        if doc is not None:
            title = f"Share of {'time' if time and doc['durations'] else 'activities'} by class"
            ctx["figure"] = activity_mix_data(doc, time=time and doc["durations"], title=title)
    except SalesflowError as exc:
        ctx["problem"] = error_document(exc)
    return render(request, "activities.html", ctx, partial="_activity_panel.html")
