"""``[notify]`` in ``salesflow.toml``: where the digest goes and when.

    [notify]
    smtp_host = "mail.example.com"
    smtp_port = 587            # 25 by default; 465 means TLS from the start, else STARTTLS when offered
    smtp_from = "salesflow@example.com"
    smtp_user = "salesflow"    # optional; the password comes from SALESFLOW_SMTP_PASSWORD
    webhook_url = "https://hooks.slack.com/services/…"   # optional, Slack/Teams-compatible
    schedule = "mon 08:00"     # optional: `salesflow serve` sends the digest then
    base_url = "https://salesflow.example.com"           # links in the digest

The password is never written in the file: a file is copied, mailed and committed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from salesflow.errors import ConfigError

if TYPE_CHECKING:
    from salesflow.settings import Settings

__all__ = ["PASSWORD_ENV", "NotifySettings", "notify_settings"]

PASSWORD_ENV = "SALESFLOW_SMTP_PASSWORD"
DEFAULT_BASE_URL = "http://localhost:8000"
KEYS = ("smtp_host", "smtp_port", "smtp_from", "smtp_user", "webhook_url", "schedule", "base_url")


@dataclass(frozen=True)
class NotifySettings:
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str | None = None
    smtp_user: str | None = None
    smtp_password: str | None = None
    webhook_url: str | None = None
    schedule: str | None = None
    base_url: str = DEFAULT_BASE_URL
    where: str = "salesflow.toml"

    @property
    def sends_email(self) -> bool:
        return bool(self.smtp_host)


def notify_settings(settings: Settings, env: Mapping[str, str] | None = None) -> NotifySettings:
    """The ``[notify]`` section, checked; links default to ``[web] public_url``."""
    env = os.environ if env is None else env
    where = f"{settings.config_path} [notify]"
    raw = settings.section("notify")
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise ConfigError(
            f"[notify] has no setting {unknown[0]!r}", where=where, hint=f"Use {', '.join(KEYS)}"
        )
    found = NotifySettings(
        smtp_host=_text(raw, "smtp_host"),
        smtp_port=_port(raw.get("smtp_port", 25), where),
        smtp_from=_text(raw, "smtp_from"),
        smtp_user=_text(raw, "smtp_user"),
        smtp_password=env.get(PASSWORD_ENV) or None,
        webhook_url=_url(_text(raw, "webhook_url"), "webhook_url", where),
        schedule=_text(raw, "schedule"),
        base_url=_url(_text(raw, "base_url"), "base_url", where)
        or str(settings.section("web").get("public_url") or DEFAULT_BASE_URL),
        where=where,
    )
    if found.smtp_host and not found.smtp_from:
        raise ConfigError(
            "[notify] smtp_host is set but smtp_from is not: e-mails need a sender",
            where=where,
            hint='Add smtp_from = "salesflow@your-company.com"',
        )
    if found.smtp_user and not found.smtp_password:
        raise ConfigError(
            f"[notify] smtp_user is set but {PASSWORD_ENV} is empty",
            where=where,
            hint=f"Set the SMTP password in the environment variable {PASSWORD_ENV}",
        )
    if found.schedule:
        from salesflow.notify.schedule import parse_schedule

        parse_schedule(found.schedule, where=where)
    return found


def _text(raw: Mapping[str, object], key: str) -> str | None:
    value = raw.get(key)
    return str(value).strip() or None if value is not None else None


def _port(value: object, where: str) -> int:
    try:
        port = int(str(value))
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise ConfigError(
            f"[notify] smtp_port {value!r} is not a port", where=where, hint="Use 25, 465 or 587"
        )
    return port


def _url(value: str | None, key: str, where: str) -> str | None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise ConfigError(
            f"[notify] {key} {value!r} is not a web address",
            where=where,
            hint="Write it with http:// or https://",
        )
    return value
