"""Quality: how much of the work turns into wins, and how much is done twice."""

from __future__ import annotations

from typing import TYPE_CHECKING

from salesflow.errors import ConfigError
from salesflow.metrics.base import Metric, Param, flag, ratio_agg
from salesflow.metrics.flow import closed, typical_wait

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from salesflow.metrics.query import Query

__all__ = ["METRICS", "check_stage"]


def check_stage(q: Query, stage: str, param: str) -> str:
    """A configured stage name, or an error listing them."""
    if stage not in q.settings.stages.all:
        raise ConfigError(
            f"Parameter {param}={stage!r} is not a configured stage",
            where=str(q.settings.config_path),
            hint=f"Stages: {', '.join(q.settings.stages.all)}",
        )
    return stage


def win_rate(q: Query) -> ir.Table:
    c = closed(q)
    return c.mutate(period=q.bucket(c.closed_at), _num=flag(c.outcome == "won"), _den=1.0)


def cohort_conversion(q: Query, *, within_days: int = 0) -> ir.Table:
    import ibis

    o = q.opportunities()
    won = o.outcome == "won"
    if within_days > 0:
        won &= o.closed_at <= o.created_at + ibis.interval(days=within_days)
    return o.mutate(period=q.bucket(o.created_at), _num=flag(won), _den=1.0)


def cohort_maturity(q: Query, *, within_days: int = 0) -> float | None:
    """``within_days`` when set; else the days within which 90 % of past wins were won."""
    if within_days > 0:
        return float(within_days)
    o = q.opportunities()
    won = o.filter((o.outcome == "won") & o.closed_at.notnull())
    return typical_wait(won.created_at, won.closed_at)


def stage_maturity(
    q: Query, *, from_stage: str | None = None, to_stage: str | None = None
) -> float | None:
    """The days within which 90 % of the past conversions from ``from`` reached ``to``."""
    rows = stage_conversion(q, from_stage=from_stage, to_stage=to_stage)
    done = rows.filter(rows._num > 0)
    return typical_wait(done._x_at, done._y_at)


COHORT_RULE = (
    "a cohort is maturing until within_days have passed since its period ended; with "
    "within_days=0, until the time within which 90 % of past wins were won (created → won) has "
    "passed"
)
STAGE_RULE = (
    "a cohort is maturing until the time within which 90 % of past conversions reached TO "
    "(first entry into FROM → TO) has passed since its period ended"
)


def stage_conversion(
    q: Query, *, from_stage: str | None = None, to_stage: str | None = None
) -> ir.Table:
    """Deals by the first time they entered ``from``; converted if they entered ``to`` later."""
    stages = q.settings.stages
    x = check_stage(q, from_stage or stages.order[0], "from")
    y = check_stage(q, to_stage or stages.won[0], "to")
    if x == y:
        raise ConfigError(f"from and to are both {x!r}", hint="Pick two different stages")
    ev = q.table("stage_events")
    entered = (
        ev.filter(ev.stage == x)
        .group_by(_oid=ev.opportunity_id)
        .aggregate(_x_at=ev.entered_at.min())
    )
    reached = (
        ev.filter(ev.stage == y)
        .group_by(_rid=ev.opportunity_id)
        .aggregate(_y_at=ev.entered_at.max())
    )
    o = q.opportunities()
    rows = o.join(entered, o.opportunity_id == entered._oid).drop("_oid")
    rows = rows.left_join(reached, rows.opportunity_id == reached._rid).drop("_rid")
    converted = flag(rows._y_at.notnull() & (rows._y_at >= rows._x_at))
    return rows.mutate(period=q.bucket(rows._x_at), _num=converted, _den=1.0)


def rework_rate(q: Query) -> ir.Table:
    """Closed deals with stage history; reworked if any stage came before the previous one."""
    ev = q.ordered_events()
    back = flag(ev._prev_rank.notnull() & (ev._rank < ev._prev_rank))
    per_deal = ev.group_by(_oid=ev.opportunity_id).aggregate(_back=back.max())
    c = closed(q)
    rows = c.join(per_deal, c.opportunity_id == per_deal._oid).drop("_oid")
    return rows.mutate(period=q.bucket(rows.closed_at), _num=rows._back, _den=1.0)


SHARE = {"unit": "%", "kind": "proportion", "family": "quality", "aggregate": ratio_agg}

METRICS = (
    Metric(
        "win_rate",
        "Win rate",
        "Share of the deals closed in the period that were won: won ÷ (won + lost).",
        table="opportunities",
        build=win_rate,
        time="closed_at",
        empty_note="no deals closed",
        **SHARE,
    ),
    Metric(
        "cohort_conversion",
        "Cohort conversion",
        "Share of the opportunities created in the period that were won (recent cohorts are "
        "still maturing; --param within_days=N counts only wins within N days of creation).",
        table="opportunities",
        build=cohort_conversion,
        params=(Param("within_days", int, 0, "count wins within this many days (0: any time)"),),
        time="created_at",
        maturity=cohort_maturity,
        maturity_rule=COHORT_RULE,
        empty_note="no deals created",
        **SHARE,
    ),
    Metric(
        "stage_conversion",
        "Stage conversion",
        "Share of the deals that entered stage FROM in the period (first entry) that later "
        "reached stage TO.",
        table="stage_events",
        build=stage_conversion,
        params=(
            Param(
                "from",
                str,
                None,
                "stage entered (default: the first open stage)",
                "from_stage",
                lambda s: s.stages.order[0],
            ),
            Param(
                "to",
                str,
                None,
                "stage reached later (default: the first won stage)",
                "to_stage",
                lambda s: s.stages.won[0],
            ),
        ),
        time="entered FROM",
        maturity=stage_maturity,
        maturity_rule=STAGE_RULE,
        empty_note="no deal entered the stage",
        **SHARE,
    ),
    Metric(
        "rework_rate",
        "Rework rate",
        "Share of the deals closed in the period that moved backwards in the configured stage "
        "order at least once.",
        table="stage_events",
        build=rework_rate,
        time="closed_at",
        empty_note="no deals closed",
        **SHARE,
    ),
)
