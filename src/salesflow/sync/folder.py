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
    """One file's outcome: ``status`` is ``imported`` or ``failed`` (with ``error``, a sentence)."""

    file: str
    table: str | None
    status: str
    rows: dict[str, int] = field(default_factory=lambda: {"added": 0, "updated": 0})
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sync_folder(workspace: Workspace, *, now: datetime | None = None) -> list[FileResult]:
    """Import every new or changed file of ``[sync.folder]``; the rest are left alone.

    Each file is imported all or nothing; a failed file does not stop the others. A busy
    workspace stops the sync (nothing recorded for the files not yet tried, so they come next time).
    """
    folder = folder_settings(workspace.settings)
    log = SyncLog.load(workspace.path)
    results = []
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
    stat = path.stat()
    seen = log.files.get(path.name)
    if seen and (seen["size"], seen["mtime_ns"]) == (stat.st_size, stat.st_mtime_ns):
        return None
    digest = _sha256(path)
    fingerprint = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}
    if seen and seen["sha256"] == digest:  # touched, not changed
        log.files[path.name] = {**seen, **fingerprint}
        log.save()
        return None
    result = _import(workspace, folder, path)
    log.files[path.name] = {**fingerprint, "table": result.table, "status": result.status,
                            "error": result.error}  # fmt: skip
    at = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    log.entries.append({"at": at, **result.to_dict()})
    log.save()
    return result


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
    rows = {"added": report.inserted, "updated": report.updated}
    return FileResult(path.name, table, "imported", rows)


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
