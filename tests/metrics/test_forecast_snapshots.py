"""A forecast is what was said before the period: revisions after the cut-off never count
(issue 12). Every expected number is computed by hand from the rows written here."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from salesflow import metrics

WON = {  # (owner, month) -> amount won in it
    ("Ann", 1): 150_000.0,
    ("Bob", 1): 80_000.0,
    ("Ann", 2): 120_000.0,
    ("Bob", 2): 100_000.0,
    ("Ann", 3): 90_000.0,
    ("Bob", 3): 60_000.0,
}
FORECASTS = [  # (owner, month, submitted_at, amount)
    ("Ann", 1, datetime(2025, 12, 29, 9), 100_000.0),  # on time
    ("Ann", 1, datetime(2026, 2, 3, 9), 150_000.0),  # revised after January ended = the actual
    ("Bob", 1, datetime(2025, 12, 30, 9), 90_000.0),
    ("Ann", 2, datetime(2026, 1, 30, 9), 100_000.0),
    ("Ann", 2, datetime(2026, 2, 20, 9), 118_000.0),  # mid-period revision
    ("Bob", 2, datetime(2026, 1, 31, 9), 110_000.0),
    ("Ann", 3, datetime(2026, 3, 2, 9), 95_000.0),  # March: nobody forecast before it began
    ("Bob", 3, datetime(2026, 3, 5, 9), 65_000.0),
]


def _fill(ws) -> None:
    opps = [
        {
            "opportunity_id": f"W{i}",
            "owner": owner,
            "created_at": datetime(2025, 11, 1),
            "closed_at": datetime(2026, month, 10),
            "outcome": "won",
            "stage": "Won",
            "amount": amount,
        }
        for i, ((owner, month), amount) in enumerate(WON.items())
    ]
    opps.append(
        {
            "opportunity_id": "L1",
            "owner": "Ann",
            "created_at": datetime(2026, 3, 1),
            "closed_at": datetime(2026, 4, 1),
            "outcome": "lost",
            "stage": "Lost",
            "amount": 1.0,
        }
    )  # fmt: skip  (sets as-of to 1 April: March is complete)
    rows = [
        {"period_start": date(2026, m, 1), "owner": o, "team": "East", "submitted_at": at,
         "category": "commit", "amount": a}
        for o, m, at, a in FORECASTS
    ]  # fmt: skip
    from time_logs import insert

    insert(ws, {"opportunities": opps, "forecasts": rows})


def _error(forecasts: dict) -> float:
    """Σ|forecast − won| ÷ Σ won over the owners with a forecast."""
    num = sum(abs(f - WON[key]) for key, f in forecasts.items())
    return num / sum(WON[key] for key in forecasts)


def test_a_revision_after_the_period_does_not_change_its_error(workspace):
    _fill(workspace)
    s = metrics.series(workspace.data, workspace.settings, "forecast_error")
    points = {p.period: p for p in s.points}
    jan = points[date(2026, 1, 1)]
    assert jan.value == pytest.approx(_error({("Ann", 1): 100_000.0, ("Bob", 1): 90_000.0}))
    assert jan.value > 0.2  # the late revision (= the actual) would have made Ann's error 0
    assert jan.extra["submitted_at"] == "2025-12-30T09:00:00"
    feb = points[date(2026, 2, 1)]
    assert feb.value == pytest.approx(_error({("Ann", 2): 100_000.0, ("Bob", 2): 110_000.0}))
    mar = points[date(2026, 3, 1)]
    assert (mar.value, mar.status, mar.note) == (
        None,
        "complete",
        "no forecast submitted before the cut-off",
    )
    doc = s.to_dict()["points"]
    assert doc[0]["submitted_at"] == "2025-12-30T09:00:00" and doc[2]["submitted_at"] is None


def test_n_days_before_period_end_counts_mid_period_revisions(workspace):
    _fill(workspace)
    with workspace.settings.config_path.open("a", encoding="utf-8") as f:
        f.write('\n[forecasts]\ncutoff = "10 days before period end"\n')
    from salesflow.workspace import Workspace

    with Workspace.open(workspace.path) as ws:
        s = metrics.series(ws.data, ws.settings, "forecast_bias")
    points = {p.period: p for p in s.points}
    # February's cut-off is 19 Feb 00:00: Ann's revision of the 20th is still too late
    feb = points[date(2026, 2, 1)]
    bias = (100_000 + 110_000 - 120_000 - 100_000) / (120_000 + 100_000)
    assert feb.value == pytest.approx(bias)
    # March's cut-off is 22 March: both mid-March submissions count now
    mar = points[date(2026, 3, 1)]
    assert mar.value == pytest.approx((95_000 + 65_000 - 150_000) / 150_000)
    assert mar.extra["submitted_at"] == "2026-03-05T09:00:00"
    # January: Ann's revision of 3 February came after 22 January
    jan = points[date(2026, 1, 1)]
    assert jan.value == pytest.approx((100_000 + 90_000 - 230_000) / 230_000)


def test_an_unknown_cutoff_is_refused(workspace):
    from salesflow.errors import ConfigError
    from salesflow.workspace import Workspace

    _fill(workspace)
    with workspace.settings.config_path.open("a", encoding="utf-8") as f:
        f.write('\n[forecasts]\ncutoff = "whenever"\n')
    with Workspace.open(workspace.path) as ws, pytest.raises(ConfigError, match="N days before"):
        metrics.series(ws.data, ws.settings, "forecast_error")


def test_forecast_rows_without_a_submission_time_are_refused_row_by_row(cli, workspace, tmp_path):
    workspace.close()  # the command opens the data file itself
    csv = tmp_path / "f.csv"
    csv.write_text(
        "period_start,owner,team,submitted_at,category,amount\n"
        "2026-01-01,Ann,East,2025-12-28 10:00,commit,1000\n"
        "2026-01-01,Bob,East,,commit,2000\n"
        "2026-02-01,Ann,East,next tuesday,commit,3000\n",
        encoding="utf-8",
    )
    result = cli("-w", workspace.path, "import", "forecasts", csv, ok=False)
    assert result.exit_code != 0
    assert "f.csv, row 2, column 'submitted_at'" in result.stderr
    assert "f.csv, row 3, column 'submitted_at'" in result.stderr
    assert "nothing was imported" in result.stderr
    assert cli.json("-w", workspace.path, "status")["tables"]["forecasts"]["rows"] == 0
