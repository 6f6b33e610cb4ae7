"""Flow: how much work enters, leaves, waits and how long it takes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from salesflow.metrics.base import Metric, Param, count_agg, flag, median_agg
from salesflow.metrics.clock import CLOCK, day_length, elapsed

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from salesflow.metrics.query import Query

__all__ = ["METRICS"]

DAY = 86400.0


def days_between(start: ir.TimestampValue, end: ir.TimestampValue) -> ir.FloatingValue:
    """Elapsed days as a float, the same way on every backend."""
    return (end.epoch_seconds() - start.epoch_seconds()).cast("float64") / DAY


MATURE_SHARE = 0.9  # a cohort is mature once 90 % of the historical outcomes would have happened


def typical_wait(start: ir.TimestampValue, end: ir.TimestampValue) -> float | None:
    """Days within which 90 % of the historical outcomes happened (start → end), or None when
    there is no history: the window a cohort needs before its rate can be judged."""
    import pandas as pd

    days = days_between(start, end)
    value = days.quantile(MATURE_SHARE).execute()
    return None if value is None or pd.isna(value) else max(float(value), 0.0)


def closed(q: Query) -> ir.Table:
    """Deals won or lost with a known close date."""
    o = q.opportunities()
    return o.filter(o.outcome.isin(["won", "lost"]) & o.closed_at.notnull())


def open_at_end(q: Query) -> ir.Table:
    """One row per deal and period in which the deal was still open when the period ended."""
    o, p = q.opportunities(), q.periods
    return o.join(p, [o.created_at < p._end, o.closed_at.isnull() | (o.closed_at >= p._end)])


def new_opportunities(q: Query) -> ir.Table:
    o = q.opportunities()
    return o.mutate(period=q.bucket(o.created_at))


def throughput(q: Query) -> ir.Table:
    c = closed(q)
    return c.mutate(period=q.bucket(c.closed_at))


def wip(q: Query) -> ir.Table:
    return open_at_end(q)


def aging_wip(q: Query, *, days: int = 60) -> ir.Table:
    import ibis

    s = open_at_end(q)
    return s.filter(s.created_at < s._end - ibis.interval(days=days))


def stalled(q: Query, *, days: int = 30) -> ir.Table:
    """Open deals with neither a stage change nor an activity in the last ``days`` days."""
    import ibis

    s = aging_wip(q, days=days)  # a deal younger than ``days`` cannot have stalled
    ev, act = q.table("stage_events"), q.table("activities")
    touches = ev.select(_tid=ev.opportunity_id, _ts=ev.entered_at).union(
        act.filter(act.opportunity_id.notnull()).select(
            _tid=act.opportunity_id, _ts=act.occurred_at
        )
    )
    since = s._end - ibis.interval(days=days)
    return s.anti_join(
        touches,
        [s.opportunity_id == touches._tid, touches._ts >= since, touches._ts < s._end],
    )


def cycle_time(q: Query, *, clock: str = "calendar") -> ir.Table:
    c = elapsed(q, closed(q), "created_at", "closed_at", clock=clock)
    return c.mutate(period=q.bucket(c.closed_at), _x=c._secs / day_length(q.settings, clock))


def stage_time(q: Query, *, clock: str = "calendar") -> ir.Table:
    """One row per completed stage visit: entered → the deal's next stage event."""
    ev = q.ordered_events()
    ev = elapsed(q, ev.filter(ev._next_at.notnull()), "entered_at", "_next_at", clock=clock)
    return ev.mutate(period=q.bucket(ev._next_at), _x=ev._secs / day_length(q.settings, clock))


def velocity(q: Query, *, clock: str = "calendar") -> ir.Table:
    """Created rows count the opportunities; closed rows carry win, amount and cycle days."""
    import ibis

    o = q.opportunities()
    zero = ibis.literal(0.0)
    created = o.mutate(
        period=q.bucket(o.created_at), _new=1.0, _closed=zero, _won=zero, _amt=zero, _days=zero
    )
    c = elapsed(q, closed(q), "created_at", "closed_at", clock=clock)
    won = flag(c.outcome == "won")
    ended = c.mutate(
        period=q.bucket(c.closed_at),
        _new=zero,
        _closed=1.0,
        _won=won,
        _amt=won * c.amount.fill_null(0),
        _days=won * c._secs / day_length(q.settings, clock),
    ).drop("_secs")
    return created.union(ended)


