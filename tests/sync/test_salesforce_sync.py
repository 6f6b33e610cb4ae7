"""``salesflow sync salesforce`` against a fake Salesforce on loopback (TLS), run by the real
simple-salesforce client: first load, incremental changes, deletions, a dropped connection, 429s."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from crm_servers import (
    TOKEN,
    FakeSalesforce,
    Fault,
    TLSServer,
    drop,
    limit_exceeded,
    next_page,
    rate_limited,
)

from salesflow.sync.log import read_log
from salesflow.workspace import Workspace, init_workspace

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote"]
N = 9  # deals: 3 pages of 4 for the Opportunity query
CANONICAL = ("opportunities", "stage_events", "opportunity_history", "activities")


def deal_id(i: int) -> str:
    return f"0065g00000Abc{i:05d}"


def owner(name: str) -> dict:
    return {"type": "User", "Name": name}


def change_deal(api: FakeSalesforce, i: int, step: int, at: datetime, *, won: bool = False) -> None:
    """Deal ``i`` moves to stage ``step`` (or Closed Won) at ``at``, with its history row."""
    stage = "Closed Won" if won else STAGES[step]
    amount = 1000.0 * i + 100 * step
    created = api.objects["Opportunity"].get(deal_id(i), {}).get("CreatedDate", stamp_of(at))
    api.put(
        "Opportunity",
        {
            "Id": deal_id(i),
            "Name": f"Deal {i}",
            "Account": {"type": "Account", "Name": f"Account {i % 3}"},
            "Owner": owner("Ann Lee" if i % 2 else "Bo Chen"),
            "StageName": stage,
            "Amount": amount,
            "CloseDate": (at + timedelta(days=30)).date().isoformat(),
            "CreatedDate": created,
            "LeadSource": "Web",
            "Type": "New Business",
        },
        at,
    )
    api.put(
        "OpportunityHistory",
        {
            "Id": f"008{i:05d}{at:%m%d%H%M}",  # a history row is never changed, only added
            "OpportunityId": deal_id(i),
            "CreatedDate": stamp_of(at),
            "StageName": stage,
            "Amount": amount,
            "CloseDate": (at + timedelta(days=30)).date().isoformat(),
            "ForecastCategory": "Closed" if won else ("Pipeline" if step < 2 else "BestCase"),
        },
        at,
    )


def stamp_of(at: datetime) -> str:
    from crm_servers import stamp

    return stamp(at)


def seed(api: FakeSalesforce) -> None:
    for i in range(1, N + 1):
        at = T0 + timedelta(hours=i)
        for step in range(1 + i % 3):
            change_deal(api, i, step, at + timedelta(days=step))
        api.put(
            "Task",
            {
                "Id": f"00T{i:05d}TASK",
                "WhatId": deal_id(i),
                "Owner": owner("Ann Lee"),
                "Type": "Call" if i % 2 else None,
                "TaskSubtype": "Call" if i % 2 else "Email",
                "ActivityDate": (at + timedelta(days=1)).date().isoformat(),
                "CreatedDate": stamp_of(at),
            },
            at,
        )
    # deal 1's amount changes at the same stage: a history row, not a stage event
    api.put(
        "OpportunityHistory",
        {
            **api.objects["OpportunityHistory"][f"008{1:05d}03021000"],
            "Id": "00800001AMOUNT",
            "CreatedDate": stamp_of(T0 + timedelta(hours=2)),
            "Amount": 1500.0,
        },
        T0 + timedelta(hours=2),
    )
    # an event on a deal, and a task about an account (not a deal): left out
    api.put(
        "Event",
        {
            "Id": "00U00001EVT",
            "WhatId": deal_id(1),
            "Owner": owner("Bo Chen"),
            "Type": None,
            "ActivityDateTime": stamp_of(T0 + timedelta(days=3)),
            "CreatedDate": stamp_of(T0),
        },
        T0 + timedelta(hours=1),
    )
    api.put(
        "Task",
        {
            "Id": "00T99999ACCT",
            "WhatId": "0015g00000Acct01",
            "Owner": owner("Ann Lee"),
            "Type": "Call",
            "ActivityDate": "2026-03-04",
            "CreatedDate": stamp_of(T0),
        },
        T0,
    )


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    fake = FakeSalesforce(page_size=4, now=T0 + timedelta(days=5))  # after every seeded change
    seed(fake)
    with TLSServer(fake, tmp_path) as server:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_file))
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", TOKEN)
        monkeypatch.delenv("SALESFORCE_REFRESH_TOKEN", raising=False)
        yield fake


def new_workspace(path: Path, api: FakeSalesforce, extra: str = "") -> Path:
    init_workspace(path).close()
    config = path / "salesflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + f'\n[sync.salesforce]\ninstance_url = "{api.url}"\napi_version = "60.0"\n'
        + "retries = 3\nbackoff_seconds = 0.01\n"
        + extra,
        encoding="utf-8",
    )
    return path


def sync(cli, ws: Path, *, ok: bool = True):
    result = cli("sync", "salesforce", "--once", "--json", "--workspace", ws, ok=ok)
    return json.loads(result.stdout)["tables"] if ok else result


def tables(ws: Path) -> dict[str, list[tuple]]:
    with Workspace.open(ws) as w:
        return {t: sorted(w.raw.sql(f"SELECT * FROM {t}").fetchall(), key=repr) for t in CANONICAL}


def diff(before: list[tuple], after: list[tuple], key: int) -> dict[str, int]:
    """Rows added, changed and removed between two states of a table, by its key (the first
    ``key`` columns): what a sync's counts must say, computed from the rows themselves."""
    old = {r[:key]: r for r in before}
    new = {r[:key]: r for r in after}
    return {
        "added": len(new.keys() - old.keys()),
        "updated": sum(1 for k in new.keys() & old.keys() if new[k] != old[k]),
        "deleted": len(old.keys() - new.keys()),
    }


