"""The process map at scale: salesflow's derived tables and `flow`, against PM4Py and against a
hand-written DuckDB query, on the same stage history, in one run.

Steps timed: building the derived tables (the cost every import pays), `process_map` on the
workspace (in-process, cold connection), `salesflow flow --json` as a user runs it (a new process:
wall time and peak memory), PM4Py's five steps (format_dataframe, discover_dfg,
discover_performance_dfg, get_variants, get_all_case_durations) on a pandas DataFrame read from the
workspace, and one hand-written DuckDB SQL script over the raw ``stage_events``. All three results
are checked to agree before any ratio is printed.

    .venv/bin/python benchmarks/bench_flow.py --events 1000000
    .venv/bin/python benchmarks/bench_flow.py --events 10000000 --keep /tmp/flow10m

The history is generated here with NumPy (forward moves, skipped stages, losses, reopened deals,
moves back, repeated stages, about 2 % equal timestamps), ~3.9 events per deal.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

STAGES = ("Lead", "Qualified", "Discovery", "Proposal", "Negotiation", "Won", "Lost")
STOP = len(STAGES)

# Probability of the next stage (columns: the stages, then "no more events") from each stage.
_P = np.array(
    [
        # Lead Qual Disc Prop Nego Won  Lost stop
        [0.01, 0.62, 0.08, 0.00, 0.00, 0.00, 0.24, 0.05],  # Lead
        [0.02, 0.01, 0.60, 0.08, 0.00, 0.00, 0.24, 0.05],  # Qualified
        [0.00, 0.06, 0.01, 0.62, 0.05, 0.00, 0.21, 0.05],  # Discovery
        [0.00, 0.00, 0.08, 0.02, 0.55, 0.07, 0.23, 0.05],  # Proposal
        [0.00, 0.00, 0.00, 0.10, 0.01, 0.50, 0.34, 0.05],  # Negotiation
        [0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.01, 0.99],  # Won
        [0.00, 0.04, 0.00, 0.00, 0.00, 0.00, 0.00, 0.96],  # Lost (sometimes reopened)
    ]
)
_CUM = np.cumsum(_P / _P.sum(axis=1, keepdims=True), axis=1)
START = np.datetime64("2023-01-01T00:00:00", "s")


def generate(n_cases: int, seed: int = 7, max_steps: int = 30) -> dict[str, np.ndarray]:
    """Columns ``case`` (int64), ``stage`` (int8 index into STAGES), ``seconds`` (since START).

    About 2 % of events share their timestamp with the deal's previous event (ties).
    """
    rng = np.random.default_rng(seed)
    case = np.arange(n_cases, dtype=np.int64)
    stage = np.zeros(n_cases, dtype=np.int8)
    t = rng.integers(0, 730 * 86_400, n_cases, dtype=np.int64)
    cases, stages, times = [case], [stage], [t]
    for _ in range(max_steps):
        u = rng.random(len(case))
        nxt = (u[:, None] > _CUM[stage]).sum(axis=1)
        keep = nxt < STOP
        case, stage, t = case[keep], nxt[keep].astype(np.int8), t[keep]
        if not len(case):
            break
        gap = rng.exponential(5 * 86_400, len(case)).astype(np.int64)
        gap[rng.random(len(case)) < 0.02] = 0
        t = t + gap
        cases.append(case)
        stages.append(stage)
        times.append(t)
    return {
        "case": np.concatenate(cases),
        "stage": np.concatenate(stages),
        "seconds": np.concatenate(times),
    }


def cases_for(n_events: int, seed: int = 7) -> int:
    """How many deals give about ``n_events`` stage events (from a pilot run)."""
    pilot = generate(20_000, seed=seed + 1)
    return max(1, round(n_events * 20_000 / len(pilot["case"])))


def load_duckdb(con: object, n_events: int, seed: int = 7) -> int:
    """Write ``opportunities`` and ``stage_events`` for about ``n_events`` events into a DuckDB
    connection (the raw ``duckdb`` one) and return the number of events written."""
    import pyarrow as pa

    n_cases = cases_for(n_events, seed)
    log = generate(n_cases, seed=seed)
    con.register("_flow_log", pa.table(log))
    names = ", ".join(f"'{s}'" for s in STAGES)
    con.execute(
        f"""INSERT INTO stage_events (opportunity_id, stage, entered_at)
        SELECT 'O' || lpad(("case" + 1)::VARCHAR, 8, '0'), ([{names}])[stage + 1],
               TIMESTAMP '2023-01-01' + to_seconds(seconds)
        FROM _flow_log"""
    )
    con.unregister("_flow_log")
    segments = "['SMB', 'Mid-market', 'Enterprise']"
    owners = "['Ann', 'Ben', 'Cleo', 'Dev', 'Eli', 'Fay', 'Gus', 'Hal']"
    con.execute(
        f"""INSERT INTO opportunities (opportunity_id, owner, segment, product, created_at, outcome)
        SELECT 'O' || lpad((i + 1)::VARCHAR, 8, '0'), ({owners})[i % 8 + 1],
               ({segments})[i % 3 + 1], 'P' || (i % 5)::VARCHAR, TIMESTAMP '2023-01-01', 'open'
        FROM range({n_cases}) t(i)"""
    )
    return len(log["case"])


REFERENCE_SQL = """
WITH ev AS (
    SELECT e.opportunity_id AS c, e.stage AS a, e.entered_at AS t,
           lead(e.stage) OVER w AS b, lead(e.entered_at) OVER w AS u,
           row_number() OVER w AS i
    FROM stage_events e JOIN (SELECT * FROM (VALUES {ranks}) v(stage, rank)) r USING (stage)
    WINDOW w AS (PARTITION BY e.opportunity_id ORDER BY e.entered_at, r.rank)
)
SELECT 'edge' AS kind, a, b, count(*) AS n, avg(epoch(u) - epoch(t)) AS mean_s,
       median(epoch(u) - epoch(t)) AS median_s, NULL AS path
