"""Everyone's own view first: the invitation page (no account: the link is the key) and the
leader's page "What the team said" (statements grouped, merged into UDRs, people invited).

The invitation page shows the three starter questions, the lint's advice as the person types,
and what they sent so far; nothing else of salesflow. Its forms carry a CSRF token derived from
the invitation's key as the app's sessions do, bodies are capped at :data:`MAX_BODY` bytes, and
sends and lint calls are limited per invitation and per address (:class:`Budget`).
Inviting and merging need an editor; the same calls as ``salesflow invite`` / ``statements``.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import deque
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import FormData

from salesflow.errors import SalesflowError
from salesflow.web.auth import csrf_token
from salesflow.web.deps import Caller, editor, own_change, state, viewer
from salesflow.web.forms import MAX_ID, clean
from salesflow.web.render import render

router = APIRouter()

Token = Annotated[str, Path(max_length=200, description="the invitation link's token")]
MAX_BODY = 16 * 1024  # three answers of 2,000 characters fit many times over
SENDS = (10, 600.0)  # at most 10 statements per invitation and per address in 10 minutes
LINTS = (240, 600.0)  # lint calls as someone types


class Budget:
    """At most ``limit`` events per key in a sliding ``window`` (seconds), kept in memory."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def spend(self, *keys: str) -> None:
        at = time.monotonic()
        with self._lock:
            queues = [self._events.setdefault(k, deque()) for k in keys]
            for q in queues:
                while q and at - q[0] > self.window:
                    q.popleft()
            if any(len(q) >= self.limit for q in queues):
                raise SalesflowError(
                    "Too many sends from this invitation or this address in a short time",
                    hint=f"Wait {int(self.window // 60)} minutes and try again",
                )
            for q in queues:
                q.append(at)


def _budget(request: Request, name: str, limits: tuple[int, float]) -> Budget:
    """One budget per app and purpose (on ``app.state``, so tests with fresh apps start afresh)."""
    app_state = request.app.state
    with _BUDGETS_LOCK:
        if getattr(app_state, "invite_budgets", None) is None:
            app_state.invite_budgets = {}
        return app_state.invite_budgets.setdefault(name, Budget(*limits))


_BUDGETS_LOCK = threading.Lock()


# -- the invitation page (no account) -----------------------------------------------------------


def _opened(request: Request, token: str) -> tuple[Any, str]:
    from salesflow.workbench.team_view import open_invitation

    st = state(request)
    return open_invitation(st.store, token, secret=st.web.secret_key)


def _invite_page(
    request: Request,
    token: str,
    *,
    form: dict | None = None,
    problem: dict | None = None,
    status: int = 200,
) -> HTMLResponse:
    from salesflow.web.errors import error_document
    from salesflow.workbench.service import lint_doc
    from salesflow.workbench.team_view import QUESTIONS, InvitationError

    try:
        invitation, key = _opened(request, token)
    except InvitationError as exc:
        ctx = {"refused": error_document(exc), "invitation": None, "questions": QUESTIONS}
        return render(request, "invite.html", ctx, status=403)
    sent = state(request).store.statements.list(invitation_id=invitation.id)
    form = form or {}
    ctx = {
        "refused": None,
        "invitation": invitation,
        "token": token,
        "invite_csrf": csrf_token(state(request).web.secret_key, key),
        "questions": QUESTIONS,
        "form": form,
        "sent": sent,
        "thanks": request.query_params.get("sent") == "1" and not problem,
        "lint": lint_doc(form["difficulty"]) if form.get("difficulty") else None,
        "problem": problem,
    }
    return render(request, "invite.html", ctx, status=status)


@router.get("/invite/{token}", response_class=HTMLResponse, include_in_schema=False)
def invite_page(token: Token, request: Request) -> Response:
    return _invite_page(request, token)


