"""Verdicts from data: does the chart confirm a UDR, and did an improvement work?

Pure functions over an already charted series (:class:`salesflow.metrics.charted.Charted`), so
they can be checked on hand-made series with known answers. Computing the series from a
workspace is :mod:`salesflow.workbench.measures`' job.

UDR (``judge_udr``) — "latest" means the last :data:`RECENT` complete periods that have a value:

- ``threshold`` mode: **confirmed** when their median is on the bad side of the threshold
  (strictly above for ``bad_if="above"``, strictly below for ``"below"``), or when the chart shows
  a signal in the bad direction touching one of those periods, or — the median still on the good
  side — when the chart follows a steady trend in the bad direction (rule ``trend``, the test of
  ``signal`` mode below): a chart judged around its trend shows no signal of the worsening, so
  "no signal of it getting worse" would be false. The sentence says it is on the good side but
  growing (falling) by about X per period, and when the trend line reaches the threshold at that
  pace if within :data:`HORIZON` (26 weeks, 12 months, 4 quarters, and never further ahead than
  the trend's own history; ``values.periods_to_threshold``, None beyond it, 0 when the line is
  already past it); **contradicted** otherwise (a trend the good way is named in the sentence).
  ``values.trend`` holds the trend whenever the chart follows one, as in ``signal`` mode.
  Measured by ``benchmarks/bench_verdict_trends.py`` (``benchmarks/README.md``): on time in stage
  worsening by 0.2 σ a period with the latest median on the good side, "contradicted" went from
  81–94 % to 8–12 % of series (40–45 % at 0.1 σ, a trend the strict test finds only on longer
  series); on flat series the false "confirmed" is unchanged.
- ``signal`` mode: **confirmed** when such a bad-direction signal exists, **contradicted** when
  the chart has limits and shows none; **insufficient_data** when it has no limits yet. The
  signals are read against limits widened for the measure's autocorrelation
  (:mod:`salesflow.workbench.carryover`: one point beyond the usual limits of a measure that
  carries over from period to period is not evidence), and ``values`` say what was allowed for.
  A steady trend the chart follows (:mod:`salesflow.spc.trend`: p < 0.001 with carry-over allowed
  for) in the bad direction is **confirmed** by rule ``trend`` ("growing by about 2.7 per
  month …"), since a chart judged around its trend shows no signal of the growth itself;
  ``values.trend`` holds the trend whenever the chart follows one.
- **insufficient_data** also when fewer than :data:`RECENT` complete periods have a value.

A measure whose history shows a seasonal pattern (:mod:`salesflow.spc.seasonality`) is charted
against seasonally adjusted limits, and its verdict carries ``values.seasonality`` with the
season-aware binding it suggests (``suggested_season``, e.g. ``Mar,Jun,Sep,Dec``), also in words.

A measure limited to a season (``Q4``) is charted over its in-season periods only, so "the last
3 complete periods" are the last 3 in-season ones (Oct, Nov and Dec per month; the last three
years' Q4 per quarter), and the sentences name the season.

Improvement (``judge_improvement``) — the periods since the start date against the baseline
window, by :mod:`salesflow.workbench.shift`'s calibrated rule (false-alarm and detection rates in
``benchmarks/README.md``): **improved** / **worse** only when the shift is both significant (its
95 % interval, corrected for autocorrelation, excludes no change) and sustained (enough periods
since on one side of the baseline median), in the desired / the wrong direction; else
**no_signal** (with ``periods_needed`` when the measure carries over so strongly from period to
period that even a clean run since the start would be too short); **too_early** (fewer than
:data:`MIN_AFTER` periods of its granularity after the start: the sentence says how many more) and
**insufficient_data** (the baseline has too few periods for limits). The chart's own signals
after the start are reported beside the verdict; a point beyond a limit alone decides nothing.

A baseline already on a trend: a trend that merely continues moves the periods after the start
away from the baseline's level, and the comparison above would read "It worked". So when it finds
a shift in the direction the baseline was already moving — the straight line through the
baseline's periods (at least 12; :func:`salesflow.spc.trend.fit`, GLS with AR(1) errors) slopes
that way with p < :data:`TREND_ALPHA` (0.25) — the shift must also hold against that line
extended (:func:`salesflow.workbench.shift.compare_to_trend`: the effect is the mean since minus
the line's mean over those periods, its interval exact under AR(1) including the line's own
error; "sustained" counts the periods on one side of the line). The verdict then reports that
comparison: ``values.compared_with`` is ``baseline_trend`` (else ``baseline``), ``values.trend``
the line, ``values.trend_expected_after`` where it leads, and the sentence says "… beyond the
trend it was already on" (or "no sustained shift … beyond the trend it was already on"). The
check only removes claims, never makes one, so verdicts without a leaning baseline are unchanged.
p < 0.25 (not the chart's 0.001) is a measured trade-off (``benchmarks/bench_verdict_trends.py``,
``benchmarks/README.md``): a 12–24-period baseline rarely proves a modest trend, so a strict test
leaves nearly every false "improved" in place; 0.25 takes the false "improved" on a trend of
0.1 σ a month from about half to under a fifth, at the price of some power on a real step (the
extended line is uncertain); checking every leaning baseline (p < 1) halves the false rate again
but costs a third of the power on a 2 σ step.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from salesflow.errors import never_a_result
from salesflow.workbench.shift import MIN_AFTER

if TYPE_CHECKING:
    from salesflow.metrics.charted import Charted
    from salesflow.spc import Signal
    from salesflow.spc.trend import Trend
    from salesflow.workbench.carryover import CarryOver
    from salesflow.workbench.shift import Shift

__all__ = [
    "HORIZON",
    "IMPROVEMENT_LABELS",
    "IMPROVEMENT_VERDICTS",
    "MIN_AFTER",
    "RECENT",
    "TREND_ALPHA",
    "UDR_LABELS",
    "UDR_VERDICTS",
    "Verdict",
    "cannot_run",
    "format_change",
    "format_value",
    "judge_improvement",
    "judge_udr",
    "season_advice",
    "with_season_advice",
]

UDR_VERDICTS = ("confirmed", "contradicted", "insufficient_data", "unbound")
IMPROVEMENT_VERDICTS = (
    "improved",
    "worse",
    "no_signal",
    "too_early",
    "insufficient_data",
    "not_measured",
)
#: each verdict in a sales leader's words: the one wording the web, the report and the CLI use
UDR_LABELS = {
    "confirmed": "Confirmed by the data",
    "contradicted": "Contradicted by the data",
    "insufficient_data": "Not enough data yet",
    "unbound": "Not measured yet",
}
IMPROVEMENT_LABELS = {
    "improved": "It worked",
    "worse": "Got worse",
    "no_signal": "No real change yet",
    "too_early": "Too early to tell",
    "insufficient_data": "Not enough data yet",
    "not_measured": "No measure yet",
}
RECENT = 3  # complete periods that make up "the latest"
PLURAL = {"week": "weeks", "month": "months", "quarter": "quarters"}


@dataclass(frozen=True)
class Verdict:
    """A verdict with its evidence: the rule that decided it, the numbers, the chart, a sentence."""

    verdict: str
    rule: str
    sentence: str
    values: dict[str, Any] = field(default_factory=dict)
    signals: list[dict[str, Any]] = field(default_factory=list)
    chart: dict[str, Any] | None = None

    def to_dict(self, *, chart: bool = True) -> dict[str, Any]:
        """The JSON document; ``chart=False`` leaves the chart out, for lists."""
        doc = {
            "verdict": self.verdict,
            "rule": self.rule,
            "sentence": self.sentence,
            "values": self.values,
            "signals": self.signals,
            "chart": self.chart,
        }
        if not chart:
            del doc["chart"]
        return doc


def cannot_run(exc: Exception) -> Verdict:
    """The verdict of a measure that fails on the data (a wrong filter, a missing column).

    A storage error (a locked or unreadable file) is raised again: it says nothing about the data.
    """
    never_a_result(exc)
    return Verdict("insufficient_data", "measure_error", f"The measure cannot run: {exc}")


def format_value(value: float | None, unit: str) -> str:
    """A value the way a sales leader says it: ``24 %``, ``5.6 days``, ``42``."""
    if value is None:
        return "no value"
    if unit == "%":
        return f"{value * 100:.0f} %"
    text = f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:.3g}"
    return f"{text} {unit}".strip() if unit not in ("rows", "") else text


def _bad_direction(bad_if: str) -> str:
    return "up" if bad_if == "above" else "down"


def _signal_docs(charted: Charted, signals: list[Signal]) -> list[dict[str, Any]]:
    result = charted.result
    chart_type = result.type if result is not None else None
    return [s.to_dict(charted.labels, chart_type=chart_type) for s in signals]


def _usable(charted: Charted) -> list[int]:
    return [i for i, p in enumerate(charted.series.points) if p.value is not None]


# -- UDRs --------------------------------------------------------------------------------------


def judge_udr(charted: Charted, binding: dict[str, Any], *, title: str) -> Verdict:
    """Confirm or contradict a UDR from its measure's chart of complete periods."""
    unit, period = charted.series.unit, charted.series.period
    usable = _usable(charted)
    chart = charted.to_dict()
    if len(usable) < RECENT:
        return Verdict(
            "insufficient_data",
            "too_few_periods",
            f"{title}: only {len(usable)} complete {_periods(period, binding)} have data; "
            f"at least {RECENT} are needed for a verdict.{_season_advice(period, binding)}",
            {"periods_with_data": len(usable), "needed": RECENT},
            chart=chart,
        )
    recent = usable[-RECENT:]
    points = charted.series.points
    values = {
        "recent": [
            {"period": points[i].period.isoformat(), "value": points[i].value} for i in recent
        ],
        "median": statistics.median(points[i].value for i in recent),  # type: ignore[misc]
        "threshold": binding.get("threshold"),
        "bad_if": binding["bad_if"],
        "mode": binding["mode"],
        "season": binding.get("season"),
        "unit": unit,
    }
    if binding["mode"] == "threshold":
        bad = _recent_bad_signals(charted, binding["bad_if"], set(recent))
        return _by_threshold(charted, title, values, bad, chart)
    return _by_signal(charted, title, values, set(recent), chart)


