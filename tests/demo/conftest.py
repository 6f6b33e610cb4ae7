"""One demo workspace per test session (3,000 deals), read through DuckDB's own SQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

SIZE = 3000
SEED = int(os.environ.get("SALESFLOW_DEMO_TEST_SEED", "11"))  # vary it to check the tolerances


@pytest.fixture(scope="session")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from salesflow.demo import build_demo

    path = tmp_path_factory.mktemp("demo") / "ws"
    build_demo(path, opportunities=SIZE, seed=SEED)
    return path


@pytest.fixture(scope="session")
def sql(demo_path: Path) -> Iterator:
    """``sql(query)`` -> list of row tuples, on a read-only connection to the demo's data."""
    import duckdb

    con = duckdb.connect(str(demo_path / "data.duckdb"), read_only=True)
    yield lambda query, *params: con.execute(query, params or None).fetchall()
    con.close()
