"""Chart signals that allow for a measure carrying over from one period to the next.

Control limits come from the average moving range, which assumes independent periods. Sales
series are autocorrelated (a slow month follows a slow month): for AR(1) data with lag-1
autocorrelation φ successive values differ less than independent ones, so the moving-range
estimate of σ is about σ·√(1 − φ) and the limits are too narrow; runs on one side of the centre
line are longer too. Read as they are, a no-change series with φ = 0.6 shows a "signal" in its
last three periods 18 % of the time (``benchmarks/bench_verdicts.py``).

:func:`allow_for_carry_over` re-reads a chart's signals with

- every σ-based zone and limit widened by 1/√(1 − ρ) (the AR(1) variance factor), and
- the run rule (8 in a row on one side) lengthened to the same evidence in independent periods:
  8·(1 + ρ)/(1 − ρ) periods (the effective sample size n(1 − ρ)/(1 + ρ)),

where ρ is :func:`salesflow.workbench.shift.carry_over`'s estimate: the lag-1 autocorrelation
of the residuals around the best-fitting level (a straight line through time, or one step in the
last 3–12 periods, so that the worsening a UDR is about is not itself read as carry-over),
bias-corrected and pushed to the cautious side as for improvement verdicts. Nothing changes
when ρ is 0; run charts (no σ) are left as they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from salesflow.spc.model import ChartResult, Signal
from salesflow.spc.rules import RULES, Rule, Segment, k_of_m
from salesflow.workbench.shift import carry_over

__all__ = ["CarryOver", "allow_for_carry_over"]

RUN = 8  # the run rule's length for independent periods (Western Electric rule 4)


@dataclass(frozen=True)
class CarryOver:
    """The chart's signals re-read for autocorrelation, with the numbers they rest on."""

    autocorrelation: float  # lag-1 autocorrelation of the periods around their mean
    allowed: float  # the autocorrelation allowed for (bias-corrected, cautious; 0 = none)
    widening: float  # factor applied to the limits' distance from the centre line
    run_length: int  # periods in a row on one side that make a run signal
    signals: tuple[Signal, ...]

    @property
    def applied(self) -> bool:
        return self.allowed > 0

    def to_dict(self) -> dict[str, float | int]:
        return {
            "autocorrelation": self.autocorrelation,
            "autocorrelation_allowed": self.allowed,
            "limits_widened_by": self.widening,
            "run_length": self.run_length,
        }


def allow_for_carry_over(result: ChartResult) -> CarryOver:
    """The signals of ``result`` against limits widened for its autocorrelation."""
    x = result.values if result.offset is None else result.values - result.offset
    usable = np.flatnonzero(~np.isnan(x))
    r1, rho = carry_over(x[usable], usable)
    if rho <= 0 or result.type == "run":
        return CarryOver(r1, 0.0, 1.0, RUN, result.signals)
    widening = 1 / math.sqrt(1 - rho)
    run_length = math.ceil(RUN * (1 + rho) / (1 - rho) - 1e-9)
    rules = tuple(_rule(r, run_length) for r in result.rules)
    signals: list[Signal] = []
    for phase in result.phases:
        if phase.sufficient:
            segment = _widened(
                result, usable[(usable >= phase.start) & (usable < phase.end)], widening
            )
            signals.extend(s for rule in rules for s in rule.detect(segment, rule))
    signals.sort(key=lambda s: s.index)
    return CarryOver(r1, rho, widening, run_length, tuple(signals))


def _rule(rule_id: str, run_length: int) -> Rule:
    """The registered rule, with the run rule lengthened."""
    if rule_id != "we4":
        return RULES[rule_id]
    original = RULES[rule_id]
    return Rule(
        original.id,
        f"{run_length} points in a row on one side of the centre line",
        False,
        lambda s, r: k_of_m(s, r, k=run_length, m=run_length, zone=0.0),
    )


def _widened(result: ChartResult, idx: np.ndarray, widening: float) -> Segment:
    """The usable points of one phase, σ and the limits' distance from the centre scaled."""
    center = result.center[idx]
    return Segment(
        index=idx,
        value=result.values[idx],
        center=center,
        sigma=result.sigma[idx] * widening,
        lcl=center - (center - result.lcl[idx]) * widening,
        ucl=center + (result.ucl[idx] - center) * widening,
    )
