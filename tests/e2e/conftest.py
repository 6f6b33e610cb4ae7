"""A real ``salesflow serve`` on a free port over a demo workspace, and a Chromium to drive it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

PASSWORD = "correct horse battery"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
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


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory):
    """``(url, workspace)`` of a running server with accounts ann (admin) and vic (viewer)."""
    from salesflow.appdb import KnowledgeStore
    from salesflow.demo import build_demo
    from salesflow.settings import load_settings
    from salesflow.web.auth import hash_password

    path = tmp_path_factory.mktemp("e2e") / "demo"
    build_demo(path, opportunities=800, seed=7)
    with KnowledgeStore.open(load_settings(path).resolved_app_url()) as store:
        store.users.create("ann", role="admin", password_hash=hash_password(PASSWORD))
        store.users.create("vic", role="viewer", password_hash=hash_password(PASSWORD))
    port = free_port()
    log = (path.parent / "serve.log").open("w")
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
        log.close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: $SALESFLOW_SCREENSHOTS, else the test's own tmp_path."""
    folder = Path(os.environ.get("SALESFLOW_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=server[0])
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    context.close()


def sign_in(page, name: str) -> None:
    page.goto("/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
