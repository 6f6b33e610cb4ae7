"""CSV files whose dates and numbers DuckDB's reader parses itself (``salesflow.ingest.typed``):
the same rows stored, the same errors named, as when every value is read as text first."""

from __future__ import annotations

from datetime import datetime

import pytest
from ingest_helpers import query, write_csv

from salesflow.errors import ImportValidationError
from salesflow.ingest import import_file

EVENTS = ["opportunity_id", "stage", "entered_at", "owner", "amount"]
DEALS = 12_000  # more than the 10,000 rows whose dates decide how a column is read


@pytest.fixture
def deals(ws, tmp_path):
    rows = [[f"O{i}", "rep", "2023-01-01", "", "100"] for i in range(DEALS)]
    path = write_csv(
        tmp_path / "deals.csv",
        ["opportunity_id", "owner", "created_at", "closed_at", "amount"],
        rows,
    )
    import_file(ws, "opportunities", path)
    return ws


def _events(stamp: str) -> list[list[str]]:
    return [[f"O{i}", "Lead", stamp, "rep", str(i)] for i in range(DEALS)]


def _stored(ws) -> list[tuple]:
    return query(ws, "SELECT * FROM stage_events ORDER BY opportunity_id, entered_at")


def test_a_clean_file_is_stored_as_its_text_would_be(deals, tmp_path):
    """The strict shape (typed read) and the ISO 'T' shape (text read) of the same moments, with
    padded and unusual values: the same rows, as worked out by hand."""
    typed, text = _events("2024-03-31 14:05:00"), _events("2024-03-31T14:05:00")
    for rows in (typed, text):
        rows[0][1:] = [" Lead ", "2024-03-31 14:05:00" if rows is typed else "2024-03-31T14:05:00",
                       "  rep  ", " 12.5 "]  # fmt: skip
        rows[1][4], rows[2][4], rows[3][4] = "1e3", "", "1_000"
    import_file(deals, "stage_events", write_csv(tmp_path / "a.csv", EVENTS, typed))
    first = _stored(deals)
    import_file(
        deals, "stage_events", write_csv(tmp_path / "b.csv", EVENTS, text), replace_history=True
    )
    assert _stored(deals) == first
    by_deal = {r[0]: r for r in first}
    moment = datetime(2024, 3, 31, 14, 5)
    assert by_deal["O0"][1:5] == ("Lead", moment, "rep", 12.5)
    assert [by_deal[f"O{i}"][4] for i in (1, 2, 3, 11_999)] == [1000.0, None, 1000.0, 11999.0]
    assert len(first) == DEALS


def test_values_the_reader_reads_but_the_rules_refuse_name_their_row(deals, tmp_path):
    rows = _events("2024-03-31 14:05:00")
    rows[10_019][4] = "NaN"  # data row 10,020
    rows[10_029][2] = "1899-12-31 10:00:00"  # data row 10,030: no CRM date
    before = _stored(deals)  # the events derived from the deals' creation dates
    with pytest.raises(ImportValidationError) as info:
        import_file(deals, "stage_events", write_csv(tmp_path / "e.csv", EVENTS, rows))
    found = [(e.row, e.column, e.value) for e in info.value.errors]
    assert found == [(10_020, "amount", "NaN"), (10_030, "entered_at", "1899-12-31 10:00:00")]
    assert "NaN and infinity cannot be counted" in str(info.value)
    assert _stored(deals) == before


def test_a_value_the_strict_reader_refuses_is_read_from_the_text(deals, tmp_path):
    """Past the sampled rows: a date alone, an ISO 'T', a UTC offset (converted to the zone,
    UTC here) and a thousands comma are read as the text path reads them, or named."""
    rows = _events("2024-03-31 14:05:00")
    rows[10_040][2], rows[10_041][2] = "2024-04-01", "2024-04-02T08:00:00"
    rows[10_042][2] = "2024-04-03 10:00:00+02:00"
    import_file(deals, "stage_events", write_csv(tmp_path / "ok.csv", EVENTS, rows))
    stored = {r[0]: r[2] for r in _stored(deals)}
    assert [stored[f"O{i}"] for i in (10_040, 10_041, 10_042, 10_043)] == [
        datetime(2024, 4, 1), datetime(2024, 4, 2, 8), datetime(2024, 4, 3, 8),
        datetime(2024, 3, 31, 14, 5),
    ]  # fmt: skip
    rows[10_044][2], rows[10_045][4] = "2024-02-30 09:00:00", "12,500"
    with pytest.raises(ImportValidationError) as info:
        import_file(deals, "stage_events", write_csv(tmp_path / "bad.csv", EVENTS, rows))
    found = [(e.row, e.column, e.value) for e in info.value.errors]
    assert found == [(10_045, "entered_at", "2024-02-30 09:00:00"), (10_046, "amount", "12,500")]
    assert "--thousands ," in str(info.value)


def test_dates_without_a_time_are_read_by_the_reader_too(ws, tmp_path):
    """A deal file of plain dates (typed read) and the same with one late value the strict
    reader refuses (text read, the same values): both as worked out by hand."""
    header = ["opportunity_id", "owner", "created_at", "closed_at", "outcome", "amount"]
    rows = [[f"O{i}", "rep", "2024-01-02", "2024-02-03" if i % 2 else "", "won" if i % 2 else
             "open", "5"] for i in range(DEALS)]  # fmt: skip
    import_file(ws, "opportunities", write_csv(tmp_path / "a.csv", header, rows))
    first = query(ws, "SELECT * FROM opportunities ORDER BY opportunity_id")
    rows[11_000][2] = "2024-01-02 00:00:00"  # the same moment, in a shape the reader refuses
    import_file(ws, "opportunities", write_csv(tmp_path / "b.csv", header, rows))
    assert query(ws, "SELECT * FROM opportunities ORDER BY opportunity_id") == first
    deals = {r[0]: r for r in first}
    names = [c[0] for c in query(ws, "DESCRIBE opportunities")]
    one = dict(zip(names, deals["O1"], strict=True))
    assert (one["created_at"], one["closed_at"], one["outcome"]) == (
        datetime(2024, 1, 2), datetime(2024, 2, 3), "won")  # fmt: skip
    rows[11_001][3] = "2024-02-30"
    with pytest.raises(ImportValidationError) as info:
        import_file(ws, "opportunities", write_csv(tmp_path / "c.csv", header, rows))
    assert [(e.row, e.column, e.value) for e in info.value.errors] == [
        (11_002, "closed_at", "2024-02-30")
    ]
