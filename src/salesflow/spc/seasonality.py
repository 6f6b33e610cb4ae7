"""Seasonality, named: does a series repeat a pattern within each quarter or each year?

Sales results often do (deals pushed into the last month of a quarter, a slow August). A chart
that ignores it calls every quarter-end a signal, or widens its limits until nothing is one. This
module tests for a pattern and, when there is one, names it with its size, so limits can compare
like with like.

The test (per candidate pattern): the points are grouped into *cells* (one per cycle and position,
e.g. each month of each quarter; weekly points are averaged into their month), only **complete
cycles** are kept (every position has a value), and a two-way analysis of variance without
interaction, ``cell = cycle + position + error``, gives the F-test of the position effect. The
cycle term takes out trends and slow drifts, so a series that wanders is not called seasonal.

Guards against false claims:

- A pattern is tested only with :data:`MIN_CYCLES` complete cycles or more (3 quarters for a
  month-of-quarter effect, 2 years for a quarter-of-year or month-of-year effect): no claim from
  fewer. A short history (fewer than :data:`FULL_CYCLES`: 8 quarters, 3 years) must show the
  pattern far beyond chance: p below :data:`SHORT_ALPHA` instead of :data:`ALPHA`.
- Every pattern the period allows is tested, and the p-values are Holm-adjusted for the number of
  patterns tested; a pattern is claimed only when its adjusted p-value is below :data:`ALPHA`.
- The false-claim rate on i.i.d. and autocorrelated (AR(1)) non-seasonal series, and the detection
  rate on seasonal ones, are measured by ``benchmarks/bench_seasonality.py``.

Pure maths on NumPy arrays plus SciPy's F distribution; dates only to place a point in its
quarter and year.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

__all__ = [
    "ALPHA",
    "FULL_CYCLES",
    "MIN_CYCLES",
    "PATTERNS",
    "SHORT_ALPHA",
    "Seasonality",
    "detect",
    "position",
]

ALPHA = 0.01  # family-wise: Holm over the patterns tested
SHORT_ALPHA = 0.001  # the same, on a history shorter than FULL_CYCLES
PATTERNS = ("month_of_quarter", "quarter_of_year", "month_of_year")
LEVELS = {"month_of_quarter": 3, "quarter_of_year": 4, "month_of_year": 12}
MIN_CYCLES = {"month_of_quarter": 3, "quarter_of_year": 2, "month_of_year": 2}
FULL_CYCLES = {"month_of_quarter": 8, "quarter_of_year": 3, "month_of_year": 3}
APPLIES = {  # which patterns a period can show: a quarter has no month inside it
    "day": PATTERNS,
    "week": PATTERNS,
    "month": PATTERNS,
    "quarter": ("quarter_of_year",),
}
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
ORDINAL = ("first", "second", "last")


def _day(start: date, period: str) -> date:
    """The day that places a period in the calendar: a week by its middle day."""
    return start + timedelta(days=3) if period == "week" else start


def position(start: date, period: str, pattern: str) -> tuple[tuple[int, int], int]:
    """The cycle (year, quarter or year, 0) and the 0-based position of a period in a pattern."""
    day = _day(start, period)
    quarter = (day.month - 1) // 3
    if pattern == "month_of_quarter":
        return (day.year, quarter), (day.month - 1) % 3
    if pattern == "quarter_of_year":
        return (day.year, 0), quarter
    return (day.year, 0), day.month - 1


@dataclass(frozen=True)
class Seasonality:
    """A pattern found: the position that stands out, its size and the evidence.

    ``offsets`` are the position effects (mean zero over positions), in the series' unit: what a
    period in that position runs above (+) or below (-) the cycle's average. ``effect`` is the
    standout position against the mean of the others; ``p_value`` is Holm-adjusted.
    """

    pattern: str
    position: int
    effect: float
    p_value: float
    offsets: tuple[float, ...]
    cycles: int
    tested: tuple[str, ...]

    @property
    def where(self) -> str:
        """``in the last month of each quarter``, ``in Q4``, ``in August``."""
        if self.pattern == "month_of_quarter":
            return f"in the {ORDINAL[self.position]} month of each quarter"
        if self.pattern == "quarter_of_year":
            return f"in Q{self.position + 1}"
        return f"in {MONTH_NAMES[self.position]}"

    @property
    def months(self) -> tuple[int, ...]:
        """The months (1-12) of the standout position: a season to bind a measure to."""
        if self.pattern == "month_of_quarter":
            return tuple(q * 3 + self.position + 1 for q in range(4))
        if self.pattern == "quarter_of_year":
            return tuple(self.position * 3 + m for m in (1, 2, 3))
        return (self.position + 1,)

    def offset(self, start: date, period: str) -> float:
        """The expected seasonal deviation of the period starting on ``start``."""
        return self.offsets[position(start, period, self.pattern)[1]]

    def sentence(self, name: str, amount: str) -> str:
        """``Win rate is higher in the last month of each quarter: +0.28 on average …``."""
        side = "higher" if self.effect > 0 else "lower"
        others = {
            "month_of_quarter": "the other months",
            "quarter_of_year": "the other quarters",
            "month_of_year": "the other months",
        }[self.pattern]
        return (
            f"{name} is {side} {self.where}: {amount} on average against {others} of the same "
            f"{'quarter' if self.pattern == 'month_of_quarter' else 'year'} "
            f"({self.cycles} complete {'quarters' if self.pattern == 'month_of_quarter' else 'years'}"
            f", p {_p(self.p_value)}), so limits allow for it."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "where": self.where,
            "position": self.position + 1,
            "effect": float(self.effect),
            "p_value": float(self.p_value),
            "offsets": [float(o) for o in self.offsets],
            "cycles": self.cycles,
            "tested": list(self.tested),
        }


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def detect(
    values: Sequence[float | None] | np.ndarray,
    starts: Sequence[date],
    period: str,
    *,
    alpha: float = ALPHA,
    short_alpha: float = SHORT_ALPHA,
) -> Seasonality | None:
    """The strongest pattern the series shows beyond chance, or None (no claim).

    ``values`` are the judged points only (complete periods, no ramp-up); NaN or None is a gap.
    """
    x = np.array([np.nan if v is None else v for v in values], dtype=float)
    found: list[tuple[str, float, np.ndarray, int]] = []
    for pattern in APPLIES.get(period, ()):
        cells = _cells(x, starts, period, pattern)
        if cells.shape[0] < MIN_CYCLES[pattern]:
            continue
        p, effects = _anova(cells)
        found.append((pattern, p, effects, cells.shape[0]))
    if not found:
        return None
    adjusted = _holm([f[1] for f in found])
    tested = tuple(f[0] for f in found)
    claims = [
        i
        for i, (pattern, _, _, cycles) in enumerate(found)
        if adjusted[i] < (alpha if cycles >= FULL_CYCLES[pattern] else short_alpha)
    ]
    if not claims:
        return None
    best = min(claims, key=lambda i: (adjusted[i], LEVELS[found[i][0]]))
    pattern, _, effects, cycles = found[best]
    top = int(np.argmax(np.abs(effects)))
    levels = effects.size
    effect = float(effects[top] * levels / (levels - 1))  # standout minus mean of the others
    return Seasonality(
        pattern, top, effect, adjusted[best], tuple(float(e) for e in effects), cycles, tested
    )


def _cells(x: np.ndarray, starts: Sequence[date], period: str, pattern: str) -> np.ndarray:
    """A cycles × positions array of cell means, complete cycles only (rows in time order)."""
    levels = LEVELS[pattern]
    sums: dict[tuple[int, int], np.ndarray] = {}
    counts: dict[tuple[int, int], np.ndarray] = {}
    for value, start in zip(x, starts, strict=True):
        if np.isnan(value):
            continue
        cycle, pos = position(start, period, pattern)
        sums.setdefault(cycle, np.zeros(levels))[pos] += value
        counts.setdefault(cycle, np.zeros(levels))[pos] += 1
    rows = [sums[c] / counts[c] for c in sorted(sums) if np.all(counts[c] > 0)]
    return np.array(rows) if rows else np.empty((0, levels))


def _anova(cells: np.ndarray) -> tuple[float, np.ndarray]:
    """p-value of the position effect in ``cell = cycle + position + error``, and the effects."""
    from scipy.stats import f

    cycles, levels = cells.shape
    grand = cells.mean()
    effects = cells.mean(axis=0) - grand
    residual = cells - cells.mean(axis=1, keepdims=True) - effects
    df_pos, df_res = levels - 1, (cycles - 1) * (levels - 1)
    ss_pos = cycles * float(np.sum(effects**2))
    ss_res = float(np.sum(residual**2))
    if ss_res <= 1e-12 * max(ss_pos, 1e-300):
        return (0.0 if ss_pos > 0 else 1.0), effects  # exact repetition, or a flat series
    stat = (ss_pos / df_pos) / (ss_res / df_res)
    return float(f.sf(stat, df_pos, df_res)), effects


def _holm(p: list[float]) -> list[float]:
    """Holm's step-down adjustment: controls the chance of any false claim among the tests."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    out = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out
