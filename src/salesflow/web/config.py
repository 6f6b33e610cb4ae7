"""Web app settings: the workspace's ``[web]`` section, then ``SALESFLOW_WEB_*`` environment.

Kept apart from :class:`salesflow.settings.Settings` so the core knows nothing about cookies.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from salesflow.errors import ConfigError
from salesflow.settings import Settings

__all__ = ["SECRET_FILE", "WebSettings", "web_settings"]

SECRET_FILE = "web-secret.key"


@dataclass(frozen=True)
class WebSettings:
    """What the web layer needs beyond the workspace settings."""

    settings: Settings
    secret_key: str
    secure_cookies: bool = False
    max_upload_mb: float = 50.0
    session_hours: float = 12.0
    cache_seconds: float = 300.0
    login_attempts: int = 5
    login_window_minutes: float = 15.0

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


def _secret(settings: Settings, env: Mapping[str, str]) -> str:
    """``SALESFLOW_SECRET_KEY``, else a random key kept in the workspace (mode 600).

    Every worker and every restart must sign cookies with the same key, or users get logged out.
    """
    given = env.get("SALESFLOW_SECRET_KEY")
    if given:
        return given
    path = settings.workspace / SECRET_FILE
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key)
    return key


def web_settings(settings: Settings, env: Mapping[str, str] | None = None) -> WebSettings:
    """Defaults < ``[web]`` in salesflow.toml < ``SALESFLOW_WEB_*`` environment."""
    env = os.environ if env is None else env
    raw = dict(settings.section("web"))
    for key in ("secure_cookies", "max_upload_mb", "session_hours", "cache_seconds"):
        if f"SALESFLOW_WEB_{key.upper()}" in env:
            raw[key] = env[f"SALESFLOW_WEB_{key.upper()}"]
    where = str(settings.config_path)
    try:
        secret = _secret(settings, env)
    except FileExistsError:  # another worker wrote it a moment ago
        secret = (settings.workspace / SECRET_FILE).read_text(encoding="utf-8").strip()
    return WebSettings(
        settings=settings,
        secret_key=secret,
        secure_cookies=_flag(raw.get("secure_cookies", False)),
        max_upload_mb=_number(raw, "max_upload_mb", 50.0, where),
        session_hours=_number(raw, "session_hours", 12.0, where),
        cache_seconds=_number(raw, "cache_seconds", 300.0, where),
    )
