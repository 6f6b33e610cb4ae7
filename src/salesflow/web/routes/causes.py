"""Causes: the cause-and-effect picture (UDRs on top, root causes at the bottom, core problems
highlighted, AND groups as junctions), a "why" from any node, a node's evidence and reach, and
checking a link against the data.

The picture is drawn in the browser by ``static/causes.js`` with the vendored dagre layout; the
graph reaches it only as JSON (``|tojson``), and node texts are set with ``textContent``.
The same ``Workbench`` calls as ``salesflow cause add``, ``why``, ``why check`` and ``causes``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import FormData

from salesflow.errors import SalesflowError, never_a_result
from salesflow.web.deps import Caller, editor, state, viewer
from salesflow.web.forms import MAX_ID, clean, form_data
from salesflow.web.preconditions import CHANGE_RESPONSES, CREATE_RESPONSES, IfMatch, expected
from salesflow.web.render import render, render_cached
from salesflow.web.soft_delete import soft_delete_api, soft_delete_forms
from salesflow.web.workbench import (
    VERDICT_WORDS,
    bench,
    change_then_redirect,
    text_or_none,
    version_of,
)

router = APIRouter()

NodeId = Annotated[int, Path(ge=1, le=MAX_ID, description="a UDR's or cause's id")]
LinkId = Annotated[int, Path(ge=1, le=MAX_ID, description="a why-link's id")]
OUTCOMES = ("won", "cycle_time", "stalled")
Group = Annotated[str | None, Field(default=None, max_length=100)]


class CauseIn(BaseModel):
    """A cause found by asking "why?"."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=1, max_length=2000)
    owner: Annotated[str | None, Field(max_length=200)] = None


class CauseEdit(BaseModel):
    """A cause's new wording or owner (``""``: nobody), with the ``version`` you read."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str | None = Field(default=None, min_length=1, max_length=2000)
    owner: Annotated[str | None, Field(max_length=200)] = None
    version: int | None = Field(default=None, ge=1, le=MAX_ID)


class LinkEdit(BaseModel):
    """A link's new "because…" or AND group (``""`` clears either), with the ``version`` you read."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: Annotated[str | None, Field(max_length=2000)] = None
    group: Group = None
    version: int | None = Field(default=None, ge=1, le=MAX_ID)


class LinkIn(BaseModel):
    """``effect`` happens because of ``cause`` (node ids); ``group`` joins jointly sufficient causes."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    effect: int = Field(ge=1, le=MAX_ID)
    cause: int = Field(ge=1, le=MAX_ID)
    text: Annotated[str | None, Field(max_length=2000)] = None
    group: Group = None
    loop: bool = False


class CheckIn(BaseModel):
    """Which variable measures the cause and which outcome the effect."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    variable: str = Field(min_length=1, max_length=100)
    outcome: Literal["won", "cycle_time", "stalled"] = "won"
    level: Annotated[str | None, Field(max_length=200)] = None
    claims: Literal["worsens", "improves"] = "worsens"


# -- JSON API ---------------------------------------------------------------------------------


@router.get("/api/causes", tags=["causes"], summary="The cause graph, ranked")
def api_causes(request: Request, caller: Caller = Depends(viewer)) -> dict:
    """Nodes with the UDRs they reach, root causes and core problems, and every link
    (`salesflow causes --json`)."""
    with bench(request, caller, lock=False) as wb:
        return clean(wb.causes())


@router.post("/api/causes", tags=["causes"], summary="Add a cause", status_code=201)
def api_add_cause(body: CauseIn, request: Request, caller: Caller = Depends(editor)) -> dict:
    with bench(request, caller) as wb:
        return clean(wb.add_cause(body.text, owner=body.owner))


@router.patch("/api/causes/{node_id}", tags=["causes"], summary="Edit a cause",
              responses=CHANGE_RESPONSES)  # fmt: skip
