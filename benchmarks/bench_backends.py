"""The same analyses on DuckDB, PostgreSQL and local Spark, side by side in one run.

One stage history (bench_flow's generator: ~3.9 events per deal) is written to a DuckDB workspace
and copied as is to a PostgreSQL one and a local Spark one (``pyspark:///spark``, ``local[2]``).
Timed on each: building the process map's derived tables (what every import pays), the process
map itself (``process_map``), and three metrics per month (win_rate, cycle_time,
new_opportunities). Every backend's results are checked against DuckDB's before a time is shown.

    .venv/bin/python benchmarks/bench_backends.py --events 1000000
    .venv/bin/python benchmarks/bench_backends.py --events 50000 --backends duckdb,spark

PostgreSQL: the server at SALESFLOW_TEST_PG (default postgresql://postgres@127.0.0.1:5432); a
database is created for the run and dropped after. A backend that cannot run is reported, not
timed.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_flow import load_duckdb

PG_SERVER = os.environ.get("SALESFLOW_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
METRICS = ("win_rate", "cycle_time", "new_opportunities")
TABLES = ("opportunities", "stage_events")


def _pg_database() -> tuple[str, str]:
    import psycopg

    name = f"salesflow_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name, f"{PG_SERVER}/{name}".replace("postgresql://", "postgres://")


def _drop_pg(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _closed(ws) -> None:
    """Give the deals outcomes and close times from their last event, in DuckDB SQL."""
    ws.data.con.execute(
        """UPDATE opportunities o SET outcome = l.outcome, closed_at = l.closed_at,
               amount = 1000 + (hash(o.opportunity_id) % 9000)
           FROM (SELECT opportunity_id, max(entered_at) AS closed_at,
                        CASE arg_max(stage, entered_at) WHEN 'Won' THEN 'won'
                             WHEN 'Lost' THEN 'lost' ELSE 'open' END AS outcome
                 FROM stage_events GROUP BY opportunity_id) l
           WHERE o.opportunity_id = l.opportunity_id"""
    )
    ws.data.con.execute(
        "UPDATE opportunities SET closed_at = NULL WHERE outcome = 'open'; "
        "UPDATE opportunities o SET created_at = f.first FROM (SELECT opportunity_id, "
        "min(entered_at) AS first FROM stage_events GROUP BY opportunity_id) f "
        "WHERE o.opportunity_id = f.opportunity_id"
    )


def analyses(con, settings) -> tuple[dict[str, float], dict]:
    from salesflow import derived, metrics
    from salesflow.metrics.process_map import process_map

    times, results = {}, {}
    start = time.perf_counter()
    derived.refresh(con, settings)
    times["build flow tables"] = time.perf_counter() - start
    start = time.perf_counter()
    results["map"] = process_map(con, settings)
    times["process map"] = time.perf_counter() - start
    for metric in METRICS:
        start = time.perf_counter()
        results[metric] = metrics.series(con, settings, metric, period="month")
        times[metric] = time.perf_counter() - start
    return times, results


def _points(series) -> list[tuple]:
    return [(str(p.period), p.value, p.n) for p in series.points]


def agree(a: dict, b: dict) -> list[str]:
    """Differences between two backends' results (empty: they agree)."""
    problems = []
    for metric in METRICS:
        pa_, pb = _points(a[metric]), _points(b[metric])
        if len(pa_) != len(pb):
            problems.append(f"{metric}: {len(pa_)} against {len(pb)} periods")
            continue
        for x, y in zip(pa_, pb, strict=True):
            same = x[0] == y[0] and x[2] == y[2]
            if x[1] is None or y[1] is None:
                same = same and x[1] is None and y[1] is None
            else:
                same = same and math.isclose(x[1], y[1], rel_tol=1e-9, abs_tol=1e-12)
            if not same:
                problems.append(f"{metric}: {x} against {y}")
                break
    problems += _differences(a["map"], b["map"], "process map")
    return problems


def _differences(a, b, path: str) -> list[str]:
    """Where two JSON-like documents differ (floats to 1e-9 relative)."""
    if isinstance(a, float) or isinstance(b, float):
        ok = isinstance(a, int | float) and isinstance(b, int | float)
        return [] if ok and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) else [f"{path}: {a} {b}"]
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        return [d for k in a for d in _differences(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _differences(x, y, f"{path}[{i}]")
        ]
    return [] if a == b else [f"{path}: {a!r} {b!r}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--backends", default="duckdb,postgres,spark")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    wanted = args.backends.split(",")

    from salesflow.workspace import Workspace, init_workspace

    root = Path(tempfile.mkdtemp(prefix="salesflow-bench-backends-"))
    with init_workspace(root / "duckdb") as ws:
        n = load_duckdb(ws.data.con, args.events, args.seed)
        _closed(ws)
        data = {t: ws.data.table(t).to_pyarrow() for t in TABLES}
    print(f"{n:,} stage events, {data['opportunities'].num_rows:,} deals", flush=True)

    rows, reference, pg_name = {}, None, None
    try:
        for backend in ("duckdb", "postgres", "spark"):
            if backend not in wanted:
                continue
            try:
                if backend == "duckdb":
                    path = root / "duckdb"
                else:
                    if backend == "postgres":
                        pg_name, url = _pg_database()
                    else:
                        url = "pyspark:///spark"
                    path = root / backend
                    start = time.perf_counter()
                    with init_workspace(path, data_url=url) as ws:
                        for table, rows_ in data.items():
                            ws.data.create_table(table, rows_, overwrite=True)
                    print(f"{backend}: loaded in {time.perf_counter() - start:.1f} s", flush=True)
                with Workspace.open(path, read_only=False) as ws:
                    times, results = analyses(ws.data, ws.settings)
            except Exception as exc:
                print(f"{backend}: not run ({type(exc).__name__}: {exc})", flush=True)
                continue
            if reference is None:
                reference = results
            else:
                problems = agree(reference, results)
                if problems:
                    print(f"{backend} DISAGREES with duckdb: {problems[:3]}")
                    return 1
            rows[backend] = times
            print(
                f"{backend}: " + ", ".join(f"{k} {v:.2f} s" for k, v in times.items()), flush=True
            )
    finally:
        if pg_name:
            _drop_pg(pg_name)
    steps = list(next(iter(rows.values()))) if rows else []
    print("\n| step | " + " | ".join(rows) + " |")
    print("|---|" + "---:|" * len(rows))
    for step in steps:
        print(f"| {step} | " + " | ".join(f"{rows[b][step]:.2f} s" for b in rows) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
