"""chart(): auto selection, gaps, phases and baselines, errors, the JSON contract, explanations."""

from __future__ import annotations

import doctest
import json
import math

import numpy as np
import pytest

import salesflow.spc as spc
from salesflow.errors import ConfigError, DataError
from salesflow.spc import chart, explain

WEEKS = [f"2025-{m:02d}-{d:02d}" for m in (1, 2, 3, 4, 5, 6) for d in (6, 13, 20, 27)]


def test_public_names_are_exported():
    assert sorted(spc.__all__) == sorted(n for n in spc.__all__ if hasattr(spc, n))
    assert {"chart", "ChartResult", "Signal", "Phase", "explain", "RULES"} <= set(spc.__all__)


@pytest.mark.parametrize(
    "module", ["salesflow.spc", "salesflow.spc.explain", "salesflow.spc.rules"]
)
def test_docstring_examples_run(module):
    import importlib

    failures, _ = doctest.testmod(importlib.import_module(module))
    assert failures == 0


def _binomial(p, n, seed=1):
    rng = np.random.default_rng(seed)
    return rng.binomial(n, p) / np.asarray(n)


def test_auto_proportion_with_binomial_spread_gives_p_chart():
    n = [40, 55, 38, 60, 47, 52, 41, 58, 45, 50, 44, 49]
    result = chart(_binomial(0.3, n), n=n, metric_kind="proportion")
    assert result.type == "p"
    assert "p-chart" in result.reason and "σz" in result.reason


def test_auto_proportion_with_large_overdispersed_subgroups_gives_laney():
    """Large subgroups whose true rate drifts: ordinary p limits flag nearly every point."""
    rng = np.random.default_rng(7)
    n = rng.integers(20_000, 40_000, size=24)
    p = rng.binomial(n, rng.uniform(0.18, 0.24, size=24)) / n
    plain = chart(p, n=n, kind="p")
    assert len(plain.find_signals(rules=["we1"])) > 12
    result = chart(p, n=n, metric_kind="proportion")
    assert result.type == "laney-p"
    assert "Laney p′" in result.reason and "σz" in result.reason
    assert result.phases[0].sigma_z > spc.OVERDISPERSION_SIGMA_Z


def test_auto_rate_and_other_kinds():
    n = [10.0] * 12
    u = [c / 10 for c in [4, 6, 5, 3, 7, 5, 4, 6, 5, 4, 6, 5]]
    assert chart(u, n=n, metric_kind="rate").type == "u"
    assert chart(u, metric_kind="rate").type == "xmr"  # no exposure: XmR, and says so
    assert "without subgroup sizes" in chart(u, metric_kind="rate").reason
    for kind in ("count", "duration", "amount", None, "something-else"):
        assert chart(u, metric_kind=kind).type == "xmr"


def test_gaps_are_skipped_for_limits_and_kept_in_lists():
    x = [10, 12, 11, math.nan, 13, 12, 11, 10, 12, 11]
    result = chart(x, kind="xmr")
    present = [v for v in x if not math.isnan(v)]
    mrs = [abs(x[i] - x[i - 1]) for i in range(1, len(x)) if not math.isnan(x[i] + x[i - 1])]
    out = result.chart_dict()
    assert out["center"] == pytest.approx(sum(present) / len(present))
    assert out["mr_center"] == pytest.approx(sum(mrs) / len(mrs))
    assert len(out["moving_range"]) == 10
    assert out["moving_range"][3] is None and out["moving_range"][4] is None
    assert out["n_points"] == 9


def test_zero_subgroup_is_a_gap_in_a_p_chart():
    n = [50, 40, 0, 45, 50, 55, 48, 52, 47, 50]
    p = [0.2, 0.25, 0.0, 0.22, 0.18, 0.2, 0.23, 0.21, 0.19, 0.2]
    out = chart(p, n=n, kind="p").chart_dict()
    num = sum(a * b for a, b in zip(p, n, strict=True))
    assert out["center"] == pytest.approx(num / sum(n))
    assert out["ucl"][2] is None and out["lcl"][2] is None
    assert out["n_points"] == 9


def test_insufficient_data_says_how_many():
    result = chart([3, 4, 5, 4, 6], kind="xmr")
    assert result.insufficient and result.signals == ()
    out = result.to_dict()["chart"]
    assert out["status"] == "insufficient_data"
    assert (out["center"], out["lcl"], out["ucl"]) == (None, None, None)
    assert "only 5 periods" in out["message"] and "at least 8" in out["message"]
    assert chart([3, 4, 5, 4, 6], kind="xmr", min_points=5).status == "ok"


def test_baseline_limits_are_held_and_catch_an_improvement():
    """Limits from 12 baseline weeks; the later drop is judged against them (the workbench use)."""
    before = [20, 22, 19, 21, 23, 20, 22, 21, 19, 22, 20, 21]
    after = [15, 14, 16, 15, 14, 15, 16, 14]
    result = chart(before + after, kind="xmr", baseline=(0, 12))
    base = chart(before, kind="xmr").chart_dict()
    out = result.chart_dict()
    assert (out["center"], out["lcl"], out["ucl"]) == (base["center"], base["lcl"], base["ucl"])
    later = result.find_signals(direction="down", since=12)
    assert {s.rule for s in later} >= {"we1", "we4"}
    assert not result.find_signals(direction="up")


def test_phase_change_recomputes_limits_and_lists_them():
    a = [20, 22, 19, 21, 23, 20, 22, 21, 19, 22]
    b = [15, 14, 16, 15, 14, 15, 16, 14, 15, 16]
    result = chart(a + b, kind="xmr", phase_starts=[10])
    out = result.to_dict()["chart"]
    assert len(out["phases"]) == 2 and isinstance(out["lcl"], list) and len(out["ucl"]) == 20
    second = chart(b, kind="xmr").chart_dict()
    assert out["ucl"][10:] == [second["ucl"]] * 10
    assert out["center"][10:] == [second["center"]] * 10
    assert out["moving_range"][10] is None  # no moving range across the change
    assert not result.signals  # each phase is stable within its own limits


