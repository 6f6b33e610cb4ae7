"""How much does a new `salesflow` process pay to start, against the same call in-process?

On a workspace of N stage events (built as bench_flow builds it, flow tables fresh), in one run:
`salesflow flow --json` as a new process (what a user waits for) against the same call in this
process once warm (modules imported; the workspace opened afresh each call), the issue's target
being new process ≤ 1.3 × in-process + 0.3 s; and new-process `--help` and `status --json` against
`python -c pass` (the floor) and an eager import of the engines (what start-up would cost if the
CLI imported them up front). Times are medians; the load average is printed (shared machine).

    .venv/bin/python benchmarks/bench_startup.py --events 1000000 --keep /tmp/startup1m
    .venv/bin/python benchmarks/bench_startup.py --workspace /tmp/startup1m   # reuse it

Set PYTHONPATH to measure another checkout's code with the same workspace (before/after).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SALESFLOW = str(Path(sys.executable).parent / "salesflow")
ENGINES = "import ibis, duckdb, sqlalchemy, plotly, pandas"


def _median_seconds(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _in_process_seconds(args: list[str], repeat: int) -> float:
    """The same command through Typer in this process, after one warm-up call."""
    from typer.testing import CliRunner

    from salesflow.cli import app

    runner = CliRunner()
    times = []
    for _ in range(repeat + 1):
        start = time.perf_counter()
        result = runner.invoke(app, args)
        times.append(time.perf_counter() - start)
        assert result.exit_code == 0, result.output
    return statistics.median(times[1:])


def _workspace(args: argparse.Namespace) -> Path:
    if args.workspace:
        return args.workspace
    from bench_flow import build_workspace

    path = args.keep or Path(tempfile.mkdtemp(prefix="bench-startup-")) / "ws"
    if path.exists():
        shutil.rmtree(path)
    build_workspace(path, args.events, seed=7, timings={})
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="Build the workspace here and keep it.")
    parser.add_argument("--workspace", type=Path, help="Use this workspace (flow tables fresh).")
    args = parser.parse_args()
    path = _workspace(args)
    load = os.getloadavg()
    flow = ["flow", "--json", "-w", str(path)]
    r = args.repeat
    fresh = _median_seconds([SALESFLOW, *flow], r)
    warm = _in_process_seconds(flow, r)
    bare = _median_seconds([sys.executable, "-c", "pass"], r)
    helps = _median_seconds([SALESFLOW, "--help"], r)
    status = _median_seconds([SALESFLOW, "status", "--json", "-w", str(path)], r)
    engines = _median_seconds([sys.executable, "-c", ENGINES], r)
    print(f"workspace {path}, median of {r}, load average {load[0]:.1f} → {os.getloadavg()[0]:.1f}")
    print(f"salesflow flow --json, new process     {fresh * 1000:7.0f} ms")
    print(f"salesflow flow --json, in-process warm {warm * 1000:7.0f} ms")
    print(f"python -c pass                         {bare * 1000:7.0f} ms")
    print(f"salesflow --help, new process          {helps * 1000:7.0f} ms")
    print(f"salesflow status --json, new process   {status * 1000:7.0f} ms")
    print(f"{ENGINES:<38} {engines * 1000:7.0f} ms")
    target = 1.3 * warm + 0.3
    print(
        f"flow: new process / in-process = {fresh / warm:.2f}x; new process - in-process = "
        f"{fresh - warm:.2f} s; target 1.3 x in-process + 0.3 s = {target:.2f} s: "
        + ("met" if fresh <= target else "NOT met")
    )
    print(
        f"--help / eager engine import = {helps / engines:.2f}x; status = {status / engines:.2f}x"
    )
    if not (args.keep or args.workspace):
        shutil.rmtree(path.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
