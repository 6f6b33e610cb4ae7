"""The sync log: each file's last known fingerprint and status, and every attempt, in the workspace.

It lives in ``sync-log.json`` beside ``salesflow.toml`` (not in the app database) so the folder sync
needs nothing but the workspace, and it is replaced in one rename so a crash never leaves half of it.
It also keeps each CRM's high-water mark and the extra deal fields its last sync brought (``crm``:
name -> ``{"mark", "fields"}``), moved only by a sync that was applied (see
:mod:`salesflow.sync.apply`).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from salesflow.errors import StorageError

__all__ = ["LOG_FILE", "SyncLog", "read_log"]

LOG_FILE = "sync-log.json"


class SyncLog:
    """``files``: name → ``{size, mtime_ns, sha256, table, status, error}``; ``entries``: attempts;
    ``crm``: CRM name → ``{"mark": ISO-8601 UTC high-water mark, "fields": {column: CRM field}}``."""

    def __init__(
        self,
        path: Path,
        files: dict[str, Any],
        entries: list[dict[str, Any]],
        crm: dict[str, Any] | None = None,
    ) -> None:
        self.path = path
        self.files = files
        self.entries = entries
        self.crm = crm if crm is not None else {}

    @classmethod
    def load(cls, workspace: Path) -> SyncLog:
        path = workspace / LOG_FILE
        if not path.exists():
            return cls(path, {}, [])
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            return cls(path, dict(doc["files"]), list(doc["entries"]), dict(doc.get("crm", {})))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StorageError(
                f"The sync log cannot be read: {exc}",
                where=str(path),
                hint="Move it aside; the next sync then imports every file in the folder again",
            ) from exc

    def save(self) -> None:
        """Write the whole log to a temporary file and rename it over the old one."""
        doc = {"files": self.files, "entries": self.entries, "crm": self.crm}
        text = json.dumps(doc, indent=1)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".sync-log-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise StorageError(
                f"The sync log cannot be written: {exc}", where=str(self.path)
            ) from exc


def read_log(workspace: Path) -> list[dict[str, Any]]:
    """Every recorded attempt, oldest first: a file's ``{at, file, table, status, rows, error}``
    or a CRM's ``{at, source, status, rows: {table: {added, updated, deleted}}, error}``."""
    return SyncLog.load(workspace).entries