def history_rows(api: FakeSalesforce) -> int:
    return len(api.live("OpportunityHistory"))


def test_first_sync_loads_every_deal_with_its_history(cli, api, tmp_path: Path) -> None:
    ws = new_workspace(tmp_path / "ws", api)
    rows = sync(cli, ws)
    assert rows["opportunities"] == {"added": N, "updated": 0, "deleted": 0, "unchanged": 0}
    steps = sum(1 + i % 3 for i in range(1, N + 1))
    assert rows["opportunity_history"]["added"] == history_rows(api) == steps + 1
    assert rows["stage_events"]["added"] == steps  # deal 1's amount change is no stage event
    assert rows["activities"]["added"] == N + 1  # the tasks and the event on deals
    got = tables(ws)
    stages = {r[0]: r[7] for r in got["opportunities"]}
    assert stages == {r["Id"]: r["StageName"] for r in api.live("Opportunity")}
    # each Opportunity query followed its nextRecordsUrl: 9 records, pages of 4
    opp = [s for s in api.queries() if s.object == "Opportunity"]
    assert len(opp) == 1 and opp[0].since is None and "/queryAll/" in opp[0].path
    assert sum(1 for s in api.requests if "/queryAll/01g" in s.path) >= 2
    # the event without a type is a meeting; the task without one takes its subtype
    types = {r[0]: r[4] for r in got["activities"]}
    assert types["00U00001EVT"] == "Meeting" and types["00T00002TASK"] == "Email"
    when = {r[0]: r[5] for r in got["activities"]}
    assert when["00U00001EVT"] == datetime(2026, 3, 5, 9, 0)  # its start, in UTC
    assert when["00T00001TASK"] == datetime(2026, 3, 3)  # its due date
    (entry,) = read_log(ws)
    assert entry["source"] == "salesforce" and entry["status"] == "synced"
    assert entry["rows"] == rows and entry["requests"] == len(api.requests)


