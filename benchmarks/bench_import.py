"""Import benchmark: N stage events from CSV into a DuckDB workspace, with the real importer.

Compared in the same run with references on the same file: a plain DuckDB
``CREATE TABLE … AS SELECT * FROM read_csv(…)`` (no mapping, no validation, no upsert) with
DuckDB's defaults, the same load tuned (column types given, no sniffing, unordered insert: the
fastest way DuckDB offers to put this file in a table), the same load in the importer's two steps
(typed parse into an in-memory table, then that table into a database file: the floor under a
loader that checks every row before it writes any), and ``pandas.read_csv`` (reading only).
Each step runs in its own process so its peak memory (RSS, ``ru_maxrss``) and CPU time (user +
system, all threads) are its own; CPU time is the figure to compare when the machine is shared.

    .venv/bin/python benchmarks/bench_import.py --rows 1000000 10000000

The importer and the plain load run ``--repeat`` times each (default 3), in turns; the table
shows each one's median run, the ratios are those of the medians (the runs are listed too).

Issue 22's targets, against the plain load with DuckDB's defaults: read + validate + write
≤ 1.5x, the whole import (derived outcomes and flow tables included) ≤ 2.5x, peak RSS ≤ 1.5 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
EVENTS_PER_DEAL = 5
STAGES = ("Lead", "Qualified", "Discovery", "Proposal", "Won")


def generate(rows: int) -> tuple[Path, Path]:
    """opportunities.csv (rows / 5 deals) and stage_events.csv (rows events), made by DuckDB."""
    import duckdb

    OUT.mkdir(parents=True, exist_ok=True)
    opps, events = OUT / f"opportunities_{rows}.csv", OUT / f"stage_events_{rows}.csv"
    if opps.exists() and events.exists():
        return opps, events
    deals = max(rows // EVENTS_PER_DEAL, 1)
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT 'OPP-' || lpad(CAST(i AS VARCHAR), 9, '0') AS opportunity_id, "
        f"'rep' || (i % 97) AS owner, TIMESTAMP '2022-01-01' + to_minutes(i % 900000) AS created_at, "
        f"round(1000 + (i * 7919) % 50000, 2) AS amount FROM range({deals}) t(i)) "
        f"TO '{opps}' (HEADER)"
    )
    stages = "[" + ", ".join(f"'{s}'" for s in STAGES) + "]"
    con.execute(
        f"COPY (SELECT 'OPP-' || lpad(CAST(i // {EVENTS_PER_DEAL} AS VARCHAR), 9, '0') AS "
        f"opportunity_id, {stages}[(i % {EVENTS_PER_DEAL}) + 1] AS stage, "
        f"strftime(TIMESTAMP '2022-01-01' + to_minutes((i // {EVENTS_PER_DEAL}) % 900000) "
        f"+ to_hours(24 * (i % {EVENTS_PER_DEAL})), '%Y-%m-%d %H:%M:%S') AS entered_at, "
        f"'rep' || ((i // {EVENTS_PER_DEAL}) % 97) AS owner, "
        f"round(1000 + ((i // {EVENTS_PER_DEAL}) * 7919) % 50000, 2) AS amount "
        f"FROM range({rows}) t(i)) TO '{events}' (HEADER)"
    )
    con.close()
    return opps, events


def step_importer(events: Path, opps: Path) -> dict:
    """The real importer into a fresh workspace (opportunities first, then timed: events)."""
    from salesflow.ingest import import_file
    from salesflow.workspace import Workspace, init_workspace

    folder = OUT / "workspace"
    shutil.rmtree(folder, ignore_errors=True)
    init_workspace(folder).close()
    ws = Workspace.open(folder)
    import_file(ws, "opportunities", opps)
    marks: list[tuple[str, float, float]] = []
    sampler = RssSampler()

    def progress(description: str, *_: int) -> None:
        marks.append((description, time.perf_counter(), cpu_seconds()))
        sampler.phase = description

    started, cpu = time.perf_counter(), cpu_seconds()
    with sampler:
        report = import_file(ws, "stage_events", events, progress=progress)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    ws.close()
    ends = [(at, c) for _, at, c in marks[1:]] + [(started + seconds, marks[0][2] + cpu)]
    phases = {name: round(end[0] - at, 2) for (name, at, _), end in zip(marks, ends, strict=True)}
    cpus = {name: round(end[1] - c, 2) for (name, _, c), end in zip(marks, ends, strict=True)}
    return {
        "seconds": seconds,
        "cpu": cpu,
        "rows": report.rows_written,
        "phases": phases,
        "phase_cpu": cpus,
        "phase_peak_rss_mib": sampler.peaks,
    }


def peak_rss_mib() -> float:
    """This process's peak RSS: VmHWM starts afresh at exec (``ru_maxrss`` would keep the
    forking parent's size)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """User + system CPU time of this process, every thread included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class RssSampler:
    """Peak resident memory per import phase, sampled every 20 ms from /proc/self/status."""

    def __init__(self) -> None:
        self.phase, self.peaks, self._stop = "start", {}, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def rss_mib() -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            rss = round(self.rss_mib())
            self.peaks[self.phase] = max(self.peaks.get(self.phase, 0), rss)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


