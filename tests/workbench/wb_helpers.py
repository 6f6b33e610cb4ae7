"""Helpers for the workbench tests: an app DB in a fresh PostgreSQL schema, pointed at by a workspace."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path


def pg_schema_url(pg_url: str) -> Iterator[str]:
    """A postgresql+psycopg URL whose connections see only a new, empty schema."""
    from sqlalchemy import text

    from salesflow.appdb import make_engine

    schema = f"wb_{uuid.uuid4().hex[:12]}"
    admin = make_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    base = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def use_app_url(workspace: Path, url: str) -> None:
    """Point a workspace's ``[app] url`` at another database (as a team would in salesflow.toml)."""
    config = workspace / "salesflow.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('url = "sqlite:///app.db"', f'url = "{url}"'), encoding="utf-8")
    (workspace / "app.db").unlink(missing_ok=True)
