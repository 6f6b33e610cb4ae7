"""The Data page shows the sync log: each source's last success and last problem, and the latest
syncs with the rows they changed, in a browser user's words."""

from __future__ import annotations

import pytest
from test_no_cli_words import cli_words, visible_text
from web_helpers import ACCOUNTS, PASSWORD, signed_in


def with_accounts(path):
    """A new, empty workspace at ``path`` with ann, an admin (a demo takes far longer)."""
    from salesflow.appdb import KnowledgeStore
    from salesflow.settings import load_settings
    from salesflow.web.auth import hash_password
    from salesflow.workspace import init_workspace

    init_workspace(path).close()
    with KnowledgeStore.open(load_settings(path).resolved_app_url()) as store:
        store.users.create("ann", role=ACCOUNTS["ann"], password_hash=hash_password(PASSWORD))
    return path


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    """A demo workspace whose watched folder imported one good file and refused a bad one, and
    whose HubSpot sync failed (no token)."""
    import os

    from salesflow.errors import SalesflowError
    from salesflow.settings import load_settings
    from salesflow.sync import sync_folder
    from salesflow.sync.hubspot import sync_hubspot
    from salesflow.workspace import Workspace

    path = with_accounts(tmp_path_factory.mktemp("sync") / "ws")
    (path / "exports").mkdir()
    (path / "exports" / "opportunities_new.csv").write_text(
        "opportunity_id,created_at,outcome,amount\nS-1,2026-01-05,open,10\nS-2,2026-01-06,open,20\n",
        encoding="utf-8",
    )
    (path / "exports" / "opportunities_bad.csv").write_text(
        "opportunity_id,created_at\nS-3,not a date\n", encoding="utf-8"
    )
    config = path / "salesflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[sync]\nevery = "1h"\n[sync.folder]\n'
        'path = "exports/"\n[sync.hubspot]\nbase_url = "http://127.0.0.1:9"\n',
        encoding="utf-8",
    )
    ws = Workspace.open(path)
    try:
        results = {r.file: r.status for r in sync_folder(ws)}
        assert results == {"opportunities_bad.csv": "failed", "opportunities_new.csv": "imported"}
        token = os.environ.pop("HUBSPOT_ACCESS_TOKEN", None)
        try:
            with pytest.raises(SalesflowError):
                sync_hubspot(ws, env={})
        finally:
            if token is not None:
                os.environ["HUBSPOT_ACCESS_TOKEN"] = token
    finally:
        ws.close()
    from salesflow.web import create_app

    return path, signed_in(create_app(load_settings(path)))("ann")


def test_the_data_page_shows_each_source_and_the_latest_syncs(synced) -> None:
    from bs4 import BeautifulSoup

    _, client = synced
    page = client.get("/data")
    assert page.status_code == 200
    soup = BeautifulSoup(page.text, "html.parser")
    sources = {
        tr.find_all("td")[0].get_text(): [td.get_text(" ", strip=True) for td in tr("td")[1:]]
        for tr in soup.select("[data-testid=sync-sources] tbody tr")
    }
    assert list(sources) == ["The watched folder", "HubSpot"]
    assert sources["The watched folder"][0].endswith("UTC")
    assert sources["The watched folder"][1] == "—"  # the bad file failed before the good one
    assert sources["HubSpot"][0] == "not yet"
    assert "HUBSPOT_ACCESS_TOKEN is not set" in sources["HubSpot"][1]

    rows = [
        [td.get_text(" ", strip=True) for td in tr("td")]
        for tr in soup.select("[data-testid=sync-log] tbody tr")
    ]
    assert [r[1] for r in rows] == ["HubSpot", "opportunities_new.csv", "opportunities_bad.csv"]
    assert rows[1][2] == "deals: 2 new, 0 updated, 0 removed"
    assert rows[0][2].startswith("Failed, nothing changed: No HubSpot access token")
    assert rows[2][2].startswith("Failed, nothing changed:")
    assert "every 1h" in soup.select_one("[data-testid=syncs]").get_text()
    text, _ = visible_text(page.text)
    assert not cli_words().search(text)


