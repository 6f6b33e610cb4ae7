"""Incremental refresh: after an import only the deals it touched are recomputed, and the result
equals a full rebuild (the independent oracle); stage changes and stale tables force a rebuild."""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from salesflow import derived
from salesflow.ingest import import_file
from salesflow.metrics.process_map import process_map

T0 = datetime(2024, 3, 1, 9, 0, 0)
STAGES = ["Lead", "Qualified", "Discovery", "Proposal", "Negotiation", "Won", "Lost"]


def history(seed: int, deals: list[str]) -> list[tuple[str, str, datetime]]:
    """Random stage histories (moves back, repeats, equal timestamps) for ``deals``."""
    rng = random.Random(seed)
    rows = set()
    for deal in deals:
        at = T0 + timedelta(hours=rng.randrange(0, 5000))
        for _ in range(rng.randrange(1, 7)):
            rows.add((deal, rng.choice(STAGES), at))
            at += timedelta(hours=rng.choice([0, 1, 30, 200]))
    return sorted(rows)


def write_events(path: Path, rows: list[tuple[str, str, datetime]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["opportunity_id", "stage", "entered_at"])
        out.writerows((o, s, at.isoformat(sep=" ")) for o, s, at in rows)
    return path


def with_deals(workspace, folder: Path, deals: list[str]) -> None:
    """Import the deals first (the importer refuses events of unknown deals)."""
    path = folder / "opportunities.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["opportunity_id", "created_at"])
        out.writerows((d, T0.isoformat(sep=" ")) for d in deals)
    import_file(workspace, "opportunities", path)


def flow_state(con) -> dict[str, pd.DataFrame]:
    """The flow tables with variant ids replaced by their codes (ids are arbitrary labels)."""
    cases = con.execute(
        "SELECT c.* EXCLUDE (variant_id), v.codes FROM flow_cases c "
        "JOIN flow_variants v USING (variant_id) ORDER BY opportunity_id"
    ).df()
    return {
        "cases": cases,
        "transitions": con.execute("SELECT * FROM flow_transitions ORDER BY 1, 2").df(),
        "variants": con.execute("SELECT codes, n_cases FROM flow_variants ORDER BY 1").df(),
        "stages": con.execute("SELECT * FROM flow_stages ORDER BY code").df(),
    }


def assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_dtype=False, obj=name)


@pytest.mark.parametrize("replace", [True, False], ids=["replace-history", "add-to-history"])
def test_reimport_of_some_deals_equals_a_full_rebuild(workspace, tmp_path, monkeypatch, replace):
    deals = [f"D{i:03d}" for i in range(120)]
    with_deals(workspace, tmp_path, deals)
    first = history(1, deals)
    import_file(
        workspace, "stage_events", write_events(tmp_path / "a.csv", first), replace_history=True
    )
    paths = []  # which way each refresh went (the real function runs; we only listen)
    from salesflow.derived import duckdb_build

    chosen = duckdb_build.update
    monkeypatch.setattr(duckdb_build, "update", lambda *a: paths.append(chosen(*a)) or paths[-1])
    touched = deals[:25]  # new histories for a fifth of the deals, new variants among them
    second = history(2, touched)
    report = import_file(
        workspace, "stage_events", write_events(tmp_path / "b.csv", second), replace_history=replace
    )
    assert report.rows_written == len(second)
    assert paths == [True]  # incremental, not a rebuild
    con = workspace.data.con
    assert derived.is_fresh(workspace.data, workspace.settings)
    updated = flow_state(con)
    before_map = process_map(workspace.data, workspace.settings, top=1000)
    derived.refresh(workspace.data, workspace.settings)  # full rebuild: the oracle
    assert_same(updated, flow_state(con))
    assert process_map(workspace.data, workspace.settings, top=1000) == before_map
    untouched = [r for r in first if r[0] not in touched]
    kept = untouched if replace else first
    stored = workspace.data.con.execute("SELECT count(*) FROM stage_events").fetchone()[0]
    assert stored == len(set(kept) | set(second))
    if replace:
        assert len(updated["transitions"]) == len(untouched) + len(second) - len(deals)


