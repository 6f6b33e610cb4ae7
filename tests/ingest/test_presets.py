"""Every preset on files generated in that export's real column layout."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_helpers import query, write_csv

from salesflow.ingest import import_file, preset_names, preset_stages
from salesflow.settings import load_settings

MAVEN_HEADER = [
    "opportunity_id", "sales_agent", "product", "account", "deal_stage",
    "engage_date", "close_date", "close_value", "engage_quarter", "close_quarter",
]  # fmt: skip


def maven_files(folder: Path) -> Path:
    """A small sales_pipeline.csv with the sample's quirks, plus the three lookup files."""
    rows = [
        ("W1", "Ann Agent", "GTXPro", "Acme", "Won", "20-10-16", "01-03-17", "4514", "Q4 2016", "Q1 2017"),
        ("W2", "Bob Agent", "MG Special", "Betatech", "Won", "25-10-16", "07-03-17", "50", "Q4 2016", "Q1 2017"),
        ("L1", "Ann Agent", "GTX Basic", "Acme", "Lost", "02-11-16", "15-12-16", "0", "Q4 2016", "Q4 2016"),
        ("E1", "Bob Agent", "GTXPro", None, "Engaging", "03-11-16", None, None, "Q4 2016", None),
        ("P1", "Ann Agent", "MG Special", None, "Prospecting", None, None, None, None, None),
    ]  # fmt: skip
    write_csv(
        folder / "accounts.csv",
        ["account", "sector", "year_established", "revenue", "employees", "office_location", "subsidiary_of"],
        [("Acme", "technolgy", 1996, 1100.04, 2822, "United States", None),
         ("Betatech", "medical", 1986, 647.18, 1185, "Kenya", None)],
    )  # fmt: skip
    write_csv(
        folder / "products.csv",
        ["product", "series", "sales_price"],
        [("GTX Basic", "GTX", 550), ("GTX Pro", "GTX", 4821), ("MG Special", "MG", 55)],
    )
    write_csv(
        folder / "sales_teams.csv",
        ["sales_agent", "manager", "regional_office"],
        [("Ann Agent", "Dustin Brinkmann", "Central"), ("Bob Agent", "Rocco Neubert", "East")],
    )
    return write_csv(folder / "sales_pipeline.csv", MAVEN_HEADER, rows)


def test_maven_crm_preset_keeps_quirky_rows_and_enriches(ws, tmp_path):
    report = import_file(ws, "opportunities", maven_files(tmp_path), preset="maven-crm")
    assert (report.rows_read, report.rows_written, report.rejected) == (5, 5, 0)
    rows = query(ws, "SELECT outcome, count(*) FROM opportunities GROUP BY 1 ORDER BY 1")
    assert rows == [("lost", 1), ("open", 2), ("won", 2)]
    # 20-10-16 is 20 October 2016 (day-month-two-digit-year)
    w1 = query(ws, "SELECT created_at, closed_at, product, team, sector, sales_price "
                   "FROM opportunities WHERE opportunity_id = 'W1'")[0]  # fmt: skip
    assert (w1[0].date().isoformat(), w1[1].date().isoformat()) == ("2016-10-20", "2017-03-01")
    assert w1[2:] == ("GTX Pro", "Dustin Brinkmann", "technolgy", 4821.0)
    text = " | ".join(report.warnings)
    assert "'GTXPro', which products.csv spells 'GTX Pro'" in text
    assert "1 deals have no account" in text or "2 deals have no account" in text
    assert "1 deals have no creation date" in text
    assert report.stages_adopted == {
        "order": ["Prospecting", "Engaging"],
        "won": ["Won"],
        "lost": ["Lost"],
    }
    assert load_settings(ws.path).stages.order == ("Prospecting", "Engaging")
    # minimal stage events: Engaging at engage_date (4 deals have one), Won/Lost at close_date (3)
    events = query(ws, "SELECT stage, count(*) FROM stage_events GROUP BY 1 ORDER BY 1")
    assert events == [("Engaging", 4), ("Lost", 1), ("Won", 2)]
    assert report.derived_stage_events == 7


def test_maven_rows_without_account_are_counted_exactly(ws, tmp_path):
    report = import_file(ws, "opportunities", maven_files(tmp_path), preset="maven-crm")
    assert any(w.startswith("2 deals have no account (2 of them open)") for w in report.warnings)


SF_OPPS = ["Opportunity ID", "Opportunity Name", "Account Name", "Opportunity Owner", "Stage",
           "Amount", "Probability (%)", "Created Date", "Close Date", "Lead Source", "Type"]  # fmt: skip
SF_HISTORY = ["Opportunity ID", "Opportunity Name", "Stage", "Amount", "Probability (%)",
              "Close Date", "Last Modified", "Forecast Category"]  # fmt: skip


