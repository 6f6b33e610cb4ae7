"""How fast does `salesflow --help` start, against a bare Python and against importing the engines?

Reference points measured in the same run: `python -c pass` (the floor), and `import ibis, duckdb,
sqlalchemy, plotly` (what start-up would cost if the CLI imported its engines eagerly).

    .venv/bin/python benchmarks/bench_startup.py --repeat 15
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

SALESFLOW = str(Path(sys.executable).parent / "salesflow")


def _median_seconds(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    bare = _median_seconds([sys.executable, "-c", "pass"], args.repeat)
    cli = _median_seconds([SALESFLOW, "--help"], args.repeat)
    engines = _median_seconds(
        [sys.executable, "-c", "import ibis, duckdb, sqlalchemy, plotly, pandas"], args.repeat
    )
    print(f"python -c pass                     {bare * 1000:7.0f} ms")
    print(f"salesflow --help                   {cli * 1000:7.0f} ms")
    print(f"import ibis, duckdb, sqlalchemy…   {engines * 1000:7.0f} ms")
    print(f"salesflow --help costs {cli / engines:.2f}x an eager import of the engines")


if __name__ == "__main__":
    main()
