"""The demo's steadily growing series (contract-change requests, about 20 a month in early 2025 to
over 40 in 2026) is judged around its trend: from a dozen "signals" against flat limits to few."""

from __future__ import annotations

from pathlib import Path

import pytest

CONTRACTS = ("request_volume", "--filter", "category=contract changes")


@pytest.fixture(scope="module")
def demo(tmp_path_factory, demo_copy) -> Path:
    # the `make demo` company (build_demo's defaults), built once per session and copied
    return demo_copy(tmp_path_factory.mktemp("trend") / "ws", opportunities=5000, seed=7)


@pytest.mark.parametrize(("period", "flat_at_least"), [("month", 10), ("week", 10)])
def test_a_growing_series_follows_its_trend(cli, demo, period, flat_at_least):
    args = ("-w", demo, "metric", *CONTRACTS, "--period", period)
    flat = cli.json(*args, "--trend", "off")
    follows = cli.json(*args)  # --trend auto is the default
    assert flat["chart"]["trend"] is None
    assert len(flat["signals"]) >= flat_at_least
    trend = follows["chart"]["trend"]
    assert trend["p_value"] < 0.01 and trend["slope"] > 0
    assert len(follows["signals"]) <= 2
    assert "is trending: growing by about" in follows["chart"]["reason"]
    # the limits are the trend line ± a constant half-width
    centre, ucl = follows["chart"]["center"], follows["chart"]["ucl"]
    widths = {round(u - c, 6) for u, c in zip(ucl, centre, strict=True) if c is not None}
    assert len(widths) == 1 and centre[-1] - centre[0] > 0


def test_the_sentence_says_trending(cli, demo):
    shown = cli("-w", demo, "metric", *CONTRACTS).stdout
    assert "Trending: growing by about" in " ".join(shown.split())


def test_a_udr_on_a_growing_series_is_confirmed_by_its_trend(demo):
    from salesflow.cli.common import open_workspace
    from salesflow.metrics import series
    from salesflow.metrics.charted import chart_series
    from salesflow.workbench.verdict import judge_udr
    from salesflow.workspace import resolve_as_of

    with open_workspace(demo) as ws:
        as_of = resolve_as_of(ws.settings, ws.data, None)
        filters = {"category": ["contract changes"]}
        s = series(ws.data, ws.settings, "request_volume", as_of=as_of, filters=filters)
        charted = chart_series(s, ws.settings)
    verdict = judge_udr(charted, {"bad_if": "above", "mode": "signal"}, title="Requests")
    assert (verdict.verdict, verdict.rule) == ("confirmed", "trend")
    assert "growing by about" in verdict.sentence and verdict.values["trend"]["slope"] > 0
    falling = judge_udr(charted, {"bad_if": "below", "mode": "signal"}, title="Requests")
    assert falling.verdict == "contradicted" and "It has been growing by about" in falling.sentence


def test_figures_draw_the_limits_along_the_trend(cli, demo):
    from salesflow.api.figures import control_chart
    from salesflow.web.charts import behaviour_figure

    doc = cli.json("-w", demo, "metric", *CONTRACTS)
    flat = cli.json("-w", demo, "metric", *CONTRACTS, "--trend", "off")
    for draw in (
        lambda d: control_chart(d).to_dict()["data"],
        lambda d: behaviour_figure(d, "")["data"],
    ):
        lines = {t["name"]: t for t in draw(doc) if t.get("mode") == "lines"}
        trend, upper = lines["trend line"], lines["upper limit"]
        assert trend["line"]["shape"] == upper["line"]["shape"] == "linear"
        assert list(upper["y"]) == doc["chart"]["ucl"]  # sloped: one limit per period
        flat_lines = {t["name"]: t for t in draw(flat) if t.get("mode") == "lines"}
        assert flat_lines["centre line"]["line"]["shape"] == "hvh"


def test_the_notebook_api_takes_the_same_trend_option(demo):
    import salesflow.api as sf

    with sf.open(demo) as ws:
        follows = ws.metric("request_volume", filters={"category": "contract changes"})
        flat = ws.metric("request_volume", filters={"category": "contract changes"}, trend="off")
    assert follows.doc["chart"]["trend"]["slope"] > 0 and flat.doc["chart"]["trend"] is None
