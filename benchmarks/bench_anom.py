"""Comparing reps: how often does analysis of means flag a rep when every rep is alike, and how
often does it find one who truly differs?

Seeded teams go through :mod:`salesflow.spc.anom` (the code behind ``salesflow metric ID --by
owner``). A false alarm is a run in which *any* rep is flagged although all share one true value;
the target is at most 5 % (the family-wise alpha). Detection is the share of runs in which the one
rep with a different true value is flagged in the right direction. Reference: a p-chart funnel
with ordinary 3-sigma normal limits per rep and no family-wise adjustment.

Cases: win rate (proportion; closed deals per rep drawn from 5–120, or 3–25 for a young team),
cycle time (median; lognormal days, 5–80 deals), requests per order (ratio; requests cluster on
orders: negative binomial with mean 3 and dispersion 1.5).

    .venv/bin/python benchmarks/bench_anom.py               # 600 runs per case
    .venv/bin/python benchmarks/bench_anom.py --runs 200    # quicker

Prints a Markdown table (the one in benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from salesflow.spc import anom


@dataclass(frozen=True)
class Case:
    name: str
    reps: int
    run: Callable[[np.random.Generator, int, float], tuple[bool, bool, bool]]
    effect: float  # the different rep's value relative to the others (1.0: none)


def _sizes(rng: np.random.Generator, reps: int, low: int, high: int) -> np.ndarray:
    return rng.integers(low, high + 1, reps)


def _funnel(wins: np.ndarray, closed: np.ndarray) -> bool:
    p = wins.sum() / closed.sum()
    half = 3 * np.sqrt(p * (1 - p) / closed)
    return bool(np.any(np.abs(wins / closed - p) > half))


def win_rate(low: int, high: int) -> Callable:
    def run(rng: np.random.Generator, reps: int, effect: float) -> tuple[bool, bool, bool]:
        closed = _sizes(rng, reps, low, high)
        rates = np.full(reps, 0.3)
        if effect != 1.0:
            closed[0], rates[0] = 100, 0.3 * effect
        wins = rng.binomial(closed, rates)
        result = anom.proportions(wins, closed)
        return bool(result.outside), result.signal[0] == "above", _funnel(wins, closed)

    return run


def cycle_time(rng: np.random.Generator, reps: int, effect: float) -> tuple[bool, bool, bool]:
    sizes = _sizes(rng, reps, 5, 80)
    if effect != 1.0:
        sizes[0] = 60
    groups = [rng.lognormal(np.log(30), 0.8, n) for n in sizes]
    groups[0] = groups[0] * effect
    result = anom.medians(groups)
    return bool(result.outside), result.signal[0] == "above", False


def requests(rng: np.random.Generator, reps: int, effect: float) -> tuple[bool, bool, bool]:
    sizes = _sizes(rng, reps, 10, 120)
    if effect != 1.0:
        sizes[0] = 80
    means = np.full(reps, 3.0)
    means[0] *= effect
    r = 1.5  # negative binomial dispersion: variance = mean + mean² / r
    nums = [
        rng.negative_binomial(r, r / (r + m), n).astype(float)
        for n, m in zip(sizes, means, strict=True)
    ]
    result = anom.ratios(nums, [np.ones(n) for n in sizes])
    return bool(result.outside), result.signal[0] == "above", False


CASES = (
    Case("win rate, 12 reps, 5–120 closed deals", 12, win_rate(5, 120), 1.0),
    Case("win rate, 25 reps, 5–120 closed deals", 25, win_rate(5, 120), 1.0),
    Case("win rate, 8 reps, 3–25 closed deals (young team)", 8, win_rate(3, 25), 1.0),
    Case("win rate, one rep at 45 % vs 30 % (100 deals)", 12, win_rate(5, 120), 1.5),
    Case("win rate, one rep at 60 % vs 30 % (100 deals)", 12, win_rate(5, 120), 2.0),
    Case("cycle time (median), 12 reps, 5–80 deals", 12, cycle_time, 1.0),
    Case("cycle time, one rep 1.5× slower (60 deals)", 12, cycle_time, 1.5),
    Case("requests per order (ratio), 12 reps, clustered", 12, requests, 1.0),
    Case("requests per order, one rep 1.5× (80 orders)", 12, requests, 1.5),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=600)
    args = parser.parse_args()
    started = time.process_time()
    print(
        "| case | runs | any rep flagged (false alarm) | different rep found | 3σ funnel, no adjustment |"
    )
    print("|---|---:|---:|---:|---:|")
    for case in CASES:
        rng = np.random.default_rng(2026)
        hits = np.array([case.run(rng, case.reps, case.effect) for _ in range(args.runs)])
        alike = case.effect == 1.0
        alarm = f"{hits[:, 0].mean():.1%}" if alike else ""
        found = "" if alike else f"{hits[:, 1].mean():.1%}"
        funnel = f"{hits[:, 2].mean():.1%}" if alike and case.name.startswith("win") else ""
        print(f"| {case.name} | {args.runs} | {alarm} | {found} | {funnel} |")
    print(f"\n{time.process_time() - started:.0f} CPU s")


if __name__ == "__main__":
    main()