def test_only_the_named_deals_are_recomputed(workspace, tmp_path):
    """Proof the update is incremental: a deal changed behind its back keeps its old rows."""
    deals = ["A", "B", *(f"X{i:02d}" for i in range(20))]
    with_deals(workspace, tmp_path, deals)
    import_file(workspace, "stage_events", write_events(tmp_path / "a.csv", history(3, deals)))
    con = workspace.data.con
    old_b = con.execute("SELECT * FROM flow_cases WHERE opportunity_id = 'B'").fetchall()
    con.execute("DELETE FROM stage_events WHERE opportunity_id IN ('A', 'B')")
    con.execute(
        "INSERT INTO stage_events (opportunity_id, stage, entered_at) VALUES "
        f"('A', 'Lead', '{T0}'), ('A', 'Won', '{T0 + timedelta(hours=5)}'), "
        f"('B', 'Lead', '{T0}'), ('B', 'Lost', '{T0 + timedelta(hours=7)}')"
    )
    derived.refresh(workspace.data, workspace.settings, changed=["A"])
    got = con.execute(
        "SELECT n_events, duration_ms, last_stage FROM flow_cases WHERE opportunity_id = 'A'"
    ).fetchall()
    assert got == [(2, 5 * 3_600_000, "Won")]
    assert con.execute("SELECT * FROM flow_cases WHERE opportunity_id = 'B'").fetchall() == old_b
    derived.refresh(workspace.data, workspace.settings)  # no ids: everything
    transitions = (
        "SELECT f.stage, g.stage FROM flow_transitions t JOIN flow_stages f ON f.code = t.from_code "
        "JOIN flow_stages g ON g.code = t.to_code WHERE opportunity_id = 'B'"
    )
    assert con.execute(transitions).fetchall() == [("Lead", "Lost")]


def test_a_new_stage_in_the_data_rebuilds_everything(workspace, tmp_path):
    deals = [f"D{i:02d}" for i in range(40)]
    with_deals(workspace, tmp_path, deals)
    rows = [r for r in history(5, deals) if r[1] != "Discovery"]
    import_file(workspace, "stage_events", write_events(tmp_path / "a.csv", rows))
    con = workspace.data.con
    assert "Discovery" not in {
        r[0] for r in con.execute("SELECT stage FROM flow_stages").fetchall()
    }
    extra = [("D00", "Lead", T0), ("D00", "Discovery", T0 + timedelta(hours=3))]
    import_file(workspace, "stage_events", write_events(tmp_path / "b.csv", extra))
    con = workspace.data.con
    updated = flow_state(con)
    assert "Discovery" in set(updated["stages"]["stage"])
    derived.refresh(workspace.data, workspace.settings)
    assert_same(updated, flow_state(con))


def test_appended_events_of_old_and_new_deals_equal_a_full_rebuild(
    workspace, tmp_path, monkeypatch
):
    """Events added after a deal's last one and deals seen for the first time; a variant whose
    only deals all move on disappears, as in a full rebuild."""
    old = [f"D{i:03d}" for i in range(80)]
    new = [f"N{i:02d}" for i in range(15)]
    with_deals(workspace, tmp_path, old + new)
    import_file(workspace, "stage_events", write_events(tmp_path / "a.csv", history(7, old)))
    rng = random.Random(8)
    later = T0 + timedelta(days=400)
    appended = [(d, rng.choice(STAGES), later + timedelta(hours=i)) for i, d in enumerate(old[:30])]
    appended += history(9, new)
    con = workspace.data.con
    con.executemany(
        "INSERT INTO stage_events (opportunity_id, stage, entered_at) VALUES (?, ?, ?)", appended
    )
    from salesflow.derived import duckdb_build

    paths = []
    chosen = duckdb_build.update
    monkeypatch.setattr(duckdb_build, "update", lambda *a: paths.append(chosen(*a)) or paths[-1])
    touched = sorted({d for d, _, _ in appended})
    derived.refresh(workspace.data, workspace.settings, changed=touched)
    assert paths == [True]  # incremental, not a rebuild
    assert derived.is_fresh(workspace.data, workspace.settings)
    updated = flow_state(con)
    assert set(updated["cases"]["opportunity_id"]) >= set(new)
    assert (updated["variants"]["n_cases"] > 0).all()
    derived.refresh(workspace.data, workspace.settings)  # full rebuild: the oracle
    assert_same(updated, flow_state(con))


