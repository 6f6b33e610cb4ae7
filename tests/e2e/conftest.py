"""A real ``salesflow serve`` on a free port over a demo workspace, and a Chromium to drive it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from e2e_helpers import PASSWORD, SERVE, free_port, wait_until_up


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
