"""Workbench documents and verdicts from the server's result cache, so pages do not recompute.

Documents (the UDR list, one UDR, the cause graph, improvements, history) are keyed by the
*knowledge version*: the id of the latest change in the app database's history, which every
write logs (through this app, the CLI or another server process alike). One cheap query per
request tells whether anything changed, so an edit shows at once for everybody.

A UDR's verdict depends only on its measure binding and the data; an improvement's only on its
measure and the data. The cache key is therefore the binding (or measure) itself plus the data
*generation* of :class:`salesflow.web.data.DataAccess`: an edit that changes the measure asks a
new question and is computed at once, even when it was made from the CLI in another process;
an import through the app bumps the generation; anything else (a PostgreSQL source changed
elsewhere, "today" moving into a new period) shows after ``cache_seconds``. Statements, owners,
tags, history and check-ins are read from the app database on every request.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from salesflow.appdb.records import as_utc
from salesflow.workbench.service import Workbench

if TYPE_CHECKING:
    from salesflow.appdb import ImprovementRecord, KnowledgeStore, UdrRecord
    from salesflow.web.data import DataAccess
    from salesflow.workbench.verdict import Verdict

__all__ = ["CachedWorkbench", "knowledge_version", "measure_key"]


def knowledge_version(store: KnowledgeStore) -> int:
    """The id of the latest change to the knowledge base (0 when there is none)."""
    from sqlalchemy import func, select

    from salesflow.appdb.models import History

    with store.transaction() as session:
        return int(session.scalar(select(func.max(History.id))) or 0)


def measure_key(kind: str, measure: dict[str, Any] | None, as_of: Any = None) -> tuple[str, str]:
    """A hashable key for what a verdict is computed from (key order does not matter)."""
    body = json.dumps({"measure": measure, "as_of": as_of}, sort_keys=True, default=str)
    return (f"{kind}-verdict", body)


class CachedWorkbench(Workbench):
    """The web app's :class:`Workbench`: same documents, served from the result cache.

    Cached documents are shared between requests: callers copy (``clean``) before changing them.
    A ``snapshot`` workbench (a page that only reads) asks the knowledge version once; any other
    asks before every document, since its own writes may come between.
    """

    def __init__(
        self, data: DataAccess, store: KnowledgeStore, *, who: str, snapshot: bool = False
    ) -> None:
        super().__init__(data.workspace, store, who=who)
        self._data = data
        self._snapshot = snapshot
        self._version: int | None = None

    def version(self) -> int:
        """The knowledge version the documents of this workbench are read at."""
        if self._version is None or not self._snapshot:
            self._version = knowledge_version(self.store)
        return self._version

    def _doc(self, key: tuple[Any, ...], compute: Any) -> Any:
        """``compute()`` once per key, knowledge version and data generation."""
        return self._data.cached(("workbench", self.version(), *key), lambda _con: compute())

    def list_udrs(self, *, verdicts: bool = True, include_deleted: bool = False) -> list[dict]:
        return self._doc(("udrs", verdicts, include_deleted),
                         lambda: Workbench.list_udrs(self, verdicts=verdicts,
                                                     include_deleted=include_deleted))  # fmt: skip

    def show_udr(self, id: int) -> dict[str, Any]:
        return self._doc(("udr", id), lambda: Workbench.show_udr(self, id))

    def causes(self) -> dict[str, Any]:
        return self._doc(("causes",), lambda: Workbench.causes(self))

    def list_improvements(self, *, verdicts: bool = True) -> list[dict[str, Any]]:
        return self._doc(("improvements", verdicts),
                         lambda: Workbench.list_improvements(self, verdicts=verdicts))  # fmt: skip

    def show_improvement(self, id: int) -> dict[str, Any]:
        today = self.workspace.settings.today()  # its next check-in moves at midnight
        return self._doc(("improvement", id, today), lambda: Workbench.show_improvement(self, id))

    def history(self, entity: str, id: int) -> list[dict]:
        return self._doc(("history", entity, id), lambda: Workbench.history(self, entity, id))

    def changes_since(self, since: Any) -> list[Any]:
        """The knowledge base's changes after ``since``.

        Read from the start of ``since``'s day and filtered here, so first visits (each with
        its own second) share one cached list instead of one query each.
        """
        day = since.replace(hour=0, minute=0, second=0, microsecond=0)
        every = self._doc(("changes", day), lambda: self.store.changes_since(day))
        return [h for h in every if as_utc(h.at) > as_utc(since)]

    def due_improvements(self, *, today: Any = None) -> list[dict[str, Any]]:
        when = today or self.workspace.settings.today()
        return self._doc(("due", when), lambda: Workbench.due_improvements(self, today=when))

    def checkins(self) -> list[Any]:
        """Every check-in (for Home's "your improvements")."""
        return self._doc(("checkins",), lambda: self.store.checkins.list())

    def udr_verdict(self, record: UdrRecord) -> Verdict:
        if record.binding is None:
            return Workbench.udr_verdict(self, record)
        key = measure_key("udr", record.binding, self.as_of)
        return self._data.cached(key, lambda _con: Workbench.udr_verdict(self, record))

    def improvement_verdict(self, record: ImprovementRecord) -> Verdict:
        if not record.measure:
            return Workbench.improvement_verdict(self, record)
        key = measure_key("improvement", record.measure, self.as_of)
        return self._data.cached(key, lambda _con: Workbench.improvement_verdict(self, record))