TYPES = (
    "{'opportunity_id': 'VARCHAR', 'stage': 'VARCHAR', 'entered_at': 'TIMESTAMP', "
    "'owner': 'VARCHAR', 'amount': 'DOUBLE'}"
)


def step_duckdb(events: Path, *, tuned: bool = False) -> dict:
    """Reference: DuckDB's own CSV reader straight into a table in a new database file.

    ``tuned``: column types given (no sniffing), rows stored in any order (parallel writes, no
    re-compression at the checkpoint) — the fastest plain load found on this machine.
    """
    import duckdb

    path = OUT / "reference.duckdb"
    path.unlink(missing_ok=True)
    config = {"memory_limit": "1GB"}
    source = f"read_csv('{events}')"
    if tuned:
        config["preserve_insertion_order"] = False
        source = f"read_csv('{events}', header = true, auto_detect = false, columns = {TYPES})"
    con = duckdb.connect(str(path), config=config)
    started, cpu = time.perf_counter(), cpu_seconds()
    con.execute(f"CREATE TABLE stage_events AS SELECT * FROM {source}")
    con.execute("CHECKPOINT")
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    rows = con.execute("SELECT count(*) FROM stage_events").fetchone()[0]
    con.close()
    path.unlink(missing_ok=True)
    return {"seconds": seconds, "cpu": cpu, "rows": rows}


def step_duckdb_parts(events: Path) -> dict:
    """The floor under any importer here: DuckDB's typed CSV parse alone (an aggregate, nothing
    kept), the parse into an in-memory table, then that table written to a new database file."""
    import duckdb

    path = OUT / "reference.duckdb"
    path.unlink(missing_ok=True)
    con = duckdb.connect(config={"memory_limit": "4GB", "preserve_insertion_order": False})
    source = f"read_csv('{events}', header = true, auto_detect = false, columns = {TYPES})"
    parts = {}
    for name, sql in (
        ("parse", f"SELECT count(*), max(entered_at), sum(amount) FROM {source}"),
        ("parse_to_memory", f"CREATE TABLE batch AS SELECT * FROM {source}"),
        ("attach", f"ATTACH '{path}' AS ws"),
        ("memory_to_file", "CREATE TABLE ws.stage_events AS SELECT * FROM batch"),
        ("checkpoint", "CHECKPOINT ws"),
    ):
        started, cpu = time.perf_counter(), cpu_seconds()
        con.execute(sql).fetchall()
        parts[name] = (time.perf_counter() - started, cpu_seconds() - cpu)
    rows = con.execute("SELECT count(*) FROM batch").fetchone()[0]
    con.close()
    path.unlink(missing_ok=True)
    write = [parts["memory_to_file"][i] + parts["checkpoint"][i] for i in (0, 1)]
    return {
        "seconds": parts["parse_to_memory"][0] + write[0],
        "cpu": parts["parse_to_memory"][1] + write[1],
        "rows": rows,
        "parts": {
            "parse only": parts["parse"],
            "parse into memory": parts["parse_to_memory"],
            "memory to file": tuple(write),
        },
    }


def step_pandas(events: Path) -> dict:
    """Reference: pandas.read_csv of the same file (reading only, nothing stored)."""
    import pandas as pd

    started, cpu = time.perf_counter(), cpu_seconds()
    frame = pd.read_csv(events, parse_dates=["entered_at"])
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    return {"seconds": seconds, "cpu": cpu, "rows": len(frame)}


