"""``salesflow metrics`` and ``salesflow metric`` end to end on a real workspace, with the chart
limits recomputed by hand from the printed points (Wheeler's XmR constants 2.66 and 3.268,
"Understanding Variation", 1993; the p-chart's p̄ ± 3√(p̄(1−p̄)/nᵢ), Montgomery, "Introduction to
Statistical Quality Control", §7.2)."""

from __future__ import annotations

import itertools
import json
import math
import statistics

import metrics_oracle as oracle
import pytest
from metrics_data import load

from salesflow import metrics


@pytest.fixture(scope="module")
def ws(tmp_path_factory, data):
    from salesflow.workspace import init_workspace

    workspace = init_workspace(tmp_path_factory.mktemp("cli") / "ws")
    load(workspace.data, data)
    workspace.close()
    return workspace.path


def test_catalog_lists_every_metric_with_its_definition(cli, ws):
    doc = cli.json("-w", ws, "metrics")
    ids = [m["id"] for m in doc["metrics"]]
    assert ids == [m.id for m in metrics.catalog()]
    assert len(ids) >= 19
    for m in doc["metrics"]:
        assert (
            m["definition"]
            and m["unit"]
            and m["kind"] in ("count", "proportion", "duration", "amount", "rate")
        )
    aging = next(m for m in doc["metrics"] if m["id"] == "aging_wip")
    assert aging["params"] == [
        {"name": "days", "type": "int", "default": 60, "doc": aging["params"][0]["doc"]}
    ]
    human = cli("-w", ws, "metrics").stdout
    assert "win_rate" in human and "--param days=60" in human


def test_xmr_limits_reproduce_by_hand(cli, ws):
    doc = cli.json("-w", ws, "metric", "new_opportunities", "--period", "week", "--chart", "xmr")
    assert set(doc) >= {"metric", "period", "unit", "points", "chart", "signals"}
    assert all(set(p) >= {"period", "value", "n", "status"} for p in doc["points"])
    judged = [p for p in doc["points"] if p["status"] == "complete"]  # limits use only these
    assert doc["points"][-1]["status"] == "running" and len(judged) == len(doc["points"]) - 1
    x = [p["value"] for p in judged]
    center = statistics.fmean(x)
    mr = statistics.fmean(abs(b - a) for a, b in itertools.pairwise(x))
    chart = doc["chart"]
    assert chart["type"] == "xmr"
    assert chart["center"] == pytest.approx(center)
    assert chart["ucl"] == pytest.approx(center + 2.66 * mr)
    assert chart["lcl"] == pytest.approx(center - 2.66 * mr)
    beyond = {p["period"] for p in judged if not chart["lcl"] <= p["value"] <= chart["ucl"]}
    assert beyond == {s["period"] for s in doc["signals"] if s["rule"] == "we1"}


def test_p_chart_limits_reproduce_by_hand(cli, ws):
    doc = cli.json("-w", ws, "metric", "win_rate", "--chart", "p")
    pts = [p for p in doc["points"] if p["status"] == "complete" and p["n"]]
    pbar = sum(p["numerator"] for p in pts) / sum(p["denominator"] for p in pts)
    for i, p in enumerate(pts):
        half = 3 * math.sqrt(pbar * (1 - pbar) / p["n"])
        assert doc["chart"]["center"] == pytest.approx(pbar)
        assert doc["chart"]["ucl"][i] == pytest.approx(min(1.0, pbar + half))
        assert doc["chart"]["lcl"][i] == pytest.approx(max(0.0, pbar - half))


def test_baseline_and_phase_dates_become_limits(cli, ws):
    doc = cli.json(
        "-w", ws, "metric", "throughput", "--chart", "xmr", "--baseline", "2024-01-01:2024-09-30"
    )
    base = [p["value"] for p in doc["points"] if p["period"] <= "2024-09-30"]
    assert len(base) >= 8  # enough periods for limits
    assert doc["chart"]["center"] == pytest.approx(statistics.fmean(base))
    phased = cli.json(
        "-w", ws, "metric", "throughput", "--chart", "xmr", "--phase-from", "2024-07-01"
    )
    starts = [ph["start"] for ph in phased["chart"]["phases"]]
    assert starts == [0, [p["period"] for p in phased["points"]].index("2024-07-01")]


def test_by_owner_is_won_over_closed(cli, ws, data):
    doc = cli.json("-w", ws, "metric", "win_rate", "--by", "owner")
    assert set(doc) >= {"metric", "by", "groups"} and doc["by"] == "owner"
    expected = oracle.share_by(
        oracle.closed(data), lambda o: o["owner"], lambda o: o["outcome"] == "won"
    )
    assert doc["column"] == "owner" and all("key" not in g for g in doc["groups"])
    got = {g["owner"]: (g["value"], g["numerator"], g["denominator"]) for g in doc["groups"]}
    assert got == {k: (pytest.approx(v), n, d) for k, (v, n, d) in expected.items()}


