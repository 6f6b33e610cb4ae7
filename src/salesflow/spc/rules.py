"""Detection rules: Western Electric 1-4 for control charts, Anhøj's run rules for run charts.

Every rule reads one :class:`Segment` (the usable points of one phase, gaps skipped, with the
phase's centre, sigma and limits) and returns :class:`Signal` objects. Rules are registered in
:data:`RULES` by id; see README.md in this folder for how to add one.

Western Electric rules (Western Electric Statistical Quality Control Handbook, 1956), with
"beyond" meaning strictly beyond and a window of m points ending at point i (shorter at the
start of a phase):

- ``we1``: one point beyond a 3-sigma limit;
- ``we2``: 2 of 3 points beyond 2 sigma on the same side;
- ``we3``: 4 of 5 points beyond 1 sigma on the same side;
- ``we4``: 8 points in a row on the same side of the centre line.

A k-of-m rule fires at point i when i itself is beyond and the window holds at least k such
points. Anhøj & Olesen (2014), points on the centre line ignored, n useful points:

- ``anhoej_runs``: a run longer than round(log2(n) + 3) points;
- ``anhoej_crossings``: fewer crossings of the centre line than the 5th percentile of
  Binomial(n - 1, 0.5).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from salesflow.spc.model import Direction, Signal

SIDES: tuple[tuple[Direction, int], ...] = (("up", 1), ("down", -1))


@dataclass(frozen=True)
class Segment:
    """The usable points of one phase: original indices and aligned values, centre, sigma."""

    index: np.ndarray
    value: np.ndarray
    center: np.ndarray
    sigma: np.ndarray
    lcl: np.ndarray
    ucl: np.ndarray


@dataclass(frozen=True)
class Rule:
    """A detection rule: id, the name people read, whether it needs sigma, and the detector."""

    id: str
    name: str
    needs_sigma: bool
    detect: Callable[[Segment, Rule], list[Signal]]


def _beyond_limits(seg: Segment, rule: Rule) -> list[Signal]:
    out = []
    for i, (x, lo, hi) in enumerate(zip(seg.value, seg.lcl, seg.ucl, strict=True)):
        direction: Direction | None = "up" if x > hi else "down" if x < lo else None
        if direction:
            idx = int(seg.index[i])
            out.append(Signal(rule.id, rule.name, direction, idx, (idx,), observed=1))
    return out


def k_of_m(seg: Segment, rule: Rule, *, k: int, m: int, zone: float) -> list[Signal]:
    """k of m successive points beyond ``zone`` sigma on one side; overlapping firings merged."""
    out: list[Signal] = []
    for direction, side in SIDES:
        threshold = zone * seg.sigma if zone else 0.0  # zone 0 needs no sigma (run charts)
        beyond = side * (seg.value - seg.center) > threshold
        current: tuple[int, set[int], int] | None = None  # (first fire, points, last point)
        for i in np.flatnonzero(beyond):
            lo = max(0, i - m + 1)
            window = [j for j in range(lo, i + 1) if beyond[j]]
            if len(window) < k:
                continue
            if current is not None and lo <= current[2]:
                current[1].update(window)
                current = (current[0], current[1], int(i))
                continue
            if current is not None:
                out.append(_merged(rule, direction, seg, current))
            current = (int(i), set(window), int(i))
        if current is not None:
            out.append(_merged(rule, direction, seg, current))
    return sorted(out, key=lambda s: (s.index, s.direction or ""))


def _merged(
    rule: Rule, direction: Direction, seg: Segment, fire: tuple[int, set[int], int]
) -> Signal:
    points = tuple(int(seg.index[j]) for j in sorted(fire[1]))
    return Signal(
        rule.id, rule.name, direction, int(seg.index[fire[0]]), points, observed=len(points)
    )


def longest_run_limit(n_useful: int) -> int:
    """Anhøj: a run longer than this is a signal (round(log2(n) + 3))."""
    return math.floor(math.log2(n_useful) + 3 + 0.5)


def min_crossings(n_useful: int) -> int:
    """Anhøj: fewer crossings than this is a signal (5th percentile of Binomial(n-1, 0.5))."""
    from scipy.stats import binom  # imported here: scipy.stats takes a while to load

    return int(binom.ppf(0.05, max(n_useful - 1, 0), 0.5))


def _useful(seg: Segment) -> tuple[np.ndarray, np.ndarray]:
    """Sides (+1/-1) and original indices of the points not on the centre line."""
    side = np.sign(seg.value - seg.center)
    keep = side != 0
    return side[keep].astype(int), seg.index[keep]


def _runs(side: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of each run of equal sides."""
    if side.size == 0:
        return []
    cuts = np.flatnonzero(np.diff(side)) + 1
    starts = np.concatenate(([0], cuts))
    ends = np.concatenate((cuts, [side.size]))
    return [(int(s), int(e - s)) for s, e in zip(starts, ends, strict=True)]


def _anhoej_runs(seg: Segment, rule: Rule) -> list[Signal]:
    side, index = _useful(seg)
    if side.size < 2:
        return []
    limit = longest_run_limit(side.size)
    out = []
    for start, length in _runs(side):
        if length > limit:
            points = tuple(int(i) for i in index[start : start + length])
            direction: Direction = "up" if side[start] > 0 else "down"
            out.append(
                Signal(rule.id, rule.name, direction, points[limit], points, length, expected=limit)
            )
    return out


def _anhoej_crossings(seg: Segment, rule: Rule) -> list[Signal]:
    side, index = _useful(seg)
    if side.size < 2:
        return []
    crossings = len(_runs(side)) - 1
    minimum = min_crossings(side.size)
    if crossings >= minimum:
        return []
    points = tuple(int(i) for i in index)
    return [Signal(rule.id, rule.name, None, points[-1], points, crossings, expected=minimum)]


def _rule(id: str, name: str, needs_sigma: bool, detect: Callable) -> Rule:
    return Rule(id, name, needs_sigma, detect)


RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        _rule("we1", "One point beyond a control limit", True, _beyond_limits),
        _rule(
            "we2",
            "Two of three points beyond two sigma",
            True,
            lambda s, r: k_of_m(s, r, k=2, m=3, zone=2.0),
        ),
        _rule(
            "we3",
            "Four of five points beyond one sigma",
            True,
            lambda s, r: k_of_m(s, r, k=4, m=5, zone=1.0),
        ),
        _rule(
            "we4",
            "Eight points in a row on one side of the centre line",
            False,
            lambda s, r: k_of_m(s, r, k=8, m=8, zone=0.0),
        ),
        _rule("anhoej_runs", "Unusually long run", False, _anhoej_runs),
        _rule("anhoej_crossings", "Too few crossings of the centre line", False, _anhoej_crossings),
    )
}
DEFAULT_RULES: tuple[str, ...] = ("we1", "we2", "we3", "we4")
RUN_CHART_RULES: tuple[str, ...] = ("anhoej_runs", "anhoej_crossings")


def detect(segment: Segment, rules: tuple[str, ...]) -> list[Signal]:
    """All signals of ``rules`` in one segment, ordered by where they fire."""
    out: list[Signal] = []
    for rule_id in rules:
        rule = RULES[rule_id]
        out.extend(rule.detect(segment, rule))
    return out
