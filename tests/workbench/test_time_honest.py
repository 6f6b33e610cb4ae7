"""Numbers honest about time (issue 12): verdicts judged as of the data's end, maturing cohorts
held back, silence counted as zeros, and bad as-of moments refused."""

from __future__ import annotations

import statistics
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from salesflow import metrics
from salesflow.workbench.measures import compute
from salesflow.workbench.service import Workbench
from salesflow.workbench.verdict import judge_udr
from salesflow.workspace import Workspace
from time_logs import WIN_SHARE, deals, make_workspace

EXPORT = datetime(2026, 3, 14, 17, 0)  # the export was taken mid-March
COHORT = {"metric": "cohort_conversion", "params": {"within_days": "90"}, "period": "month"}


@pytest.fixture(scope="module")
def constant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two years of deals whose true conversion is 30 % every month, exported on 14 March."""
    return make_workspace(tmp_path_factory.mktemp("time") / "constant", deals(EXPORT))


@pytest.fixture(scope="module")
def stalled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Wins stop on 1 January 2026; deals keep being created and lost; as-of is 1 April."""
    rows = deals(datetime(2026, 3, 31, 18), wins_until=datetime(2026, 1, 1))
    toml = "as_of = 2026-04-01\n"  # [calendar] is the template's last table
    return make_workspace(tmp_path_factory.mktemp("time") / "stalled", rows, toml=toml)


def _udr(folder: Path, binding: dict, *, as_of=None):
    from salesflow.workbench.measures import binding_from_options

    with Workspace.open(folder) as ws:
        full = binding_from_options(**binding, settings=ws.settings)
        measured = compute(ws, full, as_of=as_of)
        return measured, measured.stamp(judge_udr(measured.charted, full, title="Conversion"))


def test_status_reports_as_of_from_the_data_not_the_clock(cli, constant, monkeypatch):
    for today in ("2026-03-14", "2026-04-20"):
        monkeypatch.setenv("SALESFLOW_TODAY", today)
        doc = cli.json("-w", constant, "status")
        last = max(r["created_at"] for r in deals(EXPORT))
        assert doc["as_of"] == last.isoformat()  # the latest timestamp, whatever today is


def test_recent_cohorts_are_maturing_and_march_is_running(constant):
    with Workspace.open(constant) as ws:
        s = metrics.series(ws.data, ws.settings, "cohort_conversion", params={"within_days": 90})
    status = {p.period: p.status for p in s.points}
    # period_end + 90 days <= as_of: November's cohort (ends 1 Dec, +90 = 1 Mar) is complete
    assert status[date(2025, 11, 1)] == "complete"
    assert [status[date(2025, 12, 1)], status[date(2026, 1, 1)], status[date(2026, 2, 1)]] == [
        "maturing"
    ] * 3
    assert status[date(2026, 3, 1)] == "running"
    assert all(v == "complete" for k, v in status.items() if k <= date(2025, 11, 1))
    judged = [p.value for p in s.points if p.status == "complete"]
    assert statistics.median(judged) == pytest.approx(WIN_SHARE, abs=0.02)
    # the maturing cohorts really do read low: judging them would be wrong
    assert s.points[-2].value < WIN_SHARE - 0.1
    doc = s.to_dict()
    assert doc["as_of"].startswith("2026-03-14")
    assert "within_days" in doc["maturity"]
    assert doc["not_judged"] == (
        "December 2025, January 2026 and February 2026 are still maturing and are not judged; "
        "March 2026 is still running and is not judged."
    )


def test_within_days_zero_uses_the_historical_time_to_win(constant):
    """Maturity rule for within_days=0: 90 % of past wins were won within W days (here W is the
    90th percentile of close_days over the won deals, computed independently)."""
    from time_logs import close_days

    with Workspace.open(constant) as ws:
        s = metrics.series(ws.data, ws.settings, "cohort_conversion")
    won = sorted(
        close_days(i) + 1 / 24 for i, r in enumerate(deals(EXPORT)) if r["outcome"] == "won"
    )
    import numpy as np

    window = float(np.quantile(won, 0.9))
    assert f"{window:.0f} days" in s.maturity
    for p in s.points:
        end = datetime.combine(p.period, datetime.min.time())
        end = end.replace(month=end.month % 12 + 1, year=end.year + (end.month == 12))
        expected = (
            "running"
            if end > EXPORT
            else ("maturing" if end + timedelta(days=window) > EXPORT else "complete")
        )
        assert p.status == expected, p.period


