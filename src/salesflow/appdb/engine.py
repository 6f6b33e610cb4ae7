"""Engines and sessions for the app database (SQLite by default, PostgreSQL for a team).

``make_engine`` is the one place connection details live: SQLite gets foreign keys, WAL (with
``synchronous=NORMAL``: a power cut may lose the last commit, never corrupt the file) and a busy timeout so the CLI and a web server can share one file; ``postgresql://`` URLs are sent to
psycopg 3 (the ``postgres`` extra installs it). Nothing connects until a caller asks for a connection.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["make_engine", "make_session_factory", "normalise_url"]


def normalise_url(url: str) -> str:
    """Point ``postgresql://`` and ``postgres://`` URLs at psycopg 3 (psycopg2 is not installed)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for the app DB at ``url``; lazy: no connection is opened here."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, **kwargs)
        in_memory = parsed.database in (None, "", ":memory:")
        event.listen(engine, "connect", _sqlite_pragmas(wal=not in_memory))
        return engine
    try:
        return create_engine(url, pool_pre_ping=True, **kwargs)
    except ImportError as exc:  # psycopg comes with the `postgres` extra
        from salesflow.errors import ConfigError

        raise ConfigError(
            f"The app database {parsed.render_as_string(hide_password=True)!r} needs a driver "
            f"that is not installed ({exc.name or exc})",
            hint="Install it with `pip install 'salesflow[postgres]'`",
        ) from exc


def _sqlite_pragmas(*, wal: bool):
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        # readers never wait for the writer; NORMAL sync is safe with WAL, fsync at checkpoints.
        # The mode is kept in the file: switching it needs a lock a writer may hold, so a new
        # connection (a CLI run during a server's write) only switches a file not yet in WAL.
        if wal and cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            cursor.execute("PRAGMA journal_mode=WAL")
        if wal:
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (callers get plain records anyway)."""
    return sessionmaker(engine, expire_on_commit=False)
