"""`salesflow sync hubspot` end to end against a HubSpot on loopback: the first sync loads every
deal with its history, the next one only what changed and ends where a fresh full sync ends, a
deleted deal goes with its history, a dropped connection changes nothing, a 429 is waited out."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from hubspot_server import TOKEN, HubSpotServer
from test_hubspot_pull import STAGE_IDS, T0, seed

from salesflow.errors import SalesflowError
from salesflow.sync.apply import high_water_mark
from salesflow.sync.hubspot import sync_hubspot
from salesflow.sync.log import read_log
from salesflow.workspace import Workspace, init_workspace

ENV = {"HUBSPOT_ACCESS_TOKEN": TOKEN}
TABLES = ("opportunities", "stage_events", "opportunity_history", "activities")
N = 24


@pytest.fixture
def hs():
    with HubSpotServer() as server:
        yield server


def connect(path: Path, base_url: str) -> Path:
    """A new workspace at ``path`` whose [sync.hubspot] points at the local server."""
    init_workspace(path).close()
    config = path / "salesflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + f'\n[sync.hubspot]\nbase_url = "{base_url}"\nretries = 3\nbackoff_seconds = 0.01\n',
        encoding="utf-8",
    )
    return path


def sync(path: Path) -> dict[str, dict[str, int]]:
    ws = Workspace.open(path)
    try:
        return sync_hubspot(ws, env=ENV).tables
    finally:
        ws.close()


def contents(path: Path) -> dict[str, list[tuple]]:
    ws = Workspace.open(path)
    try:
        return {t: ws.raw.sql(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES}
    finally:
        ws.close()


def current(path: Path, deal: str) -> tuple:
    ws = Workspace.open(path)
    try:
        return ws.raw.sql(
            f"SELECT stage, owner, amount FROM opportunities WHERE opportunity_id = '{deal}'"
        ).fetchone()
    finally:
        ws.close()


def mark(path: Path) -> str | None:
    ws = Workspace.open(path)
    try:
        return high_water_mark(ws, "hubspot")
    finally:
        ws.close()


def test_first_sync_then_only_what_changed_equals_a_fresh_sync(hs, tmp_path) -> None:
    entered = seed(hs.crm, N)
    ws = connect(tmp_path / "ws", hs.base_url)

    rows = sync(ws)

    first = contents(ws)
    assert len(first["opportunities"]) == N
    assert rows["opportunities"] == {"added": N, "updated": 0, "deleted": 0, "unchanged": 0}
    events = sum(len(s) for s in entered.values())
    assert len(first["stage_events"]) == rows["stage_events"]["added"] == events
    assert len(first["opportunity_history"]) == events
    assert len(first["activities"]) == N // 3
    # deal 1007 entered 1 + 7 % 4 = 4 stages: its current one is the fourth
    assert current(ws, "1007") == ("Decision Maker Bought-In", "Ada Lovelace", 700.0)
    assert [e["status"] for e in read_log(ws) if e.get("source") == "hubspot"] == ["synced"]

    later = T0 + timedelta(days=20)
    hs.crm.change_deal("1002", later, dealstage="closedwon", amount="2500")
    hs.crm.change_deal("1011", later + timedelta(minutes=5), hubspot_owner_id="101")
    hs.crm.add_deal("3001", later + timedelta(minutes=9), dealstage=STAGE_IDS[0], amount="40")
    hs.crm.add_activity("meetings", "7001", later + timedelta(minutes=10), "3001", "101")
    gone = "1006"  # 1 + 6 % 4 = 3 stages, and a call
    assert sum(r[0] == gone for r in first["stage_events"]) == 3
    hs.crm.archive("deals", gone, later + timedelta(minutes=11))
    hs.crm.requests.clear()

    rows = sync(ws)

    assert sorted(hs.crm.searched_ids()) == ["1002", "1011", "3001"]
    assert rows["opportunities"] == {"added": 1, "updated": 2, "deleted": 1, "unchanged": 0}
    assert rows["stage_events"]["deleted"] == 3
    # deals 1002 and 1011 come back with their whole history (1 + i % 4 stages each): as it was,
    # so unchanged, not updated
    old_events = (1 + 1002 % 4) + (1 + 1011 % 4)
    assert rows["stage_events"] == {"added": 2, "updated": 0, "deleted": 3, "unchanged": old_events}
    assert (rows["opportunity_history"]["updated"], rows["opportunity_history"]["unchanged"]) == (
        0,
        old_events,
    )
    assert rows["activities"] == {"added": 1, "updated": 0, "deleted": 1, "unchanged": 0}
    assert current(ws, "1002") == ("Closed Won", "Grace Hopper", 2500.0)
    second = contents(ws)
    for table in TABLES:
        column = 1 if table == "activities" else 0
        assert gone not in {r[column] for r in second[table]}, table
    assert mark(ws) == "2026-03-22T09:11:00.000Z"  # the deletion, the newest change
    fresh = connect(tmp_path / "fresh", hs.base_url)
    sync(fresh)
    assert second == contents(fresh)

    hs.crm.requests.clear()
    rows = sync(ws)
    assert hs.crm.searched_ids() == []
    assert all(not any(n.values()) for n in rows.values())


def test_a_429_is_waited_out_and_a_dropped_connection_changes_nothing(hs, tmp_path) -> None:
    seed(hs.crm, 6)
    ws = connect(tmp_path / "ws", hs.base_url)
    hs.crm.rate_limit(1, retry_after="1")
    rows = sync(ws)
    assert rows["opportunities"]["added"] == 6
    # the first search answered 429, tried again after the second it asked for
    searches = [r for r in hs.crm.requests if r["path"] == "/crm/v3/objects/deals/search"]
    assert len(searches) == 3 and searches[0]["body"] == searches[1]["body"]

    before, before_mark = contents(ws), mark(ws)
    later = T0 + timedelta(days=20)
    for i in range(1, 6):
        hs.crm.change_deal(str(1000 + i), later + timedelta(minutes=i), amount=str(9000 + i))
    hs.crm.drop_after(4)  # the server goes away mid-sync

    with pytest.raises(SalesflowError, match="HubSpot could not be reached"):
        sync(ws)

    assert contents(ws) == before
    assert mark(ws) == before_mark
    assert read_log(ws)[-1]["status"] == "failed"
    hs.crm.heal()
    rows = sync(ws)
    assert rows["opportunities"] == {"added": 0, "updated": 5, "deleted": 0, "unchanged": 0}
    assert [current(ws, str(1000 + i))[2] for i in range(1, 7)] == [
        9001.0,
        9002.0,
        9003.0,
        9004.0,
        9005.0,
        600.0,
    ]


def test_cli_sync_hubspot_once_json(hs, tmp_path, cli, monkeypatch) -> None:
    seed(hs.crm, 5)
    ws = connect(tmp_path / "ws", hs.base_url)
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", TOKEN)
    doc = json.loads(cli("sync", "hubspot", "--once", "--json", "-w", ws).stdout)
    assert doc["source"] == "hubspot"
    assert doc["tables"]["opportunities"] == {
        "added": 5,
        "updated": 0,
        "deleted": 0,
        "unchanged": 0,
    }

    hs.crm.drop_after(0)
    before = contents(ws)
    hs.crm.change_deal("1001", T0 + timedelta(days=9), amount="1")
    result = cli("sync", "hubspot", "--once", "--json", "-w", ws, ok=False)
    assert result.exit_code != 0
    assert "HubSpot" in result.stderr
    assert contents(ws) == before
