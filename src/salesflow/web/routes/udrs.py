"""UDRs: the list and the board by verdict, adding and editing with lint feedback as you type,
binding a measure (chart and verdict at once), delete and restore, history.

The same ``Workbench`` calls as ``salesflow udr add|lint|bind|list|show``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import FormData

from salesflow.errors import SalesflowError
from salesflow.web.deps import Caller, editor, state, viewer
from salesflow.web.forms import DIMENSIONS, MAX_ID, clean, form_data
from salesflow.web.preconditions import CHANGE_RESPONSES, IfMatch, etag, expected
from salesflow.web.render import render, render_cached
from salesflow.web.soft_delete import soft_delete_api, soft_delete_forms
from salesflow.web.workbench import (
    VERDICT_WORDS,
    bench,
    change_then_redirect,
    measure_fields,
    metric_choices,
    text_or_none,
    udr_figure,
    version_of,
)
from salesflow.workbench.measures import threshold_input

router = APIRouter()

Id = Annotated[int, Path(ge=1, le=MAX_ID, description="the UDR's id")]
BOARD = ("confirmed", "contradicted", "insufficient_data", "unbound")
Short = Annotated[str | None, Field(default=None, max_length=200)]
Season = Annotated[
    str | None,
    Field(default=None, max_length=40, description="Only these parts of the year: Q4, Nov-Dec"),
]

# In the metric's unit: 0.15 or "15%" for a share, 7 for days; checked against the metric.
Threshold = Annotated[
    float | Annotated[str, Field(max_length=40)] | None,
    Field(default=None, description="0.15 or '15%' for a share; 7 for 7 days"),
]


class UdrIn(BaseModel):
    """A new UDR in the manager's words."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    statement: str = Field(min_length=1, max_length=2000)
    owner: Short = None
    tags: list[Annotated[str, Field(max_length=100)]] = Field(default=[], max_length=20)


class UdrEdit(BaseModel):
    """Changes to a UDR with the ``version`` you read, here or as ``If-Match`` (stale: 409)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    version: int | None = Field(default=None, ge=1, le=MAX_ID)
    statement: str | None = Field(default=None, min_length=1, max_length=2000)
    owner: Short = None
    tags: list[Annotated[str, Field(max_length=100)]] | None = Field(default=None, max_length=20)


class BindingIn(BaseModel):
    """A measure: a catalog metric, one value per filter, the bad direction, a threshold;
    ``season`` (Q4, Nov-Dec) keeps only those parts of the year."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    metric: str = Field(min_length=1, max_length=100)
    bad_if: Literal["above", "below"]
    period: Literal["week", "month", "quarter"] = "month"
    season: Season = None
    filters: dict[Annotated[str, Field(max_length=100)], Annotated[str, Field(max_length=200)]] = {}
    params: dict[Annotated[str, Field(max_length=100)], Annotated[str, Field(max_length=200)]] = {}
    threshold: Threshold = None
    version: int | None = Field(default=None, ge=1, le=MAX_ID)


def _tags(text: Any) -> list[str]:
    return [t.strip() for t in str(text or "").split(",") if t.strip()]


# -- JSON API ---------------------------------------------------------------------------------


@router.get("/api/udrs", tags=["udrs"], summary="UDRs with their verdicts")
def api_list(request: Request, caller: Caller = Depends(viewer)) -> dict:
    """Every UDR with its verdict in brief, as `salesflow udr list --json`."""
    with bench(request, caller, lock=False) as wb:
        return clean({"udrs": wb.list_udrs()})


@router.post("/api/udrs", tags=["udrs"], summary="Add a UDR", status_code=201)
def api_add(body: UdrIn, request: Request, caller: Caller = Depends(editor)) -> dict:
    """Store it; its lint findings come back as advice (`salesflow udr add`)."""
    with bench(request, caller) as wb:
        return clean(wb.add_udr(body.statement, owner=body.owner, tags=body.tags))