def spy_update(monkeypatch) -> list[bool]:
    """Which way each refresh went: True for an update of the named deals, False for a rebuild."""
    from salesflow.derived import duckdb_build

    paths: list[bool] = []
    chosen = duckdb_build.update
    monkeypatch.setattr(duckdb_build, "update", lambda *a: paths.append(chosen(*a)) or paths[-1])
    return paths


def stored_fingerprint(con) -> dict:
    import json

    return json.loads(con.execute("SELECT fingerprint FROM flow_meta").fetchone()[0])


def test_edits_of_every_kind_equal_a_full_rebuild(workspace, tmp_path, monkeypatch):
    """One update with a new deal, an event added after a deal's last one, a deal moving back a
    stage, an event put in the middle of a history, a deal whose events are all deleted, and the
    deals holding the first and the last event time rewritten inside the range (so the
    fingerprint's bounds must be looked up again): equal to a full rebuild, and fresh."""
    deals = [f"D{i:03d}" for i in range(60)]
    with_deals(workspace, tmp_path, [*deals, "NEW"])
    import_file(workspace, "stage_events", write_events(tmp_path / "a.csv", history(21, deals)))
    con = workspace.data.con
    first, last = con.execute(
        "SELECT arg_min(opportunity_id, entered_at), arg_max(opportunity_id, entered_at) "
        "FROM stage_events"
    ).fetchone()
    lo, hi = con.execute("SELECT min(entered_at), max(entered_at) FROM stage_events").fetchone()
    mid = lo + (hi - lo) / 2
    others = [d for d in deals if d not in (first, last)]
    back, middle, gone, after = others[:4]
    con.execute(f"DELETE FROM stage_events WHERE opportunity_id IN ('{first}', '{last}', '{gone}')")
    rows = [
        (first, "Lead", mid),
        (first, "Proposal", mid + timedelta(hours=3)),
        (last, "Qualified", mid + timedelta(hours=1)),
        ("NEW", "Lead", mid),
        ("NEW", "Won", mid + timedelta(days=2)),
    ]
    at_back, at_after = (
        con.execute(
            f"SELECT max(entered_at) FROM stage_events WHERE opportunity_id = '{d}'"
        ).fetchone()[0]
        for d in (back, after)
    )
    rows += [(back, "Negotiation", at_back + timedelta(hours=1))]
    rows += [(back, "Qualified", at_back + timedelta(hours=2))]  # moves back a stage
    rows += [(after, "Won", at_after + timedelta(days=1))]
    span = con.execute(
        f"SELECT min(entered_at), max(entered_at) FROM stage_events WHERE opportunity_id = '{middle}'"
    ).fetchone()
    rows += [(middle, "Discovery", span[0] + (span[1] - span[0]) / 2 + timedelta(seconds=1))]
    con.executemany(
        "INSERT INTO stage_events (opportunity_id, stage, entered_at) VALUES (?, ?, ?)", rows
    )
    paths = spy_update(monkeypatch)
    touched = [first, last, gone, back, middle, after, "NEW"]
    derived.refresh(workspace.data, workspace.settings, changed=touched)
    assert paths == [True]
    assert stored_fingerprint(con) == derived.fingerprint(workspace.data, workspace.settings)
    assert derived.is_fresh(workspace.data, workspace.settings)
    updated = flow_state(con)
    assert gone not in set(updated["cases"]["opportunity_id"])
    assert (updated["variants"]["n_cases"] > 0).all()
    derived.refresh(workspace.data, workspace.settings)  # full rebuild: the oracle
    assert_same(updated, flow_state(con))