def _periods(period: str, binding: dict[str, Any]) -> str:
    """``months``, or ``Q4 months`` for a measure limited to a season."""
    season = binding.get("season")
    return f"{season} {PLURAL[period]}" if season else PLURAL[period]


def _season_advice(period: str, binding: dict[str, Any]) -> str:
    """A season gives one quarter a year: say so, and how to judge it sooner."""
    if not binding.get("season"):
        return ""
    if period == "quarter":
        return (
            f" A season gives one {binding['season']} quarter a year; measure it per month to "
            "judge its months against the same months of other years."
        )
    return f" A season gives only its own {PLURAL[period]} of each year."


def _recent_bad_signals(
    charted: Charted, bad_if: str, recent: set[int], signals: tuple[Signal, ...] | None = None
) -> list[Signal]:
    """The signals in the bad direction touching a recent period (of ``signals``, else the
    chart's own)."""
    result = charted.result
    if result is None or result.insufficient:
        return []
    direction = _bad_direction(bad_if)
    found = result.signals if signals is None else signals
    return [s for s in found if s.direction == direction and recent & set(s.points)]


def _latest_words(values: dict[str, Any], period: str, unit: str) -> str:
    each = unit if unit == "%" else ""  # the unit once, after the median
    shown = ", ".join(format_value(v["value"], each) for v in values["recent"])
    return (
        f"was {format_value(values['median'], unit)} in the last {RECENT} complete "
        f"{_periods(period, values)} (median of {shown})"
    )


