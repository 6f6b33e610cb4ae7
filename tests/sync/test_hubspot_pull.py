"""The HubSpot connector against a HubSpot on loopback: what one pull brings, page by page,
incrementally, with deleted deals, a 429 waited out and a dropped connection failing whole."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from hubspot_server import STAGES, TOKEN, HubSpotServer

from salesflow.errors import ConfigError, SalesflowError
from salesflow.sync.hubspot import HubSpotSettings, hubspot_settings, pull_hubspot

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
N = 130  # more than one search page (100) and three history batches (50)
STAGE_IDS = [s[0] for s in STAGES[:5]]
LABELS = {s[0]: s[1] for s in STAGES}


def seed(crm, n: int = N) -> dict[str, list[str]]:
    """``n`` deals; deal i walks through 1 + i % 4 stages, an hour apart; every third deal has a
    call. Returns the stage ids each deal entered, oldest first (the independent truth)."""
    entered = {}
    for i in range(1, n + 1):
        deal_id = str(1000 + i)
        at = T0 + timedelta(minutes=i)
        crm.add_deal(
            deal_id,
            at,
            dealname=f"Deal {i}",
            dealstage=STAGE_IDS[0],
            amount=str(100 * i),
            hubspot_owner_id="101" if i % 2 else "102",
            closedate="2026-06-30T00:00:00.000Z",
        )
        stages = [STAGE_IDS[0]]
        for step in range(1, 1 + i % 4):
            crm.change_deal(deal_id, at + timedelta(hours=step), dealstage=STAGE_IDS[step])
            stages.append(STAGE_IDS[step])
        entered[deal_id] = stages
        if i % 3 == 0:
            crm.add_activity("calls", str(5000 + i), at + timedelta(days=1), deal_id, "102")
    return entered


@pytest.fixture
def hs():
    with HubSpotServer() as server:
        yield server


def config(hs) -> HubSpotSettings:
    return HubSpotSettings(base_url=hs.base_url, token=TOKEN)


def test_first_pull_brings_every_deal_with_its_history(hs) -> None:
    entered = seed(hs.crm)
    pull = pull_hubspot(config(hs), None)

    deals = pull.tables["opportunities"].records
    assert sorted(d["Record ID"] for d in deals) == sorted(entered)
    first = next(d for d in deals if d["Record ID"] == "1003")
    assert first["Deal Stage"] == LABELS[entered["1003"][-1]] == "Decision Maker Bought-In"
    assert first["Deal owner"] == "Ada Lovelace"
    assert first["Amount"] == "300"
    assert first["Deal Name"] == "Deal 3"
    assert first["Pipeline"] == "Sales Pipeline"

    events = pull.tables["stage_events"].records
    assert len(events) == sum(len(s) for s in entered.values())
    got = {}
    for e in sorted(events, key=lambda e: e["Timestamp"]):
        got.setdefault(e["Record ID"], []).append(e["Deal Stage"])
    assert got == {d: [LABELS[s] for s in stages] for d, stages in entered.items()}

    history = pull.tables["opportunity_history"].records
    # one row per moment something changed: creation, then each stage change
    assert len(history) == len(events)
    last = max((h for h in history if h["Record ID"] == "1003"), key=lambda h: h["Timestamp"])
    assert (last["Deal Stage"], last["Amount"], last["Deal owner"]) == (
        "Decision Maker Bought-In",
        "300",
        "Ada Lovelace",
    )

    calls = pull.tables["activities"].records
    assert len(calls) == N // 3
    assert {(c["Activity ID"], c["Associated Deal ID"]) for c in calls} == {
        (str(5000 + i), str(1000 + i)) for i in range(3, N + 1, 3)
    }
    assert {c["Activity type"] for c in calls} == {"call"}
    assert pull.tables["opportunities"].deleted == set()

    searches = [r for r in hs.crm.requests if r["path"] == "/crm/v3/objects/deals/search"]
    # the newest change first (one result), then every change page by page
    assert [(r["body"]["limit"], r["body"].get("after")) for r in searches] == [
        (1, None),
        (100, None),
        (100, "100"),
    ]
    assert len(hs.crm.searched_ids()) == N
    # the newest change of all: the call on deal 129, a day after the deal was created
    newest = max(T0 + timedelta(days=1, minutes=i) for i in range(3, N + 1, 3))
    assert newest == datetime(2026, 3, 3, 11, 9, tzinfo=UTC)
    assert pull.high_water_mark == "2026-03-03T11:09:00.000Z"
    assert pull.requests == len(hs.crm.requests)


def test_second_pull_fetches_only_what_changed(hs) -> None:
    seed(hs.crm, 20)
    first = pull_hubspot(config(hs), None)
    later = T0 + timedelta(days=10)
    hs.crm.change_deal("1005", later, dealstage="closedwon", amount="999")
    hs.crm.add_deal("2001", later + timedelta(minutes=1), dealstage=STAGE_IDS[0], amount="5")
    hs.crm.requests.clear()

    pull = pull_hubspot(config(hs), first.high_water_mark)

    assert sorted(hs.crm.searched_ids()) == ["1005", "2001"]
    deals = {d["Record ID"]: d for d in pull.tables["opportunities"].records}
    assert set(deals) == {"1005", "2001"}
    assert deals["1005"]["Deal Stage"] == "Closed Won"
    events = [e for e in pull.tables["stage_events"].records if e["Record ID"] == "1005"]
    assert [e["Deal Stage"] for e in events] == [
        "Appointment Scheduled",
        "Qualified To Buy",
        "Closed Won",
    ]
    assert pull.tables["activities"].records == []
    assert pull.high_water_mark == "2026-03-12T09:01:00.000Z"

    hs.crm.requests.clear()
    again = pull_hubspot(config(hs), pull.high_water_mark)
    assert hs.crm.searched_ids() == []
    assert again.high_water_mark == pull.high_water_mark
    assert all(not t.records and not t.deleted for t in again.tables.values())


def test_deleted_deals_and_calls_are_reported(hs) -> None:
    seed(hs.crm, 12)
    first = pull_hubspot(config(hs), None)
    hs.crm.archive("deals", "1004", T0 + timedelta(days=3))
    hs.crm.archive("calls", "5006", T0 + timedelta(days=3))

    pull = pull_hubspot(config(hs), first.high_water_mark)

    assert pull.tables["opportunities"].deleted == {"1004"}
    assert pull.tables["activities"].deleted == {"5006"}
    assert "1004" not in {d["Record ID"] for d in pull.tables["opportunities"].records}


def test_a_rate_limit_is_waited_out(hs) -> None:
    seed(hs.crm, 3)
    hs.crm.rate_limit(2, retry_after="1")
    started = time.monotonic()
    pull = pull_hubspot(config(hs), None)
    assert time.monotonic() - started >= 2.0  # two answers of "Retry-After: 1"
    assert len(pull.tables["opportunities"].records) == 3
    assert pull.requests == len(hs.crm.requests)


def test_a_dropped_connection_fails_the_whole_pull(hs) -> None:
    seed(hs.crm, 3)
    hs.crm.drop_after(3)
    with pytest.raises(SalesflowError, match="HubSpot could not be reached") as err:
        pull_hubspot(HubSpotSettings(hs.base_url, TOKEN, retries=3, backoff_seconds=0.01), None)
    assert "nothing was changed" in str(err.value)
    hs.crm.heal()
    assert len(pull_hubspot(config(hs), None).tables["opportunities"].records) == 3


def test_a_wrong_token_is_a_sentence(hs) -> None:
    with pytest.raises(ConfigError, match="refused the access token") as err:
        pull_hubspot(HubSpotSettings(base_url=hs.base_url, token="nope"), None)
    said = str(err.value)
    assert "wrong, or it was rotated" in said and "Show token" in said
    assert "HUBSPOT_ACCESS_TOKEN" in said and "nothing was changed" in said


def test_settings_take_the_token_from_the_environment(workspace) -> None:
    config_file = workspace.path / "salesflow.toml"
    text = config_file.read_text(encoding="utf-8")
    config_file.write_text(text + '\n[sync.hubspot]\nbase_url = "http://127.0.0.1:9"\n')
    from salesflow.settings import load_settings

    settings = load_settings(workspace.path)
    got = hubspot_settings(settings, {"HUBSPOT_ACCESS_TOKEN": "pat-1"})
    assert (got.base_url, got.token) == ("http://127.0.0.1:9", "pat-1")
    with pytest.raises(ConfigError, match="HUBSPOT_ACCESS_TOKEN is not set"):
        hubspot_settings(settings, {})

    config_file.write_text(text + '\n[sync.hubspot]\nbase_url = "http://hubspot.example.com"\n')
    with pytest.raises(ConfigError, match="https://"):
        hubspot_settings(load_settings(workspace.path), {"HUBSPOT_ACCESS_TOKEN": "pat-1"})

    token = workspace.path / "hubspot-token"
    token.write_text("pat-from-file\n", encoding="utf-8")
    token.chmod(0o644)
    config_file.write_text(text + '\n[sync.hubspot]\naccess_token_file = "hubspot-token"\n')
    with pytest.raises(ConfigError, match="others can read it"):
        hubspot_settings(load_settings(workspace.path), {})
    token.chmod(0o600)
    got = hubspot_settings(load_settings(workspace.path), {})
    assert (got.base_url, got.token) == ("https://api.hubapi.com", "pat-from-file")
    assert "pat-from-file" not in repr(got)

    config_file.write_text(text + '\n[sync.hubspot]\naccess_token = "pat-na1-secret"\n')
    with pytest.raises(ConfigError, match="in clear") as err:
        hubspot_settings(load_settings(workspace.path), {"HUBSPOT_ACCESS_TOKEN": "pat-1"})
    assert "pat-na1-secret" not in str(err.value)


def test_past_the_search_limit_the_search_starts_again_from_the_last_change(
    hs, monkeypatch
) -> None:
    import salesflow.sync.hubspot as connector

    monkeypatch.setattr(connector, "SEARCH_LIMIT", 100)  # HubSpot's is 10,000
    entered = seed(hs.crm, N)
    pull = pull_hubspot(config(hs), None)
    assert sorted(d["Record ID"] for d in pull.tables["opportunities"].records) == sorted(entered)
    searches = [
        r["body"]
        for r in hs.crm.requests
        if r["path"] == "/crm/v3/objects/deals/search" and r["body"]["limit"] == 100
    ]
    # the first search stopped at 100 results, the second started after the 100th change
    assert len(searches) == 2 and searches[1].get("after") is None
    since = [f for f in searches[1]["filterGroups"][0]["filters"] if f["operator"] == "GT"]
    hundredth = sorted(T0 + timedelta(minutes=i, hours=i % 4) for i in range(1, N + 1))[99]
    assert int(since[0]["value"]) == int(hundredth.timestamp() * 1000) - 1