@pytest.mark.parametrize("seed", [31])
def test_random_edits_equal_a_full_rebuild(workspace, tmp_path, monkeypatch, seed):
    """Random histories replaced, extended or cleared for a few deals, again and again."""
    deals = [f"D{i:03d}" for i in range(50)]
    with_deals(workspace, tmp_path, deals)
    import_file(workspace, "stage_events", write_events(tmp_path / "a.csv", history(seed, deals)))
    con = workspace.data.con
    rng = random.Random(seed)
    paths = spy_update(monkeypatch)
    for step in range(4):
        touched = rng.sample(deals, 6)
        keep = touched[:2]  # extended; the others replaced (or emptied)
        con.execute(
            "DELETE FROM stage_events WHERE opportunity_id IN ("
            + ", ".join(f"'{d}'" for d in touched[2:])
            + ")"
        )
        rows = [r for r in history(seed * 10 + step, touched[2:5])]
        rows += [
            (d, rng.choice(STAGES), T0 + timedelta(hours=rng.randrange(0, 6000))) for d in keep
        ]
        con.executemany(
            "INSERT INTO stage_events (opportunity_id, stage, entered_at) VALUES (?, ?, ?)",
            sorted(set(rows)),
        )
        derived.refresh(workspace.data, workspace.settings, changed=touched)
        assert derived.is_fresh(workspace.data, workspace.settings)
        updated = flow_state(con)
        derived.refresh(workspace.data, workspace.settings)
        assert_same(updated, flow_state(con))
    assert True in paths  # at least some of them were updates, not rebuilds


def test_a_stage_that_disappears_rebuilds_everything(workspace, tmp_path, monkeypatch):
    deals = ["A", "B", "C"]
    with_deals(workspace, tmp_path, deals)
    rows = [
        ("A", "Lead", T0),
        ("A", "Discovery", T0 + timedelta(hours=1)),
        ("B", "Lead", T0),
        ("B", "Won", T0 + timedelta(hours=2)),
        ("C", "Lead", T0),
        ("C", "Lost", T0 + timedelta(hours=2)),
    ]
    import_file(workspace, "stage_events", write_events(tmp_path / "a.csv", rows))
    con = workspace.data.con
    con.execute("DELETE FROM stage_events WHERE opportunity_id = 'A' AND stage = 'Discovery'")
    paths = spy_update(monkeypatch)
    derived.refresh(workspace.data, workspace.settings, changed=["A"])
    assert paths == [False]  # Discovery is gone: codes move, so everything is rebuilt
    assert "Discovery" not in set(flow_state(con)["stages"]["stage"])
    assert derived.is_fresh(workspace.data, workspace.settings)


def test_tables_of_the_portable_build_are_rebuilt_not_updated(workspace, tmp_path, monkeypatch):
    """The Ibis build keeps no per-deal checksums: an update cannot vouch for them, so the
    DuckDB build replaces them (and its result equals a full rebuild)."""
    deals = [f"D{i:02d}" for i in range(20)]
    with_deals(workspace, tmp_path, deals)
    import_file(workspace, "stage_events", write_events(tmp_path / "a.csv", history(41, deals)))
    derived.refresh(workspace.data, workspace.settings, portable=True)
    con = workspace.data.con
    con.execute(
        "INSERT INTO stage_events (opportunity_id, stage, entered_at) "
        f"VALUES ('D00', 'Won', '{T0 + timedelta(days=900)}')"
    )
    paths = spy_update(monkeypatch)
    derived.refresh(workspace.data, workspace.settings, changed=["D00"])
    assert paths == [False]
    assert derived.is_fresh(workspace.data, workspace.settings)
    updated = flow_state(con)
    derived.refresh(workspace.data, workspace.settings)
    assert_same(updated, flow_state(con))


def test_a_changed_deal_with_a_row_without_time_rebuilds(workspace, tmp_path, monkeypatch):
    """Such a row counts in the fingerprint but in no flow table (nor its deal's checksum)."""
    deals = [f"D{i:02d}" for i in range(10)]
    with_deals(workspace, tmp_path, deals)
    import_file(workspace, "stage_events", write_events(tmp_path / "a.csv", history(51, deals)))
    con = workspace.data.con
    con.execute("INSERT INTO stage_events (opportunity_id, stage) VALUES ('D01', 'Won')")
    paths = spy_update(monkeypatch)
    derived.refresh(workspace.data, workspace.settings, changed=["D01"])
    assert paths == [False]
    assert derived.is_fresh(workspace.data, workspace.settings)