@router.get("/invite/{token}/lint", response_class=HTMLResponse, include_in_schema=False)
def invite_lint(
    token: Token, request: Request, difficulty: Annotated[str, Query(max_length=2000)] = ""
) -> Response:
    """The lint's advice as the invited person types (HTMX swaps it into the form)."""
    from salesflow.web.auth import Forbidden
    from salesflow.workbench.service import lint_doc
    from salesflow.workbench.team_view import InvitationError

    try:
        invitation, _ = _opened(request, token)
    except InvitationError as exc:
        raise Forbidden(exc.what, hint=exc.hint) from None
    _budget(request, "lint", LINTS).spend(f"i{invitation.id}", _address(request))
    doc = lint_doc(difficulty) if difficulty.strip() else None
    return render(request, "_partials/_lint.html", {"lint": doc})


@router.post("/invite/{token}", include_in_schema=False)
async def invite_send(token: Token, request: Request) -> Response:
    """Store the answers; post/redirect/get, or the page again with the words kept."""
    from salesflow.web.errors import error_document, status_of
    from salesflow.workbench.team_view import QUESTIONS, InvitationError, send_statement

    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > MAX_BODY:
        problem = {"error": "Your answers are too long to send", "where": None,
                   "hint": "Keep each answer under 2,000 characters"}  # fmt: skip
        return _invite_page(request, token, problem=problem, status=413)
    form: FormData = await request.form()
    answers = {k: str(form.get(k) or "")[:4000] for k in QUESTIONS}
    try:
        invitation, key = _opened(request, token)
    except InvitationError:
        return _invite_page(request, token)  # says why, with nothing else
    sent = str(form.get("csrf_token") or "")
    expected = csrf_token(state(request).web.secret_key, key)
    try:
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            raise SalesflowError(
                "This form has expired or did not come from salesflow (missing CSRF token)",
                hint="Reload the page and send your answers again",
            )
        _budget(request, "send", SENDS).spend(f"i{invitation.id}", _address(request))
        send_statement(state(request).store, invitation, answers)
    except SalesflowError as exc:
        status = 403 if "CSRF" in exc.what else status_of(exc)
        return _invite_page(
            request, token, form=answers, problem=error_document(exc), status=status
        )
    return RedirectResponse(f"/invite/{token}?sent=1", status_code=303)


def _address(request: Request) -> str:
    from salesflow.web.deps import client_of

    return f"a{client_of(request)}"


# -- the leader's page ------------------------------------------------------------------------


class MergeIn(BaseModel):
    """Statements to merge into one UDR: a new one (``statement``: its wording, default the
    first statement's words) or an existing one (``into``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=200)
    into: int | None = Field(default=None, ge=1, le=MAX_ID)
    statement: str | None = Field(default=None, min_length=1, max_length=2000)


@router.get("/api/statements", tags=["udrs"], summary="What the team said, grouped")
def api_statements(request: Request, _: Caller = Depends(viewer)) -> dict:
    """Statements not merged yet, grouped by what people have in common (`salesflow statements`)."""
    from salesflow.workbench.team_view import grouped_statements

    return clean(grouped_statements(state(request).store))


@router.post("/api/statements/merge", tags=["udrs"], summary="Merge statements into one UDR")
def api_merge(body: MergeIn, request: Request, caller: Caller = Depends(editor)) -> dict:
    """One UDR keeping every contributor and their words (`salesflow statements merge`)."""
    from salesflow.workbench.team_view import merge_statements

    doc = merge_statements(
        state(request).store, body.ids, who=caller.name, into=body.into, statement=body.statement
    )
    return clean(doc)


def _leader_context(request: Request, **extra: Any) -> dict[str, Any]:
    from salesflow.workbench.team_view import QUESTIONS, grouped_statements

    store = state(request).store
    invitations = [
        {**i.to_dict(), "statements": store.statements.count_for(i.id)}
        for i in store.invitations.list()
    ]
    return {
        **grouped_statements(store),
        "questions": QUESTIONS,
        "invitations": invitations,
        "udrs": store.udrs.list(),
        "made": None,
        "form": {},
        "lint": None,
        "problem": None,
        **extra,
    }


def _leader_page(request: Request, status: int = 200, **extra: Any) -> HTMLResponse:
    return render(request, "statements.html", _leader_context(request, **extra), status=status)


def _refused(request: Request, exc: SalesflowError, **extra: Any) -> HTMLResponse:
    from salesflow.web.errors import error_document, status_of

    return _leader_page(request, status_of(exc), problem=error_document(exc), **extra)


@router.get("/statements", response_class=HTMLResponse, include_in_schema=False)
def statements_page(request: Request, _: Caller = Depends(viewer)) -> Response:
    return _leader_page(request)


@router.get("/statements/lint", response_class=HTMLResponse, include_in_schema=False)
def own_lint(
    request: Request,
    difficulty: Annotated[str, Query(max_length=2000)] = "",
    _: Caller = Depends(viewer),
) -> Response:
    """The lint's advice as a signed-in person types their own view."""
    from salesflow.workbench.service import lint_doc

    doc = lint_doc(difficulty) if difficulty.strip() else None
    return render(request, "_partials/_lint.html", {"lint": doc})


