"""Verdicts on trending measures: how often are they wrong, before and after allowing for the trend?

Two questions, each on simulated series whose truth is known, judged through the code the CLI
runs (:func:`~salesflow.metrics.charted.chart_series` then ``judge_improvement`` /
``judge_udr``), with the noise processes and metrics of ``bench_verdicts.py`` (time in stage in
days, XmR; win rate, binomial counts around a moving true rate; i.i.d. and AR(1) noise):

1. **Improvements on a measure that was already trending** the desired way: 24–36 periods, a
   straight-line trend of 0.05–0.2 σ per period upward (higher is better), the start 8 weeks or
   5 months or more before the end and at least 12 periods after the first (the trend test needs
   12). No change at the start: *improved* is a false verdict. Power: a step of 1 or 2 σ at the
   start, with and without the trend.
2. **Threshold-mode UDRs on a measure trending the bad way** (bad if above): 15–36 periods, the
   threshold set 0.5–3 σ above where the trend line is at the last period, so that the latest
   periods are usually on the good side of it. A verdict *contradicted* ("no signal of it getting
   worse") is false when the measure does grow; on flat series a *confirmed* with the latest
   periods on the good side is false.

"Before" is the rule as it was, on the same series: the improvement compared with the baseline
mean and median whatever the baseline's trend (``verdict._baseline_trend`` patched to find none),
the threshold verdict blind to the chart's trend (``result.trend`` taken away); "after" is the
rule now.

    .venv/bin/python benchmarks/bench_verdict_trends.py               # 400 series per case
    .venv/bin/python benchmarks/bench_verdict_trends.py --reps 100    # a quick look
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from bench_verdicts import make_series, noise, period_starts, shift_in_z

SLOPES = (0.05, 0.1, 0.2)  # σ of the noise per period
STEPS = (1.0, 2.0)  # σ of the observed values
PROCESSES = ("iid", "ar0.3", "ar0.6")
MIN_AFTER = {"week": 8, "month": 5}


@dataclass
class Count:
    """Series made, and how many the old and the new rule gave the verdict counted."""

    made: int = 0
    judged: int = 0
    old: int = 0
    new: int = 0

    def rate(self, which: str) -> float:
        return getattr(self, which) / self.judged if self.judged else 0.0


def _without_trend(charted):
    """The chart as the threshold verdict read it before: the tested trend not passed on."""
    if charted.result is None or charted.result.trend is None:
        return charted
    return replace(charted, result=replace(charted.result, trend=None))


def _old_improvement(charted, measure, start):
    """The improvement verdict as it was: the baseline's trend not looked for."""
    from salesflow.workbench import verdict

    found = verdict._baseline_trend
    verdict._baseline_trend = lambda charted: None
    try:
        return verdict.judge_improvement(charted, measure, title="M", start=start).verdict
    finally:
        verdict._baseline_trend = found


def improvement_case(
    rng: np.random.Generator,
    metric: str,
    period: str,
    process: str,
    slope: float,
    step: float,
    reps: int,
) -> Count:
    """Counts of *improved* (old rule, new rule) among judged series: a trend of ``slope`` σ per
    period in the desired direction and a step of ``step`` σ at the start."""
    from salesflow.metrics.calendar import next_start
    from salesflow.metrics.charted import chart_series
    from salesflow.workbench.measures import complete_periods
    from salesflow.workbench.verdict import judge_improvement

    count = Count()
    for _ in range(reps):
        n = int(rng.integers(24, 37))
        after = int(rng.integers(MIN_AFTER[period], n - 12 + 1))
        before = n - after
        days = period_starts(period, n, int(rng.integers(0, 52)))
        z = noise(rng, process, days, period) + slope * np.arange(n)
        z[before:] += shift_in_z(metric, period, step)
        series = make_series(metric, period, days, z, rng)
        complete, _ = complete_periods(series, next_start(days[-1], period))
        start = days[before]
        charted = chart_series(complete, None, baseline=(days[0], start - timedelta(days=1)))
        measure = {"bad_if": "below", "target": None, "start_date": start.isoformat()}
        new = judge_improvement(charted, measure, title="M", start=start).verdict
        old = _old_improvement(charted, measure, start)
        count.made += 1
        if new in ("too_early", "insufficient_data"):
            continue
        count.judged += 1
        count.old += old == "improved"
        count.new += new == "improved"
    return count