def _by_threshold(
    charted: Charted, title: str, values: dict, bad: list[Signal], chart: dict
) -> Verdict:
    unit, period = charted.series.unit, charted.series.period
    threshold, bad_if = values["threshold"], values["bad_if"]
    side = "above" if bad_if == "above" else "below"
    latest = _latest_words(values, period, unit)
    limit = f"your threshold of {format_value(threshold, unit)}"
    trending = _trend_words(charted, bad_if)
    if trending is not None:
        values["trend"] = trending[1]
    on_bad = values["median"] > threshold if bad_if == "above" else values["median"] < threshold
    if on_bad:
        sentence = f"{title} {latest}, {side} {limit}."
        return Verdict(
            "confirmed", "threshold", sentence, values, _signal_docs(charted, bad), chart
        )
    docs = _signal_docs(charted, bad)
    if bad:
        sentence = (
            f"{title} {latest}, on the good side of {limit}, but the chart shows it getting "
            f"worse: {docs[-1]['explanation']}"
        )
        return Verdict("confirmed", "signal", sentence, values, docs, chart)
    if trending is not None and trending[0]:
        crossing = _crossing(charted, threshold, values)
        sentence = (
            f"{title} {latest}, on the good side of {limit}, but {trending[2]}"
            f"{' ' + crossing if crossing else ''}"
        )
        return Verdict("confirmed", "trend", sentence, values, [], chart)
    no_chart = charted.result is None or charted.result.insufficient
    tail = (
        "there are too few periods for chart limits yet"
        if no_chart
        else "the chart shows no signal of it getting worse"
    )
    sentence = f"{title} {latest}, not {side} {limit}, and {tail}."
    if trending is not None:
        sentence += f" {_upper_first(trending[2])}"
    return Verdict("contradicted", "threshold", sentence, values, [], chart)