def test_stage_time_without_a_stage_breaks_down_by_stage(cli, ws):
    doc = cli.json("-w", ws, "metric", "stage_time")
    assert doc["by"] == "stage"
    assert [g["stage"] for g in doc["groups"]][:3] == ["Lead", "Qualified", "Discovery"]
    one = cli.json("-w", ws, "metric", "stage_time", "--filter", "stage=Proposal")
    assert one["filters"] == {"stage": ["Proposal"]} and one["points"]


def test_human_output_and_html(cli, ws, tmp_path):
    page = tmp_path / "chart.html"
    result = cli("-w", ws, "metric", "cycle_time", "--html", page)
    assert "Cycle time per month" in result.stdout
    assert "signal" in result.stdout or "routine" in result.stdout or "Not enough" in result.stdout
    html = page.read_text(encoding="utf-8")
    assert "Plotly.newPlot" in html and len(html) > 1_000_000  # plotly.js is embedded
    assert '<script src="http' not in html and "cdn.plot.ly/plotly" not in html


def test_errors_are_one_line_with_a_fix(cli, ws):
    result = cli("-w", ws, "metric", "win_rate", "--filter", "colour=red", ok=False)
    assert result.exit_code != 0 and result.stdout == ""
    assert "no column 'colour'" in result.stderr and "Valid columns" in result.stderr
    result = cli("-w", ws, "metric", "win_rate", "--filter", "owner", ok=False)
    assert "name=value" in result.stderr
    result = cli("-w", ws, "metric", "win_rate", "--baseline", "2024-01-01", ok=False)
    assert "START:END" in result.stderr


def test_json_is_one_document(cli, ws):
    result = cli("-w", ws, "metric", "wip", "--json")
    doc = json.loads(result.stdout)
    assert doc["metric"] == "wip" and doc["unit"] == "opportunities"


def test_custom_metric_from_salesflow_toml(cli, ws, data, tmp_path):
    import shutil

    custom = tmp_path / "custom"
    shutil.copytree(ws, custom)
    config = custom / "salesflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + """
[metrics.big_deal_win_rate]
title = "Win rate on deals over 50k"
table = "opportunities"
time = "closed_at"
filter = { outcome = ["won", "lost"], amount = { ">=" = 50000 } }
measure = "ratio"
numerator = { outcome = "won" }
unit = "%"
""",
        encoding="utf-8",
    )
    catalog = cli.json("-w", custom, "metrics")["metrics"]
    assert catalog[-1]["id"] == "big_deal_win_rate" and catalog[-1]["family"] == "custom"
    page = tmp_path / "bars.html"
    doc = cli.json("-w", custom, "metric", "big_deal_win_rate", "--by", "owner", "--html", page)
    big = [o for o in oracle.closed(data) if o["amount"] >= 50000]
    expected = oracle.share_by(big, lambda o: o["owner"], lambda o: o["outcome"] == "won")
    assert {g["owner"]: (g["numerator"], g["denominator"]) for g in doc["groups"]} == {
        k: (num, den) for k, (_, num, den) in expected.items()
    }
    assert "Plotly.newPlot" in page.read_text(encoding="utf-8")
    config.write_text(
        config.read_text(encoding="utf-8").replace('"ratio"', '"avg"'), encoding="utf-8"
    )
    result = cli("-w", custom, "metric", "big_deal_win_rate", ok=False)
    assert result.exit_code != 0
    assert (
        "setting metrics.big_deal_win_rate" in result.stderr and "measure = 'avg'" in result.stderr
    )


def test_pipeline_coverage_needs_a_target(cli, ws, tmp_path):
    import shutil

    result = cli("-w", ws, "metric", "pipeline_coverage", "--json", ok=False)
    assert result.exit_code != 0 and result.stdout == ""
    assert "needs a target for each month" in result.stderr
    assert "[targets] month = " in result.stderr
    targeted = tmp_path / "targeted"
    shutil.copytree(ws, targeted)
    config = targeted / "salesflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + "\n[targets]\nquarter = 450000\n", encoding="utf-8"
    )
    doc = cli.json("-w", targeted, "metric", "pipeline_coverage", "--period", "quarter")
    counted = [p for p in doc["points"] if p["n"]]
    assert doc["unit"] == "× target" and len(counted) >= 3
    for p in counted:
        assert p["target"] == 450000 and p["value"] == pytest.approx(p["pipeline"] / 450000)
