"""Periods on the workspace calendar: weeks starting on the configured day, months, quarters.

The same rule is written twice on purpose, once as an Ibis expression that runs in the engine and
once in Python to list the periods of a range (for snapshot metrics and gap filling); the tests
check that both agree.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from salesflow.errors import ConfigError, did_you_mean
from salesflow.settings import WEEKDAYS

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["PERIODS", "bucket", "next_start", "period_range", "period_start"]

PERIODS = ("week", "month", "quarter")


def check_period(period: str) -> str:
    if period not in PERIODS:
        raise ConfigError(
            f"Unknown period {period!r}",
            hint=f"{did_you_mean(period, PERIODS)}Use one of: {', '.join(PERIODS)}",
        )
    return period


def _offset(week_start: str) -> int:
    """Days from Monday to the first day of the week (Ibis truncates weeks to ISO Mondays)."""
    return WEEKDAYS.index(week_start)


def bucket(ts: ir.TimestampValue, period: str, *, week_start: str = "monday") -> ir.DateValue:
    """The first day of the period holding ``ts``, computed in the engine."""
    import ibis

    check_period(period)
    if period == "week":
        shift = _offset(week_start)
        if shift:
            days = ibis.interval(days=shift)
            return ((ts - days).truncate("W") + days).cast("date")
        return ts.truncate("W").cast("date")
    return ts.truncate("M" if period == "month" else "Q").cast("date")


def period_start(day: date | datetime, period: str, *, week_start: str = "monday") -> date:
    """The first day of the period holding ``day``, computed in Python."""
    check_period(period)
    d = day.date() if isinstance(day, datetime) else day
    if period == "week":
        return d - timedelta(days=(d.weekday() - _offset(week_start)) % 7)
    if period == "month":
        return d.replace(day=1)
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def next_start(start: date, period: str) -> date:
    """The first day of the period after the one starting on ``start``."""
    if period == "week":
        return start + timedelta(days=7)
    months = 1 if period == "month" else 3
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


def period_range(
    first: date | datetime, last: date | datetime, period: str, *, week_start: str = "monday"
) -> list[date]:
    """Every period start from the one holding ``first`` to the one holding ``last``."""
    start = period_start(first, period, week_start=week_start)
    end = period_start(last, period, week_start=week_start)
    out: list[date] = []
    while start <= end:
        out.append(start)
        start = next_start(start, period)
    return out
