"""``ws.wins()`` and ``ws.engagement()``: the CLI's documents as tables and charts."""

from __future__ import annotations

import pytest

from salesflow.api import EngagementResult, WinsResult
from salesflow.errors import ConfigError


def test_wins_as_a_table_and_a_chart(ws, cli, api_demo):
    result = ws.wins()
    assert isinstance(result, WinsResult) and result.summary() == "1 win"
    assert result.to_dict() == cli.json("improve", "wins", "-w", api_demo)
    frame = result.to_pandas().set_index("title")
    row = frame.loc["Proposal fast-track"]
    assert row["after"] < row["before"] and row["change"] == pytest.approx(
        row["after"] / row["before"] - 1
    )
    bars = result.chart().data[0]
    assert list(bars.y) == pytest.approx([row["change"] * 100])


def test_engagement_rows_and_charts(ws):
    result = ws.engagement()
    assert isinstance(result, EngagementResult)
    doc = result.to_dict()
    rows = result.to_pandas().set_index("month")
    started = {p["period"]: p["value"] for p in doc["improvements_started"]["points"]}
    assert rows["improvements_started"].to_dict() == started
    assert result.summary() == doc["checkins_on_time"]["sentence"]
    names = [t.name for t in result.chart("improvements_started").data]
    assert names[0] == "value"
    waits = result.chart("udr_to_first_improvement").data[0]
    assert len(waits.x) == len(doc["udr_to_first_improvement"]["udrs"])
    with pytest.raises(ConfigError, match="Unknown engagement measure"):
        result.chart("happiness")