async def _form(request: Request) -> FormData:
    return await request.form()


@router.post("/statements/invite", include_in_schema=False)
def invite_from_form(
    request: Request, form: FormData = Depends(_form), caller: Caller = Depends(editor)
) -> Response:
    """Invite one person; the page shows their link once."""
    from salesflow.workbench.team_view import invite, parse_expiry

    st = state(request)
    try:
        made = invite(
            st.store,
            str(form.get("name") or ""),
            secret=st.web.secret_key,
            who=caller.name,
            email=str(form.get("email") or "") or None,
            expires=parse_expiry(str(form.get("expires") or "14d")),
        )
    except SalesflowError as exc:
        return _refused(request, exc)
    base = st.web.public_url or str(request.base_url)
    return _leader_page(request, made=made.to_dict(base))


@router.post("/statements/invitations/{invitation_id}/revoke", include_in_schema=False)
def revoke_from_form(
    invitation_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    request: Request,
    _: Caller = Depends(editor),
) -> Response:
    state(request).store.invitations.revoke(invitation_id)
    return RedirectResponse("/statements#invitations", status_code=303)


@router.post("/statements/own", include_in_schema=False)
def own_from_form(
    request: Request, form: FormData = Depends(_form), caller: Caller = Depends(own_change)
) -> Response:
    """A signed-in person (any role) states a result they dislike in their own words."""
    from salesflow.workbench.team_view import QUESTIONS

    answers = {k: str(form.get(k) or "") for k in QUESTIONS}
    try:
        state(request).store.statements.add(
            caller.name,
            answers["difficulty"],
            evidence=answers["evidence"],
            goal=answers["goal"],
        )
    except SalesflowError as exc:
        return _refused(request, exc, form=answers)
    return RedirectResponse("/statements#groups", status_code=303)


@router.post("/statements/merge", include_in_schema=False)
def merge_from_form(
    request: Request, form: FormData = Depends(_form), caller: Caller = Depends(editor)
) -> Response:
    """Merge the ticked statements; the browser goes to the UDR, which lists its contributors."""
    from salesflow.workbench.team_view import merge_statements

    try:
        ids = [int(v) for v in form.getlist("ids")]
        into = str(form.get("into") or "").strip()
        doc = merge_statements(
            state(request).store,
            ids,
            who=caller.name,
            into=int(into) if into else None,
            statement=str(form.get("statement") or "").strip() or None,
        )
    except ValueError:
        return _refused(request, SalesflowError("Pick statements from the list", hint="Tick them"))
    except SalesflowError as exc:
        return _refused(request, exc)
    return RedirectResponse(f"/udrs/{doc['udr']['id']}?merged=1", status_code=303)
