"""Bad input: every bad row reported by number, nothing written, the workspace byte-for-byte intact."""

from __future__ import annotations

import csv
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_helpers import folder_hashes, query, write_csv

from salesflow.errors import ImportValidationError
from salesflow.ingest import import_file
from salesflow.workspace import workspace_status

HEADER = ["opportunity_id", "owner", "stage", "created_at", "closed_at", "amount"]


def good_rows(n: int) -> list[list[object]]:
    start = date(2024, 1, 1)
    rows = []
    for i in range(n):
        created = start + timedelta(days=i % 200)
        won = i % 3 == 0
        rows.append([f"OPP-{i:05d}", f"rep{i % 4}", "Won" if won else "Proposal",
                     created.isoformat(), (created + timedelta(days=30)).isoformat() if won else "",
                     str(1000 + i)])  # fmt: skip
    return rows


def test_bad_date_in_row_57_names_row_and_column_and_changes_nothing(ws, tmp_path):
    rows = good_rows(100)
    rows[56][3] = "2024-02-30"  # data row 57, line 58 of the file
    path = write_csv(tmp_path / "deals.csv", HEADER, rows)
    before_status = workspace_status(ws)
    ws.close()
    before = folder_hashes(ws.path)
    with pytest.raises(ImportValidationError) as info:
        import_file(ws, "opportunities", path)
    assert info.value.total == 1
    error = info.value.errors[0]
    assert (error.row, error.column, error.value) == (57, "created_at", "2024-02-30")
    assert "row 57" in str(info.value) and "line 58 of the file" in str(info.value)
    assert folder_hashes(ws.path) == before
    assert workspace_status(ws) == before_status


def test_every_rule_is_checked_in_the_engine(ws, tmp_path):
    rows = good_rows(12)
    rows[1][5] = "-5"  # negative amount
    rows[2][5] = "12k"  # not a number
    rows[3][0] = rows[0][0]  # duplicate key
    rows[4][2] = "Signed"  # unknown stage
    rows[5][4] = "2023-01-01"  # closed before created
    rows[6][0] = ""  # missing key
    path = write_csv(tmp_path / "deals.csv", HEADER, rows)
    with pytest.raises(ImportValidationError) as info:
        import_file(ws, "opportunities", path)
    found = {(e.row, e.column) for e in info.value.errors}
    assert found == {(None, "stage"), (2, "amount"), (3, "amount"), (4, "opportunity_id"),
                     (5, "stage"), (6, "closed_at"), (7, "opportunity_id")}  # fmt: skip
    assert "same opportunity_id as row 1" in str(info.value)


def test_missing_required_column_and_unknown_opportunities(ws, tmp_path):
    path = write_csv(tmp_path / "x.csv", ["opportunity_id", "owner"], [["A", "ann"]])
    with pytest.raises(ImportValidationError, match="required column 'created_at' is missing"):
        import_file(ws, "opportunities", path)
    events = write_csv(tmp_path / "e.csv", ["opportunity_id", "stage", "entered_at"],
                       [["NOPE", "Lead", "2024-01-01"]])  # fmt: skip
    with pytest.raises(ImportValidationError, match="no such opportunity") as info:
        import_file(ws, "stage_events", events)
    assert info.value.errors[0].row == 1


def test_outcome_outside_open_won_lost(ws, tmp_path):
    path = write_csv(tmp_path / "x.csv", ["opportunity_id", "created_at", "outcome"],
                     [["A", "2024-01-01", "won"], ["B", "2024-01-01", "Closed Won"]])  # fmt: skip
    with pytest.raises(ImportValidationError) as info:
        import_file(ws, "opportunities", path)
    assert [(e.row, e.column, e.value) for e in info.value.errors] == [(2, "outcome", "closed won")]


BAD = {
    "date": (3, "31/31/2024"),
    "negative": (5, "-10"),
    "text_amount": (5, "ten"),
    "no_id": (0, ""),
}


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.dictionaries(st.integers(0, 79), st.sampled_from(sorted(BAD)), min_size=1, max_size=8))
def test_hypothesis_bad_rows_are_each_reported_and_nothing_is_written(ws, tmp_path, bad):
    rows = good_rows(80)
    for index, kind in bad.items():
        column, value = BAD[kind]
        rows[index][column] = value
    path = write_csv(tmp_path / "deals.csv", HEADER, rows)
    ws.close()
    before = folder_hashes(ws.path)
    with pytest.raises(ImportValidationError) as info:
        import_file(ws, "opportunities", path)
    assert {e.row for e in info.value.errors} == {i + 1 for i in bad}
    assert info.value.total == len(bad)
    assert folder_hashes(ws.path) == before


def test_skip_invalid_writes_good_rows_and_a_rejects_file(ws, tmp_path):
    rows = good_rows(10)
    rows[3][5] = "-1"
    rows[7][3] = "someday"
    path = write_csv(tmp_path / "deals.csv", HEADER, rows)
    rejects = tmp_path / "rejects.csv"
    report = import_file(ws, "opportunities", path, skip_invalid=rejects)
    assert (report.rows_written, report.rejected) == (8, 2)
    assert query(ws, "SELECT count(*) FROM opportunities") == [(8,)]
    with rejects.open(newline="") as fh:
        lines = list(csv.DictReader(fh))
    assert [r["_row"] for r in lines] == ["4", "8"]
    assert lines[0]["opportunity_id"] == "OPP-00003" and lines[0]["amount"] == "-1"
    assert "amount is negative" in lines[0]["_reason"]
    assert "not a date" in lines[1]["_reason"] and lines[1]["created_at"] == "someday"
    assert list(lines[0]) == [*HEADER, "_row", "_reason"]


def test_dry_run_writes_nothing(ws, tmp_path):
    path = write_csv(tmp_path / "deals.csv", HEADER, good_rows(20))
    ws.close()
    before = folder_hashes(ws.path)
    report = import_file(ws, "opportunities", path, dry_run=True)
    assert (report.rows_written, report.inserted, report.dry_run) == (20, 20, True)
    assert folder_hashes(ws.path) == before


def test_activities_on_deals_the_workspace_lacks_are_kept_with_a_warning(ws, tmp_path):
    deals = write_csv(tmp_path / "deals.csv", HEADER, good_rows(2))
    import_file(ws, "opportunities", deals)
    header = ["activity_id", "opportunity_id", "type", "occurred_at"]
    rows = [["A1", "OPP-00000", "call", "2024-01-05"], ["A2", "GONE-1", "call", "2024-01-06"],
            ["A3", "GONE-1", "email", "2024-01-07"], ["A4", "GONE-2", "meeting", "2024-01-08"],
            ["A5", "", "email", "2024-01-09"]]  # fmt: skip
    report = import_file(ws, "activities", write_csv(tmp_path / "acts.csv", header, rows))
    assert (report.rows_written, report.rows_on_unknown_deals) == (5, 3)
    said = [w for w in report.warnings if "deals the workspace does not have" in w]
    assert said and said[0].startswith("3 activities belong to 2 deals")
    assert "'GONE-1'" in said[0] and "'OPP-00000'" not in said[0]
    assert query(ws, "SELECT count(*) FROM activities") == [(5,)]
    known = write_csv(tmp_path / "known.csv", header, rows[:1])
    assert import_file(ws, "activities", known).rows_on_unknown_deals == 0
