"""Custom metrics declared in ``salesflow.toml``: a table, a filter, a measure — never raw SQL.

```toml
[metrics.big_deal_win_rate]
title = "Win rate on deals over 50k"
table = "opportunities"
time = "closed_at"
filter = { outcome = ["won", "lost"], amount = { ">=" = 50000 } }
measure = "ratio"                 # count | sum | mean | median | ratio
numerator = { outcome = "won" }   # ratio: a filtered count over the filtered count
unit = "%"
```
The same definition compiles to an Ibis expression on every backend, so it is safe to accept from
the web app later.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from salesflow.errors import ConfigError
from salesflow.metrics import base
from salesflow.schema import TABLES

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from salesflow.metrics.query import Query
    from salesflow.settings import Settings

__all__ = ["custom_metrics", "parse_custom"]

MEASURES = {
    "count": ("count", "rows", base.count_agg),
    "sum": ("amount", "", base.sum_agg),
    "mean": ("amount", "", base.mean_agg),
    "median": ("amount", "", base.median_agg),
    "ratio": ("proportion", "%", base.ratio_agg),
}
KEYS = {
    "title",
    "definition",
    "table",
    "time",
    "filter",
    "measure",
    "column",
    "numerator",
    "unit",
    "kind",
}
OPS = {"=": "__eq__", "!=": "__ne__", ">": "__gt__", ">=": "__ge__", "<": "__lt__", "<=": "__le__"}
RESERVED = {"amount_bands"}


def custom_metrics(settings: Settings) -> dict[str, base.Metric]:
    """Every ``[metrics.ID]`` table of the workspace settings as a Metric."""
    out: dict[str, base.Metric] = {}
    for metric_id, spec in settings.section("metrics").items():
        if metric_id in RESERVED:
            continue
        where = f"{settings.config_path}, setting metrics.{metric_id}"
        if not isinstance(spec, Mapping):
            raise ConfigError(
                f"metrics.{metric_id} must be a table", where=str(settings.config_path)
            )
        out[metric_id] = parse_custom(metric_id, spec, where)
    return out


def parse_custom(metric_id: str, spec: Mapping[str, Any], where: str) -> base.Metric:
    """Validate one declaration; every error names the setting and how to fix it."""
    unknown = sorted(set(spec) - KEYS)
    if unknown:
        raise ConfigError(
            f"Unknown setting {unknown[0]!r}",
            where=where,
            hint=f"Allowed: {', '.join(sorted(KEYS))}",
        )
    table = spec.get("table")
    if table not in TABLES:
        raise ConfigError(
            f"table = {table!r} is not a canonical table",
            where=where,
            hint=f"Use one of: {', '.join(TABLES)}",
        )
    measure = spec.get("measure", "count")
    if measure not in MEASURES:
        raise ConfigError(
            f"measure = {measure!r} is unknown",
            where=where,
            hint=f"Use one of: {', '.join(MEASURES)}",
        )
    column = spec.get("column")
    if measure in ("sum", "mean", "median") and not isinstance(column, str):
        raise ConfigError(
            f"measure = {measure!r} needs column = NAME",
            where=where,
            hint="Name the numeric column to add up or average",
        )
    if measure == "ratio" and not isinstance(spec.get("numerator"), Mapping):
        raise ConfigError(
            "measure = 'ratio' needs numerator = { column = value }",
            where=where,
            hint="The numerator is a filter on top of the filter",
        )
    for key in ("filter", "numerator"):
        if key in spec and not isinstance(spec[key], Mapping):
            raise ConfigError(f'{key} must be a table like {{ outcome = "won" }}', where=where)
    kind, unit, aggregate = MEASURES[measure]
    kind = spec.get("kind", kind)
    if kind not in base.KINDS:
        raise ConfigError(
            f"kind = {kind!r} is unknown", where=where, hint=f"Use one of: {', '.join(base.KINDS)}"
        )
    time = spec.get("time", TABLES[table].time_column)

    def build(q: Query) -> ir.Table:
        return _rows(q, spec, table, time, measure, where)

    return base.Metric(
        metric_id,
        str(spec.get("title", metric_id)),
        str(spec.get("definition", _describe(spec, table, measure))),
        unit=str(spec.get("unit", unit)),
        kind=kind,
        table=table,
        family="custom",
        build=build,
        aggregate=aggregate,
        time=time,
        extra=("mean",) if measure == "median" else (),
    )


def _rows(
    q: Query, spec: Mapping[str, Any], table: str, time: str, measure: str, where: str
) -> ir.Table:
    t = q.opportunities() if table == "opportunities" else q.table(table)
    for name in (time, spec.get("column")):
        if name is not None:
            _column(t, name, where)
    t = (
        t.filter(*_conditions(t, spec.get("filter", {}), where, "filter"))
        if spec.get("filter")
        else t
    )
    ts = t[time] if t[time].type().is_timestamp() else t[time].cast("timestamp")
    rows = t.mutate(period=q.bucket(ts))
    if measure in ("sum", "mean", "median"):
        return rows.mutate(_x=rows[spec["column"]].cast("float64"))
    if measure == "ratio":
        import ibis

        hit = ibis.and_(*_conditions(rows, spec["numerator"], where, "numerator"))
        return rows.mutate(_num=base.flag(hit), _den=1.0)
    return rows


def _column(t: ir.Table, name: str, where: str) -> ir.Value:
    if name not in t.columns:
        raise ConfigError(
            f"Column {name!r} is not in the table",
            where=where,
            hint=f"Columns: {', '.join(t.columns)}",
        )
    return t[name]


def _conditions(
    t: ir.Table, spec: Mapping[str, Any], where: str, key: str
) -> list[ir.BooleanValue]:
    """``{col = v}``, ``{col = [a, b]}``, ``{col = {">=" = 5}}`` as Ibis conditions."""
    conditions = []
    for name, rule in spec.items():
        col = _column(t, name, f"{where}.{key}.{name}")
        if isinstance(rule, list):
            conditions.append(col.isin(rule))
        elif isinstance(rule, Mapping):
            for op, value in rule.items():
                if op not in OPS:
                    raise ConfigError(
                        f"Unknown comparison {op!r}",
                        where=f"{where}.{key}.{name}",
                        hint=f"Use one of: {' '.join(OPS)}",
                    )
                conditions.append(getattr(col, OPS[op])(value))
        else:
            conditions.append(col == rule)
    return conditions


def _describe(spec: Mapping[str, Any], table: str, measure: str) -> str:
    parts = [f"{measure} of {table}"]
    if spec.get("column"):
        parts.append(f"column {spec['column']}")
    if spec.get("filter"):
        parts.append(f"where {dict(spec['filter'])}")
    if spec.get("numerator"):
        parts.append(f"numerator {dict(spec['numerator'])}")
    return ", ".join(parts) + "."
