"""Ideas for issue 22 measured but not built: what each would save, on bench_flow's history.

1. The flow build's three large steps as today (deals keyed by their text id) against an integer
   deal key taken in the same window pass (``first_value(rowid)``).
2. Deals' outcomes from their last event: aggregated from every event (today, as an import of
   whole histories does) against read from ``flow_cases`` (a fusion of outcomes and refresh).

Each variant runs ``--repeat`` times, alternating; the updates of (2) are rolled back.

    .venv/bin/python benchmarks/explore_import.py --events 10000000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_flow import STAGES, load_duckdb

_TRANSITION = (
    "seq::INTEGER AS seq, code::SMALLINT AS from_code, next_code::SMALLINT AS to_code, "
    "entered_at AS from_at, next_at AS to_at, round(epoch_us(next_at) / 1000.0)::BIGINT "
    "- round(epoch_us(entered_at) / 1000.0)::BIGINT AS duration_ms, "
    "(next_code < code OR next_code = code) AS is_rework"
)
_KEYS = (
    "sum(CASE WHEN seq <= 42 THEN (code + 1)::HUGEINT << (3 * (seq - 1)) END) AS pkey, "
    "min(entered_at) AS first_at, max(entered_at) AS last_at, "
    "max(code) FILTER (WHERE seq = 1) AS first_code, "
    "max(code) FILTER (WHERE next_code IS NULL) AS last_code, count(*)::INTEGER AS n_events, "
    "count(*) FILTER (WHERE next_code < code OR next_code = code)::INTEGER AS n_rework, "
    "bit_xor(hash(seq, code, entered_at)) AS checksum"
)
_WINDOW = (
    "s.code, e.entered_at, row_number() OVER w AS seq, lead(s.code) OVER w AS next_code, "
    "lead(e.entered_at) OVER w AS next_at FROM stage_events e JOIN _x_stages s USING (stage) "
    "WINDOW w AS (PARTITION BY e.opportunity_id ORDER BY e.entered_at, s.code)"
)
BUILDS = {
    "text deal id (today)": [
        f"CREATE OR REPLACE TEMP TABLE _x_ev AS SELECT e.opportunity_id, {_WINDOW}",
        f"CREATE OR REPLACE TABLE _x_tr AS SELECT opportunity_id, {_TRANSITION} "
        "FROM _x_ev WHERE next_code IS NOT NULL",
        f"CREATE OR REPLACE TEMP TABLE _x_keys AS SELECT opportunity_id, {_KEYS} "
        "FROM _x_ev GROUP BY opportunity_id",
    ],
    "integer deal key": [
        "CREATE OR REPLACE TEMP TABLE _x_ev AS SELECT e.opportunity_id, "
        f"first_value(e.rowid) OVER w AS deal, {_WINDOW}",
        f"CREATE OR REPLACE TABLE _x_tr AS SELECT deal::INTEGER AS deal, {_TRANSITION} "
        "FROM _x_ev WHERE next_code IS NOT NULL",
        "CREATE OR REPLACE TEMP TABLE _x_keys AS SELECT deal, any_value(opportunity_id) "
        f"AS opportunity_id, {_KEYS} FROM _x_ev GROUP BY deal",
    ],
}


def _outcome_updates() -> dict[str, str]:
    names = "[" + ", ".join(f"'{s}'" for s in STAGES) + "]"
    rank = "CASE stage " + " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(STAGES)) + " END"
    n = len(STAGES) + 1
    aggregated = (
        f"SELECT opportunity_id, {names}[CAST(k % {n} AS INTEGER) + 1] AS stage, "
        f"make_timestamp(k // {n} + epoch_us(TIMESTAMP '1900-01-01')) AS entered_at FROM "
        f"(SELECT opportunity_id, max((epoch_us(entered_at) - epoch_us(TIMESTAMP '1900-01-01')) "
        f"* {n} + {rank}) AS k FROM stage_events GROUP BY opportunity_id)"
    )
    from_cases = "SELECT opportunity_id, last_stage AS stage, last_at AS entered_at FROM flow_cases"
    update = (
        "UPDATE opportunities SET stage = l.stage, closed_at = CASE WHEN l.stage IN "
        "('Won', 'Lost') THEN l.entered_at END, outcome = CASE l.stage WHEN 'Won' THEN 'won' "
        "WHEN 'Lost' THEN 'lost' ELSE 'open' END FROM ({}) l "
        "WHERE opportunities.opportunity_id = l.opportunity_id"
    )
    return {
        "outcomes aggregated from every event (today)": update.format(aggregated),
        "outcomes read from flow_cases": update.format(from_cases),
    }


def _seconds(con: object, statements: list[str], *, rollback: bool = False) -> float:
    started = time.perf_counter()
    if rollback:
        con.execute("BEGIN TRANSACTION")
    for statement in statements:
        con.execute(statement)
    took = time.perf_counter() - started
    if rollback:
        con.execute("ROLLBACK")
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from salesflow import derived
    from salesflow.derived import MEMORY_LIMIT
    from salesflow.workspace import init_workspace

    with tempfile.TemporaryDirectory() as tmp, init_workspace(Path(tmp) / "ws") as ws:
        con = ws.data.con
        n = load_duckdb(con, args.events)
        derived.refresh(ws.data, ws.settings)
        con.execute("CHECKPOINT")
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")  # as the build runs
        con.execute("SET preserve_insertion_order = false")
        codes = ", ".join(f"('{s}', {i})" for i, s in enumerate(STAGES))
        con.execute(f"CREATE TEMP TABLE _x_stages AS SELECT * FROM (VALUES {codes}) v(stage, code)")
        runs: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            for label, statements in BUILDS.items():
                runs.setdefault(label, []).append(_seconds(con, statements))
            for label, statement in _outcome_updates().items():
                runs.setdefault(label, []).append(_seconds(con, [statement], rollback=True))
    print(f"explore_import: {n:,} events, {args.repeat} alternating runs each (seconds)")
    for label, seconds in runs.items():
        listed = ", ".join(f"{s:.2f}" for s in seconds)
        print(f"  {label:46} median {sorted(seconds)[len(seconds) // 2]:6.2f}   ({listed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
