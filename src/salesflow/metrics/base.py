"""What a metric is: a plain-language spec plus a lazy Ibis builder and its aggregation.

A builder takes a :class:`~salesflow.metrics.query.Query` and typed keyword-only parameters and
returns *unit rows* (one per deal, stage visit, activity, request…) with a ``period`` column and
the measure columns its aggregation reads: ``_x`` (a measured value), ``_num`` / ``_den`` (the
two sides of a proportion or rate). Filters and ``--by`` work on every other column of the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from salesflow.errors import ConfigError, NotFoundError

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from salesflow.settings import Settings

__all__ = ["KINDS", "Metric", "Param", "count_agg", "flag", "median_agg", "ratio_agg", "sum_agg"]

KINDS = ("count", "proportion", "duration", "amount", "rate")

TYPE_WORDS = {int: "a whole number", float: "a number", str: "text"}

Aggregate = Callable[["ir.Table"], dict[str, "ir.Value"]]


@dataclass(frozen=True)
class Param:
    """One ``--param name=value`` a metric accepts, passed to its builder as ``arg``."""

    name: str
    type: type
    default: Any
    doc: str
    arg: str = ""
    from_settings: Callable[[Settings], Any] | None = None  # a default that depends on stages
    choices: tuple[str, ...] = ()  # the only values allowed (a menu in the web app)

    @property
    def kwarg(self) -> str:
        return self.arg or self.name

    def parse(self, value: Any, metric_id: str) -> Any:
        """The typed value; a clear error when a string from the command line does not fit."""
        if self.choices and value not in self.choices:
            raise ConfigError(
                f"Parameter {self.name!r} of metric {metric_id!r} is {value!r}",
                hint=f"Use one of: {', '.join(self.choices)} ({self.name}: {self.doc})",
            )
        if value is None or (isinstance(value, self.type) and not isinstance(value, bool)):
            return value
        try:
            return self.type(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"Parameter {self.name!r} of metric {metric_id!r} must be "
                f"{TYPE_WORDS.get(self.type, self.type.__name__)}, not {value!r}",
                hint=f"{self.name}: {self.doc}",
            ) from None


@dataclass(frozen=True)
class Metric:
    """A metric's definition, in a sales leader's words, and how to compute it."""

    id: str
    title: str
    definition: str
    unit: str
    kind: str
    table: str
    family: str
    build: Callable[..., ir.Table]
    aggregate: Aggregate
    params: tuple[Param, ...] = ()
    chart: str = "auto"
    chart_why: str = ""
    time: str = ""
    snapshot: bool = False
    needs_filter: str | None = None
    default_by: str | None = None
    extra: tuple[str, ...] = field(default=())
    # A cohort metric's outcome window: days after a period's end before its cohort can be judged
    # (called with the Query and the builder's parameters; None: no window), and the rule in words.
    maturity: Callable[..., float | None] | None = None
    maturity_rule: str = ""
    empty_note: str = ""  # what an empty period means (``no deals closed``)

    @property
    def zero_when_empty(self) -> bool:
        """Counts and sums are 0 in a period where nothing happened; other kinds have no value."""
        return self.kind == "count" or self.aggregate in (count_agg, sum_agg)

    @property
    def empty_sentence(self) -> str:
        return self.empty_note or "nothing to measure in this period"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"metric {self.id}: kind {self.kind!r} not in {KINDS}")

    def typed_params(
        self, given: Mapping[str, Any] | None, settings: Settings | None = None
    ) -> dict[str, Any]:
        """Builder keyword arguments: defaults overlaid with ``given``, each parsed to its type."""
        given = dict(given or {})
        known = {p.name: p for p in self.params}
        unknown = sorted(set(given) - set(known))
        if unknown:
            valid = ", ".join(known) if known else "none"
            raise NotFoundError(
                f"Metric {self.id!r} has no parameter {unknown[0]!r}",
                hint=f"Its parameters are: {valid}",
            )
        out = {}
        for p in self.params:
            value = p.parse(given[p.name], self.id) if p.name in given else p.default
            if value is None and p.from_settings is not None and settings is not None:
                value = p.from_settings(settings)
            out[p.kwarg] = value
        return out

    def public_params(
        self, given: Mapping[str, Any] | None, settings: Settings | None = None
    ) -> dict[str, Any]:
        """The parameters as users name them (``from``, not ``from_stage``), defaults filled in."""
        typed = self.typed_params(given, settings)
        return {p.name: typed[p.kwarg] for p in self.params}

    def describe(self) -> dict[str, Any]:
        """The catalog entry: what ``salesflow metrics --json`` prints for this metric."""
        return {
            "id": self.id,
            "title": self.title,
            "family": self.family,
            "definition": self.definition,
            "unit": self.unit,
            "kind": self.kind,
            "table": self.table,
            "time": self.time,
            "chart": self.chart,
            "maturity": self.maturity_rule or None,
            "params": [_param_entry(p) for p in self.params],
        }


def _param_entry(p: Param) -> dict[str, Any]:
    entry = {"name": p.name, "type": p.type.__name__, "default": p.default, "doc": p.doc}
    return entry | ({"choices": list(p.choices)} if p.choices else {})


def flag(condition: ir.BooleanValue) -> ir.FloatingValue:
    """1.0 where a condition holds, else 0.0 (PostgreSQL cannot cast booleans to numbers).

    Integers cast to a double, not ``1.0``/``0.0`` literals: Spark SQL reads ``1.0`` as a
    DECIMAL(2,1), and the mean of a decimal is rounded to 5 places there."""
    import ibis

    return ibis.ifelse(condition.fill_null(False), 1, 0).cast("float64")


def _f(value: ir.Value) -> ir.Value:
    return value.cast("float64")


def count_agg(t: ir.Table) -> dict[str, ir.Value]:
    """How many unit rows fall in the group."""
    n = t.count()
    return {"value": _f(n), "n": n}


def sum_agg(t: ir.Table) -> dict[str, ir.Value]:
    """The total of ``_x`` over the group."""
    return {"value": _f(t._x.sum()), "n": t.count()}


def mean_agg(t: ir.Table) -> dict[str, ir.Value]:
    return {"value": _f(t._x.mean()), "n": t._x.count()}


def median_agg(t: ir.Table) -> dict[str, ir.Value]:
    """Median of ``_x`` (the series value) with the mean reported beside it."""
    return {"value": _f(t._x.median()), "mean": _f(t._x.mean()), "n": t._x.count()}


def ratio_agg(t: ir.Table, *, n: str = "den") -> dict[str, ir.Value]:
    """``sum(_num) / sum(_den)``; the subgroup size is the denominator (or the row count)."""
    num = _f(t._num.sum())
    den = _f(t._den.sum())
    size = t._den.sum().cast("int64") if n == "den" else t.count()
    return {"value": num / den.nullif(0), "numerator": num, "denominator": den, "n": size}


def rows_ratio_agg(t: ir.Table) -> dict[str, ir.Value]:
    """A ratio whose subgroup size is the number of rows (forecast error across owners)."""
    return ratio_agg(t, n="rows")
