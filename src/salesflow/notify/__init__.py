"""Delivering the weekly digest: ``[notify]`` settings, rendering (text, HTML, webhook JSON),
delivery by SMTP and webhook, and the server's schedule.

Sits beside ``report/``: it reads the workbench's digest (:mod:`salesflow.workbench.digest`) and
never imports the web app or the CLI.
"""

from __future__ import annotations

from salesflow.notify.config import NotifySettings, notify_settings
from salesflow.notify.deliver import send_digest

__all__ = ["NotifySettings", "notify_settings", "send_digest"]
