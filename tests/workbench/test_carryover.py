"""Chart signals read for a measure that carries over from period to period: the estimate of its
autocorrelation allows for one step in level, and the limits widen by the AR(1) factor."""

from __future__ import annotations

import math

import numpy as np

from salesflow.spc import chart
from salesflow.workbench.carryover import RUN, allow_for_carry_over
from salesflow.workbench.shift import carry_over


def ar1(n: int, phi: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.empty(n)
    x[0] = rng.standard_normal()
    for t in range(1, n):
        x[t] = phi * x[t - 1] + math.sqrt(1 - phi**2) * rng.standard_normal()
    return x


def test_a_long_ar1_series_reads_its_autocorrelation():
    x = ar1(400, 0.6, 2)
    e = x - x.mean()
    naive = np.sum(e[1:] * e[:-1]) / np.sum(e**2)  # 0.565
    r1, allowed = carry_over(x)
    assert abs(r1 - naive) < 0.01  # a step in the last 12 periods changes little on 400
    assert r1 < allowed < r1 + 0.1  # bias-corrected and cautious: a little above r₁


def test_a_step_is_not_mistaken_for_carry_over():
    rng = np.random.default_rng(2)
    x = np.concatenate((rng.standard_normal(20), 4 + rng.standard_normal(6)))
    e = x - x.mean()
    around_one_mean = np.sum(e[1:] * e[:-1]) / np.sum(e**2)  # 0.56
    parts = np.concatenate((x[:20] - x[:20].mean(), x[20:] - x[20:].mean()))
    around_the_step = np.sum(parts[1:] * parts[:-1]) / np.sum(parts**2)
    r1, _ = carry_over(x)
    assert around_one_mean > 0.5  # read naively, the step looks like strong carry-over
    assert math.isclose(r1, around_the_step, abs_tol=1e-9)  # the best split is the true one
    assert r1 < 0.3


def test_steady_growth_is_not_mistaken_for_carry_over():
    rng = np.random.default_rng(3)
    t = np.arange(30.0)
    x = 10 + 0.3 * t + rng.standard_normal(30)  # 9 σ of growth over the series
    slope, intercept = np.polyfit(t, x, 1)
    e = x - (intercept + slope * t)
    around_the_line = np.sum(e[1:] * e[:-1]) / np.sum(e**2)
    r1, _ = carry_over(x)
    assert math.isclose(r1, around_the_line, abs_tol=1e-9)
    assert r1 < 0.3


def test_no_variation_or_too_few_values_carry_nothing():
    assert carry_over([5.0] * 12) == (0.0, 0.0)
    assert carry_over([1.0, 2.0, 3.0, 4.0, 5.0]) == (0.0, 0.0)


def test_limits_widen_by_the_ar1_factor_and_a_lone_point_no_longer_signals():
    x = 10 + ar1(30, 0.7, 5)
    result = chart(x, kind="xmr", baseline=(0, 29))
    spike = float(result.ucl[-1]) + 0.1  # just beyond the usual upper limit
    x[-1] = spike
    result = chart(x, kind="xmr", baseline=(0, 29))
    assert any(s.rule == "we1" and s.index == 29 for s in result.signals)
    carry = allow_for_carry_over(result)
    assert carry.applied
    assert math.isclose(carry.widening, 1 / math.sqrt(1 - carry.allowed))
    assert carry.run_length == math.ceil(RUN * (1 + carry.allowed) / (1 - carry.allowed) - 1e-9)
    widened_ucl = result.center[-1] + (result.ucl[-1] - result.center[-1]) * carry.widening
    assert spike < widened_ucl
    assert not any(s.rule == "we1" and s.index == 29 for s in carry.signals)


def test_without_carry_over_the_chart_signals_stand():
    alternating = [8.0, 14.0] * 20
    alternating[20] = 32.0  # beyond the upper limit; r₁ stays strongly negative
    result = chart(np.array(alternating), kind="xmr")
    carry = allow_for_carry_over(result)
    assert (carry.allowed, carry.widening, carry.run_length) == (0.0, 1.0, RUN)
    assert carry.signals == result.signals
    assert any(s.index == 20 and s.direction == "up" for s in carry.signals)


def udr_verdict(values: np.ndarray):
    from datetime import date

    from salesflow.metrics.calendar import next_start
    from salesflow.metrics.charted import chart_series
    from salesflow.metrics.results import Point, Series
    from salesflow.workbench.verdict import judge_udr

    days = [date(2024, 1, 1)]
    while len(days) < len(values):
        days.append(next_start(days[-1], "month"))
    points = [Point(d, float(v), 1) for d, v in zip(days, values, strict=True)]
    charted = chart_series(Series("stage_time", "month", "days", "duration", points), None)
    binding = {"metric": "stage_time", "bad_if": "above", "threshold": None, "mode": "signal"}
    return charted, judge_udr(charted, binding, title="Days in Proposal")


def test_a_udr_on_a_carrying_over_measure_is_not_confirmed_by_one_point():
    x = 10 + ar1(30, 0.7, 5)
    charted, _ = udr_verdict(x)
    x[-1] = charted.result.center[-1] + 1.2 * (charted.result.ucl[-1] - charted.result.center[-1])
    charted, verdict = udr_verdict(x)
    assert any(s.index == 29 and s.direction == "up" for s in charted.result.signals)
    assert (verdict.verdict, verdict.rule, verdict.signals) == ("contradicted", "signal", [])
    carry = allow_for_carry_over(charted.result)
    assert verdict.values["autocorrelation"] == carry.autocorrelation
    assert verdict.values["autocorrelation_allowed"] == carry.allowed > 0.3
    assert verdict.values["limits_widened_by"] == carry.widening > 1.2
    assert verdict.values["run_length"] == carry.run_length
    assert "carry over from one month to the next" in verdict.sentence
    assert "against its usual limits, but none remains" in verdict.sentence


def test_a_udr_on_a_real_worsening_is_still_confirmed():
    x = 10 + ar1(30, 0.3, 6)
    x[-6:] += 4  # 4 σ worse for six months
    _, verdict = udr_verdict(x)
    assert verdict.verdict == "confirmed"
    assert verdict.signals and all(s["direction"] == "up" for s in verdict.signals)
