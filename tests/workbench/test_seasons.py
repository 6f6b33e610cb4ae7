"""Measures limited to a season (Q4, Nov-Dec): parsing, filtering, storage, verdicts and the CLI.

The expected numbers are computed with pandas straight from the demo's tables (forecast bias:
Σ(latest commit − won) ÷ Σ won over the owners, per month), never by the code under test.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
from datetime import date, timedelta

import pandas as pd
import pytest

from salesflow.demo import effects
from salesflow.errors import ConfigError

FORECAST_UDR = 4  # the demo's "Q4 2025 commit forecasts overstated won revenue by 15%"
AS_OF = effects.DATA_END  # every month of the demo data is complete


# -- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "label", "months"),
    [
        ("Q4", "Q4", {10, 11, 12}),
        ("q1", "Q1", {1, 2, 3}),
        ("Oct-Dec", "Q4", {10, 11, 12}),
        ("10,11,12", "Q4", {10, 11, 12}),
        ("Nov-Dec", "Nov-Dec", {11, 12}),
        ("11,12", "Nov-Dec", {11, 12}),
        ("11-12", "Nov-Dec", {11, 12}),
        ("Q3,Q4", "Q3,Q4", {7, 8, 9, 10, 11, 12}),
        ("Nov-Feb", "Nov-Feb", {11, 12, 1, 2}),
        ("january, march", "Jan,Mar", {1, 3}),
    ],
)
def test_seasons_are_read_in_a_managers_words(text, label, months):
    from salesflow.metrics.seasons import parse_season

    season = parse_season(text)
    assert season.label == label and season.months == frozenset(months)
    assert parse_season(season.label) == season  # the stored label reads back the same


@pytest.mark.parametrize("text", ["Q5", "13", "Q4,", "winter", "Nov-"])
def test_a_bad_season_names_the_option_and_the_accepted_forms(text):
    from salesflow.metrics.seasons import parse_season

    with pytest.raises(ConfigError) as caught:
        parse_season(text)
    message = caught.value.message
    assert f"--season {text!r}" in message
    assert "Q1" in message and "Nov-Dec" in message and "11,12" in message


def test_part_of_a_quarter_cannot_be_charted_per_quarter():
    from salesflow.workbench.measures import season_label

    with pytest.raises(ConfigError, match="only part of a quarter"):
        season_label("Nov-Dec", "quarter")
    assert season_label("Nov-Dec", "month") == "Nov-Dec"
    assert season_label("oct-dec", "quarter") == "Q4"


# -- the numbers, against pandas --------------------------------------------------------------


@pytest.fixture(scope="module")
def bench(seeded):
    from salesflow.workbench.service import Workbench

    with Workbench.open(seeded, who="tester", as_of=AS_OF) as opened:
        yield opened


@pytest.fixture(scope="module")
def bias_rows(bench) -> pd.DataFrame:
    """Per month and owner: the latest commit forecast and the amount won, by plain pandas."""
    con = bench.workspace.data.con
    f = con.execute(
        "select period_start, owner, submitted_at, amount from forecasts "
        "where category = 'commit' and owner is not null"
    ).df()
    f = f.sort_values("submitted_at").groupby(["period_start", "owner"]).tail(1)
    f["month"] = pd.to_datetime(f["period_start"]).dt.to_period("M")
    forecast = f.groupby(["month", "owner"])["amount"].sum().rename("forecast")
    won = con.execute(
        "select owner, closed_at, amount from opportunities "
        "where outcome = 'won' and closed_at is not null"
    ).df()
    won["month"] = pd.to_datetime(won["closed_at"]).dt.to_period("M")
    actual = won.groupby(["month", "owner"])["amount"].sum().rename("actual")
    rows = forecast.to_frame().join(actual, how="left").fillna({"actual": 0.0}).reset_index()
    return rows[rows["month"] < pd.Period(AS_OF, "M")]


def _bias(rows: pd.DataFrame, by: pd.Series) -> pd.Series:
    sums = rows.groupby(by)[["forecast", "actual"]].sum()
    return (sums["forecast"] - sums["actual"]) / sums["actual"]


def _binding(**chosen):
    return {"metric": "forecast_bias", "bad_if": "above", "mode": "signal", **chosen}


def test_q4_months_only_match_pandas(bench, bias_rows):
    from salesflow.workbench.measures import compute

    monthly = _bias(bias_rows, bias_rows["month"])
    expected = monthly[[m.month in (10, 11, 12) for m in monthly.index]]
    measured = compute(bench.workspace, _binding(period="month", season="Q4"), as_of=AS_OF)
    got = {p.period: p.value for p in measured.series.points}
    assert list(got) == [m.start_time.date() for m in expected.index]
    assert len(got) == 6  # Oct-Dec 2024 and Oct-Dec 2025
    assert list(got.values()) == pytest.approx(list(expected.values), rel=1e-9)
    doc = measured.charted.to_dict()
    assert doc["season"] == "Q4"
    assert "Q4 is compared with Q4 of other years" in doc["chart"]["reason"]


def test_q4_quarters_only_match_pandas(bench, bias_rows):
    from salesflow.workbench.measures import compute

    quarterly = _bias(bias_rows, bias_rows["month"].map(lambda m: m.asfreq("Q")))
    expected = quarterly[[q.quarter == 4 for q in quarterly.index]]
    measured = compute(bench.workspace, _binding(period="quarter", season="Q4"), as_of=AS_OF)
    assert [p.period for p in measured.series.points] == [date(2024, 10, 1), date(2025, 10, 1)]
    assert [p.value for p in measured.series.points] == pytest.approx(list(expected), rel=1e-9)


def test_a_week_counts_in_the_month_holding_most_of_its_days(bench):
    from salesflow.workbench.measures import compute

    everything = compute(bench.workspace, _binding(metric="new_opportunities", period="week"))
    december = compute(
        bench.workspace, _binding(metric="new_opportunities", period="week", season="Dec")
    )
    expected = [
        p.period for p in everything.series.points if (p.period + timedelta(days=3)).month == 12
    ]
    assert [p.period for p in december.series.points] == expected and len(expected) >= 8


# -- the demo's Q4 forecast UDR ---------------------------------------------------------------


def test_the_demo_q4_forecast_udr_is_confirmed_by_its_q4_months(bench, bias_rows):
    doc = bench.show_udr(FORECAST_UDR)
    assert doc["binding"]["season"] == "Q4" and doc["binding"]["period"] == "month"
    assert doc["measure"] == "Forecast bias, Q4 months only"
    verdict = doc["verdict"]
    assert verdict["verdict"] == "confirmed" and verdict["rule"] == "threshold"
    monthly = _bias(bias_rows, bias_rows["month"])
    last_q4 = [monthly[pd.Period(f"2025-{m}", "M")] for m in (10, 11, 12)]
    assert [r["period"] for r in verdict["values"]["recent"]] == [
        "2025-10-01",
        "2025-11-01",
        "2025-12-01",
    ]
    assert verdict["values"]["median"] == pytest.approx(statistics.median(last_q4), rel=1e-9)
    assert verdict["values"]["median"] > 0.05  # the 5 % the UDR accepts
    assert verdict["values"]["season"] == "Q4"
    assert verdict["sentence"].startswith("Forecast bias in Q4 was ")
    assert "last 3 complete Q4 months" in verdict["sentence"]


def test_the_same_measure_over_the_whole_year_would_hide_the_q4_bias(bench, bias_rows):
    """Why the season matters: the months outside Q4 run near zero (the demo's ground truth)."""
    monthly = _bias(bias_rows, bias_rows["month"])
    q4 = [v for m, v in monthly.items() if m.month in effects.Q4_MONTHS]
    rest = [v for m, v in monthly.items() if m.month not in effects.Q4_MONTHS]
    assert statistics.median(q4) > 0.10 and abs(statistics.median(rest)) < 0.05
    whole_year = bench.judge_binding(_binding(period="month", mode="threshold", threshold=0.05))
    assert whole_year.verdict == "contradicted" and whole_year.rule == "threshold"
    assert whole_year.values["median"] == pytest.approx(statistics.median(rest[-3:]), rel=1e-9)


def test_q4_per_quarter_honestly_has_too_few_points(bench):
    verdict = bench.judge_binding(
        _binding(period="quarter", season="Q4", mode="threshold", threshold=0.05)
    )
    assert verdict.verdict == "insufficient_data" and verdict.rule == "too_few_periods"
    assert verdict.values["periods_with_data"] == 2 and verdict.values["needed"] == 3
    assert "only 2 complete Q4 quarters" in verdict.sentence
    assert "per month" in verdict.sentence


# -- storage ----------------------------------------------------------------------------------


def test_a_binding_stored_before_seasons_still_loads(seeded_copy):
    """A binding document without the ``season`` key, as stored by earlier releases."""
    from salesflow.workbench.service import Workbench

    old = {"metric": "win_rate", "filters": {"region": "EMEA"}, "params": {},
           "period": "quarter", "bad_if": "below", "threshold": 0.35, "mode": "threshold"}  # fmt: skip
    with sqlite3.connect(seeded_copy / "app.db") as db:
        db.execute("update udrs set binding = ? where id = 2", (json.dumps(old),))
        stored = json.loads(db.execute("select binding from udrs where id = 2").fetchone()[0])
    assert "season" not in stored
    with Workbench.open(seeded_copy, as_of=AS_OF) as bench:
        record = bench.store.udrs.get(2)
        assert record.binding == old  # loaded exactly as stored
        doc = bench.show_udr(2)
    assert doc["binding"]["season"] is None
    assert doc["measure"] == "Win rate (region = EMEA), per quarter"
    assert doc["verdict"]["verdict"] == "contradicted"  # as the demo documents for EMEA
    assert doc["verdict"]["chart"]["season"] is None


def test_the_store_refuses_a_bad_season(seeded_copy):
    from salesflow.appdb.bindings import normalise_binding
    from salesflow.appdb.errors import InvalidRecordError

    assert normalise_binding(_binding(season="oct-dec"))["season"] == "Q4"
    assert normalise_binding(_binding())["season"] is None
    with pytest.raises(InvalidRecordError, match="season 'Q5' is not a part of the year"):
        normalise_binding(_binding(season="Q5"))
    with pytest.raises(InvalidRecordError, match="only part of a quarter"):
        normalise_binding(_binding(season="Nov-Dec", period="quarter"))


# -- the command line -------------------------------------------------------------------------


@pytest.fixture
def ws(facilitator_ws):
    return facilitator_ws


def test_udr_bind_season_round_trip(cli, ws):
    bound = cli.json("udr", "bind", FORECAST_UDR, "--metric", "forecast_bias", "--season", "oct-dec",
                     "--bad-if", "above", "--threshold", "5%")  # fmt: skip
    assert bound["binding"]["season"] == "Q4"
    assert bound["measure"] == "Forecast bias, Q4 months only"
    shown = cli.json("udr", "show", FORECAST_UDR)
    assert shown["binding"] == bound["binding"]
    chart = shown["verdict"]["chart"]
    assert chart["season"] == "Q4"
    assert {date.fromisoformat(p["period"]).month for p in chart["points"]} == {10, 11, 12}
    listed = cli.json("udr", "list")["udrs"]
    assert [u["binding"]["season"] for u in listed if u["binding"]] == [
        None,
        None,
        None,
        "Q4",
        None,
        None,
    ]
    human = cli("udr", "bind", FORECAST_UDR, "--metric", "forecast_bias", "--season", "Q4",
                "--period", "quarter", "--bad-if", "above", "--threshold", "5%").stdout  # fmt: skip
    assert "Q4 quarters only" in human and "NOT ENOUGH DATA YET" in human


def test_metric_season_json(cli, ws):
    plain = cli.json("metric", "forecast_bias")
    assert plain["season"] is None and len(plain["points"]) > 6
    winter = cli.json("metric", "forecast_bias", "--season", "11,12")
    assert winter["season"] == "Nov-Dec"
    kept = [p for p in plain["points"] if date.fromisoformat(p["period"]).month in (11, 12)]
    assert winter["points"] == kept
    assert winter["chart"]["reason"].endswith(
        "Nov-Dec months only: the chart is drawn over these periods alone, so Nov-Dec is compared "
        "with Nov-Dec of other years, not with the rest of the year."
    )


def test_improve_add_keeps_the_season(cli, ws):
    doc = cli.json("improve", "add", "--objective", "Honest Q4 commits", "--metric",
                   "forecast_bias", "--season", "Q4", "--bad-if", "above",
                   "--start", "2025-10-01")  # fmt: skip
    assert doc["measure"]["season"] == "Q4"
    assert doc["measure_text"] == "Forecast bias, Q4 months only"
    assert doc["verdict"]["chart"]["season"] == "Q4"


@pytest.mark.parametrize(
    "command",
    [
        ("udr", "bind", str(FORECAST_UDR), "--metric", "forecast_bias", "--bad-if", "above"),
        ("metric", "forecast_bias"),
    ],
)
def test_a_bad_season_on_the_command_line_is_one_clear_line(cli, ws, command):
    result = cli(*command, "--season", "Q5", ok=False)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    err = " ".join(result.stderr.split())
    assert "--season 'Q5' is not a part of the year" in err and "Q1" in err and "Nov-Dec" in err
    assert cli.json("udr", "show", FORECAST_UDR)["binding"]["season"] == "Q4"  # nothing stored
