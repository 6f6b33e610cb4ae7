"""Which activity types add value: each type is value-adding, necessary or waste.

Lean sorts work into what the customer would pay for (value-adding), what the business needs but
the customer does not value (necessary), and what neither needs (waste). salesflow starts from a
default per type and lets a team say what its own types are in ``salesflow.toml``::

    [activities]
    duration_column = "duration_minutes"   # optional: an imported column with minutes per activity

    [activities.value]
    demo = "value"                         # value | necessary | waste
    internal_review = "waste"

A type no one classified counts as necessary and is listed as unclassified, so nobody's work is
silently called waste.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from salesflow.errors import ConfigError
from salesflow.settings import Settings

__all__ = [
    "CLASSES",
    "CLASS_LABELS",
    "CLASS_VARIABLES",
    "DEFAULT_CLASSES",
    "UNCLASSIFIED",
    "ActivityClasses",
    "activity_classes",
    "class_expr",
]

Class = Literal["value", "necessary", "waste"]
CLASSES: tuple[Class, ...] = ("value", "necessary", "waste")
CLASS_LABELS = {"value": "value-adding", "necessary": "necessary", "waste": "waste"}
# The per-deal count of each class, as an operating variable of the driver analysis.
CLASS_VARIABLES = {
    "value": "value_adding_activities",
    "necessary": "necessary_activities",
    "waste": "waste_activities",
}
DEFAULT_CLASSES: dict[str, Class] = {
    "demo": "value",
    "meeting": "value",
    "proposal": "value",
    "call": "necessary",
    "email": "necessary",
}
UNCLASSIFIED: Class = "necessary"  # what a type nobody classified counts as
KEYS = ("value", "duration_column")


@dataclass(frozen=True)
class ActivityClasses:
    """The class of every named type (lower case), where each came from, and the duration column."""

    classes: dict[str, Class]
    configured: frozenset[str]
    duration_column: str | None = None

    def of(self, activity_type: str) -> Class:
        return self.classes.get(activity_type.strip().lower(), UNCLASSIFIED)

    def origin(self, activity_type: str) -> str:
        key = activity_type.strip().lower()
        if key in self.configured:
            return "settings"
        return "default" if key in self.classes else "unclassified"


def activity_classes(settings: Settings) -> ActivityClasses:
    """The defaults overlaid with ``[activities.value]``; a wrong entry is a clear error."""
    where = str(settings.config_path)
    raw = settings.raw.get("activities", {})
    if not isinstance(raw, Mapping):
        raise ConfigError("[activities] must be a table", where=where, hint=_EXAMPLE)
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise ConfigError(
            f"[activities] has unknown key(s): {', '.join(unknown)}",
            where=where,
            hint=f"Use {' or '.join(KEYS)}. {_EXAMPLE}",
        )
    mine = raw.get("value", {})
    if not isinstance(mine, Mapping):
        raise ConfigError(
            "[activities.value] must be a table of type = class", where=where, hint=_EXAMPLE
        )
    classes: dict[str, Class] = dict(DEFAULT_CLASSES)
    configured: set[str] = set()
    for name, value in mine.items():
        key = _type_key(name, configured, where)
        classes[key] = _class(name, value, where)
        configured.add(key)
    return ActivityClasses(classes, frozenset(configured), _duration(raw, where))


_EXAMPLE = 'For example: [activities.value] then demo = "value" or internal_review = "waste"'


def _type_key(name: Any, taken: set[str], where: str) -> str:
    key = str(name).strip().lower()
    if not key:
        raise ConfigError("[activities.value] has an empty activity type", where=where)
    if key in taken:
        raise ConfigError(
            f"[activities.value] names {key!r} twice (types match in any case)",
            where=where,
            hint="Keep one line per activity type",
        )
    return key


def _class(name: Any, value: Any, where: str) -> Class:
    text = str(value).strip().lower().replace("-", "_")
    text = {"value_adding": "value", "valueadding": "value"}.get(text, text)
    if text not in CLASSES:
        raise ConfigError(
            f"[activities.value] {name} = {value!r} is not a class",
            where=where,
            hint='Use "value" (value-adding), "necessary" or "waste"',
        )
    return text  # type: ignore[return-value]


def _duration(raw: Mapping[str, Any], where: str) -> str | None:
    column = raw.get("duration_column")
    if column is None:
        return None
    if not isinstance(column, str) or not column.strip():
        raise ConfigError(
            "[activities] duration_column must name a column of the activities table",
            where=where,
            hint='For example: duration_column = "duration_minutes"',
        )
    return column.strip()


def class_expr(activity_type: Any, classes: ActivityClasses) -> Any:
    """The class of an Ibis string column of activity types, computed where the data lives."""
    import ibis

    kind = activity_type.strip().lower()
    branches = [(kind == t, c) for t, c in sorted(classes.classes.items())]
    return ibis.cases(*branches, else_=UNCLASSIFIED) if branches else ibis.literal(UNCLASSIFIED)
