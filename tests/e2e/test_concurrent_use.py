"""A team at work on one workspace: ``salesflow serve`` imports a file through its API while the
CLI and a notebook keep reading. Every reader succeeds and sees the data of before or of after
the import, never an error and never a verdict made of a lock error."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from e2e_helpers import serving_demo

SALESFLOW = str(Path(sys.executable).with_name("salesflow"))
NOTEBOOK = (
    "import sys, salesflow as sf; from salesflow.cli.common import print_json; "
    "ws = sf.open(sys.argv[1]); print_json(ws.metric('win_rate').to_dict()); ws.close()"
)


def readers(path: Path) -> dict[str, list[str]]:
    return {
        "metric": [SALESFLOW, "metric", "win_rate", "--json", "-w", str(path)],
        "udrs": [SALESFLOW, "udr", "list", "--json", "-w", str(path)],
        "notebook": [sys.executable, "-c", NOTEBOOK, str(path)],
    }


def read(command: list[str]) -> str:
    """One reader's JSON document; any error fails the test with its words."""
    got = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert got.returncode == 0, f"{command[1:3]} failed during the import: {got.stderr}"
    assert "Traceback" not in got.stderr
    json.loads(got.stdout)
    return got.stdout


def api_token(path: Path) -> str:
    from salesflow.appdb import KnowledgeStore
    from salesflow.settings import load_settings
    from salesflow.web.auth import hash_token, new_api_token

    token = new_api_token()
    with KnowledgeStore.open(load_settings(path).resolved_app_url()) as store:
        store.users.add_token(store.users.by_name("ann").id, token_hash=hash_token(token), name="t")
    return token


@pytest.mark.slow
def test_cli_and_notebook_read_before_or_after_while_the_server_imports(
    tmp_path, deals_csv, demo_copy
):
    with serving_demo(demo_copy, tmp_path, opportunities=600, knowledge=True) as (url, path):
        commands = readers(path)
        before = {name: read(cmd) for name, cmd in commands.items()}
        file = deals_csv(tmp_path, "NEW", 20_000, won_only=True)
        token = api_token(path)
        seen: dict[str, list[str]] = {name: [] for name in commands}
        done, problems = threading.Event(), []

        def keep_reading(name: str) -> None:
            try:
                while not done.is_set():
                    seen[name].append(read(commands[name]))
            except BaseException as exc:  # reported below, with the reader's words
                problems.append(f"{name}: {exc}")

        threads = [threading.Thread(target=keep_reading, args=(n,)) for n in commands]
        for t in threads:
            t.start()
        with file.open("rb") as fh:
            answer = httpx.post(
                f"{url}/api/imports",
                headers={"Authorization": f"Bearer {token}"},
                data={"table": "opportunities"},
                files={"file": ("won.csv", fh, "text/csv")},
                timeout=300,
            )
        done.set()
        for t in threads:
            t.join(300)
        assert answer.status_code == 200, answer.text
        assert answer.json()["inserted"] == 20_000
        after = {name: read(cmd) for name, cmd in commands.items()}
        assert not problems, problems
        assert after["metric"] != before["metric"] and after["notebook"] != before["notebook"]
        for name, docs in seen.items():
            assert docs, f"{name} never ran during the import"
            for doc in docs:
                assert doc in (before[name], after[name]), f"{name} saw neither state"
        # the server itself answers with the new data (it follows the swapped-in file)
        metric = httpx.get(
            f"{url}/api/metrics/win_rate",
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
        assert metric.status_code == 200
        assert metric.json()["points"] == json.loads(after["metric"])["points"]


def test_a_busy_workspace_is_a_503_naming_who_writes(tmp_path, monkeypatch, deals_csv, demo_copy):
    """An import through the server waits for the CLI's, then says whose it was."""
    from salesflow.workspace import Workspace

    monkeypatch.setenv("SALESFLOW_WRITE_WAIT", "1")  # the server's bounded wait
    with serving_demo(demo_copy, tmp_path, opportunities=300) as (url, path):
        token = api_token(path)
        file = deals_csv(tmp_path, "NEW", 50)
        with Workspace.open(path).write_lock("import of crm.csv", who="bob"):
            answer = httpx.post(
                f"{url}/api/imports",
                headers={"Authorization": f"Bearer {token}"},
                data={"table": "opportunities"},
                files={"file": ("won.csv", file.read_bytes(), "text/csv")},
                timeout=120,
            )
        assert answer.status_code == 503
        assert "The workspace is busy: the import of crm.csv started by bob" in answer.text
