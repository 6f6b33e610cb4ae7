"""The feature table against independent pandas computations on the generator's own rows."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from salesflow.analysis import catalog, feature_frame
from salesflow.errors import ConfigError
from salesflow.workspace import Workspace, init_workspace


@pytest.fixture(scope="module")
def features(synthetic):
    with Workspace.open(synthetic.path, read_only=True) as ws:
        frame, cat = feature_frame(ws.data, ws.settings)
    return frame.set_index("opportunity_id"), cat


def test_first_response_is_the_generated_delay(synthetic, features):
    frame, _ = features
    truth = synthetic.opportunities.set_index("opportunity_id")["true_hours"]
    assert np.allclose(frame["first_response_hours"], truth.loc[frame.index], atol=1e-3)
    assert (frame["first_response_over_48h"] == (truth.loc[frame.index] > 48)).all()


def test_counts_cycle_and_bands_match_pandas(synthetic, features):
    frame, _ = features
    con = duckdb.connect(str(synthetic.path / "data.duckdb"), read_only=True)
    acts = con.execute("SELECT opportunity_id, type, occurred_at FROM activities").df()
    con.close()
    # Only activities up to the close count (later ones would leak the outcome).
    closed_at = synthetic.opportunities.set_index("opportunity_id")["closed_at"]
    acts = acts[~(acts["occurred_at"] > closed_at.loc[acts["opportunity_id"]].to_numpy())]
    total = acts.groupby("opportunity_id").size()
    calls = acts[acts["type"] == "call"].groupby("opportunity_id").size()
    assert (frame["activities_total"] == total.loc[frame.index]).all()
    assert (frame["activities_call"] == calls.reindex(frame.index, fill_value=0)).all()
    opps = synthetic.opportunities.set_index("opportunity_id").loc[frame.index]
    days = (opps["closed_at"] - opps["created_at"]).dt.total_seconds() / 86400
    assert np.allclose(frame["cycle_days"].dropna(), days.dropna())
    bands = pd.cut(
        opps["amount"],
        [0, 5000, 20000, 50000, np.inf],
        right=False,
        labels=["<5k", "5k-20k", "20k-50k", "50k+"],
    )
    assert (frame["amount_band"] == bands.astype(str)).all()


def test_imported_attributes_become_variables(features):
    _, cat = features
    assert set(cat.imported) == {"region", "list_price", "pilot"}
    assert cat.variables["region"].kind == "categorical"
    assert cat.variables["list_price"].kind == "numeric"
    assert cat.variables["cycle_days"].when == "after"


def _tiny(tmp_path, extra: str = ""):
    ws = init_workspace(tmp_path / "tiny")
    with (ws.path / "salesflow.toml").open("a", encoding="utf-8") as fh:
        fh.write(extra)
    ws.close()
    con = duckdb.connect(str(ws.path / "data.duckdb"))
    con.execute("""INSERT INTO opportunities (opportunity_id, created_at, closed_at, outcome, amount)
        VALUES ('A', '2024-01-01', '2024-02-01', 'won', 1000),
               ('B', '2024-01-01', NULL, 'open', 60000)""")
    con.execute("""INSERT INTO stage_events (opportunity_id, stage, entered_at) VALUES
        ('A', 'Lead', '2024-01-01'), ('A', 'Qualified', '2024-01-03'),
        ('A', 'Lead', '2024-01-05'), ('A', 'Qualified', '2024-01-08'),
        ('A', 'Discovery', '2024-01-10'), ('A', 'Qualified', '2024-01-20'),
        ('A', 'Won', '2024-02-01'), ('B', 'Lead', '2024-01-01')""")
    con.execute("""INSERT INTO activities (activity_id, opportunity_id, type, occurred_at) VALUES
        ('1', 'A', 'Call', '2024-01-02'), ('2', 'A', 'call', '2024-01-04 12:00'),
        ('3', 'A', 'email', '2024-01-11')""")
    con.close()
    return Workspace.open(ws.path, read_only=True)


def test_backward_moves_days_and_activities_per_stage(tmp_path):
    with _tiny(tmp_path) as ws:
        frame, _ = feature_frame(ws.data, ws.settings)
    a = frame.set_index("opportunity_id").loc["A"]
    # Lead → Qualified → Lead (back) → Qualified → Discovery → Qualified (back) → Won
    assert a["backward_moves"] == 2
    assert a["days_in_lead"] == pytest.approx(2 + 3)
    assert a["days_in_qualified"] == pytest.approx(2 + 2 + 12)
    assert a["days_in_last_stage"] == pytest.approx(12)
    assert a["activities_in_lead"] == 1 and a["activities_in_qualified"] == 1
    assert a["activities_call"] == 2  # type is matched case-insensitively
    assert a["first_response_hours"] == pytest.approx(24)
    b = frame.set_index("opportunity_id").loc["B"]
    assert b["first_response_over_48h"] == 1  # never answered, open for weeks
    assert b["amount_band"] == "50k+" and pd.isna(b["won"])


def test_declared_variable_counts_with_a_filter(tmp_path):
    toml = """
[variables.calls]
description = "Calls on the deal"
table = "activities"
filter = { type = ["call", "Call"] }
measure = "count"

[variables.amount]
when = "during"
"""
    with _tiny(tmp_path, toml) as ws:
        frame, cat = feature_frame(ws.data, ws.settings)
    assert cat.variables["calls"].origin == "declared"
    assert cat.variables["amount"].when == "during"
    assert frame.set_index("opportunity_id")["calls"].to_dict() == {"A": 2, "B": 0}


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ('[variables.x]\ntable = "activities"\nmeasure = "mode"\n', "measure"),
        ('[variables.x]\ntable = "secrets"\n', "table"),
        ('[variables.nope]\nwhen = "after"\n', "does not exist"),
        ('[variables.x]\ntable = "activities"\nmeasure = "sum"\n', "needs a column"),
    ],
)
def test_bad_declarations_say_what_and_where(tmp_path, toml, words):
    with _tiny(tmp_path, toml) as ws, pytest.raises(ConfigError) as info:
        catalog(ws.data, ws.settings)
    assert words in info.value.message and "salesflow.toml" in info.value.message
