"""A database written by release 0.1 (tests/appdb/data/app_v0_1.db) upgrades and loses nothing."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from salesflow.appdb import KnowledgeStore, current_revision, head_revision, upgrade

from .make_old_db import ROWS

OLD = Path(__file__).parent / "data" / "app_v0_1.db"


def _counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as con:
        return {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ROWS}


def test_the_stored_file_is_at_revision_0001_with_rows_in_every_table():
    with sqlite3.connect(OLD) as con:
        assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]
    assert _counts(OLD) == {table: len(rows) for table, rows in ROWS.items()}
    assert all(_counts(OLD).values())


def test_upgrade_brings_it_to_head_without_losing_rows(tmp_path):
    path = tmp_path / "app.db"
    shutil.copy(OLD, path)
    before = _counts(path)
    assert upgrade(f"sqlite:///{path}") == ("0001", head_revision())
    assert _counts(path) == before
    with KnowledgeStore.open(f"sqlite:///{path}") as store:
        assert current_revision(store.engine) == head_revision()
        udr = store.udrs.get(1)
        assert udr.binding["threshold"] == 10.0 and udr.tags == ["pricing"]
        assert [u.id for u in store.udrs.list()] == [1]  # UDR 4 was deleted in 0.1
        assert store.udrs.get(4, include_deleted=True).deleted_at is not None
        assert [(x.effect_id, x.cause_id) for x in store.links.list()] == [(1, 2), (2, 3)]
        assert store.improvements.get(1).attacks == (2,)
        assert store.checkins.list(1)[0].measure_value == 8.5
        assert [h.action for h in store.udrs.history(1)] == ["create", "update"]
        assert store.users.by_name("ann").password_hash == "argon2$old-hash"
        # and it keeps working: a new UDR takes the next free node id
        assert store.udrs.create("Win rate 20% in Q1", who="ann").id == 5
