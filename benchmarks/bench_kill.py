"""The crash-safety test at a larger size: imports and demo rebuilds killed with SIGKILL at
seeded random points, each leaving the workspace exactly as before or exactly as after.

    .venv/bin/python benchmarks/bench_kill.py                      # 100 imports, 10 rebuilds, 5,000 deals
    .venv/bin/python benchmarks/bench_kill.py --tries 500 --deals 20000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "core"))

from test_crash_safe_imports import kill_trials


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=100)
    parser.add_argument("--rebuilds", type=int, default=10)
    parser.add_argument("--deals", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="salesflow-kill-") as tmp:
        seen = kill_trials(
            Path(tmp), tries=args.tries, demo_tries=args.rebuilds, deals=args.deals, seed=args.seed
        )
    print(
        f"{args.tries} imports and {args.rebuilds} demo rebuilds of {args.deals:,} deals killed: "
        f"every one left the workspace as before ({seen['before']} imports) or as after "
        f"({seen['after']}); {time.perf_counter() - start:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
