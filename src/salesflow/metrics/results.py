"""What a metric returns: a time series of points or a breakdown into groups, each value with the
subgroup size behind it (and numerator / denominator for proportions and rates)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

__all__ = ["Breakdown", "Group", "Point", "Series", "group_column"]


def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _extra(value: Any) -> float | str | None:
    """An extra column: a number, or a moment as ISO 8601 (``submitted_at``)."""
    if isinstance(value, datetime | date):
        import pandas as pd

        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, str):
        return value
    return _num(value)


@dataclass(frozen=True)
class Point:
    """One period's value; ``status`` says whether it can be judged (see metrics.asof)."""

    period: date
    value: float | None
    n: int
    numerator: float | None = None
    denominator: float | None = None
    extra: dict[str, float | str | None] = field(default_factory=dict)
    status: str = "complete"
    note: str | None = None  # why there is no value (``no deals closed``)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"period": self.period.isoformat(), "value": self.value, "n": self.n}
        if self.denominator is not None:
            out["numerator"] = self.numerator
            out["denominator"] = self.denominator
        out.update(self.extra)
        out["status"] = self.status
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Series:
    metric: str
    period: str
    unit: str
    kind: str
    points: list[Point]
    filters: dict[str, list[Any]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    as_of: datetime | None = None
    maturity: str | None = None  # the maturity rule applied, in words, for cohort metrics

    @property
    def values(self) -> list[float | None]:
        return [p.value for p in self.points]

    @property
    def judged(self) -> int:
        """How many leading points are complete: the only ones limits and verdicts may read."""
        for i, p in enumerate(self.points):
            if p.status != "complete":
                return i
        return len(self.points)

    def not_judged(self) -> str | None:
        """The sentence naming the running and maturing periods, or None when all are complete."""
        from salesflow.metrics.asof import not_judged_sentence

        return not_judged_sentence(self.points[self.judged :], self.period)

    @property
    def sizes(self) -> list[int]:
        return [p.n for p in self.points]

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "period": self.period,
            "unit": self.unit,
            "kind": self.kind,
            "filters": self.filters,
            "params": self.params,
            "as_of": self.as_of.isoformat() if self.as_of is not None else None,
            "maturity": self.maturity,
            "not_judged": self.not_judged(),
            "points": [p.to_dict() for p in self.points],
        }


GROUP_FIELDS = ("value", "numerator", "denominator", "n", "lower", "upper", "signal")


def group_column(by: str, extra: tuple[str, ...] | list[str] = ()) -> str:
    """The name of the column holding the group's name: the dimension itself (``owner``), or
    ``owner_group`` when the dimension is also the name of another column of the result."""
    return f"{by}_group" if by in GROUP_FIELDS or by in extra else by


@dataclass(frozen=True)
class Group:
    """One group of a breakdown; ``key`` is its name (the value of the ``by`` column).

    ``lower``/``upper`` are its own analysis-of-means limits and ``signal`` is "above", "below"
    or None (inside the limits, or not compared): see :mod:`salesflow.metrics.compare`."""

    key: Any
    value: float | None
    n: int
    numerator: float | None = None
    denominator: float | None = None
    extra: dict[str, float | None] = field(default_factory=dict)
    lower: float | None = None
    upper: float | None = None
    signal: str | None = None

    def to_dict(self, column: str) -> dict[str, Any]:
        key = self.key.isoformat() if isinstance(self.key, date) else self.key
        out = {
            column: key,
            "value": self.value,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "n": self.n,
            "lower": self.lower,
            "upper": self.upper,
            "signal": self.signal,
        }
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class Breakdown:
    metric: str
    by: str
    unit: str
    kind: str
    groups: list[Group]
    filters: dict[str, list[Any]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    comparison: dict[str, Any] = field(default_factory=dict)

    def get(self, key: Any) -> Group:
        return next(g for g in self.groups if g.key == key)

    @property
    def column(self) -> str:
        """The name the groups' names go under: the dimension (``owner``) unless it clashes."""
        extra = self.groups[0].extra if self.groups else {}
        return group_column(self.by, list(extra))

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "by": self.by,
            "column": self.column,
            "unit": self.unit,
            "kind": self.kind,
            "filters": self.filters,
            "params": self.params,
            "comparison": self.comparison,
            "groups": [g.to_dict(self.column) for g in self.groups],
        }


def from_record(record: dict[str, Any], extra_names: tuple[str, ...]) -> dict[str, Any]:
    """Common fields of a Point or Group from one result row."""
    n = record.get("n")
    return {
        "value": _num(record.get("value")),
        "n": 0 if n is None or (isinstance(n, float) and math.isnan(n)) else int(n),
        "numerator": _num(record.get("numerator")),
        "denominator": _num(record.get("denominator")),
        "extra": {k: _extra(record.get(k)) for k in extra_names},
    }
