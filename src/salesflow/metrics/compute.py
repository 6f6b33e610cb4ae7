"""Run a metric: its unit rows, filtered, grouped by period or by a dimension, aggregated.

``expression`` returns the lazy Ibis table (for notebooks and other engines); ``series`` and
``breakdown`` execute it and return typed results with the subgroup size behind each value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from salesflow.errors import ConfigError
from salesflow.metrics.calendar import check_period, period_range
from salesflow.metrics.clock import clock_unit
from salesflow.metrics.filters import apply_filters, resolve_column
from salesflow.metrics.registry import get
from salesflow.metrics.results import Breakdown, Group, Point, Series, from_record

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

    from salesflow.metrics.base import Metric
    from salesflow.metrics.query import Query
    from salesflow.settings import Settings

__all__ = ["breakdown", "expression", "series"]


def _filters(filters: Mapping[str, Any] | None) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for key, value in (filters or {}).items():
        many = isinstance(value, list | tuple | set | frozenset)
        out[key] = list(value) if many else [value]
    return out


def unit_rows(
    metric: Metric,
    con: BaseBackend,
    settings: Settings,
    *,
    period: str | None,
    filters: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    start: date | None = None,
    end: date | None = None,
    as_of: date | None = None,
) -> tuple[ir.Table, Query]:
    """The metric's rows inside the window, filtered, each with its ``period``."""
    from salesflow.metrics.query import Query

    if period is not None:
        check_period(period)
    q = Query(con, settings, period=period, start=start, end=end, as_of=as_of)
    rows = metric.build(q, **metric.typed_params(params, settings))
    rows = rows.filter(rows.period.notnull())
    known = {"stage": settings.stages.all}  # a stage may have no stay in the window
    return apply_filters(rows, _filters(filters), q.opportunities(), metric.id, known=known), q


def expression(
    con: BaseBackend,
    settings: Settings,
    metric_id: str,
    *,
    period: str | None = "month",
    by: str | None = None,
    filters: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    start: date | None = None,
    end: date | None = None,
    as_of: date | None = None,
) -> ir.Table:
    """The lazy aggregated table: one row per period (or per ``by`` group when period is None);
    snapshot metrics get periods up to ``as_of`` even after the last row."""
    metric = get(metric_id, settings)
    window = {"start": start, "end": end, "as_of": as_of}
    rows = _rows_by(metric, con, settings, period, by, filters, params, window)
    keys = ["period"] if by is None else [by]
    return rows.group_by(keys).aggregate(**metric.aggregate(rows)).order_by(keys)


def _rows_by(
    metric: Metric,
    con: BaseBackend,
    settings: Settings,
    period: str | None,
    by: str | None,
    filters: Mapping[str, Any] | None,
    params: Mapping[str, Any] | None,
    window: Mapping[str, Any],
) -> ir.Table:
    """The metric's unit rows, with the ``by`` column joined from the deal when needed."""
    rows, q = unit_rows(
        metric, con, settings, period=period, filters=filters, params=params, **window
    )
    return rows if by is None else resolve_column(rows, by, q.opportunities(), metric.id)


def series(
    con: BaseBackend,
    settings: Settings,
    metric_id: str,
    *,
    period: str = "month",
    filters: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    start: date | None = None,
    end: date | None = None,
    as_of: date | datetime | None = None,
) -> Series:
    """The metric per calendar period, oldest first, up to the period holding ``as_of`` (default:
    the data's latest timestamp), each point marked complete, running or maturing.

    Empty periods are data: counts and sums are 0, other kinds have no value and a note saying why.
    """
    from salesflow.metrics.asof import as_moment, resolve_as_of

    metric = get(metric_id, settings)
    if metric.needs_filter and metric.needs_filter not in (filters or {}):
        raise ConfigError(
            f"Metric {metric.id!r} needs a {metric.needs_filter}",
            hint=f"Pick one with --filter {metric.needs_filter}=NAME, "
            f"or compare them with --by {metric.default_by or metric.needs_filter}",
        )
    moment = resolve_as_of(settings, con) if as_of is None else as_moment(as_of)
    common = {"filters": filters, "params": params, "start": start, "end": end}
    expr = expression(con, settings, metric_id, period=period, **common, as_of=moment.date())
    records = expr.execute().to_dict("records")
    points = [Point(period=_as_date(r["period"]), **from_record(r, metric.extra)) for r in records]
    # the period holding the last instant before as-of: an as-of at midnight ends the day before
    last_day = (moment - timedelta(microseconds=1)).date()
    last = last_day if end is None else min(end, last_day)
    points = _fill_empty(metric, points, period, settings.week_start, start, last)
    days, rule = _maturity(metric, con, settings, period, params)
    points = _with_status(points, period, moment, days)
    described = {"filters": _filters(filters), "params": metric.public_params(params, settings)}
    return Series(
        metric.id,
        period,
        clock_unit(metric.unit, described["params"].get("clock")),
        metric.kind,
        points,
        **described,
        as_of=moment,
        maturity=rule,
    )


