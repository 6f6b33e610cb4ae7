"""How often does salesflow call a series seasonal when it is not, and find the pattern when it is?

Generated series go through the same code path as ``salesflow metric ID --json``
(:func:`salesflow.metrics.charted.chart_series` on a ``Series``); a claim is a non-null
``seasonality``. Non-seasonal cases: i.i.d. normal and AR(1) with φ = 0.3 and 0.6, per month and
per week, at realistic lengths, each started in a random month (so the first and last quarters
are often incomplete, as in real logs). Seasonal cases: the same noise plus a quarter-end effect
(the last month of each quarter runs higher by 1 or 2 standard deviations of the noise).

    .venv/bin/python benchmarks/bench_seasonality.py               # 500 series per case
    .venv/bin/python benchmarks/bench_seasonality.py --reps 200    # quicker

Prints a Markdown table (the one in benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from salesflow.metrics.charted import chart_series
from salesflow.metrics.results import Point, Series

LENGTHS = {"month": (12, 18, 24, 36), "week": (52, 78, 104)}
PHIS = (0.0, 0.3, 0.6)
EFFECTS = (0.0, 1.0, 2.0)  # quarter-end effect in standard deviations of the noise


@dataclass(frozen=True)
class Case:
    period: str
    length: int
    phi: float
    effect: float

    @property
    def noise(self) -> str:
        return "i.i.d." if self.phi == 0 else f"AR(1) φ={self.phi:g}"


def starts(period: str, length: int, rng: np.random.Generator) -> list[date]:
    """Period starts from a random month of 2021 (weeks from the Monday of a random week)."""
    if period == "month":
        first = int(rng.integers(0, 12))
        return [date(2021 + (first + i) // 12, (first + i) % 12 + 1, 1) for i in range(length)]
    monday = date(2021, 1, 4) + timedelta(weeks=int(rng.integers(0, 52)))
    return [monday + timedelta(weeks=i) for i in range(length)]


def ar1(rng: np.random.Generator, length: int, phi: float) -> np.ndarray:
    """Stationary AR(1) noise with unit variance (a burn-in of 50 periods)."""
    e = rng.standard_normal(length + 50)
    x = np.zeros(length + 50)
    for i in range(1, length + 50):
        x[i] = phi * x[i - 1] + e[i]
    return x[50:] * np.sqrt(1 - phi**2)


def quarter_end(day: date, period: str) -> bool:
    middle = day + timedelta(days=3) if period == "week" else day
    return middle.month % 3 == 0


def simulate(case: Case, rng: np.random.Generator) -> Series:
    """A cycle-time series (days): 20 + 2 × noise (+ 2 × effect at quarter-ends), 40 deals each."""
    days = starts(case.period, case.length, rng)
    noise = ar1(rng, case.length, case.phi)
    bump = np.array([case.effect if quarter_end(d, case.period) else 0.0 for d in days])
    values = 20 + 2 * (noise + bump)
    points = [Point(period=d, value=float(v), n=40) for d, v in zip(days, values, strict=True)]
    return Series("cycle_time", case.period, "days", "duration", points)


def claim_rate(case: Case, reps: int, seed: int) -> float:
    """Share of ``reps`` series of ``case`` whose chart names a seasonal pattern."""
    rng = np.random.default_rng(seed)
    hits = sum(chart_series(simulate(case, rng)).seasonality is not None for _ in range(reps))
    return hits / reps


def cases() -> list[Case]:
    return [
        Case(period, length, phi, effect)
        for period, lengths in LENGTHS.items()
        for length in lengths
        for phi in PHIS
        for effect in EFFECTS
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=500, help="series per case")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    rates = {c: claim_rate(c, args.reps, args.seed + i) for i, c in enumerate(cases())}
    print(f"{args.reps} series per case, {time.perf_counter() - began:.0f} s\n")
    print("| period | length | noise | false claims (no pattern) | found, +1 σ | found, +2 σ |")
    print("|---|---:|---|---:|---:|---:|")
    for period, lengths in LENGTHS.items():
        for length in lengths:
            for phi in PHIS:
                row = [rates[Case(period, length, phi, e)] for e in EFFECTS]
                noise = Case(period, length, phi, 0).noise
                cells = " | ".join(f"{r:.1%}" for r in row)
                print(f"| {period} | {length} | {noise} | {cells} |")
    worst = max(r for c, r in rates.items() if c.effect == 0)
    print(f"\nWorst false-claim rate: {worst:.1%}")
    return 0 if worst <= 0.05 else 1


if __name__ == "__main__":
    sys.exit(main())
