"""API fixtures: the demo company (1,500 deals) with its demo knowledge, built once, opened once."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def api_demo(tmp_path_factory: pytest.TempPathFactory, demo_copy) -> Path:
    path = tmp_path_factory.mktemp("api") / "demo"
    return demo_copy(path, opportunities=1500, seed=7, knowledge=True)


@pytest.fixture(scope="module")
def ws(api_demo: Path):
    import salesflow as sf

    with sf.open(api_demo) as workspace:
        yield workspace
