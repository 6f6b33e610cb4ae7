"""The same analyses on DuckDB, PostgreSQL and local Spark, side by side in one run.

One stage history (bench_flow's generator: ~3.9 events per deal) is written to a DuckDB workspace
and copied as is to a PostgreSQL one and a local Spark one (``pyspark:///spark``, ``local[2]``):
into PostgreSQL by ``COPY … FROM STDIN`` from a CSV file, into Spark by reading a Parquet file
(both written once by DuckDB under the run's temporary folder). Timed on each: the copy, building
the process map's derived tables (what every import pays), the process map itself
(``process_map``), and three metrics per month (win_rate, cycle_time, new_opportunities), in wall
and CPU seconds (this process plus the engine's: the PostgreSQL backend process, not its parallel
workers; Spark's JVM). Every backend's results are checked against the first one's before a time
is shown.

    .venv/bin/python benchmarks/bench_backends.py --events 1000000
    .venv/bin/python benchmarks/bench_backends.py --events 10000000
    .venv/bin/python benchmarks/bench_backends.py --events 50000 --backends duckdb,spark

Each backend runs in its own process; a step that takes longer than ``--step-timeout`` seconds
stops that process and is shown as "> N s" (the later steps as not run). PostgreSQL: the server
at SALESFLOW_TEST_PG (default postgresql://postgres@127.0.0.1:5432); a database is created for the
run and dropped after, and the temporary folder is deleted. A backend that cannot run is
reported, not timed.
"""

from __future__ import annotations

import argparse
import math
import os
import pickle
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_flow import load_duckdb

