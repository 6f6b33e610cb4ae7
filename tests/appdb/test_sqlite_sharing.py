"""The knowledge base in SQLite is shared by the server, the CLI and notebooks: WAL lets readers
read while one writes, and a busy timeout makes a second writer queue instead of failing."""

from __future__ import annotations

import sqlite3
import threading

from sqlalchemy import text

from salesflow.appdb.engine import make_engine


def test_sqlite_files_use_wal_and_a_busy_timeout(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    with engine.connect() as con:
        assert con.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert con.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    engine.dispose()


def test_a_reader_reads_the_last_commit_while_a_write_is_open(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    with engine.begin() as con:
        con.execute(text("CREATE TABLE t (n INTEGER)"))
        con.execute(text("INSERT INTO t VALUES (1)"))
    writer = sqlite3.connect(tmp_path / "app.db", isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    writer.execute("INSERT INTO t VALUES (2)")
    with engine.connect() as con:  # a new connection, not blocked, sees what was committed
        assert con.execute(text("SELECT sum(n) FROM t")).scalar() == 1
    threading.Timer(0.5, lambda: writer.execute("COMMIT")).start()
    with engine.begin() as con:  # a second writer waits for the first instead of failing
        con.execute(text("INSERT INTO t VALUES (4)"))
    with engine.connect() as con:
        assert con.execute(text("SELECT sum(n) FROM t")).scalar() == 7
    writer.close()
    engine.dispose()
