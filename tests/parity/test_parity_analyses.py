"""The analyses beyond single metrics give DuckDB's answer on every backend: process map and
value-stream map, pipeline waterfall, activity value, variables, drivers, why-check, request
patterns and prioritising open deals."""

from __future__ import annotations

import shutil

import pytest
from parity_compare import assert_same


def _same(on_backend, reference, key, compute):
    """Compute on both (DuckDB once), check DuckDB's answer has substance, compare; return it."""
    expected = reference.result(key, compute)
    assert expected, f"DuckDB gave nothing for {key}"
    assert_same(expected, on_backend.result(key, compute))
    return expected


def test_status(on_backend, reference):
    doc = _same(on_backend, reference, "status", lambda ws: ws.status())
    assert doc["tables"]["opportunities"]["rows"] > 0


@pytest.mark.parametrize("filters", [None, {"segment": ["Enterprise"]}], ids=["all", "enterprise"])
def test_process_map(on_backend, reference, filters):
    """Stages with the value-stream map's keys, transitions, paths, durations, rework."""
    doc = _same(
        on_backend, reference, f"flow:{filters}", lambda ws: ws.flow(filters=filters).to_dict()
    )
    keys = ("wip", "throughput_per_week", "time_p85", "rework_share", "loss_share", "work_share")
    assert doc["cases"]["count"] > 0 and all(k in doc["stages"][0] for k in keys)


@pytest.mark.parametrize(("period", "by"), [("2026-Q2", "owner"), ("2026-08", None)])
def test_pipeline_waterfall(on_backend, reference, period, by):
    def compute(ws):
        return ws.pipeline(period, by=by).to_dict()

    doc = _same(on_backend, reference, f"pipeline:{period}:{by}", compute)
    assert doc["start"]["count"] > 0


@pytest.mark.parametrize("by", [None, "stage"])
def test_activity_value(on_backend, reference, by):
    _same(on_backend, reference, f"activities:{by}", lambda ws: ws.activities(by=by).to_dict())


def test_variables(on_backend, reference):
    from salesflow.analysis import describe_variables

    rows = _same(on_backend, reference, "variables", lambda ws: describe_variables(ws.core))
    assert any(r["name"] == "first_response_over_48h" and r["coverage"] > 0 for r in rows)


FEW = ["first_response_over_48h", "source"]  # the small company has few stalled deals
DRIVERS = {
    "won": {},  # cycle_time and the others fit other models on the same deal frame (pandas)
    "stalled": {"variables": FEW, "stall_days": 7},
    "stage_conversion": {"params": {"from": "Proposal", "to": "Won"}, "variables": FEW},
}


@pytest.mark.parametrize("outcome", DRIVERS)
def test_drivers(on_backend, reference, outcome):
    from salesflow.analysis import drivers

    def compute(ws):
        return drivers(ws.core, outcome=outcome, **DRIVERS[outcome]).as_dict()

    doc = _same(on_backend, reference, f"drivers:{outcome}", compute)
    assert doc["effects"] and doc["n"] > 0


CHECKS = [  # (link id in the demo knowledge, variable, level, outcome)
    (1, "first_response_over_48h", None, "won"),
    (12, "region", "EMEA", "won"),
]


@pytest.mark.parametrize(("link", "variable", "level", "outcome"), CHECKS)
def test_why_check(on_backend, reference, tmp_path, link, variable, level, outcome):
    """``salesflow why check``, on a copy of the knowledge base (a check is stored as evidence,
    and the other tests read the knowledge base as it was built)."""
    from salesflow.workbench.service import Workbench

    def compute(ws):
        copy = tmp_path / ws.path.parent.name  # parity-<backend>N: one per backend
        shutil.copytree(ws.path, copy, ignore=shutil.ignore_patterns("spark"))
        _same_local_spark(ws.path, copy)
        with Workbench.open(copy, who="parity") as bench:
            found = bench.check_link(link, variable=variable, level=level, outcome=outcome)
        return found["check"]

    check = _same(on_backend, reference, f"why:{link}:{variable}:{outcome}", compute)
    assert check["verdict"] in ("supports", "contradicts", "inconclusive") and check["effect"]


def _same_local_spark(original, copy) -> None:
    """A copy of a local Spark workspace reads the original's tables (one Spark session per
    process: a second warehouse would restart it under the other tests)."""
    config = copy / "salesflow.toml"
    text = config.read_text(encoding="utf-8")
    local = 'url = "pyspark:///spark"'
    if local in text:
        there = f'url = "pyspark:///{(original / "spark").resolve()}"'
        config.write_text(text.replace(local, there, 1), encoding="utf-8")


def test_request_patterns(on_backend, reference):
    doc = _same(on_backend, reference, "patterns", lambda ws: ws.request_patterns().to_dict())
    assert doc["themes"]


def test_prioritise(on_backend, reference):
    from salesflow.analysis import prioritise

    def compute(ws):
        # the backtest refits on the same deal frame in pandas: nothing more the engine does
        return prioritise(ws.core, as_of=ws.as_of, top=10, backtest=False).as_dict()

    doc = _same(on_backend, reference, "prioritise", compute)
    assert doc["deals"]
