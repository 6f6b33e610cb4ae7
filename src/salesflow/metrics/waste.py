"""Waste: effort that did not turn into business."""

from __future__ import annotations

from typing import TYPE_CHECKING

from salesflow.metrics.base import Metric, Param, flag, ratio_agg
from salesflow.metrics.flow import closed
from salesflow.metrics.quality import check_stage

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from salesflow.metrics.query import Query
    from salesflow.settings import Settings

__all__ = ["METRICS"]


def effort_on_lost(q: Query) -> ir.Table:
    """Activities on deals that have closed, put in the period the deal closed."""
    a = q.table("activities")
    c = closed(q)
    deals = c.select(_oid=c.opportunity_id, _closed_at=c.closed_at, _outcome=c.outcome)
    rows = a.join(deals, a.opportunity_id == deals._oid).drop("_oid")
    return rows.mutate(
        period=q.bucket(rows._closed_at), _num=flag(rows._outcome == "lost"), _den=1.0
    )


def late_default(settings: Settings) -> str:
    """The second-to-last open stage (Proposal in the default stages)."""
    order = settings.stages.order
    return order[max(len(order) - 2, 0)]


def late_stage_losses(q: Query, *, stage: str | None = None) -> ir.Table:
    """Lost deals; late if they had reached ``stage`` or a later open stage before losing."""
    order = q.settings.stages.order
    late = check_stage(q, stage or late_default(q.settings), "stage")
    ev = q.table("stage_events")
    ev = ev.filter(ev.stage.isin(list(order)))
    ev = ev.mutate(_rank=q.stage_rank(ev.stage))
    furthest = ev.group_by(_oid=ev.opportunity_id).aggregate(_max=ev._rank.max())
    c = closed(q)
    lost = c.filter(c.outcome == "lost")
    rows = lost.left_join(furthest, lost.opportunity_id == furthest._oid).drop("_oid")
    is_late = flag(rows._max.fill_null(-1) >= q.settings.stages.rank(late))
    return rows.mutate(period=q.bucket(rows.closed_at), _num=is_late, _den=1.0)


METRICS = (
    Metric(
        "effort_on_lost",
        "Effort on lost deals",
        "Share of the activities on deals closed in the period that were spent on deals "
        "that were lost.",
        unit="%",
        kind="proportion",
        table="activities",
        family="waste",
        build=effort_on_lost,
        aggregate=ratio_agg,
        time="deal closed_at",
    ),
    Metric(
        "late_stage_losses",
        "Late-stage losses",
        "Share of the deals lost in the period that had reached a late stage first "
        "(--param stage=NAME or later; default: the second-to-last open stage).",
        unit="%",
        kind="proportion",
        table="stage_events",
        family="waste",
        build=late_stage_losses,
        aggregate=ratio_agg,
        params=(
            Param(
                "stage",
                str,
                None,
                "first stage that counts as late (default: the second-to-last open stage)",
                from_settings=late_default,
            ),
        ),
        time="closed_at",
    ),
)
