"""The demo company's documented effects (salesflow.demo.effects) are recovered from its data."""

from __future__ import annotations

import duckdb
import pytest
from sklearn.metrics import adjusted_rand_score

from salesflow.analysis import drivers, request_patterns
from salesflow.demo import effects
from salesflow.workspace import Workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory, demo_copy):
    # the `make demo` company, built once per session (tests/metrics/test_trend_demo.py reads it too)
    return demo_copy(tmp_path_factory.mktemp("demo") / "ws", opportunities=5000, seed=7)


def test_slow_response_lowers_win_rate_and_region_does_nothing(demo):
    names = ["first_response_over_48h", "region", "source", "segment", "discount_pct"]
    with Workspace.open(demo, read_only=True) as ws:
        result = drivers(ws, outcome="won", variables=names)
    slow = next(e for e in result.effects if e.variable == "first_response_over_48h")
    assert slow.direction == "decreases" and slow.significant
    assert slow.ci_low <= effects.SLOW_RESPONSE_WIN_PP * 100 <= slow.ci_high
    discount = next(e for e in result.effects if e.variable == "discount_pct")
    per_point = effects.BACKGROUND_EFFECTS["discount_pct"]["per_point"] * 100
    assert discount.ci_low <= per_point <= discount.ci_high
    for attribute in effects.NO_EFFECT_ATTRIBUTES:
        assert all(not e.significant for e in result.effects if e.variable == attribute)


def test_demo_request_themes_match_topics_and_the_growing_one_grows(demo):
    with Workspace.open(demo, read_only=True) as ws:
        result = request_patterns(ws.data)
    con = duckdb.connect(str(demo / "data.duckdb"), read_only=True)
    truth = dict(con.execute("SELECT request_id, topic FROM requests").fetchall())
    con.close()
    a = result.assignments
    ari = adjusted_rand_score([truth[x["request_id"]] for x in a], [x["theme"] for x in a])
    print(f"adjusted Rand index on the demo request log: {ari:.3f} (k = {result.k})")
    assert ari >= 0.8
    growing = {t.label for t in result.themes if t.trend["growing"]}
    fastest = max(result.themes, key=lambda t: t.trend["growth_per_month"])
    # Post-sale topics (delivery, invoices) follow won deals, so they ramp up in the log's first
    # months and may read as growing too; the documented growth is the fastest by far.
    assert effects.GROWING_CATEGORY in growing and fastest.label == effects.GROWING_CATEGORY
    assert growing <= {effects.GROWING_CATEGORY, "delivery status", "invoices and billing"}
