"""Slippage: how often deals' expected close dates move out, and how far promises land from
the real close — from the deal history (``opportunity_history``).

A *push* is a change that moves an open deal's expected close date later. Both measures count
deals closed (won or lost) in the period, so a period's value is final once it has ended.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from salesflow.metrics.base import Metric, flag, mean_agg, median_agg
from salesflow.metrics.flow import closed, days_between

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from salesflow.metrics.query import Query

__all__ = ["METRICS"]


def _per_deal(q: Query) -> ir.Table:
    """Per deal in the history: its pushes and the first expected close date it was given (the
    row of its first dated change, joined back: ``first`` is not portable)."""
    h = q.table("opportunity_history")
    ends = (*q.settings.stages.won, *q.settings.stages.lost)
    before = h.close_date.lag().over(group_by=h.opportunity_id, order_by=h.changed_at)
    pushed = flag((h.close_date > before) & ~h.stage.isin(ends).fill_null(False))
    h = h.mutate(_push=pushed)
    d = h.group_by(_hid=h.opportunity_id).aggregate(
        _pushes=h._push.sum(), _first_at=h.changed_at.min(where=h.close_date.notnull())
    )
    firsts = h.select(_fid=h.opportunity_id, _fat=h.changed_at, _promised=h.close_date)
    on = [d._hid == firsts._fid, d._first_at == firsts._fat]
    return d.left_join(firsts, on).drop("_fid", "_fat", "_first_at")


def _closed_with_history(q: Query) -> ir.Table:
    c = closed(q)
    d = _per_deal(q)
    rows = c.join(d, c.opportunity_id == d._hid).drop("_hid")
    return rows.mutate(period=q.bucket(rows.closed_at))


def pushes_per_deal(q: Query) -> ir.Table:
    rows = _closed_with_history(q)
    return rows.mutate(_x=rows._pushes.cast("float64"))


def close_date_accuracy(q: Query) -> ir.Table:
    rows = _closed_with_history(q)
    rows = rows.filter(rows._promised.notnull())
    return rows.mutate(_x=days_between(rows._promised.cast("timestamp"), rows.closed_at))


COMMON = {
    "table": "opportunity_history",
    "family": "forecasting",
    "time": "closed_at",
    "empty_note": "no deals with a history closed",
}

METRICS = (
    Metric(
        "pushes_per_deal",
        "Pushes per deal",
        "How many times the expected close date of a deal closed (won or lost) in the period was "
        "moved later while it was open, on average: a deal pushed every month before it closes "
        "counts one per push.",
        unit="pushes",
        kind="rate",
        build=pushes_per_deal,
        aggregate=mean_agg,
        **COMMON,
    ),
    Metric(
        "close_date_accuracy",
        "Close-date accuracy",
        "Days between the first expected close date a deal was given and the day it was won or "
        "lost, for deals closed in the period (median; mean beside it): above zero, deals close "
        "later than first promised.",
        unit="days",
        kind="duration",
        build=close_date_accuracy,
        aggregate=median_agg,
        extra=("mean",),
        **COMMON,
    ),
)