def test_second_sync_fetches_only_changes_and_equals_a_full_sync(cli, api, tmp_path) -> None:
    ws = new_workspace(tmp_path / "ws", api)
    sync(cli, ws)
    mark = json.loads((ws / "sync-log.json").read_text())["crm"]["salesforce"]["mark"]
    assert mark == "2026-03-07T09:00:00Z"  # Salesforce's clock when the first sync began
    later = T0 + timedelta(days=10)
    change_deal(api, 2, 3, later)  # moves on a stage
    change_deal(api, 3, 2, later + timedelta(minutes=1), won=True)
    change_deal(api, 20, 0, later + timedelta(minutes=2))  # a new deal
    api.delete("Opportunity", deal_id(4), later + timedelta(minutes=3))
    api.delete("Task", "00T00005TASK", later + timedelta(minutes=4))
    api.put("Opportunity", {"Id": deal_id(5)}, later + timedelta(minutes=5))  # saved, unchanged
    api.now = later + timedelta(hours=1)
    api.requests.clear()
    before = tables(ws)
    with Workspace.open(ws) as w:
        deal4_events = w.raw.sql(
            f"SELECT count(*) FROM stage_events WHERE opportunity_id = '{deal_id(4)}'"
        ).fetchone()[0]

    rows = sync(cli, ws)

    # every object asked for the same window: after the mark, up to the server's clock now
    window = (mark, "2026-03-12T10:00:00Z")
    assert {s.object: (s.since, s.until) for s in api.queries()} == {
        "Opportunity": window,
        "OpportunityHistory": window,
        "Task": window,
        "Event": window,
    }
    got = tables(ws)
    # deal 5 was saved without a change: fetched again, but not "updated"
    assert rows["opportunities"] == {"added": 1, "updated": 2, "deleted": 1, "unchanged": 1}
    # the changed deals' whole history is read again: 3 new rows; deals 2, 3 and 5's old ones
    # (1 + i % 3 each) come back as they were: unchanged, not updated
    assert rows["opportunity_history"] == {
        "added": 3,
        "updated": 0,
        "deleted": 1 + 4 % 3,
        "unchanged": sum(1 + i % 3 for i in (2, 3, 5)),
    }
    keys = {"opportunities": 1, "opportunity_history": 2, "activities": 1}
    for table, key in keys.items():  # the counts agree with the rows themselves
        n = rows.get(table, {"added": 0, "updated": 0, "deleted": 0})
        assert {k: n[k] for k in ("added", "updated", "deleted")} == diff(
            before[table], got[table], key
        ), table
    assert rows["stage_events"]["deleted"] == deal4_events > 0
    assert rows["activities"]["deleted"] == 2  # deal 4's task went with it, and task 5
    deal2 = [r[1] for r in sorted(got["stage_events"], key=lambda r: r[2]) if r[0] == deal_id(2)]
    assert deal2 == STAGES
    for table in CANONICAL:
        assert not [r for r in got[table] if deal_id(4) in r], table
    assert len(got["opportunity_history"]) == history_rows(api)

    fresh = new_workspace(tmp_path / "fresh", api)
    sync(cli, fresh)
    assert tables(fresh) == got
    # nothing changed since: a third sync asks from the new mark and changes nothing
    zero = {"added": 0, "updated": 0, "deleted": 0, "unchanged": 0}
    assert all(n == zero for n in sync(cli, ws).values())


def test_a_dropped_connection_changes_nothing_and_the_next_sync_completes(
    cli, api, tmp_path
) -> None:
    ws = new_workspace(tmp_path / "ws", api)
    sync(cli, ws)
    change_deal(api, 2, 2, T0 + timedelta(days=10))
    change_deal(api, 21, 0, T0 + timedelta(days=10, minutes=1))
    for i in range(30, 36):  # enough new deals for a second page
        change_deal(api, i, 0, T0 + timedelta(days=11, minutes=i))
    api.now = T0 + timedelta(days=12)
    before = tables(ws)
    data = (ws / "data.duckdb").read_bytes()
    mark = json.loads((ws / "sync-log.json").read_text())["crm"]
    # the server drops the connection on page 2 of the deals, every time it is asked
    api.faults.append(Fault(next_page, drop(), times=None))

    result = sync(cli, ws, ok=False)

    assert result.exit_code != 0
    assert "could not be reached" in result.stderr and "3 tries" in result.stderr
    assert (ws / "data.duckdb").read_bytes() == data and tables(ws) == before
    assert json.loads((ws / "sync-log.json").read_text())["crm"] == mark
    assert read_log(ws)[-1]["status"] == "failed"

    api.faults.clear()
    rows = sync(cli, ws)
    assert rows["opportunities"] == {"added": 7, "updated": 1, "deleted": 0, "unchanged": 0}
    assert len(tables(ws)["opportunities"]) == len(api.live("Opportunity"))
    log = cli("sync", "log", "--workspace", ws).stdout
    assert "Failed Salesforce: Salesforce could not be reached" in log
    assert "Synced from Salesforce: opportunities 7 new, 1 updated, 0 removed" in log


