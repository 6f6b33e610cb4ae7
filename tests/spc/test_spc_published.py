"""Chart maths against published worked examples, and against independent hand computations.

Every expected number here is either printed in the cited source or computed in the test itself
with plain Python (math, statistics), never with salesflow.spc.
"""

from __future__ import annotations

import itertools
import math
import statistics

import pytest

from salesflow.spc import chart

# Montgomery, Introduction to Statistical Quality Control, 6th ed. (2009), Example 6.5
# "Loan processing costs": weekly cost of processing mortgage loan applications, 20 weeks.
LOAN_COSTS = [310, 288, 297, 298, 307, 303, 294, 297, 308, 306,
              294, 299, 297, 299, 314, 295, 293, 306, 301, 304]  # fmt: skip

# NIST/SEMATECH e-Handbook of Statistical Methods, section 6.3.3.2 "Proportions control
# charts": 30 wafers, 50 chips each, number of chips with misregistration per wafer.
WAFER_DEFECTIVES = [12, 15, 8, 10, 4, 7, 16, 9, 14, 10, 5, 6, 17, 12, 22,
                    8, 10, 5, 13, 11, 20, 18, 24, 15, 9, 12, 7, 13, 9, 6]  # fmt: skip

# Montgomery, ISQC 6th ed., section 7.3 (u chart, variable sample size), dyed-cloth example:
# nonconformities per roll, inspection units of 50 m² per roll.
CLOTH_DEFECTS = [14, 12, 20, 11, 7, 10, 21, 16, 19, 23]
CLOTH_UNITS = [10, 8, 13, 10, 9.5, 10, 12, 10.5, 12, 12.5]


def test_xmr_montgomery_loan_processing_costs():
    """Montgomery ISQC 6th ed., Example 6.5: x̄ = 300.5, MR̄ = 7.79, UCL = 321.22, LCL = 279.78,
    moving range chart UCL = D4·MR̄ = 25.45; no week plots outside the limits."""
    result = chart(LOAN_COSTS, kind="xmr")
    out = result.to_dict()["chart"]
    assert out["center"] == pytest.approx(300.5)
    assert out["mr_center"] == pytest.approx(7.79, abs=0.005)
    assert out["ucl"] == pytest.approx(321.22, abs=0.005)
    assert out["lcl"] == pytest.approx(279.78, abs=0.005)
    assert out["mr_ucl"] == pytest.approx(25.45, abs=0.02)  # 3.267 in the book, 3.268 here
    assert not result.find_signals(rules=["we1"])


def test_xmr_limits_by_hand_wheeler_constants():
    """Wheeler, Understanding Variation (2nd ed., 2000): natural process limits are
    average ± 2.66 × average moving range, the upper range limit 3.268 × average moving range."""
    x = [41, 38, 44, 47, 39, 43, 40, 45, 42, 37, 46, 44]
    mrs = [abs(b - a) for a, b in itertools.pairwise(x)]
    mr_bar = sum(mrs) / len(mrs)
    mean = sum(x) / len(x)
    out = chart(x, kind="xmr").chart_dict()
    assert out["center"] == pytest.approx(mean)
    assert out["ucl"] == pytest.approx(mean + 2.66 * mr_bar)
    assert out["lcl"] == pytest.approx(mean - 2.66 * mr_bar)
    assert out["mr_ucl"] == pytest.approx(3.268 * mr_bar)
    assert out["moving_range"] == [None, *map(float, mrs)]


def test_p_chart_nist_wafers():
    """NIST/SEMATECH e-Handbook 6.3.3.2: p̄ = 0.2313, UCL = 0.4102, LCL = 0.0524. Wafers 15
    (22/50 = 0.44) and 23 (24/50 = 0.48) are the ones above the UCL."""
    p = [d / 50 for d in WAFER_DEFECTIVES]
    result = chart(p, n=[50] * 30, kind="p")
    out = result.chart_dict()
    assert out["center"] == pytest.approx(0.2313, abs=5e-5)
    assert out["ucl"] == pytest.approx([0.4102] * 30, abs=5e-5)
    assert out["lcl"] == pytest.approx([0.0524] * 30, abs=5e-5)
    above = [(s.index, s.direction) for s in result.find_signals(rules=["we1"])]
    assert above == [(14, "up"), (22, "up")]


