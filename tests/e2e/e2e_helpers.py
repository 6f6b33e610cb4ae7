"""Helpers the browser journeys share: the serve command, a free port, signing in."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

PASSWORD = "correct horse battery"
# The serve command as the CLI runs it (works before and after it is wired into `salesflow`).
SERVE = (
    "from salesflow.cli.common import new_app; from salesflow.cli import web_cmds; "
    "app = new_app('salesflow'); web_cmds.register(app); app()"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"salesflow serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/login", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"salesflow serve did not answer at {url} in {seconds} s")


def sign_in(page, name: str) -> None:
    page.goto("/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


@contextmanager
def serving_demo(demo_copy, folder: Path, *, opportunities: int, knowledge: bool = False):
    """Put a demo (seed 7, from the ``demo_copy`` fixture) in ``folder`` with accounts ann (admin)
    and vic (viewer), serve it on a free port and yield ``(url, workspace)``; the server stops on
    exit."""
    from salesflow.appdb import KnowledgeStore
    from salesflow.settings import load_settings
    from salesflow.web.auth import hash_password

    path = demo_copy(folder / "demo", opportunities=opportunities, seed=7, knowledge=knowledge)
    with KnowledgeStore.open(load_settings(path).resolved_app_url()) as store:
        store.users.create("ann", role="admin", password_hash=hash_password(PASSWORD))
        store.users.create("vic", role="viewer", password_hash=hash_password(PASSWORD))
    port = free_port()
    with (folder / "serve.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVE, "serve", "--port", str(port), "-w", str(path)],
            stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "SALESFLOW_WORKSPACE": str(path)},
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(url, proc)
            yield url, path
        finally:
            proc.terminate()
            proc.wait(timeout=10)
