"""Date formats detected per column; day-month ambiguity is refused, never guessed."""

from __future__ import annotations

import pytest
from ingest_helpers import query, write_csv

from salesflow.errors import ImportValidationError
from salesflow.ingest import import_file

HEADER = ["opportunity_id", "created_at"]


def _import(ws, tmp_path, dates, **kwargs):
    rows = [[f"O{i}", d] for i, d in enumerate(dates)]
    return import_file(ws, "opportunities", write_csv(tmp_path / "d.csv", HEADER, rows), **kwargs)


def _created(ws):
    return [
        r[0].isoformat()
        for r in query(ws, "SELECT created_at FROM opportunities ORDER BY opportunity_id")
    ]


def test_iso_dates_and_timestamps(ws, tmp_path):
    report = _import(ws, tmp_path, ["2024-03-31", "2024-04-01T08:30:00Z", "2024-04-02 17:05"])
    assert report.date_formats == {"created_at": "ISO 8601"}
    assert _created(ws) == ["2024-03-31T00:00:00", "2024-04-01T08:30:00", "2024-04-02T17:05:00"]


def test_unambiguous_day_first_is_detected(ws, tmp_path):
    report = _import(ws, tmp_path, ["05/03/2024", "25/12/2024", "01/02/2024"])
    assert report.date_formats == {"created_at": "%d/%m/%Y"}
    assert _created(ws)[:2] == ["2024-03-05T00:00:00", "2024-12-25T00:00:00"]


def test_ambiguous_day_month_is_an_error_naming_the_column(ws, tmp_path):
    with pytest.raises(ImportValidationError) as info:
        _import(ws, tmp_path, ["05/03/2024", "11/12/2024", "01/02/2024"])
    error = info.value.errors[0]
    assert error.column == "created_at" and error.row is None
    assert "--date-format '%d/%m/%Y'" in error.reason and "'%m/%d/%Y'" in error.reason


def test_ambiguous_dates_are_asked_even_when_a_row_is_unreadable(ws, tmp_path):
    dates = ["03/04/2026", "05/06/2026", "not a date", "01/02/2026"]
    with pytest.raises(ImportValidationError) as info:
        _import(ws, tmp_path, dates, skip_invalid=str(tmp_path / "rejected.csv"))
    [error] = info.value.errors
    assert error.column == "created_at"
    assert "row 1: 03/04/2026, row 2: 05/06/2026, row 4: 01/02/2026" in error.reason
    assert "--date-format '%d/%m/%Y'" in error.reason
    assert "--date-format '%m/%d/%Y'" in error.reason
    assert 'date_format = "%d/%m/%Y"' in error.reason
    assert query(ws, "SELECT count(*) FROM opportunities") == [(0,)]


def test_chosen_order_reads_the_rest_and_rejects_the_unreadable_row(ws, tmp_path):
    dates = ["03/04/2026", "not a date", "01/02/2026"]
    with pytest.raises(ImportValidationError) as info:
        _import(ws, tmp_path, dates, date_format="%m/%d/%Y")
    assert [(e.row, e.value) for e in info.value.errors] == [(2, "not a date")]


def test_a_column_no_format_reads_is_row_errors_not_ambiguity(ws, tmp_path):
    with pytest.raises(ImportValidationError) as info:
        _import(ws, tmp_path, ["soon", "later"])
    assert [e.row for e in info.value.errors] == [1, 2]


def test_two_digit_years_with_date_format(ws, tmp_path):
    report = _import(ws, tmp_path, ["01-03-17", "11-12-16"], date_format="%d-%m-%y")
    assert report.date_formats == {"created_at": "%d-%m-%y"}
    assert _created(ws) == ["2017-03-01T00:00:00", "2016-12-11T00:00:00"]


def test_unparseable_value_names_its_row(ws, tmp_path):
    with pytest.raises(ImportValidationError) as info:
        _import(ws, tmp_path, ["2024-01-01", "2024-01-02", "next Tuesday"])
    assert [(e.row, e.value) for e in info.value.errors] == [(3, "next Tuesday")]
