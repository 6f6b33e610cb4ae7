"""Value stream: the process map of stages (entries, share moved forward or lost, median time
in stage), rework loops and common paths, filterable by any deal column, every time on the
calendar or the business clock (as ``salesflow flow --clock``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from salesflow.web.deps import AppState, Caller, state, viewer
from salesflow.web.forms import DIMENSIONS, clean, pairs, pairs_from_rows
from salesflow.web.render import render

router = APIRouter()


def flow_map(
    st: AppState, filters: dict[str, list[str]], top: int = 8, clock: str = "calendar"
) -> dict[str, Any]:
    """``process_map`` plus, per stage, the share of its entries that moved forward or were lost."""
    from salesflow.metrics.process_map import process_map

    settings = st.web.settings
    key = ("flow", tuple(sorted((k, tuple(v)) for k, v in filters.items())), top, clock)

    def compute(con: Any) -> dict[str, Any]:
        doc = dict(process_map(con, settings, filters=filters, top=top, clock=clock))
        doc["stages"] = _with_conversion(doc["stages"], doc["edges"], settings.stages)
        doc["rework"] = sorted((e for e in doc["edges"] if e["rework"]), key=lambda e: -e["count"])
        return clean(doc)

    return st.data.cached(key, compute)


def _with_conversion(stages: list, edges: list, config: Any) -> list[dict[str, Any]]:
    rank = {name: i for i, name in enumerate(config.all)}
    out = []
    for s in stages:
        mine = [e for e in edges if e["from"] == s["stage"]]
        here = rank.get(s["stage"], len(rank))
        forward = sum(
            e["count"]
            for e in mine
            if not e["rework"] and e["to"] not in config.lost and rank.get(e["to"], 0) > here
        )
        lost = sum(e["count"] for e in mine if e["to"] in config.lost)
        entries = s["entries"] or 0
        out.append(
            {
                **s,
                "forward": forward,
                "lost": lost,
                "forward_share": forward / entries if entries else None,
                "lost_share": lost / entries if entries else None,
                "end": s["stage"] in config.won or s["stage"] in config.lost,
            }
        )
    return out


def map_figure(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The value-stream map as Plotly data (``{"data", "layout"}``), None without open stages."""
    import json

    from salesflow.api.figures import stream_map

    if not any("wip" in s and (s["entries"] or s["wip"]) for s in doc["stages"]):
        return None
    return json.loads(stream_map(doc).to_json())


@router.get("/api/flow", tags=["value stream"], summary="The value stream")
def api_flow(
    request: Request,
    filters: Annotated[
        list[str] | None, Query(alias="filter", description="column=value; repeat it")
    ] = None,
    top: Annotated[int, Query(ge=0, le=100)] = 8,
    clock: Annotated[
        Literal["calendar", "business"],
        Query(description="calendar: elapsed time; business: business hours of workdays only"),
    ] = "calendar",
    _: Caller = Depends(viewer),
) -> dict:
    """Stages, transitions, variants, deal durations and rework loops (as `salesflow flow
    --json`), with `forward_share` and `lost_share` per stage, every time on `clock`."""
    return flow_map(state(request), pairs(filters), top, clock)


@router.get("/value-stream", response_class=HTMLResponse, include_in_schema=False)
def value_stream_page(request: Request, _: Caller = Depends(viewer)) -> HTMLResponse:
    from salesflow.errors import SalesflowError
    from salesflow.web.errors import error_document

    qp = request.query_params
    items = [*qp.getlist("filter"), *pairs_from_rows(qp.getlist("fcol"), qp.getlist("fval"))]
    clock = qp.get("clock") or "calendar"
    ctx: dict[str, Any] = {"dims": DIMENSIONS, "doc": None, "problem": None, "clock": clock}
    try:
        filters = pairs(items)
        ctx["filter_rows"] = [(k, v) for k, vs in filters.items() for v in vs] + [("", "")]
        ctx["doc"] = flow_map(state(request), filters, clock=clock)
        ctx["map_figure"] = map_figure(ctx["doc"])
    except SalesflowError as exc:
        ctx.setdefault("filter_rows", [("", "")])
        ctx["problem"] = error_document(exc)
    return render(request, "value_stream.html", ctx, partial="_flow_panel.html")