#: how far ahead a trend's crossing of the threshold is worth announcing, per granularity (and
#: never further than the trend's own history: a line carried further is a guess)
HORIZON = {"week": 26, "month": 12, "quarter": 4}


def _crossing(charted: Charted, threshold: float, values: dict[str, Any]) -> str:
    """When the trend line reaches the threshold at its pace, as a sentence; ``values`` gains
    ``periods_to_threshold`` (None beyond the horizon)."""
    line = charted.result.trend  # type: ignore[union-attr]
    assert line is not None
    period, unit = charted.series.period, charted.series.unit
    last = _usable(charted)[-1]
    now = float(line.fitted([last])[0])
    horizon = min(HORIZON[period], line.n_points)
    gap = (threshold - now) / line.slope
    if gap <= 0:
        values["periods_to_threshold"] = 0
        return (
            f"Its trend line is already at {format_value(now, unit)}, past the threshold; "
            "the latest periods are better than the line."
        )
    steps = math.ceil(gap)
    values["periods_to_threshold"] = steps if steps <= horizon else None
    if steps > horizon:
        return (
            f"At this pace it would not reach the threshold within {horizon} {PLURAL[period]} "
            f"(its trend line is at {format_value(now, unit)} now)."
        )
    many = _periods(period, values) if steps != 1 else period
    if values.get("season"):  # in-season periods only: no calendar date to name
        return (
            f"At this pace it would cross the threshold in about {steps} {many} (its trend "
            f"line is at {format_value(now, unit)} now)."
        )
    from salesflow.metrics.calendar import next_start

    when = charted.series.points[last].period
    for _ in range(steps):
        when = next_start(when, period)
    return (
        f"At this pace it would cross the threshold in about {steps} {many} (the {period} "
        f"starting {when}; its trend line is at {format_value(now, unit)} now)."
    )


def _by_signal(
    charted: Charted, title: str, values: dict, recent: set[int], chart: dict
) -> Verdict:
    """A bad-direction signal in the recent periods, read against limits widened for the
    measure's carry-over from period to period (:mod:`salesflow.workbench.carryover`)."""
    from salesflow.workbench.carryover import allow_for_carry_over

    result = charted.result
    period = charted.series.period
    worse = "rising" if values["bad_if"] == "above" else "falling"
    if result is None or result.insufficient:
        message = result.message if result is not None else "No chart could be drawn."
        sentence = f"{title}: the chart has no limits yet, so no signal can be read. {message}"
        return Verdict("insufficient_data", "no_limits", sentence, values, [], chart)
    carry = allow_for_carry_over(result)
    values.update(carry.to_dict())
    bad = _recent_bad_signals(charted, values["bad_if"], recent, carry.signals)
    reading = _carry_over_words(carry, period)
    allowed = f", {reading}" if reading else ""
    docs = _signal_docs(charted, bad)
    trending = _trend_words(charted, values["bad_if"])
    if trending is not None:
        values["trend"] = trending[1]
        if trending[0]:
            sentence = f"{title} is {worse}: {trending[2]}"
            if docs:
                sentence += f" Around the trend: {docs[-1]['explanation']}"
            return Verdict("confirmed", "trend", sentence, values, docs, chart)
    if bad:
        sentence = (
            f"{title} is {worse}: the chart shows a signal in the last {RECENT} complete "
            f"{_periods(period, values)}{allowed}. {docs[-1]['explanation']}"
        )
        return Verdict("confirmed", "signal", sentence, values, docs, chart)
    if reading and _recent_bad_signals(charted, values["bad_if"], recent):
        sentence = (
            f"{title} {_latest_words(values, period, charted.series.unit)}. The chart marks a "
            f"signal of it {worse} against its usual limits, but none remains when {reading}: "
            "the variation is routine for a measure like this."
        )
        return Verdict("contradicted", "signal", sentence, values, [], chart)
    sentence = (
        f"{title} {_latest_words(values, period, charted.series.unit)}, and the chart shows "
        f"no signal of it {worse}{allowed}: the variation is routine."
    )
    if trending is not None:
        sentence += f" {trending[2][0].upper()}{trending[2][1:]}"
    return Verdict("contradicted", "signal", sentence, values, [], chart)


