"""Alembic: one head, up/down/up with data, migrated schema equal to the models, version guard."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import inspect, text

from salesflow.appdb import (
    AppDbVersionError,
    KnowledgeStore,
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    open_engine,
    upgrade,
)
from salesflow.appdb.migrate import alembic_config
from salesflow.appdb.models import Base

TABLES = {t.name for t in Base.metadata.sorted_tables}


def test_exactly_one_head():
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert heads == [head_revision()]


def test_upgrade_creates_the_database_and_reports_revisions(db_url):
    assert upgrade(db_url) == (None, head_revision())
    assert upgrade(db_url) == (head_revision(), head_revision())  # running it twice is safe
    engine = make_engine(db_url)
    assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    engine.dispose()


def test_migrated_schema_equals_the_models(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    upgrade(db_url)
    engine = make_engine(db_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_upgrade_downgrade_upgrade_with_data_present(db_url):
    upgrade(db_url)
    engine = make_engine(db_url)
    store = KnowledgeStore(engine)
    udr = store.udrs.create("Win rate was 18% in Q2", who="ann")
    cause = store.causes.create("Leads wait 3 days for a first call", who="ann")
    store.links.create(udr.id, cause.id, who="ann")
    imp = store.improvements.create(
        "Call within 1 h", objective="Faster", who="ann", attacks=[cause.id]
    )
    store.checkins.create(imp.id, who="ann")
    store.users.create("ann", role="admin")
    assert downgrade(engine, "base") is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert upgrade(engine) == (None, head_revision())
    assert store.is_empty()
    assert store.udrs.create("Win rate was 17% in Q3", who="ann").id == 1
    engine.dispose()


def test_a_new_database_is_created_when_opened(db_url):
    with KnowledgeStore.open(db_url) as store:
        assert current_revision(store.engine) == head_revision()


def test_an_older_database_is_refused_with_the_command_to_run(db_url):
    upgrade(db_url, "0001")  # as release 0.1 left it
    with pytest.raises(AppDbVersionError) as caught:
        open_engine(db_url)
    assert f"at revision 0001; this salesflow needs {head_revision()}" in caught.value.message
    assert "run `salesflow upgrade`" in caught.value.message


def test_sessions_arrive_with_an_upgrade_that_keeps_accounts_and_tokens(db_url):
    upgrade(db_url, "0001")
    engine = make_engine(db_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, name, role, password_hash, created_at, disabled) "
                "VALUES (1, 'ann', 'admin', 'argon2$x', '2026-01-02 03:04:05', false)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO api_tokens (user_id, token_hash, name, created_at) "
                "VALUES (1, 'sha256:cafe', 'crm', '2026-01-02 03:04:05')"
            )
        )
    assert upgrade(engine) == ("0001", head_revision())
    store = KnowledgeStore(engine)
    token = store.users.token_by_hash("sha256:cafe")
    assert (token.name, token.expires_at) == ("crm", None)
    assert store.sessions.list() == []
    engine.dispose()


def test_a_newer_or_foreign_database_is_refused(db_url):
    upgrade(db_url)
    engine = make_engine(db_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    with pytest.raises(AppDbVersionError, match="made by a newer salesflow"):
        open_engine(db_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM alembic_version"))
    with pytest.raises(AppDbVersionError, match="tables salesflow did not create"):
        open_engine(db_url)
    engine.dispose()


@pytest.mark.postgres
def test_upgrade_creates_a_missing_postgresql_database(pg_url):
    name = f"salesflow_new_{uuid.uuid4().hex[:8]}"
    server = pg_url.rsplit("/", 1)[0]
    try:
        assert upgrade(f"{server}/{name}") == (None, head_revision())
        engine = make_engine(f"{server}/{name}")
        assert "udrs" in inspect(engine).get_table_names()
        engine.dispose()
    finally:
        admin = make_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_an_unreachable_server_is_one_clear_error():
    from salesflow.appdb import AppDbUnavailableError

    with pytest.raises(AppDbUnavailableError) as caught:
        open_engine("postgresql://salesflow:secret@127.0.0.1:1/knowledge")
    message = caught.value.message
    assert message.startswith("Cannot open the app database")
    assert "127.0.0.1:1/knowledge" in message and "secret" not in message
    assert "[app] url in salesflow.toml" in message


def test_the_public_names_are_exactly_all():
    import types

    import salesflow.appdb as appdb

    public = {
        name
        for name, value in vars(appdb).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name != "annotations"
    }
    assert public == set(appdb.__all__)


def test_upgrade_refuses_a_database_from_a_newer_release(db_url):
    upgrade(db_url)
    engine = make_engine(db_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    with pytest.raises(AppDbVersionError) as caught:
        upgrade(db_url)
    assert caught.value.message.startswith(
        "The app database is at revision 0099, made by a newer salesflow than this one "
        f"(which knows revisions up to {head_revision()}); nothing was changed"
    )
    assert "Install the newer salesflow release" in caught.value.message
    assert current_revision(engine) == "0099"  # untouched
    engine.dispose()


def test_upgrade_refuses_a_database_that_is_not_salesflow_s(db_url):
    engine = make_engine(db_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)"))
        connection.execute(text("INSERT INTO customers VALUES (1, 'Acme')"))
    with pytest.raises(AppDbVersionError) as caught:
        upgrade(db_url)
    assert caught.value.message.startswith(
        "The app database holds tables salesflow did not create (customers); nothing was changed"
    )
    assert set(inspect(engine).get_table_names()) == {"customers"}  # nothing added
    with engine.begin() as connection:  # another tool's Alembic history: not "a newer salesflow"
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        connection.execute(text("INSERT INTO alembic_version VALUES ('ae1027a6acf')"))
    with pytest.raises(AppDbVersionError, match="is not a salesflow database: it is at revision"):
        upgrade(db_url)
    with pytest.raises(AppDbVersionError, match="is not a salesflow database"):
        open_engine(db_url)
    engine.dispose()


def test_a_file_that_is_no_database_is_refused_in_words(tmp_path):
    path = tmp_path / "app.db"
    path.write_text("name,amount\nAcme,100\n" * 200)
    with pytest.raises(AppDbVersionError, match=r"is not a salesflow database .*not a database"):
        upgrade(f"sqlite:///{path}")
    assert path.read_text().startswith("name,amount")