def test_rate_limits_are_waited_out(cli, api, tmp_path) -> None:
    ws = new_workspace(tmp_path / "ws", api)
    queries = [lambda s, o=o: s.object == o for o in ("Opportunity", "Task")]
    api.faults += [
        Fault(queries[0], rate_limited(0.2), times=1),  # 429 Retry-After: 0.2
        Fault(next_page, limit_exceeded(), times=1),  # Salesforce's 403 REQUEST_LIMIT_EXCEEDED
        Fault(queries[1], rate_limited(0), times=2),
    ]
    rows = sync(cli, ws)
    assert all(f.used == f.times for f in api.faults)
    assert rows["opportunities"]["added"] == N
    # the request after the 429 came once its Retry-After had passed
    first = next(i for i, s in enumerate(api.requests) if s.object == "Opportunity")
    again = api.requests[first + 1]
    assert again.object == "Opportunity" and again.at - api.requests[first].at >= 0.2
    assert sum(1 for s in api.queries() if s.object == "Task") == 3  # two 429s, then the answer


def test_a_limit_asking_for_too_long_a_wait_stops_with_a_sentence(cli, api, tmp_path) -> None:
    ws = new_workspace(tmp_path / "ws", api)
    api.faults.append(Fault(lambda s: True, rate_limited(3600), times=None))
    result = sync(cli, ws, ok=False)
    assert result.exit_code != 0 and "wait 3,600 seconds" in result.stderr
    assert read_log(ws)[-1]["status"] == "failed"
    assert json.loads((ws / "sync-log.json").read_text())["crm"] == {}


def test_a_secret_in_salesflow_toml_is_refused(cli, api, tmp_path) -> None:
    ws = new_workspace(tmp_path / "ws", api, 'access_token = "00Dabc"\n')
    result = sync(cli, ws, ok=False)
    assert result.exit_code != 0 and "must not be written in salesflow.toml" in result.stderr
    assert api.requests == []


def test_the_refresh_token_flow_gets_an_access_token(cli, api, tmp_path, monkeypatch) -> None:
    from crm_servers import REFRESH_TOKEN

    token = tmp_path / "refresh-token"
    token.write_text(REFRESH_TOKEN + "\n")
    ws = new_workspace(
        tmp_path / "ws",
        api,
        f'client_id = "3MVGfake"\nlogin_url = "{api.url}"\nrefresh_token_file = "{token}"\n',
    )
    monkeypatch.delenv("SALESFORCE_ACCESS_TOKEN")
    token.chmod(0o644)
    result = sync(cli, ws, ok=False)
    assert result.exit_code != 0 and "chmod 600" in result.stderr
    token.chmod(0o600)
    assert sync(cli, ws)["opportunities"]["added"] == N
    assert api.requests[0].path == "/services/oauth2/token"


def test_settings_are_checked_before_any_request(tmp_path) -> None:
    from salesflow.errors import ConfigError
    from salesflow.settings import load_settings
    from salesflow.sync.salesforce import salesforce_settings

    ws = init_workspace(tmp_path / "ws").path
    config = ws / "salesflow.toml"
    base = config.read_text(encoding="utf-8")
    env = {"SALESFORCE_ACCESS_TOKEN": "00Dx"}
    with pytest.raises(ConfigError, match=r"\[sync.salesforce\] is missing"):
        salesforce_settings(load_settings(ws), env)
    config.write_text(base + "[sync.salesforce]\nretries = 2\n")
    with pytest.raises(ConfigError, match=r"\[sync.salesforce\] has no instance_url"):
        salesforce_settings(load_settings(ws), env)
    config.write_text(base + '[sync.salesforce]\ninstance_url = "http://example.com"\n')
    with pytest.raises(ConfigError, match="starting with https://"):
        salesforce_settings(load_settings(ws), env)
    config.write_text(base + '[sync.salesforce]\ninstance_url = "https://x.my.salesforce.com"\n')
    with pytest.raises(ConfigError, match="SALESFORCE_ACCESS_TOKEN is not set"):
        salesforce_settings(load_settings(ws), {})
    with pytest.raises(ConfigError, match="no client_id"):
        salesforce_settings(load_settings(ws), {"SALESFORCE_REFRESH_TOKEN": "5Aep"})
    got = salesforce_settings(load_settings(ws), env)
    assert got.access_token == "00Dx" and "00Dx" not in repr(got)


