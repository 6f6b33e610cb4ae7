"""Workbench fixtures: one demo company (3,000 deals) built once, its knowledge seeded once per
app database (SQLite file, PostgreSQL schema); tests that change things work on a copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

SIZE = 3000
SEED = 11


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory, demo_copy) -> Path:
    """A demo workspace with data and no knowledge (copy it before changing anything)."""
    return demo_copy(tmp_path_factory.mktemp("wb") / "data-only", opportunities=SIZE, seed=SEED)


@pytest.fixture(scope="session")
def seeded(demo_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace with its demo knowledge in the default SQLite app DB (read-only use)."""
    from salesflow.workbench.demo_knowledge import seed_demo_knowledge

    path = tmp_path_factory.mktemp("wb") / "seeded"
    shutil.copytree(demo_data, path)
    seed_demo_knowledge(path)
    return path


@pytest.fixture
def seeded_copy(seeded: Path, tmp_path: Path) -> Path:
    """A private copy of the seeded workspace, for tests that change the knowledge base."""
    path = tmp_path / "ws"
    shutil.copytree(seeded, path)
    return path


@pytest.fixture
def facilitator_ws(seeded_copy: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private seeded copy as the current workspace, with a facilitator at the keyboard."""
    monkeypatch.setenv("SALESFLOW_WORKSPACE", str(seeded_copy))
    monkeypatch.setenv("SALESFLOW_USER", "facilitator")
    return seeded_copy


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def private_ws(request: pytest.FixtureRequest, tmp_path: Path):
    """A seeded demo of this test's own: a SQLite copy, or a new PostgreSQL schema."""
    from wb_helpers import pg_schema_url, use_app_url

    from salesflow.workbench.demo_knowledge import seed_demo_knowledge

    if request.param == "sqlite":
        yield request.getfixturevalue("seeded_copy")
        return
    path = tmp_path / "ws"
    shutil.copytree(request.getfixturevalue("demo_data"), path)
    for url in pg_schema_url(request.getfixturevalue("pg_shared_url")):
        use_app_url(path, url)
        seed_demo_knowledge(path)
        yield path