def test_a_damaged_sync_log_is_shown_as_a_problem_not_as_nothing(synced, tmp_path) -> None:
    path, client = synced
    log = path / "sync-log.json"
    kept = log.read_bytes()
    log.write_text("{not json", encoding="utf-8")
    try:
        page = client.get("/data")
    finally:
        log.write_bytes(kept)
    assert page.status_code == 200
    assert "The sync log cannot be read" in page.text
    assert 'data-testid="no-syncs"' not in page.text


def test_a_deal_sent_again_unchanged_is_not_shown_as_updated(tmp_path) -> None:
    """A CRM sync re-sends deal 1 as it was and deal 2 with a new amount: one update, one
    unchanged, in the Data page's words."""
    from bs4 import BeautifulSoup

    from salesflow.settings import load_settings
    from salesflow.sync.apply import apply_pull
    from salesflow.sync.crm import Pull, TableChanges
    from salesflow.web import create_app
    from salesflow.workspace import Workspace

    def deal(i: int, amount: float) -> dict:
        return {"Id": f"006{i:015d}", "StageName": "Prospecting", "Amount": amount,
                "CreatedDate": "2026-01-05T10:00:00.000+0000", "CloseDate": "2026-03-01"}  # fmt: skip

    path = with_accounts(tmp_path / "ws")
    with Workspace.open(path) as ws:
        for mark, deals in (("2026-01-10T00:00:00Z", [deal(1, 100), deal(2, 200)]),
                            ("2026-01-11T00:00:00Z", [deal(1, 100), deal(2, 250)])):  # fmt: skip
            apply_pull(ws, Pull("salesforce", {"opportunities": TableChanges(deals)}, mark))
    client = signed_in(create_app(load_settings(path)))("ann")
    soup = BeautifulSoup(client.get("/data").text, "html.parser")
    rows = [
        [td.get_text(" ", strip=True) for td in tr("td")]
        for tr in soup.select("[data-testid=sync-log] tbody tr")
    ]
    assert [r[2] for r in rows] == [
        "deals: 0 new, 1 updated, 0 removed, 1 unchanged",
        "deals: 2 new, 0 updated, 0 removed",
    ]


def test_activities_on_deals_a_sync_cannot_see_are_a_warning_on_the_data_page(tmp_path) -> None:
    """A Salesforce sync brings two tasks on a deal the integration user cannot see: the Data
    page says so under "Kept up to date", with the source, beside the sync that brought them."""
    from bs4 import BeautifulSoup

    from salesflow.settings import load_settings
    from salesflow.sync.apply import apply_pull
    from salesflow.sync.crm import Pull, TableChanges
    from salesflow.web import create_app
    from salesflow.workspace import Workspace

    deal = {"Id": "006000000000000001", "StageName": "Prospecting", "Amount": 100,
            "CreatedDate": "2026-01-05T10:00:00.000+0000", "CloseDate": "2026-03-01"}  # fmt: skip
    tasks = [
        {"Id": f"00T00000000000{i}", "WhatId": what, "Type": "Call", "ActivityDate": "2026-01-06"}
        for i, what in enumerate(["006000000000000001", "006HIDDEN", "006HIDDEN"])
    ]
    path = with_accounts(tmp_path / "ws")
    changes = {"opportunities": TableChanges([deal]), "activities": TableChanges(tasks)}
    with Workspace.open(path) as ws:
        result = apply_pull(ws, Pull("salesforce", changes, "2026-01-10T00:00:00Z"))
    assert result.tables["activities"]["added"] == 3
    client = signed_in(create_app(load_settings(path)))("ann")
    page = client.get("/data")
    soup = BeautifulSoup(page.text, "html.parser")
    shown = [p.get_text(" ", strip=True) for p in soup.select("[data-testid=sync-warning]")]
    assert shown == [f"Salesforce, last sync: {result.warnings[0]}"]
    assert shown[0].startswith("Salesforce, last sync: 2 activities belong to deals this sync")
    log = soup.select_one("[data-testid=sync-log] tbody tr").get_text(" ", strip=True)
    assert "2 activities belong to deals this sync cannot see" in log
    assert not cli_words().search(visible_text(page.text)[0])
