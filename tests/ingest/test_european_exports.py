"""Exports as European offices make them: semicolons, a byte-order mark, numbers written 1.234,56
and Windows (Latin-1) text. Each is either read as the user says or refused with the fix named,
and a refused file leaves the workspace byte-for-byte as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_helpers import folder_hashes, query

from salesflow.errors import ConfigError, DataError, ImportValidationError
from salesflow.ingest import import_file

HEADER = "opportunity_id;stage;created_at;account;amount;discount\n"
# (line, expected amount, expected discount): worked out by hand, dots group thousands
ROWS = [
    ("O1;Lead;2024-03-01;Müller GmbH;1.234,56;0,5\n", 1234.56, 0.5),
    ("O2;Won;2024-03-02;Société Générale;2000,00;12,25\n", 2000.0, 12.25),
    ("O3;Lost;2024-03-03;Ørsted A/S;7,5;-1,5\n", 7.5, -1.5),
]


def european(path: Path, encoding: str = "utf-8-sig") -> Path:
    path.write_text(HEADER + "".join(line for line, _, _ in ROWS), encoding=encoding)
    return path


def test_decimal_commas_are_refused_with_the_fix_named(ws, tmp_path):
    before = folder_hashes(ws.path)
    with pytest.raises(ImportValidationError) as caught:
        import_file(ws, "opportunities", european(tmp_path / "deals.csv"))
    amounts = [e for e in caught.value.errors if e.column == "amount"]
    assert [e.row for e in amounts] == [1, 2, 3]
    assert all("--decimal-comma" in e.reason for e in amounts)
    assert folder_hashes(ws.path) == before


def test_decimal_commas_read_with_the_flag_bom_and_semicolons_too(ws, tmp_path):
    report = import_file(ws, "opportunities", european(tmp_path / "deals.csv"), decimal_comma=True)
    assert report.rows_written == 3 and "discount" in report.extra_columns
    got = query(ws, "SELECT amount, discount, account FROM opportunities ORDER BY opportunity_id")
    assert [(a, d) for a, d, _ in got] == [(amount, disc) for _, amount, disc in ROWS]
    assert got[0][2] == "Müller GmbH"  # the byte-order mark did not stick to the first column


def test_the_mapping_file_can_say_decimal_comma_and_encoding(ws, tmp_path):
    mapping = tmp_path / "map.toml"
    mapping.write_text('[opportunities]\ndecimal = ","\nencoding = "Latin1"\n', encoding="utf-8")
    deals = european(tmp_path / "deals.csv", encoding="latin-1")
    import_file(ws, "opportunities", deals, mapping=mapping)
    got = query(ws, "SELECT account, amount FROM opportunities ORDER BY opportunity_id")
    assert got == [
        ("Müller GmbH", 1234.56),
        ("Société Générale", 2000.0),
        ("Ørsted A/S", 7.5),
    ]


def test_latin1_text_is_refused_in_one_line_naming_the_encoding_flag(ws, tmp_path):
    before = folder_hashes(ws.path)
    deals = european(tmp_path / "deals.csv", encoding="latin-1")
    with pytest.raises(DataError) as caught:
        import_file(ws, "opportunities", deals, decimal_comma=True)
    message = caught.value.message
    assert "deals.csv is not UTF-8 text" in message and "--encoding latin-1" in message
    assert "\n" not in message and "ignore_errors" not in message  # not DuckDB's own advice
    assert folder_hashes(ws.path) == before


def test_unknown_encodings_and_separators_are_config_errors(ws, tmp_path):
    deals = european(tmp_path / "deals.csv")
    with pytest.raises(ConfigError, match="utf-8, utf-16 or latin-1"):
        import_file(ws, "opportunities", deals, encoding="ebcdic")
    mapping = tmp_path / "map.toml"
    mapping.write_text('[opportunities]\ndecimal = ";"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="not a decimal separator"):
        import_file(ws, "opportunities", deals, mapping=mapping)


def test_cli_takes_both_flags(cli, ws, tmp_path):
    deals = european(tmp_path / "deals.csv", encoding="latin-1")
    report = cli.json("import", "opportunities", deals, "-w", ws.path,
                      "--encoding", "latin-1", "--decimal-comma")  # fmt: skip
    assert report["rows_written"] == 3
    assert query(ws, "SELECT sum(amount) FROM opportunities") == [(pytest.approx(3242.06),)]
