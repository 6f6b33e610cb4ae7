"""Alembic environment: runs on the engine salesflow hands over (see ``salesflow.appdb.migrate``)."""

from __future__ import annotations

from alembic import context

from salesflow.appdb.engine import make_engine
from salesflow.appdb.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:  # plain `alembic -x url=...` from a developer's shell
        engine = make_engine(context.get_x_argument(as_dictionary=True)["url"])
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # a batch copy drops the old table: ON DELETE CASCADE would empty its children
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,  # SQLite cannot ALTER most things: copy-and-move tables
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                _check_foreign_keys(connection)
        connection.commit()
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")


def _check_foreign_keys(connection) -> None:
    """With the checks off during the copy, prove every reference still holds before committing."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"The migration left rows pointing at nothing: {broken[:5]}")


if context.is_offline_mode():
    raise SystemExit("salesflow migrations run online only: use `salesflow upgrade`")
run_migrations_online()
