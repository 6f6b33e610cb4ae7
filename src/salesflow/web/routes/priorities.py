"""Work these first: the open deals ranked by win probability × amount per week still to close,
with the reasons in words and whether the ranking beat chance on past deals (the same document
as ``salesflow prioritise``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from salesflow.web.deps import AppState, Caller, state, viewer
from salesflow.web.forms import clean
from salesflow.web.render import render

router = APIRouter()
TOP = 20
MOST = 100  # computed once per data generation; every request takes its first ``top``


def priorities(st: AppState, top: int) -> dict[str, Any]:
    """The ranking, cached per data generation."""
    from salesflow.analysis import prioritise

    def compute(con: Any) -> dict[str, Any]:
        return clean(prioritise(st.data.workspace, top=MOST).as_dict())

    doc = st.data.cached(("priorities",), compute)
    return {**doc, "deals": doc["deals"][:top]}


@router.get("/api/priorities", tags=["analysis"], summary="Open deals to work first")
def api_priorities(
    request: Request,
    top: Annotated[int, Query(ge=1, le=MOST, description="How many deals to list")] = TOP,
    _: Caller = Depends(viewer),
) -> dict:
    """Open deals with `win_probability`, `expected_value`, `weeks_to_close`, `score` and
    `reasons`, and the `backtest` (AUC, top-decile lift, calibration) — as
    `salesflow prioritise --json`."""
    return priorities(state(request), top)


@router.get("/priorities", response_class=HTMLResponse, include_in_schema=False)
def priorities_page(request: Request, _: Caller = Depends(viewer)) -> HTMLResponse:
    from salesflow.errors import DataError
    from salesflow.web.errors import error_document

    ctx: dict[str, Any] = {"doc": None, "problem": None}
    try:
        ctx["doc"] = priorities(state(request), TOP)
    except DataError as exc:  # too few closed deals to learn from; other failures propagate
        ctx["problem"] = error_document(exc)
    return render(request, "priorities.html", ctx)
