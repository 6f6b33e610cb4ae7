"""The process map against PM4Py, the independent oracle (its DFG, performance DFG, variants and
case durations), on random stage histories with ties, rework, single-event deals and a stage
missing from the settings.

Ties: salesflow orders equal timestamps by the configured stage order. PM4Py orders them by row
position (``format_dataframe`` sorts by case, timestamp and original index; its later sorts are
stable), so the oracle gets the rows already sorted by case, time and stage rank.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from salesflow.metrics.process_map import process_map

pm4py = pytest.importorskip("pm4py")

START = datetime(2024, 1, 1, 9)


def random_log(seed: int, n_cases: int = 300) -> pd.DataFrame:
    """Stage events of ``n_cases`` deals: random walks over the stages, many equal timestamps."""
    rng = random.Random(seed)
    stages = ["Lead", "Qualified", "Discovery", "Proposal", "Negotiation", "Won", "Lost", "Parked"]
    rows = []
    for i in range(n_cases):
        at = START + timedelta(minutes=rng.randrange(0, 500_000))
        pos, seen = 0, set()
        for k in range(rng.choice([1, 1, 2, 3, 4, 5, 6, 9])):
            if k:
                pos = max(0, min(len(stages) - 1, pos + rng.choice([1, 1, 1, 2, 0, -1, -2, 5])))
                at += timedelta(minutes=rng.choice([0, 0, 1, 90, 600, 4_000, 20_000]))
            if (stages[pos], at) not in seen:  # the canonical key forbids exact duplicates
                seen.add((stages[pos], at))
                rows.append((f"D{i:04d}", stages[pos], at))
    return pd.DataFrame(rows, columns=["opportunity_id", "stage", "entered_at"])


def load(workspace, log: pd.DataFrame, owners: dict[str, str] | None = None) -> None:
    con = workspace.data.con
    con.register("_log", log)
    con.execute("INSERT INTO stage_events (opportunity_id, stage, entered_at) SELECT * FROM _log")
    ids = pd.DataFrame({"opportunity_id": sorted(set(log["opportunity_id"]))})
    ids["owner"] = [
        (owners or {}).get(i, "Ann" if n % 3 else "Ben")
        for n, i in enumerate(ids["opportunity_id"])
    ]
    con.register("_ids", ids)
    con.execute(
        "INSERT INTO opportunities (opportunity_id, owner, created_at) "
        "SELECT opportunity_id, owner, TIMESTAMP '2024-01-01' FROM _ids"
    )


def pm4py_log(log: pd.DataFrame, settings) -> pd.DataFrame:
    ordered = log.assign(rank=log["stage"].map(settings.stages.rank))
    ordered = ordered.sort_values(["opportunity_id", "entered_at", "rank", "stage"], kind="stable")
    return pm4py.format_dataframe(
        ordered.reset_index(drop=True).drop(columns="rank"),
        case_id="opportunity_id", activity_key="stage", timestamp_key="entered_at",
    )  # fmt: skip


@pytest.fixture(params=[(1, "stale"), (2, "stale"), (3, "stale"), (1, "fresh"), (2, "fresh")])
def oracle_case(request, workspace):
    """Stale derived tables take the Ibis path; fresh ones on DuckDB the plain SQL path."""
    seed, state = request.param
    log = random_log(seed)
    load(workspace, log)
    if state == "fresh":
        from salesflow.derived import refresh

        refresh(workspace.data, workspace.settings)
    return workspace, log, pm4py_log(log, workspace.settings)


def test_edges_equal_pm4py_dfg_and_performance_dfg(oracle_case):
    ws, _, df = oracle_case
    doc = process_map(ws.data, ws.settings)
    dfg, _, _ = pm4py.discover_dfg(df)
    perf, _, _ = pm4py.discover_performance_dfg(df)
    ours = {(e["from"], e["to"]): e for e in doc["edges"]}
    assert {k: e["count"] for k, e in ours.items()} == dict(dfg)
    for key, stats in perf.items():
        assert ours[key]["mean_hours"] == pytest.approx(stats["mean"] / 3600, rel=1e-12)
        assert ours[key]["median_hours"] == pytest.approx(stats["median"] / 3600, rel=1e-12)


def test_variants_equal_pm4py_variants(oracle_case):
    ws, _, df = oracle_case
    doc = process_map(ws.data, ws.settings, top=10_000)
    expected = {
        tuple(k): int(v if isinstance(v, int) else len(v))
        for k, v in pm4py.get_variants(df).items()
    }
    assert {tuple(v["stages"]): v["count"] for v in doc["variants"]} == expected
    counts = [v["count"] for v in doc["variants"]]
    assert counts == sorted(counts, reverse=True)
    assert sum(v["share"] for v in doc["variants"]) == pytest.approx(1)


def test_case_durations_equal_pm4py(oracle_case):
    ws, _, df = oracle_case
    doc = process_map(ws.data, ws.settings)
    durations = np.array(pm4py.get_all_case_durations(df)) / 3600
    assert doc["cases"]["count"] == len(durations) == df["case:concept:name"].nunique()
    assert doc["cases"]["median_hours"] == pytest.approx(float(np.median(durations)), rel=1e-12)
    assert doc["cases"]["mean_hours"] == pytest.approx(float(durations.mean()), rel=1e-12)


def test_stage_entries_exits_and_time_in_stage(oracle_case):
    """Checked with pandas on PM4Py's own event order: time in a stage runs to the next event."""
    ws, log, df = oracle_case
    doc = process_map(ws.data, ws.settings)
    nxt = df.groupby("case:concept:name")["time:timestamp"].shift(-1)
    hours = ((nxt - df["time:timestamp"]).dt.total_seconds() / 3600).dropna()
    stage = df.loc[hours.index, "concept:name"]
    by_stage = {s["stage"]: s for s in doc["stages"]}
    assert {s: v["entries"] for s, v in by_stage.items() if v["entries"]} == log[
        "stage"
    ].value_counts().to_dict()
    assert {
        s: v["exits"] for s, v in by_stage.items() if v["exits"]
    } == stage.value_counts().to_dict()
    for name, median in hours.groupby(stage).median().items():
        assert by_stage[name]["median_hours"] == pytest.approx(median, rel=1e-12)
    assert [s["stage"] for s in doc["stages"]][:7] == list(ws.settings.stages.all)