def test_udr_just_under_the_true_rate_is_contradicted(constant):
    binding = {**COHORT, "bad_if": "below", "threshold": "28%"}
    measured, verdict = _udr(constant, binding)
    assert verdict.verdict == "contradicted", verdict.sentence
    assert [v["period"] for v in verdict.values["recent"]] == [
        "2025-09-01",
        "2025-10-01",
        "2025-11-01",
    ]
    assert verdict.values["incomplete_periods_left_out"] == [
        "2025-12-01",
        "2026-01-01",
        "2026-02-01",
        "2026-03-01",
    ]
    assert "March 2026 is still running and is not judged." in verdict.sentence
    # the chart in the evidence still draws the unjudged points, marked
    statuses = [p["status"] for p in verdict.chart["points"]]
    assert statuses[-4:] == ["maturing", "maturing", "maturing", "running"]
    # judged on every point instead (the old behaviour), the same data would confirm it
    naive = replace(measured.charted, series=measured.shown)
    naive = replace(naive, series=replace(naive.series, points=[
        replace(p, status="complete") for p in naive.series.points[:-1]
    ]))  # fmt: skip
    assert judge_udr(naive, {**binding, "threshold": 0.28, "mode": "threshold"},
                     title="x").verdict == "confirmed"  # fmt: skip


def test_improvement_started_60_days_before_as_of_is_never_worse(constant, tmp_path):
    import shutil

    folder = tmp_path / "ws"
    shutil.copytree(constant, folder)
    start = (EXPORT - timedelta(days=60)).date()
    with Workbench(Workspace.open(folder), who="tester") as bench:
        bench._owns_workspace = True
        added = bench.add_improvement(
            objective="Convert more of the deals we create.",
            metric="cohort_conversion",
            bad_if="below",
            params={"within_days": "90"},
            baseline="2024-01-01:2025-06-30",
            start=start.isoformat(),
        )
        doc = bench.show_improvement(added["id"])
    verdict = doc["verdict"]
    assert verdict["verdict"] in ("too_early", "insufficient_data", "no_signal"), verdict
    assert "still maturing" in verdict["sentence"]
    # the maturing cohorts after the start read far below the true rate: judged as data, they
    # would look like the change made conversion worse
    with Workspace.open(folder) as ws:
        m = {**COHORT, "bad_if": "below", "start_date": start.isoformat()}
        measured = compute(ws, m, baseline=(date(2024, 1, 1), date(2025, 6, 30)))
    after = [p for p in measured.shown.points if p.period >= start]
    assert after and all(p.status != "complete" for p in after)
    assert max(p.value for p in after) < WIN_SHARE - 0.1


def test_same_verdicts_a_month_after_the_export(cli, constant, tmp_path, monkeypatch):
    """Frozen clock on the export day and a month later, and --as-of: the same verdicts."""
    import shutil

    folder = tmp_path / "ws"
    shutil.copytree(constant, folder)
    monkeypatch.setenv("SALESFLOW_TODAY", "2026-03-14")
    monkeypatch.setenv("SALESFLOW_USER", "tester")
    cli("-w", folder, "udr", "add", "Too few of the deals we create are won within 90 days")
    cli("-w", folder, "udr", "bind", "1", "--metric", "cohort_conversion", "--param",
        "within_days=90", "--bad-if", "below", "--threshold", "28%")  # fmt: skip
    cli("-w", folder, "udr", "add", "We close too few deals")
    cli("-w", folder, "udr", "bind", "2", "--metric", "throughput", "--bad-if", "below")

    def verdicts(*extra: str) -> list:
        docs = cli.json("-w", folder, "udr", "list", *extra)["udrs"]
        return [(d["verdict"]["verdict"], d["verdict"]["sentence"]) for d in docs]

    on_export_day = verdicts()
    monkeypatch.setenv("SALESFLOW_TODAY", "2026-04-20")
    assert verdicts() == on_export_day
    assert verdicts("--as-of", "2026-03-14") == on_export_day
    assert on_export_day[0][0] == "contradicted"
    later = cli.json("-w", folder, "udr", "show", "2", "--as-of", "2026-04-20")["verdict"]
    assert later["values"]["as_of"] == "2026-04-20T00:00:00"  # a chosen as-of is honoured