def api_edit_cause(
    node_id: NodeId,
    body: CauseEdit,
    request: Request,
    if_match: IfMatch = None,
    caller: Caller = Depends(editor),
) -> dict:
    """Name the version you read (`version` or `If-Match`); a stale one is a 409 with the
    stored cause in `current`."""
    version = expected(body.version, if_match, what=f"cause {node_id}")
    with bench(request, caller, lock=False) as wb:  # knowledge only: no data lock
        return clean(wb.edit_cause(node_id, expected_version=version, text=body.text,
                                   owner=body.owner))  # fmt: skip


soft_delete_api(
    router,
    "cause",
    "/api/causes",
    param="node_id",
    tag="causes",
    noun="a cause",
    id_doc="a UDR's or cause's id",
    restore_doc="Its links come back with it. The version is optional (`If-Match` is checked).",
)


@router.post("/api/links", tags=["causes"], summary="Add a why-link", status_code=201,
             responses=CREATE_RESPONSES)  # fmt: skip
def api_link(body: LinkIn, request: Request, caller: Caller = Depends(editor)) -> dict:
    """A loop not declared with `loop` is refused with the path it would close (400); a link
    that exists already is a 409."""
    options = body.model_dump(exclude={"effect", "cause"})
    with bench(request, caller) as wb:
        return clean(wb.link(body.effect, body.cause, **options))


@router.patch("/api/links/{link_id}", tags=["causes"], summary="Edit a why-link",
              responses=CHANGE_RESPONSES)  # fmt: skip
def api_edit_link(
    link_id: LinkId,
    body: LinkEdit,
    request: Request,
    if_match: IfMatch = None,
    caller: Caller = Depends(editor),
) -> dict:
    """Its "because…" text or AND group; name the version you read (stale: 409)."""
    version = expected(body.version, if_match, what=f"why-link {link_id}")
    with bench(request, caller, lock=False) as wb:
        return clean(wb.edit_link(link_id, expected_version=version, text=body.text,
                                  group=body.group))  # fmt: skip


soft_delete_api(
    router,
    "link",
    "/api/links",
    param="link_id",
    tag="causes",
    noun="a why-link",
    id_doc="a why-link's id",
)


@router.post("/api/links/{link_id}/check", tags=["causes"], summary="Check a link against the data",
             responses={409: CHANGE_RESPONSES[409]})  # fmt: skip
def api_check(
    link_id: LinkId, body: CheckIn, request: Request, caller: Caller = Depends(editor)
) -> dict:
    """Supports, contradicts or inconclusive, with the effect and its interval; appended to
    the link's evidence (`salesflow why check`). It adds rather than replaces, so it names no
    version; a link changed while the check ran is a 409 (run it again)."""
    with bench(request, caller) as wb:
        return clean(wb.check_link(link_id, **body.model_dump()))


# -- pages ------------------------------------------------------------------------------------


def variables(request: Request) -> list[dict[str, Any]]:
    """The operating variables a link can be checked with (cached per data generation)."""
    from salesflow.analysis import catalog

    st = state(request)

    def compute(con: Any) -> list[dict[str, Any]]:
        cat = catalog(con, st.web.settings)
        return [{"name": v.name, "description": v.description} for v in cat.variables.values()]

    try:
        return st.data.cached(("variables",), compute)
    except SalesflowError as exc:  # no variables to offer, unless the data could not be read
        never_a_result(exc)
        return []


def _picture(doc: dict[str, Any]) -> dict[str, Any]:
    """What the drawing needs, nothing more (texts are set with textContent in the browser)."""
    keys = ("id", "kind", "text", "root", "core", "count", "share", "contradicted")
    nodes = [{k: n.get(k) for k in keys} for n in doc["nodes"]]
    links = [{"id": li["id"], "effect": li["effect"], "cause": li["cause"], "group": li["group"],
              "loop": li["loop"], "check": (li["check"] or {}).get("verdict")}
             for li in doc["links"]]  # fmt: skip
    return {"nodes": nodes, "links": links, "udrs": doc["udrs"]}