def test_repeated_rows_in_a_deal_that_gains_an_event(workspace, tmp_path, monkeypatch):
    """Identical rows (possible when edited outside salesflow) must not hide a changed history:
    the deal that swapped its repeated pair for another one is recomputed, not kept."""
    deals = ["A", "B", *(f"X{i}" for i in range(8))]
    with_deals(workspace, tmp_path, deals)
    import_file(workspace, "stage_events", write_events(tmp_path / "a.csv", history(61, deals)))
    con = workspace.data.con
    h = timedelta(hours=1)
    con.execute("DELETE FROM stage_events WHERE opportunity_id IN ('A', 'B')")
    rows = [("A", "Lead", T0), ("A", "Qualified", T0 + h), ("A", "Qualified", T0 + h)]
    rows += [("B", "Lead", T0), ("B", "Qualified", T0 + h), ("B", "Qualified", T0 + h)]
    rows += [("B", "Won", T0 + 3 * h)]
    con.executemany("INSERT INTO stage_events VALUES (?, ?, ?, NULL, NULL, NULL)", rows)
    derived.refresh(workspace.data, workspace.settings)
    # A: its repeated pair becomes another repeated pair (a plain XOR of rows would not see it)
    con.execute("DELETE FROM stage_events WHERE opportunity_id = 'A' AND stage = 'Qualified'")
    more = [("A", "Discovery", T0 + h), ("A", "Discovery", T0 + h), ("A", "Won", T0 + 5 * h)]
    more += [("B", "Lost", T0 + 9 * h)]  # B only gains an event after its repeated pair
    con.executemany("INSERT INTO stage_events VALUES (?, ?, ?, NULL, NULL, NULL)", more)
    paths = spy_update(monkeypatch)
    derived.refresh(workspace.data, workspace.settings, changed=["A", "B"])
    assert paths == [True]
    assert derived.is_fresh(workspace.data, workspace.settings)
    updated = flow_state(con)
    derived.refresh(workspace.data, workspace.settings)
    assert_same(updated, flow_state(con))


def spy_append(monkeypatch) -> list[bool]:
    """Which way each update went: True when it used only the rows handed to it."""
    from salesflow.derived import duckdb_build

    ways: list[bool] = []
    chosen = duckdb_build._append
    monkeypatch.setattr(duckdb_build, "_append", lambda *a: ways.append(chosen(*a)) or ways[-1])
    return ways


def added_rows(rows: list[tuple[str, str, datetime]]):
    import pyarrow as pa

    deal, stage, at = zip(*rows, strict=True)
    return pa.table({"opportunity_id": list(deal), "stage": list(stage), "entered_at": list(at)})


@pytest.mark.parametrize("before_last", [False, True])
def test_rows_handed_to_the_refresh_equal_a_full_rebuild(
    workspace, tmp_path, monkeypatch, before_last
):
    """The importer may hand the rows it inserted: deals whose new rows come after their last
    event (a repeat of it, a tie in time with a later stage, a long history beyond the packed
    key), new deals and a named deal without new rows are updated from ``flow_cases`` and those
    rows; one row before a deal's last event sends the update the general way. Both equal a
    full rebuild, fingerprint included."""
    old = [f"D{i:03d}" for i in range(150)]
    new = [f"N{i:02d}" for i in range(10)]
    with_deals(workspace, tmp_path, [*old, "LONG", *new])
    rows = history(21, old)
    rows += [("LONG", STAGES[i % 5], T0 + timedelta(hours=i)) for i in range(50)]  # > 42 events
    import_file(workspace, "stage_events", write_events(tmp_path / "a.csv", sorted(rows)))
    con = workspace.data.con
    last = {d: (s, at) for d, s, at in sorted(rows, key=lambda r: (r[0], r[2], STAGES.index(r[1])))}
    rng = random.Random(22)
    later = T0 + timedelta(days=400)
    added = [(d, rng.choice(STAGES), later + timedelta(hours=i)) for i, d in enumerate(old[:25])]
    added += [(old[30], *last[old[30]]), (old[31], "Lost", last[old[31]][1])]  # repeat; tie
    added += [("LONG", "Won", later), ("LONG", "Lead", later + timedelta(hours=1))]
    added += history(23, new)
    if before_last:  # an event before the deal's first one: the general way
        added.append((old[40], "Lead", T0 - timedelta(days=30)))
    con.executemany(
        "INSERT INTO stage_events (opportunity_id, stage, entered_at) VALUES (?, ?, ?)", added
    )
    ways = spy_append(monkeypatch)
    paths = spy_update(monkeypatch)
    touched = sorted({d for d, _, _ in added} | {old[50]})  # old[50]: named, no new rows
    derived.refresh(workspace.data, workspace.settings, changed=touched, added=added_rows(added))
    assert paths == [True] and ways == [not before_last]
    assert derived.is_fresh(workspace.data, workspace.settings)
    updated = flow_state(con)
    assert set(updated["cases"]["opportunity_id"]) >= {*new, "LONG"}
    assert (updated["variants"]["n_cases"] > 0).all()
    derived.refresh(workspace.data, workspace.settings)  # full rebuild: the oracle
    assert_same(updated, flow_state(con))


