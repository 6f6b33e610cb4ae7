"""App DB fixtures: one test body on SQLite and on PostgreSQL (a fresh schema per test)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import typer


def _pg_schema_url(pg_url: str, schema: str) -> str:
    base = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}?options=-csearch_path%3D{schema}"


@pytest.fixture
def pg_schema_url(pg_shared_url: str) -> Iterator[str]:
    """A URL whose connections see only a new, empty schema of the test run's database."""
    from sqlalchemy import text

    from salesflow.appdb import make_engine

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(pg_shared_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_schema_url(pg_shared_url, schema)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An app DB URL that does not exist yet: a SQLite file or an empty PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.db'}"
    return request.getfixturevalue("pg_schema_url")


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy (migrating per test is the slow part)."""
    from salesflow.appdb import upgrade

    path = tmp_path_factory.mktemp("appdb") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@contextmanager
def _migrated_schema(pg_url: str) -> Iterator[str]:
    from sqlalchemy import text

    from salesflow.appdb import make_engine, upgrade

    schema = f"s_{uuid.uuid4().hex[:12]}"
    admin = make_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = _pg_schema_url(pg_url, schema)
    upgrade(url)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def _pg_migrated(pg_shared_url: str) -> Iterator[str]:
    """One migrated PostgreSQL schema for the session; tests empty it before use."""
    with _migrated_schema(pg_shared_url) as url:
        yield url


@pytest.fixture(scope="session")
def _pg_migrated_target(pg_shared_url: str) -> Iterator[str]:
    """A second one, for tests that copy knowledge from one database to another."""
    with _migrated_schema(pg_shared_url) as url:
        yield url


def _empty_postgres(url: str) -> None:
    """DELETE and restart the id sequences: much cheaper than TRUNCATE on a handful of rows."""
    from sqlalchemy import text

    from salesflow.appdb import make_engine
    from salesflow.appdb.models import Base

    tables = list(reversed(Base.metadata.sorted_tables))
    statements = [f"DELETE FROM {t.name}" for t in tables]
    statements += [
        f"SELECT setval(pg_get_serial_sequence('{t.name}', 'id'), 1, false)"
        for t in tables
        if "id" in t.c and t.c.id.autoincrement is not False and not t.c.id.foreign_keys
    ]
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("; ".join(statements)))
    engine.dispose()


def _fresh_url(request: pytest.FixtureRequest, path: Path, pg_fixture: str) -> str:
    if request.param == "sqlite":
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue(pg_fixture)
    _empty_postgres(url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty app DB at the newest revision: a SQLite file or a PostgreSQL schema."""
    return _fresh_url(request, tmp_path / "app.db", "_pg_migrated")


@pytest.fixture
def store(store_url: str):
    from salesflow.appdb import KnowledgeStore

    with KnowledgeStore.open(store_url) as opened:
        yield opened


@pytest.fixture
def appdb_cli(cli):
    """The shared CLI runner on an app holding just the app DB commands (wired or not yet)."""
    from salesflow.cli import appdb_cmds
    from salesflow.cli.common import new_app

    app: typer.Typer = new_app("app DB commands under test")
    appdb_cmds.register(app)

    @app.callback()
    def _root() -> None:
        """Keep subcommand names even with a single group."""

    cli.app = app
    return cli


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def target_store(request: pytest.FixtureRequest, tmp_path: Path):
    """A second, empty knowledge base (independent of ``store``'s backend) to import into."""
    from salesflow.appdb import KnowledgeStore

    url = _fresh_url(request, tmp_path / "target.db", "_pg_migrated_target")
    with KnowledgeStore.open(url) as opened:
        yield opened
