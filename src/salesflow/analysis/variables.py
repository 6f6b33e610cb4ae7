"""Operating variables: the things sales people control, one value per opportunity.

Each :class:`Variable` says what it measures, its type (numeric, categorical, binary) and *when* it
is known — at creation, during the deal, or only after the outcome. The last kind leaks the answer
into a driver model ("days in the last stage" is long for lost deals because losing takes time), so
the driver analysis warns about it and never uses it by default.

Users declare their own in ``salesflow.toml`` in a small form that needs no SQL::

    [variables.discovery_calls]
    description = "Calls logged while the deal was open"
    table = "activities"                 # activities | requests | stage_events
    filter = { type = "call" }           # column = value or [values]
    measure = "count"                    # count | sum | mean | median
    # column = "…"                       # what sum/mean/median aggregate
    when = "during"                      # creation | during | after

A ``[variables.NAME]`` with no ``table`` only annotates an existing variable (an imported
attribute, say) with a ``description``, ``when`` or ``type``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from salesflow.analysis.activity_classes import CLASS_LABELS, CLASS_VARIABLES, activity_classes
from salesflow.errors import ConfigError
from salesflow.settings import Settings

__all__ = [
    "ACTIVITY_TYPES",
    "AMOUNT_BANDS",
    "OUTCOME_COLUMNS",
    "DeclaredVariable",
    "Variable",
    "activity_type_columns",
    "builtin_variables",
    "declared_variables",
    "stage_key",
]

Kind = Literal["numeric", "categorical", "binary"]
When = Literal["creation", "during", "after"]
WHEN = ("creation", "during", "after")
KINDS = ("numeric", "categorical", "binary")
MEASURES = ("count", "sum", "mean", "median")
DECLARABLE_TABLES = ("activities", "requests", "stage_events")

ACTIVITY_TYPES = ("call", "email", "meeting", "demo", "proposal")
# Upper bounds of the amount bands, in the reporting currency; the last band is open-ended.
AMOUNT_BANDS = ((5_000, "<5k"), (20_000, "5k-20k"), (50_000, "20k-50k"), (None, "50k+"))
FIRST_RESPONSE_THRESHOLD_HOURS = 48
# Columns of the feature table that are outcomes or bookkeeping, never variables.
OUTCOME_COLUMNS = (
    "opportunity_id",
    "outcome",
    "won",
    "closed",
    "cycle_days",
    "stalled",
    "eligible",
)
CATEGORICAL_COLUMNS = ("source", "segment", "product", "owner", "team")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Variable:
    """One operating variable: what it is, how it is typed, and when it becomes known.

    ``scale`` is the unit effects are reported per ("per 10 activities" is ``scale=10``);
    ``unit`` names it in words.
    """

    name: str
    description: str
    kind: Kind
    when: When
    origin: str = "built-in"  # built-in | imported | declared
    scale: float = 1.0
    unit: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "type": self.kind,
            "when": self.when,
            "origin": self.origin,
            "unit": self.unit or None,
        }


@dataclass(frozen=True)
class DeclaredVariable:
    """A user's ``[variables.NAME]`` with a ``table``: an aggregate per opportunity."""

    variable: Variable
    table: str
    measure: str
    column: str | None
    filter: Mapping[str, Any]


def stage_key(stage: str) -> str:
    """A stage name as a safe column suffix: ``Proposal sent`` → ``proposal_sent``."""
    key = re.sub(r"[^a-z0-9]+", "_", stage.lower()).strip("_")
    return key or "stage"


def activity_type_columns(settings: Settings) -> dict[str, str]:
    """Activity type → its count column: the built-in types and those ``[activities.value]``
    names (a name that would clash with another column is left out)."""
    columns = {t: t for t in ACTIVITY_TYPES}
    for t in sorted(activity_classes(settings).configured):
        key = stage_key(t)
        if key not in ("total",) and not key.startswith("in_") and key not in columns.values():
            columns[t] = key
    return {t: f"activities_{key}" for t, key in columns.items()}


