"""Hypothesis properties of the chart maths; every rule re-derived by brute force from its text."""

from __future__ import annotations

import math
import statistics

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from salesflow.spc import chart

FAST = settings(max_examples=60, deadline=None)

values = st.lists(
    st.floats(min_value=-1e4, max_value=1e4, allow_nan=False).map(lambda v: round(v, 3)),
    min_size=8,
    max_size=50,
)
# Small integers give ties, long runs and values exactly on a limit: the hard cases for rules.
lumpy = st.lists(st.integers(min_value=0, max_value=6).map(float), min_size=8, max_size=60)


@FAST
@given(values)
def test_xmr_limits_are_symmetric_about_the_centre(x):
    out = chart(x, kind="xmr").chart_dict()
    assert math.isclose(out["ucl"] - out["center"], out["center"] - out["lcl"], abs_tol=1e-6)
    assert out["ucl"] >= out["center"]


@FAST
@given(values, st.floats(min_value=-1e3, max_value=1e3).map(lambda c: round(c, 2)))
def test_shifting_values_shifts_limits(x, c):
    a = chart(x, kind="xmr")
    b = chart([v + c for v in x], kind="xmr")
    for key in ("center", "lcl", "ucl"):
        assert math.isclose(b.chart_dict()[key], a.chart_dict()[key] + c, abs_tol=1e-6)
    assert math.isclose(b.chart_dict()["mr_center"], a.chart_dict()["mr_center"], abs_tol=1e-6)


@FAST
@given(
    st.integers(min_value=8, max_value=60).flatmap(
        lambda n: st.tuples(st.just(n), st.integers(0, n - 1))
    ),
    st.floats(min_value=-100, max_value=100).map(lambda c: round(c, 1)),
    st.floats(min_value=1, max_value=1000).map(lambda s: round(s, 1)),
)
def test_constant_plus_one_spike_fires_rule_one_there(size_at, c, spike):
    size, at = size_at
    x = [c] * size
    x[at] = c + spike
    rule1 = chart(x, kind="xmr").find_signals(rules=["we1"])
    assert [(s.index, s.direction) for s in rule1] == [(at, "up")]


@FAST
@given(
    st.lists(st.tuples(st.integers(1, 500), st.floats(0, 1)), min_size=8, max_size=40),
    st.sampled_from(["p", "laney-p"]),
)
def test_p_limits_stay_within_zero_and_one(rows, kind):
    n = [r[0] for r in rows]
    p = [round(r[1] * k) / k for r, k in zip(rows, n, strict=True)]
    out = chart(p, n=n, kind=kind).chart_dict()
    assert all(0.0 <= lo <= out_c <= hi <= 1.0 for lo, hi, out_c in _per_point(out))


def _per_point(out):
    centers = (
        out["center"] if isinstance(out["center"], list) else [out["center"]] * len(out["ucl"])
    )
    return zip(out["lcl"], out["ucl"], centers, strict=True)


@FAST
@given(st.lists(st.floats(-50, 50, allow_nan=False), min_size=0, max_size=7))
def test_fewer_than_min_points_gives_no_limits_and_no_signals(x):
    result = chart(x, kind="xmr")
    assert result.insufficient and result.signals == ()
    assert result.chart_dict()["ucl"] is None
    assert f"at least {result.min_points}" in result.message


@FAST
@given(lumpy, st.data())
def test_phase_limits_equal_limits_of_the_phase_alone(x, data):
    start = data.draw(st.integers(8, max(8, len(x) - 8)))
    if len(x) - start < 8:
        return
    whole = chart(x, kind="xmr", phase_starts=[start]).chart_dict()
    alone = chart(x[start:], kind="xmr").chart_dict()
    first = chart(x[:start], kind="xmr").chart_dict()
    assert whole["ucl"][start:] == [alone["ucl"]] * (len(x) - start)
    assert whole["lcl"][:start] == [first["lcl"]] * start
    b = data.draw(st.integers(8, len(x)))
    held = chart(x, kind="xmr", baseline=(0, b)).chart_dict()
    assert held["ucl"] == chart(x[:b], kind="xmr").chart_dict()["ucl"]


