"""A seal beside a DuckDB data file: "nobody has written this file since its flow tables were
made fresh", checked from the file's metadata instead of a checksum of every stage event.

:func:`salesflow.derived.is_fresh_attached` proves freshness by summing a hash of every row of
``stage_events`` (0.4–0.5 s at ten million events): more than a whole 1 % incremental refresh
costs. The importer knows the tables are fresh when it publishes a generation whose refresh
succeeded, so it writes a seal (``<data file>.fresh``, JSON) holding the published file's
identity (device, inode, size, modification and change times in nanoseconds) and the stored
fingerprint. While the file still has that identity and no write-ahead log beside it, no program
has written to it since (DuckDB writes committed changes to the log, then into the file, and a
replaced file has another inode; the seal must be younger than the file's last write, so a write
in the same clock tick as the seal is not missed), so the stored fingerprint still describes ``stage_events``:
only the stage settings need comparing. Any other state (no seal, another identity, a log, a
seal of another fingerprint) answers "unknown" and the caller computes the checksum as before.
"""

from __future__ import annotations

import json
import os
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

from salesflow.filemodes import private_file
from salesflow.storage import WAL_SUFFIX

__all__ = ["SEAL_SUFFIX", "sealed_fingerprint", "write_seal"]

SEAL_SUFFIX = ".fresh"
_TICK = 0.005  # the kernel stamps file times from a clock that ticks every 1-10 ms
_TRIES = 4


def _identity(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def write_seal(data_file: Path, fingerprint: str) -> None:
    """Seal ``data_file`` as published with fresh flow tables stored with ``fingerprint``.

    Call it after the file is in place, holding the write lock. The seal is a cache: a seal that
    cannot be written only means the next reader computes the checksum, so an ``OSError`` here
    removes any old seal and is otherwise ignored (the data itself is already safe)."""
    seal = data_file.with_name(data_file.name + SEAL_SUFFIX)
    identity = _identity(data_file)
    tmp = seal.with_name(seal.name + ".tmp")
    try:
        if identity is None or data_file.with_name(data_file.name + WAL_SUFFIX).exists():
            seal.unlink(missing_ok=True)
            return
        for _ in range(_TRIES):  # until the seal is younger than the file's last write
            tmp.write_text(json.dumps({"file": identity, "fingerprint": fingerprint}))
            os.replace(private_file(tmp), seal)  # as private as the data it describes
            if seal.stat().st_mtime_ns > identity[3]:
                return
            time.sleep(_TICK)
        seal.unlink()
    except OSError:
        for path in (tmp, seal):
            with suppress(OSError):
                path.unlink(missing_ok=True)


def sealed_fingerprint(data_file: Path | str | None, stored: str) -> dict[str, Any] | None:
    """The stored fingerprint (parsed) when a seal vouches that ``data_file`` is unchanged since
    its tables were fresh with exactly ``stored``; None when that cannot be told this way."""
    if not data_file:
        return None
    path = Path(data_file)
    seal = path.with_name(path.name + SEAL_SUFFIX)
    try:
        doc = json.loads(seal.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("fingerprint") != stored:
        return None
    if path.with_name(path.name + WAL_SUFFIX).exists():
        return None  # committed changes not yet folded into the file
    identity = _identity(path)
    if doc.get("file") != identity or identity is None:
        return None
    try:  # a write in the same clock tick as the seal would keep the file's times: distrust it
        if seal.stat().st_mtime_ns <= identity[3]:
            return None
    except OSError:
        return None
    return json.loads(stored)
