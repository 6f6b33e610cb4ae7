"""Verdicts on trending measures: a threshold UDR confirmed by a steady worsening trend, and an
improvement judged beyond the trend its baseline was already on.

Hand-made series check the rules and their numbers against independent computations (NumPy's
least-squares line); a small seeded run of ``benchmarks/bench_verdict_trends.py`` checks the
error rates (the full run and its figures: benchmarks/README.md, "Verdicts on trending
measures").
"""

from __future__ import annotations

import importlib.util
import math
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from salesflow.metrics.calendar import next_start
from salesflow.metrics.charted import chart_series
from salesflow.metrics.results import Point, Series
from salesflow.workbench.shift import compare, compare_to_trend
from salesflow.workbench.verdict import HORIZON, judge_improvement, judge_udr

BENCH = Path(__file__).parents[2] / "benchmarks" / "bench_verdict_trends.py"
FALSE_IMPROVED_BOUND = 0.25  # "It worked" on a 0.1 σ/month trend continuing: 52 % → 15 % here
POWER_BOUND = 0.70  # a 2 σ step, no trend: found 85 % → 77 % of the time here
JITTER = [0.0, 1.2, -0.8, 0.5, -1.1, 0.9, -0.4, 1.0, -1.3, 0.3, -0.6, 1.1]  # mean 0.0667


def months(n: int) -> list[date]:
    out = [date(2024, 1, 1)]
    while len(out) < n:
        out.append(next_start(out[-1], "month"))
    return out


def days_series(values: list[float]) -> Series:
    points = [Point(d, float(v), 20) for d, v in zip(months(len(values)), values, strict=True)]
    return Series("stage_time", "month", "days", "duration", points)


def rising(n: int, slope: float, start: float = 20.0) -> list[float]:
    return [start + slope * i + JITTER[i % len(JITTER)] for i in range(n)]


# -- the threshold UDR --------------------------------------------------------------------------


def test_a_threshold_udr_on_the_good_side_but_worsening_steadily_is_confirmed_by_the_trend():
    values = rising(18, 0.8)  # 20 → about 34 days, the last three around 33-34
    charted = chart_series(days_series(values), None)
    assert charted.result.trend is not None  # the chart follows a tested trend
    binding = {"metric": "stage_time", "bad_if": "above", "threshold": 40.0, "mode": "threshold"}
    verdict = judge_udr(charted, binding, title="Time in stage")
    assert (verdict.verdict, verdict.rule) == ("confirmed", "trend")
    assert verdict.values["median"] < 40  # on the good side of the threshold
    assert "on the good side of your threshold of 40 days" in verdict.sentence
    assert "growing by about 0.8" in verdict.sentence
    trend = verdict.values["trend"]
    slope = np.polyfit(np.arange(18), values, 1)[0]  # the AR(1) fit is close to least squares
    assert trend["slope"] == pytest.approx(slope, rel=0.1)
    expected = math.ceil((40 - trend["fitted_end"]) / trend["slope"])
    assert 1 <= expected <= HORIZON["month"]
    assert verdict.values["periods_to_threshold"] == expected
    assert f"cross the threshold in about {expected} months" in verdict.sentence
    when = months(18 + expected)[-1]
    assert f"the month starting {when}" in verdict.sentence


def test_the_crossing_is_not_promised_beyond_the_horizon():
    charted = chart_series(days_series(rising(18, 0.8)), None)
    binding = {"metric": "stage_time", "bad_if": "above", "threshold": 80.0, "mode": "threshold"}
    verdict = judge_udr(charted, binding, title="Time in stage")
    assert (verdict.verdict, verdict.rule) == ("confirmed", "trend")
    assert verdict.values["periods_to_threshold"] is None
    assert "would not reach the threshold within 12 months" in verdict.sentence


def test_a_trend_the_good_way_still_contradicts_and_is_named():
    charted = chart_series(days_series(rising(18, -0.8, start=40.0)), None)
    binding = {"metric": "stage_time", "bad_if": "above", "threshold": 40.0, "mode": "threshold"}
    verdict = judge_udr(charted, binding, title="Time in stage")
    assert (verdict.verdict, verdict.rule) == ("contradicted", "threshold")
    assert verdict.values["trend"]["slope"] == pytest.approx(-0.8, rel=0.05)
    assert "It has been shrinking by about 0.79" in verdict.sentence


def test_a_flat_series_keeps_the_threshold_rule():
    charted = chart_series(days_series(rising(18, 0.0)), None)
    assert charted.result.trend is None
    binding = {"metric": "stage_time", "bad_if": "above", "threshold": 40.0, "mode": "threshold"}
    verdict = judge_udr(charted, binding, title="Time in stage")
    assert (verdict.verdict, verdict.rule) == ("contradicted", "threshold")
    assert "trend" not in verdict.values and "growing" not in verdict.sentence


# -- the comparison against a trend ------------------------------------------------------------


