"""``salesflow serve`` runs all day: while it answers requests, the command line and a notebook
on the same workspace read and write as if it were not there (no "database is locked", no
lock error turned into a result)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from e2e_helpers import serving_demo
from test_concurrent_use import NOTEBOOK, api_token

SALESFLOW = str(Path(sys.executable).with_name("salesflow"))

pytestmark = pytest.mark.slow


def run(*args: str) -> dict:
    got = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert got.returncode == 0, f"{args[1:4]} failed while the server runs: {got.stderr}"
    return json.loads(got.stdout)


def test_the_cli_and_a_notebook_work_while_the_server_answers(tmp_path, demo_copy):
    with serving_demo(demo_copy, tmp_path, opportunities=400, knowledge=True) as (url, path):
        headers = {"Authorization": f"Bearer {api_token(path)}"}
        answers: list[int] = []
        stop = threading.Event()

        def keep_the_server_busy() -> None:
            with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
                while not stop.is_set():
                    for page in ("/api/status", "/api/metrics/win_rate", "/api/udrs"):
                        answers.append(client.get(page).status_code)

        busy = threading.Thread(target=keep_the_server_busy)
        busy.start()
        try:
            ws = str(path)
            status = run(SALESFLOW, "-w", ws, "status", "--json")
            metric = run(SALESFLOW, "-w", ws, "metric", "win_rate", "--json")
            added = run(SALESFLOW, "-w", ws, "udr", "add", "Win rate was 30% in Q3 2026", "--json")
            listed = run(SALESFLOW, "-w", ws, "udr", "list", "--json")
            notebook = json.loads(
                subprocess.run(
                    [sys.executable, "-c", NOTEBOOK, ws],
                    capture_output=True,
                    text=True,
                    timeout=300,
                    check=True,
                ).stdout
            )
        finally:
            stop.set()
            busy.join(300)
        assert status["tables"]["opportunities"]["rows"] >= 400
        assert notebook["points"] == metric["points"]  # the notebook reads what the CLI reads
        assert added["udr"]["id"] in [u["id"] for u in listed["udrs"]]
        assert answers and set(answers) == {200}, answers  # the server never failed either
        seen = httpx.get(f"{url}/api/udrs", headers=headers, timeout=120).json()
        assert added["udr"]["id"] in [u["id"] for u in seen["udrs"]]  # and sees the CLI's write
