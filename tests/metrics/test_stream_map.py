"""The value-stream map (WIP, throughput, time in stage, rework, loss, work) against an independent
pandas computation on a generated log, counted at an as-of moment inside the data: events after
it are not yet known, a stay that ended after it is still open, a deal closed after it is WIP."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pandas as pd
import pytest

from salesflow.metrics.process_map import process_map
from salesflow.metrics.stream_map import ACTIVITY_MINUTES

OPEN = ["Lead", "Qualified", "Discovery", "Proposal", "Negotiation"]
AS_OF = datetime(2024, 9, 18, 13, 30)  # a Wednesday: the window ends on Monday 16 September
START = datetime(2024, 1, 1, 8)


def generated_log(seed: int, n: int = 400) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Deals walking the stages (forward, sometimes back, sometimes lost), their opportunities
    (closed when they reach Won or Lost) and activities during their lives."""
    rng = random.Random(seed)
    events, opps, acts = [], [], []
    for i in range(n):
        deal = f"D{i:04d}"
        at = START + timedelta(hours=rng.randrange(0, 24 * 300))
        pos, closed = 0, None
        for _ in range(rng.randrange(1, 9)):
            events.append((deal, OPEN[pos] if pos >= 0 else "Lost", at))
            for _ in range(rng.randrange(0, 4)):
                acts.append(
                    (
                        deal,
                        rng.choice(list(ACTIVITY_MINUTES)),
                        at + timedelta(hours=rng.random() * 90),
                    )
                )
            at += timedelta(
                hours=rng.choice([3, 20, 50, 120, 300, 900]), minutes=rng.randrange(1, 60)
            )
            step = rng.random()
            if step < 0.12:
                events.append((deal, "Lost", at))
                closed = ("lost", at)
                break
            if step < 0.22 and pos > 0:
                pos -= 1
            elif pos == len(OPEN) - 1:
                events.append((deal, "Won", at))
                closed = ("won", at)
                break
            else:
                pos += 1
        opps.append((deal, START, closed[1] if closed else None, closed[0] if closed else "open"))
    ev = pd.DataFrame(events, columns=["opportunity_id", "stage", "entered_at"])
    op = pd.DataFrame(opps, columns=["opportunity_id", "created_at", "closed_at", "outcome"])
    ac = pd.DataFrame(acts, columns=["opportunity_id", "type", "occurred_at"])
    ac.insert(0, "activity_id", [f"A{i}" for i in range(len(ac))])
    ac["owner"] = "Ann"
    return ev.drop_duplicates(["opportunity_id", "entered_at"]), op, ac


def load(ws, ev: pd.DataFrame, op: pd.DataFrame, ac: pd.DataFrame) -> None:
    con = ws.data.con
    for name, frame in (("stage_events", ev), ("opportunities", op), ("activities", ac)):
        con.register("_rows", frame)
        cols = ", ".join(frame.columns)
        con.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM _rows")
        con.unregister("_rows")


def oracle(ev: pd.DataFrame, op: pd.DataFrame, ac: pd.DataFrame) -> dict[str, dict]:
    """The same figures, computed straight from the rows with pandas."""
    known = ev[ev["entered_at"] <= AS_OF].sort_values(["opportunity_id", "entered_at"])
    full = ev.sort_values(["opportunity_id", "entered_at"]).copy()
    full["next_at"] = full.groupby("opportunity_id")["entered_at"].shift(-1)
    full["next_stage"] = full.groupby("opportunity_id")["stage"].shift(-1)
    stays = full.loc[known.index]
    ended = stays["next_at"].notna() & (stays["next_at"] <= AS_OF)
    closed = set(op.loc[op["closed_at"].notna() & (op["closed_at"] <= AS_OF), "opportunity_id"])
    wip = stays[~ended & stays["stage"].isin(OPEN) & ~stays["opportunity_id"].isin(closed)]
    end = datetime(2024, 9, 16)
    start = end - timedelta(weeks=12)
    done = stays[ended & (stays["next_at"] >= start) & (stays["next_at"] < end)].copy()
    done["hours"] = (done["next_at"] - done["entered_at"]).dt.total_seconds() / 3600
    order = {s: k for k, s in enumerate(OPEN)}
    done["back"] = done["next_stage"].map(order).fillna(99) < done["stage"].map(order)
    done["back"] |= done["next_stage"] == done["stage"]
    done["work"] = [_work(ac, r) for r in done.itertuples()]
    out = {}
    for stage in OPEN:
        mine = done[done["stage"] == stage]
        out[stage] = {
            "wip": int((wip["stage"] == stage).sum()),
            "throughput_per_week": len(mine) / 12,
            "time_median": mine["hours"].median(),
            "time_p85": mine["hours"].quantile(0.85),
            "rework_share": mine["back"].mean(),
            "loss_share": (mine["next_stage"] == "Lost").mean(),
            "work_share": mine["work"].sum() / mine["hours"].sum(),
        }
    return out


def _work(ac: pd.DataFrame, stay) -> float:
    """Hours of standard activity time inside one stay, at most the stay's length."""
    mine = ac[(ac["opportunity_id"] == stay.opportunity_id)]
    mine = mine[(mine["occurred_at"] >= stay.entered_at) & (mine["occurred_at"] < stay.next_at)]
    return min(mine["type"].map(ACTIVITY_MINUTES).sum() / 60, stay.hours)


