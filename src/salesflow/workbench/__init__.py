"""The workbench: Undesirable Results, their lint, the cause graph and root causes.

Plain dataclasses and functions — no database, no Ibis, no CLI — so the CLI, the web app and the
app database all share one implementation.
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

__all__ = [
    "CODES",
    "SHAPE",
    "CauseCycleError",
    "CauseGraph",
    "CauseGraphError",
    "Finding",
    "Link",
    "LintResult",
    "Node",
    "NodeRank",
    "add_link",
    "lint",
    "rank",
    "tree_lines",
]