def test_cli_says_which_setting_is_missing(cli, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("SALESFORCE_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("SALESFORCE_REFRESH_TOKEN", raising=False)
    ws = init_workspace(tmp_path / "ws").path
    result = sync(cli, ws, ok=False)
    assert result.exit_code != 0
    assert "[sync.salesforce] is missing in salesflow.toml" in result.stderr
    assert 'instance_url = "https://yourcompany.my.salesforce.com"' in result.stderr
    config = ws / "salesflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + '[sync.salesforce]\ninstance_url = "https://x.my.salesforce.com"\n',
        encoding="utf-8",
    )
    result = sync(cli, ws, ok=False)
    assert result.exit_code != 0
    assert "SALESFORCE_ACCESS_TOKEN is not set" in result.stderr
    assert read_log(ws)[-1]["status"] == "failed"


def test_an_expired_token_says_so_and_how_to_renew_it(cli, api, tmp_path, monkeypatch) -> None:
    ws = new_workspace(tmp_path / "ws", api)
    monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", "00Dexpired")
    result = sync(cli, ws, ok=False)
    assert result.exit_code != 0
    said = " ".join(result.stderr.split())
    assert "did not accept the access token: it has expired" in said
    assert "SALESFORCE_ACCESS_TOKEN" in said and "sf org display" in said
    assert "SALESFORCE_REFRESH_TOKEN" in said and "nothing was changed" in said
    # the token runs out mid-sync: the fake answers 401 to the Task query
    monkeypatch.setenv("SALESFORCE_ACCESS_TOKEN", TOKEN)
    expired = (
        401,
        {},
        [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
    )
    api.faults.append(Fault(lambda seen: seen.object == "Task", expired, times=None))
    data = (ws / "data.duckdb").read_bytes()
    result = sync(cli, ws, ok=False)
    said = " ".join(result.stderr.split())
    assert "did not accept the access token while salesflow read Task records" in said
    assert (ws / "data.duckdb").read_bytes() == data


def test_an_activity_on_a_deal_the_user_cannot_see_does_not_stop_the_sync(
    cli, api, tmp_path
) -> None:
    """A task on a deal hidden from the integration user (sharing rules) lands with that deal's
    id, like an activity on a deal not yet imported: the other records are not held back."""
    hidden = "0065g00000Hidden01"
    api.put(
        "Task",
        {
            "Id": "00T77777HIDE",
            "WhatId": hidden,
            "Owner": owner("Ann Lee"),
            "Type": "Call",
            "ActivityDate": "2026-03-04",
            "CreatedDate": stamp_of(T0),
        },
        T0,
    )
    ws = new_workspace(tmp_path / "ws", api)
    result = cli("sync", "salesforce", "--once", "--json", "--workspace", ws)
    doc = json.loads(result.stdout)
    assert doc["tables"]["opportunities"]["added"] == N
    got = tables(ws)
    assert [r[1] for r in got["activities"] if r[0] == "00T77777HIDE"] == [hidden]
    assert hidden not in {r[0] for r in got["opportunities"]}
    # ... and the sync says so, in the JSON, the log and the words a person reads
    assert len(doc["warnings"]) == 1
    said = doc["warnings"][0]
    assert said.startswith("1 activity belongs to a deal this sync cannot see")
    assert "not counted in deal metrics" in said and "sharing rules" in said
    assert read_log(ws)[-1]["warnings"] == doc["warnings"]
    assert "sharing rules" in " ".join(cli("sync", "log", "--workspace", ws).stdout.split())
    # a later sync that brings no such activity warns of nothing
    again = cli("sync", "salesforce", "--once", "--json", "-w", ws).stdout
    assert json.loads(again)["warnings"] == []
