"""The engine versions we pin work together (a regression here broke DDL once)."""

from __future__ import annotations


def test_ibis_can_drop_and_overwrite_tables_on_duckdb():
    import ibis

    con = ibis.duckdb.connect()
    con.create_table("t", ibis.memtable({"a": [1, 2]}))
    con.create_table("t", ibis.memtable({"a": [3]}), overwrite=True)
    assert con.table("t").a.sum().execute() == 3
    con.drop_table("t")
    assert "t" not in con.list_tables()