def with_one_more_row(workspace, tmp_path, seed: int, row: tuple) -> list[tuple]:
    """Twenty deals with random histories (fresh flow tables), then ``row`` inserted."""
    deals = [f"D{i:02d}" for i in range(20)]
    with_deals(workspace, tmp_path, deals)
    import_file(workspace, "stage_events", write_events(tmp_path / "a.csv", history(seed, deals)))
    workspace.data.con.execute(
        "INSERT INTO stage_events (opportunity_id, stage, entered_at) VALUES (?, ?, ?)", row
    )
    return [row]


def test_handed_rows_with_a_new_stage_rebuild(workspace, tmp_path, monkeypatch):
    added = with_one_more_row(workspace, tmp_path, 31, ("D01", "Pilot", T0 + timedelta(days=500)))
    con = workspace.data.con
    ways, paths = spy_append(monkeypatch), spy_update(monkeypatch)
    derived.refresh(workspace.data, workspace.settings, changed=["D01"], added=added_rows(added))
    assert ways == [False] and paths == [False]  # a new stage moves codes: full rebuild
    assert derived.is_fresh(workspace.data, workspace.settings)
    updated = flow_state(con)
    derived.refresh(workspace.data, workspace.settings)
    assert_same(updated, flow_state(con))


@pytest.mark.parametrize("case", ["append", "stored_row", "derived_event"])
def test_an_import_hands_its_rows_only_when_it_only_inserted_them(
    workspace, tmp_path, monkeypatch, case
):
    """The importer hands the refresh the rows it wrote when they were only inserted: not when
    one replaced a stored row (same deal, stage and time), nor when a deal of the file has an
    event derived from a deal import (the write may delete it). Each way equals a rebuild."""
    deals = [f"D{i:03d}" for i in range(120)]
    with_deals(workspace, tmp_path, deals)
    first = history(41, deals)
    import_file(
        workspace, "stage_events", write_events(tmp_path / "a.csv", first), replace_history=True
    )
    later = T0 + timedelta(days=400)
    second = [(d, STAGES[i % 7], later + timedelta(hours=i)) for i, d in enumerate(deals[:20])]
    if case == "stored_row":
        second.append(first[0])
    if case == "derived_event":
        with_deals(workspace, tmp_path, ["NEW"])  # its opportunity brings a derived first event
        second.append(("NEW", "Won", later))
    ways, paths = spy_append(monkeypatch), spy_update(monkeypatch)
    report = import_file(workspace, "stage_events", write_events(tmp_path / "b.csv", second))
    assert report.rows_written == len(second)
    assert paths == [True]
    assert ways == ([True] if case == "append" else [])
    assert derived.is_fresh(workspace.data, workspace.settings)
    con = workspace.data.con
    updated = flow_state(con)
    derived.refresh(workspace.data, workspace.settings)
    assert_same(updated, flow_state(con))


