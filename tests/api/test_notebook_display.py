"""What a notebook stores for each result: Plotly's own mime type for the chart (the front end
brings plotly.js, so it works offline), the table as HTML, and no copy of plotly.js — every
result under 100 KB, the first one included."""

from __future__ import annotations

import json

import pytest

from salesflow.api.results import PLOTLY_MIME

LIMIT = 100_000
RESULTS = {
    "metric": lambda ws: ws.metric("win_rate", period="quarter"),
    "metric_by": lambda ws: ws.metric("win_rate", by="owner"),
    "flow": lambda ws: ws.flow(),
    "udrs": lambda ws: ws.udrs(),
    "causes": lambda ws: ws.causes(),
    "improvements": lambda ws: ws.improvements(),
    "drivers": lambda ws: ws.drivers("won"),
    "patterns": lambda ws: ws.request_patterns(),
}


def size(bundle: dict) -> int:
    return len(json.dumps(bundle, ensure_ascii=False).encode("utf-8"))


@pytest.mark.parametrize("name", list(RESULTS))
def test_each_result_is_small_and_needs_no_network(ws, name):
    bundle = RESULTS[name](ws)._repr_mimebundle_()
    assert size(bundle) < LIMIT, f"{name}: {size(bundle):,} bytes"
    text = json.dumps(bundle)
    assert "cdn.plot.ly" not in text and "Plotly.newPlot" not in text  # no library inside
    assert "<table" in bundle["text/html"] or "<svg" in bundle["text/html"]
    assert bundle["text/plain"].startswith("<")


def test_the_chart_is_plotly_json_the_renderer_draws(ws):
    result = ws.metric("win_rate", period="quarter")
    figure = result._repr_mimebundle_()[PLOTLY_MIME]
    assert set(figure) >= {"data", "layout", "config"}
    names = [trace.get("name") for trace in figure["data"]]
    assert names == [trace.name for trace in result.chart().data]
    assert len(figure["data"][0]["x"]) == len(result.to_pandas())  # every period is drawn
    assert "win_rate per quarter" in result._repr_mimebundle_()["text/html"]


def test_a_result_with_nothing_to_chart_still_shows_its_table(tmp_path):
    import salesflow as sf
    from salesflow.demo import build_demo

    build_demo(tmp_path / "bare", opportunities=200, seed=3)  # no UDRs recorded
    with sf.open(tmp_path / "bare") as ws:
        bundle = ws.udrs()._repr_mimebundle_()
    assert PLOTLY_MIME not in bundle and bundle["text/plain"].startswith("<UdrsResult")
