"""A small, seeded sales history as plain Python rows, and a loader into any Ibis backend.

The rows are plain dicts so each test can compute the right answer independently, with loops
over the same rows (metrics_oracle), and compare it with what the metric computes in the engine.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

OWNERS = ("Ann", "Bob", "Cem")
SEGMENTS = ("SMB", "Mid", "Enterprise")
INDUSTRIES = ("retail", "energy")
OPEN_STAGES = ("Lead", "Qualified", "Discovery", "Proposal", "Negotiation")
START = datetime(2024, 1, 1)
END = datetime(2024, 12, 31, 23)
# the forecast category a deal's history row carries in each stage
CATEGORY = {"Discovery": "best_case", "Proposal": "commit", "Negotiation": "commit",
            "Won": "closed", "Lost": "closed"}  # fmt: skip


@dataclass
class Data:
    opportunities: list[dict]
    stage_events: list[dict]
    activities: list[dict]
    requests: list[dict]
    forecasts: list[dict]
    opportunity_history: list[dict] = field(default_factory=list)

    def tables(self) -> dict[str, list[dict]]:
        return {
            "opportunities": self.opportunities,
            "stage_events": self.stage_events,
            "activities": self.activities,
            "requests": self.requests,
            "forecasts": self.forecasts,
            "opportunity_history": self.opportunity_history,
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
    _history(oid, owner, amount, created, data.stage_events[-len(path) :], data)
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


def _history(oid, owner, amount, created, events, data: Data) -> None:
    """One history row per stage event (no random draws: the other tables stay as they were):
    the expected close starts 30 days after creation and is pushed 15 days past every second
    event that finds it passed; a won or lost row carries its own day."""
    expected = (created + timedelta(days=30)).date()
    for k, ev in enumerate(events):
        if ev["entered_at"].date() > expected and k % 2:
            expected = (ev["entered_at"] + timedelta(days=15)).date()
        closes = ev["stage"] in ("Won", "Lost")
        rows = data.opportunity_history
        if (
            rows
            and rows[-1]["opportunity_id"] == oid
            and rows[-1]["changed_at"] == ev["entered_at"]
        ):
            rows.pop()  # one state per moment: the key is (deal, changed_at)
        rows.append(
            {"opportunity_id": oid, "changed_at": ev["entered_at"], "stage": ev["stage"],
             "amount": amount, "close_date": ev["entered_at"].date() if closes else expected,
             "forecast_category": CATEGORY.get(ev["stage"], "pipeline"), "owner": owner}
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
        if not rows:  # ensure_tables below creates it empty, with its canonical columns
            continue
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
