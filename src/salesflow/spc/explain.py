"""Signals in plain words for a sales leader, with the caller's period labels.

>>> from salesflow.spc.model import Signal
>>> explain(Signal("we1", "One point beyond a control limit", "up", 3, (3,)), ["W1", "W2", "W3", "W4"])
'One point beyond the upper limit on W4.'
"""

from __future__ import annotations

from collections.abc import Sequence

from salesflow.spc.model import Signal, period_label


def explain(
    signal: Signal, labels: Sequence[str] | None = None, *, chart_type: str | None = None
) -> str:
    """One sentence saying what the chart shows, naming the periods involved."""
    first = period_label(signal.points[0], labels)
    last = period_label(signal.points[-1], labels)
    at = period_label(signal.index, labels)
    above = signal.direction == "up"
    side = "above" if above else "below"
    line = "the median" if chart_type == "run" else "the centre line"
    count = len(signal.points)
    span = signal.points[-1] - signal.points[0] + 1
    if signal.rule == "we1":
        return f"One point beyond the {'upper' if above else 'lower'} limit on {at}."
    if signal.rule == "we2":
        limit = "upper" if above else "lower"
        return (
            f"{count} of {span} periods from {first} to {last} were close to the {limit} limit "
            f"(more than two sigma {side} {line})."
        )
    if signal.rule == "we3":
        return (
            f"{count} of {span} periods from {first} to {last} were more than one sigma "
            f"{side} {line}."
        )
    if signal.rule in ("we4", "anhoej_runs"):
        text = f"{count} points in a row {side} {line} since {first}"
        if signal.rule == "anhoej_runs" and signal.expected is not None:
            text += f"; runs longer than {signal.expected} points are unusual for a chart this long"
        return text + "."
    if signal.rule == "anhoej_crossings":
        return (
            f"The line crosses {line} only {signal.observed} times in {count} points from {first} "
            f"to {last}; at least {signal.expected} crossings are expected from routine "
            "variation, so the process has shifted."
        )
    return f"{signal.name}: {count} points from {first} to {last}, {side} {line}."


def signals_to_dicts(
    signals: Sequence[Signal], labels: Sequence[str] | None = None, *, chart_type: str | None = None
) -> list[dict]:
    """The ``signals`` list of the JSON contract, with ``period`` mapped through ``labels``."""
    return [s.to_dict(labels, chart_type=chart_type) for s in signals]
