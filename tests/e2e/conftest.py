"""A real ``salesflow serve`` on a free port over a demo workspace, and a Chromium to drive it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from e2e_helpers import serving_demo


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, demo_copy):
    """``(url, workspace)`` of a running server with accounts ann (admin) and vic (viewer)."""
    with serving_demo(demo_copy, tmp_path_factory.mktemp("e2e"), opportunities=800) as running:
        yield running


@pytest.fixture(scope="session")
def knowledge_site(tmp_path_factory: pytest.TempPathFactory, demo_copy):
    """``(url, workspace)`` of a served demo with its team knowledge (UDRs, causes, improvements),
    built once for the picture and tutorial walks. The tutorial walk adds two deals through the
    Data page; nothing that the picture checks depends on them."""
    with serving_demo(demo_copy, tmp_path_factory.mktemp("knowledge"), opportunities=800,
                      knowledge=True) as s:  # fmt: skip
        yield s


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
