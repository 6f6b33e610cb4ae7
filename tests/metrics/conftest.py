"""Fixtures: the seeded sales history (metrics_data) in real DuckDB and PostgreSQL data sources."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from metrics_data import Data, load, make_data

from salesflow.settings import Settings

TARGETS = {"targets": {"week": 40_000, "month": 150_000, "quarter": 450_000}}


@pytest.fixture(scope="session")
def data() -> Data:
    return make_data()


@pytest.fixture(scope="session")
def duck(data: Data, tmp_path_factory) -> Iterator[tuple]:
    """(connection, settings) for a DuckDB workspace holding ``data``."""
    from salesflow.source import connect

    folder: Path = tmp_path_factory.mktemp("duck")
    con = connect(f"duckdb:///{folder / 'data.duckdb'}")
    load(con, data)
    yield con, Settings(workspace=folder, raw=TARGETS)
    con.disconnect()


@pytest.fixture(scope="session")
def pg(data: Data, pg_new_database, tmp_path_factory) -> Iterator[tuple]:
    """(connection, settings) for a PostgreSQL database of its own holding ``data``."""
    from salesflow.source import connect

    url = pg_new_database()
    con = connect(url)
    try:
        load(con, data)
        yield con, Settings(workspace=tmp_path_factory.mktemp("pg"), data_url=url, raw=TARGETS)
    finally:
        con.disconnect()


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request) -> tuple:
    """One test body, both engines."""
    return request.getfixturevalue("duck" if request.param == "duckdb" else "pg")