def _trend_words(charted: Charted, bad_if: str) -> tuple[bool, dict[str, Any], str] | None:
    """A trend the chart follows: (is it the bad way, its JSON, its sentence); None if none.

    A steady trend is evidence by itself (:mod:`salesflow.spc.trend` tests it against carry-over
    at p < 0.001): judged around the trend, a growing series shows no signal, yet it grows.
    """
    line = charted.result.trend if charted.result is not None else None
    if line is None:
        return None
    period, unit = charted.series.period, charted.series.unit
    rising = line.slope > 0
    way = "growing" if rising else "shrinking"
    amount = (
        f"{abs(line.slope) * 100:.2g} percentage points"
        if unit == "%"
        else format_value(abs(line.slope), unit)
    )
    sentence = (
        f"it has been {way} by about {amount} per {period} over {line.n_points} "
        f"{PLURAL[period]}, a steady trend beyond routine variation (p {_p(line.p_value)}, "
        f"allowing for carry-over from one {period} to the next); its chart is judged around "
        "the trend."
    )
    return rising == (bad_if == "above"), line.to_dict(), sentence


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def _carry_over_words(carry: CarryOver, period: str) -> str:
    """How the reading allowed for autocorrelation, as a clause (empty when it did not)."""
    if not carry.applied:
        return ""
    return (
        f"reading the limits {carry.widening:.2f} times as wide and runs as "
        f"{carry.run_length} {PLURAL[period]} long because the measure may carry over from one "
        f"{period} to the next (lag-1 autocorrelation {carry.autocorrelation:.2f}; "
        f"{carry.allowed:.2f} is allowed for, as a short series understates it)"
    )


# -- improvements ------------------------------------------------------------------------------


def judge_improvement(
    charted: Charted,
    measure: dict[str, Any],
    *,
    title: str,
    start: date,
    min_after: int | None = None,
) -> Verdict:
    """Did the measure shift, sustained, in the desired direction after ``start``?

    The rule is :mod:`salesflow.workbench.shift`'s (effect interval corrected for
    autocorrelation, and a sign test on the periods since); the chart's own signals after the
    start are reported beside it, but a point beyond a limit alone decides nothing."""
    series, result = charted.series, charted.result
    period = series.period
    chart = charted.to_dict()
    start_index = next(
        (i for i, p in enumerate(series.points) if p.period >= start), len(series.points)
    )
    usable = _usable(charted)
    points = series.points
    after = [i for i in usable if i >= start_index]
    values = _before_after(charted, measure, start_index, after)
    if result is None or result.insufficient:
        message = result.message if result is not None else "No chart could be drawn."
        sentence = f"{title}: the baseline has too few periods for limits. {message}"
        return Verdict("insufficient_data", "baseline_too_short", sentence, values, [], chart)
    counted = [s for s in result.signals if _after_start(s, start_index) and s.direction]
    docs = _signal_docs(charted, counted)
    needed = min_after or MIN_AFTER[period]
    if len(after) < needed:
        more = needed - len(after)
        early = f" The chart marks {len(counted)} early signal(s) so far." if counted else ""
        sentence = (
            f"{title}: only {len(after)} complete {_periods(period, measure)} since the start on "
            f"{start}; {more} more needed before the change can be judged.{early}"
        )
        values["periods_needed"] = more
        return Verdict("too_early", "too_few_periods_after_start", sentence, values, docs, chart)
    shift = _shift(charted, start_index, after)
    line = _baseline_trend(charted)
    if line is not None and line.significant and _leans(line, shift):
        shift = _shift(charted, start_index, after, against_trend=True)
        values["compared_with"] = "baseline_trend"
        values["trend"] = line.to_dict()
        values["trend_expected_after"] = (
            statistics.fmean(points[i].value for i in after)  # type: ignore[misc]
            - shift.effect
        )
    else:
        values["compared_with"] = "baseline"
        values["trend"] = None
        line = None
    values.update(_shift_values(shift))
    trend = _baseline_trend_words(charted, line) if line is not None else None
    verdict, sentence = _by_shift(shift, values, title, start, period, len(counted), trend)
    return Verdict(verdict, "sustained_shift", sentence, values, docs, chart)


