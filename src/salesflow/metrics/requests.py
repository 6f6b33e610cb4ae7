"""Requests: what a department is asked for, how fast it answers, and what each order costs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from salesflow.metrics.base import Metric, count_agg, median_agg, ratio_agg
from salesflow.metrics.clock import CLOCK, elapsed

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from salesflow.metrics.query import Query

__all__ = ["METRICS"]


def request_volume(q: Query) -> ir.Table:
    r = q.table("requests")
    return r.mutate(period=q.bucket(r.received_at))


def first_response_time(q: Query, *, clock: str = "calendar") -> ir.Table:
    r = q.table("requests")
    r = elapsed(
        q, r.filter(r.first_response_at.notnull()), "received_at", "first_response_at", clock=clock
    )
    return r.mutate(period=q.bucket(r.received_at), _x=r._secs / 3600)


def response_maturity(q: Query, *, clock: str = "calendar") -> float | None:
    """The days within which 90 % of past requests got their first response: elapsed days on
    either clock, since maturing is about the calendar."""
    from salesflow.metrics.flow import typical_wait

    r = q.table("requests")
    answered = r.filter(r.first_response_at.notnull())
    return typical_wait(answered.received_at, answered.first_response_at)


def requests_per_order(q: Query) -> ir.Table:
    """Won deals, each with the number of requests recorded against it."""
    r = q.table("requests")
    linked = r.filter(r.opportunity_id.notnull())
    per_deal = linked.group_by(_oid=linked.opportunity_id).aggregate(_req=linked.count())
    o = q.opportunities()
    won = o.filter((o.outcome == "won") & o.closed_at.notnull())
    rows = won.left_join(per_deal, won.opportunity_id == per_deal._oid).drop("_oid")
    return rows.mutate(
        period=q.bucket(rows.closed_at), _num=rows._req.fill_null(0).cast("float64"), _den=1.0
    )


METRICS = (
    Metric(
        "request_volume",
        "Request volume",
        "Requests received in the period; break it down by category, channel or requester_type.",
        unit="requests",
        kind="count",
        table="requests",
        family="requests",
        build=request_volume,
        aggregate=count_agg,
        time="received_at",
    ),
    Metric(
        "first_response_time",
        "First response time",
        "Hours from receiving a request to the first response, for requests received in the "
        "period that were answered (median; mean beside it). On the business clock it counts "
        "only business hours (on workdays, without holidays).",
        unit="hours",
        kind="duration",
        table="requests",
        family="requests",
        build=first_response_time,
        aggregate=median_agg,
        time="received_at",
        params=(CLOCK,),
        extra=("mean",),
        maturity=response_maturity,
        maturity_rule="the requests of a period are maturing (slow answers still missing) until "
        "the time within which 90 % of past requests were first answered has passed since the "
        "period ended",
        empty_note="no requests answered",
    ),
    Metric(
        "requests_per_order",
        "Requests per order",
        "Requests recorded against the deals won in the period, per won deal; break it down by "
        "segment or amount_band to see what small orders cost.",
        unit="requests/order",
        kind="rate",
        table="requests",
        family="requests",
        build=requests_per_order,
        aggregate=ratio_agg,
        time="closed_at",
    ),
)
