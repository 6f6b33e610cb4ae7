"""The backends the parity suite runs on — the one place to add one.

Each entry names a backend and how to build the parity company on it: ``data_url(request,
folder)`` says where the workspace at ``folder`` keeps its sales data (it may ask pytest for a
fixture, as PostgreSQL asks for a new database), and ``build`` fills it (by default the demo
company of ``SIZE`` deals with its knowledge base, through ``salesflow.demo`` and the same code a
user runs). Every parity test then runs once per entry and compares the answer with DuckDB's.

Spark is built the same way (``salesflow demo --data-url pyspark:///spark``): the parity suite
runs on every ``make test``; tests/conftest.py ``spark_local`` fails rather than skips when CI is
set and Java or pyspark is missing, and skips locally without them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SIZE = 600  # deals: enough for every verdict to have data, small enough for a quick suite
SEED = 5
REFERENCE = "duckdb"  # every backend is compared with this one

DataUrl = Callable[[pytest.FixtureRequest, Path], str]


def build_demo_workspace(url: str, folder: Path) -> Path:
    """The demo company (``SIZE`` deals, ``SEED``) and its knowledge base, stored at ``url``."""
    from salesflow.demo import build_demo
    from salesflow.workbench.demo_knowledge import seed_demo_knowledge

    build_demo(folder, opportunities=SIZE, seed=SEED, data_url=url)
    seed_demo_knowledge(folder)
    return folder


def _spark(request: pytest.FixtureRequest, folder: Path) -> str:
    """Local Spark with its warehouse and catalog inside the workspace (``salesflow.spark``);
    tests/conftest.py ``spark_local`` fails rather than skips when CI is set and Java or pyspark
    is missing."""
    request.getfixturevalue("spark_local")
    return "pyspark:///spark"


@dataclass(frozen=True)
class Backend:
    """One backend of the parity suite."""

    name: str
    data_url: DataUrl
    marks: tuple[pytest.MarkDecorator, ...] = ()
    build: Callable[[str, Path], Path] = field(default=build_demo_workspace)

    def workspace(self, request: pytest.FixtureRequest, folder: Path) -> Path:
        """Build the parity company in a new workspace at ``folder`` and return its path."""
        return self.build(self.data_url(request, folder), folder)


def _duckdb(request: pytest.FixtureRequest, folder: Path) -> str:
    return "duckdb:///data.duckdb"  # the default: a file in the workspace


def _postgres(request: pytest.FixtureRequest, folder: Path) -> str:
    """A new database, dropped at the end of the run (tests/conftest.py ``pg_new_database``,
    which fails rather than skips when CI is set and the server is down)."""
    new_database = request.getfixturevalue("pg_new_database")
    return new_database().replace("postgresql://", "postgres://")


BACKENDS: dict[str, Backend] = {
    b.name: b
    for b in (
        Backend("duckdb", data_url=_duckdb),
        Backend("postgres", data_url=_postgres, marks=(pytest.mark.postgres,)),
        Backend(
            "spark",
            data_url=_spark,
            marks=(pytest.mark.spark, pytest.mark.slow),
        ),
    )
}