def velocity_agg(t: ir.Table) -> dict[str, ir.Value]:
    new, won, closed_n = t._new.sum(), t._won.sum(), t._closed.sum()
    rate = won / closed_n.nullif(0)
    per_day = t._amt.sum() / t._days.sum().nullif(0)
    return {
        "value": new * rate * per_day,
        "n": new.cast("int64"),
        "win_rate": rate,
        "avg_won_amount": t._amt.sum() / won.nullif(0),
        "cycle_days": t._days.sum() / won.nullif(0),
    }


DAYS_WIP = Param("days", int, 60, "open longer than this many days at the period's end")
DAYS_STALL = Param("days", int, 30, "days without a stage change or activity")
DEALS = {"unit": "opportunities", "kind": "count", "table": "opportunities", "family": "flow"}
DURATION = {
    "unit": "days",
    "kind": "duration",
    "family": "flow",
    "aggregate": median_agg,
    "params": (CLOCK,),
}

METRICS = (
    Metric(
        "new_opportunities",
        "New opportunities",
        "Opportunities created in the period.",
        build=new_opportunities,
        aggregate=count_agg,
        time="created_at",
        **DEALS,
    ),
    Metric(
        "throughput",
        "Throughput",
        "Opportunities closed (won or lost) in the period.",
        build=throughput,
        aggregate=count_agg,
        time="closed_at",
        **DEALS,
    ),
    Metric(
        "wip",
        "Work in progress",
        "Opportunities still open at the end of the period: created before it ended and not "
        "closed by then.",
        build=wip,
        aggregate=count_agg,
        time="period end",
        snapshot=True,
        **DEALS,
    ),
    Metric(
        "cycle_time",
        "Cycle time",
        "Days from creation to close for deals closed (won or lost) in the period; the value is "
        "the median, the mean is reported beside it. On the business clock it counts "
        "business days instead (business hours on workdays, without holidays).",
        table="opportunities",
        build=cycle_time,
        time="closed_at",
        empty_note="no deals closed",
        extra=("mean",),
        **DURATION,
    ),
    Metric(
        "stage_time",
        "Time in stage",
        "Days a deal spent in a stage: from entering it to the deal's next stage event, for "
        "visits that ended in the period (median; mean beside it). Pick the stage with "
        "--filter stage=NAME; without one it is broken down by stage. On the business clock "
        "it counts business days.",
        table="stage_events",
        build=stage_time,
        time="left the stage",
        empty_note="no stage visits ended",
        needs_filter="stage",
        default_by="stage",
        extra=("mean",),
        **DURATION,
    ),
    Metric(
        "aging_wip",
        "Aging work in progress",
        "Opportunities open at the end of the period that had been open longer than N days.",
        build=aging_wip,
        aggregate=count_agg,
        params=(DAYS_WIP,),
        time="period end",
        snapshot=True,
        **DEALS,
    ),
    Metric(
        "stalled",
        "Stalled opportunities",
        "Opportunities open at the end of the period with no stage change and no activity in "
        "the last N days.",
        build=stalled,
        aggregate=count_agg,
        params=(DAYS_STALL,),
        time="period end",
        snapshot=True,
        **DEALS,
    ),
    Metric(
        "velocity",
        "Sales velocity",
        "Money the pipeline turns into wins per day: opportunities created in the period × win "
        "rate of deals closed in it × average won amount ÷ average days to win "
        "(business days on the business clock).",
        unit="amount/day",
        kind="amount",
        table="opportunities",
        family="flow",
        build=velocity,
        aggregate=velocity_agg,
        chart="xmr",
        chart_why="XmR chart: velocity multiplies counts, shares and amounts, so no binomial or Poisson "
        "model fits; individuals (XmR) limits come from its own period-to-period variation.",
        time="created_at and closed_at",
        params=(CLOCK,),
        extra=("win_rate", "avg_won_amount", "cycle_days"),
    ),
)