FROM ev WHERE b IS NOT NULL GROUP BY a, b
UNION ALL
SELECT 'variant', NULL, NULL, count(*), NULL, NULL, path FROM (
    SELECT string_agg(a, ' > ' ORDER BY i) AS path FROM ev GROUP BY c) GROUP BY path
UNION ALL
SELECT 'cases', NULL, NULL, count(*), avg(d), median(d), NULL FROM (
    SELECT epoch(max(t)) - epoch(min(t)) AS d FROM ev GROUP BY c)
"""


def timed(label: str, timings: dict[str, float], fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    timings[label] = time.perf_counter() - start
    print(f"  {label:<42} {timings[label]:8.2f} s", flush=True)
    return result


def build_workspace(path: Path, n_events: int, seed: int, timings: dict[str, float]) -> int:
    from salesflow.workspace import init_workspace

    with init_workspace(path) as ws:
        n = timed(
            "generate and load stage_events", timings, load_duckdb, ws.data.con, n_events, seed
        )
    full = refresh_in_child(path, 0.0)
    timings["derived refresh (import cost)"] = full["seconds"]
    print(
        f"  {'derived refresh, full (new process)':<42} {full['seconds']:8.2f} s, "
        f"{full['cpu']:.2f} CPU s, peak RSS {full['rss_mib']:,.0f} MiB",
        flush=True,
    )
    return n


# Changes a share of the deals' histories (every event one hour later; in its own process, so
# the edit's memory is not counted) and then refreshes the flow tables for just those deals, as
# the importer does, checking the result against a full rebuild. With share 0: a full refresh.
# Prints seconds, CPU seconds and peak RSS of the refresh.
_EDIT = """
import sys
from pathlib import Path
from salesflow.workspace import Workspace
with Workspace.open(Path(sys.argv[1]), read_only=False) as ws:
    con = ws.data.con
    con.execute("SET memory_limit = '1GB'")
    con.execute("CREATE OR REPLACE TABLE _bench_changed AS SELECT DISTINCT opportunity_id "
                f"FROM stage_events USING SAMPLE {float(sys.argv[2]) * 100}% (bernoulli, 1)")
    con.execute("UPDATE stage_events SET entered_at = entered_at + INTERVAL 1 HOUR "
                "WHERE opportunity_id IN (SELECT opportunity_id FROM _bench_changed)")
