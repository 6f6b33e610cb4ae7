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
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,  # SQLite cannot ALTER most things: copy-and-move tables
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("salesflow migrations run online only: use `salesflow upgrade`")
run_migrations_online()
