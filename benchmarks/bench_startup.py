"""How much does a new `salesflow` process pay to start, against the same call in-process?

On workspaces of N stage events (built as bench_flow builds them, flow tables fresh, the data file
sealed as an import leaves it unless ``--no-seal``), in one run:
`salesflow flow --json` as a new process (what a user waits for) against the same call inside a
process that has already made it once (modules imported; the workspace opened afresh each call),
the issue's target being new process ≤ 1.3 × in-process + 0.3 s; and new-process `--help` and
`status --json` against `python -c pass` (the floor) and an eager import of the engines (what
start-up would cost if the CLI imported them up front). Times are medians, the runs of the
codes compared interleaved; the load average is printed (shared machine).

    .venv/bin/python benchmarks/bench_startup.py --events 1000000 10000000 --keep /tmp/startup
    .venv/bin/python benchmarks/bench_startup.py --workspace /tmp/startup1m /tmp/startup10m \\
        --before /path/to/main/src    # the same workspaces, another checkout's code alongside

The code measured is this checkout's ``src`` ("after"), and with ``--before SRC`` that one too.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
ENGINES = "import ibis, duckdb, sqlalchemy, plotly, pandas"

# The same command through Typer in one process: one call to warm up, then REPEAT timed calls.
# CPU time is user + system over all the process's threads (DuckDB's too).
_IN_PROCESS = """
import resource, statistics, sys, time
from typer.testing import CliRunner
from salesflow.cli import app
def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime
runner, args, times, cpus = CliRunner(), sys.argv[2:], [], []
for _ in range(int(sys.argv[1]) + 1):
    start, used = time.perf_counter(), cpu()
    result = runner.invoke(app, args)
    times.append(time.perf_counter() - start)
    cpus.append(cpu() - used)
    assert result.exit_code == 0, result.output
print(statistics.median(times[1:]), statistics.median(cpus[1:]))
"""


def _env(src: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(src)}


def _children_cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def _seconds(cmd: list[str], src: Path) -> tuple[float, float]:
    """Wall and CPU seconds of a new process running ``cmd``."""
    start, used = time.perf_counter(), _children_cpu()
    subprocess.run(
        cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(src)
    )
    return time.perf_counter() - start, _children_cpu() - used


def _in_process(args: list[str], src: Path, repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of the call in a process that has made it once already."""
    run = subprocess.run(
        [sys.executable, "-c", _IN_PROCESS, str(repeat), *args],
        check=True,
        capture_output=True,
        text=True,
        env=_env(src),
    )
    wall, cpu = run.stdout.split()
    return float(wall), float(cpu)


def _interleaved(
    cmds: dict[str, tuple[list[str], Path]], repeat: int
) -> dict[str, tuple[float, float]]:
    """Median wall and CPU seconds of each command, run in turns (load changes hit them all
    alike)."""
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in cmds}
    for _ in range(repeat):
        for key, (cmd, src) in cmds.items():
            times[key].append(_seconds(cmd, src))
    return {
        k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
        for k, v in times.items()
    }


def _workspaces(args: argparse.Namespace) -> list[Path]:
    if args.workspace:
        return args.workspace
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_flow import build_workspace

    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-startup-"))
    paths = []
    for n in args.events:
        path = root / f"ws{n}"
        if path.exists():
            shutil.rmtree(path)
        build_workspace(path, n, seed=7, timings={})
        if not args.no_seal:
            _seal(path / "data.duckdb")
        paths.append(path)
    return paths


def _seal(file: Path) -> None:
    """Leave the data file as an import does: checkpointed and sealed, so a reader may trust its
    flow tables' fingerprint without a checksum of every event (salesflow.derived.seal)."""
    import duckdb

    from salesflow.derived.seal import write_seal

    con = duckdb.connect(str(file))
    con.execute("CHECKPOINT")
    fingerprint = con.execute("SELECT fingerprint FROM flow_meta").fetchone()[0]
    con.close()
    write_seal(file, fingerprint)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, nargs="+", default=[200_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="Build the workspaces in this folder, keep them.")
    parser.add_argument("--workspace", type=Path, nargs="+", help="Use these (flow tables fresh).")
    parser.add_argument("--before", type=Path, help="Another checkout's src, measured alongside.")
    parser.add_argument(
        "--no-seal",
        action="store_true",
        help="Build without the seal an import leaves (readers then checksum every event).",
    )
    args = parser.parse_args()
    paths = _workspaces(args)
    codes = {"after": SRC, **({"before": args.before.resolve()} if args.before else {})}
    salesflow = [sys.executable, "-m", "salesflow"]
    r = args.repeat
    load = os.getloadavg()[0]
    print(f"median of {r}; code: " + ", ".join(f"{k} = {v}" for k, v in codes.items()))
    print(
        "flow --json: new process against in-process (target: new ≤ 1.3 × in-process + 0.3 s),"
        " in wall seconds and in CPU seconds (user + system, all threads: on a loaded machine"
        " wall time is CPU time stretched by the load, so compare these)"
    )
    print(
        f"{'workspace':<20} {'code':<7} {'':4} {'new':>7} {'in-proc':>8} {'new-in':>7} "
        f"{'ratio':>6} {'target':>7}  met"
    )
    for path in paths:
        flow = ["flow", "--json", "-w", str(path)]
        fresh = _interleaved({c: ([*salesflow, *flow], src) for c, src in codes.items()}, r)
        for code, src in codes.items():
            warm = _in_process(flow, src, r)
            for i, unit in enumerate(("wall", "CPU")):
                new, old = fresh[code][i], warm[i]
                target = 1.3 * old + 0.3
                print(
                    f"{path!s:<20} {code:<7} {unit:<4} {new:6.2f}s {old:7.2f}s "
                    f"{new - old:6.2f}s {new / old:5.2f}x {target:6.2f}s  "
                    + ("yes" if new <= target else "NO"),
                    flush=True,
                )
    others = {"python -c pass": ([sys.executable, "-c", "pass"], SRC)}
    for code, src in codes.items():
        others[f"salesflow --help ({code})"] = ([*salesflow, "--help"], src)
        status = [*salesflow, "status", "--json", "-w", str(paths[0])]
        others[f"salesflow status --json ({code})"] = (status, src)
    others[ENGINES] = ([sys.executable, "-c", ENGINES], SRC)
    print(f"{'new process':<48} {'wall':>7} {'CPU':>7}")
    for key, (wall, cpu) in _interleaved(others, r).items():
        print(f"{key:<48} {wall * 1000:7.0f} {cpu * 1000:7.0f} ms")
    print(f"load average {load:.1f} → {os.getloadavg()[0]:.1f}")
    if not (args.keep or args.workspace):
        shutil.rmtree(paths[0].parent, ignore_errors=True)


if __name__ == "__main__":
    main()
