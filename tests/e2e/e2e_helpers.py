"""Helpers the browser journeys share: the serve command, a free port, signing in."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request

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
