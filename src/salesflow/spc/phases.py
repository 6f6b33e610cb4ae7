"""Split a series into phases and name the points each phase's limits are computed from.

A phase runs from one declared change index to the next. The first phase's limits come from the
baseline window when one is given (and hold for every point of the phase, before and after the
window); every later phase computes its limits from all its own points. Index ranges are
half-open, like Python slices: ``baseline=(0, 12)`` means points 0 to 11.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from salesflow.errors import ConfigError


@dataclass(frozen=True)
class PhaseSpec:
    """Points ``[start, end)`` with limits from ``basis``; ``baseline`` if basis is the window."""

    start: int
    end: int
    basis: tuple[int, int]
    baseline: bool = False


def split_phases(
    size: int, baseline: tuple[int, int] | None, phase_starts: Sequence[int]
) -> list[PhaseSpec]:
    """The phases of a series of ``size`` points; raises ConfigError for impossible windows."""
    starts = sorted({int(s) for s in phase_starts} - {0})
    for s in starts:
        if not 0 < s < size:
            raise ConfigError(
                f"A new phase cannot start at point {s}",
                where=f"phase start, series of {size} points",
                hint=f"Choose a change index between 1 and {size - 1}",
            )
    edges = [0, *starts, size]
    phases = [PhaseSpec(a, b, (a, b)) for a, b in itertools.pairwise(edges)]
    if baseline is None:
        return phases
    b0, b1 = int(baseline[0]), int(baseline[1])
    first = phases[0]
    if not 0 <= b0 < b1 <= first.end:
        raise ConfigError(
            f"The baseline {b0}:{b1} does not fit inside the first phase 0:{first.end}",
            where="baseline",
            hint="Give the baseline as START:END with START < END, ending at or before the first change",
        )
    phases[0] = PhaseSpec(first.start, first.end, (b0, b1), baseline=True)
    return phases
