"""The import's progress steps: numbered in order against one total, the file's rows written
(committed) before salesflow derives the deals' outcomes from them in a step of its own, and a
failure in that later step still leaves the workspace byte-for-byte as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_helpers import folder_hashes, query, write_csv

from salesflow.ingest import import_file
from salesflow.ingest.importer import STEPS

DEALS = [("D1", "2024-01-02 09:00:00", "Ann"), ("D2", "2024-01-03 10:00:00", "Bob")]
EVENTS = [
    ("D1", "Lead", "2024-01-02 09:00:00"),
    ("D1", "Won", "2024-02-01 12:00:00"),
    ("D2", "Lead", "2024-01-03 10:00:00"),
    ("D2", "Qualified", "2024-01-20 10:00:00"),
]


def _deals(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "deals.csv", ["opportunity_id", "created_at", "owner"], DEALS)


def _events(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "events.csv", ["opportunity_id", "stage", "entered_at"], EVENTS)


def _steps(ws, table: str, path: Path) -> list[tuple[str, int, int]]:
    heard: list[tuple[str, int, int]] = []
    import_file(ws, table, path, progress=lambda *step: heard.append(step))
    return heard


def _numbered(heard: list[tuple[str, int, int]]) -> None:
    assert {total for _, _, total in heard} == {STEPS}
    numbers = [n for _, n, _ in heard]
    assert numbers == sorted(set(numbers)) and numbers[0] == 1 and numbers[-1] == STEPS


def _described(deriving: str) -> list[str]:
    """The steps of an import that derives something, in order."""
    return ["Reading the file", "Checking every row", "Writing to the workspace", deriving,
            "Refreshing derived tables", "Done"]  # fmt: skip


def test_stage_events_derive_outcomes_in_their_own_step(ws, tmp_path):
    deals = _steps(ws, "opportunities", _deals(tmp_path))
    _numbered(deals)
    assert [d for d, _, _ in deals] == _described("Deriving stage events and outcomes")
    events = _steps(ws, "stage_events", _events(tmp_path))
    _numbered(events)
    assert [d for d, _, _ in events] == _described("Deriving deal outcomes")
    assert query(ws, "SELECT opportunity_id, stage, outcome FROM opportunities ORDER BY 1") == [
        ("D1", "Won", "won"),
        ("D2", "Qualified", "open"),
    ]
    # the derived first-stage events were replaced by the file's; no working table is left
    assert query(ws, "SELECT count(*) FROM stage_events") == [(4,)]
    tables = {r[0] for r in query(ws, "SELECT table_name FROM duckdb_tables()")}
    assert not {"_salesflow_replaced", "_salesflow_rederived"} & tables


def test_a_table_with_nothing_to_derive_skips_that_step(ws, tmp_path):
    path = write_csv(
        tmp_path / "acts.csv",
        ["activity_id", "opportunity_id", "type", "occurred_at"],
        [("A1", "D1", "call", "2024-01-05 10:00:00")],
    )
    heard = _steps(ws, "activities", path)
    _numbered(heard)
    assert "Deriving deal outcomes" not in [d for d, _, _ in heard]
    assert [n for d, n, _ in heard if d == "Refreshing derived tables"] == [STEPS - 1]


class _Stop(Exception):
    pass


def test_a_failure_after_the_rows_were_committed_leaves_the_workspace_as_it_was(ws, tmp_path):
    import_file(ws, "opportunities", _deals(tmp_path))
    ws.close()
    before = folder_hashes(ws.path)

    def progress(description: str, *_: int) -> None:
        if description == "Deriving deal outcomes":  # the rows are committed by now
            raise _Stop

    with pytest.raises(_Stop):
        import_file(ws, "stage_events", _events(tmp_path), progress=progress)
    ws.close()
    assert folder_hashes(ws.path) == before  # no next generation left behind either
    assert query(ws, "SELECT count(*) FROM stage_events") == [(2,)]  # the derived ones
    # and the next import lands whole
    import_file(ws, "stage_events", _events(tmp_path))
    assert query(ws, "SELECT count(*) FROM stage_events") == [(4,)]
    assert query(ws, "SELECT outcome FROM opportunities ORDER BY opportunity_id") == [
        ("won",),
        ("open",),
    ]