def temp_rebuild_state(workspace) -> dict[str, pd.DataFrame]:
    """A full rebuild into temporary tables (they shadow the stored ones on this connection),
    read, then dropped: the oracle without touching the stored tables."""
    con = workspace.data.con
    derived.refresh(workspace.data, workspace.settings, temp=True)
    try:
        temporary = con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone()
        assert temporary[0] == len(derived.FLOW_TABLES)  # what flow_state reads next
        return flow_state(con)
    finally:
        for table in derived.FLOW_TABLES:
            con.execute(f"DROP TABLE IF EXISTS temp.main.{table}")


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_random_handed_appends_equal_a_full_rebuild(workspace, tmp_path, monkeypatch, seed):
    """Rounds of rows handed to the refresh, each round's update on top of the last: rows in
    any order, several per deal, repeats and ties with a deal's last event, new deals, a
    variant left without cases; sometimes a row before a deal's last event (the general way).
    After every round the tables equal a full rebuild and the fingerprint is fresh."""
    import pyarrow as pa

    deals = [f"D{i:03d}" for i in range(80)]
    new = [f"N{seed}{i:02d}" for i in range(12)]
    with_deals(workspace, tmp_path, [*deals, *new])
    import_file(workspace, "stage_events", write_events(tmp_path / "a.csv", history(seed, deals)))
    con = workspace.data.con
    rng = random.Random(seed)
    ways, paths = spy_append(monkeypatch), spy_update(monkeypatch)
    for step in range(4):
        last = dict(
            con.execute(
                "SELECT opportunity_id, max(entered_at) FROM stage_events GROUP BY 1"
            ).fetchall()
        )
        added = []
        for deal in rng.sample(deals, 10):
            at = last[deal] + timedelta(hours=rng.choice([0, 0, 1, 50]))
            stage = "Lost" if at == last[deal] else rng.choice(STAGES)  # a tie, ordered after
            for _ in range(rng.randrange(1, 4)):
                added.append((deal, stage, at))
                at += timedelta(hours=2 if at == last[deal] else rng.choice([0, 2]))
                stage = rng.choice(STAGES)
        if step % 2:  # one row before a deal's last event: the general way
            added.append((deals[step], "Lead", last[deals[step]] - timedelta(days=3)))
        fresh = new[3 * step : 3 * step + 3]
        added += [r for r in history(seed * 7 + step, fresh)]
        added += [added[0]] if step == 2 else []  # an identical row twice
        rng.shuffle(added)
        con.executemany(
            "INSERT INTO stage_events (opportunity_id, stage, entered_at) VALUES (?, ?, ?)", added
        )
        rows = added_rows(added)
        if step == 3:  # other Arrow types the importer might hand: large strings, milliseconds
            rows = rows.cast(
                pa.schema(
                    [
                        ("opportunity_id", pa.large_string()),
                        ("stage", pa.large_string()),
                        ("entered_at", pa.timestamp("ms")),
                    ]
                )
            )
        touched = pa.table({"opportunity_id": sorted({d for d, _, _ in added})})
        derived.refresh(workspace.data, workspace.settings, changed=touched, added=rows)
        assert paths[-1] is True and ways[-1] is (step % 2 == 0)
        assert stored_fingerprint(con) == derived.fingerprint(workspace.data, workspace.settings)
        updated = flow_state(con)
        assert (updated["variants"]["n_cases"] > 0).all()
        assert_same(updated, temp_rebuild_state(workspace))


def test_handed_rows_with_a_time_zone_take_the_general_way(workspace, tmp_path, monkeypatch):
    """Times with a time zone are not read as the same microseconds by both ways: the update
    leaves them to the general way, which reads ``stage_events``; equal to a full rebuild."""
    import pyarrow as pa

    added = with_one_more_row(workspace, tmp_path, 51, ("D01", "Won", T0 + timedelta(days=900)))
    con = workspace.data.con
    rows = added_rows(added)
    rows = rows.set_column(2, "entered_at", rows.column(2).cast(pa.timestamp("us", tz="UTC")))
    ways, paths = spy_append(monkeypatch), spy_update(monkeypatch)
    derived.refresh(workspace.data, workspace.settings, changed=["D01"], added=rows)
    assert ways == [False] and paths == [True]
    assert derived.is_fresh(workspace.data, workspace.settings)
    assert_same(flow_state(con), temp_rebuild_state(workspace))