def test_filters_restrict_the_cases(workspace):
    log = random_log(4)
    load(workspace, log)
    ann = [i for n, i in enumerate(sorted(set(log["opportunity_id"]))) if n % 3]
    doc = process_map(workspace.data, workspace.settings, filters={"owner": ["Ann"]})
    df = pm4py_log(log[log["opportunity_id"].isin(ann)], workspace.settings)
    dfg, _, _ = pm4py.discover_dfg(df)
    assert doc["cases"]["count"] == len(ann)
    assert {(e["from"], e["to"]): e["count"] for e in doc["edges"]} == dict(dfg)
    both = process_map(workspace.data, workspace.settings, filters={"owner": ["Ann", "Ben"]})
    assert both["cases"]["count"] == log["opportunity_id"].nunique()


def test_plain_duckdb_sql_equals_the_ibis_path(workspace):
    """On fresh tables DuckDB answers in plain SQL (what a new `salesflow flow` uses); the
    portable Ibis aggregations give the very same map."""
    from salesflow.derived import refresh

    load(workspace, random_log(5))
    refresh(workspace.data, workspace.settings)
    sql = process_map(workspace.raw, workspace.settings, top=10_000)
    portable = process_map(workspace.data, workspace.settings, top=10_000, portable=True)
    assert sql["derived_fresh"] and portable["derived_fresh"]
    assert sql == portable
