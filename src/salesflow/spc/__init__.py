"""Process behaviour charts: XmR, p, u, Laney p′/u′ and run charts, detection rules, phases.

Pure maths on NumPy arrays (and SciPy for one binomial quantile): no I/O, no pandas. The
contract for callers is in README.md beside this file.

>>> result = chart([5, 6, 5, 7, 6, 5, 6, 5, 6, 30], kind="xmr")
>>> [(s.rule, s.index, s.direction) for s in result.signals]
[('we4', 7, 'down'), ('we1', 9, 'up')]
>>> result.explain(result.signals[1], [f"week {i}" for i in range(1, 11)])
'One point beyond the upper limit on week 10.'
"""

from __future__ import annotations

from salesflow.spc.chart import OVERDISPERSION_SIGMA_Z, chart, choose, resolve_rules
from salesflow.spc.explain import explain, signals_to_dicts
from salesflow.spc.model import CHART_TYPES, ChartResult, ChartType, Direction, Phase, Signal
from salesflow.spc.rules import DEFAULT_RULES, RULES, RUN_CHART_RULES, Rule, Segment

__all__ = [
    "CHART_TYPES",
    "DEFAULT_RULES",
    "OVERDISPERSION_SIGMA_Z",
    "RULES",
    "RUN_CHART_RULES",
    "ChartResult",
    "ChartType",
    "Direction",
    "Phase",
    "Rule",
    "Segment",
    "Signal",
    "chart",
    "choose",
    "explain",
    "resolve_rules",
    "signals_to_dicts",
]