"""
_REFRESH = """
import json, resource, sys, time
from pathlib import Path
from salesflow import derived
from salesflow.workspace import Workspace
def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime
def peak_mib():  # VmHWM starts afresh at exec; ru_maxrss keeps the forking parent's size
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
with Workspace.open(Path(sys.argv[1]), read_only=False) as ws:
    con, changed = ws.data.con, None
    if float(sys.argv[2]):
        changed = con.execute("SELECT opportunity_id FROM _bench_changed").to_arrow_table()
        con.execute("DROP TABLE _bench_changed")
    t, c = time.perf_counter(), cpu()
    derived.refresh(ws.data, ws.settings, changed=changed)
    out = {"seconds": time.perf_counter() - t, "cpu": cpu() - c,
           "rss_mib": peak_mib(),
           "deals": 0 if changed is None else changed.num_rows}
    if changed is not None:
        q = ("SELECT c.* EXCLUDE (variant_id), v.codes FROM flow_cases c "
             "JOIN flow_variants v USING (variant_id) ORDER BY 1")
        before = con.execute(q).fetchall()
        derived.refresh(ws.data, ws.settings)
        out["agrees_with_full_rebuild"] = before == con.execute(q).fetchall()
print(json.dumps(out))
"""


def refresh_in_child(path: Path, share: float) -> dict:
    """``derived.refresh`` in a new process (its own CPU time and peak memory); ``share`` > 0
    first changes that share of the deals and refreshes only them."""
    if share:
        subprocess.run([sys.executable, "-c", _EDIT, str(path), str(share)], check=True)
    cmd = [sys.executable, "-c", _REFRESH, str(path), str(share)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


# Runs the CLI from a small intermediate Python, so the child's peak RSS is its own and not a
# copy of this (large) process's memory at fork time.
_MEASURE = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "subprocess.run(sys.argv[1:], check=True, capture_output=True)\n"
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def run_cli(path: Path, timings: dict[str, float]) -> float:
    """`salesflow flow --json` as a user runs it, in a new process: wall time and peak RSS (MiB)."""
    exe = str(Path(sys.executable).parent / "salesflow")
    label = "salesflow flow --json (new process)"
    cmd = [sys.executable, "-c", _MEASURE, exe, "flow", "--json", "-w", str(path)]
    seconds, rss_kib = subprocess.run(
        cmd, check=True, capture_output=True, text=True
    ).stdout.split()
    timings[label] = float(seconds)
    print(f"  {label:<42} {timings[label]:8.2f} s", flush=True)
    return int(rss_kib) / 1024


def run_pm4py(path: Path, timings: dict[str, float]) -> dict:
    import pm4py

    from salesflow.workspace import Workspace

    with Workspace.open(path, read_only=True) as ws:
        ranks = ", ".join(f"('{s}', {i})" for i, s in enumerate(ws.settings.stages.all))
        df = ws.data.con.execute(
            "SELECT opportunity_id, stage, entered_at FROM stage_events JOIN "
            f"(VALUES {ranks}) r(stage, rank) USING (stage) ORDER BY opportunity_id, entered_at, rank"
        ).df()  # ties pre-ordered by stage rank: PM4Py keeps row order among equal timestamps
    steps: dict[str, float] = {}
    log = timed("pm4py format_dataframe", steps, pm4py.format_dataframe, df, case_id="opportunity_id",
                activity_key="stage", timestamp_key="entered_at")  # fmt: skip
    dfg, _, _ = timed("pm4py discover_dfg", steps, pm4py.discover_dfg, log)
    perf, _, _ = timed("pm4py discover_performance_dfg", steps, pm4py.discover_performance_dfg, log)
    variants = timed("pm4py get_variants", steps, pm4py.get_variants, log)
    durations = timed("pm4py get_all_case_durations", steps, pm4py.get_all_case_durations, log)
    timings.update(steps)
    timings["pm4py, five steps"] = sum(steps.values())
    return {"dfg": dfg, "perf": perf, "variants": variants, "durations": np.array(durations)}


def run_reference_sql(path: Path, timings: dict[str, float]):
    from salesflow.workspace import Workspace

    with Workspace.open(path, read_only=True) as ws:
        ranks = ", ".join(f"('{s}', {i})" for i, s in enumerate(ws.settings.stages.all))
        return timed("hand-written DuckDB SQL on stage_events", timings,
                     lambda: ws.data.con.execute(REFERENCE_SQL.format(ranks=ranks)).df())  # fmt: skip


def close(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and abs(a - b) <= 1e-9 * max(1.0, abs(b))


def check(doc: dict, pm: dict | None, ref) -> list[str]:
    """Every disagreement between salesflow, PM4Py and the reference SQL, in words."""
    problems: list[str] = []
    edges = {(e["from"], e["to"]): e for e in doc["edges"]}
    ours_variants = {tuple(v["stages"]): v["count"] for v in doc["variants"]}
    for row in ref[ref.kind == "edge"].itertuples():
        e = edges.get((row.a, row.b))
        if not e or e["count"] != row.n or not close(e["median_hours"], row.median_s / 3600):
            problems.append(f"edge {row.a}->{row.b} differs from the reference SQL")
    ref_variants = {
        tuple(p.split(" > ")): n
        for p, n in zip(ref[ref.kind == "variant"].path, ref[ref.kind == "variant"].n, strict=True)
    }
    if ref_variants != ours_variants:
        problems.append("variants differ from the reference SQL")
    cases = ref[ref.kind == "cases"].iloc[0]
    if doc["cases"]["count"] != cases.n or not close(
        doc["cases"]["median_hours"], cases.median_s / 3600
    ):
        problems.append("case durations differ from the reference SQL")
    if pm is None:
        return problems
    if {k: e["count"] for k, e in edges.items()} != dict(pm["dfg"]):
        problems.append("edge counts differ from PM4Py")
    for key, stats in pm["perf"].items():
        if not (
            close(edges[key]["mean_hours"], stats["mean"] / 3600)
            and close(edges[key]["median_hours"], stats["median"] / 3600)
        ):
            problems.append(f"edge {key} hours differ from PM4Py")
    if {
        tuple(k): (v if isinstance(v, int) else len(v)) for k, v in pm["variants"].items()
    } != ours_variants:
        problems.append("variants differ from PM4Py")
    if not close(doc["cases"]["median_hours"], float(np.median(pm["durations"])) / 3600):
        problems.append("median case duration differs from PM4Py")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="Build the workspace here and keep it.")
    parser.add_argument("--skip-pm4py", action="store_true")
    args = parser.parse_args()
    path = args.keep or Path(tempfile.mkdtemp(prefix="bench-flow-")) / "ws"
    if path.exists():
        shutil.rmtree(path)
    timings: dict[str, float] = {}
    print(f"bench_flow: about {args.events:,} stage events, {os.cpu_count()} cores")
    n = build_workspace(path, args.events, args.seed, timings)
    flow_rss = run_cli(path, timings)  # the first child process: its peak RSS is flow's
    from salesflow.metrics.process_map import process_map
    from salesflow.workspace import Workspace

    with Workspace.open(path, read_only=True) as ws:
        doc = timed(
            "process_map() in-process, cold connection",
            timings,
            process_map,
            ws.data,
            ws.settings,
            top=10**6,
        )
    ref = run_reference_sql(path, timings)
    part = refresh_in_child(path, 0.01)
    print(
        f"  {'derived refresh, 1% of deals changed':<42} {part['seconds']:8.2f} s, "
        f"{part['cpu']:.2f} CPU s, peak RSS {part['rss_mib']:,.0f} MiB, {part['deals']:,} deals, "
        f"equal to a full rebuild: {part['agrees_with_full_rebuild']}",
        flush=True,
    )
    pm = None if args.skip_pm4py else run_pm4py(path, timings)
    problems = check(doc, pm, ref)
    flow = timings["process_map() in-process, cold connection"]
    print(
        f"\n{n:,} events, {doc['cases']['count']:,} deals, {len(doc['edges'])} edges, {len(doc['variants']):,} variants"
    )
    print(
        f"derived refresh: {timings['derived refresh (import cost)']:.2f} s ({timings['derived refresh (import cost)'] / n * 1e6:.2f} s per million events)"
    )
    print(f"flow peak RSS (new process): {flow_rss:,.0f} MiB")
    print(
        f"hand-written SQL / process_map: {timings['hand-written DuckDB SQL on stage_events'] / flow:.1f}x"
    )
    if pm is not None:
        print(f"PM4Py five steps / process_map: {timings['pm4py, five steps'] / flow:.1f}x")
        print(
            f"PM4Py five steps / salesflow flow (new process): {timings['pm4py, five steps'] / timings['salesflow flow --json (new process)']:.1f}x"
        )
        print(
            f"PM4Py peak RSS (this process): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB"
        )
    if not part["agrees_with_full_rebuild"]:
        problems.append("the incremental refresh differs from a full rebuild")
    checked = "the reference SQL" + ("" if pm is None else " and PM4Py")
    print(f"results agree with {checked}: " + ("yes" if not problems else "NO"))
    for p in problems[:20]:
        print("  " + p)
    if not args.keep:
        shutil.rmtree(path.parent, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
