"""Many processes, one workspace: readers open the current data file read-only, one writer at a
time builds the next *generation* of it and swaps it in with one atomic rename.

DuckDB lets one process open a file read-write, or many processes open it read-only, never both.
So nobody ever writes the live file ``data.duckdb`` in place:

- a writer takes the workspace's write lock (:func:`write_lock`: an OS lock on ``data.duckdb.lock``,
  released by the OS if the process dies, with who holds it since when written inside so a waiting
  writer can say so);
- copies ``data.duckdb`` to ``data.duckdb.next`` (:func:`next_generation`), writes there (its import,
  the derived flow tables), closes it (DuckDB checkpoints on close), fsyncs it and renames it over
  ``data.duckdb``, then fsyncs the folder;
- readers that opened the old file keep reading it (the rename does not touch an open file) until
  they reopen; new readers get the new one; the old file's space is freed when its last reader
  closes it.

A ``kill -9`` before the rename leaves ``data.duckdb`` as it was (the next writer removes the
leftover ``.next`` file); after the rename the new data is complete. See docs/concurrency.md.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from salesflow.errors import ConfigError, StorageError, WorkspaceBusy
from salesflow.filemodes import private_file

__all__ = [
    "LOCK_SUFFIX",
    "NEXT_SUFFIX",
    "data_file",
    "default_who",
    "holder",
    "next_generation",
    "read_wait",
    "write_lock",
    "write_wait",
]

LOCK_SUFFIX = ".lock"
NEXT_SUFFIX = ".next"
WAL_SUFFIX = ".wal"
Notify = Callable[[str], None]


def _seconds(name: str, default: float) -> float:
    """A wait in seconds from the environment; a value that is not a number is refused, not ignored."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        seconds = float(raw)
    except ValueError:
        seconds = float("nan")
    if not 0.0 <= seconds < float("inf"):
        raise ConfigError(
            f"{name}={raw!r} is not a number of seconds: set it to e.g. {name}={default:g}, "
            f"or unset it for the default of {default:g} seconds"
        )
    return seconds


def write_wait() -> float:
    """How long a writer waits for another one (``SALESFLOW_WRITE_WAIT``, default 120 s)."""
    return _seconds("SALESFLOW_WRITE_WAIT", 120.0)


def read_wait() -> float:
    """How long a reader retries a file another program holds (``SALESFLOW_READ_WAIT``, 10 s)."""
    return _seconds("SALESFLOW_READ_WAIT", 10.0)


def data_file(url: str) -> Path | None:
    """The DuckDB file behind a resolved data URL (``None`` for in-memory or server backends)."""
    if not url.startswith("duckdb://"):
        return None
    path = url[len("duckdb:///") :]
    return None if path in ("", ":memory:") else Path(path)


def default_who() -> str:
    """Who a change is recorded for: ``SALESFLOW_USER``, else the operating system user."""
    import getpass

    env = os.environ.get("SALESFLOW_USER", "").strip()
    if env:
        return env
    try:
        return getpass.getuser() or "unknown"
    except (OSError, KeyError):
        return "unknown"


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def holder(lock: Path) -> dict | None:
    """Who holds (or last held) the write lock, as they wrote it, or ``None``."""
    try:
        doc = json.loads(lock.read_text(encoding="utf-8") or "null")
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _describe(doc: dict | None) -> str:
    if not doc:
        return "another salesflow process"
    try:
        since = datetime.fromisoformat(doc["since"]).astimezone().strftime("%H:%M")
    except (KeyError, TypeError, ValueError):
        since = "?"
    return (
        f"the {doc.get('what') or 'change'} started by {doc.get('who') or 'someone'} at {since} "
        f"(process {doc.get('pid', '?')} on {doc.get('host', '?')})"
    )


@contextmanager
def write_lock(
    lock: Path,
    what: str,
    *,
    who: str,
    wait: float | None = None,
    notify: Notify | None = None,
) -> Iterator[None]:
    """Hold the workspace's write lock for ``what``, waiting at most ``wait`` seconds for it.

    While waiting it says once, through ``notify`` (default: stderr), whose change it waits for;
    then it raises :class:`WorkspaceBusy`. The OS releases the lock when the process ends, however
    it ends, so a killed writer never leaves the workspace locked.
    """
    import fcntl

    key = str(lock.resolve())
    if key in _held_here():  # this thread holds it already (a check, then the import it guards)
        yield
        return
    limit = write_wait() if wait is None else wait
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        deadline, told = time.monotonic() + limit, False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                busy = _describe(holder(lock))
                if time.monotonic() >= deadline:
                    raise WorkspaceBusy(
                        f"The workspace is busy: {busy} is still writing, so {what} was not done",
                        where=str(lock.parent),
                        hint=f"Try again when it has finished (waited {limit:.0f} s; wait longer "
                        f"with SALESFLOW_WRITE_WAIT=SECONDS)",
                    ) from None
                if not told:
                    (notify or _stderr)(f"Waiting for {busy}… (at most {limit:.0f} s)")
                    told = True
                time.sleep(0.1)
        doc = {
            "what": what,
            "who": who,
            "since": datetime.now().astimezone().isoformat(timespec="seconds"),
            "pid": os.getpid(),
            "host": socket.gethostname(),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(doc).encode(), 0)
        _held_here().add(key)
        try:
            yield
        finally:
            _held_here().discard(key)
    finally:
        os.close(fd)  # closing the descriptor releases the lock


_THREAD = threading.local()


def _held_here() -> set[str]:
    """The write locks this thread holds: taking one again nests instead of waiting for itself."""
    if not hasattr(_THREAD, "held"):
        _THREAD.held = set()
    return _THREAD.held


def _discard(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + WAL_SUFFIX)):
        leftover.unlink(missing_ok=True)


def _fsync(path: Path, *, folder: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if folder else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def next_generation(live: Path, *, fresh: bool = False) -> Iterator[Path]:
    """The path of the next generation of ``live``, published when the block ends without error.

    Call it holding :func:`write_lock`. It starts as a copy of ``live`` (empty with ``fresh``);
    the caller writes it and closes every connection to it inside the block. On error, or if the
    process is killed, ``live`` is untouched and the copy is thrown away.
    """
    nxt = live.with_name(live.name + NEXT_SUFFIX)
    _discard(nxt)  # a writer killed earlier may have left one
    try:
        if live.exists() and not fresh:
            shutil.copyfile(live, nxt)
            wal = live.with_name(live.name + WAL_SUFFIX)  # left by an in-place writer (older
            if wal.exists():  # versions, other programs): the copy replays it when first opened
                shutil.copyfile(wal, nxt.with_name(nxt.name + WAL_SUFFIX))
        yield nxt
        _publish(nxt, live)
    except BaseException:
        _discard(nxt)
        raise


def _publish(nxt: Path, live: Path) -> None:
    if nxt.with_name(nxt.name + WAL_SUFFIX).exists():
        _checkpoint(nxt)
    try:
        private_file(nxt)  # a new generation is as private as the workspace's other files
        _fsync(nxt)
        live.with_name(live.name + WAL_SUFFIX).unlink(missing_ok=True)
        os.replace(nxt, live)
        _fsync(live.parent, folder=True)
    except OSError as exc:
        raise StorageError(
            f"The new data could not be put in place: {exc}",
            where=str(live),
            hint="Check the disk has room for a second copy of the data file and try again",
        ) from exc


def _checkpoint(path: Path) -> None:
    """Fold a write-ahead log into its file (a connection left open would leave one)."""
    import duckdb

    con = duckdb.connect(str(path))
    try:
        con.execute("CHECKPOINT")
    finally:
        con.close()
