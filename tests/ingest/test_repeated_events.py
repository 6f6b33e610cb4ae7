"""Stage events repeating a key (deal, stage, entered_at) within one file are refused with their
rows named. Into a DuckDB workspace the import leaves that check to the flow tables it builds
after the write (two equal events follow each other there); when they find one, nothing is
published and the import starts over checking repeats first. Each way of refreshing the flow
tables is covered: a full build, rows handed to a few deals, a general update, a failed build."""

from __future__ import annotations

import duckdb
import pytest
from ingest_helpers import folder_hashes, query, write_csv

from salesflow import derived
from salesflow.errors import ImportValidationError
from salesflow.ingest import import_file

HEADER = ["opportunity_id", "stage", "entered_at"]
DEALS = [(f"D{i:02d}", "2024-01-01") for i in range(10)]


def _history(deal: str) -> list[tuple[str, str, str]]:
    return [(deal, "Lead", "2024-01-02 09:00:00"), (deal, "Qualified", "2024-01-09 09:00:00")]


def _workspace(ws, tmp_path, *, events: bool, deals: list[tuple[str, str]] = DEALS) -> None:
    path = write_csv(tmp_path / "deals.csv", ["opportunity_id", "created_at"], deals)
    import_file(ws, "opportunities", path)
    if events:
        rows = [row for deal, _ in deals for row in _history(deal)]
        import_file(ws, "stage_events", write_csv(tmp_path / "history.csv", HEADER, rows))


def _refused(ws, path) -> tuple[ImportValidationError, list[str]]:
    """The refusal and the steps the import reported; the workspace is left as it was."""
    ws.close()
    before = folder_hashes(ws.path)
    heard: list[str] = []
    with pytest.raises(ImportValidationError) as info:
        import_file(ws, "stage_events", path, progress=lambda step, *_: heard.append(step))
    ws.close()
    assert folder_hashes(ws.path) == before
    return info.value, heard


# (events stored before, the file's rows): a repeated row in each (of stages already in the
# flow tables: a new one makes any update a full build), found after the write by a full
# build, by the rows handed to one deal, by the general update (the file also replaces a
# stored event), by the aggregate over every event when the flow build fails
CASES = {
    "first load": (False, [r for d, _ in DEALS for r in _history(d)] + [_history("D07")[1]]),
    "rows handed": (True, [("D03", "Lead", "2024-02-01 10:00:00")] * 2),
    "general update": (True, [_history("D05")[0], *[("D05", "Lead", "2024-03-01 10:00:00")] * 2]),
    "flow build fails": (True, [("D03", "Lead", "2024-02-01 10:00:00")] * 2),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_repeated_event_found_after_the_write_is_refused_and_named(
    ws, tmp_path, monkeypatch, case
):
    stored, rows = CASES[case]
    _workspace(ws, tmp_path, events=stored)
    if case == "flow build fails":

        def fails(*_args, **_kwargs):
            raise duckdb.InvalidInputException("the flow build broke")

        monkeypatch.setattr(derived, "refresh", fails)
    error, heard = _refused(ws, write_csv(tmp_path / "e.csv", HEADER, rows))
    assert heard.count("Reading the file") == 2  # written, found, thrown away, started over
    first = rows.index(rows[-1]) + 1
    assert [(e.row, e.column) for e in error.errors] == [
        (len(rows), "opportunity_id, stage, entered_at")
    ]
    assert f"as row {first}" in str(error)


def test_a_small_file_beside_many_stored_events_is_checked_before_the_write(ws, tmp_path):
    """Two rows beside 120 stored events: counting their keys costs less than scanning the flow
    tables after the write, so the repeat is refused before anything is written."""
    _workspace(ws, tmp_path, events=True, deals=[(f"D{i:02d}", "2024-01-01") for i in range(60)])
    rows = [("D03", "Lead", "2024-02-01 10:00:00")] * 2
    error, heard = _refused(ws, write_csv(tmp_path / "e.csv", HEADER, rows))
    assert heard.count("Reading the file") == 1
    assert [e.row for e in error.errors] == [2]


def test_a_repeat_beside_another_problem_is_named_in_the_same_refusal(ws, tmp_path):
    _workspace(ws, tmp_path, events=False)
    rows = [("D01", "Lead", "2024-01-02 09:00:00")] * 2 + [("NOPE", "Lead", "2024-01-02")]
    error, heard = _refused(ws, write_csv(tmp_path / "e.csv", HEADER, rows))
    assert heard.count("Reading the file") == 1  # refused before any write
    assert {(e.row, e.column) for e in error.errors} == {
        (2, "opportunity_id, stage, entered_at"),
        (3, "opportunity_id"),
    }


def test_a_repeat_already_stored_does_not_refuse_a_clean_file(ws, tmp_path):
    """A workspace written by an older version may hold a repeated event: the flow tables show
    it after every write, the import starts over, finds none in the file, and writes it."""
    _workspace(ws, tmp_path, events=True)
    ws.close()
    con = duckdb.connect(str(ws.path / "data.duckdb"))
    con.execute("INSERT INTO stage_events (opportunity_id, stage, entered_at) "
                "VALUES ('D09', 'Lead', TIMESTAMP '2024-01-02 09:00:00')")  # fmt: skip
    con.close()
    heard: list[str] = []
    rows = [("D08", "Proposal", "2024-02-01 10:00:00")]
    report = import_file(
        ws, "stage_events", write_csv(tmp_path / "e.csv", HEADER, rows),
        progress=lambda step, *_: heard.append(step),
    )  # fmt: skip
    assert report.inserted == 1 and heard.count("Reading the file") == 2
    assert any("already held stage events that repeat" in w for w in report.warnings)
    assert query(ws, "SELECT count(*) FROM stage_events WHERE opportunity_id = 'D08'") == [(3,)]
