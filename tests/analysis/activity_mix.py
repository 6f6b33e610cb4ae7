"""A generated log with a known activity mix and one known effect (the truth of the activity tests).

Every deal walks the default stages from Lead; its activities fall uniformly over its life, with a
type drawn from ``MIX`` and minutes from ``MINUTES``. The number of demos is drawn first and
raises the win probability: ``P(won) = 0.25 + DEMO_EFFECT · min(demos, 3)``. ``internal_review``
(classified as waste in the workspace's settings) and every other type have no effect. Lost deals
get two e-mails *after* their close, which an analysis that counted them would read as
"e-mails lose deals".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

STAGES = ("Lead", "Qualified", "Discovery", "Proposal", "Negotiation")
MIX = {"call": 0.3, "email": 0.3, "meeting": 0.15, "internal_review": 0.15, "webinar": 0.1}
MINUTES = {"call": 15, "email": 5, "meeting": 60, "internal_review": 45, "webinar": 30, "demo": 50}
DEMO_EFFECT = 0.12
SETTINGS = '\n[activities.value]\ninternal_review = "waste"\nMeeting = "value"\n'


def _deals(rng: np.random.Generator, n: int) -> pd.DataFrame:
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 300, n), unit="D")
    demos = rng.poisson(1.2, n)
    won = rng.random(n) < 0.25 + DEMO_EFFECT * np.minimum(demos, 3)
    closed = rng.random(n) < 0.9
    cycle = rng.uniform(20, 80, n)
    return pd.DataFrame(
        {
            "opportunity_id": [f"D{i:05d}" for i in range(n)],
            "owner": rng.choice(["ann", "ben", "cy"], n),
            "created_at": created,
            "closed_at": pd.Series(created + pd.to_timedelta(cycle, unit="D")).where(closed),
            "outcome": np.where(closed, np.where(won, "won", "lost"), "open"),
            "amount": 10_000.0,
            "demos": demos,
            "reached": np.where(won, 5, rng.integers(1, 6, n)),
            "life": cycle,
        }
    )


def _stage_events(deals: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for d in deals.itertuples():
        span = d.life / (d.reached + 1)
        rows += [
            (d.opportunity_id, STAGES[i], d.created_at + pd.Timedelta(days=span * i))
            for i in range(d.reached)
        ]
        if d.outcome != "open":
            rows.append((d.opportunity_id, d.outcome.capitalize(), d.closed_at))
    return pd.DataFrame(rows, columns=["opportunity_id", "stage", "entered_at"])


def _activities(rng: np.random.Generator, deals: pd.DataFrame) -> pd.DataFrame:
    types = list(MIX)
    p = np.array(list(MIX.values()))
    rows = []
    for d in deals.itertuples():
        kinds = ["demo"] * int(d.demos) + list(rng.choice(types, int(rng.integers(2, 9)), p=p))
        for kind in kinds:
            at = d.created_at + pd.Timedelta(days=float(rng.uniform(0, d.life)))
            rows.append((d.opportunity_id, kind, at))
        if d.outcome == "lost":  # after the close: must not count
            rows += [
                (d.opportunity_id, "email", d.closed_at + pd.Timedelta(days=k)) for k in (1, 3)
            ]
    frame = pd.DataFrame(rows, columns=["opportunity_id", "type", "occurred_at"])
    frame["type"] = np.where(frame["type"] == "meeting", "Meeting", frame["type"])  # any case
    jitter = rng.uniform(0.5, 1.5, len(frame))
    frame["duration_minutes"] = frame["type"].str.lower().map(MINUTES) * jitter
    frame.insert(0, "activity_id", [f"A{i:06d}" for i in range(len(frame))])
    return frame


def build_activity_mix(path: Path, *, n: int = 1500, seed: int = 5) -> dict[str, pd.DataFrame]:
    """Write the workspace in ``path``; return its tables (the ground truth)."""
    import duckdb

    from salesflow.workspace import init_workspace

    rng = np.random.default_rng(seed)
    init_workspace(path).close()
    with (path / "salesflow.toml").open("a") as f:
        f.write(SETTINGS)
    deals = _deals(rng, n)
    frames = {
        "opportunities": deals.drop(columns=["demos", "reached", "life"]),
        "stage_events": _stage_events(deals),
        "activities": _activities(rng, deals),
    }
    con = duckdb.connect(str(path / "data.duckdb"))
    con.execute("ALTER TABLE activities ADD COLUMN duration_minutes DOUBLE")
    for name, frame in frames.items():
        con.register("frame", frame)
        con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM frame")
        con.unregister("frame")
    con.close()
    return frames