def _by_shift(
    shift: Shift,
    values: dict[str, Any],
    title: str,
    start: date,
    period: str,
    marked: int,
    trend: str | None = None,
) -> tuple[str, str]:
    """The verdict and its sentence once enough periods are in (``values`` gains
    ``periods_needed`` when the measure's carry-over makes even a clean run too short).

    ``trend`` words the baseline's tested trend when the shift was measured against it."""
    unit = values["unit"]
    medians, effect = _medians_words(values, unit), _effect_words(shift, unit)
    if trend is not None:
        effect = f"{effect} against the trend line extended ({trend})"
    beyond = " beyond the trend it was already on" if trend is not None else ""
    reference = "the baseline's trend line" if trend is not None else "the baseline median"
    if shift.needed > shift.n_after:
        values["periods_needed"] = _more_for_autocorrelation(shift)
        return "no_signal", (
            f"{title}: no sustained shift can show yet — the measure carries over strongly from "
            f"one {period} to the next (lag-1 autocorrelation {shift.autocorrelation:.2f}), so "
            f"{shift.n_after} {PLURAL[period]} since {start} prove nothing; "
            f"{values['periods_needed']} more needed. {_upper_first(medians)}; {effect}."
        )
    if shift.direction is None:
        noted = (
            f" The chart marks {marked} period(s) beyond its limits, but a point or a short "
            "burst is not a sustained shift."
            if marked
            else ""
        )
        return "no_signal", (
            f"{title}: no sustained shift since {start}{beyond} — {medians}; {effect}; "
            f"{_no_shift_words(shift, period, reference)}.{noted}"
        )
    good = shift.direction == values["desired"]
    moved = "in the desired direction" if good else "the wrong way"
    return "improved" if good else "worse", (
        f"{title} moved {moved} after {start}{beyond}: {medians}; {effect}; "
        f"{_side_words(shift, period, reference)}."
    )


#: p below which the baseline's own slope is allowed for (see the module docstring)
TREND_ALPHA = 0.25


def _baseline_trend(charted: Charted) -> Trend | None:
    """The straight line through the baseline's periods and its p-value (None under 12)."""
    from salesflow.spc.trend import fit

    points = charted.series.points
    basis = charted.result.phases[0].basis  # type: ignore[union-attr]
    values = [points[i].value if basis[0] <= i < basis[1] else None for i in range(len(points))]
    return fit(values, alpha=TREND_ALPHA)


def _leans(line: Trend, flat: Shift) -> bool:
    """The baseline was already moving the way the comparison with its level found a shift."""
    return flat.direction is not None and (line.slope > 0) == (flat.direction == "up")


def _baseline_trend_words(charted: Charted, line: Trend) -> str:
    """``growing by about 0.4 days per month in the baseline, p = 0.012``."""
    way = "growing" if line.slope > 0 else "shrinking"
    return (
        f"{way} by about {_slope_amount(line.slope, charted.series.unit)} per "
        f"{charted.series.period} in the baseline, p {_p(line.p_value)}"
    )


def _slope_amount(slope: float, unit: str) -> str:
    if unit == "%":
        return f"{abs(slope) * 100:.2g} percentage points"
    return format_value(abs(slope), unit)


def _shift(
    charted: Charted, start_index: int, after: list[int], *, against_trend: bool = False
) -> Shift:
    from salesflow.workbench.shift import compare, compare_to_trend

    points = charted.series.points
    basis = charted.result.phases[0].basis  # type: ignore[union-attr]
    before = [i for i in range(*basis) if points[i].value is not None]
    return (compare_to_trend if against_trend else compare)(
        [points[i].value for i in before],  # type: ignore[misc]
        [points[i].value for i in after],  # type: ignore[misc]
        positions=(before, after),
    )


def _shift_values(shift: Shift) -> dict[str, Any]:
    return {
        "effect": shift.effect,
        "ci_low": shift.ci_low,
        "ci_high": shift.ci_high,
        "autocorrelation": shift.autocorrelation,
        "periods_on_side": shift.on_side,
        "periods_on_side_needed": shift.needed,
    }


def _more_for_autocorrelation(shift: Shift) -> int:
    """How many more periods the sign test needs before all of them on one side could count."""
    from salesflow.workbench.shift import needed_on_side

    m = shift.n_after
    while needed_on_side(m, shift.corrected) > m:
        m += 1
    return m - shift.n_after