def _node_context(doc: dict[str, Any], node_id: int | None) -> dict[str, Any] | None:
    if node_id is None:
        return None
    nodes = {n["id"]: n for n in doc["nodes"]}
    node = nodes.get(node_id)
    if node is None:
        return None
    return {
        "node": node,
        "causes": [{**li, "other": nodes.get(li["cause"])} for li in doc["links"]
                   if li["effect"] == node_id],
        "effects": [{**li, "other": nodes.get(li["effect"])} for li in doc["links"]
                    if li["cause"] == node_id],
        "reached": [nodes[u] for u in node["reaches"] if u in nodes and u != node_id],
    }  # fmt: skip


def _context(request: Request, caller: Caller, node_id: int | None) -> dict[str, Any]:
    with bench(request, caller, lock=False) as wb:
        doc = clean(wb.causes())
        panel = _node_context(doc, node_id)
        if panel is not None:
            panel["history"] = list(reversed(wb.history(panel["node"]["kind"], node_id)))
            panel["removed"] = _removed_whys(wb, doc, node_id)
        deleted = [c for c in wb.store.causes.list(include_deleted=True) if c.deleted_at]
        deleted = [c for c in deleted if wb.store.node_kind(c.id) == "cause"]  # not promoted
    return {
        "doc": doc,
        "picture": _picture(doc),
        "panel": panel,
        "deleted": deleted,
        "unsaved": None,
        "choices": sorted(doc["nodes"], key=lambda n: (n["kind"] != "udr", n["id"])),
        "roots": [n for n in doc["nodes"] if n["root"]],
        "variables": variables(request),
        "outcomes": OUTCOMES,
        "words": VERDICT_WORDS,
        "problem": None,
        "checked": None,
    }


def _removed_whys(wb: Any, doc: dict[str, Any], node_id: int) -> list[dict[str, Any]]:
    """Deleted links from this node to a cause still in the picture: they can be restored."""
    texts = {n["id"]: n["text"] for n in doc["nodes"]}
    return [
        {"id": li.id, "cause": li.cause_id, "text": li.text, "other": texts[li.cause_id]}
        for li in wb.store.links.list(include_deleted=True)
        if li.deleted_at and li.effect_id == node_id and li.cause_id in texts
    ]