# Brute force: each rule written out from its sentence, on the chart's own centre and sigma.
def _beyond(x, c, s, i, side, zone):
    return side * (x[i] - c[i]) > zone * s[i] if zone else side * (x[i] - c[i]) > 0


def _fires(x, c, s, k, m, zone):
    """{(i, side)}: point i is beyond and the m points ending at i hold at least k beyond."""
    out = set()
    for side in (1, -1):
        for i in range(len(x)):
            window = range(max(0, i - m + 1), i + 1)
            hits = [j for j in window if _beyond(x, c, s, j, side, zone)]
            if _beyond(x, c, s, i, side, zone) and len(hits) >= k:
                out.add((i, side))
    return out


RULE_SHAPES = {"we2": (2, 3, 2.0), "we3": (4, 5, 1.0), "we4": (8, 8, 0.0)}


def _check_western_electric(x, result):
    c, s = list(result.center), list(result.sigma)
    lo, hi = list(result.lcl), list(result.ucl)
    rule1 = {(i, 1 if v > hi[i] else -1) for i, v in enumerate(x) if v > hi[i] or v < lo[i]}
    got1 = {(g.index, 1 if g.direction == "up" else -1) for g in result.find_signals(rules=["we1"])}
    assert got1 == rule1
    for rule, (k, m, zone) in RULE_SHAPES.items():
        fires = _fires(x, c, s, k, m, zone)
        signals = result.find_signals(rules=[rule])
        side = {sg: 1 if sg.direction == "up" else -1 for sg in signals}
        # every signal fires where the rule says, on points that qualify
        for sg in signals:
            assert (sg.index, side[sg]) in fires
            assert all(_beyond(x, c, s, j, side[sg], zone) for j in sg.points)
        # every firing is inside one signal of the same direction, its window's points included
        for i, sd in fires:
            window = {j for j in range(max(0, i - m + 1), i + 1) if _beyond(x, c, s, j, sd, zone)}
            assert any(
                side[sg] == sd and sg.index <= i <= sg.points[-1] and window <= set(sg.points)
                for sg in signals
            )


@settings(max_examples=100, deadline=None)
@given(lumpy)
def test_western_electric_signals_match_brute_force_on_xmr(x):
    _check_western_electric(x, chart(x, kind="xmr"))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(6, 12)), min_size=8, max_size=50))
def test_western_electric_signals_match_brute_force_on_p(rows):
    """On a p-chart each point has its own sigma, so the zones differ point by point."""
    p = [d / n for d, n in rows]
    _check_western_electric(p, chart(p, n=[n for _, n in rows], kind="p"))


@settings(max_examples=120, deadline=None)
@given(lumpy)
def test_anhoej_signals_match_brute_force(x):
    result = chart(x, kind="run")
    med = statistics.median(x)
    useful = [(i, 1 if v > med else -1) for i, v in enumerate(x) if v != med]
    runs, run = [], []
    for i, sd in useful:
        if run and sd != run[-1][1]:
            runs.append(run)
            run = []
        run.append((i, sd))
    if run:
        runs.append(run)
    n = len(useful)
    if n < 2:
        assert result.signals == ()
        return
    limit = round(math.log2(n) + 3)
    long_runs = [tuple(i for i, _ in r) for r in runs if len(r) > limit]
    got = [sg.points for sg in result.find_signals(rules=["anhoej_runs"])]
    assert got == long_runs
    cdf, minimum = 0.0, n - 1
    for k in range(n):
        cdf += math.comb(n - 1, k) / 2 ** (n - 1)
        if cdf >= 0.05:
            minimum = k
            break
    crossings = [sg.observed for sg in result.find_signals(rules=["anhoej_crossings"])]
    assert crossings == ([len(runs) - 1] if len(runs) - 1 < minimum else [])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(5, 300), st.floats(0, 1)), min_size=8, max_size=30))
def test_p_sigma_is_binomial_per_point(rows):
    n = np.array([r[0] for r in rows])
    p = np.round(np.array([r[1] for r in rows]) * n) / n
    result = chart(p, n=n, kind="p")
    pbar = float(np.sum(p * n) / np.sum(n))
    expected = [math.sqrt(pbar * (1 - pbar) / k) for k in n]
    assert np.allclose(result.sigma, expected)
