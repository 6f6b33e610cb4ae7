"""What the weekly digest costs, against one verdict pass over the same knowledge.

The digest judges every UDR and improvement once (the reference: one verdict pass, as
``udr list`` + ``improve list`` do), reads the check-in schedule, and finds the request log's
themes — unless the log is the one the last digest saw, when they are not computed again. Each
case runs on a fresh :class:`~salesflow.workbench.service.Workbench` (no cached moment or
frame), on the demo company with its demo knowledge, frozen on one day.

    .venv/bin/python benchmarks/bench_digest.py                       # the table in benchmarks/README.md
    .venv/bin/python benchmarks/bench_digest.py --opportunities 20000 --reps 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TODAY = "2026-10-20"


def _timed(path: Path, run: Callable[[Any], Any], reps: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``run(bench)`` over ``reps`` fresh workbenches."""
    from salesflow.workbench.service import Workbench

    walls, cpus = [], []
    for _ in range(reps):
        with Workbench.open(path, who="bench") as bench:
            wall, cpu = time.perf_counter(), time.process_time()
            run(bench)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def verdict_pass(bench: Any) -> None:
    for udr in bench.store.udrs.list():
        bench.udr_verdict(udr)
    for record in bench.store.improvements.list():
        bench.improvement_verdict(record)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opportunities", type=int, default=5000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    os.environ["SALESFLOW_TODAY"] = TODAY

    from salesflow.demo import build_demo
    from salesflow.workbench.demo_knowledge import seed_demo_knowledge
    from salesflow.workbench.digest import build_digest

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ws"
        build_demo(path, opportunities=args.opportunities, seed=7)
        seed_demo_knowledge(path)
        first = lambda bench: build_digest(bench, base_url="http://x")  # noqa: E731
        _, _ = _timed(path, verdict_pass, 1)  # warm the file cache and imports

        def again(bench: Any) -> None:
            doc = build_digest(bench, base_url="http://x", previous=bench.store.digests.last())
            assert doc["counts"]["new_pattern"] == 0

        from salesflow.workbench.service import Workbench

        with Workbench.open(path, who="bench") as bench:  # a digest was sent: its state is known
            doc = build_digest(bench, base_url="http://x")
            bench.store.digests.record(doc["state"], recipients=[], today=TODAY, who="bench")
        cases = [
            ("one verdict pass (reference)", verdict_pass),
            ("digest, request log changed (themes computed)", first),
            ("digest, request log as last time (themes reused)", again),
        ]
        rows = [(name, *_timed(path, run, args.reps)) for name, run in cases]
    wall0, cpu0 = rows[0][1], rows[0][2]
    print(f"{args.opportunities} deals, median of {args.reps}, load {os.getloadavg()[0]:.1f}")
    print("| case | wall s | CPU s | × verdict pass (wall) | × verdict pass (CPU) |")
    print("|---|---:|---:|---:|---:|")
    for name, wall, cpu in rows:
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {wall / wall0:.1f} | {cpu / cpu0:.1f} |")


if __name__ == "__main__":
    main()
