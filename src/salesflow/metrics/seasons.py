"""Seasons: a series limited to parts of the year, charted over those periods only.

Some results only happen at one time of year ("Q4 forecasts run high"). Charting them against the
whole year mixes two systems; the honest comparison is the season against the same season of
other years. So a season keeps the in-season points of a series and the chart is drawn over those
alone: with ``period=quarter`` and season ``Q4`` that is one point per year, with ``period=month``
it is October, November and December of each year.

A season is written as quarters (``Q4``, ``Q3,Q4``), months (``Nov-Dec``, ``11,12``, ``Oct``) or
ranges of either (``Nov-Feb`` wraps over the new year). A week counts in the month holding most of
its days; a quarter must lie wholly inside or outside the season.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from salesflow.errors import ConfigError
from salesflow.metrics.charted import Charted

if TYPE_CHECKING:
    from salesflow.metrics.results import Series

__all__ = ["ACCEPTED", "Season", "SeasonCharted", "in_season", "parse_season", "seasonal"]

ACCEPTED = (
    "a quarter (Q1, Q2, Q3 or Q4), months (Nov-Dec, 10-12 or Oct) or a comma list of them "
    "(Q3,Q4 or 11,12)"
)
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
PLURAL = {"week": "weeks", "month": "months", "quarter": "quarters"}


@dataclass(frozen=True)
class Season:
    """Months of the year (1-12) kept, and the canonical way to write them (``Q4``, ``Nov-Dec``)."""

    label: str
    months: frozenset[int]

    def phrase(self, period: str) -> str:
        """``Q4 quarters only``: how a measure's description names its season."""
        return f"{self.label} {PLURAL.get(period, 'periods')} only"

    def explanation(self, period: str) -> str:
        """Why the chart is drawn over in-season periods alone, for the chart's reason text."""
        yearly = period == "quarter" and len(self.months) == 3
        each = "one point per year, so" if yearly else "these periods alone, so"
        return (
            f"{self.phrase(period)}: the chart is drawn over {each} {self.label} is "
            f"compared with {self.label} of other years, not with the rest of the year."
        )

    def holds(self, start: date, period: str) -> bool:
        """Is the period starting on ``start`` in season? A week by the month of its middle day."""
        day = start + timedelta(days=3) if period == "week" else start
        return day.month in self.months

    def check_period(self, period: str, option: str = "--season") -> None:
        """A quarter cannot be half in season: refuse ``Nov-Dec`` per quarter."""
        if period != "quarter":
            return
        for first in (1, 4, 7, 10):
            inside = {first, first + 1, first + 2} & self.months
            if inside and len(inside) < 3:
                raise ConfigError(
                    f"{option} {self.label} covers only part of a quarter",
                    hint="Chart it per month (--period month), or give whole quarters (Q1..Q4)",
                )


def parse_season(text: str | Season | None, *, option: str = "--season") -> Season | None:
    """``"q4"`` → Season("Q4", {10, 11, 12}); ``"11,12"`` → Season("Nov-Dec", …); None stays None."""
    if text is None or isinstance(text, Season):
        return text
    raw = str(text).strip()
    if not raw:
        return None
    months: set[int] = set()
    for part in raw.replace(";", ",").split(","):
        months |= _part(part.strip(), raw, option)
    return Season(_label(months), frozenset(months))


def _bad(raw: str, option: str) -> ConfigError:
    return ConfigError(f"{option} {raw!r} is not a part of the year", hint=f"Use {ACCEPTED}")


def _part(part: str, raw: str, option: str) -> set[int]:
    """One list item: a quarter, a month, or a range FIRST-LAST of them (wrapping over December)."""
    first, sep, last = part.partition("-")
    if not sep:
        return set(_span(first, raw, option))
    begin, end = _span(first, raw, option)[0], _span(last, raw, option)[-1]
    return {(begin - 1 + i) % 12 + 1 for i in range((end - begin) % 12 + 1)}


def _span(token: str, raw: str, option: str) -> list[int]:
    """The months of one token, in order: ``Q4`` → [10, 11, 12], ``nov`` or ``11`` → [11]."""
    word = token.strip().lower()
    if len(word) == 2 and word[0] == "q" and word[1] in "1234":
        first = 3 * (int(word[1]) - 1) + 1
        return [first, first + 1, first + 2]
    if word.isdigit() and 1 <= int(word) <= 12:
        return [int(word)]
    if len(word) >= 3 and any(m == word[:3] for m in MONTHS):
        index = MONTHS.index(word[:3])
        full = date(2000, index + 1, 1).strftime("%B").lower()
        if full.startswith(word):
            return [index + 1]
    raise _bad(raw, option)


def _label(months: set[int]) -> str:
    """Whole quarters as ``Q3,Q4``; otherwise runs of months as ``Nov-Feb`` or ``Jan,Mar``."""
    quarters = [q for q in range(1, 5) if {3 * q - 2, 3 * q - 1, 3 * q} <= months]
    if 3 * len(quarters) == len(months):
        return ",".join(f"Q{q}" for q in quarters)
    runs: list[list[int]] = []
    for m in sorted(months):
        if runs and runs[-1][-1] == m - 1:
            runs[-1].append(m)
        else:
            runs.append([m])
    if len(runs) > 1 and runs[0][0] == 1 and runs[-1][-1] == 12:
        runs[0] = runs.pop() + runs[0]  # Nov-Feb wraps over the new year
    names = [MONTHS[r[0] - 1].title() + (f"-{MONTHS[r[-1] - 1].title()}" if len(r) > 1 else "")
             for r in runs]  # fmt: skip
    return ",".join(names)


def in_season(series: Series, season: Season | None) -> Series:
    """The series with only its in-season points; no season keeps every point."""
    if season is None:
        return series
    season.check_period(series.period)
    return replace(
        series, points=[p for p in series.points if season.holds(p.period, series.period)]
    )


@dataclass(frozen=True)
class SeasonCharted(Charted):
    """A charted series that says which season it is limited to (``season`` null when none)."""

    season: Season | None = None

    def to_dict(self) -> dict[str, Any]:
        doc = super().to_dict()
        doc["season"] = self.season.label if self.season else None
        return doc


def seasonal(charted: Charted, season: Season | None) -> SeasonCharted:
    """The chart with its season named, and its reason saying what the limits compare."""
    result = charted.result
    if season is not None and result is not None:
        result = replace(
            result, reason=f"{result.reason} {season.explanation(charted.series.period)}"
        )
    carried = {f.name: getattr(charted, f.name) for f in fields(Charted)}
    return SeasonCharted(**{**carried, "result": result}, season=season)
