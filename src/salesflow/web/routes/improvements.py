"""Improvements: the three questions as the form, the measure's chart with baseline limits, the
start date and the verdict, check-ins as a timeline, and status changes.

The same ``Workbench`` calls as ``salesflow improve add|show|checkin``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import FormData

from salesflow.errors import SalesflowError
from salesflow.web.deps import Caller, editor, state, viewer
from salesflow.web.forms import DIMENSIONS, MAX_ID, clean, form_data
from salesflow.web.preconditions import CHANGE_RESPONSES, IfMatch, etag, expected
from salesflow.web.render import render, render_cached
from salesflow.web.routes.udrs import Season, Threshold
from salesflow.web.soft_delete import soft_delete_api, soft_delete_forms
from salesflow.web.workbench import (
    VERDICT_WORDS,
    bench,
    change_then_redirect,
    improvement_figure,
    measure_fields,
    metric_choices,
    text_or_none,
    version_of,
)

router = APIRouter()

Id = Annotated[int, Path(ge=1, le=MAX_ID, description="the improvement's id")]
STATUSES = ("proposed", "running", "verified", "abandoned")
CADENCES = ("weekly", "fortnightly", "monthly")
Text = Annotated[str | None, Field(default=None, max_length=5000)]
Name = Annotated[str | None, Field(default=None, max_length=200)]
Pairs = dict[Annotated[str, Field(max_length=100)], Annotated[str, Field(max_length=200)]]
Cadence = Annotated[
    Literal["weekly", "fortnightly", "monthly"] | None,
    Field(default=None, description="How often the three questions are asked again (weekly)"),
]


class ImprovementIn(BaseModel):
    """The three questions. The measure (metric, bad_if, baseline, start) is optional as a whole."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    objective: str = Field(
        min_length=1, max_length=5000, description="What do you want to accomplish?"
    )
    why: Text = None
    method: Text = Field(default=None, description="The countermeasure")
    theory: Text = None
    attacks: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(default=[], max_length=50)
    title: Annotated[str | None, Field(max_length=200)] = None
    owner: Name = Field(default=None, description="Who leads it: a user's name")
    cadence: Cadence = None
    metric: Annotated[str | None, Field(max_length=100)] = None
    bad_if: Literal["above", "below"] | None = None
    period: Literal["week", "month", "quarter"] = "month"
    season: Season = None
    filters: Pairs = {}
    params: Pairs = {}
    baseline_start: date | None = None
    baseline_end: date | None = None
    start: date | None = None
    target: Threshold = None


class ImprovementEdit(ImprovementIn):
    """What changes, with the ``version`` you read (or ``If-Match``; stale: 409). A field left
    out stays as it is; ``""`` clears an optional text. A new measure starts with ``metric``
    (its old verdict is kept in the history); ``unmeasure`` removes it."""

    objective: Text = Field(default=None, min_length=1)
    period: Literal["week", "month", "quarter"] | None = None
    filters: Pairs | None = None
    params: Pairs | None = None
    attacks: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        default=None, max_length=50
    )
    status: Literal["proposed", "running", "verified", "abandoned"] | None = None
    unmeasure: bool = False
    version: int | None = Field(default=None, ge=1, le=MAX_ID)


