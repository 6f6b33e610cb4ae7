"""Metrics follow the workspace's own stage names and order, never the example stages."""

from __future__ import annotations

import copy

import pytest
from metrics_data import load

from salesflow import metrics
from salesflow.settings import Settings, StageConfig

RENAME = {
    "Lead": "Prospect",
    "Qualified": "Qualify",
    "Discovery": "Discover",
    "Proposal": "Quote",
    "Negotiation": "Negotiate",
    "Won": "Closed Won",
    "Lost": "Closed Lost",
}
STAGES = StageConfig(
    order=("Prospect", "Qualify", "Discover", "Quote", "Negotiate"),
    won=("Closed Won",),
    lost=("Closed Lost",),
)


@pytest.fixture(scope="module")
def renamed(data, tmp_path_factory):
    from salesflow.source import connect

    other = copy.deepcopy(data)
    for row in (*other.stage_events, *other.opportunities):
        row["stage"] = RENAME[row["stage"]]
    folder = tmp_path_factory.mktemp("renamed")
    con = connect(f"duckdb:///{folder / 'data.duckdb'}")
    load(con, other)
    yield con, Settings(workspace=folder, stages=STAGES)
    con.disconnect()


def _values(result) -> list:
    items = result.points if hasattr(result, "points") else result.groups
    return [(getattr(i, "period", None) or i.key, i.value, i.n) for i in items]


@pytest.mark.parametrize(
    ("metric_id", "kwargs", "renamed_kwargs"),
    [
        ("rework_rate", {}, {}),
        ("late_stage_losses", {}, {}),
        ("stage_conversion", {}, {}),
        ("stage_conversion", {"params": {"from": "Proposal"}}, {"params": {"from": "Quote"}}),
        ("stage_time", {"filters": {"stage": "Proposal"}}, {"filters": {"stage": "Quote"}}),
    ],
)
def test_renamed_stages_give_the_same_answers(duck, renamed, metric_id, kwargs, renamed_kwargs):
    con, settings = duck
    con2, settings2 = renamed
    assert _values(metrics.series(con, settings, metric_id, **kwargs)) == _values(
        metrics.series(con2, settings2, metric_id, **renamed_kwargs)
    )


def test_breakdown_by_stage_uses_the_configured_order(duck, renamed):
    original = metrics.breakdown(*duck, "stage_time", by="stage")
    other = metrics.breakdown(*renamed, "stage_time", by="stage")
    assert [RENAME[g.key] for g in original.groups] == [g.key for g in other.groups]
    assert [g.value for g in original.groups] == [g.value for g in other.groups]
