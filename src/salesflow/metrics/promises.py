"""What the pipeline promised at a period's start, and what came of it — from the deal history.

A deal is *expected in a period* at a moment when its last ``opportunity_history`` row before that
moment is open (not a won or lost stage) and its expected close date lies in the period (the
waterfall's rule, :mod:`salesflow.analysis.pipeline`). Each measure looks at the deals expected
in the period at its first moment, and at their state at its end:

- ``close_date_slip_rate``: the share still open at the end — the date moved beyond the period
  (or before it), or left behind in it;
- ``commit_accuracy``: of those in the ``commit`` forecast category, the share won in the period;
- ``pipeline_coverage``: their amount ÷ the period's target (``[targets]`` in salesflow.toml).

A period is judged only once it is over. The running period (it holds as-of) is drawn from its
state at as-of and marked running: a deal still expected in it has not slipped yet, a deal already
moved out has. A breakdown (``--by``) pools the months of its window that are over.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from salesflow.errors import ConfigError
from salesflow.metrics.base import Metric, Param, flag, ratio_agg
from salesflow.metrics.calendar import next_start, period_range

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from salesflow.metrics.query import Query
    from salesflow.settings import Settings

__all__ = ["METRICS", "period_target"]

STATE = ("stage", "amount", "close_date", "forecast_category", "owner")


def _ts(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def _windows(q: Query, pooled: str = "month") -> tuple[str, list[date]]:
    """The cadence the deals are judged on and its period starts. A breakdown pools the
    ``pooled`` periods of its window that are over at as-of: a running one is never judged."""
    cadence = q.period or pooled
    first, last = q.data_range()
    starts = period_range(first, last, cadence, week_start=q.settings.week_start)
    if q.period is None:
        moment = _as_of(q)
        starts = [s for s in starts if _ts(next_start(s, cadence)) <= moment]
    return cadence, starts


def _as_of(q: Query) -> datetime:
    from salesflow.workspace import resolve_as_of

    return resolve_as_of(q.settings, q.con)


def _cap(q: Query) -> datetime:
    """The end of the as-of day: the moment the running period's outcome is read at."""
    day = q.as_of if q.as_of is not None else _as_of(q).date()
    return _ts(day + timedelta(days=1))


def _moments(q: Query, targets: dict[date, float] | None = None, pooled: str = "month") -> ir.Table:
    """One row per period: its start ``_p0``, its end ``_p1`` and the moment its outcome is read,
    ``_m`` (its end, or the end of the as-of day for the running period)."""
    import ibis

    from salesflow.metrics.query import WINDOW

    cadence, starts = _windows(q, pooled)
    cap = _cap(q)
    ends = [_ts(next_start(s, cadence)) for s in starts]
    rows = {
        "period": starts if q.period else [WINDOW] * len(starts),
        "_ps": starts,
        "_p0": [_ts(s) for s in starts],
        "_p1": ends,
        "_m": [min(e, cap) for e in ends],
        "_target": [(targets or {}).get(s) for s in starts],
    }
    schema = {"period": "date", "_ps": "date", "_p0": "timestamp", "_p1": "timestamp"}
    schema |= {"_m": "timestamp", "_target": "float64"}
    return ibis.memtable(rows, schema=schema)


def _state_at(q: Query, moments: ir.Table, at: str, prefix: str) -> ir.Table:
    """Each deal's last history row before ``moments[at]``, per period (``_ps``): the moment of
    the last row comes from one aggregate, the row is joined back on the key (deal, moment)."""
    h = q.table("opportunity_history")
    m = moments.select("_ps", _at=moments[at])
    j = h.join(m, h.changed_at < m._at)
    last = j.group_by([j._ps.name("_lps"), j.opportunity_id.name("_lid")]).aggregate(
        _when=j.changed_at.max()
    )
    side = h.select(
        _sid=h.opportunity_id, _sat=h.changed_at, **{f"{prefix}{c}": h[c] for c in STATE}
    )
    rows = last.join(side, [last._lid == side._sid, last._when == side._sat])
    return rows.drop("_sid", "_sat", "_when")


def _expected_at_start(
    q: Query, targets: dict[date, float] | None = None, pooled: str = "month"
) -> ir.Table:
    """One row per period and deal expected in it at its first moment, with its state at the
    period's end (``e_*``) and the period's bounds."""
    moments = _moments(q, targets, pooled)
    s = _state_at(q, moments, "_p0", "s_")
    s = s.join(moments, s._lps == moments._ps).drop("_lps")
    ends = (*q.settings.stages.won, *q.settings.stages.lost)
    open_ = ~s.s_stage.isin(ends).fill_null(False)
    inside = ((s.s_close_date >= s._ps) & (s.s_close_date < s._p1.date())).fill_null(False)
    s = s.filter(open_ & inside)
    e = _state_at(q, moments, "_m", "e_")
    rows = s.left_join(e, [s._lid == e._lid, s._ps == e._lps]).drop("_lid_right", "_lps")
    o = q.table("opportunities")
    o = o.select(_oid=o.opportunity_id, _oowner=o.owner)
    rows = rows.left_join(o, rows._lid == o._oid).drop("_oid")
    # the owner at the period's start; a history without owners falls back on the deal's
    owner = rows.s_owner.fill_null(rows.e_owner).fill_null(rows._oowner)
    rows = rows.rename(opportunity_id="_lid").mutate(owner=owner, amount=rows.s_amount)
    return rows.drop("_oowner")


