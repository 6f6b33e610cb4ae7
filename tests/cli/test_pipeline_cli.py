"""``salesflow pipeline`` on history built from weekly snapshots imported on the command line."""

from __future__ import annotations

from salesflow.analysis.pipeline import COMPONENTS

HEADER = "opportunity_id,created_at,owner,stage,amount,close_date\n"
WEEKS = {
    "2025-07-07": ["A,2025-06-01,Ann,Qualified,1000,2025-08-15", "B,2025-06-20,Bob,Proposal,5000,2025-09-10"],
    # A pushed to Q4, C new
    "2025-07-14": ["A,2025-06-01,Ann,Qualified,1000,2025-10-15", "B,2025-06-20,Bob,Proposal,5000,2025-09-10",
                   "C,2025-07-10,Ann,Lead,2500.50,2025-09-30"],
    # B won at 5,200
    "2025-07-21": ["A,2025-06-01,Ann,Qualified,1000,2025-10-15", "B,2025-06-20,Bob,Won,5200,2025-07-18",
                   "C,2025-07-10,Ann,Lead,2500.50,2025-09-30"],
}  # fmt: skip


def test_snapshots_then_the_quarters_waterfall(cli, tmp_path):
    ws = tmp_path / "ws"
    cli("init", ws)
    for day, rows in WEEKS.items():
        path = tmp_path / f"open_deals_{day}.csv"
        path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
        report = cli.json("import", "opportunities", path, "--snapshot-date", day, "-w", ws)
        assert report["history_rows"] == {"2025-07-07": 2, "2025-07-14": 2, "2025-07-21": 1}[day]
    doc = cli.json("pipeline", "--period", "2025-Q3", "-w", ws)
    assert {k for k in doc if k in COMPONENTS} == set(COMPONENTS)
    assert all(set(doc[k]) == {"count", "amount", "amount_cents"} for k in COMPONENTS)
    # no history before July: every deal is created in the quarter; A is expected in Q4 by its end
    figures = {k: (doc[k]["count"], doc[k]["amount"]) for k in COMPONENTS}
    assert figures == {
        "start": (0, 0.0), "created": (2, 7700.5), "pulled_in": (0, 0.0), "pushed_out": (0, 0.0),
        "won": (1, 5200.0), "lost": (0, 0.0), "amount_up": (0, 0.0), "amount_down": (0, 0.0),
        "end": (1, 2500.5),
    }  # fmt: skip
    # July: only B moved (created and won); groups are ordered by their pipeline at the end
    doc = cli.json("pipeline", "--period", "2025-07", "--by", "owner", "-w", ws)
    assert {g["owner"]: g["won"]["count"] for g in doc["groups"]} == {"Ann": 0, "Bob": 1}
    text = cli("pipeline", "--period", "2025-Q3", "--filter", "owner=Ann", "-w", ws).stdout
    assert "Pipeline at the end" in text and "2,500.50" in text


def test_a_bad_period_is_refused_with_a_hint(cli, tmp_path):
    cli("init", tmp_path / "ws")
    result = cli("pipeline", "--period", "Q3", "-w", tmp_path / "ws", ok=False)
    assert result.exit_code != 0 and "2025-Q3" in result.stderr
