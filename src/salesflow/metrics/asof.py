"""The as-of moment: what the data can say, and when a period or a cohort can be judged.

Every workspace has an **as-of moment**, the moment its data describes: by default the latest
timestamp in the canonical tables (never the wall clock, so an export analysed a month later gives
the same answers); ``[calendar] as_of`` in ``salesflow.toml`` overrides it, and ``--as-of`` (or
``salesflow.open(path, as_of=...)``) overrides both. The moment itself is resolved in
:mod:`salesflow.workspace` (it is a fact about the data); this module says what it means for a
period. A period is

- ``running`` while it has not ended at as-of,
- ``maturing`` when it has ended but the outcome window of its cohort has not (deals created in it
  have not had time to win yet; see each cohort metric's maturity rule),
- ``complete`` otherwise. Only complete points enter limits and verdicts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from salesflow.metrics.calendar import next_start
from salesflow.workspace import TIME_COLUMNS, as_moment, data_bounds, resolve_as_of

if TYPE_CHECKING:
    from salesflow.metrics.results import Point

__all__ = [
    "STATUSES",
    "TIME_COLUMNS",
    "as_moment",
    "data_bounds",
    "not_judged_sentence",
    "period_end",
    "period_name",
    "point_status",
    "resolve_as_of",
]

STATUSES = ("complete", "running", "maturing")


def period_end(start: date, period: str) -> datetime:
    """The moment the period starting on ``start`` is over (the next period's start)."""
    return as_moment(next_start(start, period))


def point_status(
    start: date, period: str, as_of: datetime, mature_days: float | None = None
) -> str:
    """``running`` until the period ends at as-of, ``maturing`` until its cohort's outcome window
    (``mature_days`` after the period's end) has passed too, then ``complete``."""
    end = period_end(start, period)
    if end > as_of:
        return "running"
    if mature_days and end + timedelta(days=mature_days) > as_of:
        return "maturing"
    return "complete"


def period_name(start: date, period: str) -> str:
    """``March 2026``, ``Q1 2026`` or ``the week of 2 March 2026``: a period as people say it."""
    if period == "month":
        return start.strftime("%B %Y")
    if period == "quarter":
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    return f"the week of {start.day} {start:%B %Y}"


def not_judged_sentence(points: Iterable[Point], period: str) -> str | None:
    """ "March 2026 is still running and is not judged." — one sentence for the unjudged points."""
    points = list(points)
    clauses = []
    for status, words in (("maturing", "still maturing"), ("running", "still running")):
        names = [period_name(p.period, period) for p in points if p.status == status]
        if names:
            verb = "is" if len(names) == 1 else "are"
            clauses.append(f"{_join(names)} {verb} {words} and {verb} not judged")
    if not clauses:
        return None
    text = "; ".join(clauses) + "."
    return text[0].upper() + text[1:]


def _join(names: list[str]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"