def test_laney_sigma_z_by_hand_on_nist_wafers():
    """Laney (2002), "Improved control charts for attributes", Quality Engineering 14(4):
    z_i = (p_i - p̄)/σ_pi, σ_z = mean |z_i - z_{i-1}| / 1.128, limits p̄ ± 3·σ_pi·σ_z."""
    p = [d / 50 for d in WAFER_DEFECTIVES]
    pbar = sum(WAFER_DEFECTIVES) / 1500
    sd = math.sqrt(pbar * (1 - pbar) / 50)
    z = [(v - pbar) / sd for v in p]
    sigma_z = statistics.mean(abs(b - a) for a, b in itertools.pairwise(z)) / 1.128
    out = chart(p, n=[50] * 30, kind="laney-p").chart_dict()
    assert out["sigma_z"] == pytest.approx(sigma_z)
    assert out["ucl"][0] == pytest.approx(pbar + 3 * sd * sigma_z)
    assert out["lcl"][0] == pytest.approx(max(0.0, pbar - 3 * sd * sigma_z))


def test_u_chart_montgomery_dyed_cloth():
    """Montgomery ISQC 6th ed., section 7.3, dyed cloth: ū = 153/107.5 = 1.42 nonconformities
    per inspection unit, limits ū ± 3·sqrt(ū/n_i) per roll (n = 8 gives 0.16 to 2.69); no roll outside its limits."""
    u = [c / n for c, n in zip(CLOTH_DEFECTS, CLOTH_UNITS, strict=True)]
    result = chart(u, n=CLOTH_UNITS, kind="u")
    out = result.chart_dict()
    ubar = 153 / 107.5
    assert out["center"] == pytest.approx(ubar)
    assert round(out["center"], 2) == 1.42
    expected_ucl = [ubar + 3 * math.sqrt(ubar / n) for n in CLOTH_UNITS]
    expected_lcl = [max(0.0, ubar - 3 * math.sqrt(ubar / n)) for n in CLOTH_UNITS]
    assert out["ucl"] == pytest.approx(expected_ucl)
    assert out["lcl"] == pytest.approx(expected_lcl)
    assert (round(out["lcl"][1], 2), round(out["ucl"][1], 2)) == (0.16, 2.69)
    assert not result.find_signals(rules=["we1"])


def test_laney_u_prime_by_hand_on_dyed_cloth():
    """Laney (2002) applied to rates: z_i = (u_i - ū)/sqrt(ū/n_i), limits ū ± 3·sqrt(ū/n_i)·σ_z."""
    u = [c / n for c, n in zip(CLOTH_DEFECTS, CLOTH_UNITS, strict=True)]
    ubar = 153 / 107.5
    z = [(v - ubar) / math.sqrt(ubar / n) for v, n in zip(u, CLOTH_UNITS, strict=True)]
    sigma_z = statistics.mean(abs(b - a) for a, b in itertools.pairwise(z)) / 1.128
    out = chart(u, n=CLOTH_UNITS, kind="laney-u").chart_dict()
    assert out["sigma_z"] == pytest.approx(sigma_z)
    ucl = [ubar + 3 * math.sqrt(ubar / n) * sigma_z for n in CLOTH_UNITS]
    lcl = [max(0.0, ubar - 3 * math.sqrt(ubar / n) * sigma_z) for n in CLOTH_UNITS]
    assert out["ucl"] == pytest.approx(ucl)
    assert out["lcl"] == pytest.approx(lcl)
    assert sigma_z < 1.5  # Poisson variation explains these rolls: auto keeps the u-chart
    assert chart(u, n=CLOTH_UNITS, metric_kind="rate").type == "u"


