"""The pipeline waterfall against known movements and an independent pure-Python computation."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import ibis
import pandas as pd
import pytest

from salesflow.analysis.pipeline import (
    AMOUNT_SIGNS,
    COMPONENTS,
    SIGNS,
    parse_period,
    pipeline_waterfall,
)
from salesflow.errors import ConfigError, DataError
from salesflow.settings import StageConfig

STAGES = StageConfig(("Lead", "Qualified", "Proposal"), ("Won",), ("Lost",))
COLUMNS = ["opportunity_id", "changed_at", "stage", "amount", "close_date", "owner"]


def backend(history: list[tuple], deals: list[tuple] | None = None):
    """An in-memory DuckDB holding ``history`` (and ``opportunities``: id, team)."""
    con = ibis.duckdb.connect()
    frame = pd.DataFrame(history, columns=COLUMNS)
    frame["changed_at"] = pd.to_datetime(frame["changed_at"], format="mixed")
    frame["close_date"] = pd.to_datetime(frame["close_date"]).dt.date
    con.create_table(
        "opportunity_history",
        frame,
        schema=ibis.schema(
            {
                "opportunity_id": "string",
                "changed_at": "timestamp",
                "stage": "string",
                "amount": "float64",
                "close_date": "date",
                "owner": "string",
            }
        ),
    )
    if deals is not None:
        con.create_table("opportunities", pd.DataFrame(deals, columns=["opportunity_id", "team"]))
    return con


# One deal per movement of 2025-Q3 (July to September), each with the figure it must show.
KNOWN = [
    # in at start, amount up from 1,000.00 to 1,250.50, still in at the end
    ("up", "2025-06-01", "Qualified", 1000.00, "2025-08-15", "Ann"),
    ("up", "2025-08-01", "Proposal", 1250.50, "2025-09-01", "Ann"),
    # in at start, amount down 2,000 -> 1,500
    ("down", "2025-05-01", "Lead", 2000.00, "2025-07-30", "Bob"),
    ("down", "2025-07-10", "Lead", 1500.00, "2025-07-30", "Bob"),
    # in at start, pushed to Q4 (its amount then changes: not this quarter's business)
    ("push", "2025-06-15", "Proposal", 3000.00, "2025-09-20", "Ann"),
    ("push", "2025-09-10", "Proposal", 3000.00, "2025-11-30", "Ann"),
    ("push", "2025-09-15", "Proposal", 9000.00, "2025-11-30", "Ann"),
    # in at start, won at a higher amount
    ("win", "2025-04-01", "Proposal", 4000.00, "2025-08-31", "Bob"),
    ("win", "2025-08-20", "Won", 4400.00, "2025-08-20", "Bob"),
    # in at start, lost
    ("lose", "2025-06-30", "Qualified", 700.00, "2025-07-15", "Ann"),
    ("lose", "2025-07-16", "Lost", 700.00, "2025-07-16", "Ann"),
    # created in the quarter and still open at its end
    ("new", "2025-07-05", "Lead", 500.25, "2025-09-30", "Bob"),
    # existed (expected in Q4), pulled into Q3
    ("pull", "2025-03-01", "Lead", 800.00, "2025-12-01", "Ann"),
    ("pull", "2025-08-05", "Qualified", 800.00, "2025-09-15", "Ann"),
    # created and won within the quarter: created, then won
    ("quick", "2025-07-02", "Lead", 100.00, "2025-07-31", "Bob"),
    ("quick", "2025-07-20", "Won", 120.00, "2025-07-20", "Bob"),
    # never in Q3's pipeline: expected in Q4 all along; won long before
    ("later", "2025-06-01", "Lead", 5000.00, "2025-12-15", "Ann"),
    ("old", "2025-01-01", "Won", 50.00, "2025-02-01", "Bob"),
    # came and went within the quarter (in, then pushed): not shown
    ("blip", "2025-07-03", "Lead", 60.00, "2025-08-01", "Ann"),
    ("blip", "2025-07-25", "Lead", 60.00, "2025-10-01", "Ann"),
    # in at the end on the last moment of the quarter
    ("late", "2025-09-30 23:59:59", "Lead", 10.00, "2025-09-30", "Bob"),
]


def test_every_bar_of_a_known_quarter():
    doc = pipeline_waterfall(backend(KNOWN), STAGES, "2025-Q3")
    got = {k: (doc[k]["count"], doc[k]["amount_cents"]) for k in COMPONENTS}
    assert got == {
        "start": (5, 100000 + 200000 + 300000 + 400000 + 70000),
        "created": (3, 50025 + 12000 + 1000),
        "pulled_in": (1, 80000),
        "pushed_out": (1, 300000),
        "won": (2, 440000 + 12000),
        "lost": (1, 70000),
        "amount_up": (2, 25050 + 40000),
        "amount_down": (1, 50000),
        "end": (5, 125050 + 150000 + 50025 + 80000 + 1000),
    }
    assert (doc["period"], doc["from"], doc["to"]) == ("2025-Q3", "2025-07-01", "2025-10-01")
    assert doc["won"]["amount"] == 4520.0


def test_by_owner_splits_the_total_exactly():
    doc = pipeline_waterfall(backend(KNOWN), STAGES, "2025-Q3", by="owner")
    groups = {g["owner"]: g for g in doc["groups"]}
    assert set(groups) == {"Ann", "Bob"}
    for key in COMPONENTS:
        assert sum(g[key]["amount_cents"] for g in groups.values()) == doc[key]["amount_cents"]
        assert sum(g[key]["count"] for g in groups.values()) == doc[key]["count"]
    assert groups["Bob"]["won"]["count"] == 2 and groups["Ann"]["pushed_out"]["count"] == 1


# ---- an independent computation on a generated history ------------------------------------


def generated(seed: int = 7, deals: int = 400) -> tuple[list[tuple], list[tuple]]:
    """Deals that move at random through 2025: stages, amounts, close dates, owners, with gaps."""
    rng = random.Random(seed)
    history, teams = [], []
    for i in range(deals):
        oid = f"D{i:04d}"
        teams.append((oid, rng.choice(["North", "South"])))
        moment = datetime(2024, 10, 1) + timedelta(hours=rng.randrange(0, 24 * 420))
        stage, closed = "Lead", False
        for _ in range(rng.randint(1, 7)):
            if not closed:
                stage = rng.choice([*STAGES.order, *STAGES.order, "Won", "Lost"])
                closed = stage in ("Won", "Lost")
            amount = None if rng.random() < 0.05 else round(rng.uniform(0, 20000), 2)
            expected = moment.date() + timedelta(days=rng.randrange(-20, 200))
            close = None if rng.random() < 0.05 else expected
            owner = rng.choice(["Ann", "Bob", "Cem", None])
            history.append((oid, moment, stage, amount, close, owner))
            moment += timedelta(hours=rng.randrange(1, 24 * 60))
    return history, teams


def last_state(rows: list[tuple], moment: datetime) -> tuple | None:
    before = [r for r in rows if r[1] < moment]
    return max(before, key=lambda r: r[1]) if before else None


def cents(state: tuple | None) -> int:
    return 0 if state is None or state[3] is None else round(state[3] * 100)


def reference(history: list[tuple], first: date, after: date, keep=lambda oid, row: True) -> dict:
    """The waterfall computed deal by deal in plain Python, from the definitions."""
    p0, p1 = (
        datetime.combine(first, datetime.min.time()),
        datetime.combine(after, datetime.min.time()),
    )
    by_deal: dict[str, list[tuple]] = {}
    for row in history:
        by_deal.setdefault(row[0], []).append(row)
    out = {k: [0, 0] for k in COMPONENTS}

    def add(key: str, amount: int) -> None:
        out[key][0] += 1
        out[key][1] += amount

    def inside(state):
        return (
            state is not None
            and state[2] not in ("Won", "Lost")
            and state[4] is not None
            and first <= state[4] < after
        )

    for oid, rows in by_deal.items():
        s, e = last_state(rows, p0), last_state(rows, p1)
        owner = e[5] if e is not None and e[5] is not None else (s[5] if s else None)
        if not keep(oid, owner):
            continue
        won = e is not None and e[2] == "Won" and not (s is not None and s[2] == "Won")
        lost = e is not None and e[2] == "Lost" and not (s is not None and s[2] == "Lost")
        s_in, e_in = inside(s), inside(e)
        if s_in:
            add("start", cents(s))
        if e_in:
            add("end", cents(e))
        if won:
            add("won", cents(e))
        if lost:
            add("lost", cents(e))
        if s_in and not (e_in or won or lost):
            add("pushed_out", cents(s))
        elif s_in:
            change = cents(e) - cents(s)
            if change:
                add("amount_up" if change > 0 else "amount_down", abs(change))
        elif e_in or won or lost:
            add("pulled_in" if s is not None else "created", cents(e))
    return {k: tuple(v) for k, v in out.items()}


PERIODS = [f"2025-{m:02d}" for m in range(1, 13)] + [f"2025-Q{q}" for q in range(1, 5)]


@pytest.fixture(scope="module")
def history():
    rows, teams = generated()
    return rows, teams, backend(rows, teams)


def as_pairs(doc: dict) -> dict:
    return {k: (doc[k]["count"], doc[k]["amount_cents"]) for k in COMPONENTS}


def identity_holds(doc: dict) -> bool:
    amount = doc["start"]["amount_cents"] + sum(
        s * doc[k]["amount_cents"] for k, s in AMOUNT_SIGNS.items()
    )
    count = doc["start"]["count"] + sum(s * doc[k]["count"] for k, s in SIGNS.items())
    return (amount, count) == (doc["end"]["amount_cents"], doc["end"]["count"])


@pytest.mark.parametrize("label", PERIODS)
def test_every_period_matches_the_reference_and_adds_up(history, label):
    rows, _, con = history
    period = parse_period(label)
    doc = pipeline_waterfall(con, STAGES, label)
    assert as_pairs(doc) == reference(rows, period.first, period.after)
    assert identity_holds(doc)
    assert doc["start"]["count"] > 0 and doc["won"]["count"] > 0  # the data exercises it


def test_filters_match_the_reference_and_add_up(history):
    rows, teams, con = history
    team = dict(teams)
    period = parse_period("2025-Q2")
    for owner in ("Ann", "Bob"):
        doc = pipeline_waterfall(con, STAGES, period, filters={"owner": [owner]})
        assert as_pairs(doc) == reference(
            rows, period.first, period.after, lambda oid, who, owner=owner: who == owner
        )
        assert identity_holds(doc)
    doc = pipeline_waterfall(con, STAGES, period, filters={"team": ["North"]}, by="owner")
    assert as_pairs(doc) == reference(
        rows, period.first, period.after, lambda oid, who: team[oid] == "North"
    )
    assert all(identity_holds(g) for g in doc["groups"]) and identity_holds(doc)


def test_owner_comes_from_the_period_end_then_the_start(history):
    """A deal belongs to the owner of its state at the period's end (else at its start); a deal
    with no owner is its own group, so the groups still add up to the whole."""
    con = history[2]
    doc = pipeline_waterfall(con, STAGES, "2025-Q3", by="owner")
    assert None in [g["owner"] for g in doc["groups"]]
    total = pipeline_waterfall(con, STAGES, "2025-Q3")
    assert sum(g["end"]["amount_cents"] for g in doc["groups"]) == total["end"]["amount_cents"]


@pytest.mark.parametrize(
    ("text", "first", "after"),
    [("2025-Q4", date(2025, 10, 1), date(2026, 1, 1)), ("2025-12", date(2025, 12, 1), date(2026, 1, 1)),
     ("2025-q1", date(2025, 1, 1), date(2025, 4, 1)), ("2025-7", date(2025, 7, 1), date(2025, 8, 1))],
)  # fmt: skip
def test_periods(text, first, after):
    period = parse_period(text)
    assert (period.first, period.after) == (first, after)


@pytest.mark.parametrize(
    "text", ["2025", "Q3", "2025-13", "2025-Q5", "last quarter", "0000-07", "9999-Q4", "2025-00"]
)
def test_a_bad_period_says_how_to_write_one(text):
    with pytest.raises(ConfigError, match="2025-Q3"):
        parse_period(text)


def test_no_history_says_how_to_get_one():
    with pytest.raises(DataError, match="snapshot-date"):
        pipeline_waterfall(ibis.duckdb.connect(), STAGES, "2025-Q3")


def test_an_unknown_column_is_named():
    with pytest.raises(ConfigError, match="'region'"):
        pipeline_waterfall(backend(KNOWN, [("up", "North")]), STAGES, "2025-Q3", by="region")
