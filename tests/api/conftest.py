"""API fixtures: the demo company (1,500 deals) with its demo knowledge, built once, opened once."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def api_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from salesflow.demo import build_demo
    from salesflow.workbench.demo_knowledge import seed_demo_knowledge

    path = tmp_path_factory.mktemp("api") / "demo"
    build_demo(path, opportunities=1500, seed=7)
    seed_demo_knowledge(path)
    return path


@pytest.fixture(scope="module")
def ws(api_demo: Path):
    import salesflow as sf

    with sf.open(api_demo) as workspace:
        yield workspace
