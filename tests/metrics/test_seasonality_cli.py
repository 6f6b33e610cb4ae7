"""`salesflow metric --json` names seasonality and ramp-up: on Maven's real CRM export, and not on
a generated history without either."""

from __future__ import annotations

import os
import statistics
from pathlib import Path

import pytest
from metrics_data import load

# shared/ sits beside the checkout (here and in CI's fresh clone); SALESFLOW_MAVEN_CRM overrides it.
_PLACES = [Path(__file__).resolve().parents[3], Path("/work")]
_FOUND = [p / "shared/data/maven-crm" for p in _PLACES if (p / "shared/data/maven-crm").is_dir()]
MAVEN = Path(os.environ.get("SALESFLOW_MAVEN_CRM", (_FOUND or [_PLACES[0] / "shared"])[0]))


@pytest.fixture(scope="module")
def maven(tmp_path_factory) -> Path:
    """Maven Analytics' CRM sample (8,800 deals, 2016-10 to 2017-12), imported with its preset."""
    from salesflow.ingest import import_file
    from salesflow.workspace import init_workspace

    csv = MAVEN / "sales_pipeline.csv"
    if not csv.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{csv} is missing in CI (set SALESFLOW_MAVEN_CRM to its folder)")
        pytest.skip(f"{csv} is not here (set SALESFLOW_MAVEN_CRM to its folder)")
    workspace = init_workspace(tmp_path_factory.mktemp("maven") / "mv")
    import_file(workspace, "opportunities", csv, preset="maven-crm")
    workspace.close()
    return workspace.path


@pytest.fixture(scope="module")
def plain(tmp_path_factory, data) -> Path:
    from salesflow.workspace import init_workspace

    workspace = init_workspace(tmp_path_factory.mktemp("plain") / "ws")
    load(workspace.data, data)
    workspace.close()
    return workspace.path


def test_maven_win_rate_is_seasonal_at_quarter_end(cli, maven):
    doc = cli.json("-w", maven, "metric", "win_rate")
    season = doc["seasonality"]
    assert season["pattern"] == "month_of_quarter" and season["position"] == 3
    assert season["where"] == "in the last month of each quarter"
    assert season["p_value"] < 0.001
    # the effect by hand: quarter-end months against the other months of the same quarter
    pts = {p["period"]: p["value"] for p in doc["points"]}
    gaps = []
    for q in ("04", "07", "10"):
        first = f"2017-{q}-01"
        months = [m for m in sorted(pts) if first <= m][:3]
        gaps.append(pts[months[2]] - statistics.fmean([pts[months[0]], pts[months[1]]]))
    assert season["effect"] == pytest.approx(statistics.fmean(gaps))
    assert season["effect"] > 0.2
    assert season["sentence"].startswith("Win rate is higher in the last month of each quarter: +")
    assert season["sentence"] in doc["chart"]["reason"]
    # limits compare like with like: each quarter-end month's centre is the quarter-end level
    centre = doc["chart"]["center"]
    ends = [c for p, c in zip(doc["points"], centre, strict=True) if p["period"][5:7] in "03060912"]
    assert min(ends) > max(c for c in centre if c not in ends)
    assert doc["signals"] == []  # quarter-ends are no longer "signals"


def test_maven_new_deals_start_with_a_ramp_up(cli, maven):
    doc = cli.json("-w", maven, "metric", "new_opportunities")
    ramp = doc["chart"]["ramp_up"]
    assert ramp["periods"] == 2 and ramp["until"] == "2016-12-01"
    assert "left out of the limits" in ramp["reason"] and ramp["reason"] in doc["chart"]["reason"]
    later = [p["n"] for p in doc["points"][2:]]
    assert all(
        p["n"] < 0.25 * statistics.median(later[i:]) for i, p in enumerate(doc["points"][:2])
    )
    assert doc["chart"]["n_points"] == len(doc["points"]) - 2  # drawn, not judged
    hand = cli.json(
        "-w", maven, "metric", "new_opportunities", "--baseline", "2016-10-01:2017-12-31"
    )
    assert "judged like the rest" in hand["chart"]["ramp_up"]["reason"]


@pytest.mark.parametrize("period", ["month", "week"])
@pytest.mark.parametrize("metric", ["win_rate", "throughput", "cycle_time", "new_opportunities"])
def test_a_generated_history_without_a_pattern_is_not_called_seasonal(cli, plain, metric, period):
    doc = cli.json("-w", plain, "metric", metric, "--period", period)
    assert doc["seasonality"] is None
    assert "seasonal" not in doc["chart"]["reason"] and "higher in" not in doc["chart"]["reason"]


def test_a_udr_on_maven_win_rate_suggests_the_quarter_end_season(cli, maven):
    added = cli.json("-w", maven, "udr", "add", "Win rate was below 60% in Q4 2017")
    uid = str(added["udr"]["id"])
    cli("-w", maven, "udr", "bind", uid, "--metric", "win_rate", "--bad-if", "below",
        "--threshold", "60%")  # fmt: skip
    shown = cli.json("-w", maven, "udr", "show", uid)
    advice = shown["verdict"]["values"]["seasonality"]
    assert advice["pattern"] == "month_of_quarter"
    assert advice["suggested_season"] == "Mar,Jun,Sep,Dec"
    assert "--season Mar,Jun,Sep,Dec" in shown["verdict"]["sentence"]
    cli("-w", maven, "udr", "bind", uid, "--metric", "win_rate", "--bad-if", "below",
        "--threshold", "60%", "--season", "Mar,Jun,Sep,Dec")  # fmt: skip
    assert cli.json("-w", maven, "udr", "show", uid)["verdict"]["values"]["seasonality"] is None


def test_an_improvement_on_maven_win_rate_suggests_the_season_too(cli, maven):
    doc = cli.json("-w", maven, "improve", "add", "--objective", "Win more deals mid-quarter",
                   "--metric", "win_rate", "--bad-if", "below", "--start", "2017-09-01")  # fmt: skip
    advice = doc["verdict"]["values"]["seasonality"]
    assert advice["suggested_season"] == "Mar,Jun,Sep,Dec" and advice["effect"] > 0.2
    assert "--season Mar,Jun,Sep,Dec" in doc["verdict"]["sentence"]
    shown = cli.json("-w", maven, "improve", "show", str(doc["id"]))
    assert shown["verdict"]["values"]["seasonality"]["pattern"] == "month_of_quarter"
