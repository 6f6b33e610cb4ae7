"""Every metric of the catalog gives DuckDB's chart on every backend: the same points (counts
exact, values within 1e-9), limits, signals and verdict; and the same groups on analysis-of-means
limits (compare/ANOM) in a breakdown."""

from __future__ import annotations

import pytest
from parity_compare import assert_same

from salesflow.metrics.registry import builtins
from salesflow.workbench.demo_knowledge import SLOW_RESPONSE_METRIC

METRICS = [*builtins(), SLOW_RESPONSE_METRIC]  # the built-ins and the demo's custom metric
BY = {
    "request_volume": "category",
    "first_response_time": "channel",
    "requests_per_order": "segment",
}
FILTERS = {"stage_time": {"stage": "Proposal"}}
NO_GROUPS = {"stalled"}  # no deal of the small company is stalled at its as-of moment


def test_the_catalog_is_covered(on_backend, reference):
    ids = [m["id"] for m in on_backend.ws.metrics()]
    assert ids == [m["id"] for m in reference.ws.metrics()]
    assert sorted(ids) == sorted(METRICS)


def _charted(metric_id: str):
    def compute(ws):
        result = ws.metric(metric_id, period="month", filters=FILTERS.get(metric_id))
        return {**result.to_dict(), "verdict": result.charted.verdict()}

    return compute


@pytest.mark.parametrize("metric_id", METRICS)
def test_chart(on_backend, reference, metric_id):
    key = f"chart:{metric_id}"
    expected = reference.result(key, _charted(metric_id))
    assert sum(p["n"] or 0 for p in expected["points"]) > 0, "the company must have data for it"
    assert_same(expected, on_backend.result(key, _charted(metric_id)))


@pytest.mark.parametrize("metric_id", METRICS)
def test_breakdown_and_comparison(on_backend, reference, metric_id):
    by = BY.get(metric_id, "stage" if metric_id == "stage_time" else "owner")

    def compute(ws):
        return ws.metric(metric_id, by=by).to_dict()

    key = f"by:{metric_id}"
    expected = reference.result(key, compute)
    assert len(expected["groups"]) >= 2 or metric_id in NO_GROUPS
    assert_same(expected, on_backend.result(key, compute))


DURATIONS = ["cycle_time", "stage_time", "velocity", "first_response_time"]  # with `clock`


@pytest.mark.parametrize("metric_id", DURATIONS)
def test_business_clock(on_backend, reference, metric_id):
    """Durations in business time (workdays and opening hours, joined to a calendar table)."""

    def compute(ws):
        params = {"clock": "business"}
        return ws.metric(metric_id, period="month", filters=FILTERS.get(metric_id), params=params)

    key = f"business:{metric_id}"
    expected = reference.result(key, lambda ws: compute(ws).to_dict())
    assert expected["params"]["clock"] == "business"
    assert sum(p["n"] or 0 for p in expected["points"]) > 0
    assert_same(expected, on_backend.result(key, lambda ws: compute(ws).to_dict()))
