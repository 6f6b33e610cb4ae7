"""One demo workspace per test session (3,000 deals), read through DuckDB's own SQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

SIZE = 3000
SEED = int(os.environ.get("SALESFLOW_DEMO_TEST_SEED", "11"))  # vary it to check the tolerances


@pytest.fixture(scope="session")
def demo_path(tmp_path_factory: pytest.TempPathFactory, demo_copy) -> Path:
    return demo_copy(tmp_path_factory.mktemp("demo") / "ws", opportunities=SIZE, seed=SEED)


@pytest.fixture(scope="session")
def sql(demo_path: Path) -> Iterator:
    """``sql(query)`` -> list of row tuples, on a read-only connection to the demo's data."""
    import duckdb

    con = duckdb.connect(str(demo_path / "data.duckdb"), read_only=True)
    yield lambda query, *params: con.execute(query, params or None).fetchall()
    con.close()


@pytest.fixture
def demo_pg_url() -> Iterator[str]:
    """A PostgreSQL database of its own (the demo writes canonical table names), dropped after.

    Fails, never skips, when CI is set and the server is unreachable.
    """
    import uuid

    import psycopg

    server = os.environ.get("SALESFLOW_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
    try:
        admin = psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=5)
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {server} is unreachable in CI: {exc}")
        pytest.skip(f"PostgreSQL at {server} is unreachable: {exc}")
    name = f"salesflow_demo_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
