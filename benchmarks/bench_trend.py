"""How often does salesflow call a series trending when it is not, and find a trend that is there?

Generated series go through the code path of ``salesflow metric ID --json``
(:func:`salesflow.metrics.charted.chart_series` on a ``Series``, seasonality test included); a
claim is a non-null ``chart.trend``. No-trend cases: i.i.d. normal, AR(1) with φ = 0.3 and 0.6,
and i.i.d. noise with a quarter-end peak of 2 σ, per month and per week, each started in a random
month. Trend cases add a straight line rising by 0.1 or 0.2 noise standard deviations per month
(per week: the same rise per month, spread over its weeks). The last two columns are
the mean number of signals per series on the 0.2 σ/month trend: flat limits (``--trend off``)
against limits that follow the trend (``--trend auto``, the default).

    .venv/bin/python benchmarks/bench_trend.py               # 400 series per case
    .venv/bin/python benchmarks/bench_trend.py --reps 100    # quicker

Prints a Markdown table (the one in benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from salesflow.metrics.charted import chart_series
from salesflow.metrics.results import Point, Series

sys.path.insert(0, str(Path(__file__).parent))

from bench_seasonality import ar1, quarter_end, starts

LENGTHS = {"month": (12, 18, 24, 36), "week": (52, 104)}
NOISES = ("iid", "ar0.3", "ar0.6", "quarter_end")
SLOPES = (0.0, 0.1, 0.2)  # noise standard deviations per month
WEEKS_PER_MONTH = 52 / 12


@dataclass(frozen=True)
class Case:
    period: str
    length: int
    noise: str
    slope: float

    @property
    def words(self) -> str:
        return {"iid": "i.i.d.", "quarter_end": "i.i.d. + quarter-end 2 σ"}.get(
            self.noise, f"AR(1) φ={self.noise[2:]}"
        )


def simulate(case: Case, rng: np.random.Generator) -> Series:
    """A cycle-time series (days): 20 + 2 × (noise + trend), 40 deals a period."""
    days = starts(case.period, case.length, rng)
    phi = float(case.noise[2:]) if case.noise.startswith("ar") else 0.0
    noise = ar1(rng, case.length, phi)
    if case.noise == "quarter_end":
        noise = noise + np.array([2.0 if quarter_end(d, case.period) else 0.0 for d in days])
    per_period = case.slope / (WEEKS_PER_MONTH if case.period == "week" else 1.0)
    values = 20 + 2 * (noise + per_period * np.arange(case.length))
    points = [Point(period=d, value=float(v), n=40) for d, v in zip(days, values, strict=True)]
    return Series("cycle_time", case.period, "days", "duration", points)


def run(case: Case, reps: int, seed: int) -> tuple[float, float, float]:
    """Share of series called trending; mean signals with flat and with trend-following limits."""
    rng = np.random.default_rng(seed)
    claims, flat, follows = 0, 0, 0
    for _ in range(reps):
        series = simulate(case, rng)
        auto = chart_series(series)
        claims += auto.result is not None and auto.result.trend is not None
        if case.slope == max(SLOPES):
            follows += len(auto.result.signals) if auto.result is not None else 0
            off = chart_series(series, trend="off").result
            flat += len(off.signals) if off is not None else 0
    return claims / reps, flat / reps, follows / reps


def cases() -> list[Case]:
    return [
        Case(period, length, noise, slope)
        for period, lengths in LENGTHS.items()
        for length in lengths
        for noise in NOISES
        for slope in SLOPES
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=400, help="series per case")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    found = {c: run(c, args.reps, args.seed + i) for i, c in enumerate(cases())}
    print(f"{args.reps} series per case, {time.perf_counter() - began:.0f} s\n")
    print(
        "| period | length | noise | false trending (no trend) | found, 0.1 σ/month "
        "| found, 0.2 σ/month | signals at 0.2 σ/month: flat limits | following the trend |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for period, lengths in LENGTHS.items():
        for length in lengths:
            for noise in NOISES:
                row = [found[Case(period, length, noise, s)] for s in SLOPES]
                rates = " | ".join(f"{r[0]:.1%}" for r in row)
                print(
                    f"| {period} | {length} | {Case(period, length, noise, 0).words} "
                    f"| {rates} | {row[-1][1]:.1f} | {row[-1][2]:.1f} |"
                )
    worst = max(r[0] for c, r in found.items() if c.slope == 0)
    print(f"\nWorst false-trending rate: {worst:.1%}")
    return 0 if worst <= 0.05 else 1


if __name__ == "__main__":
    sys.exit(main())
