"""Forecasting: how far the forecast a rep committed to was from what they actually won."""

from __future__ import annotations

from typing import TYPE_CHECKING

from salesflow.metrics.base import Metric, Param, rows_ratio_agg

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from salesflow.metrics.query import Query

__all__ = ["METRICS"]


def forecast_vs_actual(q: Query, category: str, cadence: str) -> ir.Table:
    """One row per forecast period and owner: the latest forecast figure and the amount won.

    Forecast periods follow ``cadence`` (the forecasting rhythm); the rows are then placed in the
    series' periods, so monthly errors add up over a quarter instead of cancelling out.
    """
    import ibis

    from salesflow.metrics.calendar import bucket

    week_start = q.settings.week_start
    f = q.table("forecasts")
    f = f.filter((f.category == category) & f.owner.notnull())
    latest = ibis.row_number().over(
        group_by=[f.period_start, f.owner], order_by=ibis.desc(f.submitted_at)
    )
    f = f.mutate(_rn=latest).filter(lambda t: t._rn == 0)
    f = f.mutate(_fp=bucket(f.period_start.cast("timestamp"), cadence, week_start=week_start))
    fc = f.group_by(["_fp", "owner"]).aggregate(
        team=f.team.max(), _forecast=f.amount.sum().cast("float64")
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
    out.update(forecast=forecast, actual=actual, error=forecast - actual)
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
    "extra": ("forecast", "actual", "error"),
}

METRICS = (
    Metric(
        "forecast_error",
        "Forecast error",
        "How far each owner's latest forecast for the period was from the amount they won in "
        "it: Σ|forecast − won| ÷ Σ won over the owners (weighted absolute percentage error). "
        "Each forecast period (--param cadence=month) is compared on its own.",
        build=forecast_error,
        **COMMON,
    ),
    Metric(
        "forecast_bias",
        "Forecast bias",
        "Whether forecasts run high or low: Σ(forecast − won) ÷ Σ won over the owners; "
        "above zero means over-forecasting.",
        build=forecast_bias,
        **COMMON,
    ),
)