@router.get("/api/udrs/lint", tags=["udrs"], summary="Lint a statement")
def api_lint(
    request: Request,
    statement: Annotated[str, Query(max_length=2000)] = "",
    _: Caller = Depends(viewer),
) -> dict:
    """Findings (SOLUTION, CAUSE, VAGUE, UNMEASURED, BLAME, COMPOUND), as `salesflow udr lint`."""
    from salesflow.workbench.service import lint_doc

    return lint_doc(statement)


@router.get("/api/udrs/{udr_id}", tags=["udrs"], summary="One UDR with its evidence")
def api_show(
    udr_id: Id, request: Request, response: Response, caller: Caller = Depends(viewer)
) -> dict:
    """Lint, verdict with its chart and numbers, and its causes (`salesflow udr show`); the
    `ETag` header is its version."""
    with bench(request, caller, lock=False) as wb:
        doc = clean(wb.show_udr(udr_id))
    etag(response, doc["version"])
    return doc


@router.patch("/api/udrs/{udr_id}", tags=["udrs"], summary="Edit a UDR", responses=CHANGE_RESPONSES)
def api_edit(
    udr_id: Id,
    body: UdrEdit,
    request: Request,
    if_match: IfMatch = None,
    caller: Caller = Depends(editor),
) -> dict:
    """Name the version you read (`version` or `If-Match`); a stale one is a 409."""
    version = expected(body.version, if_match, what=f"UDR {udr_id}")
    changes = body.model_dump(exclude={"version"}, exclude_none=True)
    with bench(request, caller, lock=False) as wb:  # knowledge only: no data lock
        return clean(wb.edit_udr(udr_id, expected_version=version, **changes))


@router.put("/api/udrs/{udr_id}/binding", tags=["udrs"], summary="Bind a UDR to a measure",
            responses=CHANGE_RESPONSES)  # fmt: skip
def api_bind(
    udr_id: Id,
    body: BindingIn,
    request: Request,
    if_match: IfMatch = None,
    caller: Caller = Depends(editor),
) -> dict:
    """The measure is computed first: a bad one stores nothing. Returns the verdict. Name the
    version you read (`version` or `If-Match`)."""
    version = expected(body.version, if_match, what=f"UDR {udr_id}")
    options = body.model_dump(exclude={"version"})
    with bench(request, caller) as wb:
        return clean(wb.bind_udr(udr_id, expected_version=version, **options))


soft_delete_api(
    router,
    "udr",
    "/api/udrs",
    param="udr_id",
    tag="udrs",
    noun="a UDR",
    id_doc="the UDR's id",
    restore_doc="Only a deleted UDR changes, so the version is optional here "
    "(`If-Match` is checked).",
)


# -- pages ------------------------------------------------------------------------------------


def _list_context(request: Request, caller: Caller, view: str) -> dict[str, Any]:
    with bench(request, caller, lock=False) as wb:
        udrs = wb.list_udrs()
        deleted = [u for u in wb.store.udrs.list(include_deleted=True) if u.deleted_at]
    columns = {v: [u for u in udrs if u["verdict"]["verdict"] == v] for v in BOARD}
    return {
        "udrs": udrs,
        "columns": columns,
        "deleted": deleted,
        "view": "board" if view == "board" else "list",
        "words": VERDICT_WORDS,
        "form": {},
        "lint": None,
        "problem": None,
    }


@router.get("/udrs", response_class=HTMLResponse, include_in_schema=False)
def udrs_page(request: Request, view: str = "list", caller: Caller = Depends(viewer)):
    view = "board" if view == "board" else "list"
    return render_cached(
        request, "udrs.html", ("udrs", view), lambda: _list_context(request, caller, view)
    )


@router.get("/udrs/lint", response_class=HTMLResponse, include_in_schema=False)
def lint_partial(request: Request, statement: str = "", _: Caller = Depends(viewer)):
    """The lint findings as you type (HTMX swaps this into the form)."""
    from salesflow.workbench.service import lint_doc

    doc = lint_doc(statement[:2000]) if statement.strip() else None
    return render(request, "_partials/_lint.html", {"lint": doc})