def run_child(step: str, events: Path, opps: Path) -> dict:
    """Run one step in a fresh process; add its peak RSS."""
    cmd = [sys.executable, __file__, "--child", step, "--events", str(events), "--opps", str(opps)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{step} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def alternated(events: Path, opps: Path, repeat: int) -> dict[str, dict]:
    """The importer and the plain load, ``repeat`` times each in turns; each one's median run
    (by wall time). The plain load alone swings by ±25 % between runs on this machine, so one
    run of each gives a ratio that straddles a target; the medians of runs made in turns do not
    depend on which of the two met a slow moment."""
    runs: dict[str, list[dict]] = {"importer": [], "duckdb read_csv": []}
    for _ in range(repeat):
        runs["importer"].append(run_child("importer", events, opps))
        runs["duckdb read_csv"].append(run_child("duckdb", events, opps))
    if repeat > 1:
        for name, got in runs.items():
            print(
                f"  {name}: "
                + ", ".join(f"{r['seconds']:.2f} s ({r['cpu']:.2f} CPU s)" for r in got)
            )
    return {
        name: sorted(got, key=lambda r: r["seconds"])[len(got) // 2] for name, got in runs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, nargs="+", default=[1_000_000], help="stage events to import (sizes)"
    )
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of the importer and the plain load, in turns"
    )
    parser.add_argument(
        "--skip-tuned", action="store_true", help="only the plain load (defaults) as reference"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--events", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--opps", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        steps = {"importer": lambda: step_importer(args.events, args.opps),
                 "duckdb": lambda: step_duckdb(args.events),
                 "duckdb_tuned": lambda: step_duckdb(args.events, tuned=True),
                 "duckdb_parts": lambda: step_duckdb_parts(args.events),
                 "pandas": lambda: step_pandas(args.events)}  # fmt: skip
        result = steps[args.child]()
        result["peak_rss_mib"] = peak_rss_mib()
        print(json.dumps(result))
        return
    summary = []
    for rows in args.rows:
        opps, events = generate(rows)
        size = events.stat().st_size / 2**20
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"{rows:,} stage events, {size:,.0f} MiB CSV ({events.name}); load average {load}")
        results = alternated(events, opps, args.repeat)
        if not args.skip_tuned:
            results["duckdb tuned"] = run_child("duckdb_tuned", events, opps)
            results["duckdb in 2 steps"] = run_child("duckdb_parts", events, opps)
        if not args.skip_pandas:
            results["pandas.read_csv"] = run_child("pandas", events, opps)
        summary.append((rows, load, report(rows, results)))
        print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    print("issue 22 targets, against DuckDB's plain load (defaults) in the same run:")
    print(
        f"{'rows':>12}  {'load avg':<15}{'r+v+w ÷ plain':>14}{'(CPU)':>7}"
        f"{'whole ÷ plain':>15}{'(CPU)':>7}{'peak RSS MiB':>14}  targets ≤ 1.5, ≤ 2.5, ≤ 1536"
    )
    for rows, load, r in summary:
        ok = r["own"] <= 1.5 and r["whole"] <= 2.5 and r["rss"] <= 1536
        print(
            f"{rows:>12,}  {load:<15}{r['own']:>14.2f}{r['own_cpu']:>7.2f}{r['whole']:>15.2f}"
            f"{r['whole_cpu']:>7.2f}{r['rss']:>14,.0f}  {'met' if ok else 'NOT met'}"
        )


def report(rows: int, results: dict[str, dict]) -> dict[str, float]:
    """The table, then the importer's phases and its ratios to the references; returns the
    issue-22 ratios against the plain load with DuckDB's defaults."""
    base = results["importer"]
    print(f"{'step':<18}{'seconds':>9}{'CPU s':>8}{'rows/s':>12}{'peak RSS MiB':>14}")
    for name, r in results.items():
        print(
            f"{name:<18}{r['seconds']:>9.2f}{r['cpu']:>8.2f}{r['rows'] / r['seconds']:>12,.0f}"
            f"{r['peak_rss_mib']:>14,.0f}"
        )
    if "duckdb in 2 steps" in results:
        parts = results["duckdb in 2 steps"]["parts"]
        print("duckdb in 2 steps, (seconds, CPU s): " + ", ".join(
            f"{k} ({v[0]:.2f}, {v[1]:.2f})" for k, v in parts.items()))  # fmt: skip
    own = ("Reading the file", "Checking every row", "Writing to the workspace")
    own_s = sum(base["phases"].get(k, 0) for k in own)
    own_cpu = sum(base["phase_cpu"].get(k, 0) for k in own)
    own_rss = max(base["phase_peak_rss_mib"].get(k, 0) for k in own)
    print(f"importer phases, seconds: {base['phases']}")
    print(f"importer phases, CPU seconds: {base['phase_cpu']}")
    print(f"importer peak RSS per phase (MiB): {base['phase_peak_rss_mib']}")
    print(
        f"read + validate + write: {own_s:.2f} s ({own_cpu:.2f} CPU s), "
        f"{rows / own_s:,.0f} rows/s, peak {own_rss:,} MiB"
    )
    for ref in ("duckdb read_csv", "duckdb tuned", "duckdb in 2 steps", "pandas.read_csv"):
        if ref in results:
            r = results[ref]
            print(
                f"  vs {ref}: read + validate + write {own_s / r['seconds']:.2f}x time, "
                f"{own_cpu / r['cpu']:.2f}x CPU; whole import {base['seconds'] / r['seconds']:.2f}x "
                f"time, {base['cpu'] / r['cpu']:.2f}x CPU"
            )
    plain = results["duckdb read_csv"]
    return {
        "own": own_s / plain["seconds"],
        "own_cpu": own_cpu / plain["cpu"],
        "whole": base["seconds"] / plain["seconds"],
        "whole_cpu": base["cpu"] / plain["cpu"],
        "rss": base["peak_rss_mib"],
    }


if __name__ == "__main__":
    main()
