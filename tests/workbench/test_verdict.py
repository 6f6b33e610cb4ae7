"""Verdict rules on hand-made series with known answers: every verdict value is reached.

The routine series NOISE has X̄ = 10.5 and mean moving range 2.4545, so its XmR limits are
10.5 ± 2.66 × 2.4545 = [3.97, 17.03] (Wheeler, *Understanding Variation*, ch. 3: limits
X̄ ± 2.66·mR̄); it trips none of the Western Electric rules (no point beyond the limits, no
2 of 3 beyond 2σ, no 4 of 5 beyond 1σ, no 8 on one side).
"""

from __future__ import annotations

from datetime import date

import pytest

from salesflow.metrics.calendar import next_start
from salesflow.metrics.charted import chart_series
from salesflow.metrics.results import Point, Series
from salesflow.workbench.measures import complete_periods, parse_threshold
from salesflow.workbench.verdict import (
    IMPROVEMENT_VERDICTS,
    MIN_AFTER,
    UDR_VERDICTS,
    format_change,
    format_value,
    judge_improvement,
    judge_udr,
)

NOISE = [10, 12, 9, 11, 10, 13, 8, 11, 9, 12, 10, 11]
START = date(2024, 1, 1)


def months(n: int) -> list[date]:
    out = [START]
    while len(out) < n:
        out.append(next_start(out[-1], "month"))
    return out


def counts(values: list[float | None], metric: str = "new_opportunities") -> Series:
    points = [Point(d, v, 1) for d, v in zip(months(len(values)), values, strict=True)]
    return Series(metric, "month", "opportunities", "count", points)


def charted(values, baseline=None):
    series = counts(values)
    window = None
    if baseline is not None:
        days = months(len(values))
        window = (days[baseline[0]], days[baseline[1] - 1])
    return chart_series(series, None, baseline=window)


def binding(bad_if="above", threshold=None):
    mode = "threshold" if threshold is not None else "signal"
    return {"metric": "new_opportunities", "bad_if": bad_if, "threshold": threshold, "mode": mode}


def udr(values, **kw):
    return judge_udr(charted(values), binding(**kw), title="New deals")


def test_noise_has_the_hand_computed_limits_and_no_signal():
    result = charted(NOISE).result
    phase = result.phases[0]
    assert phase.center == pytest.approx(10.5)
    assert phase.ucl == pytest.approx(10.5 + 2.66 * 27 / 11, abs=0.01)  # mR̄ = 27 / 11
    assert result.signals == ()


def test_threshold_confirmed_by_the_median_of_the_last_three():
    v = udr([*NOISE, 14, 15, 13], bad_if="above", threshold=12)
    assert (v.verdict, v.rule) == ("confirmed", "threshold")
    assert v.values["median"] == 14  # median of 14, 15, 13
    assert [p["value"] for p in v.values["recent"]] == [14, 15, 13]
    assert "was 14 opportunities in the last 3 complete months (median of 14, 15, 13)" in v.sentence
    assert "above your threshold of 12" in v.sentence


def test_threshold_contradicted_on_the_good_side_without_a_signal():
    v = udr(NOISE, bad_if="above", threshold=12)
    assert (v.verdict, v.rule) == ("contradicted", "threshold")
    assert [p["value"] for p in v.values["recent"]] == [12, 10, 11]
    assert v.values["median"] == 11
    assert "not above your threshold of 12" in v.sentence


def test_threshold_good_side_but_a_bad_signal_confirms():
    # 20, 21, 22 are below the threshold of 30 but far above the upper limit of 17.03
    v = udr([*NOISE, 20, 21, 22], bad_if="above", threshold=30)
    assert (v.verdict, v.rule) == ("confirmed", "signal")
    assert v.signals and all(s["direction"] == "up" for s in v.signals)
    assert "getting worse" in v.sentence


def test_a_below_threshold_is_strict_and_reads_the_other_way():
    assert udr([*NOISE, 8, 8, 8], bad_if="below", threshold=8).verdict == "contradicted"
    assert udr([*NOISE, 7, 7, 7], bad_if="below", threshold=8).verdict == "confirmed"


def test_signal_mode():
    assert udr([*NOISE, 20, 21, 22], bad_if="above").verdict == "confirmed"
    v = udr([*NOISE, 20, 21, 22], bad_if="below")  # rising is fine when lower is bad
    assert (v.verdict, v.rule) == ("contradicted", "signal")
    old = udr([30, *NOISE], bad_if="above")  # a spike long ago is not "latest"
    assert old.verdict == "contradicted"


def test_insufficient_data():
    few = udr([10, None, 12], bad_if="above", threshold=5)
    assert (few.verdict, few.rule) == ("insufficient_data", "too_few_periods")
    assert few.values == {"periods_with_data": 2, "needed": 3}
    no_limits = udr([10, 11, 12, 13, 14], bad_if="above")  # 5 points: no limits below 8
    assert (no_limits.verdict, no_limits.rule) == ("insufficient_data", "no_limits")


def improvement(values, *, baseline=(0, 12), start_index=12, bad_if="above", target=None):
    measure = {"bad_if": bad_if, "target": target, "start_date": None}
    start = months(len(values) + 1)[start_index]
    return judge_improvement(
        charted(values, baseline=baseline), measure, title="Days in Proposal", start=start
    )


