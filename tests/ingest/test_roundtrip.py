"""Idempotent re-import, updates, generic files through a mapping, Excel, Parquet, the CLI, PostgreSQL."""

from __future__ import annotations

import json

import pytest
from ingest_helpers import query, write_csv

from salesflow.ingest import REPORT_KEYS, import_file

HEADER = ["Deal", "Rep", "Status", "First contact", "Closed on", "Value", "Origin", "Region"]
ROWS = [
    ["D1", "Ann", "Closed Won", "2024-01-03", "2024-02-10", "5000", "web", "North"],
    ["D2", "Bob", "Closed Lost", "2024-01-08", "2024-01-30", "800", "event", "South"],
    ["D3", "Ann", "Working", "2024-02-01", "", "1200", "partner", "North"],
]
MAPPING = """\
[opportunities]
date_format = "%Y-%m-%d"
[opportunities.columns]
opportunity_id = "Deal"
owner = "Rep"
outcome = "Status"
created_at = "First contact"
closed_at = "Closed on"
amount = "Value"
source = "Origin"
[opportunities.values.outcome]
"Closed Won" = "won"
"Closed Lost" = "lost"
"Working" = "open"
"""


@pytest.fixture
def generic(tmp_path):
    (tmp_path / "map.toml").write_text(MAPPING, encoding="utf-8")
    return write_csv(tmp_path / "export.csv", HEADER, ROWS), tmp_path / "map.toml"


def test_generic_csv_through_a_mapping_file_alone(ws, generic):
    path, mapping = generic
    report = import_file(ws, "opportunities", path, mapping=mapping)
    assert report.extra_columns == ["region"] and report.added_columns == ["region"]
    assert query(ws, "SELECT opportunity_id, outcome, source, region, amount FROM opportunities ORDER BY 1") == [
        ("D1", "won", "web", "North", 5000.0), ("D2", "lost", "event", "South", 800.0),
        ("D3", "open", "partner", "North", 1200.0)]  # fmt: skip


def test_reimport_is_idempotent_and_newer_data_updates(ws, generic, tmp_path):
    path, mapping = generic
    first = import_file(ws, "opportunities", path, mapping=mapping)
    counts = query(
        ws, "SELECT (SELECT count(*) FROM opportunities), (SELECT count(*) FROM stage_events)"
    )
    second = import_file(ws, "opportunities", path, mapping=mapping)
    assert (first.inserted, first.updated, second.inserted, second.updated) == (3, 0, 0, 0)
    assert second.unchanged == 3  # the same file again: nothing changed, nothing "updated"
    assert (
        query(
            ws, "SELECT (SELECT count(*) FROM opportunities), (SELECT count(*) FROM stage_events)"
        )
        == counts
    )
    newer = [*ROWS[:2], ["D3", "Ann", "Closed Won", "2024-02-01", "2024-03-15", "1500", "partner", "North"],
             ["D4", "Cy", "Working", "2024-03-01", "", "300", "web", "East"]]  # fmt: skip
    newer_csv = write_csv(tmp_path / "newer.csv", HEADER, newer)
    dry = import_file(ws, "opportunities", newer_csv, mapping=mapping, dry_run=True)
    third = import_file(ws, "opportunities", newer_csv, mapping=mapping)
    assert (dry.inserted, dry.updated, dry.unchanged) == (1, 1, 2)  # a dry run counts the same
    # D4 is new; only D3's values changed (won, 1500); D1 and D2 are as they were
    assert (third.inserted, third.updated, third.unchanged) == (1, 1, 2)
    assert query(ws, "SELECT outcome, amount FROM opportunities WHERE opportunity_id = 'D3'") == [
        ("won", 1500.0)
    ]
    # the derived events of D3 now end in Won at its close date
    assert query(ws, "SELECT stage FROM stage_events WHERE opportunity_id = 'D3' ORDER BY entered_at") == [
        ("Lead",), ("Won",)]  # fmt: skip


