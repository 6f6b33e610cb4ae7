"""Seeded closed-deal logs with win-rate effects injected in points, for the coverage of the
driver analysis's 95 % intervals (tests/analysis/test_estimable.py, benchmarks/bench_drivers.py).

Win probability is built on the probability scale, so the injected risk difference *is* the
average marginal effect a correct analysis should recover:

    P(won) = 0.40 − 0.12·[first response > 48 h] + 0.10·[source = partner]   (region: no effect)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesflow.analysis import Variable, analyse
from salesflow.analysis.model import OUTCOMES

BASE = 0.40
TRUTH = {("first_response_over_48h", None): -12.0, ("source", "partner"): 10.0}  # points
VARIABLES = [
    Variable("first_response_over_48h", "first reply after 48 h", "binary", "before"),
    Variable("source", "lead source", "categorical", "before"),
    Variable("region", "sales region", "categorical", "before"),
]


def simulated_deals(seed: int, n: int = 400) -> pd.DataFrame:
    """``n`` closed deals with the effects above (one row per deal, the driver feature table)."""
    rng = np.random.default_rng(seed)
    slow = rng.random(n) < 0.35
    source = rng.choice(["inbound", "outbound", "partner"], n, p=[0.5, 0.25, 0.25])
    region = rng.choice(["North", "South", "West"], n, p=[0.4, 0.3, 0.3])
    p_win = BASE + TRUTH[("first_response_over_48h", None)] / 100 * slow
    p_win = p_win + TRUTH[("source", "partner")] / 100 * (source == "partner")
    won = rng.random(n) < p_win
    return pd.DataFrame(
        {
            "won": won.astype(float),
            "first_response_over_48h": slow.astype(float),
            "source": source,
            "region": region,
        }
    )


def coverage(seeds: range, n: int = 400) -> dict[str, float]:
    """Share of seeded logs whose 95 % interval holds the injected effect, per effect."""
    hits = dict.fromkeys(TRUTH, 0)
    for seed in seeds:
        result = analyse(simulated_deals(seed, n), OUTCOMES["won"], VARIABLES)
        for e in result.effects:
            key = (e.variable, e.level)
            if key in TRUTH:
                hits[key] += e.ci_low <= TRUTH[key] <= e.ci_high
    return {_name(key): count / len(seeds) for key, count in hits.items()}


def _name(key: tuple[str, str | None]) -> str:
    variable, level = key
    return variable if level is None else f"{variable} = {level}"
