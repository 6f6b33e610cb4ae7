"""Drivers refuse what cannot be estimated, and their 95 % intervals cover injected effects."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from salesflow.analysis import Variable, analyse
from salesflow.analysis.model import OUTCOMES
from salesflow.cli import analysis_cmds
from salesflow.cli.common import new_app
from salesflow.errors import DataError

from .simulated_deals import VARIABLES, coverage, simulated_deals

SLOW, SOURCE, REGION = VARIABLES
AMOUNT = Variable("amount", "deal size", "numeric", "before", scale=1000.0, unit="per 1,000")


def test_zero_lost_deals_exit_1_with_the_count(tmp_path):
    from .synthetic_company import build_synthetic

    synthetic = build_synthetic(tmp_path / "ws", n=300, n_requests=20, seed=5)
    con = duckdb.connect(str(synthetic.path / "data.duckdb"))
    con.execute("UPDATE opportunities SET outcome = 'won', stage = 'Won' WHERE outcome = 'lost'")
    con.execute("UPDATE stage_events SET stage = 'Won' WHERE stage = 'Lost'")
    closed = con.execute("SELECT count(*) FROM opportunities WHERE outcome = 'won'").fetchone()[0]
    con.close()
    app = new_app("test")
    analysis_cmds.register(app)
    result = CliRunner().invoke(
        app, ["drivers", "--outcome", "won", "-w", str(synthetic.path), "--json"]
    )
    assert result.exit_code == 1 and result.stdout == ""
    message = " ".join(result.stderr.split())
    assert f"0 deals lost among {closed:,} closed deals" in message
    assert "whether a variable goes with winning cannot be estimated" in message
    assert "Traceback" not in result.stderr


def test_an_outcome_without_variation_is_refused():
    frame = simulated_deals(1, 200).assign(won=0.0)
    with pytest.raises(DataError, match="0 deals won among 200 closed deals"):
        analyse(frame, OUTCOMES["won"], [SLOW])
    days = frame.assign(cycle_days=30.0)
    with pytest.raises(DataError, match="All 200 closed deals have the same cycle time"):
        analyse(days, OUTCOMES["cycle_time"], [SLOW])


def test_fewer_than_10_events_per_term_is_refused_naming_the_count():
    frame = simulated_deals(2, 400)
    lost = frame.index[frame["won"] == 0]
    frame.loc[lost[25:], "won"] = 1.0  # 25 lost deals left, for 5 model terms
    with pytest.raises(DataError, match=r"Only 25 deals lost for 5 model terms \(5\.0 per term"):
        analyse(frame, OUTCOMES["won"], [SLOW, SOURCE, REGION])
    assert analyse(frame, OUTCOMES["won"], [SLOW]).n == 400  # 25 per term is enough


def test_a_level_that_always_wins_is_separation_with_its_count():
    frame = simulated_deals(3, 400)
    frame.loc[frame["source"] == "partner", "won"] = 1.0
    partners = int((frame["source"] == "partner").sum())
    with pytest.raises(DataError, match=f"All {partners} deals source = partner won"):
        analyse(frame, OUTCOMES["won"], [SLOW, SOURCE])


def test_a_number_that_splits_won_from_lost_is_separation():
    rng = np.random.default_rng(4)
    frame = simulated_deals(4, 300)
    # Won deals are the larger ones, exactly: a cut at 20,000 tells them apart.
    frame["amount"] = np.where(frame["won"] == 1, 20_000, 0) + rng.uniform(1, 19_000, 300)
    with pytest.raises(DataError, match="amount tell deals won from deals lost exactly"):
        analyse(frame, OUTCOMES["won"], [SLOW, AMOUNT])
    frame["amount"] = rng.uniform(1, 40_000, 300)  # no cut: estimable
    assert {e.variable for e in analyse(frame, OUTCOMES["won"], [SLOW, AMOUNT]).effects} == {
        "first_response_over_48h",
        "amount",
    }


def test_binary_metric_outcomes_use_their_own_words():
    from dataclasses import replace

    spec = replace(OUTCOMES["won"], name="rework_rate", metric="rework_rate", label="rework rate")
    frame = pd.DataFrame({"won": 0.0, "first_response_over_48h": [0.0, 1.0] * 50})
    with pytest.raises(DataError, match="0 deals counted in the rework rate among 100"):
        analyse(frame, spec, [SLOW])


def test_95_percent_intervals_cover_the_injected_effects():
    """100 seeded logs of 400 deals here; 200 in benchmarks/bench_drivers.py (README figures)."""
    found = coverage(range(100), n=400)
    print(f"coverage of the injected effects over 100 logs: {found}")
    assert min(found.values()) >= 0.9