def test_improved_worse_and_no_signal():
    better = improvement([*NOISE, 6, 5, 6, 7, 5, 6], target=6)
    assert (better.verdict, better.rule) == ("improved", "sustained_shift")
    assert better.values["before_median"] == 10.5 and better.values["after_median"] == 6
    assert better.values["target_met"] is True and better.values["desired"] == "down"
    assert {s["direction"] for s in better.signals} == {"down"}
    # The effect is the difference of means: 35 / 6 - 126 / 12 = -4.667 days, all 6 below 10.5.
    assert better.values["effect"] == pytest.approx(35 / 6 - 10.5)
    assert better.values["ci_low"] < better.values["effect"] < better.values["ci_high"] < 0
    assert (better.values["periods_on_side"], better.values["periods_on_side_needed"]) == (6, 6)
    assert "mean change -4.67 opportunities (95 % interval" in better.sentence
    assert "6 of the 6 months since are below the baseline median" in better.sentence
    worse = improvement([*NOISE, 15, 16, 15, 16, 15, 16])
    assert worse.verdict == "worse"
    same = improvement([*NOISE, 10, 12, 9, 11, 10, 13])
    assert (same.verdict, same.signals) == ("no_signal", [])
    assert same.values["ci_low"] < 0 < same.values["ci_high"]
    assert "within routine variation" in same.sentence
    up_is_good = improvement([*NOISE, 15, 16, 15, 16, 15, 16], bad_if="below")
    assert up_is_good.verdict == "improved"


def test_one_point_beyond_a_limit_is_not_a_shift():
    # 2 lies beyond the lower limit (3.97): the old rule said "improved" on this single point;
    # the other five periods are routine, so the shift is neither significant nor sustained.
    v = improvement([*NOISE, 11, 2, 10, 12, 9, 11])
    assert v.verdict == "no_signal"
    assert [s["rule"] for s in v.signals] == ["we1"]  # the chart still marks the point
    assert "a point or a short burst is not a sustained shift" in v.sentence


def test_a_significant_but_unsustained_difference_is_no_signal():
    # Three deep dips pull the mean down by 4.5 (the interval excludes 0), but only 3 of the 6
    # periods since sit below the baseline median of 10.5 (6 needed): not a sustained shift.
    v = improvement([*NOISE, 11, 1, 11, 1, 11, 1])
    assert v.values["effect"] == pytest.approx(-4.5) and v.values["ci_high"] < 0
    assert (v.values["periods_on_side"], v.values["periods_on_side_needed"]) == (3, 6)
    assert v.verdict == "no_signal" and "not sustained" in v.sentence


def test_a_signal_before_the_start_does_not_count():
    # A spike in the baseline window (point 5 = 30) is before the change: not the change's doing.
    values = [10, 12, 9, 11, 10, 30, 8, 11, 9, 12, 10, 11, 10, 12, 9, 11, 10, 13]
    assert improvement(values).verdict == "no_signal"


def test_too_early_says_how_many_more_periods():
    early = improvement([*NOISE, 5, 5])
    assert early.verdict == "too_early"
    assert early.values["periods_needed"] == MIN_AFTER["month"] - 2
    assert f"{MIN_AFTER['month'] - 2} more needed" in early.sentence
    assert "early signal" in early.sentence  # 5 is beyond the lower limit already


def test_strong_carry_over_needs_more_periods():
    # A slow wave: each month close to the last (lag-1 autocorrelation of the residuals ≈ 0.8).
    # Five months in a row below the median prove nothing when months move in long swings: no
    # sustained shift yet, and the sentence says how many more months could show one.
    wave = [10, 11, 12, 13, 14, 14, 13, 12, 11, 10, 9, 8, 8, 9, 10]
    v = improvement([*wave, 7, 7, 6, 7, 6], baseline=(0, 15), start_index=15)
    assert v.values["autocorrelation"] > 0.6
    assert v.verdict == "no_signal" and v.values["periods_needed"] >= 1
    more = v.values["periods_needed"]
    assert v.values["periods_on_side_needed"] > v.values["periods_on_side"] == 5
    assert f"{more} more needed" in v.sentence
    assert "carries over strongly" in v.sentence


def test_baseline_too_short_for_limits():
    short = improvement([10, 12, 9, 11, 5, 5, 5, 5, 5], baseline=(0, 4), start_index=4)
    assert (short.verdict, short.rule) == ("insufficient_data", "baseline_too_short")


def test_every_verdict_value_is_listed():
    assert set(UDR_VERDICTS) == {"confirmed", "contradicted", "insufficient_data", "unbound"}
    assert {"improved", "worse", "no_signal", "too_early", "not_measured"} <= set(
        IMPROVEMENT_VERDICTS
    )


def test_the_running_period_is_left_out():
    series = counts([1, 2, 3])  # January, February, March 2024
    kept, dropped = complete_periods(series, date(2024, 3, 15))
    assert [p.period for p in kept.points] == [date(2024, 1, 1), date(2024, 2, 1)]
    assert dropped == ["2024-03-01"]
    kept, dropped = complete_periods(series, date(2024, 4, 1))  # March ended yesterday
    assert len(kept.points) == 3 and dropped == []


@pytest.mark.parametrize(
    ("text", "value"), [("30%", 0.30), ("0.3", 0.3), ("7", 7.0), ("1,500", 1500.0), (None, None)]
)
def test_thresholds(text, value):
    assert parse_threshold(text) == (pytest.approx(value) if value is not None else None)


def test_a_threshold_that_is_not_a_number():
    from salesflow.errors import ConfigError

    with pytest.raises(ConfigError, match="not a number"):
        parse_threshold("a lot")


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [(0.24, "%", "24 %"), (5.6, "days", "5.6 days"), (42.0, "rows", "42"), (None, "%", "no value")],
)
def test_values_read_as_a_sales_leader_says_them(value, unit, text):
    assert format_value(value, unit) == text


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [(0.043, "%", "+4.3 points"), (-2.44, "days", "-2.44 days"), (-1234.5, "EUR", "-1,234 EUR")],
)
def test_changes_read_as_a_sales_leader_says_them(value, unit, text):
    assert format_change(value, unit) == text
