"""Incremental refresh of the flow tables against a full rebuild, in one run on one workspace.

Builds a workspace of about ``--events`` stage events (bench_flow's generator), times a full
``derived.refresh``, then appends ``--share`` new events (half to existing deals, after their last
event; half as new deals), and times ``derived.refresh(changed=those deals)`` as the importer
calls it, and again handed the appended rows too (``added=``, as the importer does when it only
inserted rows); each the best of ``--repeat`` runs, each run from a checkpointed file as an
import leaves it. Before the append it times the check an import makes before it may update
(is the stored fingerprint still true?) on the sealed file an import leaves, and by the full
checksum; "as an import" adds that check to the update. The incremental result is checked to
equal a full rebuild before the ratio is printed.

    .venv/bin/python benchmarks/bench_refresh.py --events 1000000
    .venv/bin/python benchmarks/bench_refresh.py --events 1000000 --profile   # seconds per statement
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_flow import STAGES, load_duckdb

_STATE = (
    "SELECT c.* EXCLUDE (variant_id), v.codes FROM flow_cases c "
    "JOIN flow_variants v USING (variant_id) ORDER BY opportunity_id",
    "SELECT * FROM flow_transitions ORDER BY opportunity_id, seq",
    "SELECT codes, n_cases FROM flow_variants ORDER BY codes",
    "SELECT * FROM flow_stages ORDER BY code",
)


def append_events(con: object, share: float, seed: int = 11) -> object:
    """Append ``share`` of the events as new ones; return the touched deal ids (Arrow)."""
    n = con.execute("SELECT count(*) FROM stage_events").fetchone()[0]
    k = max(2, int(n * share))
    names = ", ".join(f"'{s}'" for s in STAGES)
    con.execute(f"SELECT setseed({seed / 100})")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _bench_new AS
        WITH last AS (SELECT opportunity_id, max(entered_at) AS last_at FROM stage_events
                      GROUP BY opportunity_id),
             picked AS (SELECT * FROM last USING SAMPLE {k // 2} ROWS)
        SELECT opportunity_id, ([{names}])[1 + (random() * 7)::INT % 7] AS stage,
               last_at + INTERVAL 1 DAY AS entered_at FROM picked
        UNION ALL
        SELECT 'N' || lpad(i::VARCHAR, 8, '0'), ([{names}])[1 + i % 7],
               TIMESTAMP '2024-06-01' + to_hours(i % 97) FROM range({k - k // 2}) t(i)"""
    )
    con.execute(
        "INSERT INTO opportunities (opportunity_id, created_at, outcome) SELECT DISTINCT "
        "opportunity_id, TIMESTAMP '2024-06-01', 'open' FROM _bench_new "
        "WHERE opportunity_id LIKE 'N%'"
    )
    con.execute(
        "INSERT INTO stage_events (opportunity_id, stage, entered_at) SELECT * FROM _bench_new"
    )
    return con.execute("SELECT DISTINCT opportunity_id FROM _bench_new").to_arrow_table()


def save_flow(con: object, back: bool = False) -> None:
    """Copy the flow tables aside (``back``: put the copies back), untimed: a refresh handed
    the new rows may run once per append, so each repeat starts from the tables before it."""
    from salesflow.derived import FLOW_TABLES

    for t in FLOW_TABLES:
        src, dst = (f"_bench_{t}", t) if back else (t, f"_bench_{t}")
        con.execute(f"CREATE OR REPLACE TABLE {dst} AS SELECT * FROM {src}")


def profile_statements() -> None:
    """Print each statement's seconds of the incremental update (wraps its statement runner)."""
    from salesflow.derived import duckdb_build

    run = duckdb_build._execute

    def timed(raw: object, statement: str) -> object:
        t, c = time.perf_counter(), time.process_time()
        out = run(raw, statement)
        t, c = time.perf_counter() - t, time.process_time() - c
        print(f"    {t:7.3f} s  CPU {c:6.3f} s  {' '.join(statement.split())[:80]}")
        return out

    duckdb_build._execute = timed


