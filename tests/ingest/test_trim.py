"""The cheap trim used while reading a file gives exactly what ``NULLIF(TRIM(x), '')`` gives."""

from __future__ import annotations

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from salesflow.ingest.read import trimmed

SPACES = [" ", "\t", "\u00a0", "\u2003", "\u3000", "\u202f", "\n"]
CASES = ["", " ", "  a ", "a", "a b", "\u00a0a", "a\u3000", "\tx\t", "é", " é ", "Ünïcode"]


def both(values: list[str | None]) -> list[tuple]:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (x VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[v] for v in values])
    return con.execute(f"SELECT {trimmed('x')}, NULLIF(TRIM(x), '') FROM t").fetchall()


def test_known_values_trim_like_duckdb():
    got = both([*CASES, None])
    assert [a for a, _ in got] == [b for _, b in got]
    assert got[2] == ("a", "a") and got[5] == ("a", "a")  # NBSP counts as a space
    assert got[7][0] == "\tx\t"  # tabs are kept, as DuckDB's TRIM keeps them


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from([*SPACES, "a", "é", "1", "-"]), max_size=6)))
def test_random_values_trim_like_duckdb(values):
    got = both(values or [""])
    assert [a for a, _ in got] == [b for _, b in got]
