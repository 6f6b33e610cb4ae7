"""What every route gets: the app state (workspace data, knowledge store) and the person asking.

``viewer`` lets any signed-in person read; ``editor`` also checks the role and, for cookie
sessions, the CSRF token. Pages redirect to the login form, API calls answer 401 JSON.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import Depends, Request

from salesflow.web.auth import (
    COOKIE,
    AuthError,
    Forbidden,
    LoginThrottle,
    can_edit,
    client_address,
    csrf_token,
    hash_token,
    open_session,
)
from salesflow.web.config import WebSettings
from salesflow.web.data import DataAccess

if TYPE_CHECKING:
    from salesflow.appdb import KnowledgeStore, UserRecord

__all__ = [
    "AppState",
    "Caller",
    "LoginRequired",
    "admin",
    "admin_reader",
    "client_of",
    "editor",
    "own_change",
    "state",
    "viewer",
]


class LoginRequired(AuthError):
    """No valid session: pages redirect to /login, the API answers 401."""


@dataclass
class AppState:
    """Process-wide objects, built once by ``create_app``."""

    web: WebSettings
    data: DataAccess
    throttle: LoginThrottle
    _store: KnowledgeStore | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(cls, web: WebSettings) -> AppState:
        return cls(
            web=web,
            data=DataAccess(web.settings, cache_seconds=web.cache_seconds),
            throttle=LoginThrottle(
                web.login_attempts, web.login_window_minutes * 60, web.login_address_attempts
            ),
        )

    @property
    def store(self) -> KnowledgeStore:
        """The app database, opened (and created when new) on first use."""
        with self._lock:
            if self._store is None:
                from salesflow.appdb import KnowledgeStore

                self._store = KnowledgeStore.open(self.web.settings.resolved_app_url())
            return self._store

    def close(self) -> None:
        self.data.close()
        if self._store is not None:
            self._store.close()


@dataclass(frozen=True)
class Caller:
    """The signed-in person and how they proved it (``cookie`` or ``token``); ``session`` is the
    hash of the cookie's key (what sign-out ends)."""

    user: UserRecord
    via: str
    csrf: str = ""
    session: str = ""

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def can_edit(self) -> bool:
        return can_edit(self.user.role)


def state(request: Request) -> AppState:
    return request.app.state.salesflow


def client_of(request: Request) -> str:
    """The client's address (``X-Forwarded-For`` only from ``[web] trusted_proxies``)."""
    peer = request.client.host if request.client else None
    forwarded = request.headers.get("x-forwarded-for", "")
    return client_address(peer, forwarded, state(request).web.trusted_proxies)


def _from_token(st: AppState, header: str) -> Caller:
    from salesflow.appdb.records import now

    token = header.partition(" ")[2].strip()
    record = st.store.users.token_by_hash(hash_token(token)) if token else None
    if record is None or record.expired(now()):
        raise AuthError(
            "The API token is not valid" if record is None else "The API token has expired",
            hint="Create one with `salesflow user token NAME` and send it as "
            "'Authorization: Bearer TOKEN'",
        )
    user = st.store.users.get(record.user_id)
    if user.disabled:
        raise AuthError(f"The account {user.name!r} is disabled", hint="Ask an admin")
    st.store.users.touch_token(record.id)
    return Caller(user, "token")


def optional_caller(request: Request) -> Caller | None:
    """The caller when signed in (a live session) or holding an API token, else None."""
    from datetime import timedelta

    st = state(request)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return _from_token(st, header)
    key = open_session(st.web.secret_key, request.cookies.get(COOKIE), st.web.session_hours * 3600)
    if key is None:
        return None
    found = st.store.sessions.resolve(
        hash_token(key), idle=timedelta(minutes=st.web.session_idle_minutes)
    )
    if found is None:
        return None
    return Caller(found[1], "cookie", csrf_token(st.web.secret_key, key), hash_token(key))


def viewer(request: Request) -> Caller:
    """Any signed-in person (every role can read)."""
    caller = optional_caller(request)
    if caller is None:
        raise LoginRequired("Please sign in", hint="Open /login")
    request.state.caller = caller
    return caller


async def _sent_csrf(request: Request) -> str:
    sent = request.headers.get("x-csrf-token", "")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value: Any = form.get("csrf_token", "")
        sent = value if isinstance(value, str) else ""
    return sent


async def own_change(request: Request, caller: Caller = Depends(viewer)) -> Caller:
    """Anyone signed in, changing something of their own; cookie sessions send the CSRF token."""
    import hmac

    if caller.via == "cookie":
        sent = await _sent_csrf(request)
        if not sent or not hmac.compare_digest(sent, caller.csrf):
            raise Forbidden(
                "This form has expired or did not come from salesflow (missing CSRF token)",
                hint="Reload the page and try again",
            )
    return caller


async def editor(caller: Caller = Depends(own_change)) -> Caller:
    """An admin or editor; cookie sessions must also send their CSRF token."""
    if not caller.can_edit:
        raise Forbidden(
            f"{caller.name} has the viewer role: viewers can look at everything but change nothing",
            hint="Ask an admin to make you an editor on the Accounts page",
        )
    return caller


def _only_admins(caller: Caller) -> Caller:
    if caller.user.role != "admin":
        raise Forbidden(
            f"Only admins can manage accounts ({caller.name} is {caller.user.role})",
            hint="Ask an admin",
        )
    return caller


def admin(caller: Caller = Depends(editor)) -> Caller:
    """An admin making a change (cookie sessions send their CSRF token)."""
    return _only_admins(caller)


def admin_reader(caller: Caller = Depends(viewer)) -> Caller:
    """An admin looking at accounts, sessions or tokens."""
    return _only_admins(caller)
