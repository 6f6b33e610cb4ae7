"""Deals' stage, outcome and closed_at derived from their last stage event (latest time, then
furthest stage), checked against the same rule written in Python, on events with ties,
microseconds and dates before 1970: for a first load (the batch is the whole history, its
aggregate packs time and stage in one integer) and for events added to stored histories."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import duckdb
import pytest
from ingest_helpers import query, write_csv

from salesflow import derived
from salesflow.ingest import import_file

STAGES = ("Lead", "Qualified", "Discovery", "Proposal", "Negotiation", "Won", "Lost")


def _events(rng: random.Random, deals: int, n: int, start: datetime) -> list[tuple]:
    rows = []
    for _ in range(n):
        deal = f"D{rng.randrange(deals):03d}"
        at = start + timedelta(minutes=rng.randrange(3), microseconds=rng.randrange(2))
        at += timedelta(days=rng.randrange(40_000))  # 1950 .. 2059
        rows.append((deal, rng.choice(STAGES), at.strftime("%Y-%m-%d %H:%M:%S.%f")))
    return list({(d, s, a): None for d, s, a in rows})  # the key is unique within a file


def _expected(events: list[tuple]) -> dict[str, tuple]:
    last: dict[str, tuple] = {}
    for deal, stage, at in events:
        key = (datetime.strptime(at, "%Y-%m-%d %H:%M:%S.%f"), STAGES.index(stage))
        if deal not in last or key > last[deal][0]:
            last[deal] = (key, stage)
    out = {}
    for deal, ((at, _), stage) in last.items():
        outcome = "won" if stage == "Won" else "lost" if stage == "Lost" else "open"
        out[deal] = (stage, outcome, at if outcome != "open" else None)
    return out


def _stored(ws) -> dict[str, tuple]:
    rows = query(ws, "SELECT opportunity_id, stage, outcome, closed_at FROM opportunities")
    return {deal: (stage, outcome, closed) for deal, stage, outcome, closed in rows}


def test_outcomes_follow_the_last_event_on_a_first_load_and_on_added_events(ws, tmp_path):
    rng = random.Random(22)
    deals = [(f"D{i:03d}", "1949-06-01 00:00:00") for i in range(300)]
    import_file(
        ws, "opportunities", write_csv(tmp_path / "d.csv", ["opportunity_id", "created_at"], deals)
    )
    first = _events(rng, 300, 3000, datetime(1950, 1, 1, 8, 0))
    # a Lead event for every deal replaces its derived one: the file is the whole history
    first += [(d, "Lead", "1950-01-01 07:00:00.000000") for d, _ in deals]
    header = ["opportunity_id", "stage", "entered_at"]
    import_file(ws, "stage_events", write_csv(tmp_path / "e1.csv", header, first))
    assert query(ws, "SELECT count(*) FROM stage_events") == [(len(first),)]
    assert _stored(ws) == _expected(first)
    more = [e for e in _events(rng, 300, 1500, datetime(1950, 1, 1, 8, 0)) if e not in first]
    import_file(ws, "stage_events", write_csv(tmp_path / "e2.csv", header, more))
    assert _stored(ws) == _expected(first + more)


@pytest.mark.parametrize("flow", ["refreshed", "failed"])
def test_a_first_load_reads_outcomes_from_the_flow_tables_or_else_from_the_events(
    ws, tmp_path, monkeypatch, flow
):
    """A first load's outcomes are read from the freshly built ``flow_cases``; when that build
    fails (a warning: the rows are in), they are aggregated from the stored events instead."""
    rng = random.Random(7)
    deals = [(f"D{i:03d}", "1949-06-01 00:00:00") for i in range(200)]
    import_file(
        ws, "opportunities", write_csv(tmp_path / "d.csv", ["opportunity_id", "created_at"], deals)
    )
    events = _events(rng, 150, 2000, datetime(1950, 1, 1, 8, 0))  # 50 deals: their Lead only
    events += [(d, "Lead", "1950-01-01 07:00:00.000000") for d, _ in deals]
    if flow == "failed":

        def fails(*_args, **_kwargs):
            raise duckdb.InvalidInputException("the flow build broke")

        monkeypatch.setattr(derived, "refresh", fails)
    header = ["opportunity_id", "stage", "entered_at"]
    report = import_file(ws, "stage_events", write_csv(tmp_path / "e.csv", header, events))
    assert _stored(ws) == _expected(events)
    assert report.refreshed_opportunities == len(deals)  # every deal has an event
    stale = [w for w in report.warnings if "could not be refreshed" in w]
    assert len(stale) == (flow == "failed")


def test_the_list_of_derived_events_keeps_exactly_those_not_replaced(ws, tmp_path):
    deals = [("A", "2024-01-01"), ("B", "2024-01-02"), ("C", "2024-01-03")]
    import_file(
        ws, "opportunities", write_csv(tmp_path / "d.csv", ["opportunity_id", "created_at"], deals)
    )
    listed = "SELECT opportunity_id, stage FROM _salesflow_derived_events ORDER BY 1"
    assert query(ws, listed) == [("A", "Lead"), ("B", "Lead"), ("C", "Lead")]
    header = ["opportunity_id", "stage", "entered_at"]
    some = [("A", "Lead", "2024-01-01 10:00:00"), ("B", "Qualified", "2024-01-05 10:00:00")]
    import_file(ws, "stage_events", write_csv(tmp_path / "e1.csv", header, some))
    assert query(ws, listed) == [("B", "Lead"), ("C", "Lead")]  # only A's Lead was replaced
    events = "SELECT opportunity_id, stage, entered_at::VARCHAR FROM stage_events ORDER BY ALL"
    assert query(ws, events) == [
        ("A", "Lead", "2024-01-01 10:00:00"),
        ("B", "Lead", "2024-01-02 00:00:00"),
        ("B", "Qualified", "2024-01-05 10:00:00"),
        ("C", "Lead", "2024-01-03 00:00:00"),
    ]
    rest = [("B", "Lead", "2024-01-02 09:00:00"), ("C", "Lead", "2024-01-03 09:00:00")]
    import_file(ws, "stage_events", write_csv(tmp_path / "e2.csv", header, rest))
    assert query(ws, listed) == []  # every listed event replaced: the whole list goes
    assert query(ws, events) == [
        ("A", "Lead", "2024-01-01 10:00:00"),
        ("B", "Lead", "2024-01-02 09:00:00"),
        ("B", "Qualified", "2024-01-05 10:00:00"),
        ("C", "Lead", "2024-01-03 09:00:00"),
    ]


def test_a_derived_end_event_is_replaced_by_any_end_stage_of_the_same_deal(ws, tmp_path):
    """Won and lost stand for each other: a file's Lost replaces a derived Won (the join first
    keeps only the file's rows of the listed stages, every end stage among them)."""
    deals = [("A", "2024-01-01", "2024-03-01", "won"), ("B", "2024-01-02", "2024-03-02", "won")]
    header = ["opportunity_id", "created_at", "closed_at", "outcome"]
    import_file(ws, "opportunities", write_csv(tmp_path / "d.csv", header, deals))
    listed = "SELECT opportunity_id, stage FROM _salesflow_derived_events ORDER BY ALL"
    assert query(ws, listed) == [("A", "Lead"), ("A", "Won"), ("B", "Lead"), ("B", "Won")]
    events = [("A", "Lost", "2024-03-05 10:00:00"), ("B", "Qualified", "2024-02-01 10:00:00")]
    import_file(
        ws, "stage_events",
        write_csv(tmp_path / "e.csv", ["opportunity_id", "stage", "entered_at"], events),
    )  # fmt: skip
    assert query(ws, listed) == [("A", "Lead"), ("B", "Lead"), ("B", "Won")]
    stored = "SELECT opportunity_id, stage FROM stage_events ORDER BY ALL"
    assert query(ws, stored) == [("A", "Lead"), ("A", "Lost"), ("B", "Lead"), ("B", "Qualified"),
                                 ("B", "Won")]  # fmt: skip
