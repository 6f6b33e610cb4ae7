"""Workspace files are private: folders 0700, files 0600, whatever the umask says.

A workspace holds a company's pipeline, its managers' notes on lost deals, password hashes and the
key that signs sessions; on a shared server none of it is for other local users. The CLI also sets
the umask to 077 (:func:`private_umask`), which covers files other libraries create (DuckDB's
write-ahead log, SQLite's journals, reports); these helpers cover library use from Python.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["DIR_MODE", "FILE_MODE", "private_dir", "private_file", "private_umask", "touch_private"]

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if missing; a folder created here gets mode 0700."""
    if not path.exists():
        path.mkdir(parents=True, mode=DIR_MODE, exist_ok=True)
        os.chmod(path, DIR_MODE)  # mkdir's mode is filtered by the umask
    return path


def private_file(path: Path) -> Path:
    """Set an existing file to 0600 (a missing one is left alone)."""
    if path.is_file():
        os.chmod(path, FILE_MODE)
    return path


def touch_private(path: Path) -> Path:
    """Create an empty file with mode 0600 unless it exists, so a library opening it later keeps
    that mode (SQLite gives its journals the database file's mode)."""
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    return path


def private_umask() -> None:
    """New files of this process: 0600, new folders 0700."""
    os.umask(0o077)
