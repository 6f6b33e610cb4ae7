"""``--by`` breakdowns compare groups on analysis-of-means limits: the limits and signals equal an
independent SciPy computation from the deals counted by hand, the group column is named after
the dimension, and metrics without a common value are shown without limits."""

from __future__ import annotations

import metrics_oracle as oracle
import numpy as np
import pytest
from scipy import stats

from salesflow import metrics
from salesflow.metrics.results import Breakdown, Group, group_column


def test_win_rate_by_owner_has_exact_hypergeometric_limits(backend, data):
    con, settings = backend
    doc = metrics.breakdown(con, settings, "win_rate", by="owner").to_dict()
    counts = oracle.share_by(
        oracle.closed(data), lambda o: o["owner"], lambda o: o["outcome"] == "won"
    )
    total = sum(d for _, _, d in counts.values())
    hits = sum(n for _, n, _ in counts.values())
    q = (1 - 0.95 ** (1 / len(counts))) / 2
    assert doc["column"] == "owner" and doc["comparison"]["method"] == "proportion"
    assert doc["comparison"]["center"] == pytest.approx(hits / total)
    for g in doc["groups"]:
        _, won, closed = counts[g["owner"]]
        support = np.arange(closed + 1)
        dist = stats.hypergeom(total, hits, closed)
        inside = support[(dist.cdf(support) > q) & (dist.sf(support - 1) > q)]
        assert g["lower"] == pytest.approx(inside[0] / closed)
        assert g["upper"] == pytest.approx(inside[-1] / closed)
        expected = "below" if won < inside[0] else "above" if won > inside[-1] else None
        assert g["signal"] == expected
    named = {d["owner"] for d in doc["comparison"]["differences"]}
    assert named == {g["owner"] for g in doc["groups"] if g["signal"]}
    assert "within the system" in doc["comparison"]["sentence"]


def test_cycle_time_by_segment_compares_medians(duck, data):
    con, settings = duck
    doc = metrics.breakdown(con, settings, "cycle_time", by="segment").to_dict()
    assert doc["comparison"]["method"] == "median"
    durations = oracle.group(
        oracle.closed(data),
        lambda o: o["segment"],
        lambda o: oracle.days(o["created_at"], o["closed_at"]),
    )
    pooled = np.concatenate([np.array(v) for v in durations.values()])
    assert doc["comparison"]["center"] == pytest.approx(np.median(pooled))
    for g in doc["groups"]:
        values = durations[g["segment"]]
        assert g["value"] == pytest.approx(np.median(values))
        assert g["lower"] <= np.median(pooled) <= g["upper"] or g["signal"]


def test_counts_are_shown_without_limits(duck):
    con, settings = duck
    doc = metrics.breakdown(con, settings, "new_opportunities", by="owner").to_dict()
    assert doc["comparison"]["method"] is None and doc["comparison"]["sentence"]
    assert all(g["lower"] is None and g["signal"] is None for g in doc["groups"])


def test_stages_are_not_held_to_one_value(duck):
    con, settings = duck
    doc = metrics.breakdown(con, settings, "stage_time", by="stage").to_dict()
    assert doc["column"] == "stage" and doc["comparison"]["method"] is None


def test_a_dimension_named_like_a_result_key_gets_a_suffix():
    assert group_column("owner") == "owner"
    assert group_column("value") == "value_group"
    assert group_column("mean", ("mean",)) == "mean_group"
    b = Breakdown("m", "signal", "%", "proportion", [Group(key="x", value=0.5, n=2)])
    doc = b.to_dict()
    assert doc["column"] == "signal_group" and doc["groups"][0]["signal_group"] == "x"
    assert "key" not in doc["groups"][0]


def test_a_weighted_share_is_not_given_exact_count_limits():
    from salesflow.metrics import compare, get

    groups = [Group(key=k, value=0.5, n=2, numerator=1.5, denominator=3.0) for k in "ab"]
    out, doc = compare.compare(get("win_rate"), "owner", groups)
    assert doc["method"] is None and "weighted" in doc["sentence"]
    assert all(g.lower is None for g in out)
