"""``ws.pipeline(period)``: the same document as ``salesflow pipeline --json``, as a table and a
waterfall chart."""

from __future__ import annotations

from datetime import date

import salesflow as sf
from salesflow.ingest import import_file
from salesflow.workspace import Workspace, init_workspace

HEADER = "opportunity_id,created_at,owner,stage,amount,close_date\n"
WEEKS = {
    date(2025, 6, 30): "A,2025-06-01,Ann,Qualified,1000,2025-08-15\nB,2025-06-20,Bob,Proposal,5000,2025-09-10\n",
    date(2025, 8, 4): "A,2025-06-01,Ann,Qualified,1000,2025-10-15\nB,2025-06-20,Bob,Won,5200.25,2025-08-01\n",
}  # fmt: skip


def test_the_notebook_waterfall(tmp_path):
    init_workspace(tmp_path / "ws").close()
    core = Workspace.open(tmp_path / "ws")
    for day, rows in WEEKS.items():
        path = tmp_path / f"{day}.csv"
        path.write_text(HEADER + rows, encoding="utf-8")
        import_file(core, "opportunities", path, snapshot_date=day)
    core.close()
    with sf.open(tmp_path / "ws") as ws:
        result = ws.pipeline("2025-Q3", by="owner")
    doc = result.to_dict()
    assert (doc["start"]["count"], doc["start"]["amount"]) == (2, 6000.0)
    assert (doc["pushed_out"]["amount"], doc["won"]["amount"], doc["amount_up"]["amount"]) == (
        1000.0,
        5200.25,
        200.25,
    )
    assert doc["end"]["count"] == 0
    frame = result.to_pandas()
    assert list(frame["bar"]) == ["start", "created", "pulled_in", "pushed_out", "won", "lost",
                                  "amount_up", "amount_down", "end"]  # fmt: skip
    figure = result.chart()
    assert figure.data[0].type == "waterfall" and list(figure.data[0].measure)[-1] == "total"
    assert "won 5,200" in result.summary()
