"""`salesflow flow`: the JSON contract, --top, --filter, clear errors, and the human view."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

T0 = datetime(2024, 5, 6, 9)
# Ann: two deals Lead → Qualified → Proposal → Won, one of them sent back from Proposal.
# Ben: one deal Lead → Lost.
EVENTS = [
    ("A1", "Lead", 0), ("A1", "Qualified", 10), ("A1", "Proposal", 30), ("A1", "Won", 50),
    ("A2", "Lead", 0), ("A2", "Qualified", 20), ("A2", "Proposal", 40),
    ("A2", "Qualified", 44), ("A2", "Proposal", 60), ("A2", "Won", 100),
    ("B1", "Lead", 0), ("B1", "Lost", 6),
]  # fmt: skip
OWNERS = {"A1": "Ann", "A2": "Ann", "B1": "Ben"}


@pytest.fixture
def ws_path(workspace) -> Path:
    con = workspace.data.con
    events = pd.DataFrame(
        [(o, s, T0 + timedelta(hours=h)) for o, s, h in EVENTS],
        columns=["opportunity_id", "stage", "entered_at"],
    )
    opps = pd.DataFrame({"opportunity_id": list(OWNERS), "owner": list(OWNERS.values())})
    opps["created_at"] = T0
    con.register("_e", events)
    con.register("_o", opps)
    con.execute("INSERT INTO stage_events BY NAME SELECT * FROM _e")
    con.execute("INSERT INTO opportunities BY NAME SELECT * FROM _o")
    workspace.close()
    return workspace.path


def test_json_has_the_documented_keys(cli, ws_path):
    doc = cli.json("flow", "-w", ws_path)
    assert {"stages", "edges", "variants", "cases"} <= set(doc)
    assert all({"stage", "entries", "median_hours"} <= set(s) for s in doc["stages"])
    assert all(
        {"from", "to", "count", "mean_hours", "median_hours"} <= set(e) for e in doc["edges"]
    )
    assert all({"stages", "count"} <= set(v) for v in doc["variants"])
    assert {"count", "median_hours", "mean_hours"} <= set(doc["cases"])
    edges = {(e["from"], e["to"]): e for e in doc["edges"]}
    assert edges[("Lead", "Qualified")]["count"] == 2
    assert edges[("Lead", "Qualified")]["mean_hours"] == 15
    assert edges[("Qualified", "Proposal")]["median_hours"] == 20  # 20, 20 and 16 hours
    assert edges[("Proposal", "Qualified")]["rework"] is True
    assert doc["cases"] == {"count": 3, "median_hours": 50, "mean_hours": 52, "with_rework": 1}
    lead = next(s for s in doc["stages"] if s["stage"] == "Lead")
    assert (lead["entries"], lead["exits"], lead["median_hours"]) == (3, 3, 10)


def test_filters_and_top(cli, ws_path):
    doc = cli.json("flow", "-w", ws_path, "--filter", "owner=Ann", "--top", "1")
    assert doc["cases"]["count"] == 2
    assert ("Lead", "Lost") not in {(e["from"], e["to"]) for e in doc["edges"]}
    assert len(doc["variants"]) == 1 and doc["variants"][0]["count"] == 1
    both = cli.json("flow", "-w", ws_path, "--filter", "owner=Ann", "--filter", "owner=Ben")
    assert both["cases"]["count"] == 3


@pytest.mark.parametrize(
    ("flag", "words"),
    [("colour=red", "no such column"), ("owner", "COLUMN=VALUE")],
)
def test_bad_filters_say_how_to_fix_them(cli, ws_path, flag, words):
    result = cli("flow", "-w", ws_path, "--filter", flag, "--json", ok=False)
    assert result.exit_code != 0
    assert words in result.stderr
    assert result.stdout == ""


def test_human_view_draws_the_stream_and_names_rework(cli, ws_path):
    text = cli("flow", "-w", ws_path).stdout
    assert "Value stream of 3 deals" in text
    assert "Lead 3 · 10.0 h" in text
    assert "Rework: 1 deal (33%)" in text
    assert "Proposal → Qualified: 1 times went back" in text


def test_readme_lists_the_flow_json_keys():
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    json_section = readme.split("<!-- section: json -->")[1].split("<!-- /section: json -->")[0]
    assert "salesflow flow --json" in json_section
    for key in ('"stages"', '"edges"', '"variants"', '"cases"', '"median_hours"', '"rework"'):
        assert key in json_section


def test_map_keys_count_wip_at_the_as_of_moment(cli, ws_path):
    """On 8 May A1 waits in Proposal and A2 in Qualified (their later events are not yet known);
    B1 is lost. No complete week lies in the data yet, so no throughput is claimed."""
    doc = cli.json("flow", "-w", ws_path, "--as-of", "2024-05-08")
    assert doc["as_of"] == "2024-05-08T00:00:00" and doc["window"]["weeks"] == 0
    keys = {"wip", "throughput_per_week", "time_median", "time_p85", "rework_share", "loss_share"}
    open_stages = [s for s in doc["stages"] if s["stage"] not in ("Won", "Lost")]
    assert all(keys <= set(s) for s in open_stages)
    assert {s["stage"]: s["wip"] for s in open_stages if s["wip"]} == {
        "Qualified": 1,
        "Proposal": 1,
    }
    assert all(s["throughput_per_week"] is None for s in open_stages)
    assert doc["flow_efficiency"] is None  # no activities: no work share
    assert "Value-stream map" in cli("flow", "-w", ws_path, "--as-of", "2024-05-08").stdout


def test_clock_business_counts_only_business_hours(cli, ws_path):
    """Monday 6 May 2024, 9:00 on, the default calendar (Monday to Friday, 9 to 5): A1's 10 hours
    in Lead are 8 business hours (to 17:00), A2's 20 hours too (to Tuesday 5:00), B1's 6 are 6."""
    doc = cli.json("flow", "-w", ws_path, "--clock", "business")
    assert (doc["clock"], doc["day_hours"]) == ("business", 8)
    lead = next(s for s in doc["stages"] if s["stage"] == "Lead")
    assert lead["median_hours"] == 8
    edges = {(e["from"], e["to"]): e for e in doc["edges"]}
    assert edges[("Lead", "Qualified")]["mean_hours"] == 8
    # A1 to Wednesday 11:00: 8 + 8 + 2; A2 to Friday 13:00: 4 × 8 + 4; B1: 6
    assert doc["cases"] == {"count": 3, "median_hours": 18, "mean_hours": 20, "with_rework": 1}
    text = " ".join(cli("flow", "-w", ws_path, "--clock", "business").stdout.split())
    assert "Times on the business clock" in text and "Lead 3 · 8.0 h" in text
    wrong = cli("flow", "-w", ws_path, "--clock", "wall", ok=False)
    assert wrong.exit_code != 0 and "--clock business" in wrong.stderr
