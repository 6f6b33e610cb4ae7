"""The demo's deal history: pushes cluster before month and quarter ends, two reps sandbag, and
every quarter's pipeline waterfall adds up."""

from __future__ import annotations

import pytest

CHANGES = """
    SELECT opportunity_id, changed_at, owner, stage, close_date,
           lag(close_date) OVER (PARTITION BY opportunity_id ORDER BY changed_at) AS before
    FROM opportunity_history
"""


def test_every_history_row_is_a_known_deal_and_every_event_is_in_it(sql):
    assert sql("SELECT count(*) FROM opportunity_history WHERE opportunity_id NOT IN "
               "(SELECT opportunity_id FROM opportunities)") == [(0,)]  # fmt: skip
    missing = sql(
        "SELECT count(*) FROM stage_events e WHERE NOT EXISTS (SELECT 1 FROM opportunity_history "
        "h WHERE h.opportunity_id = e.opportunity_id AND h.changed_at = e.entered_at)"
    )[0][0]
    assert missing <= sql("SELECT count(*) FROM stage_events")[0][0] * 0.01  # equal moments merge


def test_pushes_come_in_the_last_days_of_a_month(sql):
    late, total = sql(
        f"SELECT count(*) FILTER (WHERE day(changed_at) >= 17), count(*) FROM ({CHANGES}) "
        f"WHERE close_date > before AND stage NOT IN ('Won', 'Lost')"
    )[0]
    assert total > 200 and late / total > 0.9


def test_two_reps_sandbag_and_only_they_pull_deals_in(sql):
    owners = sql(
        f"SELECT owner, count(*) FROM ({CHANGES}) WHERE close_date < before "
        f"AND changed_at < CAST(close_date AS TIMESTAMP) GROUP BY owner ORDER BY 2 DESC"
    )
    assert len(owners) == 2 and all(n >= 5 for _, n in owners)


@pytest.mark.parametrize("quarter", ["2025-Q2", "2025-Q4", "2026-Q1", "2026-Q3"])
def test_each_quarters_waterfall_moves_and_adds_up(demo_path, quarter):
    import salesflow as sf

    with sf.open(demo_path) as ws:
        doc = ws.pipeline(quarter).to_dict()
    moved = [doc[k]["count"] for k in ("created", "pulled_in", "won", "lost", "amount_up")]
    assert doc["start"]["count"] > 20 and all(moved), doc
    total = (doc["start"]["amount_cents"] + doc["created"]["amount_cents"]
             + doc["pulled_in"]["amount_cents"] - doc["pushed_out"]["amount_cents"]
             - doc["won"]["amount_cents"] - doc["lost"]["amount_cents"]
             + doc["amount_up"]["amount_cents"] - doc["amount_down"]["amount_cents"])  # fmt: skip
    assert total == doc["end"]["amount_cents"]


def test_each_deal_carries_its_crm_close_date(sql):
    """Open: the expected close of its last history row; won or lost: the day it closed."""
    last = sql(
        "SELECT count(*), count(*) FILTER (WHERE o.close_date = h.close_date) FROM opportunities o "
        "JOIN (SELECT opportunity_id, arg_max(close_date, changed_at) AS close_date "
        "FROM opportunity_history GROUP BY 1) h USING (opportunity_id) WHERE o.outcome = 'open'"
    )[0]
    assert last[0] > 20 and last[0] == last[1]
    assert sql("SELECT count(*) FROM opportunities WHERE outcome <> 'open' "
               "AND close_date IS DISTINCT FROM CAST(closed_at AS DATE)") == [(0,)]  # fmt: skip


def test_slip_rate_commit_accuracy_and_coverage_chart_on_the_demo(demo_path):
    import salesflow as sf

    with sf.open(demo_path) as ws:
        assert ws.settings.section("targets")["quarter"] > 0
        values = {}
        for metric in ("close_date_slip_rate", "commit_accuracy", "pipeline_coverage"):
            points = ws.metric(metric, period="month", chart="none").to_dict()["points"]
            values[metric] = [p["value"] for p in points[3:] if p["status"] == "complete"]
    # pushes cluster before month ends: a fifth or more of a month's expected deals slip
    assert len(values["close_date_slip_rate"]) >= 18
    assert 0.1 < sorted(values["close_date_slip_rate"])[9] < 0.5
    commits = sorted(values["commit_accuracy"])
    assert 0.5 < commits[len(commits) // 2] < 1 and all(0 <= v <= 1 for v in commits)
    assert all(0.3 < v < 3 for v in values["pipeline_coverage"])
