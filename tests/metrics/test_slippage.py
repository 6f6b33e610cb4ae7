"""Slippage measures from the deal history, against answers worked out by hand."""

from __future__ import annotations

import pytest

OPPS = """opportunity_id,created_at,closed_at,outcome,owner,amount
A,2025-01-05,2025-03-20,won,Ann,1000
B,2025-01-10,2025-03-05,lost,Bob,500
C,2025-02-01,2025-04-10,won,Ann,700
D,2025-02-15,,open,Bob,900
"""
# A: promised 2025-02-28, pushed twice (to 03-31, then 04-30), won 03-20 -> 2 pushes, +20 days
# B: promised 2025-03-31, pulled in to 03-15 (not a push), lost 03-05 -> 0 pushes, -26 days
# C: no date at first, promised 2025-03-31, pushed once (04-15), won 04-10 -> 1 push, +10 days
# D: open, pushed once: not counted (not closed)
HISTORY = """opportunity_id,changed_at,stage,close_date
A,2025-01-05,Lead,2025-02-28
A,2025-02-25,Lead,2025-03-31
A,2025-03-01,Proposal,2025-03-31
A,2025-03-18,Proposal,2025-04-30
A,2025-03-20,Won,2025-03-20
B,2025-01-10,Lead,2025-03-31
B,2025-02-01,Lead,2025-03-15
B,2025-03-05,Lost,2025-03-05
C,2025-02-01,Lead,
C,2025-02-10,Lead,2025-03-31
C,2025-03-28,Proposal,2025-04-15
C,2025-04-10,Won,2025-04-10
D,2025-02-15,Lead,2025-03-31
D,2025-03-25,Lead,2025-05-31
"""


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    import salesflow as sf
    from salesflow.ingest import import_file
    from salesflow.workspace import Workspace, init_workspace

    folder = tmp_path_factory.mktemp("slippage")
    init_workspace(folder / "ws").close()
    core = Workspace.open(folder / "ws")
    for table, text in (("opportunities", OPPS), ("opportunity_history", HISTORY)):
        (folder / f"{table}.csv").write_text(text, encoding="utf-8")
        import_file(core, table, folder / f"{table}.csv")
    core.close()
    with sf.open(folder / "ws", as_of="2025-06-01") as workspace:
        yield workspace


def points(ws, metric: str) -> dict[str, tuple]:
    doc = ws.metric(metric, period="month", chart="none").to_dict()
    return {p["period"][:7]: (p["value"], p["n"]) for p in doc["points"] if p["n"]}


def test_pushes_per_deal(ws):
    assert points(ws, "pushes_per_deal") == {"2025-03": (1.0, 2), "2025-04": (1.0, 1)}


def test_close_date_accuracy(ws):
    # March: A +20 and B -26 days -> median -3; April: C +10
    got = points(ws, "close_date_accuracy")
    assert got == {"2025-03": (pytest.approx(-3.0), 2), "2025-04": (pytest.approx(10.0), 1)}