def test_short_later_phase_has_no_limits_and_no_signals():
    a = [20, 22, 19, 21, 23, 20, 22, 21, 19, 22]
    result = chart([*a, 40, 41, 39], kind="xmr", phase_starts=[10])
    assert result.status == "ok" and not result.phases[1].sufficient
    assert all(s.index < 10 for s in result.signals)
    assert result.to_dict()["chart"]["ucl"][10:] == [None] * 3
    assert "only 3 periods" in result.message


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"kind": "pie"}, ConfigError, "Unknown chart type"),
        ({"kind": "p"}, ConfigError, "subgroup size"),
        ({"kind": "xmr", "rules": ["we9"]}, ConfigError, "Unknown detection rule"),
        ({"kind": "run", "rules": ["we1"]}, ConfigError, "run chart"),
        ({"kind": "xmr", "baseline": (5, 30)}, ConfigError, "baseline"),
        ({"kind": "xmr", "phase_starts": [12]}, ConfigError, "phase"),
        ({"kind": "xmr", "min_points": 1}, ConfigError, "min_points"),
        ({"kind": "xmr", "n": [1, 2]}, ConfigError, "subgroup sizes"),
    ],
)
def test_bad_requests_raise_clear_errors(kwargs, error, words):
    with pytest.raises(error, match=words):
        chart([0.1 * i for i in range(12)], **kwargs)


def test_bad_values_name_the_point():
    with pytest.raises(DataError, match="not a proportion") as info:
        chart([0.2] * 5 + [1.3] + [0.2] * 4, n=[10] * 10, kind="p")
    assert info.value.where == "point 6"
    with pytest.raises(DataError, match="negative"):
        chart([0.2] * 10, n=[10] * 9 + [-1], kind="u")


def test_json_contract_xmr_numbers_p_lists_and_valid_json():
    x = chart([5, 6, 5, 7, 6, 5, 6, 5, 6, 30], kind="xmr").to_dict(WEEKS[:10])
    assert isinstance(x["chart"]["lcl"], float) and isinstance(x["chart"]["ucl"], float)
    assert {"type", "center", "lcl", "ucl", "reason", "phases"} <= set(x["chart"])
    assert x["signals"][-1]["period"] == WEEKS[9]
    assert {"period", "rule", "direction", "points", "explanation"} <= set(x["signals"][0])
    n = [50, 40, 45, 50, 55, 48, 52, 47, 50, 60]
    p = chart(_binomial(0.2, n), n=n, kind="p").to_dict()
    assert isinstance(p["chart"]["lcl"], list) and len(p["chart"]["ucl"]) == 10
    json.dumps(x, allow_nan=False)
    json.dumps(p, allow_nan=False)


def test_explanations_in_a_sales_leaders_words():
    base = [10, 11, 9, 10, 12, 9, 11, 10, 9, 11, 12, 9]
    x = [*base, 13, 14, 13, 14, 13, 14, 13, 14, 10, 10, 30, 10]
    result = chart(x, kind="xmr", baseline=(0, 12), rules=["we1", "we4"])
    texts = [result.explain(s, WEEKS) for s in result.signals]
    assert "8 points in a row above the centre line since 2025-04-06." in texts
    assert "One point beyond the upper limit on 2025-06-20." in texts


def test_explain_run_rules_and_default_labels():
    sig = spc.Signal("anhoej_crossings", "Too few crossings", None, 19, tuple(range(20)), 3, 6)
    text = explain(sig, chart_type="run")
    assert "crosses the median only 3 times in 20 points" in text
    assert "at least 6 crossings" in text and "period 1" in text


def test_missing_and_infinite_values_are_gaps():
    x = [10, None, 12, math.inf, 11, 12, 10, 11, 12, 10, 11]
    out = chart(x, kind="xmr").chart_dict()
    assert out["n_points"] == 9
    assert out["center"] == pytest.approx((10 + 12 + 11 + 12 + 10 + 11 + 12 + 10 + 11) / 9)


def test_every_json_key_is_documented_in_the_contract():
    """The README beside the package lists every key that to_dict() can produce."""
    from pathlib import Path

    readme = (Path(spc.__file__).parent / "README.md").read_text(encoding="utf-8")
    a = [20, 22, 19, 21, 23, 20, 22, 21, 19, 22, 20, 35]
    n = [500] * 12
    docs = [
        chart(a, kind="xmr").to_dict(WEEKS),
        chart([v / 100 for v in a], n=n, kind="laney-p", phase_starts=[6], min_points=6).to_dict(),
        chart(a[:4], kind="xmr").to_dict(),
    ]
    keys = set()
    for doc in docs:
        keys |= set(doc["chart"]) | {k for p in doc["chart"]["phases"] for k in p}
        keys |= {k for s in doc["signals"] for k in s}
    missing = sorted(k for k in keys if f'"{k}"' not in readme and f"`{k}`" not in readme)
    assert not missing


def test_run_chart_baseline_median_is_held():
    base = [5, 7, 6, 8, 4, 6, 7, 5, 6, 8]
    later = [9, 10, 9, 11, 10, 9, 12, 10, 11, 10]
    result = chart(base + later, kind="run", baseline=(0, 10))
    assert result.chart_dict()["center"] == 6.0  # median of the baseline alone
    runs = result.find_signals(rules=["anhoej_runs"])
    assert [(s.direction, s.points[0], s.points[-1]) for s in runs] == [("up", 9, 19)]
