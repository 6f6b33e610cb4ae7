"""Applying a CRM pull: through the preset, every table or none, deletions with their history."""

from __future__ import annotations

import pytest

from salesflow.errors import SalesflowError
from salesflow.sync.apply import apply_pull, high_water_mark
from salesflow.sync.crm import Pull, TableChanges
from salesflow.sync.log import read_log
from salesflow.workspace import Workspace


def deal(i: int, stage: str = "Prospecting", amount: float = 1000.0) -> dict:
    return {
        "Id": f"006{i:015d}",
        "Account Name": "Acme",
        "Opportunity Owner": "Ann Lee",
        "StageName": stage,
        "Amount": amount * i,
        "CreatedDate": "2026-01-05T10:00:00.000+0000",
        "CloseDate": "2026-03-01",
        "LeadSource": "Web",
        "Type": "New Business",
    }


def history(i: int, day: int, stage: str) -> dict:
    return {
        "OpportunityId": f"006{i:015d}",
        "CreatedDate": f"2026-01-{day:02d}T10:00:00.000+0000",
        "StageName": stage,
        "Amount": 1000.0 * i,
        "CloseDate": "2026-03-01",
        "ForecastCategory": "Pipeline",
    }


def pull(deals=(), hist=(), *, deleted=(), mark="2026-01-10T00:00:00Z") -> Pull:
    return Pull(
        "salesforce",
        {
            "opportunities": TableChanges(list(deals), set(deleted)),
            "opportunity_history": TableChanges(list(hist)),
        },
        mark,
        requests=2,
    )


def count(ws: Workspace, sql: str) -> int:
    with Workspace.open(ws.path) as fresh:
        return fresh.raw.sql(sql).fetchone()[0]


def test_a_pull_lands_and_a_deleted_deal_leaves_with_its_history(workspace: Workspace) -> None:
    hist = [
        history(i, 5 + j, s)
        for i in (1, 2, 3)
        for j, s in enumerate(["Prospecting", "Qualification"])
    ]
    rows = apply_pull(workspace, pull([deal(i) for i in (1, 2, 3)], hist)).tables
    assert rows["opportunities"] == {"added": 3, "updated": 0, "deleted": 0, "unchanged": 0}
    assert rows["opportunity_history"] == {"added": 6, "updated": 0, "deleted": 0, "unchanged": 0}
    assert high_water_mark(workspace, "salesforce") == "2026-01-10T00:00:00Z"
    amount = "SELECT amount FROM opportunities WHERE opportunity_id = '006000000000000002'"
    assert count(workspace, amount) == 2000.0

    # deal 2 changes, deal 1 is deleted in the CRM
    rows = apply_pull(
        workspace,
        pull([deal(2, amount=2500.0)], deleted={"006000000000000001"}, mark="2026-01-11T00:00:00Z"),
    ).tables
    assert rows["opportunities"] == {"added": 0, "updated": 1, "deleted": 1, "unchanged": 0}
    assert rows["opportunity_history"]["deleted"] == 2
    assert count(workspace, amount) == 5000.0
    for table in ("opportunities", "opportunity_history", "stage_events"):
        gone = f"SELECT count(*) FROM {table} WHERE opportunity_id = '006000000000000001'"
        assert count(workspace, gone) == 0, table
    assert count(workspace, "SELECT count(*) FROM opportunity_history") == 4
    assert high_water_mark(workspace, "salesforce") == "2026-01-11T00:00:00Z"
    assert [e["status"] for e in read_log(workspace.path)] == ["synced", "synced"]


def test_a_bad_row_in_any_table_changes_nothing(workspace: Workspace) -> None:
    config = workspace.path / "salesflow.toml"
    data = workspace.path / "data.duckdb"
    before = (config.read_bytes(), data.read_bytes())
    # the deals are fine (and would adopt the Salesforce stages), one history row is not
    bad = pull(
        [deal(1), deal(2)],
        [history(1, 5, "Prospecting"), {**history(2, 5, "X"), "CreatedDate": "soon"}],
    )
    with pytest.raises(SalesflowError, match="soon") as err:
        apply_pull(workspace, bad)
    # the sentence names the CRM record, not the file salesflow staged it in
    said = str(err.value)
    assert "history row of deal 006000000000000002" in said and "changed_at 'soon'" in said
    assert "Correct these records in Salesforce" in said
    assert ".parquet" not in said and "--skip-invalid" not in said
    assert (config.read_bytes(), data.read_bytes()) == before
    assert high_water_mark(workspace, "salesforce") is None
    (entry,) = read_log(workspace.path)
    assert entry["status"] == "failed" and "soon" in entry["error"] and entry["rows"] is None
    assert sorted(p.name for p in workspace.path.iterdir()) == [
        "data.duckdb",
        "data.duckdb.lock",
        "salesflow.toml",
        "sync-log.json",
    ]
