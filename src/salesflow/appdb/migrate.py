"""Alembic migrations, run from code: no ``alembic.ini`` is needed at runtime.

``upgrade(url)`` brings any app DB to the newest schema (creating it when missing);
``open_engine(url)`` is what commands use to get a ready engine: it upgrades a brand-new database
by itself but refuses an existing one at an older revision, so nobody's data is changed without a
deliberate ``salesflow upgrade``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DatabaseError, DBAPIError, OperationalError

from salesflow.appdb.engine import make_engine, normalise_url
from salesflow.appdb.errors import AppDbUnavailableError, AppDbVersionError
from salesflow.filemodes import touch_private

__all__ = [
    "alembic_config",
    "current_revision",
    "describe_url",
    "downgrade",
    "head_revision",
    "open_engine",
    "upgrade",
]

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations (and at ``engine`` when given)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest migration this release ships."""
    head = _scripts().get_current_head()
    assert head is not None, "salesflow ships at least one migration"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision stamped in the database, or None for a database never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(url: str | Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate to ``revision`` (default: newest); returns the revisions before and after."""
    engine = url if isinstance(url, Engine) else _engine_creating_database(url)
    try:
        before = _revision(engine, url if isinstance(url, str) else None)
        _refuse_unknown(engine, before, url if isinstance(url, str) else None)
        command.upgrade(alembic_config(engine), revision)
        return before, current_revision(engine)
    finally:
        if not isinstance(url, Engine):
            engine.dispose()


def downgrade(url: str | Engine, revision: str) -> str | None:
    """Migrate down to ``revision`` (``base`` removes every table); returns the new revision."""
    engine = url if isinstance(url, Engine) else make_engine(url)
    try:
        command.downgrade(alembic_config(engine), revision)
        return current_revision(engine)
    finally:
        if not isinstance(url, Engine):
            engine.dispose()


def open_engine(url: str) -> Engine:
    """An engine on an app DB at the newest revision: new databases are created, old ones refused."""
    engine = _engine_creating_database(url)
    try:
        current = _revision(engine, url)
    except AppDbVersionError:
        engine.dispose()
        raise
    head = head_revision()
    if current == head:
        return engine
    if current is None and not _tables(engine):
        upgrade(engine)
        return engine
    try:
        _refuse_unknown(engine, current, url)
    finally:
        engine.dispose()
    raise _version_error(url, current, head)


def _revision(engine: Engine, url: str | None) -> str | None:
    """The stamped revision; a file that is no database at all is refused in words."""
    try:
        return current_revision(engine)
    except DatabaseError as exc:
        if isinstance(exc, OperationalError):  # locked, unreachable: never "not ours"
            raise _unavailable(url or str(engine.url), exc) from None
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise AppDbVersionError(
            f"The app database is not a salesflow database ({reason}); nothing was changed",
            where=describe_url(url or engine.url.render_as_string(hide_password=True)),
            hint="Point [app] url in salesflow.toml at an empty database or a salesflow one",
        ) from None


#: Tables every salesflow app DB has had since its first release.
OWN_TABLES = frozenset({"nodes", "udrs", "causes", "history"})


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def _refuse_unknown(engine: Engine, current: str | None, url: str | None) -> None:
    """Refuse a database this release must not migrate: not salesflow's, or from a newer release."""
    tables = _tables(engine)
    url = url or engine.url.render_as_string(hide_password=True)
    if current is None and tables:
        raise _version_error(url, None, head_revision(), tables)
    if current is not None and current not in _known_revisions():
        if tables >= OWN_TABLES:
            raise _version_error(url, current, head_revision())
        raise AppDbVersionError(
            f"The app database is not a salesflow database: it is at revision {current} of "
            "something else, and holds none of salesflow's tables; nothing was changed",
            where=describe_url(url),
            hint="Point [app] url in salesflow.toml at an empty database or a salesflow one",
        )


def _known_revisions() -> set[str]:
    return {s.revision for s in _scripts().walk_revisions()}


def _version_error(
    url: str, current: str | None, head: str, tables: set[str] | None = None
) -> AppDbVersionError:
    where = describe_url(url)
    if current is None:
        listed = ", ".join(sorted(tables or ())[:5])
        return AppDbVersionError(
            "The app database holds tables salesflow did not create"
            + (f" ({listed})" if listed else "")
            + "; nothing was changed",
            where=where,
            hint="Point [app] url in salesflow.toml at an empty database or a salesflow one",
        )
    if current not in _known_revisions():
        return AppDbVersionError(
            f"The app database is at revision {current}, made by a newer salesflow than this "
            f"one (which knows revisions up to {head}); nothing was changed",
            where=where,
            hint="Install the newer salesflow release to open it",
        )
    return AppDbVersionError(
        f"The app database is at revision {current}; this salesflow needs {head}",
        where=where,
        hint="Back it up, then run `salesflow upgrade`",
    )


def describe_url(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(normalise_url(url)).render_as_string(hide_password=True)


def _engine_creating_database(url: str) -> Engine:
    """SQLite creates its file on first connect (we make the folder); PostgreSQL needs CREATE DATABASE."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            touch_private(Path(parsed.database).expanduser())  # 0600, and so are its journals
        return make_engine(url)
    engine = make_engine(url)
    try:
        engine.connect().close()
    except OperationalError as exc:
        missing = parsed.get_backend_name() == "postgresql" and "does not exist" in str(exc)
        if not missing or not parsed.database:
            raise _unavailable(url, exc) from None
        _create_postgres_database(parsed, url)
    return engine


def _unavailable(url: str, exc: Exception, doing: str = "open") -> AppDbUnavailableError:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return AppDbUnavailableError(
        f"Cannot {doing} the app database: {reason}",
        where=describe_url(url),
        hint="Check [app] url in salesflow.toml (or SALESFLOW_APP_URL) and that the server is running",
    )


def _create_postgres_database(parsed: URL, url: str) -> None:
    admin = make_engine(
        parsed.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    try:
        with admin.connect() as connection:
            quoted = parsed.database.replace('"', '""')  # type: ignore[union-attr]
            connection.execute(text(f'CREATE DATABASE "{quoted}"'))
    except DBAPIError as exc:
        raise _unavailable(url, exc, doing="create") from None
    finally:
        admin.dispose()