@pytest.mark.parametrize(
    ("as_of", "words"),
    [("2023-06-01", "before the earliest data (2024-01-01)"), ("2026-05-01", "after today")],
)
def test_a_bad_as_of_is_refused_with_a_sentence(cli, constant, monkeypatch, as_of, words):
    monkeypatch.setenv("SALESFLOW_TODAY", "2026-04-20")
    result = cli("-w", constant, "metric", "throughput", "--as-of", as_of, ok=False)
    assert result.exit_code != 0 and words in result.stderr
    result = cli("-w", constant, "status", "--as-of", "14/03/2026", ok=False)
    assert result.exit_code != 0 and "is not a date" in result.stderr


def test_wins_that_stop_show_three_trailing_zeros_and_confirm_the_udr(stalled):
    with Workspace.open(stalled) as ws:
        won = metrics.series(ws.data, ws.settings, "throughput", filters={"outcome": "won"})
    tail = [(p.period, p.value, p.status) for p in won.points[-3:]]
    assert tail == [
        (date(2026, 1, 1), 0.0, "complete"),
        (date(2026, 2, 1), 0.0, "complete"),
        (date(2026, 3, 1), 0.0, "complete"),
    ]
    expected = sum(1 for r in deals(datetime(2026, 3, 31, 18), wins_until=datetime(2026, 1, 1))
                   if r["outcome"] == "won" and r["closed_at"].month == 12
                   and r["closed_at"].year == 2025)  # fmt: skip
    assert won.points[-4].value == expected > 10
    binding = {"metric": "throughput", "filters": {"outcome": "won"}, "bad_if": "below"}
    _, verdict = _udr(stalled, binding)
    assert verdict.verdict == "confirmed", verdict.sentence
    assert verdict.values["as_of"] == "2026-04-01T00:00:00"


def test_rates_with_no_deals_say_so(stalled):
    with Workspace.open(stalled) as ws:
        before = date(2023, 12, 31)  # no deal yet (a filter value no deal holds is refused)
        s = metrics.series(ws.data, ws.settings, "win_rate", end=before)
        rate = metrics.series(ws.data, ws.settings, "win_rate", start=date(2023, 1, 1), end=before)
    assert s.points == []  # no rows and no window: nothing to show
    first = rate.to_dict()["points"][0]
    assert first == {
        "period": "2023-01-01", "value": None, "n": 0, "numerator": 0.0, "denominator": 0.0,
        "status": "complete", "note": "no deals closed",
    }  # fmt: skip


def test_the_notebook_api_judges_as_of_its_moment(constant):
    import salesflow as sf

    with sf.open(constant) as ws:
        assert ws.status()["as_of"] == ws.as_of.isoformat()
        doc = ws.metric("throughput").to_dict()
    assert doc["points"][-1]["status"] == "running" and doc["points"][-1]["period"] == "2026-03-01"
    with sf.open(constant, as_of="2026-01-15") as ws:
        doc = ws.metric("throughput").to_dict()
        assert ws.status()["as_of"] == "2026-01-15T00:00:00"
    last = doc["points"][-1]
    assert (last["period"], last["status"]) == ("2026-01-01", "running")
    assert doc["not_judged"] == "January 2026 is still running and is not judged."
    assert doc["points"][-2]["status"] == "complete"