PG_SERVER = os.environ.get("SALESFLOW_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
METRICS = ("win_rate", "cycle_time", "new_opportunities")
TABLES = ("opportunities", "stage_events")
STEPS = ("load", "build flow tables", "process map", *METRICS)
BACKENDS = ("duckdb", "postgres", "spark")


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


def _closed(con) -> None:
    """Give the deals outcomes and close times from their last event, in DuckDB SQL."""
    con.execute(
        """UPDATE opportunities o SET outcome = l.outcome, closed_at = l.closed_at,
               amount = 1000 + (hash(o.opportunity_id) % 9000)
           FROM (SELECT opportunity_id, max(entered_at) AS closed_at,
                        CASE arg_max(stage, entered_at) WHEN 'Won' THEN 'won'
                             WHEN 'Lost' THEN 'lost' ELSE 'open' END AS outcome
                 FROM stage_events GROUP BY opportunity_id) l
           WHERE o.opportunity_id = l.opportunity_id"""
    )
    con.execute(
        "UPDATE opportunities SET closed_at = NULL WHERE outcome = 'open'; "
        "UPDATE opportunities o SET created_at = f.first FROM (SELECT opportunity_id, "
        "min(entered_at) AS first FROM stage_events GROUP BY opportunity_id) f "
        "WHERE o.opportunity_id = f.opportunity_id"
    )


def _columns(table: str) -> list[str]:
    from salesflow.schema import TABLES as SPECS

    return [c.name for c in SPECS[table].columns]


def _export(con, folder: Path, kinds: set[str]) -> None:
    """Write each table once as CSV (for PostgreSQL's COPY) and/or Parquet (for Spark)."""
    for table in TABLES:
        select = f"SELECT {', '.join(_columns(table))} FROM {table}"
        for kind in sorted(kinds):
            header = ", HEADER false" if kind == "csv" else ""
            con.execute(
                f"COPY ({select}) TO '{folder / f'{table}.{kind}'}' (FORMAT {kind}{header})"
            )


# --- in the child process: one backend ----------------------------------------------------


def _load_postgres(backend, folder: Path) -> None:
    """COPY the CSV files into the canonical tables, then ANALYZE them (as after any bulk load)."""
    con = backend.con
    for table in TABLES:
        sql = f'COPY "{table}" ({", ".join(_columns(table))}) FROM STDIN (FORMAT csv)'
        with con.cursor() as cur, cur.copy(sql) as copy, open(folder / f"{table}.csv", "rb") as f:
            while chunk := f.read(1 << 20):
                copy.write(chunk)
        con.commit()
    with con.cursor() as cur:
        cur.execute(f"ANALYZE {', '.join(TABLES)}")
    con.commit()


def _load_spark(backend, folder: Path) -> None:
    """Read the Parquet files into the canonical tables, cast to their column types."""
    from pyspark.sql import functions as F

    session = backend._session
    for table in TABLES:
        fields = session.table(table).schema.fields
        frame = session.read.parquet(str(folder / f"{table}.parquet"))
        frame = frame.select([F.col(f.name).cast(f.dataType) for f in fields])
        frame.write.insertInto(table, overwrite=True)


def _engine_pid(backend) -> int | None:
    """The process doing the engine's work outside this one (None: DuckDB, in process)."""
    if backend.name == "postgres":
        return backend.con.info.backend_pid
    if backend.name == "pyspark":
        return int(backend._session._jvm.java.lang.ProcessHandle.current().pid())
    return None


def _proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_mib(pid: int | str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class _Clock:
    """Wall and CPU seconds of each step (this process plus the engine's), sent to the parent."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid

    def cpu(self) -> float:
        return time.process_time() + (_proc_cpu(self.pid) if self.pid else 0.0)

    def run(self, step: str, fn, *args, **kwargs):
        wall, cpu = time.perf_counter(), self.cpu()
        out = fn(*args, **kwargs)
        print(f"STEP\t{step}\t{time.perf_counter() - wall}\t{self.cpu() - cpu}", flush=True)
        return out


def child(backend: str, path: Path, url: str, folder: Path) -> None:
    from salesflow import derived, metrics
    from salesflow.metrics.process_map import process_map
    from salesflow.workspace import Workspace, init_workspace

    if backend != "duckdb":
        with init_workspace(path, data_url=url) as ws:
            load = _load_postgres if backend == "postgres" else _load_spark
            _Clock(_engine_pid(ws.data)).run("load", load, ws.data, folder)
    with Workspace.open(path, read_only=False) as ws:
        con, settings = ws.data, ws.settings
        clock = _Clock(_engine_pid(con))
        clock.run("build flow tables", derived.refresh, con, settings)
        results = {"map": clock.run("process map", process_map, con, settings)}
        for metric in METRICS:
            series = clock.run(metric, metrics.series, con, settings, metric, period="month")
            results[metric] = [(str(p.period), p.value, p.n) for p in series.points]
        engine = _peak_mib(clock.pid) if clock.pid else 0.0
    print(f"PEAK\t{_peak_mib('self')}\t{engine}", flush=True)
    (path.parent / f"{backend}.pickle").write_bytes(pickle.dumps(results))


# --- in the parent: the run ---------------------------------------------------------------


def run_backend(backend: str, path: Path, url: str, folder: Path, timeout: float) -> dict:
    """Run one backend in a child process; {step: (wall, cpu) or "> N s"}, "peak" and "error"."""
    cmd = [sys.executable, __file__, "--child", backend, str(path), url, str(folder)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, start_new_session=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout] + [lines.put(None)]).start()
    out: dict = {}
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            os.killpg(proc.pid, signal.SIGKILL)  # the child and its JVM, nothing else
            proc.wait()
            step = next(s for s in STEPS if s not in out and (backend != "duckdb" or s != "load"))
            out[step] = f"> {timeout:.0f} s"
            return out
        if line is None:
            break
        kind, *fields = line.rstrip("\n").split("\t")
        if kind == "STEP":
            out[fields[0]] = (float(fields[1]), float(fields[2]))
        elif kind == "PEAK":
            out["peak"] = (float(fields[0]), float(fields[1]))
        else:
            print(f"  {backend}: {line.rstrip()}", file=sys.stderr)
    if proc.wait() != 0:
        out["error"] = f"exit status {proc.returncode} (its error is above)"
    return out


def agree(a: dict, b: dict) -> list[str]:
    """Differences between two backends' results (empty: they agree)."""
    problems = []
    for metric in METRICS:
        pa_, pb = a[metric], b[metric]
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


def _cell(value, index: int) -> str:
    if isinstance(value, tuple):
        return f"{value[index]:.2f} s"
    if isinstance(value, str):  # the step timed out: its wall time is known as a bound only
        return value if index == 0 else "stopped"
    return "–"


def _ratio(value, base, index: int) -> str:
    if isinstance(value, tuple) and isinstance(base, tuple) and base[index] > 0:
        return f"{value[index] / base[index]:.1f}×"
    if isinstance(value, str) and isinstance(base, tuple):
        return f"> {float(value.split()[1]) / base[index]:.0f}×"
    return "–"


def table(rows: dict[str, dict], index: int, title: str) -> None:
    """A markdown table of wall (index 0) or CPU (1) seconds, with ratios to DuckDB."""
    others = [b for b in rows if b != "duckdb"] if "duckdb" in rows else []
    print(
        f"\n{title}\n\n| step | "
        + " | ".join(rows)
        + "".join(f" | {b}/duckdb" for b in others)
        + " |"
    )
    print("|---|" + "---:|" * (len(rows) + len(others)))
    for step in STEPS:
        cells = [_cell(rows[b].get(step), index) for b in rows]
        cells += [_ratio(rows[b].get(step), rows["duckdb"].get(step), index) for b in others]
        print(f"| {step} | " + " | ".join(cells) + " |")


def _generate(path: Path, folder: Path, events: int, seed: int, kinds: set[str]) -> None:
    from salesflow.workspace import init_workspace

    start = time.perf_counter()
    with init_workspace(path) as ws:
        n = load_duckdb(ws.data.con, events, seed)
        _closed(ws.data.con)
        _export(ws.data.con, folder, kinds)
        deals = ws.data.con.execute("SELECT count(*) FROM opportunities").fetchone()[0]
    took = time.perf_counter() - start
    print(f"{n:,} stage events, {deals:,} deals (generated and exported in {took:.1f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--step-timeout", type=float, default=1500.0, help="seconds per step")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        backend, path, url, folder = args.child
        child(backend, Path(path), url, Path(folder))
        return 0
    wanted = [b for b in BACKENDS if b in args.backends.split(",")]
    kinds = {"postgres": "csv", "spark": "parquet"}
    root = Path(tempfile.mkdtemp(prefix="salesflow-bench-backends-", dir="/tmp"))
    rows, results, pg_name = {}, {}, None
    try:
        _generate(
            root / "duckdb", root, args.events, args.seed, {kinds[b] for b in wanted if b in kinds}
        )
        for backend in wanted:
            url = {"duckdb": "", "spark": "pyspark:///spark"}.get(backend)
            if backend == "postgres":
                pg_name, url = _pg_database()
            out = run_backend(backend, root / backend, url, root, args.step_timeout)
            steps = [
                f"{k} {v[0]:.2f} s" if isinstance(v, tuple) else f"{k} {v}"
                for k, v in out.items()
                if k in STEPS
            ]
            print(f"{backend}: " + ", ".join(steps), flush=True)
            if "error" in out:
                print(f"{backend}: not run to the end ({out['error']})")
            rows[backend] = out
            done = root / f"{backend}.pickle"
            if done.exists():
                results[backend] = pickle.loads(done.read_bytes())
        reference = next(iter(results.values()), None)
        for backend, result in results.items():
            problems = agree(reference, result)
            if problems:
                print(f"{backend} DISAGREES with {next(iter(results))}: {problems[:3]}")
                return 1
        if results:
            print(f"results equal on: {', '.join(results)}")
    finally:
        if pg_name:
            _drop_pg(pg_name)
        shutil.rmtree(root, ignore_errors=True)
    table(rows, 0, "Wall seconds")
    table(rows, 1, "CPU seconds (this process + the engine's process)")
    for backend, out in rows.items():
        if "peak" in out:
            print(
                f"peak RSS {backend}: Python {out['peak'][0]:,.0f} MiB, engine {out['peak'][1]:,.0f} MiB"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