def _maturity(
    metric: Metric,
    con: BaseBackend,
    settings: Settings,
    period: str,
    params: Mapping[str, Any] | None,
) -> tuple[float | None, str | None]:
    """Days a cohort needs after its period's end, and the rule in words (None: no cohort)."""
    if metric.maturity is None:
        return None, None
    from salesflow.metrics.query import Query

    q = Query(con, settings, period=period)
    days = metric.maturity(q, **metric.typed_params(params, settings))
    if days is None:
        return None, f"{metric.maturity_rule} (no history yet: no cohort is held back)"
    return days, f"{metric.maturity_rule}: {days:.0f} days after the period ends"


def _with_status(
    points: list[Point], period: str, as_of: datetime, days: float | None
) -> list[Point]:
    """Each point marked complete, running or maturing at ``as_of``."""
    from salesflow.metrics.asof import point_status

    return [replace(p, status=point_status(p.period, period, as_of, days)) for p in points]


def breakdown(
    con: BaseBackend,
    settings: Settings,
    metric_id: str,
    *,
    by: str,
    filters: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    start: date | None = None,
    end: date | None = None,
) -> Breakdown:
    """The metric over the whole window, one group per value of ``by`` (snapshots at its end),
    each group on its analysis-of-means limits (:mod:`salesflow.metrics.compare`)."""
    from salesflow.metrics import compare

    metric = get(metric_id, settings)
    window = {"start": start, "end": end, "as_of": None}
    rows = _rows_by(metric, con, settings, None, by, filters, params, window)
    expr = rows.group_by(by).aggregate(**metric.aggregate(rows)).order_by(by)
    records = expr.execute().to_dict("records")
    groups = [Group(key=_key(r[by]), **from_record(r, metric.extra)) for r in records]
    if by in ("stage", "amount_band"):  # their own order; anything else by name, never by value
        order = _order(by, settings)
        groups.sort(key=lambda g: order.get(g.key, len(order)))
    columns = compare.sample_columns(metric, by)
    samples = _samples(rows, by, columns) if columns else None
    groups, comparison = compare.compare(metric, by, groups, samples)
    described = {"filters": _filters(filters), "params": metric.public_params(params, settings)}
    unit = clock_unit(metric.unit, described["params"].get("clock"))
    return Breakdown(metric.id, by, unit, metric.kind, groups, **described, comparison=comparison)


def _samples(rows: ir.Table, by: str, columns: tuple[str, ...]) -> dict[Any, dict[str, list]]:
    """Each group's values per unit row (``_x``, or ``_num`` and ``_den``), for comparisons of
    medians, means and ratios."""
    rows = rows.filter(*[rows[c].notnull() for c in columns])
    frame = rows.select(by, *columns).execute()
    return {
        _key(k): {c: list(part[c]) for c in columns}
        for k, part in frame.groupby(by, dropna=False, sort=False)
    }


def _order(by: str, settings: Settings) -> dict[Any, int]:
    """Stages in the configured order, amount bands from small to large."""
    from salesflow.metrics.query import band_labels, bands

    names = settings.stages.all if by == "stage" else band_labels(bands(settings))
    return {name: i for i, name in enumerate(names)}


def _as_date(value: Any) -> date:
    import pandas as pd

    return pd.Timestamp(value).date()


def _key(value: Any) -> Any:
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value.item() if hasattr(value, "item") else value


def _fill_empty(
    metric: Metric,
    points: list[Point],
    period: str,
    week_start: str,
    start: date | None,
    last: date,
) -> list[Point]:
    """Every period from the first (``start`` or the first row) to the one holding ``last``:
    counts and sums are 0 where nothing happened, other kinds have no value and say why.
    Periods after ``last`` (data beyond the as-of moment) are left out."""
    if not points and start is None:
        return points
    first = start or points[0].period
    have = {p.period: p for p in points}
    out = []
    for s in period_range(first, last, period, week_start=week_start):
        p = have.get(s) or _empty_point(metric, s)
        out.append(p if p.value is not None or p.note else replace(p, note=metric.empty_sentence))
    return out


def _empty_point(metric: Metric, start: date) -> Point:
    extra = dict.fromkeys(metric.extra)
    if metric.zero_when_empty:
        return Point(period=start, value=0.0, n=0, extra=extra)
    sides = {"numerator": 0.0, "denominator": 0.0} if metric.kind in ("proportion", "rate") else {}
    return Point(period=start, value=None, n=0, extra=extra, note=metric.empty_sentence, **sides)
