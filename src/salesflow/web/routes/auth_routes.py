"""Sign in and out. The login form is protected by a double-submit CSRF cookie; failures are
throttled per account (normalised name) and per client address, and never say whether the name
exists. Signing out deletes the session row, so a copied cookie stops working too.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from salesflow.web.auth import (
    COOKIE,
    AuthError,
    hash_token,
    new_session_key,
    seal_session,
    verify_password,
)
from salesflow.web.deps import (
    Caller,
    client_of,
    editor,
    optional_caller,
    own_change,
    state,
    viewer,
)
from salesflow.web.render import render

router = APIRouter()
LOGIN_CSRF = "salesflow_login_csrf"


def _safe_next(target: str) -> str:
    """Only same-site paths: ``//evil.example`` or ``https://…`` become ``/``."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_page(request: Request, *, next: str, name: str = "", problem=None, status=200):
    st = state(request)
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        {
            "login_csrf": token,
            "next": _safe_next(next),
            "name": name,
            "problem": problem,
            "no_users": not st.store.users.has_admin(),
        },
        status=status,
    )
    response.set_cookie(
        LOGIN_CSRF, token, httponly=True, samesite="strict", secure=st.web.secure_cookies
    )
    return response


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str = "/") -> Response:
    if optional_caller(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, next=next)


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    name: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    st = state(request)
    expected = request.cookies.get(LOGIN_CSRF, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        problem = {"error": "The sign-in form expired", "hint": "Please try again"}
        return _login_page(request, next=next, name=name, problem=problem, status=403)
    client = client_of(request)
    try:
        st.throttle.check(name, client)
    except AuthError as exc:
        problem = {"error": exc.what, "hint": exc.hint}
        return _login_page(request, next=next, name=name, problem=problem, status=429)
    user = st.store.users.by_name(name.strip())
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or user.disabled:
        st.throttle.failed(name, client)
        problem = {"error": "Name or password is wrong", "hint": "Check both and try again"}
        return _login_page(request, next=next, name=name, problem=problem, status=401)
    st.throttle.succeeded(name, client)
    return _start_session(request, user.id, client, next)


def _start_session(request: Request, user_id: int, client: str, next: str) -> Response:
    """A new session row (a fresh key: no session fixation) and its cookie."""
    from datetime import timedelta

    st = state(request)
    key = new_session_key()
    st.store.sessions.start(
        user_id,
        key_hash=hash_token(key),
        lifetime=timedelta(hours=st.web.session_hours),
        client=client,
        user_agent=request.headers.get("user-agent"),
    )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        seal_session(st.web.secret_key, key),
        max_age=int(st.web.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=st.web.secure_cookies,
    )
    response.delete_cookie(LOGIN_CSRF)
    return response


@router.post("/logout", include_in_schema=False)
async def logout(request: Request) -> Response:
    """Signing out needs the CSRF token too (any role may sign out)."""
    from salesflow.web.deps import _sent_csrf

    caller = optional_caller(request)
    sent = await _sent_csrf(request)
    if caller is not None and caller.via == "cookie" and hmac.compare_digest(sent, caller.csrf):
        state(request).store.sessions.end_key(caller.session)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response
    return RedirectResponse("/", status_code=303)


@router.get("/api/me", tags=["account"], summary="Who is signed in")
def me(caller: Caller = Depends(viewer)) -> dict:
    """The signed-in account, its role, and whether it may change things."""
    return {**caller.user.to_dict(), "can_edit": caller.can_edit, "via": caller.via}


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current: str = Field(max_length=1000, description="The password you signed in with")
    new: str = Field(min_length=8, max_length=1000, description="At least 8 characters")


@router.post("/api/me/password", tags=["account"], summary="Change your own password")
def change_password(
    request: Request, body: PasswordChange, caller: Caller = Depends(own_change)
) -> dict:
    """Needs the current password (wrong ones count towards the sign-in throttle); every
    session of the account ends, this one included, so sign in again with the new one."""
    from salesflow.appdb import CURRENT
    from salesflow.errors import SalesflowError
    from salesflow.web.auth import hash_password

    st, client = state(request), client_of(request)
    st.throttle.check(caller.name, client)
    if not verify_password(caller.user.password_hash, body.current):
        st.throttle.failed(caller.name, client)
        raise SalesflowError("The current password is wrong", hint="Type the one you sign in with")
    user = st.store.users.update(
        caller.user.id,
        expected_version=CURRENT,  # your own account, proven by its current password
        password_hash=hash_password(body.new),
        who=caller.name,
    )
    return {**user.to_dict(), "signed_out": True}


@router.post("/api/check-edit", tags=["account"], summary="Check you may change things")
def check_edit(caller: Caller = Depends(editor)) -> dict:
    """200 for admins and editors (with a valid CSRF token when using the cookie), else 403."""
    return {"name": caller.name, "role": caller.user.role}
