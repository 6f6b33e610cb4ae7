"""What is wrong is refused, saying what, where and how to fix it, and nothing is imported.

Each case runs against a workspace that already holds deals and stage events, and checks that
every table (row counts and a checksum of the rows) and every file is unchanged afterwards.
"""

from __future__ import annotations

import csv

import pytest
from ingest_helpers import folder_hashes, query, snapshot, write_csv

from salesflow.errors import ConfigError, DataError, ImportValidationError, SalesflowError
from salesflow.ingest import import_file

DEALS = ["opportunity_id", "owner", "created_at", "amount"]
EVENTS = ["opportunity_id", "stage", "entered_at"]


@pytest.fixture
def held(ws, tmp_path):
    """A workspace holding 40 deals (created 2024-01-01..) and their derived first events."""
    rows = [
        [f"D{i:02d}", f"rep{i % 3}", f"2024-01-{1 + i % 28:02d}", str(1000 + i)] for i in range(40)
    ]
    import_file(ws, "opportunities", write_csv(tmp_path / "deals.csv", DEALS, rows))
    ws.close()
    return ws


def refused(ws, error: type[SalesflowError], *args, **kwargs) -> SalesflowError:
    """Run the import, expect ``error``, and check that nothing in the workspace changed."""
    before, files = snapshot(ws), folder_hashes(ws.path)
    with pytest.raises(error) as info:
        import_file(ws, *args, **kwargs)
    ws.close()
    assert snapshot(ws) == before
    assert folder_hashes(ws.path) == files
    return info.value


def test_events_before_their_deal_was_created(held, tmp_path):
    rows = [["D05", "Qualified", "2024-02-01"], ["D05", "Won", "2023-12-31 10:00"],
            ["D06", "Qualified", "2024-01-07"]]  # fmt: skip
    path = write_csv(tmp_path / "events.csv", EVENTS, rows)
    error = refused(held, ImportValidationError, "stage_events", path)
    assert [(e.row, e.column) for e in error.errors] == [(2, "entered_at")]
    text = str(error)
    assert "events.csv" in text and "row 2" in text and "line 3 of the file" in text
    assert "before the deal was created (2024-01-06 00:00:00)" in text
    assert "correct the date here or the deal's created_at" in text

    rejects = tmp_path / "rejects.csv"
    report = import_file(held, "stage_events", path, skip_invalid=rejects)
    assert (report.rows_written, report.rejected) == (2, 1)
    with rejects.open(newline="") as fh:
        (line,) = list(csv.DictReader(fh))
    assert (
        line["entered_at"] == "2023-12-31 10:00"
        and "before the deal was created" in line["_reason"]
    )
    assert query(held, "SELECT count(*) FROM stage_events WHERE stage = 'Won'") == [(0,)]


@pytest.mark.parametrize("value", ["NaN", "inf", "-Infinity", "nan"])
def test_nan_and_infinity_are_not_amounts(held, tmp_path, value):
    rows = [["N1", "ann", "2024-03-01", "10"], ["N2", "bob", "2024-03-02", value]]
    error = refused(
        held, ImportValidationError, "opportunities", write_csv(tmp_path / "n.csv", DEALS, rows)
    )
    (problem,) = error.errors
    assert (problem.row, problem.column, problem.value) == (2, "amount", value)
    assert "not a number: NaN and infinity cannot be counted" in problem.reason
    assert "leave the cell empty" in problem.reason


def test_an_empty_required_number_is_refused(held, tmp_path):
    header = ["period_start", "owner", "team", "submitted_at", "category", "amount"]
    rows = [["2024-04-01", "ann", "east", "2024-03-25", "commit", "5000"],
            ["2024-04-01", "bob", "east", "2024-03-25", "commit", "  "],
            ["2024-04-01", "cy", "east", "2024-03-25", "commit", "NaN"]]  # fmt: skip
    error = refused(
        held, ImportValidationError, "forecasts", write_csv(tmp_path / "f.csv", header, rows)
    )
    assert [(e.row, e.column) for e in error.errors] == [(2, "amount"), (3, "amount")]
    assert "empty, but every row needs one" in error.errors[0].reason
    assert "NaN and infinity" in error.errors[1].reason


def _deals_text(n: int = 3000) -> str:
    lines = [",".join(DEALS)] + [
        f"T{i:05d},rep{i % 5},2024-02-{1 + i % 28:02d},{1250 + i}" for i in range(n)
    ]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("cut", [1, 2, 7, 13, 20])