@pytest.mark.parametrize("portable", [False, True], ids=["sql", "ibis"])
@pytest.mark.parametrize("seed", [1, 2])
def test_stage_figures_equal_pandas(workspace, seed, portable):
    """Both paths: plain SQL on DuckDB, and Ibis (any backend, filters)."""
    ev, op, ac = generated_log(seed)
    load(workspace, ev, op, ac)
    doc = process_map(workspace.data, workspace.settings, as_of=AS_OF, portable=portable)
    assert doc["window"] == {
        "start": "2024-06-24T00:00:00",
        "end": "2024-09-16T00:00:00",
        "weeks": 12,
    }
    expected = oracle(ev, op, ac)
    stages = {s["stage"]: s for s in doc["stages"]}
    assert sum(e["wip"] for e in expected.values()) > 20  # the check has something to count
    for stage, want in expected.items():
        got = stages[stage]
        assert got["wip"] == want["wip"], stage
        for key in (
            "throughput_per_week",
            "time_median",
            "time_p85",
            "rework_share",
            "loss_share",
            "work_share",
        ):
            assert got[key] == pytest.approx(want[key], rel=1e-8), (stage, key)
    assert "work_share" not in stages["Won"] and "wip" not in stages["Lost"]


def test_littles_law_holds_on_a_steady_stream_and_is_explained(workspace):
    """A steady stream: WIP ≈ throughput × mean time; each stage says so in a sentence."""
    ev, op, ac = generated_log(3, n=600)
    load(workspace, ev, op, ac)
    doc = process_map(workspace.data, workspace.settings, as_of=AS_OF)
    for s in doc["stages"]:
        if s["stage"] in OPEN:
            law = s["littles_law"]
            assert law["expected_wip"] == pytest.approx(
                s["throughput_per_week"] * s["time_mean"] / 168
            )
            assert law["sentence"].startswith(f"{s['wip']:,} in the stage")


def test_without_activities_no_work_share(workspace):
    ev, op, ac = generated_log(4, n=100)
    load(workspace, ev, op, ac.iloc[:0])
    doc = process_map(workspace.data, workspace.settings, as_of=AS_OF)
    assert doc["flow_efficiency"] is None
    assert all("work_share" not in s for s in doc["stages"])


def test_recorded_durations_and_standard_minutes_from_the_settings(workspace):
    """``duration_minutes`` on the activities wins; otherwise ``[flow] activity_minutes``."""
    from dataclasses import replace

    from salesflow.errors import ConfigError

    ev, op, ac = generated_log(5, n=200)
    load(workspace, ev, op, ac)
    doubled = {k: 2 * v for k, v in ACTIVITY_MINUTES.items()}
    settings = replace(workspace.settings, raw={"flow": {"activity_minutes": doubled}})
    base = process_map(workspace.data, workspace.settings, as_of=AS_OF)
    more = process_map(workspace.data, settings, as_of=AS_OF)
    assert more["flow_efficiency"] > base["flow_efficiency"]
    bad = replace(workspace.settings, raw={"flow": {"activity_minutes": {"call": "long"}}})
    with pytest.raises(ConfigError, match="activity_minutes"):
        process_map(workspace.data, bad, as_of=AS_OF)
    con = workspace.data.con
    con.execute("ALTER TABLE activities ADD COLUMN duration_minutes DOUBLE")
    con.execute(
        "UPDATE activities SET duration_minutes = CASE type WHEN 'call' THEN 30 WHEN 'email' "
        "THEN 10 WHEN 'meeting' THEN 120 WHEN 'demo' THEN 120 ELSE 240 END"
    )
    recorded = process_map(workspace.data, workspace.settings, as_of=AS_OF)
    assert recorded["work_basis"] == "the activities' recorded durations"
    assert recorded["flow_efficiency"] == pytest.approx(more["flow_efficiency"], rel=1e-12)


def test_no_stage_history_claims_no_throughput(workspace):
    load(workspace, *(f.iloc[:0] for f in generated_log(7, n=1)))
    doc = process_map(workspace.data, workspace.settings, as_of=AS_OF)
    assert doc["window"]["weeks"] == 0
    assert all(
        s["throughput_per_week"] is None and s["wip"] == 0 for s in doc["stages"] if "wip" in s
    )


@pytest.mark.parametrize("case", ["activities", "recorded minutes", "no activities", "fresh"])
def test_sql_and_ibis_paths_give_the_same_map(workspace, case):
    """On DuckDB the map is plain SQL; Ibis (other backends, filters) must give the same document
    to the last bit: stored flow tables or the temporary ones a reader of stale tables builds."""
    from salesflow import derived

    ev, op, ac = generated_log(8, n=300)
    load(workspace, ev, op, ac.iloc[:0] if case == "no activities" else ac)
    con = workspace.data.con
    if case == "recorded minutes":
        con.execute("ALTER TABLE activities ADD COLUMN duration_minutes DOUBLE")
        con.execute("UPDATE activities SET duration_minutes = length(activity_id) * 7.5")
    if case == "fresh":
        derived.refresh(workspace.data, workspace.settings)
    stored_fresh = []
    for as_of in (AS_OF, None):  # a chosen moment, and the data's own (its latest timestamp)
        sql = process_map(workspace.data, workspace.settings, as_of=as_of)
        ibis_ = process_map(workspace.data, workspace.settings, as_of=as_of, portable=True)
        stored_fresh.append(sql.pop("derived_fresh"))
        ibis_.pop("derived_fresh")  # the first call's temporary tables are fresh for the second
        assert sql == ibis_
        assert any(s.get("wip") for s in sql["stages"]) and any(
            s.get("left") for s in sql["stages"]
        )
        assert (sql["flow_efficiency"] is None) == (case == "no activities")
    assert stored_fresh[0] == (case == "fresh")