class CheckinIn(BaseModel):
    """The three questions asked again, with the answers given."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    answered_by: Name = None
    asked_by: Name = None
    objective: Text = None
    method: Text = None
    measure: Text = None
    note: Text = None
    held_on: date | None = Field(
        default=None, description="The day a check-in held earlier took place (default: today)"
    )


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["proposed", "running", "verified", "abandoned"]
    version: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="The version you read (or send If-Match)"
    )


def _add_options(body: ImprovementIn) -> dict[str, Any]:
    doc = body.model_dump(exclude={"baseline_start", "baseline_end"})
    if body.baseline_start and body.baseline_end:
        doc["baseline"] = f"{body.baseline_start}:{body.baseline_end}"
    if not body.metric:
        for key in ("metric", "bad_if", "filters", "params", "season", "start", "target"):
            doc.pop(key)
    return {k: v for k, v in doc.items() if v is not None}


# -- JSON API ---------------------------------------------------------------------------------


@router.get("/api/improvements", tags=["improvements"], summary="Improvements and verdicts")
def api_list(request: Request, caller: Caller = Depends(viewer)) -> dict:
    with bench(request, caller, lock=False) as wb:
        return clean({"improvements": wb.list_improvements()})


@router.post(
    "/api/improvements", tags=["improvements"], summary="Add an improvement", status_code=201
)
def api_add(body: ImprovementIn, request: Request, caller: Caller = Depends(editor)) -> dict:
    """The measure is computed once first: a bad one stores nothing (`salesflow improve add`)."""
    with bench(request, caller) as wb:
        return clean(wb.add_improvement(**_add_options(body)))


@router.get("/api/improvements/{improvement_id}", tags=["improvements"], summary="One improvement")
def api_show(
    improvement_id: Id, request: Request, response: Response, caller: Caller = Depends(viewer)
) -> dict:
    """The three questions, the verdict with its chart, attacked causes and check-ins; the
    `ETag` header is its version."""
    with bench(request, caller, lock=False) as wb:
        doc = clean(wb.show_improvement(improvement_id))
    etag(response, doc["version"])
    return doc


@router.patch("/api/improvements/{improvement_id}", tags=["improvements"],
              summary="Edit an improvement", responses=CHANGE_RESPONSES)  # fmt: skip
def api_edit(
    improvement_id: Id,
    body: ImprovementEdit,
    request: Request,
    if_match: IfMatch = None,
    caller: Caller = Depends(editor),
) -> dict:
    """Name the version you read (`version` or `If-Match`); a stale one is a 409 with the
    stored improvement in `current`. A new measure is computed first: a bad one stores nothing."""
    version = expected(body.version, if_match, what=f"improvement {improvement_id}")
    changes = body.model_dump(
        exclude={"version", "unmeasure", "baseline_start", "baseline_end"}, exclude_none=True
    )
    if body.baseline_start and body.baseline_end:
        changes["baseline"] = f"{body.baseline_start}:{body.baseline_end}"
    reads_data = body.metric is not None or body.unmeasure  # the old and new verdicts
    with bench(request, caller, lock=reads_data) as wb:
        return clean(
            wb.edit_improvement(
                improvement_id, expected_version=version, unmeasure=body.unmeasure, **changes
            )
        )


soft_delete_api(
    router,
    "improvement",
    "/api/improvements",
    param="improvement_id",
    tag="improvements",
    noun="an improvement",
    id_doc="the improvement's id",
    restore_doc="Only a deleted improvement changes, so the version is optional "
    "(`If-Match` is checked).",
    history_doc="Who changed what and when, with the record before and after (a "
    "rebound measure's old verdict is `before.verdict`).",
)


@router.post("/api/improvements/{improvement_id}/checkins", tags=["improvements"],
             summary="Record a check-in", status_code=201)  # fmt: skip
def api_checkin(
    improvement_id: Id, body: CheckinIn, request: Request, caller: Caller = Depends(editor)
) -> dict:
    with bench(request, caller) as wb:
        return clean(wb.checkin(improvement_id, **body.model_dump()))


@router.put("/api/improvements/{improvement_id}/status", tags=["improvements"],
            summary="Change the status", responses=CHANGE_RESPONSES)  # fmt: skip
def api_status(
    improvement_id: Id,
    body: StatusIn,
    request: Request,
    if_match: IfMatch = None,
    caller: Caller = Depends(editor),
) -> dict:
    """Name the version you read (`version` or `If-Match`); a stale one is a 409."""
    version = expected(body.version, if_match, what=f"improvement {improvement_id}")
    with bench(request, caller, lock=False) as wb:  # knowledge only: no data lock
        return clean(wb.set_status(improvement_id, body.status, expected_version=version))


# -- pages ------------------------------------------------------------------------------------


@router.get("/improvements", response_class=HTMLResponse, include_in_schema=False)
def list_page(request: Request, caller: Caller = Depends(viewer)) -> HTMLResponse:
    return render_cached(
        request, "improvements.html", ("improvements",), lambda: _list_context(request, caller)
    )


def _list_context(request: Request, caller: Caller) -> dict[str, Any]:
    with bench(request, caller, lock=False) as wb:
        items = clean(wb.list_improvements())
        checkins = wb.store.checkins.list()  # a check-in is logged: it bumps the version
        deleted = [i for i in wb.store.improvements.list(include_deleted=True) if i.deleted_at]
    last = {}
    for c in checkins:
        last[c.improvement_id] = c.asked_at.date().isoformat()
    return {"items": items, "last": last, "words": VERDICT_WORDS, "deleted": deleted}


def _form_context(request: Request, caller: Caller, form: dict[str, Any]) -> dict[str, Any]:
    with bench(request, caller) as wb:
        nodes = wb.causes()["nodes"]
    chosen = {"metric": form.get("metric"), "period": form.get("period", "month"),
              "season": form.get("season"), "bad_if": form.get("bad_if", "above")}  # fmt: skip
    return {
        "form": form,
        "people": [u.name for u in state(request).store.users.list() if not u.disabled],
        "cadences": CADENCES,
        "nodes": sorted(nodes, key=lambda n: (not n["root"], n["kind"] == "udr", n["id"])),
        "attacks": {int(a) for a in form.get("attacks", []) if str(a).isdigit()},
        "catalog": metric_choices(request),
        "dims": DIMENSIONS,
        "chosen": chosen,
        "filter_rows": [("", ""), ("", "")],
        "param_rows": [("", "")],
        "problem": None,
    }


@router.get("/improvements/new", response_class=HTMLResponse, include_in_schema=False)
def new_page(request: Request, caller: Caller = Depends(viewer)) -> HTMLResponse:
    if not caller.can_edit:
        from salesflow.web.auth import Forbidden

        raise Forbidden(
            f"{caller.name} has the viewer role: viewers can look at improvements but not add one",
            hint="Ask an admin to make you an editor",
        )
    return render(request, "improvement_new.html", _form_context(request, caller, {}))


@router.post("/improvements", include_in_schema=False)
def add_from_form(
    request: Request, form: FormData = Depends(form_data), caller: Caller = Depends(editor)
) -> Response:
    """The three questions from the form; the measure is checked before anything is stored."""
    values = {k: v for k, v in form.multi_items() if k != "attacks"}
    values["attacks"] = form.getlist("attacks")

    def form_again(exc: SalesflowError) -> Response:
        from salesflow.web.errors import error_document, status_of

        ctx = _form_context(request, caller, values)
        ctx["problem"] = error_document(exc)
        return render(request, "improvement_new.html", ctx, status=status_of(exc))

    return change_then_redirect(
        request,
        caller,
        lambda wb: wb.add_improvement(**_options_from_form(form)),
        to=lambda doc: f"/improvements/{doc['id']}",
        on_error=form_again,
    )


def _options_from_form(form: FormData) -> dict[str, Any]:
    options: dict[str, Any] = {
        key: text_or_none(form.get(key))
        for key in ("objective", "why", "method", "theory", "title", "owner", "cadence")
    }
    options["objective"] = options["objective"] or ""
    options["attacks"] = [int(a) for a in form.getlist("attacks") if str(a).isdigit()]
    options.update(_measure_from_form(form))
    return {k: v for k, v in options.items() if v is not None}


def _measure_from_form(form: FormData) -> dict[str, Any]:
    """The measure picked in a form ({} when no metric is), as ``improve add`` takes it."""
    if not text_or_none(form.get("metric")):
        return {}
    options = measure_fields(form)
    first, last = text_or_none(form.get("baseline_start")), text_or_none(form.get("baseline_end"))
    options["baseline"] = f"{first}:{last}" if first and last else None
    options["start"] = text_or_none(form.get("start"))
    options["target"] = text_or_none(form.get("target"))
    return options


def _detail_context(request: Request, caller: Caller, id: int) -> dict[str, Any]:
    with bench(request, caller, lock=False) as wb:
        doc = clean(wb.show_improvement(id))
        history = wb.history("improvement", id)
    measure = doc["measure"] or {}
    return {
        "imp": doc,
        "measure": measure,
        "catalog": metric_choices(request),
        "dims": DIMENSIONS,
        "filter_rows": [*measure.get("filters", {}).items(), ("", "")],
        "param_rows": [*measure.get("params", {}).items(), ("", "")],
        "figure": improvement_figure(doc, state(request).web.settings),
        "checkins": list(reversed(doc["checkins"])),
        "last": doc["checkins"][-1] if doc["checkins"] else {},
        "today": state(request).web.settings.today().isoformat(),
        "held_on": None,
        "history": list(reversed(history)),
        "statuses": STATUSES,
        "cadences": CADENCES,
        "people": [u.name for u in state(request).store.users.list() if not u.disabled],
        "words": VERDICT_WORDS,
        "problem": None,
        "unsaved": None,
    }


@router.get("/improvements/{improvement_id}", response_class=HTMLResponse, include_in_schema=False)
def detail_page(improvement_id: Id, request: Request, caller: Caller = Depends(viewer)):
    return render(request, "improvement.html", _detail_context(request, caller, improvement_id))


def _problem(
    request: Request,
    caller: Caller,
    id: int,
    exc: SalesflowError,
    typed: dict | None = None,
    unsaved: dict | None = None,
) -> Response:
    """The page again with the refusal, showing what is stored now; ``typed`` keeps a
    check-in's answers as entered, ``unsaved`` the edit's words that were not saved."""
    from salesflow.appdb import ConflictError
    from salesflow.web.errors import error_document, status_of

    ctx = _detail_context(request, caller, id)
    ctx["problem"] = error_document(exc)
    if typed is not None:
        ctx["last"] = {f"{k}_answer": v for k, v in typed.items()}
        ctx["held_on"] = typed["held_on"]
    if isinstance(exc, ConflictError) and unsaved:
        stored = ctx["imp"]
        ctx["unsaved"] = {k: v for k, v in unsaved.items() if v and v != stored.get(k)} or None
    return render(request, "improvement.html", ctx, status=status_of(exc))


EDITED = ("title", "objective", "why", "method", "theory", "owner", "cadence")


@router.post("/improvements/{improvement_id}/edit", include_in_schema=False)
def edit_from_form(
    improvement_id: Id,
    request: Request,
    form: FormData = Depends(form_data),
    caller: Caller = Depends(editor),
) -> Response:
    """Save the three questions' answers, owner and cadence; a stale version saves nothing
    and shows what is stored now beside the words typed."""
    typed = {k: str(form.get(k) or "").strip() for k in EDITED}
    return change_then_redirect(
        request,
        caller,
        lambda wb: wb.edit_improvement(improvement_id, expected_version=version_of(form), **typed),
        to=f"/improvements/{improvement_id}",
        on_error=lambda exc: _problem(request, caller, improvement_id, exc, unsaved=typed),
    )


@router.post("/improvements/{improvement_id}/measure", include_in_schema=False)
def measure_from_form(
    improvement_id: Id,
    request: Request,
    form: FormData = Depends(form_data),
    caller: Caller = Depends(editor),
) -> Response:
    """Measure it differently: the new measure is computed first (a bad one stores nothing),
    and the verdict of the one it replaces stays in the history."""
    return change_then_redirect(
        request,
        caller,
        lambda wb: wb.edit_improvement(
            improvement_id, expected_version=version_of(form), **_measure_from_form(form)
        ),
        to=f"/improvements/{improvement_id}",
        on_error=lambda exc: _problem(request, caller, improvement_id, exc),
    )


soft_delete_forms(router, "improvement", "/improvements", gone_to="/improvements",
                  back_to="/improvements/{id}", problem=_problem)  # fmt: skip


@router.post("/improvements/{improvement_id}/checkins", include_in_schema=False)
def checkin_from_form(
    improvement_id: Id,
    request: Request,
    form: FormData = Depends(form_data),
    caller: Caller = Depends(editor),
) -> Response:
    answers = {k: text_or_none(form.get(k))
               for k in ("answered_by", "objective", "method", "measure", "note", "held_on")}  # fmt: skip
    return change_then_redirect(
        request,
        caller,
        lambda wb: wb.checkin(improvement_id, **answers),
        to=f"/improvements/{improvement_id}#checkins",
        on_error=lambda exc: _problem(request, caller, improvement_id, exc, answers),
    )


@router.post("/improvements/{improvement_id}/status", include_in_schema=False)
def status_from_form(
    improvement_id: Id,
    request: Request,
    form: FormData = Depends(form_data),
    caller: Caller = Depends(editor),
) -> Response:
    return change_then_redirect(
        request,
        caller,
        lambda wb: wb.set_status(
            improvement_id, str(form.get("status") or ""), expected_version=version_of(form)
        ),
        to=f"/improvements/{improvement_id}",
        on_error=lambda exc: _problem(request, caller, improvement_id, exc),
    )
