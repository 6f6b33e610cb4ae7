"""Accounts (admins only): roles, disabling, password resets, sign-in sessions and API tokens.

The same repository calls as ``salesflow user role|disable|enable|reset-password|sessions|token``;
every change is written to the accounts' audit trail with the admin's name. A new role, a new
password or disabling ends the account's sessions at once.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from salesflow.errors import SalesflowError
from salesflow.web.deps import Caller, admin, admin_reader, state
from salesflow.web.forms import MAX_ID, VersionForm, VersionQuery
from salesflow.web.preconditions import CHANGE_RESPONSES, IfMatch, expected
from salesflow.web.render import render

router = APIRouter()

Name = Annotated[str, Path(min_length=1, max_length=200, description="the account's name")]
SessionId = Annotated[int, Path(ge=1, le=MAX_ID, description="the session's id")]
TokenId = Annotated[int, Path(ge=1, le=MAX_ID, description="the API token's id")]
Role = Literal["admin", "editor", "viewer"]
Password = Annotated[str, Field(min_length=8, max_length=1000)]


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role
    version: int | None = Field(default=None, ge=1, le=MAX_ID)


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: Password = Field(description="The new password (at least 8 characters)")
    version: int | None = Field(default=None, ge=1, le=MAX_ID)


def overview(request: Request) -> dict[str, Any]:
    """Accounts, live sessions, API tokens (never their secrets) and the audit trail."""
    store = state(request).store
    users = store.users.list()
    names = {u.id: u.name for u in users}
    return {
        "users": [u.to_dict() for u in users],
        "sessions": [s.to_dict() for s in store.sessions.list()],
        "tokens": [{**t.to_dict(), "user": names.get(t.user_id)} for t in store.users.tokens()],
        "events": [e.to_dict() for e in store.users.events()[-50:]],
    }


def _update(
    request: Request,
    caller: Caller,
    name: str,
    *,
    version: int | None,
    if_match: str | None = None,
    **change: Any,
) -> dict[str, Any]:
    """An admin's change to an account, at the version the admin read (``version`` or
    ``If-Match``): a change made by another admin meanwhile is refused, not overwritten."""
    store = state(request).store
    account = store.users.named(name)  # an unknown name is a 404 before anything else
    at = expected(version, if_match, what=f"account {name}")
    user = store.users.update(account.id, expected_version=at, who=caller.name, **change)
    return user.to_dict()


def _password(
    request: Request,
    caller: Caller,
    name: str,
    password: str,
    *,
    version: int | None,
    if_match: str | None = None,
) -> dict[str, Any]:
    from salesflow.web.auth import hash_password

    return _update(
        request, caller, name, version=version, if_match=if_match,
        password_hash=hash_password(password),
    )  # fmt: skip


@router.get("/api/accounts", tags=["accounts"], summary="Accounts, sessions, tokens, audit")
def accounts_json(request: Request, _: Caller = Depends(admin_reader)) -> dict[str, Any]:
    """Everything an admin needs to look after accounts (admins only)."""
    return overview(request)


@router.post("/api/accounts/{name}/role", tags=["accounts"], summary="Change an account's role",
             responses=CHANGE_RESPONSES)  # fmt: skip
def role_json(
    request: Request,
    name: Name,
    body: RoleIn,
    if_match: IfMatch = None,
    caller: Caller = Depends(admin),
) -> dict:
    """Ends the account's sessions; refused when it would leave no enabled admin."""
    return _update(request, caller, name, version=body.version, if_match=if_match, role=body.role)


@router.post("/api/accounts/{name}/disable", tags=["accounts"], summary="Disable an account",
             responses=CHANGE_RESPONSES)  # fmt: skip
def disable_json(
    request: Request,
    name: Name,
    version: VersionQuery = None,
    if_match: IfMatch = None,
    caller: Caller = Depends(admin),
) -> dict:
    """The account can no longer sign in; its sessions end and its API tokens stop working.
    Name the version you read (`?version=N` or `If-Match`)."""
    return _update(request, caller, name, version=version, if_match=if_match, disabled=True)


