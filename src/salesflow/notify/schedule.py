"""When the server sends the digest: ``[notify] schedule = "mon 08:00"`` as a cron trigger in the
workspace's time zone (APScheduler 3), run in a background thread of ``salesflow serve``.

``"mon 08:00"``, ``"mon,thu 08:30"``, ``"daily 07:00"``; cron can run ``salesflow digest --send``
instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from salesflow.errors import ConfigError, SalesflowError

__all__ = ["Schedule", "parse_schedule", "scheduled_send", "start_scheduler"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PATTERN = re.compile(r"^\s*([a-z,\-]+)\s+(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class Schedule:
    days: str  # cron day_of_week: "mon", "mon,thu", "*"
    hour: int
    minute: int


def parse_schedule(text: str, *, where: str | None = None) -> Schedule:
    """``"mon 08:00"`` → days ``mon`` at 08:00; a schedule that cannot be read is a ConfigError."""
    found = PATTERN.match(text.lower())
    bad = ConfigError(
        f"[notify] schedule {text!r} cannot be read",
        where=where,
        hint='Write a day and a time, like "mon 08:00", "mon,thu 08:30" or "daily 07:00"',
    )
    if not found:
        raise bad
    days, hour, minute = found.group(1), int(found.group(2)), int(found.group(3))
    if days == "daily":
        days = "*"
    elif any(d not in DAYS for d in re.split(r"[,\-]", days)):
        raise bad
    if hour > 23 or minute > 59:
        raise bad
    return Schedule(days, hour, minute)


def start_scheduler(schedule: Schedule, job: Callable[[], Any], *, timezone: str) -> Any:
    """A started background scheduler running ``job`` at ``schedule``; ``.shutdown()`` stops it."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger(
        day_of_week=schedule.days, hour=schedule.hour, minute=schedule.minute, timezone=timezone
    )
    scheduler = BackgroundScheduler(timezone=timezone)
    scheduler.add_job(job, trigger, id="weekly-digest", coalesce=True, max_instances=1)
    scheduler.start()
    return scheduler


def scheduled_send(workspace: str) -> Callable[[], None]:
    """The job ``salesflow serve`` runs at the schedule: send the digest of ``workspace``; a
    failure is written to the server's error output (nobody else is there to read it)."""

    def job() -> None:
        import sys

        from salesflow.notify.config import notify_settings
        from salesflow.notify.deliver import send_digest
        from salesflow.workbench.service import Workbench

        try:
            with Workbench.open(workspace, who="salesflow (schedule)") as bench:
                sent = send_digest(bench, notify_settings(bench.workspace.settings))
        except SalesflowError as exc:
            print(f"The weekly digest was not sent: {exc.message}", file=sys.stderr, flush=True)
            return
        print(
            f"Weekly digest sent: {len(sent['emails'])} e-mails, webhook "
            f"{'posted' if sent['webhook'] else 'not set'}.",
            file=sys.stderr,
            flush=True,
        )

    return job
