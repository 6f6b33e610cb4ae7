"""The syncs ``salesflow serve`` runs on its own: ``[sync] every = "1h"``.

Every configured source — the watched folder (``[sync.folder]``), Salesforce (``[sync.salesforce]``)
and HubSpot (``[sync.hubspot]``) — is synced once when the server starts and then at that interval,
one after the other, in a background thread (APScheduler 3, as the digest). A failed sync is in the
sync log and on the server's error output; the next run tries again.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from salesflow.errors import ConfigError, SalesflowError
from salesflow.sync.crm import CRM_NAMES

if TYPE_CHECKING:
    from salesflow.settings import Settings

__all__ = [
    "SOURCES",
    "run_syncs",
    "scheduled_syncs",
    "start_sync_scheduler",
    "sync_every",
    "sync_sources",
]

SOURCES = ("folder", "salesforce", "hubspot")  # in the order a scheduled run syncs them
NAMES = {"folder": "the watched folder", **CRM_NAMES}
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")


def sync_every(settings: Settings) -> float | None:
    """``[sync] every`` in seconds (``"1h"``, ``"30m"``, ``"1h30m"``, ``"90s"``); ``None`` unset."""
    value = settings.section("sync").get("every")
    if value is None:
        return None
    where = f"{settings.config_path} [sync] every"
    bad = ConfigError(
        f"{value!r} is not a length of time",
        where=where,
        hint='Write a number and a unit: "1h", "30m", "1h30m", "90s" or "1d"',
    )
    if not isinstance(value, str):
        raise bad
    text = value.strip().lower().replace(" ", "")
    parts = PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise bad
    seconds = sum(float(n) * UNITS[u] for n, u in parts)
    if seconds < 1:
        raise ConfigError(
            f"Syncing every {value!r} is too often", where=where, hint='e.g. every = "1h"'
        )
    return seconds


def sync_sources(settings: Settings) -> list[str]:
    """The sources with a section under ``[sync]``, in :data:`SOURCES` order."""
    section = settings.section("sync")
    return [s for s in SOURCES if isinstance(section.get(s), Mapping)]


def run_syncs(workspace: str, *, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Sync every configured source of ``workspace`` once: per source, the rows per table and
    the warnings, the files imported, or the error sentence (a failed source does not stop the others)."""
    from salesflow.settings import load_settings
    from salesflow.workspace import Workspace

    results: dict[str, Any] = {}
    for source in sync_sources(load_settings(workspace)):
        try:
            ws = Workspace.open(workspace)
            try:
                results[source] = _SYNCS[source](ws, env)
            finally:
                ws.close()
        except SalesflowError as exc:
            results[source] = {"error": exc.message}
    return results


def _folder(ws: Any, env: Mapping[str, str] | None) -> Any:
    from salesflow.sync.folder import sync_folder

    return {"files": [r.to_dict() for r in sync_folder(ws)]}


def _salesforce(ws: Any, env: Mapping[str, str] | None) -> Any:
    from salesflow.sync.salesforce import sync_salesforce

    return asdict(sync_salesforce(ws, env=env))


def _hubspot(ws: Any, env: Mapping[str, str] | None) -> Any:
    from salesflow.sync.hubspot import sync_hubspot

    return asdict(sync_hubspot(ws, env=env))


_SYNCS: dict[str, Callable[[Any, Mapping[str, str] | None], Any]] = {
    "folder": _folder,
    "salesforce": _salesforce,
    "hubspot": _hubspot,
}


def scheduled_syncs(workspace: str) -> Callable[[], None]:
    """The job the server runs: :func:`run_syncs`, each outcome one line on its error output
    (the sync log keeps the details)."""

    def job() -> None:
        for source, result in run_syncs(workspace).items():
            name = NAMES[source]
            if "error" in result:
                line = f"The sync from {name} failed: {result['error']}"
            elif "files" in result:
                failed = sum(f["status"] == "failed" for f in result["files"])
                line = f"Synced {name}: {len(result['files'])} files imported or tried"
                line += f", {failed} failed" if failed else ""
            else:
                rows = result["tables"]
                total = sum(sum(n.values()) for n in rows.values())
                line = f"Synced from {name}: {total:,} rows added, updated or removed"
                line += "".join(f". {w}" for w in result["warnings"])
            print(line, file=sys.stderr, flush=True)

    return job


def start_sync_scheduler(every: float, job: Callable[[], Any], *, timezone: str) -> Any:
    """A started background scheduler running ``job`` now and then every ``every`` seconds, one
    run at a time (a run due while the last one still goes is skipped, never run alongside);
    ``.shutdown()`` stops it."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    scheduler = BackgroundScheduler(timezone=timezone)
    scheduler.add_job(
        job,
        IntervalTrigger(seconds=every, timezone=timezone),
        id="sync",
        coalesce=True,
        max_instances=1,
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    return scheduler