def test_salesforce_opportunities_then_history(ws, tmp_path):
    opps = write_csv(tmp_path / "opps.csv", SF_OPPS, [
        ("0061", "Big deal", "Acme", "Ann", "Closed Won", "12000", "100", "1/15/2024", "3/20/2024", "Web", "New Business"),
        ("0062", "Small deal", "Beta", "Bob", "Proposal/Price Quote", "900", "75", "2/03/2024", "4/30/2024", "Partner", "Existing Business"),
        ("0063", "Lost deal", "Gamma", "Ann", "Closed Lost", "5000", "0", "2/13/2024", "3/01/2024", "Web", "New Business"),
    ])  # fmt: skip
    report = import_file(ws, "opportunities", opps, preset="salesforce")
    assert report.date_formats["created_at"] == "%m/%d/%Y"  # 1/15 and 2/13 can only be month-first
    assert query(ws, "SELECT opportunity_id, outcome, source, segment FROM opportunities ORDER BY 1") == [
        ("0061", "won", "Web", "New Business"),
        ("0062", "open", "Partner", "Existing Business"),
        ("0063", "lost", "Web", "New Business"),
    ]  # fmt: skip
    # "Close Date" is the expected close of an open deal, the closing day of a closed one
    dates = query(ws, "SELECT opportunity_id, CAST(close_date AS VARCHAR), "
                      "CAST(closed_at AS VARCHAR) FROM opportunities ORDER BY 1")  # fmt: skip
    assert dates == [("0061", "2024-03-20", "2024-03-20 00:00:00"),
                     ("0062", "2024-04-30", None),
                     ("0063", "2024-03-01", "2024-03-01 00:00:00")]  # fmt: skip
    history = write_csv(tmp_path / "history.csv", SF_HISTORY, [
        ("0062", "Small deal", "Prospecting", "900", "10", "4/30/2024", "2/03/2024 9:00 AM", "Pipeline"),
        ("0062", "Small deal", "Proposal/Price Quote", "900", "75", "4/30/2024", "2/20/2024 2:30 PM", "Best Case"),
        ("0062", "Small deal", "Closed Won", "950", "100", "4/30/2024", "4/28/2024 4:00 PM", "Closed"),
    ])  # fmt: skip
    report = import_file(ws, "stage_events", history, preset="salesforce")
    assert report.rows_written == 3 and report.refreshed_opportunities == 1
    events = query(ws, "SELECT stage, forecast_category FROM stage_events "
                       "WHERE opportunity_id = '0062' ORDER BY entered_at")  # fmt: skip
    assert events == [("Prospecting", "pipeline"), ("Proposal/Price Quote", "best_case"),
                      ("Closed Won", "closed")]  # fmt: skip
    # the deal's outcome was derived from its stage, so the history now says it was won
    row = query(
        ws, "SELECT outcome, stage, closed_at FROM opportunities WHERE opportunity_id = '0062'"
    )
    assert row[0][:2] == ("won", "Closed Won") and row[0][2].isoformat() == "2024-04-28T16:00:00"


HS_DEALS = ["Record ID", "Deal Name", "Deal Stage", "Deal owner", "Create Date", "Close Date",
            "Amount", "Pipeline", "Associated Company"]  # fmt: skip


def test_hubspot_deals_and_stage_history(ws, tmp_path):
    deals = write_csv(tmp_path / "deals.csv", HS_DEALS, [
        ("9001", "Acme renewal", "Closed Won", "Ann", "2024-01-05 10:12", "2024-02-01 09:00", "3000", "Sales Pipeline", "Acme"),
        ("9002", "Beta pilot", "Contract Sent", "Bob", "2024-01-09 14:40", None, "1200", "Sales Pipeline", "Beta"),
    ])  # fmt: skip
    report = import_file(ws, "opportunities", deals, preset="hubspot")
    assert report.date_formats == {"created_at": "ISO 8601", "close_date": "ISO 8601"}
    assert report.extra_columns == ["deal_name", "pipeline"]
    assert query(ws, "SELECT opportunity_id, outcome, pipeline FROM opportunities ORDER BY 1") == [
        ("9001", "won", "Sales Pipeline"), ("9002", "open", "Sales Pipeline")]  # fmt: skip
    history = write_csv(tmp_path / "stages.csv", ["Record ID", "Deal Stage", "Date entered stage"], [
        ("9002", "Appointment Scheduled", "2024-01-09 14:40"),
        ("9002", "Contract Sent", "2024-01-20 08:00"),
    ])  # fmt: skip
    import_file(ws, "stage_events", history, preset="hubspot")
    # the derived events of 9002 (one, at creation) are replaced by its real history
    assert query(ws, "SELECT stage FROM stage_events WHERE opportunity_id = '9002' ORDER BY entered_at") == [
        ("Appointment Scheduled",), ("Contract Sent",)]  # fmt: skip


def test_every_preset_is_listed_and_declares_stages():
    assert preset_names() == ["hubspot", "maven-crm", "salesforce"]
    assert preset_stages("maven-crm").won == ("Won",)
    assert preset_stages("salesforce").lost == ("Closed Lost",)


def test_unknown_stages_in_a_used_workspace_are_an_error(ws, tmp_path):
    import_file(ws, "opportunities", maven_files(tmp_path), preset="maven-crm")
    deals = write_csv(tmp_path / "deals.csv", HS_DEALS, [
        ("9001", "x", "Closed Won", "Ann", "2024-01-05", "2024-02-01", "3000", "P", "Acme")])  # fmt: skip
    from salesflow.errors import ImportValidationError

    with pytest.raises(ImportValidationError) as info:
        import_file(ws, "opportunities", deals, preset="hubspot")
    first = info.value.errors[0]
    assert first.row is None and first.value == "Closed Won" and "[stages]" in first.reason
