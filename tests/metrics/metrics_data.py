"""A small, seeded sales history as plain Python rows, and a loader into any Ibis backend.

The rows are plain dicts so each test can compute the right answer independently, with loops
over the same rows (metrics_oracle), and compare it with what the metric computes in the engine.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

OWNERS = ("Ann", "Bob", "Cem")
SEGMENTS = ("SMB", "Mid", "Enterprise")
INDUSTRIES = ("retail", "energy")
OPEN_STAGES = ("Lead", "Qualified", "Discovery", "Proposal", "Negotiation")
START = datetime(2024, 1, 1)
END = datetime(2024, 12, 31, 23)


@dataclass
class Data:
    opportunities: list[dict]
    stage_events: list[dict]
    activities: list[dict]
    requests: list[dict]
    forecasts: list[dict]

    def tables(self) -> dict[str, list[dict]]:
        return {
            "opportunities": self.opportunities,
            "stage_events": self.stage_events,
            "activities": self.activities,
            "requests": self.requests,
            "forecasts": self.forecasts,
        }


def _deal(rng: random.Random, i: int, data: Data) -> None:
    oid = f"D{i:03d}"
    created = START + timedelta(days=rng.randrange(0, 330), hours=rng.randrange(8, 18))
    owner = rng.choice(OWNERS)
    amount = float(rng.choice((4_000, 8_000, 20_000, 45_000, 60_000, 120_000)))
    # a stage path: forward from Lead, sometimes one step back, then won, lost or still open
    reach = rng.randrange(1, len(OPEN_STAGES) + 1)
    path = list(OPEN_STAGES[:reach])
    if reach >= 4 and rng.random() < 0.3:
        path += [OPEN_STAGES[reach - 2], OPEN_STAGES[reach - 1]]  # rework: back one stage
    end = rng.choice(("Won", "Lost", None, "Won", "Lost"))
    if end:
        path.append(end)
    at = created
    for k, stage in enumerate(path):
        if k:
            at = at + timedelta(days=rng.randrange(0, 25), hours=rng.randrange(0, 24))
        data.stage_events.append(
            {"opportunity_id": oid, "stage": stage, "entered_at": at, "owner": owner,
             "amount": amount, "forecast_category": None}
        )  # fmt: skip
    closed_at = at if end and at <= END else None
    outcome = ("won" if end == "Won" else "lost") if closed_at else "open"
    data.opportunities.append(
        {"opportunity_id": oid, "account": f"A{i % 17}", "owner": owner, "team": "East" if owner != "Cem" else "West",
         "product": rng.choice(("Core", "Plus")), "segment": rng.choice(SEGMENTS), "source": rng.choice(("inbound", "outbound")),
         "stage": path[-1], "created_at": created, "closed_at": closed_at, "outcome": outcome, "amount": amount,
         "industry": rng.choice(INDUSTRIES), "employees": float(rng.choice((10, 250, 5000)))}
    )  # fmt: skip
    last = closed_at or END
    for k in range(rng.randrange(0, 5)):
        when = created + (last - created) * rng.random()
        data.activities.append(
            {"activity_id": f"{oid}-a{k}", "opportunity_id": oid if rng.random() < 0.9 else None,
             "account": f"A{i % 17}", "owner": rng.choice(OWNERS), "type": rng.choice(("call", "email", "demo")),
             "occurred_at": when}
        )  # fmt: skip
    for k in range(rng.randrange(0, 4)):
        received = created + timedelta(days=rng.randrange(0, 40), hours=rng.randrange(0, 24))
        answered = received + timedelta(hours=rng.randrange(1, 96)) if rng.random() < 0.8 else None
        data.requests.append(
            {"request_id": f"{oid}-r{k}", "received_at": received, "channel": rng.choice(("email", "phone")),
             "requester_type": rng.choice(("customer", "sales rep")), "account": f"A{i % 17}",
             "opportunity_id": oid if rng.random() < 0.85 else None, "category": rng.choice(("pricing", "legal", "tech")),
             "description": "please help", "handled_by": "Dee", "first_response_at": answered,
             "resolved_at": None, "outcome": None}
        )  # fmt: skip


def make_data(seed: int = 7, deals: int = 90) -> Data:
    rng = random.Random(seed)
    data = Data([], [], [], [], [])
    for i in range(deals):
        _deal(rng, i, data)
    for owner in OWNERS:
        for month in range(1, 13):
            start = date(2024, month, 1)
            for category, factor in (("commit", 1.0), ("best_case", 1.5)):
                for late, amount in (
                    (False, 1000.0),
                    (True, float(rng.randrange(20, 200) * 1000) * factor),
                ):
                    data.forecasts.append(
                        {"period_start": start, "owner": owner, "team": None, "category": category,
                         "submitted_at": datetime(2024, month, 1) + timedelta(days=5 if late else 0),
                         "amount": amount}
                    )  # fmt: skip
    return data


def load(con, data: Data) -> None:
    """Write the rows into the canonical tables through Ibis (any backend)."""
    import ibis
    import pandas as pd

    from salesflow.schema import TABLES
    from salesflow.source import ensure_tables

    for name, rows in data.tables().items():
        frame = pd.DataFrame(rows)
        schema = dict(TABLES[name].ibis_schema())
        for col in frame.columns:
            schema.setdefault(col, "float64" if frame[col].dtype.kind == "f" else "string")
        types = {"string": "VARCHAR", "float64": "DOUBLE PRECISION"} | {
            c.name: c.sql_type for c in TABLES[name].columns
        }
        cols = ", ".join(f'"{c}" {types.get(c) or types[schema[c]]}' for c in frame.columns)
        con.raw_sql(f'DROP TABLE IF EXISTS "{name}"')
        con.raw_sql(f'CREATE TABLE "{name}" ({cols})')
        con.insert(name, ibis.memtable(frame, schema=con.table(name).schema()))
    ensure_tables(con)