def test_compare_to_trend_measures_the_step_beyond_the_baseline_line():
    before = rising(16, 0.5)
    after = [20 + 0.5 * i + 3.0 + JITTER[(i * 5) % 12] for i in range(16, 24)]
    shift = compare_to_trend(before, after)
    slope, intercept = np.polyfit(np.arange(16), before, 1)
    expected = float(np.mean(after) - np.mean(intercept + slope * np.arange(16, 24)))
    assert shift.effect == pytest.approx(expected)
    assert shift.ci_low > 0 and shift.direction == "up"
    flat = compare(before, after)  # the flat comparison also counts the trend's 6 days of rise
    assert flat.effect == pytest.approx(float(np.mean(after) - np.mean(before)))
    assert flat.effect > expected + 5


def test_a_straight_line_continuing_is_no_change():
    line = [10 + 0.5 * i for i in range(24)]
    shift = compare_to_trend(line[:16], line[16:])
    assert shift.effect == pytest.approx(0.0, abs=1e-9) and shift.direction is None
    stepped = compare_to_trend(line[:16], [v + 4 for v in line[16:]])
    assert stepped.effect == pytest.approx(4.0)


def test_an_improvement_on_a_trend_it_was_already_on_is_not_called_improved():
    values = rising(26, 0.25)
    values = [60 - v for v in values]  # falling by 0.25 days a month: the desired direction
    days = months(26)
    start = days[16]
    charted = chart_series(days_series(values), None, baseline=(days[0], days[15]))
    measure = {"bad_if": "above", "target": None, "start_date": start.isoformat()}
    verdict = judge_improvement(charted, measure, title="Time in stage", start=start)
    assert verdict.verdict == "no_signal"
    assert verdict.values["compared_with"] == "baseline_trend"
    assert "beyond the trend it was already on" in verdict.sentence
    assert "shrinking by about 0.2" in verdict.sentence
    flat = compare(values[:16], values[16:])  # the rule as it was
    assert flat.direction == "down"  # would have read "It worked"
    stepped = values[:16] + [v - 4 for v in values[16:]]
    charted = chart_series(days_series(stepped), None, baseline=(days[0], days[15]))
    verdict = judge_improvement(charted, measure, title="Time in stage", start=start)
    assert verdict.verdict == "improved"
    assert "moved in the desired direction after 2025-05-01 beyond the trend" in verdict.sentence
    assert verdict.values["effect"] == pytest.approx(-4.0, abs=1.0)


def test_without_a_trend_the_improvement_rule_is_unchanged():
    values = [10 + JITTER[i % 12] for i in range(16)] + [14 + JITTER[i % 12] for i in range(8)]
    days = months(24)
    charted = chart_series(days_series(values), None, baseline=(days[0], days[15]))
    measure = {"bad_if": "below", "target": None, "start_date": days[16].isoformat()}
    verdict = judge_improvement(charted, measure, title="T", start=days[16])
    assert verdict.values["compared_with"] == "baseline" and verdict.values["trend"] is None
    shift = compare(values[:16], values[16:])
    assert verdict.values["effect"] == pytest.approx(shift.effect)
    assert verdict.verdict == "improved" and "beyond the trend" not in verdict.sentence


# -- error rates (a small seeded run of the benchmark) -----------------------------------------


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCH.parent))
    spec = importlib.util.spec_from_file_location("bench_verdict_trends", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_verdict_trends"] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules["bench_verdict_trends"]
    sys.path.remove(str(BENCH.parent))


def test_a_trend_continuing_rarely_reads_improved(bench):
    """0.1 σ a month in the desired direction, no change at the start: the rule as it was said
    "It worked" about half the time; now rarely."""
    count = bench.improvement_case(
        np.random.default_rng(11), "stage_time", "month", "iid", 0.1, 0.0, 300
    )
    assert count.judged == 300
    assert count.rate("old") >= 0.4  # the problem is real in this simulation
    assert count.rate("new") <= FALSE_IMPROVED_BOUND


def test_a_real_step_is_still_found(bench):
    count = bench.improvement_case(
        np.random.default_rng(12), "stage_time", "month", "iid", 0.0, 2.0, 300
    )
    assert count.rate("new") >= POWER_BOUND


def test_threshold_udrs_on_a_worsening_trend_are_confirmed(bench):
    rng = np.random.default_rng(13)
    count = bench.udr_case(rng, "stage_time", "month", "ar0.3", 0.2, 200)
    assert count.judged >= 150
    assert count.rate("old") >= 0.5  # "no signal of it getting worse" while it grows: 75 % here
    assert count.rate("new") <= 0.2  # 9 % here
    flat = bench.udr_case(rng, "stage_time", "month", "ar0.3", 0.0, 200)
    assert flat.rate("new") <= 0.10  # no trend: a false "confirmed" stays rare
    assert flat.rate("new") - flat.rate("old") <= 0.03