def test_p_chart_variable_subgroups_by_hand():
    """Montgomery ISQC 6th ed., section 7.2 (variable sample size): p̄ = Σd_i/Σn_i and per-sample
    limits p̄ ± 3·sqrt(p̄(1-p̄)/n_i), clipped to [0, 1]. Hand-computed here on win/loss counts."""
    won = [12, 30, 4, 18, 25, 9, 40, 14, 22, 3]
    closed = [40, 90, 10, 55, 80, 30, 120, 45, 70, 6]
    pbar = sum(won) / sum(closed)
    result = chart([w / c for w, c in zip(won, closed, strict=True)], n=closed, kind="p")
    ucl = [min(1.0, pbar + 3 * math.sqrt(pbar * (1 - pbar) / c)) for c in closed]
    lcl = [max(0.0, pbar - 3 * math.sqrt(pbar * (1 - pbar) / c)) for c in closed]
    out = result.chart_dict()
    assert out["center"] == pytest.approx(pbar)
    assert out["ucl"] == pytest.approx(ucl)
    assert out["lcl"] == pytest.approx(lcl)
    assert out["lcl"][-1] == 0.0  # n = 6 would give a negative lower limit


def _binom_ppf_05(trials: int) -> int:
    """Smallest k with P(X <= k) >= 0.05 for X ~ Binomial(trials, 0.5), from math.comb."""
    total = 0.0
    for k in range(trials + 1):
        total += math.comb(trials, k) / 2**trials
        if total >= 0.05:
            return k
    return trials


@pytest.mark.parametrize("n_useful", [10, 11, 16, 20, 24, 30, 50, 100])
def test_anhoej_thresholds_match_their_definition(n_useful):
    """Anhøj & Olesen (2014), "Run charts revisited", PLoS ONE 9(11): longest run limit
    round(log2(n) + 3); minimum crossings the 5th percentile of Binomial(n - 1, 0.5)."""
    from salesflow.spc.rules import longest_run_limit, min_crossings

    assert longest_run_limit(n_useful) == round(math.log2(n_useful) + 3)
    assert min_crossings(n_useful) == _binom_ppf_05(n_useful - 1)


def test_anhoej_known_table_values():
    """Critical values as tabulated by Anhøj & Olesen (2014): for 10 useful points, runs over 6
    or fewer than 2 crossings signal; for 20 points over 7 or fewer than 6; for 30 points over
    8 or fewer than 10."""
    from salesflow.spc.rules import longest_run_limit, min_crossings

    assert (longest_run_limit(10), min_crossings(10)) == (6, 2)
    assert (longest_run_limit(20), min_crossings(20)) == (7, 6)
    assert (longest_run_limit(30), min_crossings(30)) == (8, 10)


def test_run_chart_median_and_long_run_by_hand():
    """A run chart's centre is the median; points on it are skipped when counting runs."""
    x = [5, 6, 4, 5, 7, 3, 6, 4, 5, 9, 9, 8, 9, 10, 8, 9, 9, 8, 10, 9]
    med = statistics.median(x)
    result = chart(x, kind="run")
    assert result.chart_dict()["center"] == med
    useful = [(i, v > med) for i, v in enumerate(x) if v != med]
    longest, run = 0, []
    for k, (i, up) in enumerate(useful):
        run = [*run, i] if k and up == useful[k - 1][1] else [i]
        longest = max(longest, len(run))
    limit = round(math.log2(len(useful)) + 3)
    runs = result.find_signals(rules=["anhoej_runs"])
    assert (med, len(useful), longest, limit) == (8.0, 17, 9, 7)  # the three 8s are skipped
    assert [(s.index, s.observed, s.direction, s.points) for s in runs] == [
        (7, 9, "down", tuple(range(9))),  # fires at its 8th point, the first beyond 7
        (19, 8, "up", (9, 10, 12, 13, 15, 16, 18, 19)),
    ]
