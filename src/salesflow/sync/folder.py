"""``sync_folder``: import each new or changed export file in the watched folder, once.

A file is known by name, size and modification time; when those differ its SHA-256 decides
whether the content changed (a copy that only touched the file imports nothing). A file that fails
keeps its fingerprint and its error, so it is retried only when it changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesflow.errors import SalesflowError, WorkspaceBusy
from salesflow.sync.config import folder_settings
from salesflow.sync.log import SyncLog

if TYPE_CHECKING:
    from salesflow.sync.config import FolderSettings
    from salesflow.workspace import Workspace

__all__ = ["FileResult", "sync_folder"]


@dataclass
class FileResult:
    """One file's outcome: ``imported`` with ``rows`` added and updated (and the importer's
    ``warnings``: rows kept that a sales leader should know about), or ``failed`` with ``error``,
    a sentence."""

    file: str
    table: str | None
    status: str
    rows: dict[str, int] | None = None  # None when it failed: a failure is not "0 rows"
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sync_folder(workspace: Workspace, *, now: datetime | None = None) -> list[FileResult]:
    """Import every new or changed file of ``[sync.folder]``; the rest are left alone.

    Each file is imported all or nothing; a failed file does not stop the others. A busy
    workspace stops the sync (nothing recorded for the files not yet tried, so they come next time).
    """
    folder = folder_settings(workspace.settings)
    results = []
    # one sync at a time: the log is read, then rewritten after each file
    with workspace.write_lock("a sync of the watched folder"):
        log = SyncLog.load(workspace.path)
        for path in _in_import_order(folder):
            result = _sync_file(workspace, folder, log, path, now)
            if result is not None:
                results.append(result)
    return results


def _in_import_order(folder: FolderSettings) -> list[Path]:
    """Deals before their events and history, so every event finds its deal."""
    from salesflow.schema import TABLES

    order = {name: i for i, name in enumerate(TABLES)}
    return sorted(folder.files(), key=lambda p: (order.get(folder.table_for(p.name), -1), p.name))


def _sync_file(
    workspace: Workspace, folder: FolderSettings, log: SyncLog, path: Path, now: datetime | None
) -> FileResult | None:
    """Import ``path`` if it is new or changed and record the attempt; ``None`` if left alone."""
    try:
        fingerprint = _fingerprint(path, log.files.get(path.name))
    except FileNotFoundError:  # moved away since the folder was listed
        return None
    except OSError as exc:
        return _record(log, path, {}, _unreadable(path, exc), now)
    if fingerprint is None:
        return None
    seen = log.files.get(path.name)
    if seen and seen["sha256"] == fingerprint["sha256"]:  # touched, not changed
        log.files[path.name] = {**seen, **fingerprint}
        log.save()
        return None
    return _record(log, path, fingerprint, _import(workspace, folder, path), now)


def _fingerprint(path: Path, seen: dict[str, Any] | None) -> dict[str, Any] | None:
    """Size, modification time and SHA-256; ``None`` when size and time are as last seen."""
    stat = path.stat()
    if seen and (seen["size"], seen["mtime_ns"]) == (stat.st_size, stat.st_mtime_ns):
        return None
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": _sha256(path)}


def _record(
    log: SyncLog, path: Path, fingerprint: dict[str, Any], result: FileResult, now: datetime | None
) -> FileResult:
    state = {"table": result.table, "status": result.status, "error": result.error}
    log.files[path.name] = {"size": None, "mtime_ns": None, "sha256": None, **fingerprint, **state}
    at = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    log.entries.append({"at": at, **result.to_dict()})
    log.save()
    return result


def _unreadable(path: Path, exc: OSError) -> FileResult:
    reason = exc.strerror or str(exc)
    return FileResult(
        path.name,
        None,
        "failed",
        error=f"{path.name} cannot be read ({reason}); check its permissions",
    )


def _import(workspace: Workspace, folder: FolderSettings, path: Path) -> FileResult:
    from salesflow.ingest import import_file

    table = folder.table_for(path.name)
    if table is None:
        return FileResult(path.name, None, "failed", error=_no_table(path.name))
    try:
        report = import_file(workspace, table, path, preset=folder.preset)
    except WorkspaceBusy:
        raise
    except SalesflowError as exc:
        return FileResult(path.name, table, "failed", error=exc.message)
    rows = {"added": report.inserted, "updated": report.updated, "unchanged": report.unchanged}
    return FileResult(path.name, table, "imported", rows, warnings=report.warnings)


def _no_table(name: str) -> str:
    from salesflow.schema import TABLES

    return (
        f"{name} does not say which table it feeds. Start its name with a table's name "
        f"({', '.join(TABLES)}), or map it in [sync.folder.tables]"
    )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