def test_a_file_cut_short_imports_nothing(held, tmp_path, cut):
    """Cut anywhere in its last row: inside the amount, the date, the owner; or just its line
    break (the row may be whole, but nothing says so)."""
    text = _deals_text()
    path = tmp_path / "cut.csv"
    path.write_text(text[:-cut], encoding="utf-8")
    error = refused(held, DataError, "opportunities", path)
    assert "cut.csv ends in the middle of a line: line 3001 (row 3000" in str(error)
    assert "may have been cut short" in str(error) and "Export the file again" in error.hint


def test_a_short_row_or_an_open_quote_in_the_middle(held, tmp_path):
    lines = _deals_text().splitlines(keepends=True)
    short = tmp_path / "short.csv"
    short.write_text("".join([*lines[:1500], "T99999,rep1\n", *lines[1500:]]), encoding="utf-8")
    error = refused(held, DataError, "opportunities", short)
    assert "line 1501" in str(error) and "has 2 values where the header has 4" in str(error)
    quoted = tmp_path / "quote.csv"
    quoted.write_text("".join([*lines[:1500], 'T99999,"rep1,2024-02-01,100\n', *lines[1500:]]),
                      encoding="utf-8")  # fmt: skip
    error = refused(held, DataError, "opportunities", quoted)
    assert "line 1501" in str(error) and 'opens a quote (") that is never closed' in str(error)
    small = tmp_path / "small.csv"
    small.write_text(
        'opportunity_id,owner,created_at,amount\nS1,ann,2024-02-01,1\nS2,"bob,2024-02-02,2\n'
    )
    error = refused(held, DataError, "opportunities", small)
    assert "quote" in str(error)


def test_a_header_naming_a_column_twice(held, tmp_path):
    path = write_csv(tmp_path / "dup.csv", ["opportunity_id", "amount", "created_at", "Amount"],
                     [["X1", "10", "2024-03-01", "12"]])  # fmt: skip
    error = refused(held, ImportValidationError, "opportunities", path)
    assert "columns 2 and 4 of the header are both called 'Amount'" in str(error)
    assert "rename one of them in the file" in str(error) and "dup.csv" in str(error)


def test_a_workbook_header_naming_a_column_twice(held, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["opportunity_id", "created_at", "amount", "amount"])
    book.active.append(["X1", "2024-03-01", 10, 12])
    book.save(tmp_path / "dup.xlsx")
    error = refused(held, ImportValidationError, "opportunities", tmp_path / "dup.xlsx")
    assert "columns 3 and 4 of the header are both called 'amount'" in str(error)


