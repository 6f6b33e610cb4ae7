"""Forecasting: how far the forecast a rep committed to was from what they actually won.

A forecast is what was said *before* the period: each period counts the latest submission at or
before its cut-off (``[forecasts] cutoff``: ``"period start"`` by default, or ``"N days before
period end"``) and ignores later revisions, so a figure revised after the fact never scores.
An owner with no submission by the cut-off is left out of that period; a period with none at
all has no value and says so.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from salesflow.errors import ConfigError
from salesflow.metrics.base import Metric, Param, rows_ratio_agg

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from salesflow.metrics.query import Query
    from salesflow.settings import Settings

__all__ = ["METRICS", "cutoff_days"]

CUTOFF_DEFAULT = "period start"
_BEFORE_END = re.compile(r"^\s*(\d+)\s+days?\s+before\s+(the\s+)?period\s+end\s*$", re.I)


def cutoff_days(settings: Settings) -> int | None:
    """``[forecasts] cutoff``: None for the period's start, N for "N days before period end"."""
    text = str(settings.section("forecasts").get("cutoff", CUTOFF_DEFAULT))
    if text.strip().lower() in ("period start", "period's start", "start"):
        return None
    match = _BEFORE_END.match(text)
    if match is None:
        raise ConfigError(
            f"[forecasts] cutoff = {text!r} is not a cut-off salesflow knows",
            where=str(settings.config_path),
            hint='Write "period start" (the default) or "N days before period end", '
            'e.g. "10 days before period end"',
        )
    return int(match.group(1))


def _cutoff(start: ir.DateValue, cadence: str, days: int | None) -> ir.TimestampValue:
    """The moment a period's forecast is taken: its start, or N days before its end."""
    import ibis

    moment = start.cast("timestamp")
    if days is None:
        return moment
    length = (
        ibis.interval(days=7)
        if cadence == "week"
        else ibis.interval(months=3 if cadence == "quarter" else 1)
    )
    return moment + length - ibis.interval(days=days)


def forecast_vs_actual(q: Query, category: str, cadence: str) -> ir.Table:
    """One row per forecast period and owner: the forecast counted at the cut-off, the moment it
    was submitted, and the amount won.

    Forecast periods follow ``cadence`` (the forecasting rhythm); the rows are then placed in the
    series' periods, so monthly errors add up over a quarter instead of cancelling out.
    """
    import ibis

    from salesflow.metrics.calendar import bucket

    week_start = q.settings.week_start
    f = q.table("forecasts")
    f = f.filter((f.category == category) & f.owner.notnull())
    f = f.filter(f.submitted_at <= _cutoff(f.period_start, cadence, cutoff_days(q.settings)))
    latest = ibis.row_number().over(
        group_by=[f.period_start, f.owner], order_by=ibis.desc(f.submitted_at)
    )
    f = f.mutate(_rn=latest).filter(lambda t: t._rn == 0)
    f = f.mutate(_fp=bucket(f.period_start.cast("timestamp"), cadence, week_start=week_start))
    fc = f.group_by(["_fp", "owner"]).aggregate(
        team=f.team.max(), _forecast=f.amount.sum().cast("float64"), _sub=f.submitted_at.max()
    )
    o = q.opportunities()
    won = o.filter((o.outcome == "won") & o.closed_at.notnull())
    won = won.mutate(_ap=bucket(won.closed_at, cadence, week_start=week_start))
    actual = won.group_by(["_ap", won.owner.name("_ao")]).aggregate(
        _actual=won.amount.sum().cast("float64")
    )
    rows = fc.left_join(actual, [fc._fp == actual._ap, fc.owner == actual._ao])
    rows = rows.drop("_ap", "_ao")
    return rows.mutate(
        period=q.bucket(rows._fp.cast("timestamp")), _actual=rows._actual.fill_null(0.0)
    )


def forecast_error(q: Query, *, category: str = "commit", cadence: str = "month") -> ir.Table:
    rows = forecast_vs_actual(q, category, cadence)
    return rows.mutate(_num=(rows._forecast - rows._actual).abs(), _den=rows._actual)


def forecast_bias(q: Query, *, category: str = "commit", cadence: str = "month") -> ir.Table:
    rows = forecast_vs_actual(q, category, cadence)
    return rows.mutate(_num=rows._forecast - rows._actual, _den=rows._actual)


def forecast_agg(t: ir.Table) -> dict[str, ir.Value]:
    out = rows_ratio_agg(t)
    forecast, actual = t._forecast.sum(), t._actual.sum()
    out.update(forecast=forecast, actual=actual, error=forecast - actual, submitted_at=t._sub.max())
    return out


CATEGORY = Param("category", str, "commit", "forecast category: commit, best_case or pipeline")
CADENCE = Param("cadence", str, "month", "how often forecasts are made: week, month or quarter")
COMMON = {
    "unit": "%",
    "kind": "rate",
    "table": "forecasts",
    "family": "forecasting",
    "aggregate": forecast_agg,
    "params": (CATEGORY, CADENCE),
    "chart": "xmr",
    "chart_why": "XmR chart: forecast error is a ratio of amounts, not a share of counted deals, so "
    "individuals (XmR) limits from its own period-to-period variation fit it.",
    "time": "period_start",
    "extra": ("forecast", "actual", "error", "submitted_at"),
    "empty_note": "no forecast submitted before the cut-off",
}

METRICS = (
    Metric(
        "forecast_error",
        "Forecast error",
        "How far each owner's forecast for the period — the latest submitted by the cut-off "
        "([forecasts] cutoff, default the period's start; later revisions are ignored) — was "
        "from the amount they won in it: Σ|forecast − won| ÷ Σ won over the owners (weighted "
        "absolute percentage error). Each forecast period (--param cadence=month) is compared "
        "on its own; submitted_at names the latest submission counted.",
        build=forecast_error,
        **COMMON,
    ),
    Metric(
        "forecast_bias",
        "Forecast bias",
        "Whether forecasts run high or low: Σ(forecast − won) ÷ Σ won over the owners, with "
        "the forecast taken at the cut-off like forecast_error; above zero means "
        "over-forecasting.",
        build=forecast_bias,
        **COMMON,
    ),
)
