"""`salesflow upgrade`, `export` and `import-knowledge` on real workspaces."""

from __future__ import annotations

import shutil
from pathlib import Path

from salesflow.appdb import KnowledgeStore, head_revision
from salesflow.workspace import init_workspace

from .test_transfer import fill

OLD = Path(__file__).parent / "data" / "app_v0_1.db"


def _workspace(tmp_path: Path, name: str) -> Path:
    init_workspace(tmp_path / name).close()
    return tmp_path / name


def test_upgrade_creates_the_app_db_and_reports_revisions(appdb_cli, tmp_path):
    ws = _workspace(tmp_path, "acme")
    doc = appdb_cli.json("upgrade", "-w", ws)
    assert doc["before"] is None and doc["after"] == doc["head"] == head_revision()
    assert doc["app_db"] == f"sqlite:///{ws / 'app.db'}"
    assert (ws / "app.db").is_file()
    again = appdb_cli("upgrade", "-w", ws)
    assert "already at the newest revision" in again.stdout


def test_upgrade_keeps_an_old_workspace_s_knowledge(appdb_cli, tmp_path):
    ws = _workspace(tmp_path, "old")
    shutil.copy(OLD, ws / "app.db")
    doc = appdb_cli.json("upgrade", "-w", ws)
    assert (doc["before"], doc["after"]) == ("0001", head_revision())
    rows = appdb_cli.json("export", tmp_path / "k.json", "-w", ws)["rows"]
    assert (rows["udrs"], rows["causes"], rows["cause_links"], rows["checkins"]) == (2, 2, 2, 1)


def test_export_then_import_into_a_new_workspace_round_trips(appdb_cli, tmp_path):
    source = _workspace(tmp_path, "source")
    with KnowledgeStore.for_workspace(_open(source)) as store:
        fill(store)
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    result = appdb_cli("export", first, "-w", source)
    said = " ".join(result.stdout.split())
    assert (
        "2 UDRs, 2 causes, 2 cause links, 1 improvements, 1 check-ins, 13 history entries" in said
    )
    target = _workspace(tmp_path, "target")
    counts = appdb_cli.json("import-knowledge", first, "-w", target)["rows"]
    assert counts["history"] == 13
    appdb_cli("export", second, "-w", target)
    assert second.read_bytes() == first.read_bytes()


def test_import_into_a_non_empty_workspace_needs_replace(appdb_cli, tmp_path):
    ws = _workspace(tmp_path, "busy")
    with KnowledgeStore.for_workspace(_open(ws)) as store:
        fill(store)
    appdb_cli("export", tmp_path / "k.json", "-w", ws)
    refused = appdb_cli("import-knowledge", tmp_path / "k.json", "-w", ws, ok=False)
    assert refused.exit_code == 1
    assert "already holds UDRs" in refused.stderr and "--replace" in refused.stderr
    appdb_cli("import-knowledge", tmp_path / "k.json", "-w", ws, "--replace")


def test_broken_files_get_one_line_with_the_place(appdb_cli, tmp_path):
    ws = _workspace(tmp_path, "acme")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "salesflow-knowledge",\n  "tables": [}', encoding="utf-8")
    result = appdb_cli("import-knowledge", bad, "-w", ws, ok=False)
    assert result.exit_code == 1
    assert "not valid JSON" in result.stderr and "line 2, column 14" in result.stderr
    missing = appdb_cli("import-knowledge", tmp_path / "nope.json", "-w", ws, ok=False)
    assert "No file at" in missing.stderr
    nowhere = appdb_cli("export", tmp_path / "no" / "such" / "k.json", "-w", ws, ok=False)
    assert nowhere.exit_code == 1 and "Cannot write" in nowhere.stderr
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]", encoding="utf-8")
    wrong = appdb_cli("import-knowledge", listed, "-w", ws, ok=False)
    assert "not a salesflow knowledge file" in wrong.stderr


def test_an_outdated_app_db_is_refused_until_upgraded(appdb_cli, tmp_path):
    ws = _workspace(tmp_path, "acme")
    from salesflow.appdb import upgrade

    upgrade(f"sqlite:///{ws / 'app.db'}", "0001")  # as release 0.1 left it
    result = appdb_cli("export", tmp_path / "k.json", "-w", ws, ok=False)
    assert result.exit_code == 1
    assert (
        f"this salesflow needs {head_revision()}" in result.stderr
        and f"salesflow -w {ws} upgrade" in result.stderr  # runs as written from anywhere
    )
    assert not (tmp_path / "k.json").exists()


def _open(path: Path):
    from salesflow.workspace import Workspace

    return Workspace.open(path)


def test_upgrade_refuses_someone_else_s_database_in_one_line(appdb_cli, tmp_path):
    import sqlite3

    ws = _workspace(tmp_path, "acme")
    with sqlite3.connect(ws / "app.db") as con:  # e.g. [app] url pointed at another tool's file
        con.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    result = appdb_cli("upgrade", "-w", ws, ok=False)
    assert result.exit_code == 1 and result.stdout == ""
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert "holds tables salesflow did not create (invoices); nothing was changed" in line
    with sqlite3.connect(ws / "app.db") as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"invoices"}
