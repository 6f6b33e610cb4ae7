"""The watched folder: new files land, unchanged ones are left alone, a bad file fails alone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from salesflow.errors import ConfigError
from salesflow.workspace import Workspace

HEADER = "opportunity_id,account,owner,source,created_at,closed_at,outcome,amount"


def deals(path: Path, ids: range, amount: int = 1000, *, bad: bool = False) -> Path:
    rows = [HEADER] + [
        f"D-{i},Acme,Ann Lee,Website,2026-01-02,2026-02-25,won,{amount + i}" for i in ids
    ]
    if bad:
        rows.append("D-bad,Acme,Ann Lee,Website,not a date,2026-02-25,won,12")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def folder(workspace: Workspace) -> Path:
    exports = workspace.path / "exports"
    exports.mkdir()
    config = workspace.path / "salesflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[sync.folder]\npath = "exports/"\n',
        encoding="utf-8",
    )
    return exports


def sync(cli, workspace: Workspace, *, ok: bool = True) -> tuple[int, list[dict]]:
    import json

    result = cli("sync", "folder", "--once", "-w", workspace.path, "--json", ok=ok)
    return result.exit_code, json.loads(result.stdout)["files"]


def amounts(workspace: Workspace) -> dict[str, float]:
    ws = Workspace.open(workspace.path)
    try:
        rows = ws.raw.sql("SELECT opportunity_id, amount FROM opportunities").fetchall()
    finally:
        ws.close()
    return {k: float(v) for k, v in rows}


def test_two_files_import_then_nothing(cli, workspace, folder) -> None:
    deals(folder / "opportunities_jan.csv", range(3))
    deals(folder / "opportunities_feb.csv", range(3, 5))
    code, files = sync(cli, workspace)
    assert code == 0
    assert [(f["file"], f["table"], f["status"], f["rows"]) for f in files] == [
        (
            "opportunities_feb.csv",
            "opportunities",
            "imported",
            {"added": 2, "updated": 0, "unchanged": 0},
        ),
        (
            "opportunities_jan.csv",
            "opportunities",
            "imported",
            {"added": 3, "updated": 0, "unchanged": 0},
        ),
    ]
    assert amounts(workspace) == {f"D-{i}": 1000.0 + i for i in range(5)}
    assert sync(cli, workspace) == (0, [])


def test_changed_file_reimports_and_touched_file_does_not(cli, workspace, folder) -> None:
    path = deals(folder / "opportunities.csv", range(3))
    sync(cli, workspace)
    os.utime(path, ns=(1, 1))  # touched only: same bytes
    assert sync(cli, workspace) == (0, [])
    deals(path, range(4), amount=2000)
    _, files = sync(cli, workspace)
    assert files[0]["rows"] == {"added": 1, "updated": 3, "unchanged": 0}  # new amounts
    assert amounts(workspace) == {f"D-{i}": 2000.0 + i for i in range(4)}


def test_bad_file_fails_alone_and_stays_failed(cli, workspace, folder) -> None:
    deals(folder / "opportunities_a.csv", range(2))
    sync(cli, workspace)
    before = amounts(workspace)
    deals(folder / "opportunities_b.csv", range(2), amount=5000, bad=True)
    deals(folder / "opportunities_c.csv", range(10, 12))
    (folder / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    code, files = sync(cli, workspace, ok=False)
    assert code == 1
    by_name = {f["file"]: f for f in files}
    assert by_name["opportunities_b.csv"]["status"] == "failed"
    assert "not a date" in by_name["opportunities_b.csv"]["error"]
    assert by_name["opportunities_b.csv"]["rows"] is None  # not "0 rows"
    assert "does not say which table" in by_name["notes.csv"]["error"]
    assert by_name["opportunities_c.csv"]["status"] == "imported"
    assert amounts(workspace) == {**before, "D-10": 1010.0, "D-11": 1011.0}  # b left no trace
    assert sync(cli, workspace) == (0, [])  # retried only once it changes
    deals(folder / "opportunities_b.csv", range(2), amount=5000)
    _, files = sync(cli, workspace)
    assert [(f["file"], f["status"]) for f in files] == [("opportunities_b.csv", "imported")]


def test_log_lists_every_attempt(cli, workspace, folder) -> None:
    deals(folder / "opportunities.csv", range(2))
    deals(folder / "opportunities_bad.csv", range(2), bad=True)
    sync(cli, workspace, ok=False)
    entries = cli.json("sync", "log", "-w", workspace.path)["entries"]
    assert [(e["file"], e["status"]) for e in entries] == [
        ("opportunities.csv", "imported"),
        ("opportunities_bad.csv", "failed"),
    ]
    assert all(e["at"] for e in entries)
    text = cli("sync", "log", "-w", workspace.path).stdout
    assert "Failed opportunities_bad.csv" in text and "2 new" in text


def test_tables_map_and_clear_errors(cli, workspace, folder) -> None:
    from salesflow.settings import load_settings
    from salesflow.sync import folder_settings

    config = workspace.path / "salesflow.toml"
    base = config.read_text(encoding="utf-8")
    config.write_text(base + '[sync.folder.tables]\n"deals*.csv" = "opportunities"\n', "utf-8")
    deals(folder / "deals.csv", range(2))
    assert sync(cli, workspace)[1][0]["table"] == "opportunities"
    config.write_text(base + '[sync.folder.tables]\n"deals*.csv" = "deals"\n', "utf-8")
    with pytest.raises(ConfigError, match="'deals', which is not a table"):
        folder_settings(load_settings(workspace.path))
    config.write_text(base.replace('"exports/"', '"missing/"'), "utf-8")
    with pytest.raises(ConfigError, match="does not exist"):
        folder_settings(load_settings(workspace.path))
    config.write_text(base.replace("[sync.folder]", ""), "utf-8")
    result = cli("sync", "folder", "--once", "-w", workspace.path, ok=False)
    assert result.exit_code != 0 and "No watched folder is set" in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_fails_with_its_reason(cli, workspace, folder) -> None:
    path = deals(folder / "opportunities.csv", range(2))
    path.chmod(0)
    try:
        code, files = sync(cli, workspace, ok=False)
    finally:
        path.chmod(0o600)
    assert code == 1 and "cannot be read (Permission denied)" in files[0]["error"]
    assert sync(cli, workspace)[1][0]["rows"] == {
        "added": 2,
        "updated": 0,
        "unchanged": 0,
    }  # readable: it lands


def test_json_needs_once(cli, workspace, folder) -> None:
    result = cli("sync", "folder", "-w", workspace.path, "--json", ok=False)
    assert result.exit_code == 1 and "needs --once" in result.stderr


def test_activities_on_unknown_deals_land_with_a_warning(cli, workspace, folder) -> None:
    deals(folder / "opportunities.csv", range(2))
    (folder / "activities.csv").write_text(
        "activity_id,opportunity_id,type,occurred_at\n"
        "A-1,D-0,call,2026-01-05\nA-2,D-99,email,2026-01-06\n",
        encoding="utf-8",
    )
    code, files = sync(cli, workspace)
    assert code == 0
    acts = next(f for f in files if f["table"] == "activities")
    assert acts["rows"]["added"] == 2
    assert [w for w in acts["warnings"] if "'D-99'" in w and "'D-0'" not in w]
    text = " ".join(cli("sync", "log", "-w", workspace.path).stdout.split())
    assert "Warning: 1 activity belongs to a deal the workspace does not have ('D-99')" in text
