"""Accounts in the browser: argon2 passwords, revocable sessions, CSRF tokens, API tokens,
login throttling and roles.

A session is a row in the app DB (``appdb/sessions.py``); the cookie carries its random key,
signed with the workspace's secret by itsdangerous, so a forged cookie is refused before the
database is asked. Deleting the row ends the session at once. The CSRF token is the signature of
the session key (synchronizer token): forms send it as ``csrf_token``, HTMX and API calls made
with the cookie send it in the ``X-CSRF-Token`` header. Requests with ``Authorization: Bearer
TOKEN`` need no CSRF token, because a browser never adds that header on its own.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import defaultdict, deque

from salesflow.errors import SalesflowError

__all__ = [
    "ROLES",
    "AuthError",
    "Forbidden",
    "LoginThrottle",
    "can_edit",
    "client_address",
    "csrf_token",
    "hash_password",
    "hash_token",
    "new_api_token",
    "new_session_key",
    "normalise_name",
    "open_session",
    "seal_session",
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
    """SHA-256 is enough here: tokens and session keys are 256 random bits, not passwords."""
    return hashlib.sha256(token.encode()).hexdigest()


def can_edit(role: str) -> bool:
    return role in ("admin", "editor")


def new_session_key() -> str:
    """The random key a session cookie carries (256 bits); the app DB keeps only its hash."""
    return secrets.token_urlsafe(32)


def _serializer(secret: str):  # type: ignore[no-untyped-def]
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(secret, salt="salesflow-session")


def seal_session(secret: str, key: str) -> str:
    """The cookie value: the key, signed and timestamped by itsdangerous."""
    return _serializer(secret).dumps(key)


def open_session(secret: str, cookie: str | None, max_age_seconds: float) -> str | None:
    """The key in a cookie, or None when it is missing, forged or older than ``max_age``."""
    from itsdangerous import BadData

    if not cookie:
        return None
    try:
        key = _serializer(secret).loads(cookie, max_age=max_age_seconds)
    except BadData:
        return None
    return key if isinstance(key, str) else None


def csrf_token(secret: str, key: str) -> str:
    """The synchronizer token of one session (a new sign-in gives a new token)."""
    from itsdangerous import Signer

    return Signer(secret, salt="salesflow-csrf").get_signature(key).decode()


def normalise_name(name: str) -> str:
    """The form of a sign-in name the throttle counts: `` Ann`` and ``ANN`` are ``ann``."""
    return " ".join(name.split()).casefold()


class LoginThrottle:
    """Failed sign-ins counted per account (the normalised name, whatever the address) and per
    client address (whatever the name): at most ``attempts`` for one account and
    ``address_attempts`` from one address per window.

    Kept in memory, so with several workers the limits apply per worker.
    """

    def __init__(
        self, attempts: int = 5, window_seconds: float = 900.0, address_attempts: int = 20
    ) -> None:
        self.limits = {"name": attempts, "address": address_attempts}
        self.window = window_seconds
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    @staticmethod
    def _keys(name: str, client: str) -> tuple[tuple[str, str], tuple[str, str]]:
        return ("name", normalise_name(name)), ("address", client)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        stamps = self._failures[key]
        while stamps and now - stamps[0] > self.window:
            stamps.popleft()
        return stamps

    def check(self, name: str, client: str) -> None:
        """Raise when this account or this address has failed too often lately."""
        now = time.monotonic()
        with self._lock:
            for key in self._keys(name, client):
                stamps = self._recent(key, now)
                if len(stamps) >= self.limits[key[0]]:
                    wait = int(self.window - (now - stamps[0])) // 60 + 1
                    whose = "this account" if key[0] == "name" else "your address"
                    raise AuthError(
                        f"Too many failed sign-ins for {whose}",
                        hint=f"Wait {wait} minute(s) and try again, or ask an admin to reset "
                        "your password",
                    )

    def failed(self, name: str, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in self._keys(name, client):
                self._recent(key, now).append(now)

    def succeeded(self, name: str, client: str) -> None:
        """A right password clears the account's count (the address keeps its own)."""
        with self._lock:
            self._failures.pop(self._keys(name, client)[0], None)


def client_address(peer: str | None, forwarded_for: str, trusted: tuple) -> str:  # type: ignore[type-arg]
    """Who sent the request. ``X-Forwarded-For`` is believed only when the connection comes from
    a proxy in ``[web] trusted_proxies``; its entries are read right to left, skipping trusted
    proxies, so the first untrusted one is the client (a client can prepend anything it likes).
    """
    address = peer or "unknown"
    if not _trusted(address, trusted):
        return address
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if not _trusted(hop, trusted):
            return hop[:100]
        address = hop
    return address


def _trusted(address: str, trusted: tuple) -> bool:  # type: ignore[type-arg]
    import ipaddress

    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)
