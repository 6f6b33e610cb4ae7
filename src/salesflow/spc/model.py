"""The results of charting a series: signals, phases and the chart, each with its JSON fragment.

Per-point arrays are NumPy float arrays, one entry per period, with NaN where a period has no
value (a gap) or no limit; ``to_dict`` turns NaN into ``None`` so the JSON stays valid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    from salesflow.spc.trend import Trend

ChartType = Literal["xmr", "p", "u", "laney-p", "laney-u", "run"]
Direction = Literal["up", "down"]
CHART_TYPES: tuple[ChartType, ...] = ("xmr", "p", "u", "laney-p", "laney-u", "run")
PER_POINT_LIMITS = frozenset({"p", "u", "laney-p", "laney-u"})


def _num(x: float | None) -> float | None:
    """A JSON-safe number: NaN and None both become None."""
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


def _nums(a: np.ndarray) -> list[float | None]:
    return [_num(x) for x in a]


def period_label(index: int, labels: Sequence[str] | None) -> str:
    """The caller's label for a point, or "period N" (1-based) when there are no labels."""
    if labels is not None and 0 <= index < len(labels):
        return str(labels[index])
    return f"period {index + 1}"


@dataclass(frozen=True)
class Signal:
    """One detection rule firing: which rule, where, in which direction, and on which points.

    ``index`` is the point at which the evidence first became complete (where the rule fires);
    ``points`` are all points that make up the evidence. Overlapping firings of the same rule in
    the same direction are merged into one signal, so a run of twelve is one signal, not five.
    ``direction`` is "up" (above the centre line) or "down"; it is ``None`` only for
    ``anhoej_crossings``, which says the series shifted without a side. ``observed`` and
    ``expected`` carry the counts a run rule compared (run length vs. its threshold, crossings
    vs. the minimum expected).
    """

    rule: str
    name: str
    direction: Direction | None
    index: int
    points: tuple[int, ...]
    observed: int | None = None
    expected: int | None = None

    def to_dict(
        self, labels: Sequence[str] | None = None, *, chart_type: str | None = None
    ) -> dict:
        """The ``signals[]`` entry of the JSON contract; ``period`` is the label of ``index``."""
        from salesflow.spc.explain import explain

        out: dict[str, Any] = {
            "period": labels[self.index] if labels is not None else self.index,
            "index": self.index,
            "rule": self.rule,
            "name": self.name,
            "direction": self.direction,
            "points": list(self.points),
            "observed": self.observed,
            "expected": self.expected,
            "explanation": explain(self, labels, chart_type=chart_type),
        }
        if labels is not None:
            out["periods"] = [labels[i] for i in self.points]
        return out


@dataclass(frozen=True)
class Phase:
    """A stretch of points ``[start, end)`` sharing one set of limits computed from ``basis``.

    ``n_points`` counts the usable points in the basis. ``message`` is set, and the centre and
    limits are ``None``, when the basis has too few points for meaningful limits.
    """

    start: int
    end: int
    basis: tuple[int, int]
    n_points: int
    center: float | None
    lcl: float | None = None  # XmR only: p/u limits differ per point
    ucl: float | None = None
    mr_center: float | None = None
    mr_ucl: float | None = None
    sigma_z: float | None = None
    message: str | None = None

    @property
    def sufficient(self) -> bool:
        return self.message is None

    def to_dict(self) -> dict:
        out: dict[str, Any] = {
            "start": self.start,
            "end": self.end,
            "basis": list(self.basis),
            "n_points": self.n_points,
            "center": _num(self.center),
        }
        optional = {
            "lcl": self.lcl,
            "ucl": self.ucl,
            "mr_center": self.mr_center,
            "mr_ucl": self.mr_ucl,
            "sigma_z": self.sigma_z,
        }
        out.update({k: _num(v) for k, v in optional.items() if v is not None})
        if self.message:
            out["message"] = self.message
        return out


@dataclass(frozen=True, eq=False)
class ChartResult:
    """A process behaviour chart: per-point centre, limits and sigma, its phases and signals."""

    type: ChartType
    reason: str
    values: np.ndarray
    n: np.ndarray | None
    center: np.ndarray
    lcl: np.ndarray
    ucl: np.ndarray
    sigma: np.ndarray
    phases: tuple[Phase, ...]
    signals: tuple[Signal, ...]
    min_points: int
    rules: tuple[str, ...]
    moving_range: np.ndarray | None = None
    message: str | None = field(default=None)
    offset: np.ndarray | None = None  # a seasonal pattern taken out before limits, per point
    trend: Trend | None = None  # a trend line the centre and limits follow (regression XmR)

    @property
    def status(self) -> Literal["ok", "insufficient_data"]:
        return "ok" if any(p.sufficient for p in self.phases) else "insufficient_data"

    @property
    def insufficient(self) -> bool:
        return self.status == "insufficient_data"

    def find_signals(
        self,
        *,
        direction: Direction | None = None,
        since: int | None = None,
        rules: Sequence[str] | None = None,
    ) -> list[Signal]:
        """Signals firing at or after ``since``, in ``direction``, from ``rules`` (all if None)."""
        return [
            s
            for s in self.signals
            if (direction is None or s.direction == direction)
            and (since is None or s.index >= since)
            and (rules is None or s.rule in rules)
        ]

    def explain(self, signal: Signal, labels: Sequence[str] | None = None) -> str:
        from salesflow.spc.explain import explain

        return explain(signal, labels, chart_type=self.type)

    def chart_dict(self) -> dict:
        """The ``chart`` object of the JSON contract (see src/salesflow/spc/README.md)."""
        out: dict[str, Any] = {"type": self.type, "status": self.status, "reason": self.reason}
        if self.insufficient:
            out.update(center=None, lcl=None, ucl=None, message=self.message)
        else:
            out.update(self._limits_dict())
            if self.message:
                out["message"] = self.message
        out["n_points"] = int(np.sum(~np.isnan(self.values)))
        out["min_points"] = self.min_points
        out["rules"] = list(self.rules)
        out["phases"] = [p.to_dict() for p in self.phases]
        if self.moving_range is not None:
            out["moving_range"] = _nums(self.moving_range)
        out["trend"] = None if self.trend is None else self.trend.to_dict()
        return out

    def _limits_dict(self) -> dict[str, Any]:
        one_phase = len(self.phases) == 1
        flat = self.offset is None and self.trend is None
        single = one_phase and flat  # one centre line and one pair of limits
        first = self.phases[0]
        out: dict[str, Any] = {}
        out["center"] = _num(first.center) if single else _nums(self.center)
        if self.offset is not None:
            out["seasonal_offset"] = _nums(self.offset)
        if self.type == "run":
            out["lcl"] = out["ucl"] = None
        elif single and self.type == "xmr":
            out["lcl"], out["ucl"] = _num(first.lcl), _num(first.ucl)
        else:
            out["lcl"], out["ucl"] = _nums(self.lcl), _nums(self.ucl)
        if one_phase and first.mr_center is not None:
            out["mr_center"], out["mr_ucl"] = _num(first.mr_center), _num(first.mr_ucl)
        if one_phase and first.sigma_z is not None:
            out["sigma_z"] = _num(first.sigma_z)
        return out

    def to_dict(self, labels: Sequence[str] | None = None) -> dict:
        """``{"chart": {...}, "signals": [...]}``; pass the period labels to name the periods."""
        return {
            "chart": self.chart_dict(),
            "signals": [s.to_dict(labels, chart_type=self.type) for s in self.signals],
        }
