"""How the server holds the data source: one connection per process, a lock, and a result cache.

DuckDB lets one process write a file, and a DuckDB connection must not run two queries at once.
Opening a connection costs ~0.2 s (too slow per request), so each server process keeps one,
serialises queries on it with a lock, and caches computed documents (keyed by the question and
a *generation* bumped by every write through the web app; entries also expire after
``cache_seconds`` so changes made elsewhere, e.g. in a PostgreSQL source, show up).
Writes (imports, logged requests) close the connection, run the importer, and reopen it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
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

    @property
    def workspace(self) -> Workspace:
        if self._workspace is None:
            self._workspace = Workspace(self.settings)
        return self._workspace

    @contextmanager
    def reading(self) -> Iterator[BaseBackend]:
        """The shared connection, held by this thread alone until the block ends."""
        with self._lock:
            yield self.workspace.data

    @contextmanager
    def writing(self, *, changes: bool = True) -> Iterator[Workspace]:
        """The workspace with our connection closed, for the importer (which opens its own).

        ``changes=False`` for a dry run: the cache stays valid.
        """
        with self._lock:
            self.workspace.close()
            try:
                yield self.workspace
            finally:
                self.workspace.close()
                if changes:
                    self.generation += 1
                    self._cache.clear()

    def cached(self, key: Hashable, compute: Callable[[BaseBackend], T]) -> T:
        """``compute(con)`` once per key and generation, for at most ``cache_seconds``."""
        now = time.monotonic()
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
