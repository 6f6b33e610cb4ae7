"""Synthetic sales workspaces with effects injected at known sizes (the ground truth of the tests).

Win probability is built on the probability scale, so the injected risk difference *is* the
average marginal effect a correct logistic model should recover:

    P(won) = 0.45 − 0.12·[first response > 48 h] + 0.10·[source = partner]   (region: no effect)

Cycle time of closed deals is log-normal with median 40 days, ×1.5 for Enterprise deals (σ = 0.5);
each stage visit is an equal share of it, so time in any stage carries the same ×1.5.
Closed deals move back one stage before closing (rework) with probability
``0.10 + 0.15·[product = Plus]`` (a second random stream, so the other tables do not change).
``list_price`` is ``amount`` × 1.1 plus 1 % noise (a collinear pair); ``pilot`` is an imported
attribute with a rare level (12 deals). Requests about deals are written from five topics with
distinct vocabularies; ``topic`` is their ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

STAGES = ("Lead", "Qualified", "Discovery", "Proposal", "Negotiation")
SLOW_EFFECT = -0.12
PARTNER_EFFECT = 0.10
ENTERPRISE_FACTOR = 1.5
REWORK_BASE = 0.10
REWORK_EFFECT = 0.15
TOPICS = {
    "invoice": "invoice billing copy payment overdue credit note vat receipt charged twice",
    "pricing": "price quote discount pricing approval margin volume rebate tier cost",
    "contract": "contract legal terms clause signature nda liability redline renewal agreement",
    "technical": "api integration error sso login sandbox webhook timeout bug export",
    "delivery": "delivery shipping tracking courier delayed parcel warehouse dispatch address",
}
FILLER = [
    "please",
    "help",
    "customer",
    "asked",
    "today",
    "urgent",
    "thanks",
    "regarding",
    "question",
    "team",
    "need",
]


@dataclass
class Synthetic:
    path: Path
    opportunities: pd.DataFrame
    requests: pd.DataFrame


def _opportunities(rng: np.random.Generator, n: int) -> pd.DataFrame:
    start = pd.Timestamp("2023-01-01")
    created = start + pd.to_timedelta(rng.uniform(0, 700, n), unit="D")
    segment = rng.choice(["SMB", "Mid-market", "Enterprise"], n, p=[0.5, 0.3, 0.2])
    source = rng.choice(["inbound", "outbound", "partner"], n, p=[0.45, 0.3, 0.25])
    region = rng.choice(["North", "South", "East", "West"], n)
    hours = rng.lognormal(np.log(30), 0.9, n)
    slow = hours > 48
    p_win = 0.45 + SLOW_EFFECT * slow + PARTNER_EFFECT * (source == "partner")
    closed = rng.random(n) < 0.85
    won = rng.random(n) < p_win
    cycle = 40 * np.where(segment == "Enterprise", ENTERPRISE_FACTOR, 1.0)
    cycle = cycle * rng.lognormal(0, 0.5, n)
    amount = np.round(rng.lognormal(np.log(15_000), 1.0, n), 2)
    pilot = np.where(np.arange(n) < 12, "yes", "no")
    return pd.DataFrame(
        {
            "opportunity_id": [f"O{i:05d}" for i in range(n)],
            "account": [f"A{i % 400:04d}" for i in range(n)],
            "owner": rng.choice([f"rep{i}" for i in range(8)], n),
            "team": rng.choice(["East team", "West team"], n),
            "product": rng.choice(["Core", "Plus"], n),
            "segment": segment,
            "source": source,
            "stage": np.where(closed, np.where(won, "Won", "Lost"), "Proposal"),
            "created_at": created,
            "closed_at": pd.Series(created + pd.to_timedelta(cycle, unit="D")).where(closed),
            "outcome": np.where(closed, np.where(won, "won", "lost"), "open"),
            "amount": amount,
            "region": region,
            "list_price": np.round(amount * 1.1 * rng.normal(1, 0.01, n), 2),
            "pilot": pilot,
            "true_hours": hours,
        }
    )


def _stage_events(opps: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    redo = np.random.default_rng(8)
    for o in opps.itertuples():
        end = o.closed_at if pd.notna(o.closed_at) else o.created_at + pd.Timedelta(days=20)
        reached = 5 if o.outcome == "won" else int(rng.integers(1, 6))
        p_rework = REWORK_BASE + REWORK_EFFECT * (o.product == "Plus")
        rework = o.outcome != "open" and redo.random() < p_rework
        reached = max(reached, 2) if rework else reached
        span = (end - o.created_at) / (reached + 1)
        for i in range(reached):
            rows.append((o.opportunity_id, STAGES[i], o.created_at + span * i))
        if rework:  # back to the previous stage halfway through the last one
            rows.append(
                (o.opportunity_id, STAGES[reached - 2], o.created_at + span * (reached - 0.5))
            )
        if o.outcome != "open":
            rows.append((o.opportunity_id, "Won" if o.outcome == "won" else "Lost", end))
    return pd.DataFrame(rows, columns=["opportunity_id", "stage", "entered_at"])


def _activities(opps: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    types = ["call", "email", "meeting", "demo", "proposal"]
    for o in opps.itertuples():
        first = o.created_at + pd.Timedelta(hours=float(o.true_hours))
        rows.append((o.opportunity_id, "email", first))
        for _ in range(int(rng.integers(0, 6))):
            rows.append(
                (
                    o.opportunity_id,
                    str(rng.choice(types)),
                    first + pd.Timedelta(days=float(rng.uniform(0, 30))),
                )
            )
    frame = pd.DataFrame(rows, columns=["opportunity_id", "type", "occurred_at"])
    frame.insert(0, "activity_id", [f"X{i:06d}" for i in range(len(frame))])
    return frame


def _requests(opps: pd.DataFrame, rng: np.random.Generator, n: int) -> pd.DataFrame:
    names = list(TOPICS)
    weights = np.array([0.3, 0.25, 0.2, 0.15, 0.1])
    topic = rng.choice(names, n, p=weights)
    texts = []
    for t in topic:
        words = list(rng.choice(TOPICS[t].split(), int(rng.integers(4, 7)), replace=False))
        words += list(rng.choice(FILLER, 2, replace=False))
        rng.shuffle(words)
        texts.append(" ".join(words))
    about = rng.integers(0, len(opps), n)
    created = pd.DatetimeIndex(opps["created_at"].to_numpy()[about])
    received = created + pd.to_timedelta(rng.uniform(0, 60, n), unit="D")
    # The delivery topic grows: later requests are more often about delivery.
    later = (received - received.min()).days.to_numpy() / 760
    grow = rng.random(n) < 0.25 * later
    topic = np.where(grow, "delivery", topic)
    texts = [
        " ".join(rng.choice(TOPICS["delivery"].split(), 5, replace=False)) if g else x
        for g, x in zip(grow, texts, strict=True)
    ]
    categorised = rng.random(n) < 0.3
    return pd.DataFrame(
        {
            "request_id": [f"R{i:05d}" for i in range(n)],
            "received_at": received,
            "channel": "email",
            "opportunity_id": opps["opportunity_id"].to_numpy()[about],
            "category": np.where(categorised, topic, None),
            "description": texts,
            "topic": topic,
        }
    )


def build_synthetic(
    path: Path, *, n: int = 3000, n_requests: int = 1200, seed: int = 11
) -> Synthetic:
    """Write a workspace in ``path`` holding the synthetic company."""
    import duckdb

    from salesflow.workspace import init_workspace

    rng = np.random.default_rng(seed)
    init_workspace(path).close()
    opps = _opportunities(rng, n)
    frames = {
        "opportunities": opps.drop(columns="true_hours"),
        "stage_events": _stage_events(opps, rng),
        "activities": _activities(opps, rng),
        "requests": _requests(opps, rng, n_requests),
    }
    con = duckdb.connect(str(path / "data.duckdb"))
    for name, frame in frames.items():
        con.register("frame", frame)
        have = {r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()}
        for column, dtype, *_ in con.execute("DESCRIBE frame").fetchall():
            if column not in have:  # an imported attribute beyond the canonical columns
                con.execute(f'ALTER TABLE {name} ADD COLUMN "{column}" {dtype}')
        con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM frame")
        con.unregister("frame")
    con.close()
    return Synthetic(path, opps, frames["requests"])