def format_change(value: float, unit: str, *, with_unit: bool = True) -> str:
    """A difference the way a sales leader says it: ``+4.3 points``, ``-2.44 days``."""
    text = (
        f"{value * 100:+.1f}"
        if unit == "%"
        else (f"{value:+,.0f}" if abs(value) >= 100 else f"{value:+.3g}")
    )
    name = "points" if unit == "%" else "" if unit in ("rows", "") else unit
    return f"{text} {name}" if with_unit and name else text


def _effect_words(shift: Shift, unit: str) -> str:
    low = format_change(shift.ci_low, unit, with_unit=False)
    return (
        f"mean change {format_change(shift.effect, unit)} "
        f"(95 % interval {low} to {format_change(shift.ci_high, unit)})"
    )


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _side_words(shift: Shift, period: str, reference: str = "the baseline median") -> str:
    side = "above" if shift.effect > 0 else "below"
    return f"{shift.on_side} of the {shift.n_after} {PLURAL[period]} since are {side} {reference}"


def _no_shift_words(shift: Shift, period: str, reference: str = "the baseline median") -> str:
    if not shift.significant:
        return "the interval includes no change, so the difference is within routine variation"
    return (
        f"the difference is not sustained: {_side_words(shift, period, reference)}, "
        f"{shift.needed} needed"
    )


def _after_start(signal: Signal, start_index: int) -> bool:
    """Fired after the start, with most of its evidence after it (not a shift that came before)."""
    inside = sum(1 for i in signal.points if i >= start_index)
    return signal.index >= start_index and inside * 2 > len(signal.points)


def _before_after(
    charted: Charted, measure: dict[str, Any], start_index: int, after: list[int]
) -> dict[str, Any]:
    points = charted.series.points
    base = charted.result.phases[0].basis if charted.result is not None else (0, start_index)
    before_values = [p.value for p in points[base[0] : base[1]] if p.value is not None]
    after_values = [points[i].value for i in after]
    before = statistics.median(before_values) if before_values else None
    after_median = statistics.median(after_values) if after_values else None  # type: ignore[type-var]
    target = measure.get("target")
    met = None
    if target is not None and after_median is not None:
        met = after_median <= target if measure["bad_if"] == "above" else after_median >= target
    change = None
    if before not in (None, 0) and after_median is not None:
        change = (after_median - before) / abs(before)
    return {
        "baseline": {"start": measure.get("baseline_start"), "end": measure.get("baseline_end")},
        "start_date": measure.get("start_date"),
        "before_median": before,
        "after_median": after_median,
        "change": change,
        "periods_after": len(after),
        "target": target,
        "target_met": met,
        "desired": "down" if measure["bad_if"] == "above" else "up",
        "unit": charted.series.unit,
    }


def _medians_words(values: dict[str, Any], unit: str) -> str:
    text = (
        f"median {format_value(values['before_median'], unit)} in the baseline, "
        f"{format_value(values['after_median'], unit)} since"
    )
    if values["target_met"] is not None:
        text += f" (target {format_value(values['target'], unit)}: "
        text += "met)" if values["target_met"] else "not met yet)"
    return text


# -- Seasonality -------------------------------------------------------------------------------


def season_advice(charted: Charted, binding: dict[str, Any]) -> dict[str, Any] | None:
    """The seasonal pattern of a bound measure and the season-aware binding it suggests.

    The chart's limits already allow for the pattern (seasonally adjusted); binding the measure to
    the standout season instead compares those periods only with the same periods of other
    quarters or years. None when the measure shows no pattern or is already bound to a season.
    """
    found = charted.seasonality
    if found is None or binding.get("season"):
        return None
    from salesflow.metrics.seasons import parse_season

    season = parse_season(",".join(str(m) for m in found.months))
    assert season is not None
    suggestion = (
        f"{charted.seasonality_sentence} To judge those periods only against each other, bind "
        f"the measure to the season {season.label} (--season {season.label})."
    )
    return {**found.to_dict(), "suggested_season": season.label, "suggestion": suggestion}


def with_season_advice(verdict: Verdict, charted: Charted, binding: dict[str, Any]) -> Verdict:
    """The verdict with its measure's seasonality in ``values`` and the suggestion in words."""
    advice = season_advice(charted, binding)
    verdict.values["seasonality"] = advice
    if advice is None:
        return verdict
    return replace(verdict, sentence=f"{verdict.sentence} {advice['suggestion']}")
