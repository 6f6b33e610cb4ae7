"""The Python API returns what the core returns: each method against the core function it wraps."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

import salesflow as sf
from salesflow.api import (
    CausesResult,
    DriversResult,
    FlowResult,
    ImprovementsResult,
    MetricResult,
    PatternsResult,
    UdrsResult,
)
from salesflow.errors import ConfigError

pytestmark = pytest.mark.slow


def test_open_returns_the_workspace(ws, api_demo):
    assert isinstance(ws, sf.Workspace)
    assert ws.path == api_demo.resolve()
    assert ws.status()["outcomes"]["won"] > 0


def test_metric_series_equals_the_core_series(ws):
    from salesflow.metrics import series

    result = ws.metric("win_rate", period="quarter", filters={"segment": "SMB"})
    assert isinstance(result, MetricResult)
    core = series(
        ws.core.data, ws.settings, "win_rate", period="quarter", filters={"segment": "SMB"}
    )
    frame = result.to_pandas()
    expected = pd.DataFrame([p.to_dict() for p in core.points])
    expected["period"] = pd.to_datetime(expected["period"]).dt.date
    pd.testing.assert_frame_equal(frame[list(expected.columns)], expected)
    # the chart limits sit beside the values, one per period (a p-chart's limits vary with n)
    chart = result.to_dict()["chart"]
    assert frame["lcl"].tolist() == chart["lcl"] and frame["ucl"].tolist() == chart["ucl"]


def test_metric_by_owner_equals_the_core_breakdown(ws):
    from salesflow.metrics import breakdown

    result = ws.metric("win_rate", period="month", by="owner")
    core = breakdown(ws.core.data, ws.settings, "win_rate", by="owner")
    expected = pd.DataFrame([g.to_dict("owner") for g in core.groups])
    pd.testing.assert_frame_equal(result.to_pandas(), expected)
    # won / (won + lost) per owner, counted by hand
    opps = ws.core.data.table("opportunities").execute()
    closed = opps[opps["outcome"].isin(["won", "lost"])]
    by_hand = closed.groupby("owner")["outcome"].apply(lambda s: (s == "won").mean())
    got = result.to_pandas().set_index("owner")["value"]
    pd.testing.assert_series_equal(got.sort_index(), by_hand.sort_index(), check_names=False)
    # the notebook draws each owner in its own limits, and says who is within the system
    band, _, dots = result.chart().data
    frame = result.to_pandas()
    assert list(band.base) == frame["lower"].tolist()
    assert [b + h for b, h in zip(band.base, band.y, strict=True)] == pytest.approx(frame["upper"])
    assert list(dots.x) == frame["owner"].tolist() and list(dots.y) == frame["value"].tolist()
    assert result.summary() == result.to_dict()["comparison"]["sentence"]


def test_metric_chart_draws_the_limits_of_the_document(ws):
    result = ws.metric("cycle_time", period="month")
    fig = result.chart()
    assert isinstance(fig, go.Figure)
    traces = {t.name: t for t in fig.data}
    chart = result.to_dict()["chart"]
    assert list(traces["upper limit"].y) == [chart["ucl"]] * len(result.to_dict()["points"])
    assert list(traces["value"].y) == [p["value"] for p in result.to_dict()["points"]]


def test_flow_equals_the_process_map(ws):
    from salesflow.metrics.process_map import process_map

    result = ws.flow()
    assert isinstance(result, FlowResult)
    core = process_map(ws.core.data, ws.settings)
    pd.testing.assert_frame_equal(result.to_pandas(), pd.DataFrame(core["stages"]))
    pd.testing.assert_frame_equal(result.to_pandas("edges"), pd.DataFrame(core["edges"]))
    with pytest.raises(ConfigError, match="Unknown table"):
        result.to_pandas("deals")


def test_flow_map_draws_one_box_per_open_stage_with_its_figures(ws):
    result = ws.flow()
    stages = result.to_pandas().set_index("stage")
    assert result.doc["as_of"] == ws.as_of.isoformat()
    lead = stages.loc["Lead"]
    assert lead["wip"] >= 0 and lead["throughput_per_week"] > 0 and 0 < lead["work_share"] < 1
    fig = result.map()
    assert isinstance(fig, go.Figure)
    boxes = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(boxes) == len(ws.settings.stages.order)
    texts = [a.text for a in fig.layout.annotations if "here now" in (a.text or "")]
    assert f"<b>{int(lead['wip']):,}</b> deal" in texts[0]


def test_udrs_carry_the_workbench_verdicts(ws):
    from salesflow.workbench.service import Workbench

    result = ws.udrs()
    assert isinstance(result, UdrsResult)
    with Workbench(ws.core) as bench:
        expected = {u["id"]: u["verdict"]["verdict"] for u in bench.list_udrs()}
    frame = result.to_pandas()
    assert dict(zip(frame["id"], frame["verdict"], strict=True)) == expected
    # the demo company's documented verdicts (salesflow.workbench.demo_knowledge)
    assert sorted(frame["verdict"]) == ["confirmed"] * 5 + ["contradicted"]
    assert result.summary() == "5 confirmed, 1 contradicted"
    assert isinstance(result.chart(), go.Figure)


def test_causes_rank_and_picture(ws):
    result = ws.causes()
    assert isinstance(result, CausesResult)
    roots = result.root_causes()
    assert roots[0]["text"].startswith("We have no written standard work")
    assert roots[0]["count"] == 5 and roots[0]["core"]
    svg = result.svg()
    assert svg.count('class="node udr"><title>') == 5 and svg.count('class="and"') == 1
    assert svg.count('class="node udr contradicted"><title>') == 1  # EMEA: drawn apart
    assert "<svg" in result._repr_html_()


def test_improvements_with_verdicts_and_checkins(ws):
    result = ws.improvements()
    assert isinstance(result, ImprovementsResult)
    rows = {r["title"]: r for r in result.to_dict()["improvements"]}
    assert rows["Proposal fast-track"]["verdict"]["verdict"] == "improved"
    assert len(rows["Proposal fast-track"]["checkins"]) == 3  # two recorded, one recent
    frame = result.to_pandas().set_index("title")
    assert frame.loc["Proposal fast-track", "after"] < frame.loc["Proposal fast-track", "before"]
    names = [t.name for t in result.chart().data]
    assert "target" in names and "upper limit" in names


def test_drivers_equal_the_analysis(ws):
    from salesflow.analysis import drivers

    result = ws.drivers("won")
    assert isinstance(result, DriversResult)
    core = drivers(ws.core, outcome="won").as_dict()
    pd.testing.assert_frame_equal(result.to_pandas(), pd.DataFrame(core["effects"]))
    slow = result.to_pandas().query("variable == 'first_response_over_48h'")
    assert (slow["effect"] < 0).all()  # the demo's built-in effect: slow answers lose deals
    assert len(result.chart().data) == 1


def test_request_patterns(ws):
    result = ws.request_patterns()
    assert isinstance(result, PatternsResult)
    frame = result.to_pandas()
    assert frame["count"].sum() == result.to_dict()["uncategorised"]
    assert result.chart().data[0].y == tuple(sorted(frame["count"], reverse=True))


def test_lint_and_catalog(ws):
    doc = ws.lint("We need a CRM")
    assert not doc["measurable"] and "SOLUTION" in {f["code"] for f in doc["findings"]}
    assert "win_rate" in {m["id"] for m in ws.metrics()}


def test_notebook_display_and_polars(ws):
    result = ws.metric("win_rate", period="quarter")
    html = result._repr_html_()
    assert "<table" in html and "win_rate per quarter" in html
    assert "routine" in repr(result)
    try:
        import polars  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="polars is not installed"):
            result.to_polars()
    else:
        assert (
            result.to_polars().to_pandas()["value"].tolist() == result.to_pandas()["value"].tolist()
        )
