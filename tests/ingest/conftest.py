"""Fixtures for importer tests: workspaces in tmp_path whose data file is closed."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def ws(tmp_path: Path):
    """A fresh workspace whose data file is closed (so its bytes are stable)."""
    from salesflow.workspace import Workspace, init_workspace

    init_workspace(tmp_path / "ws").close()
    workspace = Workspace.open(tmp_path / "ws")
    yield workspace
    workspace.close()
