"""Request log: log a request in seconds, the latest ones, the Pareto by category and the weekly
volume on a behaviour chart. ``POST /api/requests`` is the CRM webhook (Bearer token).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from salesflow.web import requests_log as log
from salesflow.web.charts import behaviour_figure, pareto_figure
from salesflow.web.deps import AppState, Caller, editor, state, viewer
from salesflow.web.preconditions import CHANGE_RESPONSES, CREATE_RESPONSES, IfMatch, etag, expected
from salesflow.web.render import render

router = APIRouter()

CHANNELS = ("phone", "email", "portal", "chat", "meeting", "other")
REQUESTERS = ("customer", "prospect", "sales rep", "partner", "internal")
Text = Annotated[str | None, Field(default=None, max_length=200)]


class RequestIn(BaseModel):
    """One request as a person or a CRM webhook sends it; only the description is required."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    description: str = Field(min_length=1, max_length=5000, description="What was asked")
    category: Text = None
    channel: Text = Field(default="email", max_length=50)
    requester_type: Text = Field(default="customer", max_length=50)
    account: Text = None
    opportunity_id: Text = None
    handled_by: Text = None
    request_id: Text = Field(
        default=None,
        description="Your id (one that exists already is a 409); generated when omitted",
    )
    received_at: Text = Field(
        default=None,
        description="YYYY-MM-DD HH:MM[:SS] in the workspace's time zone; now when omitted",
    )


class RequestEdit(BaseModel):
    """Changes to a request, with the ``version`` you read, here or as ``If-Match`` (stale: 409)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    version: str | None = Field(default=None, min_length=1, max_length=64)
    category: Text = None
    outcome: Text = None
    handled_by: Text = None
    description: str | None = Field(default=None, min_length=1, max_length=5000)
    first_response_at: Text = None
    resolved_at: Text = None


@router.get("/api/requests", tags=["requests"], summary="The latest requests")
def api_requests(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    category: Annotated[str | None, Query(max_length=200)] = None,
    _: Caller = Depends(viewer),
) -> dict:
    """Newest first; each with the `version` an edit must name."""
    return {"requests": log.recent(state(request).data, limit=limit, category=category)}


@router.post("/api/requests", tags=["requests"], summary="Log a request", status_code=201,
             responses=CREATE_RESPONSES)  # fmt: skip
def api_log_request(body: RequestIn, request: Request, caller: Caller = Depends(editor)) -> dict:
    """For people and CRM webhooks (`Authorization: Bearer TOKEN`); validated like
    `salesflow import requests FILE`. A `request_id` that exists is refused (409), never replaced."""
    return log.log_request(state(request).data, body.model_dump(), who=caller.name)


RequestId = Annotated[str, Path(max_length=200, description="the request's id")]


@router.patch("/api/requests/{request_id}", tags=["requests"], summary="Edit a request",
              responses=CHANGE_RESPONSES)  # fmt: skip
def api_edit_request(
    request_id: RequestId,
    body: RequestEdit,
    request: Request,
    if_match: IfMatch = None,
    caller: Caller = Depends(editor),
) -> dict:
    """Name the version you read (`version` or `If-Match`); a stale one is a 409."""
    version = expected(body.version, if_match, what=f"request {request_id}", numeric=False)
    changes = body.model_dump(exclude={"version"}, exclude_none=True)
    return log.edit_request(
        state(request).data, request_id, changes, version=version, who=caller.name
    )


@router.get("/api/requests/pareto", tags=["requests"], summary="Requests by category")
def api_pareto(
    request: Request,
    start: Annotated[str | None, Query(description="only since YYYY-MM-DD")] = None,
    _: Caller = Depends(viewer),
) -> dict:
    """Categories largest first, with share and cumulative share."""
    from salesflow.web.forms import day

    day(start, "start")
    return {"categories": log.pareto(state(request).data, start=start)}


@router.get("/api/requests/{request_id}", tags=["requests"], summary="One request")
def api_request(
    request_id: RequestId, request: Request, response: Response, _: Caller = Depends(viewer)
) -> dict:
    """The request with its `version`, also sent as the `ETag` header."""
    doc = log.get_request(state(request).data, request_id)
    etag(response, doc["version"])
    return doc


def _weekly(st: AppState) -> dict[str, Any] | None:
    from salesflow.errors import SalesflowError, never_a_result
    from salesflow.web.routes.measures import MeasureQuery, measure

    try:
        return measure(st, MeasureQuery(metric="request_volume", period="week"))
    except SalesflowError as exc:  # no weekly chart, unless the data could not be read
        never_a_result(exc)
        return None


def _context(st: AppState, *, category: str | None = None) -> dict[str, Any]:
    rows = log.pareto(st.data)
    weekly = _weekly(st)
    return {
        "requests": log.recent(st.data, limit=25, category=category),
        "pareto": rows,
        "pareto_figure": pareto_figure(rows[:15], "Requests by category") if rows else None,
        "weekly_figure": behaviour_figure(weekly, "Requests per week") if weekly else None,
        "weekly": weekly,
        "categories": log.categories(st.data),
        "channels": CHANNELS,
        "requesters": REQUESTERS,
        "category": category,
        "logged": None,
        "problem": None,
        "form": {},
    }


@router.get("/requests", response_class=HTMLResponse, include_in_schema=False)
def requests_page(
    request: Request, category: str | None = None, _: Caller = Depends(viewer)
) -> HTMLResponse:
    ctx = _context(state(request), category=category or None)
    return render(request, "requests.html", ctx, partial="_requests_panel.html")


@router.post("/requests", response_class=HTMLResponse, include_in_schema=False)
def log_from_form(
    request: Request,
    description: Annotated[str, Form(max_length=5000)] = "",
    category: Annotated[str, Form(max_length=200)] = "",
    channel: Annotated[str, Form(max_length=50)] = "email",
    requester_type: Annotated[str, Form(max_length=50)] = "customer",
    account: Annotated[str, Form(max_length=200)] = "",
    caller: Caller = Depends(editor),
) -> HTMLResponse:
    """The quick entry form: on success the panel comes back with the request on top."""
    from pydantic import ValidationError

    from salesflow.errors import SalesflowError
    from salesflow.web.errors import error_document

    st = state(request)
    form = {"description": description, "category": category, "channel": channel,
            "requester_type": requester_type, "account": account}  # fmt: skip
    logged, problem = None, None
    try:
        body = RequestIn(**{k: v or None for k, v in form.items()})
        logged = log.log_request(st.data, body.model_dump(), who=caller.name)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        problem = {"error": f"{where}: {first['msg']}", "where": None, "hint": None}
    except SalesflowError as exc:
        problem = error_document(exc)
    ctx = _context(st)
    sticky = {"channel": channel, "requester_type": requester_type}  # the next one is alike
    ctx.update(logged=logged, problem=problem, form=form if problem else sticky)
    status = 400 if problem else 200
    return render(request, "requests.html", ctx, partial="_requests_panel.html", status=status)