@router.post("/udrs", include_in_schema=False)
def add_from_form(
    request: Request, form: FormData = Depends(form_data), caller: Caller = Depends(editor)
) -> Response:
    return change_then_redirect(
        request,
        caller,
        lambda wb: wb.add_udr(
            str(form.get("statement") or ""),
            owner=text_or_none(form.get("owner")),
            tags=_tags(form.get("tags")),
        ),
        to=lambda doc: f"/udrs/{doc['udr']['id']}?added=1",
        on_error=lambda exc: _list_problem(request, caller, exc, dict(form)),
    )


def _list_problem(request: Request, caller: Caller, exc: SalesflowError, form: dict) -> Response:
    from salesflow.web.errors import error_document, status_of

    ctx = _list_context(request, caller, "list")
    ctx.update(problem=error_document(exc), form=form)
    return render(request, "udrs.html", ctx, status=status_of(exc))


def _detail_context(request: Request, caller: Caller, udr_id: int) -> dict[str, Any]:
    with bench(request, caller, lock=False) as wb:
        doc = clean(wb.show_udr(udr_id))
        history = wb.history("udr", udr_id)
    binding = doc.get("binding") or {}
    settings = state(request).web.settings
    return {
        "udr": doc,
        "figure": udr_figure(doc, settings),
        "threshold_input": threshold_input(binding, settings),
        "history": list(reversed(history)),
        "catalog": metric_choices(request),
        "dims": DIMENSIONS,
        "words": VERDICT_WORDS,
        "binding": binding,
        "filter_rows": [*binding.get("filters", {}).items(), ("", "")],
        "param_rows": [*binding.get("params", {}).items(), ("", "")],
        "lint": doc["lint"],
        "added": request.query_params.get("added") == "1",
        "unsaved": None,
        "problem": None,
    }


@router.get("/udrs/{udr_id}", response_class=HTMLResponse, include_in_schema=False)
def udr_page(udr_id: Id, request: Request, caller: Caller = Depends(viewer)):
    return render(request, "udr.html", _detail_context(request, caller, udr_id))


def _detail_problem(
    request: Request,
    caller: Caller,
    udr_id: int,
    exc: SalesflowError,
    unsaved: str | None = None,
):
    """The page again, showing what is stored now; after a clash also the words not saved."""
    from salesflow.appdb import ConflictError
    from salesflow.web.errors import error_document, status_of

    ctx = _detail_context(request, caller, udr_id)
    ctx["problem"] = error_document(exc)
    if isinstance(exc, ConflictError) and unsaved and unsaved != ctx["udr"]["statement"]:
        ctx["unsaved"] = unsaved
    return render(request, "udr.html", ctx, status=status_of(exc))


@router.post("/udrs/{udr_id}", include_in_schema=False)
def edit_from_form(
    udr_id: Id,
    request: Request,
    form: FormData = Depends(form_data),
    caller: Caller = Depends(editor),
) -> Response:
    """Save the statement, owner and tags; a stale version shows 409 and saves nothing."""
    return change_then_redirect(
        request,
        caller,
        lambda wb: wb.edit_udr(
            udr_id,
            expected_version=version_of(form),
            statement=str(form.get("statement") or ""),
            owner=text_or_none(form.get("owner")) or "",
            tags=_tags(form.get("tags")),
        ),
        to=f"/udrs/{udr_id}",
        on_error=lambda exc: _detail_problem(
            request, caller, udr_id, exc, str(form.get("statement") or "").strip()
        ),
    )


@router.post("/udrs/{udr_id}/bind", include_in_schema=False)
def bind_from_form(
    udr_id: Id,
    request: Request,
    form: FormData = Depends(form_data),
    caller: Caller = Depends(editor),
) -> Response:
    """Bind the picked measure; the page comes back with its chart and verdict."""
    return change_then_redirect(
        request,
        caller,
        lambda wb: wb.bind_udr(
            udr_id,
            expected_version=version_of(form),
            threshold=text_or_none(form.get("threshold")),
            **measure_fields(form),
        ),
        to=f"/udrs/{udr_id}#verdict",
        on_error=lambda exc: _detail_problem(request, caller, udr_id, exc),
    )


soft_delete_forms(router, "udr", "/udrs", gone_to="/udrs", back_to="/udrs/{id}",
                  problem=_detail_problem)  # fmt: skip
