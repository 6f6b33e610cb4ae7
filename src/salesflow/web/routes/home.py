"""Home: what the workspace holds and where to go next. The workbench issue adds the three
questions, UDR verdicts, root causes and "what changed since your last visit" here.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from salesflow.web.deps import AppState, Caller, state, viewer
from salesflow.web.forms import clean
from salesflow.web.render import render

router = APIRouter()


def status(st: AppState) -> dict[str, Any]:
    """``salesflow status --json`` for this workspace, plus the win rate of closed deals."""
    from salesflow.workspace import workspace_status

    def compute(_con: Any) -> dict[str, Any]:
        doc = workspace_status(st.data.workspace)
        o = doc["outcomes"]
        closed = o["won"] + o["lost"]
        doc["win_rate"] = o["won"] / closed if closed else None
        return clean(doc)

    return st.data.cached(("status",), compute)


@router.get("/api/status", tags=["data"], summary="What the workspace holds")
def api_status(request: Request, _: Caller = Depends(viewer)) -> dict:
    """Rows and date range per table, deals by outcome (as `salesflow status --json`)."""
    return status(state(request))


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request, caller: Caller = Depends(viewer)) -> HTMLResponse:
    return render(request, "home.html", {"status": status(state(request))})
