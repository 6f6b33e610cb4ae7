"""The workbench: Undesirable Results, their lint, the cause graph and root causes, verdicts
from data, improvements and check-ins.

``lint``, ``causes`` and ``verdict`` are plain dataclasses and functions (no database, no Ibis);
:class:`Workbench` (``service.py``) joins them to a workspace's data and app database, for the
CLI, the web app and notebooks alike. It is imported on first use, so ``lint`` stays light.
"""

from __future__ import annotations

from salesflow.workbench.causes import (
    CauseCycleError,
    CauseGraph,
    CauseGraphError,
    Link,
    Node,
    NodeRank,
    add_link,
    rank,
    tree_lines,
)
from salesflow.workbench.lint import CODES, SHAPE, Finding, LintResult, lint
from salesflow.workbench.verdict import IMPROVEMENT_VERDICTS, UDR_VERDICTS, Verdict

__all__ = [
    "CODES",
    "IMPROVEMENT_VERDICTS",
    "SHAPE",
    "UDR_VERDICTS",
    "CauseCycleError",
    "CauseGraph",
    "CauseGraphError",
    "Finding",
    "Link",
    "LintResult",
    "Node",
    "NodeRank",
    "Verdict",
    "Workbench",
    "add_link",
    "lint",
    "rank",
    "seed_demo_knowledge",
    "tree_lines",
]


def __getattr__(name: str) -> object:
    """``Workbench`` and ``seed_demo_knowledge`` pull in SQLAlchemy: load them when asked for."""
    if name == "Workbench":
        from salesflow.workbench.service import Workbench

        return Workbench
    if name == "seed_demo_knowledge":
        from salesflow.workbench.demo_knowledge import seed_demo_knowledge

        return seed_demo_knowledge
    raise AttributeError(f"module 'salesflow.workbench' has no attribute {name!r}")
