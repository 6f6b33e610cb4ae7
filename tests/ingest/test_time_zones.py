"""Timestamps are stored as wall-clock time in the workspace's ``[calendar] timezone``.

A value with a UTC offset (``Z``, ``+02:00``: API exports) is converted to that zone; a value
without one is local already and kept as written. Expected wall-clock times are worked out by hand
from the zone's rules and cross-checked with Python's zoneinfo, never taken from the importer.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import duckdb
import pytest
from ingest_helpers import query, write_csv

from salesflow.errors import ImportValidationError
from salesflow.ingest import import_file
from salesflow.ingest.dates import ISO, detect, parse_sql
from salesflow.settings import CONFIG_FILE

BERLIN = "Europe/Berlin"
# (value in the file, wall-clock time in Berlin), by hand: CET is UTC+1, CEST is UTC+2; on
# 2024-03-31 at 01:00 UTC clocks jump 02:00 -> 03:00, on 2024-10-27 at 01:00 UTC 03:00 -> 02:00.
BERLIN_CASES = [
    ("2024-01-15T09:00:00Z", "2024-01-15T10:00:00"),
    ("2024-07-15T09:00:00Z", "2024-07-15T11:00:00"),
    ("2024-03-31T16:05:00+02:00", "2024-03-31T16:05:00"),
    ("2024-01-15T16:05:00+02:00", "2024-01-15T15:05:00"),
    ("2024-01-15 04:00:00-05:00", "2024-01-15T10:00:00"),
    ("2024-03-31T00:59:59Z", "2024-03-31T01:59:59"),
    ("2024-03-31T01:00:00Z", "2024-03-31T03:00:00"),
    ("2024-10-27T00:30:00Z", "2024-10-27T02:30:00"),
    ("2024-10-27T01:30:00Z", "2024-10-27T02:30:00"),
    ("2024-12-31T23:30:00Z", "2025-01-01T00:30:00"),
    ("2024-03-31T14:05:00.250Z", "2024-03-31T16:05:00.250000"),
]
# Written without an offset: local already, kept exactly (even 02:30 on the day it does not exist).
NAIVE = ["2024-03-31 02:30:00", "2024-10-27 02:30:00", "2024-01-15T09:00:00", "2024-01-15"]
HEADER = ["opportunity_id", "created_at"]


def _convert(values: list[str], zone: str | None) -> list[datetime | None]:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    rows = con.sql(f"SELECT {parse_sql('v', ISO, zone)} FROM t ORDER BY i").fetchall()
    return [r[0] for r in rows]


def _zoneinfo_wall_clock(value: str, zone: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def test_duckdb_ignores_the_offset_when_it_casts_to_timestamp():
    """Pins the engine behaviour the importer had before zones: the written wall clock is kept
    and the offset dropped (so ``Z`` read as UTC, ``+02:00`` read 2 hours off)."""
    con = duckdb.connect()
    z, plus2 = con.sql(
        "SELECT TRY_CAST('2024-03-31T14:05:00Z' AS TIMESTAMP), "
        "TRY_CAST('2024-03-31T16:05:00+02:00' AS TIMESTAMP)"
    ).fetchone()
    assert z == datetime(2024, 3, 31, 14, 5)
    assert plus2 == datetime(2024, 3, 31, 16, 5)


def test_values_with_an_offset_become_berlin_wall_clock_across_both_dst_changes():
    values = [v for v, _ in BERLIN_CASES]
    expected = [datetime.fromisoformat(w) for _, w in BERLIN_CASES]
    assert expected == [_zoneinfo_wall_clock(v, BERLIN) for v in values]  # the hand values hold
    assert _convert(values, BERLIN) == expected


def test_values_without_an_offset_are_kept_as_written():
    assert _convert(NAIVE, BERLIN) == [datetime.fromisoformat(v) for v in NAIVE]


def test_utc_workspace_reads_z_and_naive_values_as_before_and_converts_other_offsets():
    values = ["2024-03-31T14:05:00Z", *NAIVE, "2024-03-31T16:05:00+02:00", "not a date", None]
    before = _convert(values, None)
    after = _convert(values, "UTC")
    assert after[:-3] == before[:-3]  # Z and naive: identical to the importer before zones
    assert after[-3] == datetime(2024, 3, 31, 14, 5)  # 16:05 at +02:00 is 14:05 UTC (was 16:05)
    assert after[-2:] == before[-2:] == [None, None]


def test_unparseable_values_with_an_offset_stay_null():
    assert _convert(["2024-02-30T10:00:00Z", "2024-03-31T25:00:00+02:00"], BERLIN) == [None, None]


@pytest.mark.parametrize(
    ("values", "offsets"),
    [
        (NAIVE, False),  # local times: the plain, fast cast, as before
        (["2024-01-15T09:00:00Z", "2024-01-16T09:00:00Z"], True),
        ([*NAIVE, "2024-03-31T16:05:00+02:00"], True),  # one is enough: each value is checked
    ],
)
def test_only_columns_whose_values_have_offsets_are_converted(values, offsets):
    con = duckdb.connect()
    con.execute("CREATE TABLE src (created_at VARCHAR)")
    con.executemany("INSERT INTO src VALUES (?)", [[v] for v in values])
    found = detect(con, "src", "created_at", file="d.csv", given=None)
    assert (found.format, found.offsets) == (ISO, offsets)


def test_a_given_format_with_an_offset_is_converted_too():
    con = duckdb.connect()
    con.execute("CREATE TABLE src (created_at VARCHAR)")
    fmt = "%d.%m.%Y %H:%M %z"
    assert detect(con, "src", "created_at", file="d.csv", given=fmt).offsets
    sql = parse_sql("'15.01.2024 09:00 +0000'", fmt, BERLIN)
    assert con.sql(f"SELECT {sql}").fetchone()[0] == datetime(2024, 1, 15, 10, 0)


# -- through the importer --------------------------------------------------------------------


def _zone(ws, zone: str):
    path = ws.path / CONFIG_FILE
    path.write_text(path.read_text().replace('timezone = "UTC"', f'timezone = "{zone}"'))
    ws.close()
    from salesflow.workspace import Workspace

    return Workspace.open(ws.path)


def _import(ws, tmp_path, dates):
    rows = [[f"O{i:02d}", d] for i, d in enumerate(dates)]
    return import_file(ws, "opportunities", write_csv(tmp_path / "d.csv", HEADER, rows))


def _created(ws) -> list[datetime | None]:
    return [r[0] for r in query(ws, "SELECT created_at FROM opportunities ORDER BY opportunity_id")]


def test_utc_workspace_import_keeps_z_and_naive_values(ws, tmp_path):
    report = _import(ws, tmp_path, ["2024-03-31T14:05:00Z", *NAIVE])
    assert report.date_formats == {"created_at": ISO}
    expected = ["2024-03-31T14:05:00", "2024-03-31T02:30:00", "2024-10-27T02:30:00"]
    expected += ["2024-01-15T09:00:00", "2024-01-15T00:00:00"]
    assert _created(ws) == [datetime.fromisoformat(v) for v in expected]


def test_utc_workspace_import_converts_other_offsets_to_utc(ws, tmp_path):
    _import(ws, tmp_path, ["2024-03-31T16:05:00+02:00", "2024-03-31T09:05:00-05:00"])
    assert _created(ws) == [datetime(2024, 3, 31, 14, 5), datetime(2024, 3, 31, 14, 5)]


def test_berlin_workspace_import_converts_offsets_and_keeps_naive_values(ws, tmp_path):
    ws = _zone(ws, BERLIN)
    report = _import(ws, tmp_path, [*(v for v, _ in BERLIN_CASES), *NAIVE])
    assert report.date_formats == {"created_at": ISO}  # detection still sees ISO dates
    expected = [datetime.fromisoformat(w) for _, w in BERLIN_CASES]
    expected += [datetime.fromisoformat(v) for v in NAIVE]
    assert _created(ws) == expected


def test_berlin_workspace_bad_value_with_offset_names_row_column_and_value(ws, tmp_path):
    ws = _zone(ws, BERLIN)
    with pytest.raises(ImportValidationError) as info:
        _import(ws, tmp_path, ["2024-01-15T09:00:00Z", "2024-02-30T09:00:00Z"])
    assert [(e.row, e.column, e.value) for e in info.value.errors] == [
        (2, "created_at", "2024-02-30T09:00:00Z")
    ]


@pytest.mark.parametrize(
    ("zone", "late", "wall_clock"),
    [
        (BERLIN, "2024-07-15T09:00:00Z", datetime(2024, 7, 15, 11, 0)),  # CEST, by hand
        ("UTC", "2024-07-15T09:00:00+02:00", datetime(2024, 7, 15, 7, 0)),
        (BERLIN, "2024-01-16T09:00:00.250+02:00", datetime(2024, 1, 16, 8, 0, 0, 250_000)),  # CET
    ],
)
def test_an_offset_after_the_sampled_rows_is_converted_too(ws, tmp_path, zone, late, wall_clock):
    """Detection samples 10,000 rows; a value with an offset further down is still converted,
    and the naive values around it stay as written."""
    ws = _zone(ws, zone) if zone != "UTC" else ws
    naive = "2024-01-15 09:00:00"
    _import(ws, tmp_path, [naive] * 10_050 + [late, naive])
    rows = dict(query(ws, "SELECT opportunity_id, created_at FROM opportunities"))
    assert rows.pop("O10050") == wall_clock
    assert _zoneinfo_wall_clock(late, zone) == wall_clock  # the same, independently
    assert len(rows) == 10_051 and set(rows.values()) == {datetime(2024, 1, 15, 9, 0)}