def udr_case(
    rng: np.random.Generator, metric: str, period: str, process: str, slope: float, reps: int
) -> Count:
    """Threshold-mode UDRs (bad if above) whose latest median is on the good side: with a trend
    (``slope`` > 0) the count is *contradicted* (false), on flat series *confirmed* (false)."""
    from salesflow.metrics.calendar import next_start
    from salesflow.metrics.charted import chart_series
    from salesflow.workbench.measures import complete_periods
    from salesflow.workbench.verdict import judge_udr

    count = Count()
    wrong = "contradicted" if slope > 0 else "confirmed"
    for _ in range(reps):
        n = int(rng.integers(15, 37))
        days = period_starts(period, n, int(rng.integers(0, 52)))
        z = noise(rng, process, days, period) + slope * np.arange(n)
        series = make_series(metric, period, days, z, rng)
        threshold = true_level(metric, slope * (n - 1)) + float(rng.uniform(0.5, 3.0)) * sigma(
            metric, period
        )
        complete, _ = complete_periods(series, next_start(days[-1], period))
        charted = chart_series(complete, None)
        binding = {"bad_if": "above", "threshold": threshold, "mode": "threshold"}
        recent = [p.value for p in complete.points if p.value is not None][-3:]
        if float(np.median(recent)) > threshold:  # on the bad side: confirmed either way
            continue
        count.made += 1
        count.judged += 1
        count.new += judge_udr(charted, binding, title="M").verdict == wrong
        count.old += judge_udr(_without_trend(charted), binding, title="M").verdict == wrong
    return count


def true_level(metric: str, z: float) -> float:
    """Where a series of ``make_series`` is, without noise, at ``z`` σ of its process."""
    from bench_verdicts import DAYS, DAYS_SPREAD, WIN_RATE, WIN_SPREAD

    if metric == "stage_time":
        return DAYS + DAYS_SPREAD * z
    return float(np.clip(WIN_RATE + WIN_SPREAD * z, 0.01, 0.99))


def sigma(metric: str, period: str) -> float:
    """σ of one period's observed value, in the metric's unit."""
    from bench_verdicts import DAYS_SPREAD, WIN_SPREAD

    return (DAYS_SPREAD if metric == "stage_time" else WIN_SPREAD) * shift_in_z(metric, period, 1)


def improvement_rows(reps: int, seed: int, periods=("week", "month"), metrics=None) -> list:
    """(metric, period, process, slope, step, Count) for the false-improved and power cases."""
    rng = np.random.default_rng(seed)
    rows = []
    for metric in metrics or ("stage_time", "win_rate"):
        for period in periods:
            for process in PROCESSES:
                for slope in SLOPES:
                    count = improvement_case(rng, metric, period, process, slope, 0.0, reps)
                    rows.append((metric, period, process, slope, 0.0, count))
            for slope in (0.0, 0.1):
                for step in STEPS:
                    count = improvement_case(rng, metric, period, "iid", slope, step, reps)
                    rows.append((metric, period, "iid", slope, step, count))
    return rows


def udr_rows(reps: int, seed: int, periods=("week", "month"), metrics=None) -> list:
    """(metric, period, process, slope, Count) for threshold-mode UDRs."""
    rng = np.random.default_rng(seed)
    return [
        (metric, period, process, slope, udr_case(rng, metric, period, process, slope, reps))
        for metric in metrics or ("stage_time", "win_rate")
        for period in periods
        for process in ("iid", "ar0.3")
        for slope in (0.0, 0.1, 0.2)
    ]


def pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def improvement_table(rows: list) -> str:
    head = (
        "| metric | period | noise | trend (σ/period) | step at start | judged | "
        "*improved*, before | *improved*, after |\n|---|---|---|---:|---:|---:|---:|---:|"
    )
    body = [
        f"| {m} | {p} | {proc} | {slope:g} | {step:g} σ | {c.judged} | {pct(c.rate('old'))} | "
        f"{pct(c.rate('new'))} |"
        for m, p, proc, slope, step, c in rows
    ]
    return "\n".join([head, *body])


def udr_table(rows: list) -> str:
    head = (
        "| metric | period | noise | trend, bad way (σ/period) | latest on the good side | "
        "false verdict, before | false verdict, after |\n|---|---|---|---:|---:|---:|---:|"
    )
    body = [
        f"| {m} | {p} | {proc} | {slope:g} ({'contradicted' if slope else 'confirmed'} is false)"
        f" | {c.judged} | {pct(c.rate('old'))} | {pct(c.rate('new'))} |"
        for m, p, proc, slope, c in rows
    ]
    return "\n".join([head, *body])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=400, help="series per case")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    print(improvement_table(improvement_rows(args.reps, args.seed)))
    print(f"\n{args.reps} series per case, seed {args.seed}, {time.perf_counter() - began:.0f} s")
    began = time.perf_counter()
    print("\n" + udr_table(udr_rows(args.reps, args.seed)))
    print(f"\n{args.reps} series per case, seed {args.seed}, {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
