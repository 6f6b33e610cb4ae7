"""The context a metric builder works in: the tables, the calendar and the time window.

A :class:`Query` is either a *series* query (``period`` is week, month or quarter: rows are put
in calendar periods) or a *breakdown* query (``period`` is ``None``: every row inside the window
falls in one bucket, and snapshot metrics look at the state at the window's end).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from salesflow.metrics.calendar import bucket, next_start, period_range
from salesflow.source import require_table

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

    from salesflow.settings import Settings

__all__ = ["WINDOW", "Query"]

WINDOW = date(1970, 1, 1)  # the single bucket of a breakdown query
DEFAULT_BANDS = (10_000, 50_000, 100_000)


@dataclass
class Query:
    con: BaseBackend
    settings: Settings
    period: str | None = "month"
    start: date | None = None
    end: date | None = None  # inclusive
    as_of: date | None = None  # snapshot periods run up to the as-of day, not only the last row
    _cache: dict = field(default_factory=dict, repr=False)

    # -- tables -------------------------------------------------------------------------------
    def table(self, name: str) -> ir.Table:
        if name not in self._cache:
            self._cache[name] = require_table(self.con, name)
        return self._cache[name]

    def opportunities(self) -> ir.Table:
        """Opportunities with the derived ``amount_band`` dimension."""
        t = self.table("opportunities")
        if "amount_band" in t.columns:
            return t
        return t.mutate(amount_band=amount_band(t.amount, self.bands))

    @property
    def bands(self) -> tuple[float, ...]:
        return bands(self.settings)

    def stage_rank(self, stage: ir.StringValue) -> ir.IntegerValue:
        """Position of a stage in the configured order (unknown stages last)."""
        import ibis

        names = self.settings.stages.all
        cases = [(stage == name, i) for i, name in enumerate(names)]
        return ibis.cases(*cases, else_=len(names)) if cases else ibis.literal(0)

    def ordered_events(self) -> ir.Table:
        """Stage events with the deal's next and previous event (ties broken by stage order)."""
        import ibis

        ev = self.table("stage_events")
        ev = ev.mutate(_rank=self.stage_rank(ev.stage))
        w = ibis.window(group_by=ev.opportunity_id, order_by=[ev.entered_at, ev._rank])
        return ev.mutate(_next_at=ev.entered_at.lead().over(w), _prev_rank=ev._rank.lag().over(w))

    # -- time ---------------------------------------------------------------------------------
    def bucket(self, ts: ir.TimestampValue) -> ir.DateValue:
        """The period a timestamp falls in, null outside the window."""
        import ibis

        if self.period is None:
            value = ibis.literal(WINDOW)
        else:
            value = bucket(ts, self.period, week_start=self.settings.week_start)
        return ibis.ifelse(self._inside(ts), value, ibis.null("date"))

    def _inside(self, ts: ir.TimestampValue) -> ir.BooleanValue:
        cond = ts.notnull()
        if self.start is not None:
            cond &= ts >= _ts(self.start)
        if self.end is not None:
            cond &= ts < _ts(self.end + timedelta(days=1))
        return cond

    @cached_property
    def periods(self) -> ir.Table:
        """Period starts and their (exclusive) ends, for metrics that look at a state."""
        import ibis

        first, last = self.data_range()
        if self.period is None:
            rows = {"period": [WINDOW], "_end": [_ts(last + timedelta(days=1))]}
        else:
            starts = period_range(first, last, self.period, week_start=self.settings.week_start)
            ends = [_ts(next_start(s, self.period)) for s in starts]
            rows = {"period": starts, "_end": ends}
        schema = {"period": "date", "_end": "timestamp"}
        return ibis.memtable(rows, schema=schema)

    def data_range(self) -> tuple[date, date]:
        """The window, filled in from the opportunities' first and last dates where open."""
        if self.start is not None and self.end is not None:
            return self.start, self.end
        t = self.table("opportunities")
        agg = t.aggregate(lo=t.created_at.min(), hi=t.created_at.max(), hc=t.closed_at.max())
        row = agg.execute().iloc[0]
        today = self.settings.today()
        lo = _day(row["lo"]) or today
        hi = max(d for d in (_day(row["hi"]), _day(row["hc"]), lo, self.as_of) if d is not None)
        return self.start or lo, self.end or hi


def bands(settings: Settings) -> tuple[float, ...]:
    """Amount band limits: ``[metrics] amount_bands = [10000, 50000, 100000]`` or the default."""
    from salesflow.errors import ConfigError

    value = settings.section("metrics").get("amount_bands", DEFAULT_BANDS)
    if not isinstance(value, list | tuple) or not all(isinstance(v, int | float) for v in value):
        raise ConfigError(
            "metrics.amount_bands must be a list of amounts",
            where=str(settings.config_path),
            hint="e.g. amount_bands = [10000, 50000, 100000]",
        )
    return tuple(sorted(float(v) for v in value))


def band_labels(limits: tuple[float, ...]) -> list[str]:
    """``<10k``, ``10k–50k``, …, ``≥100k``: the names of the amount bands, smallest first."""
    if not limits:
        return ["all"]
    labels = [f"<{_short(limits[0])}"]
    labels += [f"{_short(a)}–{_short(b)}" for a, b in itertools.pairwise(limits)]
    return [*labels, f"≥{_short(limits[-1])}"]


def amount_band(amount: ir.FloatingValue, bands: tuple[float, ...]) -> ir.StringValue:
    """The band an amount falls in (null when the amount is unknown)."""
    import ibis

    labels = band_labels(bands)
    if not bands:
        return ibis.ifelse(amount.isnull(), ibis.null("string"), "all")
    cases = [(amount.isnull(), ibis.null("string"))]
    cases += [(amount < b, ibis.literal(labels[i])) for i, b in enumerate(bands)]
    return ibis.cases(*cases, else_=ibis.literal(labels[-1]))


def _short(value: float) -> str:
    if value >= 1_000_000 and value % 1_000_000 == 0:
        return f"{value / 1_000_000:g}M"
    if value >= 1000 and value % 1000 == 0:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def _ts(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def _day(value: object) -> date | None:
    import pandas as pd

    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).date()
