"""Seeded deal logs with a known effect on winning, for the prioritisation backtest
(tests/analysis/test_prioritise.py, benchmarks/bench_prioritise.py).

Deals are created evenly over 600 days and close after a log-normal time (median 45 days);
10 % are still open at the end. With ``effect`` on:

    P(won) = 0.25 + 0.30·[source = referral] − 0.10·[segment = Enterprise]

so a referral deal wins 2.2× as often as an inbound one; ``region`` never matters. Without it
every deal wins with probability 0.30. ``loss_reason_logged`` is an imported column filled in
only when a deal is lost: it is the outcome in disguise, declared ``when = "after"`` in
``salesflow.toml``, and must never reach the scorer.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

START = pd.Timestamp("2024-01-01")
BASE, REFERRAL, ENTERPRISE, FLAT = 0.25, 0.30, -0.10, 0.30
LEAK_TOML = '\n[variables.loss_reason_logged]\nwhen = "after"\n'


def deal_log(seed: int, n: int = 1500, *, effect: bool = True) -> pd.DataFrame:
    """One row per deal in the canonical ``opportunities`` shape (plus imported columns)."""
    rng = np.random.default_rng(seed)
    created = START + pd.to_timedelta(np.sort(rng.uniform(0, 600, n)), unit="D")
    source = rng.choice(["inbound", "outbound", "referral"], n, p=[0.5, 0.3, 0.2])
    segment = rng.choice(["SMB", "Mid-market", "Enterprise"], n, p=[0.5, 0.3, 0.2])
    p_win = BASE + REFERRAL * (source == "referral") + ENTERPRISE * (segment == "Enterprise")
    p_win = p_win if effect else np.full(n, FLAT)
    won = rng.random(n) < p_win
    closed_at = created + pd.to_timedelta(rng.lognormal(np.log(45), 0.6, n), unit="D")
    end = START + pd.Timedelta(days=600)
    closed = (closed_at <= end) & (rng.random(n) > 0.1)
    outcome = np.where(closed, np.where(won, "won", "lost"), "open")
    return pd.DataFrame(
        {
            "opportunity_id": [f"D{i:05d}" for i in range(n)],
            "account": [f"Account {i % 300}" for i in range(n)],
            "owner": rng.choice([f"rep{i}" for i in range(6)], n),
            "team": rng.choice(["North team", "South team"], n),
            "product": rng.choice(["Core", "Plus"], n),
            "segment": segment,
            "source": source,
            "stage": np.where(closed, np.where(won, "Won", "Lost"), "Proposal"),
            "created_at": created,
            "closed_at": pd.Series(closed_at).where(closed),
            "outcome": outcome,
            "amount": np.round(rng.lognormal(np.log(20_000), 0.8, n), 2),
            "region": rng.choice(["North", "South", "East"], n),
            "loss_reason_logged": (outcome == "lost").astype(float),
        }
    )


def as_seen_on(deals: pd.DataFrame, moment: datetime) -> pd.DataFrame:
    """The log as it stood at ``moment``: later deals absent, later closures still open."""
    seen = deals[deals["created_at"] <= moment].copy()
    later = seen["closed_at"] > moment
    seen.loc[later, ["outcome", "stage"]] = ["open", "Proposal"]
    seen.loc[later, "closed_at"] = pd.NaT
    seen.loc[later, "loss_reason_logged"] = 0.0
    return seen


def write_workspace(path: Path, deals: pd.DataFrame) -> Path:
    """A workspace holding ``deals`` (no stage events or activities), the leak declared."""
    import duckdb

    from salesflow.workspace import init_workspace

    init_workspace(path).close()
    with (path / "salesflow.toml").open("a", encoding="utf-8") as toml:
        toml.write(LEAK_TOML)
    con = duckdb.connect(str(path / "data.duckdb"))
    con.register("frame", deals)
    have = {r[0] for r in con.execute("DESCRIBE opportunities").fetchall()}
    for column, dtype, *_ in con.execute("DESCRIBE frame").fetchall():
        if column not in have:
            con.execute(f'ALTER TABLE opportunities ADD COLUMN "{column}" {dtype}')
    con.execute("INSERT INTO opportunities BY NAME SELECT * FROM frame")
    con.close()
    return path
