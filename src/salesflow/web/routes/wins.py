"""Wins and engagement: the improvements that worked, who did them, and whether the team keeps
asking the three questions (the same documents as ``salesflow improve wins|engagement``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from salesflow.web.charts import AMBER, BLUE, bar_figure, behaviour_figure
from salesflow.web.deps import Caller, state, viewer
from salesflow.web.forms import clean
from salesflow.web.render import render_cached
from salesflow.web.workbench import bench

router = APIRouter()

MONTHLY = ("checkins_on_time", "improvements_started", "improvements_verified")


def _wins(request: Request, caller: Caller) -> dict[str, Any]:
    from salesflow.workbench.wins import wins

    with bench(request, caller, lock=False) as wb:
        return clean(wins(wb))


def _engagement(request: Request, caller: Caller) -> dict[str, Any]:
    from salesflow.workbench.engagement import engagement

    with bench(request, caller, lock=False) as wb:
        return clean(engagement(wb))


@router.get("/api/wins", tags=["improvements"], summary="Wins: improvements that worked")
def api_wins(request: Request, caller: Caller = Depends(viewer)) -> dict:
    """Improvements whose measure shows a sustained improvement, before and after in words, and
    who did it (`salesflow improve wins --json`)."""
    return _wins(request, caller)


@router.get("/api/engagement", tags=["improvements"], summary="Engagement measures")
def api_engagement(request: Request, caller: Caller = Depends(viewer)) -> dict:
    """Check-ins on time, improvements started and verified per month, days from a confirmed
    UDR to its first improvement (`salesflow improve engagement --json`)."""
    return _engagement(request, caller)


def wait_figure(waits: dict[str, Any]) -> dict[str, Any] | None:
    """One bar per confirmed UDR: days to its first improvement, or days waiting (amber); none
    when every bar would be 0 days (the sentence and the table say so)."""
    rows = waits["udrs"]
    if not any(r["days"] or r["waiting_days"] for r in rows):
        return None
    groups = [{"udr": f"UDR #{r['udr_id']}", "n": None, "value": r["days"]
               if r["days"] is not None else r["waiting_days"]} for r in rows]  # fmt: skip
    fig = bar_figure({"groups": groups, "column": "udr", "unit": "days"}, waits["title"])
    fig["data"][0]["marker"]["color"] = [BLUE if r["days"] is not None else AMBER for r in rows]
    return fig


def _context(request: Request, caller: Caller) -> dict[str, Any]:
    doc = _wins(request, caller)
    measures = _engagement(request, caller)
    figures = {key: behaviour_figure(measures[key], measures[key]["title"] + " per month",
                                     series=measures[key]["title"]) for key in MONTHLY}  # fmt: skip
    return {"doc": doc, "measures": measures, "monthly": MONTHLY, "figures": figures,
            "wait_figure": wait_figure(measures["udr_to_first_improvement"])}  # fmt: skip


@router.get("/wins", response_class=HTMLResponse, include_in_schema=False)
def wins_page(request: Request, caller: Caller = Depends(viewer)) -> HTMLResponse:
    today = state(request).web.settings.today()
    return render_cached(request, "wins.html", ("wins", today), lambda: _context(request, caller))