def freshness_checks(ws: object, repeat: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """What the importer pays before it may update rather than rebuild: is the stored fingerprint
    still true of ``stage_events``? Timed on the file as an import leaves it (checkpointed,
    sealed), once on the seal's word and once by the full checksum (no seal)."""
    from salesflow import derived
    from salesflow.derived.seal import SEAL_SUFFIX, write_seal

    con, file = ws.data.con, ws.data_file
    con.execute("CHECKPOINT")
    stored = con.execute("SELECT fingerprint FROM flow_meta").fetchone()[0]
    catalog = con.execute("SELECT current_database()").fetchone()[0]
    write_seal(file, stored)
    sealed = timed(derived.is_fresh_attached, con, ws.settings, catalog, repeat=repeat)
    assert derived.is_fresh_attached(con, ws.settings, catalog), "the seal was not trusted"
    file.with_name(file.name + SEAL_SUFFIX).unlink()
    summed = timed(derived.is_fresh_attached, con, ws.settings, catalog, repeat=repeat)
    return sealed, summed


def timed(
    fn: object, *args: object, repeat: int = 1, before: object = None, **kw: object
) -> tuple[float, float]:
    """Best of ``repeat`` runs (a refresh repeated on unchanged data does the same work): wall
    seconds and the process's CPU seconds (all of DuckDB's threads) of that run. CPU time is what
    to compare on a loaded machine, where the wall time depends on the other processes.
    ``before`` runs untimed ahead of each run."""
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        if before is not None:
            before()
        t, c = time.perf_counter(), time.process_time()
        fn(*args, **kw)
        best = min(best, (time.perf_counter() - t, time.process_time() - c))
    return best


def checkpointed(con: object) -> object:
    """Fold the write-ahead log into the file before a timed refresh, as an import leaves it
    (``load.rows_written`` checkpoints after writing the rows): otherwise whether a refresh's
    commit crosses DuckDB's 16 MiB threshold and checkpoints inside the timing depends on what
    the runs before it left in the log."""
    return lambda: con.execute("CHECKPOINT")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--share", type=float, default=0.01, help="new events as a share of all")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs of each")
    ap.add_argument("--profile", action="store_true", help="seconds per incremental statement")
    args = ap.parse_args()
    from salesflow import derived
    from salesflow.workspace import init_workspace

    with tempfile.TemporaryDirectory() as tmp, init_workspace(Path(tmp) / "ws") as ws:
        con = ws.data.con
        n = load_duckdb(con, args.events)
        derived.refresh(ws.data, ws.settings)  # warm-up: files and caches as after an import
        ready = checkpointed(con)
        full = timed(derived.refresh, ws.data, ws.settings, repeat=args.repeat, before=ready)
        checks = freshness_checks(ws, repeat=args.repeat)
        save_flow(con)
        changed = append_events(con, args.share)
        rows = con.execute("SELECT * FROM _bench_new").to_arrow_table()
        if args.profile:
            profile_statements()
            print("  incremental, deal ids only:")
        part = timed(
            derived.refresh, ws.data, ws.settings, changed=changed, repeat=args.repeat, before=ready
        )
        fresh = derived.is_fresh(ws.data, ws.settings)
        incremental = [con.execute(q).fetchall() for q in _STATE]
        # the importer's way when it only inserted rows: the ids and the rows it wrote
        handed = (float("inf"), float("inf"))
        for _ in range(args.repeat):  # each run starts from the tables before the append
            save_flow(con, back=True)
            if args.profile:
                print("  incremental, rows handed:")
            run = timed(
                derived.refresh, ws.data, ws.settings, changed=changed, added=rows, before=ready
            )
            handed = min(handed, run)
        fresh = fresh and derived.is_fresh(ws.data, ws.settings)
        by_rows = [con.execute(q).fetchall() for q in _STATE]
        again, _ = timed(derived.refresh, ws.data, ws.settings, before=ready)
        rebuilt = [con.execute(q).fetchall() for q in _STATE]
        same = incremental == rebuilt and by_rows == rebuilt
    (full, full_cpu), (part, part_cpu), (hand, hand_cpu) = full, part, handed
    print(f"bench_refresh: {n:,} events, +{args.share:.1%} new ({changed.num_rows:,} deals)")
    print(
        f"  full rebuild (best of {args.repeat})        {full:8.3f} s  CPU {full_cpu:7.3f} s"
        f"  (after the append: {again:.3f} s)"
    )
    print(f"  incremental refresh (best of {args.repeat}) {part:8.3f} s  CPU {part_cpu:7.3f} s")
    print(f"  incremental / full rebuild      {part / full:8.1%}      {part_cpu / full_cpu:7.1%}")
    print(f"  rows handed (best of {args.repeat})        {hand:8.3f} s  CPU {hand_cpu:7.3f} s")
    print(f"  rows handed / full rebuild      {hand / full:8.1%}      {hand_cpu / full_cpu:7.1%}")
    (seal, seal_cpu), (summed, summed_cpu) = checks
    print(f"  freshness check, sealed file    {seal:8.3f} s  CPU {seal_cpu:7.3f} s"
          f"  (by the full checksum: {summed:.3f} s, CPU {summed_cpu:.3f} s)")  # fmt: skip
    both, both_cpu = seal + hand, seal_cpu + hand_cpu
    print(f"  as an import: check + rows handed / full rebuild {both / full:8.1%}"
          f"      {both_cpu / full_cpu:7.1%}")  # fmt: skip
    print(f"  equal to a full rebuild: {same}; fresh afterwards: {fresh}")
    return 0 if same and fresh else 1


if __name__ == "__main__":
    sys.exit(main())