def test_formula_cells_without_saved_results(held, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()  # openpyxl writes formulas, never their results
    sheet = book.active
    sheet.append(["opportunity_id", "created_at", "amount"])
    for i in range(5):
        sheet.append([f"F{i}", "2024-03-01", f"=100*{i + 1}" if i in (1, 3) else 100])
    book.save(tmp_path / "formulas.xlsx")
    error = refused(held, DataError, "opportunities", tmp_path / "formulas.xlsx")
    assert "cells C3, C5 hold formulas whose results were never saved" in str(error)
    assert "Open the file in Excel" in error.hint and "save it" in error.hint


def test_nul_bytes(held, tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(
        b"opportunity_id,owner,created_at,amount\nZ1,ann,2024-03-01,1\nZ2,b\x00ob,2024-03-01,2\n"
    )
    error = refused(held, DataError, "opportunities", path)
    assert "holds a NUL byte" in str(error) and "line 3 (row 2, column 'owner')" in str(error)
    assert "Export the file again" in error.hint


def test_a_workbook_too_large_to_unpack_is_refused_before_parsing(held, tmp_path, monkeypatch):
    import zipfile

    import openpyxl

    from salesflow.ingest import excel

    book = openpyxl.Workbook()
    book.active.append(["opportunity_id", "created_at", "amount"])
    for i in range(2000):
        book.active.append([f"B{i}", "2024-03-01", 1])
    book.save(tmp_path / "big.xlsx")
    unpacked = sum(i.file_size for i in zipfile.ZipFile(tmp_path / "big.xlsx").infolist())
    monkeypatch.setattr(excel, "LIMITS", excel.ExcelLimits(unpacked_bytes=unpacked - 1))
    error = refused(held, DataError, "opportunities", tmp_path / "big.xlsx")
    assert "big.xlsx unpacks to" in str(error) and "Save the sheet as CSV" in error.hint
    monkeypatch.setattr(excel, "LIMITS", excel.ExcelLimits(cells=3 * 2001 - 1))
    error = refused(held, DataError, "opportunities", tmp_path / "big.xlsx")
    assert "has 6,003 cells (the limit is 6,002), more than salesflow reads" in str(error)


def test_a_real_decompression_bomb_is_refused_in_a_moment(tmp_path):
    """A 600 MiB sheet of one repeated cell zips to about 1 MiB: refused from the zip's
    directory, without unpacking it."""
    import time
    import zipfile

    import openpyxl

    from salesflow.ingest import check_file

    book = openpyxl.Workbook()
    book.active.append(["a"])
    book.save(tmp_path / "bomb.xlsx")
    with (
        zipfile.ZipFile(tmp_path / "bomb.xlsx") as src,
        zipfile.ZipFile(tmp_path / "bomb2.xlsx", "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                cell = b'<c r="A1" t="n"><v>1</v></c>'
                data = data.replace(
                    b"</sheetData>",
                    b'<row r="2">' + cell * (600 * 2**20 // len(cell)) + b"</row></sheetData>",
                )
            dst.writestr(item, data)
    assert (tmp_path / "bomb2.xlsx").stat().st_size < 5 * 2**20
    started = time.perf_counter()
    with pytest.raises(DataError, match="unpacks to 600 MiB"):
        check_file(tmp_path / "bomb2.xlsx")
    assert time.perf_counter() - started < 10  # parsing 600 MiB of XML would take minutes


def test_thousands_and_decimal_commas_are_never_guessed(held, tmp_path):
    rows = [["K1", "ann", "2024-03-01", "12,500"], ["K2", "bob", "2024-03-02", "7,250"]]
    path = write_csv(tmp_path / "k.csv", DEALS, rows)
    error = refused(held, ImportValidationError, "opportunities", path)
    assert (
        "add --thousands ,) or with a decimal comma (add --decimal-comma)" in error.errors[0].reason
    )
    error = refused(held, ImportValidationError, "opportunities", path, decimal_comma=True)
    (problem,) = error.errors
    assert (problem.row, problem.column, problem.value) == (1, "amount", "12,500")
    assert (
        "12,500 could be 12500 (a comma between thousands) or 12.500 (a decimal comma)"
        in problem.reason
    )
    assert "use --thousands , instead of --decimal-comma" in problem.reason

    report = import_file(held, "opportunities", path, thousands=",")
    assert report.inserted == 2
    assert query(held, "SELECT amount FROM opportunities WHERE opportunity_id LIKE 'K%' ORDER BY 1") == [
        (7250.0,), (12500.0,)]  # fmt: skip
    import_file(held, "opportunities", path, decimal_comma=True, thousands=".")  # said, so read
    assert query(held, "SELECT amount FROM opportunities WHERE opportunity_id LIKE 'K%' ORDER BY 1") == [
        (7.25,), (12.5,)]  # fmt: skip


def test_thousands_separator_checks_its_groups_and_comes_from_the_mapping_too(held, tmp_path):
    rows = [["M1", "ann", "2024-03-01", "1,234,567.50"], ["M2", "bob", "2024-03-02", "12,50"]]
    path = write_csv(tmp_path / "m.csv", DEALS, rows)
    error = refused(held, ImportValidationError, "opportunities", path, thousands=",")
    assert [(e.row, e.value) for e in error.errors] == [(2, "12,50")]
    (tmp_path / "map.toml").write_text('[opportunities]\nthousands = ","\n', encoding="utf-8")
    rows[1][3] = "950"
    import_file(held, "opportunities", write_csv(path, DEALS, rows), mapping=tmp_path / "map.toml")
    assert query(held, "SELECT amount FROM opportunities WHERE opportunity_id = 'M1'") == [
        (1234567.5,)
    ]
    error = refused(
        held,
        ImportValidationError,
        "opportunities",
        write_csv(path, DEALS, rows),
        decimal_comma=True,
    )
    assert "use --thousands , instead of --decimal-comma" in error.errors[0].reason
    with pytest.raises(ConfigError, match="both the decimal mark and the thousands separator"):
        import_file(held, "opportunities", path, decimal_comma=True, thousands=",")
    with pytest.raises(ConfigError, match="not a thousands separator"):
        import_file(held, "opportunities", path, thousands="x")


def test_parquet_with_a_repeated_column_or_a_nul_byte(held, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = ["opportunity_id", "created_at", "amount", "amount"]
    columns = [
        pa.array(["P1", "P2"]),
        pa.array(["2024-03-01"] * 2),
        pa.array(["1", "2"]),
        pa.array(["3", "4"]),
    ]
    pq.write_table(pa.table(columns, names=names), tmp_path / "dup.parquet")
    error = refused(held, ImportValidationError, "opportunities", tmp_path / "dup.parquet")
    assert "columns 3 and 4 of the header are both called 'amount'" in str(error)
    columns[1] = pa.array(["2024-03-01", "2024-03\x0001"])
    pq.write_table(pa.table(columns[:3], names=names[:3]), tmp_path / "nul.parquet")
    error = refused(held, DataError, "opportunities", tmp_path / "nul.parquet")
    assert "holds a NUL byte (an invisible \\0 character) in row 2, column 'created_at'" in str(
        error
    )
