"""Durations on the calendar clock or the business clock, computed in the engine.

The calendar clock counts elapsed time. The business clock counts only the ``[calendar]
business_hours`` of workdays that are not holidays (``holidays`` country/region through the
maintained ``holidays`` library, plus ``extra_holidays``). Timestamps are wall-clock times in the
workspace's zone, so opening hours are read on that wall clock and a daylight-saving switch
inside the business hours shortens or lengthens that day by its real amount.

How: a small day table (one row per date the data spans, built in Python) holds the business
seconds before each day and the day's opening, closing and DST switch; it is joined to the rows
twice, and a duration is ``B(end) - B(start)`` where ``B(t)`` is the business seconds from the
table's first day to ``t``. The same Ibis expression runs on DuckDB and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from salesflow.errors import ConfigError
from salesflow.metrics.base import Param

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    import ibis.expr.types as ir

    from salesflow.metrics.query import Query
    from salesflow.settings import BusinessCalendar, Settings

__all__ = ["CLOCK", "CLOCKS", "business_days", "clock_unit", "day_length", "elapsed"]

CLOCKS = ("calendar", "business")
CLOCK = Param(
    "clock",
    str,
    "calendar",
    "calendar: elapsed time; business: only business hours on workdays that are not holidays, "
    "as the workspace calendar sets them (a business day is one day's business hours)",
    choices=CLOCKS,
)
BUSINESS_UNITS = {"days": "business days", "hours": "business hours"}
SECONDS = "_secs"


def check_clock(clock: str) -> str:
    if clock not in CLOCKS:
        raise ConfigError(
            f"clock = {clock!r} is not a clock salesflow knows",
            hint="Use --param clock=calendar (elapsed time) or --param clock=business "
            "(business hours on workdays, set in [calendar])",
        )
    return clock


def clock_unit(unit: str, clock: str | None) -> str:
    """The unit a result is in: ``days`` becomes ``business days`` on the business clock."""
    if clock != "business":
        return unit
    for word, business in BUSINESS_UNITS.items():
        unit = unit.replace(word, business) if word in unit else unit
    return unit.replace("/day", "/business day")


def day_length(settings: Settings, clock: str) -> float:
    """Seconds in one day on this clock: 86 400, or one day's business hours."""
    return float(settings.business.day_seconds) if clock == "business" else 86400.0


def elapsed(q: Query, t: ir.Table, start: str, end: str, *, clock: str) -> ir.Table:
    """``t`` with a ``_secs`` column: seconds from column ``start`` to column ``end``."""
    check_clock(clock)
    if clock == "calendar":
        secs = t[end].epoch_seconds() - t[start].epoch_seconds()
        return t.mutate(**{SECONDS: secs.cast("float64")})
    days = _day_table(q, t, start, end)
    if days is None:
        import ibis

        return t.mutate(**{SECONDS: ibis.null("float64")})
    columns = t.columns
    t = _business_point(t, start, days, "_bs")
    t = _business_point(t, end, days, "_be")
    return t.select(*columns, **{SECONDS: t._be - t._bs})


def _business_point(t: ir.Table, column: str, days: ir.Table, name: str) -> ir.Table:
    """``t`` with ``name``: business seconds from the day table's first day to ``t[column]``."""
    import ibis

    side = days.rename({f"{c}{name}": c for c in days.columns})
    joined = t.left_join(side, t[column].cast("date") == side[f"_d{name}"])
    ts, d = joined[column], {c: joined[f"{c}{name}"] for c in days.columns}
    sod = (ts.epoch_seconds() - ts.truncate("D").epoch_seconds()).cast("float64")
    clipped = ibis.greatest(d["_o"], ibis.least(sod, d["_c"]))
    switch = ibis.ifelse((d["_sa"] > d["_o"]) & (d["_sa"] <= clipped), d["_sh"], 0.0)
    value = d["_cum"] + clipped - d["_o"] - switch
    return joined.select(*t.columns, **{name: value})


def _day_table(q: Query, t: ir.Table, start: str, end: str) -> ir.Table | None:
    """The day table for every date from the earliest start to the latest end, or None."""
    import ibis

    span = t.aggregate(a=t[start].min(), b=t[end].min(), c=t[start].max(), d=t[end].max())
    days = [d for d in map(_as_date, span.execute().iloc[0]) if d is not None]
    if not days:
        return None
    lo, hi = min(days), max(days)  # an end before its start still gets a (negative) duration
    key = ("business_days", lo, hi)
    if key not in q._cache:
        rows = business_days(q.settings.business, q.settings.zone, lo, hi)
        schema = {"_d": "date", "_cum": "float64", "_o": "float64", "_c": "float64"}
        schema |= {"_sa": "float64", "_sh": "float64"}
        q._cache[key] = ibis.memtable(rows, schema=schema)
    return q._cache[key]


def business_days(cal: BusinessCalendar, zone: ZoneInfo, lo: date, hi: date) -> dict[str, list]:
    """One row per date from ``lo`` to ``hi``: business seconds before it (``_cum``), its opening
    and closing second (both 0 on days off), and its DST switch (``_sa`` the wall-clock second
    it happens, -1 when none; ``_sh`` how many seconds the clock jumps forward)."""
    off = holiday_dates(cal, lo.year, hi.year)
    out: dict[str, list] = {k: [] for k in ("_d", "_cum", "_o", "_c", "_sa", "_sh")}
    cum, day = 0.0, lo
    while day <= hi:
        works = day.weekday() in cal.workdays and day not in off
        opens, closes = (float(cal.opens), float(cal.closes)) if works else (0.0, 0.0)
        at, shift = _switch(day, zone)
        for k, v in zip(out, (day, cum, opens, closes, at, shift), strict=True):
            out[k].append(v)
        cum += closes - opens - (shift if opens < at <= closes else 0.0)
        day += timedelta(days=1)
    return out


def holiday_dates(cal: BusinessCalendar, first_year: int, last_year: int) -> set[date]:
    """Public holidays of the configured country/region plus the extra dates."""
    days = set(cal.extra_holidays)
    if cal.country is None:
        return days
    import holidays

    years = range(first_year, last_year + 1)
    try:
        found = holidays.country_holidays(cal.country, subdiv=cal.subdiv, years=years)
    except NotImplementedError:
        region = cal.country + (f"-{cal.subdiv}" if cal.subdiv else "")
        raise ConfigError(
            f"[calendar] holidays = {region!r} is not a country or region with known holidays",
            hint='Use an ISO country code such as "DE" or "US", with a region as '
            '{ country = "DE", subdiv = "BY" } (see the `holidays` library\'s list)',
        ) from None
    return days | set(found)


def _switch(day: date, zone: ZoneInfo) -> tuple[float, float]:
    """The wall-clock second of ``day`` at which its DST switch happens, read on the clock
    before the switch, and how far the clock jumps forward (negative when it falls back);
    (-1, 0) on a day without one."""
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    after = start + timedelta(days=1)
    before_off, after_off = start.utcoffset(), after.utcoffset()
    if before_off == after_off or before_off is None or after_off is None:
        return -1.0, 0.0
    from datetime import UTC

    instant = start.astimezone(UTC)
    step = timedelta(minutes=1)
    while (instant + step).astimezone(zone).utcoffset() == before_off:
        instant += step
    at = (instant + step + before_off).replace(tzinfo=None) - start.replace(tzinfo=None)
    return at.total_seconds(), (after_off - before_off).total_seconds()


def _as_date(value: object) -> date | None:
    import pandas as pd

    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).date()
