"""Verdicts from the server's result cache, so workbench pages do not recompute every chart.

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

from salesflow.workbench.service import Workbench

if TYPE_CHECKING:
    from salesflow.appdb import ImprovementRecord, KnowledgeStore, UdrRecord
    from salesflow.web.data import DataAccess
    from salesflow.workbench.verdict import Verdict

__all__ = ["CachedWorkbench", "measure_key"]


def measure_key(kind: str, measure: dict[str, Any] | None, as_of: Any = None) -> tuple[str, str]:
    """A hashable key for what a verdict is computed from (key order does not matter)."""
    body = json.dumps({"measure": measure, "as_of": as_of}, sort_keys=True, default=str)
    return (f"{kind}-verdict", body)


class CachedWorkbench(Workbench):
    """The web app's :class:`Workbench`: same documents, verdicts served from the result cache."""

    def __init__(self, data: DataAccess, store: KnowledgeStore, *, who: str) -> None:
        super().__init__(data.workspace, store, who=who)
        self._data = data

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
