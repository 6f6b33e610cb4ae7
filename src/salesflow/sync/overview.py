"""What the sync log says, per source, for the web's Data page: when each source last synced
successfully, its last failure, and the latest syncs with the rows they changed per table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from salesflow.sync.log import read_log
from salesflow.sync.schedule import NAMES, SOURCES, sync_sources

if TYPE_CHECKING:
    from salesflow.settings import Settings

__all__ = ["sync_overview"]

LATEST = 12


def sync_overview(settings: Settings, *, latest: int = LATEST) -> dict[str, Any]:
    """``sources``: per source configured or seen in the log, ``{source, name, configured,
    last_success, last_failure, warnings}`` (``warnings``: its last successful sync's); ``entries``: the ``latest`` syncs, newest first, each
    ``{at, source, name, status, rows: {table: {added, updated, deleted}}, error, warnings}``;
    ``every``: the server's ``[sync] every`` as written (``None``: no schedule).

    A sync log that cannot be read raises (a damaged log is not "never synced")."""
    entries = [_entry(e) for e in read_log(settings.workspace)]
    configured = set(sync_sources(settings))
    seen = {e["source"] for e in entries}
    sources = []
    for source in SOURCES:
        if source not in configured and source not in seen:
            continue
        mine = [e for e in entries if e["source"] == source]
        ok = [e for e in mine if e["status"] != "failed"]
        failed = [e for e in mine if e["status"] == "failed"]
        last_failure = (
            failed[-1] if failed and (not ok or failed[-1]["at"] > ok[-1]["at"]) else None
        )
        sources.append(
            {
                "source": source,
                "name": NAMES[source],
                "configured": source in configured,
                "last_success": ok[-1]["at"] if ok else None,
                "warnings": ok[-1]["warnings"] if ok else [],
                "last_failure": (
                    {"at": last_failure["at"], "error": last_failure["error"]}
                    if last_failure
                    else None
                ),
            }
        )
    every = settings.section("sync").get("every")
    return {
        "sources": sources,
        "entries": list(reversed(entries))[:latest],
        "every": every if isinstance(every, str) else None,
    }


def _entry(raw: dict[str, Any]) -> dict[str, Any]:
    """One log entry in one shape: a folder file's rows become rows of its table."""
    if raw.get("file") is not None and raw.get("source") is None:
        rows = None
        if raw.get("rows") is not None and raw.get("table"):
            rows = {raw["table"]: {**raw["rows"], "deleted": 0}}
        return {
            "at": raw["at"],
            "source": "folder",
            "name": raw["file"],
            "status": raw["status"],
            "rows": rows,
            "error": raw.get("error"),
            "warnings": raw.get("warnings") or [],
        }
    source = raw.get("source", "")
    return {
        "at": raw["at"],
        "source": source,
        "name": NAMES.get(source, source),
        "status": raw["status"],
        "rows": raw.get("rows"),
        "error": raw.get("error"),
        "warnings": raw.get("warnings") or [],
    }
