"""The Python API: salesflow in notebooks and scripts, the same functions the CLI runs.

```python
import salesflow as sf

ws = sf.open("demo-ws")
ws.metric("win_rate", period="month", by="owner").to_pandas()
ws.udrs().to_pandas()          # each UDR with its verdict from data
ws.causes().svg()              # the cause picture
ws.improvements().chart()      # before and after, on baseline limits
```

Results hold the ``--json`` document of the matching command and offer ``to_pandas()``,
``to_polars()``, ``chart()`` and a notebook display. See docs/tutorial.md.
"""

from __future__ import annotations

from salesflow.api.results import (
    ActivitiesResult,
    CausesResult,
    DriversResult,
    EngagementResult,
    FlowResult,
    ImprovementsResult,
    MetricResult,
    PatternsResult,
    PipelineResult,
    Result,
    UdrsResult,
    WinsResult,
)
from salesflow.api.workspace import Workspace, open

__all__ = [
    "ActivitiesResult",
    "CausesResult",
    "DriversResult",
    "EngagementResult",
    "FlowResult",
    "ImprovementsResult",
    "MetricResult",
    "PatternsResult",
    "PipelineResult",
    "Result",
    "UdrsResult",
    "WinsResult",
    "Workspace",
    "open",
]
