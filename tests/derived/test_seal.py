"""The seal an import leaves beside the DuckDB data file: the next import (and ``salesflow
flow``) may trust the stored fingerprint without a checksum of every stage event, only while
no program has written to the file since. The oracle is the full checksum (``is_fresh``) and a
full rebuild."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import timedelta

import duckdb
import pytest
from test_incremental import (
    STAGES,
    T0,
    assert_same,
    flow_state,
    history,
    spy_update,
    with_deals,
    write_events,
)

from salesflow import derived
from salesflow.derived.seal import SEAL_SUFFIX, sealed_fingerprint, write_seal
from salesflow.ingest import import_file

DEALS = [f"D{i:03d}" for i in range(60)]


def sealed_workspace(workspace, tmp_path):
    """Sixty deals with histories, imported: the file and its seal."""
    with_deals(workspace, tmp_path, DEALS)
    import_file(workspace, "stage_events", write_events(tmp_path / "a.csv", history(5, DEALS)))
    file = workspace.data_file
    return file, file.with_name(file.name + SEAL_SUFFIX)


def checksums(monkeypatch) -> list[str]:
    """Each full checksum of a stage_events table computed from here on (its table name)."""
    calls: list[str] = []
    real = derived._duckdb_summary
    monkeypatch.setattr(derived, "_duckdb_summary", lambda raw, t: calls.append(t) or real(raw, t))
    return calls


def attached_fresh(file, settings) -> bool:
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{file}' AS ws (READ_ONLY)")
        return derived.is_fresh_attached(con, settings, "ws")
    finally:
        con.close()


def later_events(deals: list[str]) -> list[tuple]:
    later = T0 + timedelta(days=900)
    return [(d, STAGES[i % 5], later + timedelta(hours=i)) for i, d in enumerate(deals)]


def test_an_import_seals_the_file_and_the_next_one_skips_the_checksum(
    workspace, tmp_path, monkeypatch
):
    file, seal = sealed_workspace(workspace, tmp_path)
    stored = json.loads(seal.read_text())["fingerprint"]
    assert json.loads(stored) == json.loads(
        workspace.data.con.execute("SELECT fingerprint FROM flow_meta").fetchone()[0]
    )
    workspace.close()
    calls, paths = checksums(monkeypatch), spy_update(monkeypatch)
    assert attached_fresh(file, workspace.settings) and calls == []
    appended = write_events(tmp_path / "b.csv", later_events(DEALS[:6]))
    import_file(workspace, "stage_events", appended)
    assert calls == [] and paths == [True]  # the update, on the seal's word alone
    con = workspace.data.con
    assert derived.is_fresh(workspace.data, workspace.settings)  # the full checksum agrees
    updated = flow_state(con)
    derived.refresh(workspace.data, workspace.settings)
    assert_same(updated, flow_state(con))


def test_a_write_by_another_program_breaks_the_seal(workspace, tmp_path, monkeypatch):
    file, seal = sealed_workspace(workspace, tmp_path)
    workspace.close()
    other = duckdb.connect(str(file))  # another program adds an event before a deal's last one
    other.execute("INSERT INTO stage_events (opportunity_id, stage, entered_at) VALUES (?, ?, ?)",
                  [DEALS[3], "Proposal", T0 - timedelta(days=3)])  # fmt: skip
    other.close()
    assert seal.exists()
    calls, paths = checksums(monkeypatch), spy_update(monkeypatch)
    assert not attached_fresh(file, workspace.settings) and calls  # it was checked, found stale
    import_file(
        workspace, "stage_events", write_events(tmp_path / "b.csv", later_events(DEALS[:2]))
    )
    assert paths == []  # stale before the import: a full rebuild, the other program's row in it
    con = workspace.data.con
    got = flow_state(con)
    assert (got["transitions"]["opportunity_id"] == DEALS[3]).sum() >= 1
    derived.refresh(workspace.data, workspace.settings)
    assert_same(got, flow_state(con))


def test_changed_stage_settings_are_stale_even_under_a_seal(workspace, tmp_path, monkeypatch):
    file, _ = sealed_workspace(workspace, tmp_path)
    workspace.close()
    s = workspace.settings
    swapped = (s.stages.order[1], s.stages.order[0], *s.stages.order[2:])
    other = dataclasses.replace(s, stages=dataclasses.replace(s.stages, order=swapped))
    calls = checksums(monkeypatch)
    assert attached_fresh(file, s) and not attached_fresh(file, other) and calls == []


@pytest.fixture
def small_file(tmp_path):
    file = tmp_path / "data.duckdb"
    con = duckdb.connect(str(file))
    con.execute("CREATE TABLE t AS SELECT 1 AS x")
    con.close()
    return file


FINGERPRINT = json.dumps({"version": 3, "rows": 1, "checksum": "7"}, sort_keys=True)


def test_the_seal_vouches_only_for_the_file_it_sealed(small_file):
    seal = small_file.with_name(small_file.name + SEAL_SUFFIX)
    assert sealed_fingerprint(small_file, FINGERPRINT) is None  # no seal
    write_seal(small_file, FINGERPRINT)
    assert sealed_fingerprint(small_file, FINGERPRINT) == json.loads(FINGERPRINT)
    assert seal.stat().st_mode & 0o777 == 0o600  # as private as the workspace's other files
    assert sealed_fingerprint(small_file, FINGERPRINT.replace("7", "8")) is None  # other tables
    assert sealed_fingerprint(None, FINGERPRINT) is None  # in memory
    wal = small_file.with_name(small_file.name + ".wal")
    wal.write_bytes(b"x")  # committed changes not yet in the file
    assert sealed_fingerprint(small_file, FINGERPRINT) is None
    wal.unlink()
    assert sealed_fingerprint(small_file, FINGERPRINT) is not None
    st = seal.stat()  # the file written in the seal's own clock tick: not to be trusted
    os.utime(seal, ns=(st.st_atime_ns, small_file.stat().st_mtime_ns))
    assert sealed_fingerprint(small_file, FINGERPRINT) is None
    write_seal(small_file, FINGERPRINT)
    con = duckdb.connect(str(small_file))  # any write changes the file's identity
    con.execute("INSERT INTO t VALUES (2)")
    con.close()
    assert sealed_fingerprint(small_file, FINGERPRINT) is None
    seal.write_text("not json")
    assert sealed_fingerprint(small_file, FINGERPRINT) is None


def test_a_seal_that_cannot_be_written_is_no_seal(small_file):
    """A seal is a cache: an old one is removed when a new one cannot be written."""
    seal = small_file.with_name(small_file.name + SEAL_SUFFIX)
    write_seal(small_file, FINGERPRINT)
    tmp = seal.with_name(seal.name + ".tmp")
    tmp.mkdir()  # the new seal's temporary file cannot be created
    write_seal(small_file, FINGERPRINT.replace("7", "9"))
    assert not seal.exists()
    assert sealed_fingerprint(small_file, FINGERPRINT) is None