def test_excel_and_parquet(ws, tmp_path):
    import datetime as dt

    import pandas as pd

    frame = pd.DataFrame({
        "opportunity_id": ["X1", "X2"], "created_at": [dt.datetime(2024, 5, 1), dt.datetime(2024, 5, 2, 9, 30)],
        "amount": [10.0, 20.0], "stage": ["Lead", "Won"]})  # fmt: skip
    frame.to_excel(tmp_path / "deals.xlsx", index=False)
    report = import_file(ws, "opportunities", tmp_path / "deals.xlsx")
    assert (report.format, report.rows_written) == ("excel", 2)
    events = pd.DataFrame({"opportunity_id": ["X1", "X1"], "stage": ["Lead", "Lost"],
                           "entered_at": pd.to_datetime(["2024-05-01", "2024-05-20"])})  # fmt: skip
    events.to_parquet(tmp_path / "events.parquet")
    report = import_file(ws, "stage_events", tmp_path / "events.parquet")
    assert (report.format, report.rows_written) == ("parquet", 2)
    assert query(ws, "SELECT opportunity_id, outcome, stage FROM opportunities ORDER BY 1") == [
        ("X1", "lost", "Lost"), ("X2", "won", "Won")]  # fmt: skip


def test_cli_json_report_and_error_exit(cli, ws, generic, tmp_path):
    path, mapping = generic
    doc = cli.json("import", "opportunities", path, "--mapping", mapping, "-w", ws.path)
    assert tuple(doc) == REPORT_KEYS and doc["rows_written"] == 3
    again = cli("import", "opportunities", path, "--mapping", mapping, "-w", ws.path).stdout
    assert "(0 new, 0 updated, 3 unchanged)" in " ".join(again.split())
    bad = write_csv(
        tmp_path / "bad.csv", ["opportunity_id", "created_at"], [["A", "2024-01-01"], ["B", "soon"]]
    )
    result = cli("import", "opportunities", bad, "-w", ws.path, ok=False)
    assert result.exit_code == 1 and "row 2" in result.stderr and "'created_at'" in result.stderr
    assert (
        json.loads(cli("status", "-w", ws.path, "--json").stdout)["tables"]["opportunities"]["rows"]
        == 3
    )


@pytest.mark.postgres
def test_postgres_data_source(pg_url, tmp_path, generic):
    from salesflow.workspace import Workspace, init_workspace

    url = pg_url.replace("postgresql://", "postgres://")
    init_workspace(tmp_path / "pg", data_url=url).close()
    ws = Workspace.open(tmp_path / "pg")
    path, mapping = generic
    import_file(ws, "opportunities", path, mapping=mapping)
    report = import_file(ws, "opportunities", path, mapping=mapping)
    assert (report.inserted, report.updated, report.unchanged) == (0, 0, 3)
    t = ws.data.table("opportunities")
    assert t.count().execute() == 3
    assert sorted(t.region.execute().tolist()) == ["North", "North", "South"]
    assert ws.data.table("stage_events").count().execute() == 5  # 3 created + 2 closed
    ws.close()


def test_readme_documents_every_json_key():
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- section: import -->")[1].split("<!-- /section: import -->")[0]
    assert [k for k in REPORT_KEYS if f'"{k}"' not in section] == []


def test_excel_errors_name_the_sheet_row(ws, tmp_path):
    import pandas as pd

    from salesflow.errors import ImportValidationError

    pd.DataFrame(
        {
            "opportunity_id": ["A", "B"],
            "created_at": ["2024-01-01", "2024-01-02"],
            "amount": [5, "n/a"],
        }
    ).to_excel(tmp_path / "deals.xlsx", index=False)
    with pytest.raises(ImportValidationError) as info:
        import_file(ws, "opportunities", tmp_path / "deals.xlsx")
    error = info.value.errors[0]
    assert (error.row, error.column, error.value) == (2, "amount", "n/a")
    assert "row 3 of the sheet" in str(info.value)


def test_stage_history_ties_are_broken_by_stage_order(ws, tmp_path):
    """Two events at the same minute: the later stage in [stages] is the deal's last one."""
    opps = write_csv(tmp_path / "o.csv", ["opportunity_id", "created_at"], [["T1", "2024-01-01"]])
    import_file(ws, "opportunities", opps)
    events = write_csv(
        tmp_path / "e.csv",
        ["opportunity_id", "stage", "entered_at"],
        [["T1", "Won", "2024-02-01 10:00"], ["T1", "Proposal", "2024-02-01 10:00"],
         ["T1", "Lead", "2024-01-01 00:00"]],
    )  # fmt: skip
    report = import_file(ws, "stage_events", events)
    assert report.refreshed_opportunities == 1
    assert query(ws, "SELECT stage, outcome, closed_at FROM opportunities")[0][:2] == ("Won", "won")
