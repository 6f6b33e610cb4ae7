"""Seasonality and ramp-up: known answers, an independent oracle (statsmodels), error rates."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from salesflow.spc import chart
from salesflow.spc.rampup import ramp_up
from salesflow.spc.seasonality import SHORT_ALPHA, _holm, detect, position

sys.path.insert(0, str(Path(__file__).parents[2]))
from benchmarks import bench_seasonality as bench


def months(first: date, count: int) -> list[date]:
    return [date(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1)
            for i in range(count)]  # fmt: skip


def test_a_quarter_end_pattern_is_named_with_its_size():
    days = months(date(2023, 1, 1), 24)
    rng = np.random.default_rng(4)
    values = [0.5 + (0.2 if d.month % 3 == 0 else 0.0) + rng.normal(0, 0.02) for d in days]
    found = detect(values, days, "month")
    assert found is not None and found.pattern == "month_of_quarter"
    assert found.where == "in the last month of each quarter"
    assert found.months == (3, 6, 9, 12)
    assert found.effect == pytest.approx(0.2, abs=0.03)
    assert found.sentence("Win rate", "+0.20").startswith(
        "Win rate is higher in the last month of each quarter: +0.20 on average"
    )
    doc = found.to_dict()
    assert set(doc) >= {"pattern", "effect", "p_value"} and doc["p_value"] < 0.01


def test_the_f_test_matches_statsmodels_two_way_anova():
    """The p-value and effects equal OLS with cycle and position factors (statsmodels)."""
    import pandas as pd
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    days = months(date(2022, 4, 1), 27)  # 9 complete quarters
    rng = np.random.default_rng(11)
    values = rng.normal(10, 2, 27) + np.array([0.0, 1.5, 2.5] * 9)
    found = detect(values, days, "month", alpha=1.0, short_alpha=1.0)
    cells = [position(d, "month", "month_of_quarter") for d in days]
    frame = pd.DataFrame(
        {"y": values, "cycle": [str(c) for c, _ in cells], "pos": [p for _, p in cells]}
    )
    table = anova_lm(smf.ols("y ~ C(cycle) + C(pos)", frame).fit(), typ=2)
    p_month_of_quarter = float(table.loc["C(pos)", "PR(>F)"])
    assert found.tested == ("month_of_quarter",)  # one complete year only: no yearly test
    assert found.pattern == "month_of_quarter"
    assert found.p_value == pytest.approx(p_month_of_quarter)
    means = frame.groupby("pos")["y"].mean() - frame["y"].mean()
    assert found.offsets == pytest.approx(list(means))


def test_holm_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = [0.01, 0.04, 0.03, 0.5]
    assert _holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]))


def test_too_few_complete_cycles_make_no_claim():
    days = months(date(2023, 2, 1), 8)  # Feb..Sep: only Q2 and Q3 are complete
    values = [0.9 if d.month % 3 == 0 else 0.1 for d in days]
    assert detect(values, days, "month") is None
    assert detect([*values, 0.1, 0.1, 0.9], months(date(2023, 2, 1), 11), "month") is not None


def test_a_short_history_needs_a_far_stronger_pattern():
    days = months(date(2024, 2, 1), 11)  # 3 complete quarters: below FULL_CYCLES
    values = [4, 9, 5, 7, 7, 5, 8, 9, 4, 7, 8]  # random deals closed per month; p ≈ 0.004
    assert detect(values, days, "month", short_alpha=SHORT_ALPHA) is None
    assert detect(values, days, "month", short_alpha=0.05) is not None


def test_weeks_are_placed_by_their_middle_day():
    assert position(date(2024, 3, 25), "week", "month_of_quarter") == ((2024, 0), 2)
    assert position(date(2024, 3, 29), "week", "month_of_quarter") == ((2024, 1), 0)


@pytest.mark.parametrize(
    ("volumes", "expected"),
    [
        ([2, 5, 40, 42, 38, 41, 39, 44, 40], 2),
        ([40, 42, 38, 41, 39, 44, 40, 43, 40], 0),
        ([None, 3, 40, 42, 38, 41, 39, 44, 40, 38], 2),  # an empty first period is ramp-up too
        ([2, 3, 40, 42, 38], 0),  # too short to tell
        ([1, 1, 1, 1, 1, 1, 40, 42, 38, 41, 39, 44], 4),  # at most a third of the log
    ],
)
def test_ramp_up_is_the_leading_run_far_below_the_later_median(volumes, expected):
    assert ramp_up(volumes) == expected


def test_a_seasonal_offset_is_taken_out_of_the_limits_and_put_back():
    offset = np.array([-1.0, 0.0, 1.0] * 4)
    noise = np.array([0.2, -0.1, 0.0, 0.1, -0.2, 0.3, 0.0, 0.1, -0.3, 0.2, 0.0, -0.1])
    values = 10 + offset + noise
    plain = chart(noise + 10, kind="xmr")
    adjusted = chart(values, kind="xmr", offset=offset)
    assert adjusted.center == pytest.approx(plain.center + offset)
    assert adjusted.ucl == pytest.approx(plain.ucl + offset)
    assert adjusted.values == pytest.approx(values)
    assert not adjusted.signals
    doc = adjusted.to_dict()["chart"]
    assert doc["center"] == pytest.approx(list(plain.center + offset))
    assert doc["seasonal_offset"] == pytest.approx(list(offset))


def test_false_claims_stay_rare_and_strong_patterns_are_found():
    """A small run of benchmarks/bench_seasonality.py (the full table is in its README)."""
    for case in (
        bench.Case("month", 24, 0.0, 0.0),
        bench.Case("month", 36, 0.6, 0.0),
        bench.Case("week", 104, 0.6, 0.0),
    ):
        assert bench.claim_rate(case, 60, seed=7) <= 0.10, case
    assert bench.claim_rate(bench.Case("month", 36, 0.3, 2.0), 30, seed=8) >= 0.8
