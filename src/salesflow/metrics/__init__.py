"""The metric catalog: sales-process measures as lazy Ibis expressions over the canonical tables.

```python
from salesflow import metrics
metrics.get("win_rate").definition
metrics.series(ws.data, ws.settings, "win_rate", period="quarter", filters={"owner": "Ann"})
metrics.breakdown(ws.data, ws.settings, "win_rate", by="owner")
```
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from salesflow.metrics.base import Metric, Param
    from salesflow.metrics.compute import breakdown, expression, series
    from salesflow.metrics.registry import catalog, get
    from salesflow.metrics.results import Breakdown, Group, Point, Series

# Loaded on first use, so a submodule (``salesflow.metrics.process_map``) costs only itself.
_HOME = {
    "Metric": "base",
    "Param": "base",
    "breakdown": "compute",
    "expression": "compute",
    "series": "compute",
    "catalog": "registry",
    "get": "registry",
    "Breakdown": "results",
    "Group": "results",
    "Point": "results",
    "Series": "results",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'salesflow.metrics' has no attribute {name!r}")
    return getattr(import_module(f"salesflow.metrics.{_HOME[name]}"), name)


__all__ = [
    "Breakdown",
    "Group",
    "Metric",
    "Param",
    "Point",
    "Series",
    "breakdown",
    "catalog",
    "expression",
    "get",
    "series",
]
