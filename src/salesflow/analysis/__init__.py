"""Cause and effect from data: operating variables, driver analysis, request-log patterns.

Sits above :mod:`salesflow.metrics` and below the CLI and web app; see docs/analysis.md.
"""

from salesflow.analysis.drivers import (
    DriverResult,
    Effect,
    LinkEvidence,
    analyse,
    default_variables,
    drivers,
    link_verdict,
    variable_effect,
)
from salesflow.analysis.features import Catalog, catalog, describe_variables, feature_frame
from salesflow.analysis.outcomes import metric_outcome, prepare_outcome, usable_outcomes
from salesflow.analysis.prioritise import Priorities, prioritise
from salesflow.analysis.request_log import categorise
from salesflow.analysis.request_patterns import ThemeResult, find_themes, request_patterns
from salesflow.analysis.variables import Variable

__all__ = [
    "Catalog",
    "DriverResult",
    "Effect",
    "LinkEvidence",
    "Priorities",
    "ThemeResult",
    "Variable",
    "analyse",
    "catalog",
    "categorise",
    "default_variables",
    "describe_variables",
    "drivers",
    "feature_frame",
    "find_themes",
    "link_verdict",
    "metric_outcome",
    "prepare_outcome",
    "prioritise",
    "request_patterns",
    "usable_outcomes",
    "variable_effect",
]
