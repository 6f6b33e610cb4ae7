"""How the server holds the data source: one read-only connection per process, a lock, and a
result cache.

A DuckDB connection must not run two queries at once, and opening one costs ~0.2 s (too slow per
request), so each server process keeps one, read-only, serialises queries on it with a lock, and
caches computed documents keyed by the question and a *generation*. A read-only connection locks
nobody out: writers (this server's imports, the CLI's) build the next data file beside it and swap
it in (:mod:`salesflow.storage`). Before each use the connection checks whether a new file was
swapped in (one ``stat``); if so it reopens and the generation moves on, so cached documents of
older data are never served. Entries also expire after ``cache_seconds`` so changes made in a
database server (PostgreSQL…) show up.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, TypeVar

from salesflow.workspace import Workspace

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from salesflow.settings import Settings

__all__ = ["DataAccess"]

T = TypeVar("T")


class DataAccess:
    """The data source of one workspace, shared by every request of this process."""

    def __init__(self, settings: Settings, *, cache_seconds: float = 300.0, size: int = 256):
        self.settings = settings
        self.cache_seconds = cache_seconds
        self._size = size
        self._lock = threading.RLock()
        self._workspace: Workspace | None = None
        self._cache: OrderedDict[Hashable, tuple[float, int, Any]] = OrderedDict()
        self.generation = 0
        self._seen: tuple[int, int] | None = None  # the data file's generation last followed

    @property
    def workspace(self) -> Workspace:
        if self._workspace is None:
            self._workspace = Workspace(self.settings)
        return self._workspace

    def _follow(self, *, changes: bool = False) -> None:
        """Move to the newest data when a writer has swapped it in (or ``changes`` says so)."""
        live = self.workspace.published
        if changes or live != self._seen:
            self._seen = live
            self.workspace.refresh()
            self.generation += 1
            self._cache.clear()

    @contextmanager
    def reading(self) -> Iterator[BaseBackend]:
        """The shared connection, held by this thread alone until the block ends."""
        with self._lock:
            self._follow()
            yield self.workspace.data

    @contextmanager
    def writing(
        self, *, changes: bool = True, hold: str | None = None, who: str | None = None
    ) -> Iterator[Workspace]:
        """A workspace of its own for the importer; requests go on reading meanwhile.

        ``changes=False`` for a dry run: the cache stays valid. ``hold`` takes the workspace's
        write lock for the whole block (named for whoever waits), so what the block checks
        before importing cannot change before the import is written, whichever process writes.
        """
        writer = Workspace(self.settings)
        try:
            with writer.write_lock(hold, who=who) if hold else nullcontext():
                yield writer
        finally:
            writer.close()
            if changes:
                with self._lock:
                    self._follow(changes=True)

    def cached(self, key: Hashable, compute: Callable[[BaseBackend], T]) -> T:
        """``compute(con)`` once per key and generation, for at most ``cache_seconds``."""
        now = time.monotonic()
        with self._lock:
            self._follow()
        hit = self._cache.get(key)
        if hit is not None and hit[1] == self.generation and now - hit[0] < self.cache_seconds:
            return hit[2]
        with self.reading() as con:
            value = compute(con)
            self._cache[key] = (now, self.generation, value)
            self._cache.move_to_end(key)
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return value

    def close(self) -> None:
        with self._lock:
            if self._workspace is not None:
                self._workspace.close()