@router.post("/api/accounts/{name}/enable", tags=["accounts"], summary="Enable an account",
             responses=CHANGE_RESPONSES)  # fmt: skip
def enable_json(
    request: Request,
    name: Name,
    version: VersionQuery = None,
    if_match: IfMatch = None,
    caller: Caller = Depends(admin),
) -> dict:
    """Name the version you read (`?version=N` or `If-Match`)."""
    return _update(request, caller, name, version=version, if_match=if_match, disabled=False)


@router.post("/api/accounts/{name}/password", tags=["accounts"], summary="Reset a password",
             responses=CHANGE_RESPONSES)  # fmt: skip
def password_json(
    request: Request,
    name: Name,
    body: PasswordIn,
    if_match: IfMatch = None,
    caller: Caller = Depends(admin),
) -> dict:
    """Sets a new password and ends the account's sessions."""
    return _password(request, caller, name, body.password, version=body.version, if_match=if_match)


@router.delete("/api/sessions/{session_id}", tags=["accounts"], summary="End a sign-in session")
def end_session_json(request: Request, session_id: SessionId, caller: Caller = Depends(admin)):
    """The browser holding it is signed out at its next request."""
    return state(request).store.sessions.end(session_id, who=caller.name).to_dict()


@router.delete("/api/tokens/{token_id}", tags=["accounts"], summary="Revoke an API token")
def revoke_json(request: Request, token_id: TokenId, caller: Caller = Depends(admin)) -> dict:
    """The next request carrying the token gets 401."""
    return state(request).store.users.revoke_token(token_id, who=caller.name).to_dict()


# The page and its forms (post/redirect/get).


@router.get("/accounts", include_in_schema=False)
def page(request: Request, _: Caller = Depends(admin_reader)) -> HTMLResponse:
    return _page(request)


def _page(request: Request, problem: dict | None = None, status: int = 200) -> HTMLResponse:
    return render(
        request, "accounts.html", {**overview(request), "problem": problem}, status=status
    )


def _then_back(request: Request, change: Any) -> Response:
    try:
        change()
    except SalesflowError as exc:
        from salesflow.web.errors import error_document, status_of

        return _page(request, error_document(exc), status_of(exc))
    return RedirectResponse("/accounts", status_code=303)


@router.post("/accounts/{name}/role", include_in_schema=False)
def role_form(
    request: Request,
    name: Name,
    role: Annotated[Role, Form()],
    version: VersionForm = None,
    caller: Caller = Depends(admin),
) -> Response:
    return _then_back(request, lambda: _update(request, caller, name, version=version, role=role))


@router.post("/accounts/{name}/password", include_in_schema=False)
def password_form(
    request: Request,
    name: Name,
    password: Annotated[str, Form(max_length=1000)],
    version: VersionForm = None,
    caller: Caller = Depends(admin),
) -> Response:
    return _then_back(request, lambda: _password(request, caller, name, password, version=version))


@router.post("/accounts/{name}/{switch}", include_in_schema=False)
def switch_form(
    request: Request,
    name: Name,
    switch: Literal["disable", "enable"],
    version: VersionForm = None,
    caller: Caller = Depends(admin),
) -> Response:
    disabled = switch == "disable"
    return _then_back(
        request, lambda: _update(request, caller, name, version=version, disabled=disabled)
    )


@router.post("/accounts/sessions/{session_id}/end", include_in_schema=False)
def end_session_form(request: Request, session_id: SessionId, caller: Caller = Depends(admin)):
    store = state(request).store
    return _then_back(request, lambda: store.sessions.end(session_id, who=caller.name))


@router.post("/accounts/tokens/{token_id}/revoke", include_in_schema=False)
def revoke_form(request: Request, token_id: TokenId, caller: Caller = Depends(admin)):
    store = state(request).store
    return _then_back(request, lambda: store.users.revoke_token(token_id, who=caller.name))
