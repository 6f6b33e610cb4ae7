"""`[sync] every`: the server syncs the watched folder and HubSpot on its own, again and again."""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from hubspot_server import TOKEN, HubSpotServer
from test_hubspot_pull import STAGE_IDS, T0, seed

from salesflow.errors import ConfigError
from salesflow.settings import load_settings
from salesflow.sync.log import read_log
from salesflow.sync.schedule import run_syncs, sync_every, sync_sources
from salesflow.workspace import Workspace


def with_sync(workspace: Workspace, text: str):
    config = workspace.settings.config_path
    config.write_text(config.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")
    return load_settings(workspace.path)


@pytest.mark.parametrize(
    ("every", "seconds"),
    [("1h", 3600), ("30m", 1800), ("1h30m", 5400), ("90s", 90), ("1d", 86400), ("2 h", 7200)],
)
def test_every_reads_the_way_people_write_it(workspace, every, seconds) -> None:
    assert sync_every(with_sync(workspace, f'[sync]\nevery = "{every}"\n')) == seconds


@pytest.mark.parametrize("every", ['"soon"', '"1x"', "5", '"h"', '"0s"', '"1h and 5m"'])
def test_every_that_cannot_be_read_is_refused(workspace, every) -> None:
    with pytest.raises(ConfigError, match=r"\[sync\] every"):
        sync_every(with_sync(workspace, f"[sync]\nevery = {every}\n"))


def test_no_schedule_no_sources(workspace) -> None:
    from salesflow.cli.web_cmds import _sync_schedule

    assert sync_every(workspace.settings) is None
    assert sync_sources(workspace.settings) == []
    assert _sync_schedule(workspace.settings) is None


def count(path: Path) -> int:
    ws = Workspace.open(path)
    try:
        return ws.raw.sql("SELECT count(*) FROM opportunities").fetchone()[0]
    finally:
        ws.close()


def wait_for(check, seconds: float = 40.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the scheduled sync did not happen in time"
        time.sleep(0.2)


def test_serve_syncs_the_folder_and_hubspot_now_and_every_interval(
    workspace, monkeypatch, capsys
) -> None:
    from salesflow.cli.web_cmds import _sync_schedule

    (workspace.path / "exports").mkdir()
    with HubSpotServer() as hs:
        seed(hs.crm, 4)
        settings = with_sync(
            workspace,
            '[sync]\nevery = "1s"\n[sync.folder]\npath = "exports/"\n'
            f'[sync.hubspot]\nbase_url = "{hs.base_url}"\n',
        )
        assert sync_sources(settings) == ["folder", "hubspot"]
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", TOKEN)
        scheduler = _sync_schedule(settings)
        try:
            assert scheduler.get_job("sync").trigger.interval == timedelta(seconds=1)
            wait_for(lambda: count(workspace.path) == 4)  # the first run, at start
            (workspace.path / "exports" / "opportunities_jan.csv").write_text(
                "opportunity_id,owner,created_at,outcome,amount\n"
                "F-1,Ann Lee,2026-01-02,open,10\nF-2,Ann Lee,2026-01-03,won,20\n",
                encoding="utf-8",
            )
            hs.crm.add_deal("4001", T0 + timedelta(days=40), dealstage=STAGE_IDS[1], amount="70")
            wait_for(lambda: count(workspace.path) == 4 + 2 + 1)  # a later run took both
        finally:
            scheduler.shutdown(wait=True)
    entries = read_log(workspace.path)
    assert any(e.get("file") == "opportunities_jan.csv" for e in entries)
    synced = [e for e in entries if e.get("source") == "hubspot" and e["status"] == "synced"]
    assert len(synced) >= 2
    err = capsys.readouterr().err
    assert "Syncing the watched folder, HubSpot now and every 1s." in err


def test_one_failing_source_does_not_stop_the_others(workspace, monkeypatch) -> None:
    (workspace.path / "exports").mkdir()
    (workspace.path / "exports" / "opportunities_a.csv").write_text(
        "opportunity_id,created_at,outcome\nF-9,2026-01-02,open\n", encoding="utf-8"
    )
    with_sync(
        workspace,
        '[sync.folder]\npath = "exports/"\n[sync.hubspot]\nbase_url = "http://127.0.0.1:9"\n',
    )
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    results = run_syncs(str(workspace.path))
    assert "HUBSPOT_ACCESS_TOKEN is not set" in results["hubspot"]["error"]
    assert results["folder"]["files"][0]["status"] == "imported"
    assert count(workspace.path) == 1