def close_date_slip_rate(q: Query) -> ir.Table:
    rows = _expected_at_start(q)
    stages = q.settings.stages
    is_open = ~rows.e_stage.isin((*stages.won, *stages.lost)).fill_null(False)
    close = rows.e_close_date
    still = (rows._m < rows._p1) & (close >= rows._ps) & (close < rows._p1.date())
    slipped = is_open & ~still.fill_null(False)
    beyond = is_open & (close >= rows._p1.date()).fill_null(False)
    return rows.mutate(_num=flag(slipped), _den=1.0, _beyond=flag(beyond))


def slip_agg(t: ir.Table) -> dict[str, ir.Value]:
    """The slip rate, and how many of the slipped deals had their date moved beyond the period."""
    return ratio_agg(t) | {"pushed_beyond": t._beyond.sum()}


def commit_accuracy(q: Query, *, category: str = "commit") -> ir.Table:
    rows = _expected_at_start(q)
    rows = rows.filter(rows.s_forecast_category.lower() == category.lower())
    won = rows.e_stage.isin(q.settings.stages.won).fill_null(False)
    return rows.mutate(_num=flag(won), _den=1.0)


def period_target(settings: Settings, cadence: str) -> float:
    """``[targets] <cadence> = AMOUNT``: the amount to win in each period of that length."""
    value = settings.section("targets").get(cadence)
    if value is None:
        raise ConfigError(
            f"Pipeline coverage needs a target for each {cadence}, and there is none",
            where=str(settings.config_path),
            hint=f"Add the amount to win per {cadence} to salesflow.toml: [targets] {cadence} = "
            "1500000 (targets may be set for week, month and quarter)",
        )
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(
            f"[targets] {cadence} = {value!r} is not an amount",
            where=str(settings.config_path),
            hint=f"Write the amount to win per {cadence} as a number above 0, e.g. {cadence} = "
            "1500000",
        )
    return float(value)


def pipeline_coverage(q: Query) -> ir.Table:
    section = q.settings.section("targets")
    pooled = next((c for c in ("month", "quarter", "week") if c in section), "month")
    cadence, starts = _windows(q, pooled)
    target = period_target(q.settings, cadence)
    # a breakdown pools its periods: their pipelines over the sum of their targets
    each = target if q.period else target * len(starts)
    rows = _expected_at_start(q, dict.fromkeys(starts, each), pooled)
    return rows.mutate(_x=rows.amount.fill_null(0.0).cast("float64"))


def coverage_agg(t: ir.Table) -> dict[str, ir.Value]:
    """Pipeline ÷ target; every row of a group carries the group's target."""
    pipeline = t._x.sum().cast("float64")
    target = t._target.max().cast("float64")
    return {"value": pipeline / target, "pipeline": pipeline, "target": target, "n": t.count()}


RULE = (
    "a period is judged once it has ended; the running period is drawn from the deals' state "
    "at as-of and marked running"
)
COMMON = {
    "table": "opportunity_history",
    "family": "forecasting",
    "time": "period start",
    "maturity_rule": RULE,
}
SHARE = {**COMMON, "unit": "%", "kind": "proportion", "aggregate": ratio_agg}

METRICS = (
    Metric(
        "close_date_slip_rate",
        "Close-date slip rate",
        "Share of the deals expected to close in the period at its start (open, expected close "
        "date in it) that were still open when it ended: their date moved beyond the period, "
        "or was left behind in it (pushed_beyond counts the first). A period is judged once it "
        "is over; the running one shows the deals already moved out, marked running.",
        build=close_date_slip_rate,
        empty_note="no deals expected to close at the period's start",
        **{**SHARE, "aggregate": slip_agg},
        extra=("pushed_beyond",),
    ),
    Metric(
        "commit_accuracy",
        "Commit accuracy",
        "Share of the deals in the commit forecast category at the period's start, with their "
        "expected close in the period, that were won in it (--param category=best_case for "
        "another category). A period is judged once it is over.",
        build=commit_accuracy,
        params=(
            Param(
                "category",
                str,
                "commit",
                "forecast category at the period's start",
                choices=("commit", "best_case", "pipeline"),
            ),
        ),
        empty_note="no deals in the category expected to close at the period's start",
        **SHARE,
    ),
    Metric(
        "pipeline_coverage",
        "Pipeline coverage",
        "The amount of the open deals expected to close in the period, at its start, divided by "
        "the period's target ([targets] month/quarter/week = AMOUNT in salesflow.toml; without "
        "one it is an error, never a zero). Filtered or by owner, it is the part of the "
        "company's target those deals cover.",
        build=pipeline_coverage,
        unit="× target",
        kind="rate",
        aggregate=coverage_agg,
        chart="xmr",
        chart_why="XmR chart: coverage is a ratio of amounts, not a share of counted deals, so "
        "individuals (XmR) limits from its own period-to-period variation fit it.",
        extra=("pipeline", "target"),
        empty_note="no open deals expected to close at the period's start",
        **COMMON,
    ),
)
