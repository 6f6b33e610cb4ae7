"""Deal history: a Salesforce OpportunityHistory export, and history derived from snapshots."""

from __future__ import annotations

from datetime import date

import pytest
from ingest_helpers import query, write_csv

from salesflow.errors import ConfigError
from salesflow.ingest import import_file

SF_OPPS = ["Opportunity ID", "Opportunity Owner", "Stage", "Amount", "Created Date", "Close Date"]
# a Data Loader export of the OpportunityHistory object, as Salesforce names its fields
SF_OPP_HISTORY = ["OpportunityId", "CreatedDate", "StageName", "Amount", "CloseDate",
                  "ForecastCategory", "PrevAmount", "PrevCloseDate", "Probability"]  # fmt: skip


def test_salesforce_opportunity_history_imports_with_the_preset(ws, tmp_path):
    opps = write_csv(tmp_path / "opps.csv", SF_OPPS, [
        ("0061", "Ann", "Negotiation/Review", "14000", "2025-05-02", "2025-09-30"),
        ("0062", "Bob", "Closed Won", "900", "2025-06-10", "2025-08-15"),
    ])  # fmt: skip
    import_file(ws, "opportunities", opps, preset="salesforce")
    history = write_csv(tmp_path / "OpportunityHistory.csv", SF_OPP_HISTORY, [
        ("0061", "2025-05-02T09:00:00Z", "Prospecting", "12000", "2025-08-31", "Pipeline", "", "", "10"),
        ("0061", "2025-07-20T15:30:00Z", "Proposal/Price Quote", "14000", "2025-09-30", "BestCase", "12000", "2025-08-31", "60"),
        ("0061", "2025-08-28T11:00:00Z", "Negotiation/Review", "14000", "2025-09-30", "Commit", "14000", "2025-09-30", "90"),
        ("0062", "2025-06-10T10:00:00Z", "Qualification", "900", "2025-08-15", "Pipeline", "", "", "20"),
        ("0062", "2025-08-14T16:00:00Z", "Closed Won", "900", "2025-08-15", "Closed", "900", "2025-08-15", "100"),
    ])  # fmt: skip
    report = import_file(ws, "opportunity_history", history, preset="salesforce")
    assert (report.rows_read, report.rows_written, report.rejected) == (5, 5, 0)
    assert {"prev_amount", "prev_close_date"} <= set(report.extra_columns)
    rows = query(
        ws,
        "SELECT stage, amount, CAST(close_date AS VARCHAR), forecast_category, prev_close_date "
        "FROM opportunity_history WHERE opportunity_id = '0061' ORDER BY changed_at",
    )
    assert rows == [
        ("Prospecting", 12000.0, "2025-08-31", "pipeline", None),
        ("Proposal/Price Quote", 14000.0, "2025-09-30", "best_case", "2025-08-31"),
        ("Negotiation/Review", 14000.0, "2025-09-30", "commit", "2025-09-30"),
    ]


SNAP = ["opportunity_id", "created_at", "owner", "stage", "amount", "close_date",
        "forecast_category"]  # fmt: skip
WEEKS = {
    date(2025, 7, 7): [
        ("A", "2025-06-01", "Ann", "Qualified", "1000", "2025-08-15", "pipeline"),
        ("B", "2025-06-20", "Bob", "Proposal", "5000", "2025-09-10", "commit"),
        ("C", "2025-07-01", "Ann", "Lead", "", "", ""),
    ],
    date(2025, 7, 14): [  # A pushed out, B unchanged, C gets amount and date, D new
        ("A", "2025-06-01", "Ann", "Qualified", "1000", "2025-10-15", "pipeline"),
        ("B", "2025-06-20", "Bob", "Proposal", "5000", "2025-09-10", "commit"),
        ("C", "2025-07-01", "Ann", "Qualified", "2500.50", "2025-09-30", "pipeline"),
        ("D", "2025-07-10", "Bob", "Lead", "700", "2025-09-01", "pipeline"),
    ],
    date(2025, 7, 21): [  # B won, A handed to Bob, C and D unchanged
        ("A", "2025-06-01", "Bob", "Qualified", "1000", "2025-10-15", "pipeline"),
        ("B", "2025-06-20", "Bob", "Won", "5200", "2025-07-18", "closed"),
        ("C", "2025-07-01", "Ann", "Qualified", "2500.50", "2025-09-30", "pipeline"),
        ("D", "2025-07-10", "Bob", "Lead", "700", "2025-09-01", "pipeline"),
    ],
}


def change_log() -> list[tuple]:
    """The same weeks written as a change log: a row only when a deal is new or changed."""
    rows, last = [], {}
    for day, deals in WEEKS.items():
        for deal in deals:
            state = deal[2:]
            if last.get(deal[0]) != state:
                rows.append((deal[0], day.isoformat(), *state))
                last[deal[0]] = state
    return rows


HISTORY = "SELECT * FROM opportunity_history ORDER BY opportunity_id, changed_at"


def test_three_snapshots_give_the_history_of_the_change_log(ws, tmp_path):
    from salesflow.workspace import Workspace, init_workspace

    counts = []
    for day, deals in WEEKS.items():
        snap = write_csv(tmp_path / f"open_deals_{day}.csv", SNAP, deals)
        counts.append(import_file(ws, "opportunities", snap, snapshot_date=day).history_rows)
    assert counts == [3, 3, 2]
    init_workspace(tmp_path / "log").close()
    log = Workspace.open(tmp_path / "log")
    last_week = write_csv(tmp_path / "deals.csv", SNAP, WEEKS[date(2025, 7, 21)])
    import_file(log, "opportunities", last_week)
    header = ["opportunity_id", "changed_at", "owner", "stage", "amount", "close_date",
              "forecast_category"]  # fmt: skip
    changes = write_csv(tmp_path / "changes.csv", header, change_log())
    import_file(log, "opportunity_history", changes)
    snapshots = query(ws, HISTORY)
    assert len(snapshots) == 8
    assert snapshots == query(log, HISTORY)
    log.close()


def test_the_same_snapshot_twice_adds_nothing_new(ws, tmp_path):
    day = date(2025, 7, 7)
    snap = write_csv(tmp_path / "snap.csv", SNAP, WEEKS[day])
    import_file(ws, "opportunities", snap, snapshot_date=day)
    again = import_file(ws, "opportunities", snap, snapshot_date=day)
    assert again.history_rows == 3  # the day's rows replace themselves
    assert query(ws, "SELECT count(*) FROM opportunity_history") == [(3,)]


def test_snapshot_date_is_only_for_opportunities(ws, tmp_path):
    events = write_csv(tmp_path / "e.csv", ["opportunity_id", "stage", "entered_at"], [])
    with pytest.raises(ConfigError, match="--snapshot-date applies to opportunities"):
        import_file(ws, "stage_events", events, snapshot_date=date(2025, 7, 7))
