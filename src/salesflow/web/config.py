"""Web app settings: the workspace's ``[web]`` section, then ``SALESFLOW_WEB_*`` environment.

Kept apart from :class:`salesflow.settings.Settings` so the core knows nothing about cookies.
Every key is listed in :data:`KEYS` (a test checks docs/configuration.md names each one).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from salesflow.errors import ConfigError
from salesflow.settings import Settings

__all__ = ["KEYS", "SECRET_FILE", "WebSettings", "check_secret", "web_settings"]

SECRET_FILE = "web-secret.key"
#: Shortest secret accepted: 32 bytes, as many as the HMAC-SHA256 key behind the cookies.
SECRET_BYTES = 32

#: key → default; the number keys must be above 0.
NUMBERS = {
    "max_upload_mb": 50.0,
    "session_hours": 12.0,
    "session_idle_minutes": 60.0,
    "cache_seconds": 300.0,
    "login_attempts": 5,
    "login_address_attempts": 20,
    "login_window_minutes": 15.0,
}
KEYS = ("secure_cookies", "public_url", "trusted_proxies", *NUMBERS)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class WebSettings:
    """What the web layer needs beyond the workspace settings."""

    settings: Settings
    secret_key: str
    secure_cookies: bool = False
    max_upload_mb: float = 50.0
    session_hours: float = 12.0
    session_idle_minutes: float = 60.0
    cache_seconds: float = 300.0
    login_attempts: int = 5
    login_address_attempts: int = 20
    login_window_minutes: float = 15.0
    public_url: str | None = None
    trusted_proxies: tuple[Network, ...] = ()

    @property
    def workspace(self) -> Path:
        return self.settings.workspace

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


def _flag(value: object) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _number(raw: Mapping[str, object], key: str, default: float, where: str) -> float:
    value = raw.get(key, default)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"web.{key} is {value!r}, not a number", where=where) from None
    if number <= 0:
        raise ConfigError(f"web.{key} must be above 0", where=where)
    return number


def _proxies(value: object, where: str) -> tuple[Network, ...]:
    """``[web] trusted_proxies``: addresses or networks (``"10.0.0.0/8"``), as a list or a
    comma-separated string (the environment's form)."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ConfigError("web.trusted_proxies must be a list of addresses", where=where)
    networks = []
    for item in (str(i).strip() for i in items):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(
                f"web.trusted_proxies: {item!r} is not an IP address or network",
                where=where,
                hint='Write addresses like "127.0.0.1" or networks like "10.0.0.0/8"',
            ) from None
    return tuple(networks)


def check_secret(key: str, where: str) -> str:
    """Refuse a secret an attacker could guess or brute-force: it signs every session cookie."""
    if len(key.encode()) < SECRET_BYTES or len(set(key)) < 10:
        raise ConfigError(
            f"The web secret key is too weak ({len(key.encode())} characters, "
            f"{len(set(key))} different): anyone who guesses it can forge sign-in cookies",
            where=where,
            hint=f"Use at least {SECRET_BYTES} random bytes, e.g. "
            '`python -c "import secrets; print(secrets.token_urlsafe(48))"`, or unset it and '
            "let salesflow generate one",
        )
    return key


def _secret(settings: Settings, env: Mapping[str, str]) -> str:
    """``SALESFLOW_SECRET_KEY``, else a random key kept in the workspace (mode 600).

    Every worker and every restart must sign cookies with the same key, or users get logged out.
    """
    given = env.get("SALESFLOW_SECRET_KEY")
    if given:
        return check_secret(given, "SALESFLOW_SECRET_KEY")
    path = settings.workspace / SECRET_FILE
    if not path.is_file():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker wrote it a moment ago
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(secrets.token_urlsafe(48))  # 48 random bytes
    return check_secret(path.read_text(encoding="utf-8").strip(), str(path))


def web_settings(settings: Settings, env: Mapping[str, str] | None = None) -> WebSettings:
    """Defaults < ``[web]`` in salesflow.toml < ``SALESFLOW_WEB_*`` environment."""
    env = os.environ if env is None else env
    raw = dict(settings.section("web"))
    for key in KEYS:
        if f"SALESFLOW_WEB_{key.upper()}" in env:
            raw[key] = env[f"SALESFLOW_WEB_{key.upper()}"]
    where = str(settings.config_path)
    numbers = {key: _number(raw, key, default, where) for key, default in NUMBERS.items()}
    public_url = str(raw.get("public_url", "")).strip() or None
    return WebSettings(
        settings=settings,
        secret_key=_secret(settings, env),
        secure_cookies=_flag(raw.get("secure_cookies", (public_url or "").startswith("https://"))),
        max_upload_mb=numbers["max_upload_mb"],
        session_hours=numbers["session_hours"],
        session_idle_minutes=numbers["session_idle_minutes"],
        cache_seconds=numbers["cache_seconds"],
        login_attempts=int(numbers["login_attempts"]),
        login_address_attempts=int(numbers["login_address_attempts"]),
        login_window_minutes=numbers["login_window_minutes"],
        public_url=public_url,
        trusted_proxies=_proxies(raw.get("trusted_proxies", []), where),
    )
