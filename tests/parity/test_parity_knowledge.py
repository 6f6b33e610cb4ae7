"""The knowledge base judged from data, the notebook API and the report give DuckDB's answer on
every backend: UDR verdicts, the cause picture, improvement verdicts, wins, engagement, and each
section and key number of the executive report (built on the backend itself)."""

from __future__ import annotations

import pytest
from parity_compare import assert_same

API_CALLS = {
    "udrs": lambda ws: ws.udrs().to_dict(),
    "causes": lambda ws: ws.causes().to_dict(),
    "improvements": lambda ws: ws.improvements().to_dict(),
    "wins": lambda ws: ws.wins().to_dict(),
    "engagement": lambda ws: ws.engagement().to_dict(),
}


@pytest.mark.parametrize("call", API_CALLS)
def test_notebook_api(on_backend, reference, call):
    """``ws.udrs()``, ``ws.causes()``…: the knowledge base with each verdict computed from data."""
    expected = reference.result(f"api:{call}", API_CALLS[call])
    assert expected
    assert_same(expected, on_backend.result(f"api:{call}", API_CALLS[call]))


def test_udr_verdicts_are_reached(on_backend, reference):
    """The demo's UDRs are judged (not left unmeasurable) and the verdicts are the same."""
    verdicts = [
        u["verdict"]["verdict"] for u in reference.result("api:udrs", API_CALLS["udrs"])["udrs"]
    ]
    assert "confirmed" in verdicts
    found = on_backend.result("api:udrs", API_CALLS["udrs"])["udrs"]
    assert [u["verdict"]["verdict"] for u in found] == verdicts


SECTIONS = ("udrs", "causes", "improvements", "wins", "flow", "forecast", "pipeline", "requests")


def _report(ws):
    from salesflow.report.build import build_report

    report = build_report(ws)
    doc = {name: getattr(report, name) for name in SECTIONS}
    doc.update(
        missing=report.missing,
        kpis=report.meta["kpis"],
        status=report.meta["status"],
        figures=sorted(report.figures),
    )
    return doc


def test_report(on_backend, reference):
    expected = reference.result("report", _report)
    assert not expected["missing"], expected["missing"]
    assert expected["flow"]["stream"] and expected["requests"]["themes"]
    assert_same(expected, on_backend.result("report", _report))