def builtin_variables(settings: Settings) -> list[Variable]:
    """The documented built-in variables (stage-dependent ones follow the configured stages)."""
    v = Variable
    found = [
        v(
            "first_response_hours",
            "Hours from creation (or the first request about the deal) to the first activity",
            "numeric",
            "during",
            scale=24,
            unit="per day of waiting",
        ),
        v(
            "first_response_over_48h",
            "First response took more than 48 hours (or never came)",
            "binary",
            "during",
            unit="over 48 h vs within 48 h",
        ),
        v(
            "activities_total",
            "Activities logged on the deal",
            "numeric",
            "during",
            scale=10,
            unit="per 10 activities",
        ),
    ]
    found += [
        v(
            column,
            f"{t.capitalize()} activities logged on the deal before it closed",
            "numeric",
            "during",
            unit=f"per {t}",
        )
        for t, column in activity_type_columns(settings).items()
    ]
    found += [
        v(
            name,
            f"{CLASS_LABELS[c].capitalize()} activities logged on the deal before it closed",
            "numeric",
            "during",
            unit=f"per {CLASS_LABELS[c]} activity",
        )
        for c, name in CLASS_VARIABLES.items()
    ]
    for stage in settings.stages.order:
        key = stage_key(stage)
        found.append(
            v(
                f"activities_in_{key}",
                f"Activities while the deal was in {stage}",
                "numeric",
                "during",
                unit="per activity",
            )
        )
        found.append(
            v(
                f"days_in_{key}",
                f"Days the deal spent in {stage} (all visits)",
                "numeric",
                "during",
                scale=7,
                unit="per week",
            )
        )
    found += [
        v(
            "days_in_last_stage",
            "Days in the last open stage before the deal closed (or now)",
            "numeric",
            "after",
            scale=7,
            unit="per week",
        ),
        v(
            "cycle_days",
            "Days from creation to close",
            "numeric",
            "after",
            scale=7,
            unit="per week",
        ),
        v(
            "backward_moves",
            "Times the deal moved back to an earlier stage (rework)",
            "numeric",
            "during",
            unit="per backward move",
        ),
        v(
            "requests_count",
            "Requests received about the deal",
            "numeric",
            "during",
            unit="per request",
        ),
        v("amount", "Deal value", "numeric", "creation", scale=10_000, unit="per 10,000"),
        v("amount_band", "Deal value band: <5k, 5k-20k, 20k-50k, 50k+", "categorical", "creation"),
    ]
    found += [
        v(c, f"{c.capitalize()} of the deal", "categorical", "creation")
        for c in CATEGORICAL_COLUMNS
    ]
    return found


def declared_variables(
    settings: Settings, known: Mapping[str, Variable]
) -> tuple[list[DeclaredVariable], dict[str, Variable]]:
    """Parse ``[variables.*]``: new aggregates, and annotations of variables in ``known``."""
    where = str(settings.config_path)
    declared: list[DeclaredVariable] = []
    annotated: dict[str, Variable] = {}
    for name, spec in settings.section("variables").items():
        if not isinstance(spec, Mapping):
            raise ConfigError(f"[variables.{name}] must be a table", where=where)
        if "table" not in spec:
            if name not in known:
                raise ConfigError(
                    f"[variables.{name}] annotates a variable that does not exist",
                    where=where,
                    hint="Add table and measure to declare a new one, or fix the name "
                    "(`salesflow variables` lists them)",
                )
            annotated[name] = _annotate(known[name], spec, where)
            continue
        declared.append(_declare(name, spec, known, where))
    return declared, annotated


def _annotate(variable: Variable, spec: Mapping[str, Any], where: str) -> Variable:
    when = _choice(spec, "when", variable.when, WHEN, variable.name, where)
    kind = _choice(spec, "type", variable.kind, KINDS, variable.name, where)
    description = str(spec.get("description", variable.description))
    return replace(variable, when=when, kind=kind, description=description)


def _declare(
    name: str, spec: Mapping[str, Any], known: Mapping[str, Variable], where: str
) -> DeclaredVariable:
    if not _NAME.match(name) or name in known or name in OUTCOME_COLUMNS:
        raise ConfigError(
            f"[variables.{name}]: the name is taken or not a plain lower-case identifier",
            where=where,
            hint="Use letters, digits and underscores, and a name no other variable has",
        )
    table = _choice(spec, "table", "", DECLARABLE_TABLES, name, where)
    measure = _choice(spec, "measure", "count", MEASURES, name, where)
    column = spec.get("column")
    if measure != "count" and not isinstance(column, str):
        raise ConfigError(
            f"[variables.{name}] measure {measure!r} needs a column",
            where=where,
            hint='Add column = "…" naming a numeric column of the table',
        )
    filters = spec.get("filter", {})
    if not isinstance(filters, Mapping):
        raise ConfigError(
            f"[variables.{name}].filter must be a table of column = value", where=where
        )
    variable = Variable(
        name,
        str(spec.get("description", f"{measure} of {table} per opportunity")),
        "numeric",
        _choice(spec, "when", "during", WHEN, name, where),
        origin="declared",
        unit=str(spec.get("unit", "")),
        scale=float(spec.get("scale", 1)),
    )
    return DeclaredVariable(variable, table, measure, column, dict(filters))


def _choice(
    spec: Mapping[str, Any],
    key: str,
    default: str,
    allowed: tuple[str, ...],
    name: str,
    where: str,
) -> Any:
    value = str(spec.get(key, default))
    if value not in allowed:
        raise ConfigError(
            f"[variables.{name}].{key} is {value!r}",
            where=where,
            hint=f"Use one of: {', '.join(allowed)}",
        )
    return value
