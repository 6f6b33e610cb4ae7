"""What the crash-safe write costs: copying the data file into its next generation, at the demo's
size and at 1M / 10M stage events, against the import that pays for it.

For each size: the file's size; ``shutil.copyfile`` of it (what every write pays first, best of 3);
fsync + rename (the publish); opening the live file read-only (what a reader pays after a swap);
and a small import (the histories of 250 existing deals, about 1,000 events: the worst case, where the copy is the
largest share) with the seconds spent copying measured inside it.

    .venv/bin/python benchmarks/bench_generations.py                       # demo + 1M events
    .venv/bin/python benchmarks/bench_generations.py --events 1000000 10000000
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_flow import load_duckdb


def best(fn, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def workspace(folder: Path, events: int | None) -> Path:
    """The demo (``events`` None) or a generated history of about ``events`` stage events."""
    from salesflow import derived
    from salesflow.demo import build_demo
    from salesflow.workspace import init_workspace

    path = folder / (f"ws{events}" if events else "demo")
    if events is None:
        build_demo(path)
        return path
    with init_workspace(path) as ws:
        load_duckdb(ws.data.con, events)
        derived.refresh(ws.data, ws.settings)
    return path


def small_import(folder: Path, path: Path) -> tuple[float, float]:
    """(whole import s, copy s inside it) for the histories of 250 deals (about 1,000 events;
    a stage-event import brings each deal's whole history)."""
    import duckdb

    from salesflow import storage
    from salesflow.ingest import import_file
    from salesflow.workspace import Workspace

    con = duckdb.connect(str(path / "data.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT DISTINCT opportunity_id, stage, entered_at + INTERVAL 1 HOUR FROM stage_events "
        "WHERE opportunity_id IN (SELECT opportunity_id FROM opportunities ORDER BY 1 LIMIT 250)"
    ).fetchall()
    con.close()
    file = folder / "events.csv"
    file.write_text(
        "opportunity_id,stage,entered_at\n" + "".join(f"{o},{s},{t}\n" for o, s, t in rows),
        encoding="utf-8",
    )
    copied = [0.0]
    copy = storage.shutil.copyfile

    def timed_copy(src, dst):
        start = time.perf_counter()
        copy(src, dst)
        copied[0] += time.perf_counter() - start

    storage.shutil.copyfile = timed_copy
    try:
        start = time.perf_counter()
        import_file(Workspace.open(path), "stage_events", file)
        return time.perf_counter() - start, copied[0]
    finally:
        storage.shutil.copyfile = copy


def measure(folder: Path, events: int | None) -> dict[str, float]:
    from salesflow.source import connect

    path = workspace(folder, events)
    live = path / "data.duckdb"
    nxt = path / "copy.duckdb"
    doc = {"MiB": live.stat().st_size / 2**20}
    doc["copy s"] = best(lambda: shutil.copyfile(live, nxt))

    def publish() -> None:
        fd = os.open(nxt, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        os.replace(nxt, path / "published.duckdb")
        shutil.copyfile(live, nxt)  # for the next run

    doc["fsync + rename s"] = best(publish)
    doc["open read-only s"] = best(
        lambda: connect(f"duckdb:///{live}", read_only=True).disconnect()
    )
    doc["small import s"], doc["— of it copying s"] = small_import(folder, path)
    for leftover in (nxt, path / "published.duckdb"):
        leftover.unlink(missing_ok=True)
    return doc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="*", default=[1_000_000])
    parser.add_argument("--no-demo", action="store_true")
    args = parser.parse_args()
    sizes: list[int | None] = ([] if args.no_demo else [None]) + list(args.events)
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="salesflow-gen-") as tmp:
        for events in sizes:
            doc = measure(Path(tmp), events)
            label = "demo (5,000 deals)" if events is None else f"{events:,} events"
            figures = ", ".join(f"{k} {v:.2f}" for k, v in doc.items())
            print(f"{label}: {figures}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