def _node_param(request: Request) -> int | None:
    raw = request.query_params.get("node", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@router.get("/causes", response_class=HTMLResponse, include_in_schema=False)
def causes_page(request: Request, caller: Caller = Depends(viewer)) -> HTMLResponse:
    node = _node_param(request)
    return render_cached(
        request, "causes.html", ("causes", node), lambda: _context(request, caller, node)
    )


@router.get("/causes/node/{node_id}", response_class=HTMLResponse, include_in_schema=False)
def node_panel(node_id: NodeId, request: Request, caller: Caller = Depends(viewer)):
    """One node's evidence, links and reach (HTMX swaps it into the side panel)."""
    ctx = _context(request, caller, node_id)
    return render(request, "causes.html", ctx, partial="_node_panel.html")


@router.post("/causes/why", include_in_schema=False)
def why_from_form(
    request: Request, form: FormData = Depends(form_data), caller: Caller = Depends(editor)
) -> Response:
    """Add a why to a node: an existing cause, or a new one typed in the form."""
    effect = _int(form.get("effect"))

    def add_why(wb: Any) -> int:
        cause = _int(form.get("cause"))
        new_text = text_or_none(form.get("new_cause"))
        if new_text:
            cause = wb.add_cause(new_text)["id"]
        if cause is None or effect is None:
            raise SalesflowError(
                "Pick the cause, or type a new one", hint="Answer: why does this happen?"
            )
        wb.link(
            effect,
            cause,
            text=text_or_none(form.get("text")),
            group=text_or_none(form.get("group")),
            loop=form.get("loop") == "on",
        )
        return cause

    return change_then_redirect(
        request,
        caller,
        add_why,
        to=lambda cause: f"/causes?node={cause}",
        on_error=lambda exc: _problem(request, caller, effect, exc),
    )


@router.post("/causes/links/{link_id}/check", include_in_schema=False)
def check_from_form(
    link_id: LinkId,
    request: Request,
    form: FormData = Depends(form_data),
    caller: Caller = Depends(editor),
) -> Response:
    """Run the data check and show its evidence in the node's panel."""
    node = _int(form.get("node"))
    try:
        with bench(request, caller) as wb:
            found = wb.check_link(
                link_id,
                variable=str(form.get("variable") or ""),
                outcome=str(form.get("outcome") or "won"),
                claims="improves" if form.get("claims") == "improves" else "worsens",
            )
    except SalesflowError as exc:
        return _problem(request, caller, node, exc)
    ctx = _context(request, caller, node)
    ctx["checked"] = clean(found["check"])
    return render(request, "causes.html", ctx, partial="_node_panel.html")


@router.post("/causes/links/{link_id}/delete", include_in_schema=False)
def delete_link_from_form(
    link_id: LinkId,
    request: Request,
    form: FormData = Depends(form_data),
    caller: Caller = Depends(editor),
) -> Response:
    node = _int(form.get("node"))
    return change_then_redirect(
        request,
        caller,
        lambda wb: wb.delete("link", link_id, expected_version=version_of(form)),
        to=f"/causes?node={node or ''}",
        on_error=lambda exc: _problem(request, caller, node, exc),
    )


@router.post("/causes/links/{link_id}/edit", include_in_schema=False)
def edit_link_from_form(
    link_id: LinkId,
    request: Request,
    form: FormData = Depends(form_data),
    caller: Caller = Depends(editor),
) -> Response:
    """Reword a why ("because…") or change its AND group; a stale version saves nothing."""
    node = _int(form.get("node"))
    return change_then_redirect(
        request,
        caller,
        lambda wb: wb.edit_link(
            link_id,
            expected_version=version_of(form),
            text=str(form.get("text") or ""),
            group=str(form.get("group") or ""),
        ),
        to=f"/causes?node={node or ''}",
        on_error=lambda exc: _problem(request, caller, node, exc),
    )


@router.post("/causes/links/{link_id}/restore", include_in_schema=False)
def restore_link_from_form(
    link_id: LinkId,
    request: Request,
    form: FormData = Depends(form_data),
    caller: Caller = Depends(editor),
) -> Response:
    node = _int(form.get("node"))
    return change_then_redirect(
        request,
        caller,
        lambda wb: wb.restore("link", link_id),
        to=f"/causes?node={node or ''}",
        on_error=lambda exc: _problem(request, caller, node, exc),
    )


def _problem(
    request: Request,
    caller: Caller,
    node: int | None,
    exc: SalesflowError,
    unsaved: str | None = None,
) -> Response:
    """The node's panel again (HTMX) or the page, showing what is stored now; after a clash
    also the words that were not saved."""
    from salesflow.appdb import ConflictError
    from salesflow.web.errors import error_document, status_of

    ctx = _context(request, caller, node)
    ctx["problem"] = error_document(exc)
    panel = ctx["panel"]
    if isinstance(exc, ConflictError) and unsaved and panel and unsaved != panel["node"]["text"]:
        ctx["unsaved"] = unsaved
    return render(request, "causes.html", ctx, partial="_node_panel.html", status=status_of(exc))


@router.post("/causes/{node_id}/edit", include_in_schema=False)
def edit_cause_from_form(
    node_id: NodeId,
    request: Request,
    form: FormData = Depends(form_data),
    caller: Caller = Depends(editor),
) -> Response:
    """Reword a cause; a stale version saves nothing and shows the stored wording beside yours."""
    text = str(form.get("text") or "")
    return change_then_redirect(
        request,
        caller,
        lambda wb: wb.edit_cause(node_id, expected_version=version_of(form), text=text),
        to=f"/causes?node={node_id}",
        on_error=lambda exc: _problem(request, caller, node_id, exc, text.strip()),
    )


soft_delete_forms(router, "cause", "/causes", gone_to="/causes#deleted-causes",
                  back_to="/causes?node={id}", problem=_problem)  # fmt: skip


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 10 else None
