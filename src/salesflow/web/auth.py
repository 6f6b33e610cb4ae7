"""Accounts in the browser: argon2 passwords, signed session cookies, CSRF tokens, API tokens,
login throttling and roles.

Sessions are stateless signed cookies (HMAC-SHA256 with the workspace's secret key), so any
worker can check them. A session names the user and a fingerprint of the password hash: a new
password ends every old session. The CSRF token is derived from the session (synchronizer
token): forms send it as ``csrf_token``, HTMX and API calls made with the cookie send it in
the ``X-CSRF-Token`` header. Requests with ``Authorization: Bearer TOKEN`` need no CSRF token,
because a browser never adds that header on its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from salesflow.errors import SalesflowError

__all__ = [
    "ROLES",
    "AuthError",
    "Forbidden",
    "LoginThrottle",
    "Session",
    "can_edit",
    "csrf_token",
    "hash_password",
    "hash_token",
    "new_api_token",
    "read_session",
    "sign_session",
    "verify_password",
]

ROLES = ("admin", "editor", "viewer")
COOKIE = "salesflow_session"


class AuthError(SalesflowError):
    """Not signed in, or the credentials are wrong (HTTP 401)."""


class Forbidden(SalesflowError):
    """Signed in, but the role does not allow this (HTTP 403)."""


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash (salted; parameters stored in the hash)."""
    if len(password) < 8:
        raise SalesflowError(
            "The password is too short", hint="Use at least 8 characters, ideally a passphrase"
        )
    return _hasher().hash(password)


_DUMMY: list[str] = []


def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches; spends the same time when there is no account."""
    from argon2.exceptions import InvalidHashError, VerificationError

    if stored is None:
        if not _DUMMY:
            _DUMMY.append(_hasher().hash(secrets.token_hex(8)))
        stored, password = _DUMMY[0], password + "\0never"
    try:
        return _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def new_api_token() -> str:
    """A token to show once; only :func:`hash_token` of it is stored."""
    return "sf_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 is enough here: tokens are 256 random bits, not guessable passwords."""
    return hashlib.sha256(token.encode()).hexdigest()


def can_edit(role: str) -> bool:
    return role in ("admin", "editor")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def password_fingerprint(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Session:
    user_id: int
    fingerprint: str
    issued: float
    nonce: str


def sign_session(secret: str, user_id: int, password_hash: str | None) -> str:
    """The cookie value for a fresh session."""
    body = {
        "u": user_id,
        "p": password_fingerprint(password_hash),
        "t": int(time.time()),
        "n": secrets.token_hex(8),
    }
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_mac(secret, payload)}"


def read_session(secret: str, cookie: str | None, max_age_seconds: float) -> Session | None:
    """The session in a cookie, or None when it is missing, forged or expired."""
    if not cookie or "." not in cookie:
        return None
    payload, mac = cookie.rsplit(".", 1)
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        return None
    try:
        body = json.loads(_unb64(payload))
        session = Session(int(body["u"]), str(body["p"]), float(body["t"]), str(body["n"]))
    except (ValueError, KeyError, TypeError):
        return None
    if time.time() - session.issued > max_age_seconds:
        return None
    return session


def csrf_token(secret: str, session: Session) -> str:
    """The synchronizer token of one session (a new login gives a new token)."""
    return _mac(secret, f"csrf:{session.user_id}:{session.nonce}:{session.issued}")


class LoginThrottle:
    """At most ``attempts`` failed logins per user name and client address per window.

    Kept in memory, so with several workers the limit applies per worker.
    """

    def __init__(self, attempts: int = 5, window_seconds: float = 900.0) -> None:
        self.attempts = attempts
        self.window = window_seconds
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        stamps = self._failures[key]
        while stamps and now - stamps[0] > self.window:
            stamps.popleft()
        return stamps

    def check(self, name: str, client: str) -> None:
        """Raise when this name and address have failed too often lately."""
        now = time.monotonic()
        with self._lock:
            stamps = self._recent((name.lower(), client), now)
            if len(stamps) >= self.attempts:
                wait = int(self.window - (now - stamps[0])) // 60 + 1
                raise AuthError(
                    "Too many failed sign-ins for this account from your address",
                    hint=f"Wait {wait} minute(s) and try again, or ask an admin to reset "
                    "your password",
                )

    def failed(self, name: str, client: str) -> None:
        with self._lock:
            self._recent((name.lower(), client), time.monotonic()).append(time.monotonic())

    def succeeded(self, name: str, client: str) -> None:
        with self._lock:
            self._failures.pop((name.lower(), client), None)