@pytest.mark.parametrize("handed", [True, False])
def test_deals_named_many_times_count_once(workspace, tmp_path, monkeypatch, handed):
    """Two deals named fifty times each are two changed deals out of twenty (an update, not a
    rebuild), on the way that reads the handed rows and on the general one."""
    added = with_one_more_row(workspace, tmp_path, 41, ("D03", "Won", T0 + timedelta(days=500)))
    con = workspace.data.con
    ways, paths = spy_append(monkeypatch), spy_update(monkeypatch)
    named = ["D03", "D04"] * 50
    rows = added_rows(added) if handed else None
    derived.refresh(workspace.data, workspace.settings, changed=named, added=rows)
    assert paths == [True] and ways == ([True] if handed else [])
    assert derived.is_fresh(workspace.data, workspace.settings)
    updated = flow_state(con)
    derived.refresh(workspace.data, workspace.settings)  # full rebuild: the oracle
    assert_same(updated, flow_state(con))


def test_handed_rows_of_a_deal_not_named_take_the_general_way(workspace, tmp_path, monkeypatch):
    """Rows of a deal the caller did not name are not the whole change it vouched for: the
    update goes the general way for the named deals only, and the stored fingerprint (which
    does not count the unnamed deal's row) says the tables are stale, so readers rebuild them
    rather than show the old figures as fresh."""
    added = with_one_more_row(workspace, tmp_path, 61, ("D01", "Won", T0 + timedelta(days=700)))
    ways, paths = spy_append(monkeypatch), spy_update(monkeypatch)
    derived.refresh(workspace.data, workspace.settings, changed=["D02"], added=added_rows(added))
    assert ways == [False] and paths == [True]
    assert not derived.is_fresh(workspace.data, workspace.settings)


def test_a_failed_statement_of_the_handed_way_changes_nothing(workspace, tmp_path, monkeypatch):
    """The handed way runs its statements on another thread: one that fails there is raised
    here, with the statements after it dropped and everything before it rolled back."""
    import duckdb

    from salesflow.derived import append

    added = with_one_more_row(workspace, tmp_path, 71, ("D05", "Lost", T0 + timedelta(days=600)))
    con = workspace.data.con
    before = flow_state(con)
    monkeypatch.setattr(append, "_INSERT_CASES", "INSERT INTO flow_cases SELECT * FROM _no_such")
    with pytest.raises(duckdb.CatalogException, match="_no_such"):
        derived.refresh(
            workspace.data, workspace.settings, changed=["D05"], added=added_rows(added)
        )
    assert_same(flow_state(con), before)  # the deleted case and new transitions rolled back
    monkeypatch.undo()
    derived.refresh(workspace.data, workspace.settings, changed=["D05"], added=added_rows(added))
    assert derived.is_fresh(workspace.data, workspace.settings)
    updated = flow_state(con)
    derived.refresh(workspace.data, workspace.settings)
    assert_same(updated, flow_state(con))


def test_a_failed_read_is_raised_even_when_the_rows_go_the_general_way(
    workspace, tmp_path, monkeypatch
):
    """The old cases are read on the statements' thread while the rows are looked at here;
    rows the handed way cannot take (times with a time zone) send the update the general way
    without waiting for that read, but a read that failed is still raised, not taken for
    "go the general way", and nothing is written."""
    import duckdb
    import pyarrow as pa

    from salesflow.derived import append

    added = with_one_more_row(workspace, tmp_path, 81, ("D02", "Won", T0 + timedelta(days=800)))
    con = workspace.data.con
    before = flow_state(con)
    rows = added_rows(added)
    rows = rows.set_column(2, "entered_at", rows.column(2).cast(pa.timestamp("us", tz="UTC")))

    def failing(*_args: object) -> None:
        raise duckdb.IOException("the disk went away")

    monkeypatch.setattr(append, "_read_old_cases", failing)
    with pytest.raises(duckdb.IOException, match="the disk went away"):
        derived.refresh(workspace.data, workspace.settings, changed=["D02"], added=rows)
    assert_same(flow_state(con), before)
