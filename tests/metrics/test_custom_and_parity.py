"""Custom metrics from salesflow.toml (on DuckDB and PostgreSQL: the ``backend`` fixture).

Every metric of the catalog giving DuckDB's results on PostgreSQL is tests/parity's job."""

from __future__ import annotations

import statistics
from dataclasses import replace

import metrics_oracle as oracle
import pytest

from salesflow import metrics
from salesflow.errors import ConfigError

BIG_DEALS = {
    "title": "Win rate on deals over 50k",
    "table": "opportunities",
    "time": "closed_at",
    "filter": {"outcome": ["won", "lost"], "amount": {">=": 50000}},
    "measure": "ratio",
    "numerator": {"outcome": "won"},
    "unit": "%",
}
MEDIAN_RESPONSE = {
    "table": "requests",
    "filter": {"channel": "email"},
    "measure": "median",
    "column": "request_id",
}


def with_metrics(settings, **specs):
    return replace(settings, raw={"metrics": specs})


def test_custom_ratio_equals_a_hand_count(backend, data):
    con, settings = backend
    settings = with_metrics(settings, big_deal_win_rate=BIG_DEALS)
    big = [o for o in oracle.closed(data) if o["amount"] >= 50000]
    expected = oracle.share_by(
        big, lambda o: oracle.month(o["closed_at"]), lambda o: o["outcome"] == "won"
    )
    got = metrics.series(con, settings, "big_deal_win_rate")
    assert {p.period: (p.numerator, p.denominator) for p in got.points if p.n} == {
        k: (num, den) for k, (_, num, den) in expected.items()
    }
    assert metrics.get("big_deal_win_rate", settings).title == "Win rate on deals over 50k"
    assert "big_deal_win_rate" in [m.id for m in metrics.catalog(settings)]


def test_custom_sum_and_median_with_comparisons(duck, data):
    con, settings = duck
    settings = with_metrics(
        settings,
        smb_pipeline={"table": "opportunities", "filter": {"segment": "SMB", "amount": {"<": 50000}}, "measure": "sum", "column": "amount"},
        median_deal={"table": "opportunities", "measure": "median", "column": "amount", "filter": {"owner": {"!=": "Ann"}}},
    )  # fmt: skip
    got = metrics.breakdown(con, settings, "smb_pipeline", by="owner")
    want: dict = {}
    for o in data.opportunities:
        if o["segment"] == "SMB" and o["amount"] < 50000:
            want[o["owner"]] = want.get(o["owner"], 0) + o["amount"]
    assert {g.key: g.value for g in got.groups} == want
    median = metrics.breakdown(con, settings, "median_deal", by="team")
    west = [o["amount"] for o in data.opportunities if o["team"] == "West" and o["owner"] != "Ann"]
    assert median.get("West").value == statistics.median(west)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({**BIG_DEALS, "measure": "average"}, r"measure = 'average' is unknown.*count, sum, mean"),
        ({**BIG_DEALS, "table": "deals"}, r"table = 'deals' is not a canonical table"),
        ({**BIG_DEALS, "numerator": None}, r"needs numerator"),
        ({**BIG_DEALS, "sql": "select 1"}, r"Unknown setting 'sql'"),
        ({"table": "opportunities", "measure": "sum"}, r"needs column = NAME"),
        ({**BIG_DEALS, "filter": {"amount": {"~": 3}}}, r"Unknown comparison '~'.*filter.amount"),
        (
            {**BIG_DEALS, "filter": {"colour": "red"}},
            r"Column 'colour' is not in the table.*filter.colour",
        ),
    ],
)
def test_custom_metric_errors_name_the_setting(duck, spec, message):
    con, settings = duck
    settings = with_metrics(settings, big=spec)
    with pytest.raises(ConfigError, match=message) as info:
        metrics.series(con, settings, "big")
    assert "salesflow.toml, setting metrics.big" in str(info.value)


def test_custom_metric_cannot_shadow_a_builtin(duck):
    _, settings = duck
    with pytest.raises(ConfigError, match="name of a built-in metric"):
        metrics.catalog(with_metrics(settings, win_rate=BIG_DEALS))
