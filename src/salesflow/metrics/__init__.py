"""The metric catalog: sales-process measures as lazy Ibis expressions over the canonical tables.

```python
from salesflow import metrics
metrics.get("win_rate").definition
metrics.series(ws.data, ws.settings, "win_rate", period="quarter", filters={"owner": "Ann"})
metrics.breakdown(ws.data, ws.settings, "win_rate", by="owner")
```
"""

from __future__ import annotations

from salesflow.metrics.base import Metric, Param
from salesflow.metrics.compute import breakdown, expression, series
from salesflow.metrics.registry import catalog, get
from salesflow.metrics.results import Breakdown, Group, Point, Series

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
